/**
 * Card: each row's period number and market size M_t for the demand fit of
 * calibration/calibrate.ts. Periods: 0, 1, 2, ... since the first (weeks for dated weekly
 * data). Market size: the traffic column when there is one (visits are the simulator's
 * arrivals), else `multiple` x the store's mean units (the potential-market assumption),
 * and, for dated daily rows without traffic, the weekday levels of the arrival effects
 * (Monday the baseline) the fit estimates as log multipliers of M_t.
 */
import type { LogitPoissonData } from './logit-poisson.js';
import type { SalesData } from './reader.js';
import { periodNumber, type PeriodNumbering } from './design-blocks.js';

export type PeriodLength = 'day' | 'week';

export const weekdayNames = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'] as const;

/** Period per row as 0, 1, 2, ... periods since the first (weeks for dated weekly data). */
export function periodIndices(sales: SalesData, periodLength: PeriodLength): { index: Float64Array; first: number; last: number; numbering: PeriodNumbering } {
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const value of sales.period) {
    if (value < first) first = value;
    if (value > last) last = value;
  }
  const divisor = sales.periodKind === 'date' && periodLength === 'week' ? 7 : 1;
  const numbering = { first, divisor };
  return { index: sales.period.map((value) => periodNumber(numbering, value)), first, last, numbering };
}

/** Fills each row's log market size; returns the log market size per store (undefined with traffic: log traffic). */
export function setMarketSize(sales: SalesData, multiple: number, include: Uint8Array | undefined, out: Float64Array): Float64Array | undefined {
  if (sales.traffic) {
    for (let row = 0; row < sales.rows; row++) out[row] = Math.log(sales.traffic[row] ?? 0);
    return undefined;
  }
  const total = new Float64Array(sales.storeNames.length);
  const count = new Float64Array(sales.storeNames.length);
  for (let row = 0; row < sales.rows; row++) {
    if (include && include[row] !== 1) continue;
    const store = sales.store[row] ?? 0;
    total[store] = (total[store] ?? 0) + (sales.units[row] ?? 0);
    count[store] = (count[store] ?? 0) + 1;
  }
  let allUnits = 0;
  let allCount = 0;
  total.forEach((value, store) => {
    allUnits += value;
    allCount += count[store] ?? 0;
  });
  const overall = allUnits / Math.max(1, allCount);
  const storeLog = Float64Array.from(total, (storeTotal, store) => Math.log(multiple * Math.max((count[store] ?? 0) > 0 ? storeTotal / (count[store] ?? 1) : overall, 1e-9)));
  for (let row = 0; row < sales.rows; row++) out[row] = storeLog[sales.store[row] ?? 0] ?? 0;
  return storeLog;
}

/** Weekday levels for arrival effects (Monday the baseline) when dated daily rows have no traffic column to carry them. */
export function weekdayArrivalEffects(sales: SalesData, periodLength: PeriodLength): LogitPoissonData['arrivalEffects'] {
  if (sales.traffic || sales.periodKind !== 'date' || periodLength !== 'day') return undefined;
  const level = new Int8Array(sales.rows);
  const count = new Float64Array(7);
  for (let row = 0; row < sales.rows; row++) {
    const weekday = ((((sales.period[row] ?? 0) + 3) % 7) + 7) % 7;
    count[weekday] = (count[weekday] ?? 0) + 1;
    level[row] = weekday - 1;
  }
  if (count.some((rows) => rows < 2)) return undefined;
  return { names: weekdayNames.slice(1), level };
}
