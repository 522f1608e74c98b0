/**
 * Properties over large input spaces (fast-check): the reader returns exactly the numbers
 * written, plain or gzipped; the estimator meets the closed form of every saturated
 * two-price design.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parseColumnMap } from '../../calibration/column-map.js';
import { fitLogitPoisson } from '../../calibration/logit-poisson.js';
import { readSales } from '../../calibration/reader.js';

const folder = mkdtempSync(join(tmpdir(), 'pricelab-calibration-properties-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const row = fc.record({
  period: fc.integer({ min: -1000, max: 100_000 }),
  units: fc.oneof(fc.nat({ max: 1_000_000 }), fc.double({ min: 0, max: 1e6, noNaN: true })),
  price: fc.double({ min: 1e-6, max: 1e6, noNaN: true, noDefaultInfinity: true }),
  store: fc.constantFrom('north', 'south', 'store "7"', 'a,b'),
});

describe('calibration properties', () => {
  it('readSales returns the numbers and stores written, from plain and gzipped CSV', async () => {
    const map = parseColumnMap({ period: 'period', units: 'units', price: 'price', store: 'store' }, 'map');
    let file = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(row, { minLength: 1, maxLength: 40 }), fc.boolean(), async (rows, gzipped) => {
        const quote = (text: string) => (/[",]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text);
        const text = ['period,units,price,store', ...rows.map((entry) => `${entry.period},${entry.units},${entry.price},${quote(entry.store)}`)].join('\n');
        const path = join(folder, `rows-${file++}.csv`);
        writeFileSync(path, gzipped ? gzipSync(text) : text);
        const data = await readSales(path, { map });
        expect(Array.from(data.period)).toEqual(rows.map((entry) => entry.period));
        expect(Array.from(data.units)).toEqual(rows.map((entry) => entry.units));
        expect(Array.from(data.price)).toEqual(rows.map((entry) => entry.price));
        expect(Array.from(data.store, (index) => data.storeNames[index])).toEqual(rows.map((entry) => entry.store));
      }),
      { numRuns: 60 },
    );
  });

  it('every saturated two-price design meets the closed form b = (logit(mean_1 / M) - logit(mean_2 / M)) / (p_2 - p_1)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 20, max: 5000 }),
        fc.double({ min: 0.1, max: 20, noNaN: true }),
        fc.double({ min: 0.05, max: 10, noNaN: true }),
        fc.array(fc.double({ min: 0.02, max: 0.95, noNaN: true }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.double({ min: 0.02, max: 0.95, noNaN: true }), { minLength: 1, maxLength: 6 }),
        (marketSize, lowPrice, gap, lowShares, highShares) => {
          // Counts strictly between 0 and M in every cell: a cell of zeros has its MLE at minus infinity.
          const count = (share: number) => Math.min(marketSize - 1, Math.max(1, Math.round(share * marketSize)));
          const low = lowShares.map(count);
          const high = highShares.map(count);
          const units = Float64Array.from([...low, ...high]);
          const rows = units.length;
          const price = Float64Array.from([...low.map(() => lowPrice), ...high.map(() => lowPrice + gap)]);
          const fit = fitLogitPoisson({ rows, units, logMarketSize: new Float64Array(rows).fill(Math.log(marketSize)), price, promotions: [], promotionNames: [], rivalPrices: [], rivalNames: [] });
          const mean = (values: number[]) => values.reduce((total, value) => total + value, 0) / values.length;
          const logit = (share: number) => Math.log(share / (1 - share));
          const expected = (logit(mean(low) / marketSize) - logit(mean(high) / marketSize)) / gap;
          expect(fit.converged).toBe(true);
          expect(Math.abs((fit.theta[1] ?? 0) - expected)).toBeLessThan(1e-6 * Math.max(1, Math.abs(expected)));
        },
      ),
      { numRuns: 200 },
    );
  });
});
