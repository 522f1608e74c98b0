/**
 * The sales reader and the input checks: formats (CSV, gzipped CSV told apart by its magic
 * bytes whatever its name, JSON Lines), the column map, and bad input refused as a config
 * error that names the row and the column, with nothing kept.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { calibrateFile } from '../../calibration/calibrate.js';
import { defaultColumnMap, parseColumnMap } from '../../calibration/column-map.js';
import { readSales } from '../../calibration/reader.js';
import { PricelabError } from '../../core/errors.js';

const folder = mkdtempSync(join(tmpdir(), 'pricelab-reader-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const plainMap = parseColumnMap(defaultColumnMap, 'default');
const csv = ['period,units,price,store', '1,10,2.5,a', '2,8,3,a', '1,20,2.5,b', '2,15,3.5,b', ''].join('\n');

function file(name: string, contents: string | Buffer): string {
  const path = join(folder, name);
  writeFileSync(path, contents);
  return path;
}

async function problemsOf(promise: Promise<unknown>): Promise<{ kind: string; paths: string[]; messages: string[] }> {
  try {
    await promise;
  } catch (error) {
    if (!(error instanceof PricelabError)) throw error;
    return { kind: error.kind, paths: error.problems.map((problem) => problem.path.join('.')), messages: error.problems.map((problem) => problem.message) };
  }
  throw new Error('expected a PricelabError');
}

describe('readSales', () => {
  it('reads plain CSV, gzipped CSV (whatever its name) and JSON Lines to the same numbers, hashing the bytes as stored', async () => {
    const plain = await readSales(file('sales.csv', csv), { map: plainMap, defaultMap: true });
    const gzipped = gzipSync(csv);
    const zipped = await readSales(file('sales-named-plain.csv', gzipped), { map: plainMap, defaultMap: true });
    const jsonl = csv
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => {
        const [period, units, price, store] = line.split(',');
        return JSON.stringify({ period: Number(period), units: Number(units), price: Number(price), store });
      })
      .join('\n');
    const lines = await readSales(file('sales.jsonl', jsonl), { map: plainMap, defaultMap: true });
    for (const data of [plain, zipped, lines]) {
      expect(Array.from(data.units)).toEqual([10, 8, 20, 15]);
      expect(Array.from(data.price)).toEqual([2.5, 3, 2.5, 3.5]);
      expect(Array.from(data.store)).toEqual([0, 0, 1, 1]);
      expect(data.storeNames).toEqual(['a', 'b']);
    }
    expect(plain.source.format).toBe('csv');
    expect(zipped.source.format).toBe('csv.gz');
    expect(lines.source.format).toBe('jsonl');
    expect(zipped.source.sha256).toBe(createHash('sha256').update(gzipped).digest('hex'));
  });

  it('applies the column map: log units, promotions, rival prices and a filter', async () => {
    const text = ['wk,brand,logmove,p1,p2,feat', '1,1,2,0.5,0.4,0', '1,2,3,0.6,0.5,1', '2,1,1,0.6,0.45,1', ''].join('\n');
    const map = parseColumnMap({ period: 'wk', logUnits: 'logmove', price: 'p1', rivalPrices: ['p2'], promotions: ['feat'], product: 'brand', filter: { brand: 1 } }, 'map');
    const data = await readSales(file('panel.csv', text), { map });
    expect(data.rows).toBe(2);
    expect(data.rowsFiltered).toBe(1);
    expect(data.units[0]).toBeCloseTo(Math.exp(2), 12);
    expect(Array.from(data.rivalPrices[0] ?? [])).toEqual([0.4, 0.45]);
    expect(Array.from(data.promotions[0] ?? [])).toEqual([0, 1]);
    expect(data.product).toBe('1');
  });

  it('names a missing or misnamed column and lists the columns found', async () => {
    const map = parseColumnMap({ period: 'period', units: 'units', price: 'prize' }, 'map');
    const result = await problemsOf(readSales(file('misnamed.csv', csv), { map }));
    expect(result.kind).toBe('config');
    expect(result.paths).toEqual(['columns.prize']);
    expect(result.messages[0]).toContain('period, units, price, store');
  });

  it('names the row and column of non-numeric, negative and empty values', async () => {
    const bad = ['period,units,price', '1,10,2', '2,ten,2', '3,-4,2', '4,5,-1', '5,5,', '6,5,2', ''].join('\n');
    const result = await problemsOf(readSales(file('bad.csv', bad), { map: plainMap }));
    expect(result.kind).toBe('config');
    expect(result.paths).toEqual(['row.2.units', 'row.3.units', 'row.4.price', 'row.5.price']);
    expect(result.messages[0]).toContain('"ten"');
    expect(result.messages[3]).toContain('empty');
  });

  it('refuses several products without a filter, and a bad date', async () => {
    const products = ['period,units,price,sku', '1,1,2,a', '2,1,2,b', ''].join('\n');
    const result = await problemsOf(readSales(file('products.csv', products), { map: parseColumnMap({ ...defaultColumnMap, product: 'sku' }, 'map') }));
    expect(result.paths).toEqual(['row.2.sku']);
    expect(result.messages[0]).toContain('filter');
    const dates = ['date,units,price', '2026-01-01,1,2', '2026-02-30,1,2', ''].join('\n');
    const dated = await problemsOf(readSales(file('dates.csv', dates), { map: parseColumnMap({ date: 'date', units: 'units', price: 'price' }, 'map') }));
    expect(dated.paths).toEqual(['row.2.date']);
  });

  it('reads gzipped JSON Lines, and refuses a log of units that overflows', async () => {
    const lines = [{ period: 1, logmove: 1, price: 2 }, { period: 2, logmove: 800, price: 2 }].map((row) => JSON.stringify(row)).join('\n');
    const map = parseColumnMap({ period: 'period', logUnits: 'logmove', price: 'price' }, 'map');
    const result = await problemsOf(readSales(file('log.jsonl.gz', gzipSync(lines)), { map }));
    expect(result.paths).toEqual(['row.2.logmove']);
    const good = await readSales(file('good.jsonl.gz', gzipSync(lines.split('\n')[0] ?? '')), { map });
    expect(good.source.format).toBe('jsonl.gz');
    expect(good.units[0]).toBeCloseTo(Math.E, 12);
  });

  it('refuses a bad column map, naming the field', () => {
    expect(() => parseColumnMap({ price: 'p', units: 'u' }, 'map.json')).toThrow(/period/);
    expect(() => parseColumnMap({ price: 'p', period: 'w', units: 'u', logUnits: 'l' }, 'map.json')).toThrow(/both/);
  });
});

describe('calibrateFile refuses histories that cannot identify the model', () => {
  const rows = (count: number, price: (row: number) => number) =>
    ['period,units,price', ...Array.from({ length: count }, (_, row) => `${row + 1},${5 + (row % 3)},${price(row)}`), ''].join('\n');

  it('too few rows', async () => {
    const result = await problemsOf(calibrateFile(file('few.csv', rows(8, (row) => 2 + (row % 2))), { map: plainMap, holdout: 0 }));
    expect(result.paths).toEqual(['rows']);
    expect(result.messages[0]).toMatch(/at least 20 rows .* found 8/);
  });

  it('no price variation', async () => {
    const result = await problemsOf(calibrateFile(file('flat.csv', rows(40, () => 3)), { map: plainMap, holdout: 0 }));
    expect(result.paths).toEqual(['price']);
    expect(result.messages[0]).toContain('vary');
  });
});
