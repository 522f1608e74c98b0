/**
 * A history read in blocks (calibration/sales-blocks.ts): a file longer than one block goes
 * to a scratch file and every pass reads it back block by block; the calibration of it must
 * be the calibration of the same rows held in one block (to 1e-9), the blocks must hold
 * the rows and nothing more, and the scratch file must go when released or when reading fails.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { calibrateFile } from '../../calibration/calibrate.js';
import { parseColumnMap } from '../../calibration/column-map.js';
import { readSales, releaseSales } from '../../calibration/reader.js';
import { salesBlocks } from '../../calibration/sales-blocks.js';
import { logitShare } from '../../calibration/logit-poisson.js';
import { RandomStream } from '../../core/random.js';
import { poissonFromUniform } from '../../env/sampling.js';

const folder = mkdtempSync(join(tmpdir(), 'pricelab-blocks-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

/** 4 stores x 140 dated days, no traffic (market sizes from store means, weekday arrival effects), a promotion, a rival, stock that runs out. */
function writeHistory(name: string, badRow?: number): string {
  const random = new RandomStream(7, 'blocks-test');
  const lines = ['date,store,units,price,promo,rival,stock'];
  const theta = [1.2, 0.4, 0.5, 1.0];
  for (let day = 0; day < 140; day++) {
    for (let store = 0; store < 4; store++) {
      const price = 3 + Math.floor(random.next() * 8) * 0.5;
      const promo = random.next() < 0.15 ? 1 : 0;
      const rival = 3.5 + random.next() * 2;
      const weekday = (day + 2) % 7;
      const demand = poissonFromUniform((40 + 10 * store) * (weekday >= 5 ? 1.3 : 1) * logitShare(theta, price, [promo], [rival]), random.next());
      const stock = random.next() < 0.1 ? Math.max(0, demand - 2) : 1000;
      const units = Math.min(demand, stock);
      const date = new Date(Date.UTC(2025, 0, 1 + day)).toISOString().slice(0, 10);
      const row = lines.length;
      lines.push(`${date},s${store},${row === badRow ? 'many' : units},${price},${promo},${rival.toFixed(2)},${stock}`);
    }
  }
  const path = join(folder, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

const map = parseColumnMap({ date: 'date', units: 'units', price: 'price', promotions: ['promo'], rivalPrices: ['rival'], store: 'store', stock: 'stock' }, 'map');

/** Every number in `actual` within 1e-9 (relative) of `expected`, every other value equal; wall-clock seconds ignored. */
function expectClose(actual: unknown, expected: unknown, path = ''): void {
  if (typeof expected === 'number' && typeof actual === 'number') {
    if (Number.isNaN(expected)) expect(actual, path).toBeNaN();
    else expect(Math.abs(actual - expected), path).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(expected)));
    return;
  }
  if (expected !== null && typeof expected === 'object' && !ArrayBuffer.isView(expected)) {
    expect(Object.keys(actual as object).sort(), path).toEqual(Object.keys(expected).sort());
    for (const [key, value] of Object.entries(expected)) {
      if (key === 'seconds') continue;
      expectClose((actual as Record<string, unknown>)[key], value, `${path}.${key}`);
    }
    return;
  }
  if (ArrayBuffer.isView(expected)) {
    expectClose(Array.from(actual as ArrayLike<number>), Array.from(expected as unknown as ArrayLike<number>), path);
    return;
  }
  expect(actual, path).toEqual(expected);
}

describe('a history in blocks', () => {
  it('calibrates to the same scenario, fit, holdout and pooling as the same rows in one block (to 1e-9)', async () => {
    const path = writeHistory('history.csv');
    const whole = await calibrateFile(path, { map });
    const blocked = await calibrateFile(path, { map, blockRows: 61 });
    expect(whole.rows.sales.scratch).toBeUndefined();
    expect(blocked.rows.sales.scratch?.blocks).toBe(Math.ceil(560 / 61));
    // The history exercises the blocked paths: stores' market sizes, a holdout, weekday arrival effects, censored stockouts.
    expect(whole.record.censoring?.rowsCensored).toBeGreaterThan(0);
    expect(whole.fit.parameters.some((parameter) => parameter.name.startsWith('arrival:'))).toBe(true);
    expectClose(blocked.fit.theta, whole.fit.theta, 'theta');
    expectClose(blocked.fit.parameters, whole.fit.parameters, 'parameters');
    expectClose(blocked.holdout, whole.holdout, 'holdout');
    expectClose(blocked.meanElasticity, whole.meanElasticity, 'meanElasticity');
    expectClose(blocked.predictiveCoverage90, whole.predictiveCoverage90, 'coverage');
    expectClose(blocked.pooling, whole.pooling, 'pooling');
    const { calibration: blockedRecord, ...blockedScenario } = blocked.scenario;
    const { calibration: wholeRecord, ...wholeScenario } = whole.scenario;
    expectClose(blockedScenario, wholeScenario, 'scenario');
    expectClose(blockedRecord, wholeRecord, 'record');
    releaseSales(blocked.rows.sales);
  });

  it('keeps one block of rows while reading: the blocks hold the rows, in order, and the scratch file goes when released', async () => {
    const path = writeHistory('rows.csv');
    const whole = await readSales(path, { map });
    const blocked = await readSales(path, { map, blockRows: 50 });
    const scratch = blocked.scratch;
    expect(scratch?.blocks).toBe(12);
    // The scratch file is unlinked as soon as it is open: read through its descriptor, nothing on disk to leave behind.
    expect(existsSync(scratch?.path ?? '')).toBe(false);
    const seen: number[] = [];
    for (const block of salesBlocks(blocked)) {
      expect(block.rows).toBeLessThanOrEqual(50);
      expect(block.units.length).toBe(block.rows);
      expect(Array.from(block.units)).toEqual(Array.from(whole.units.subarray(block.start, block.start + block.rows)));
      expect(Array.from(block.store)).toEqual(Array.from(whole.store.subarray(block.start, block.start + block.rows)));
      expect(Array.from(block.stock ?? [])).toEqual(Array.from(whole.stock?.subarray(block.start, block.start + block.rows) ?? []));
      seen.push(block.start);
    }
    expect(seen).toEqual(Array.from({ length: 12 }, (_, index) => index * 50));
    // The whole columns, for estimators that still index rows at random, read back from the scratch file.
    expect(Array.from(blocked.price)).toEqual(Array.from(whole.price));
    expect(Array.from(blocked.rivalPrices[0] ?? [])).toEqual(Array.from(whole.rivalPrices[0] ?? []));
    releaseSales(blocked);
    expect(existsSync(scratch?.path ?? '')).toBe(false);
    expect(() => blocked.units).toThrow(/released/);
  });

  it('removes the scratch file when a bad row past the first blocks stops the reading', async () => {
    const path = writeHistory('bad.csv', 400);
    const scratchRoot = mkdtempSync(join(folder, 'tmp-'));
    const before = process.env.TMPDIR;
    process.env.TMPDIR = scratchRoot;
    try {
      await expect(readSales(path, { map, blockRows: 50 })).rejects.toThrow(/problem/);
    } finally {
      if (before === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = before;
    }
    expect(readdirSync(scratchRoot)).toEqual([]);
  });
});
