/**
 * The calibration's own passes read a long history block by block (calibration/sales-blocks.ts)
 * and never its whole columns: a history of many blocks with every kind of column the passes
 * read (festival labels, weather states or temperatures, stock, traffic) is calibrated, and
 * no column of its SalesData may have been materialized (ScratchBlocks.materialized; the
 * estimators that still index rows get the separate wholeColumns view). The same rows in one
 * block must give the same calibration (to 1e-9): the calendar design, the traffic fit, the
 * weather chain and the temperature curve computed per block are the whole-column ones.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { calibrateFile } from '../../calibration/calibrate.js';
import { parseColumnMap } from '../../calibration/column-map.js';
import { releaseSales } from '../../calibration/reader.js';
import { logitShare } from '../../calibration/logit-poisson.js';
import { RandomStream } from '../../core/random.js';
import { poissonFromUniform } from '../../env/sampling.js';

const folder = mkdtempSync(join(tmpdir(), 'pricelab-streaming-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

/** 3 stores x 400 dated days: a festival, weather (states or temperatures), stock that runs out, traffic. */
function writeHistory(name: string, weather: 'state' | 'temperature'): string {
  const random = new RandomStream(11, `streaming-${weather}`);
  const lines = ['date,store,units,price,promo,rival,festival,weather,stock,traffic'];
  const theta = [1.0, 0.4, 0.5, 1.0];
  const states = ['sunny', 'rain', 'cloudy'];
  for (let day = 0; day < 400; day++) {
    const festival = day % 100 >= 50 && day % 100 < 53 ? 'fair' : '';
    const cell = weather === 'state' ? states[Math.floor(random.next() * 3)] : (15 + 10 * Math.sin((2 * Math.PI * day) / 365) + 4 * (random.next() - 0.5)).toFixed(1);
    for (let store = 0; store < 3; store++) {
      const price = 3 + Math.floor(random.next() * 8) * 0.5;
      const promo = random.next() < 0.15 ? 1 : 0;
      const rival = 3.5 + random.next() * 2;
      const traffic = Math.round((50 + 10 * store) * (festival ? 1.6 : 1) * (cell === 'rain' ? 0.8 : 1));
      const demand = poissonFromUniform(traffic * logitShare(theta, price, [promo], [rival]), random.next());
      const stock = random.next() < 0.08 ? Math.max(0, demand - 2) : 1000;
      const date = new Date(Date.UTC(2024, 0, 1 + day)).toISOString().slice(0, 10);
      lines.push(`${date},s${store},${Math.min(demand, stock)},${price},${promo},${rival.toFixed(2)},${festival},${cell},${stock},${traffic}`);
    }
  }
  const path = join(folder, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

/** Every number within 1e-9 (relative) of the expected one, every other value equal; wall-clock seconds ignored. */
function expectClose(actual: unknown, expected: unknown, path = ''): void {
  if (typeof expected === 'number' && typeof actual === 'number') {
    if (Number.isNaN(expected)) expect(actual, path).toBeNaN();
    else expect(Math.abs(actual - expected), path).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(expected)));
    return;
  }
  if (expected !== null && typeof expected === 'object') {
    expect(Object.keys(actual as object).sort(), path).toEqual(Object.keys(expected).sort());
    for (const [key, value] of Object.entries(expected)) if (key !== 'seconds') expectClose((actual as Record<string, unknown>)[key], value, `${path}.${key}`);
    return;
  }
  expect(actual, path).toEqual(expected);
}

const base = { date: 'date', units: 'units', price: 'price', promotions: ['promo'], rivalPrices: ['rival'], store: 'store', festival: 'festival', weather: 'weather' };

describe('the calibration of a history in blocks', () => {
  for (const [weather, traffic] of [
    ['state', false],
    ['temperature', true],
  ] as const) {
    it(`reads no whole column of the history (weather ${weather}, ${traffic ? 'traffic' : 'stock, no traffic'}) and calibrates as one block does`, async () => {
      const path = writeHistory(`${weather}.csv`, weather);
      const map = parseColumnMap(traffic ? { ...base, traffic: 'traffic' } : { ...base, stock: 'stock' }, 'map');
      const blocked = await calibrateFile(path, { map, blockRows: 61 });
      const scratch = blocked.rows.sales.scratch;
      expect(scratch?.blocks).toBe(Math.ceil(1200 / 61));
      // The history exercises the calendar: festival windows, season, weather; stockouts without traffic.
      const names = blocked.record.estimates.map((estimate) => estimate.parameter);
      expect(names).toContain('festival:fair:during');
      expect(names).toContain('season:sin1');
      expect(names.some((name) => name.startsWith(weather === 'state' ? 'weather:' : 'temperature'))).toBe(true);
      if (!traffic) expect(blocked.record.censoring?.rowsCensored).toBeGreaterThan(0);
      expect([...(scratch?.materialized ?? ['no scratch file'])]).toEqual([]);
      const whole = await calibrateFile(path, { map });
      expect(whole.rows.sales.scratch).toBeUndefined();
      expectClose(blocked.scenario, whole.scenario, 'scenario');
      expectClose(blocked.holdout, whole.holdout, 'holdout');
      expectClose(blocked.predictiveCoverage90, whole.predictiveCoverage90, 'coverage');
      expectClose(blocked.meanElasticity, whole.meanElasticity, 'meanElasticity');
      releaseSales(blocked.rows.sales);
    });
  }
});
