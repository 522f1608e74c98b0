/**
 * The calibration benchmark's reference estimator (calibration/bench.ts): the log-log
 * regression with store fixed effects recovers a known elasticity when units follow
 * units = exp(store effect) price^e exp(lift promo) rival^c exactly (large units, so the
 * +0.5 of log(units + 0.5) is negligible).
 */
import { describe, expect, it } from 'vitest';
import { logLogFixedEffects } from '../../calibration/bench.js';
import { parseColumnMap } from '../../calibration/column-map.js';
import type { SalesData } from '../../calibration/reader.js';

describe('logLogFixedEffects', () => {
  it('recovers the own-price elasticity of an exact log-log market with store effects', () => {
    const rows = 400;
    const elasticity = -2.5;
    const store = Int32Array.from({ length: rows }, (_, row) => row % 4);
    const price = Float64Array.from({ length: rows }, (_, row) => 1 + ((row * 7919) % 97) / 50);
    const promo = Float64Array.from({ length: rows }, (_, row) => ((row * 31) % 5 === 0 ? 1 : 0));
    const rival = Float64Array.from({ length: rows }, (_, row) => 1.5 + ((row * 104729) % 89) / 60);
    const units = Float64Array.from({ length: rows }, (_, row) => Math.exp(12 + (store[row] ?? 0) * 0.7 + elasticity * Math.log(price[row] ?? 1) + 0.4 * (promo[row] ?? 0) + 0.8 * Math.log(rival[row] ?? 1)));
    const sales = {
      rows,
      period: new Float64Array(rows),
      periodKind: 'index',
      units,
      price,
      cost: undefined,
      traffic: undefined,
      rivalPrices: [rival],
      rivalNames: ['rival'],
      promotions: [promo],
      promotionNames: ['promo'],
      store,
      storeNames: ['a', 'b', 'c', 'd'],
      product: undefined,
      map: parseColumnMap({ period: 'p', units: 'u', price: 'x' }, 'map'),
      source: { path: 'x', sha256: '0'.repeat(64), bytes: 0, format: 'csv' },
      rowsRead: rows,
      rowsFiltered: 0,
    } as unknown as SalesData;
    expect(logLogFixedEffects(sales)).toBeCloseTo(elasticity, 4);
  });
});
