/**
 * Card: each row's period number and market size M_t for the demand fit of
 * calibration/calibrate.ts, each from passes over the blocks (calibration/sales-blocks.ts):
 * what is kept is per store or per period, never per row (the whole per-row columns below
 * are for the estimators that still index rows). Periods: 0, 1, 2, ... since the first (weeks for dated weekly
 * data). Market size: the traffic column when there is one (visits are the simulator's
 * arrivals), else `multiple` x the store's mean units (the potential-market assumption),
 * and, for dated daily rows without traffic, the weekday levels of the arrival effects
 * (Monday the baseline) the fit estimates as log multipliers of M_t.
 */
import type { LogitPoissonData } from './logit-poisson.js';
import type { SalesData } from './reader.js';
import { blockLogMarketSize, periodNumber, weekdayLevel, type PeriodNumbering } from './design-blocks.js';
import { RowCursor, salesBlocks } from './sales-blocks.js';

export type PeriodLength = 'day' | 'week';

export const weekdayNames = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'] as const;

/** The first and last period key and the numbering of periods 0, 1, 2, ... since the first (weeks for dated weekly data): one pass over the blocks. */
export function periodNumbering(sales: SalesData, periodLength: PeriodLength): { first: number; last: number; numbering: PeriodNumbering } {
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const block of salesBlocks(sales)) {
    for (let row = 0; row < block.rows; row++) {
      const value = block.period[row] ?? 0;
      if (value < first) first = value;
      if (value > last) last = value;
    }
  }
  const divisor = sales.periodKind === 'date' && periodLength === 'week' ? 7 : 1;
  return { first, last, numbering: { first, divisor } };
}

/** The distinct period numbers, in increasing order (periods, not rows: bounded by the history's span). */
export function distinctPeriods(sales: SalesData, numbering: PeriodNumbering): number[] {
  const seen = new Set<number>();
  for (const block of salesBlocks(sales)) for (let row = 0; row < block.rows; row++) seen.add(periodNumber(numbering, block.period[row] ?? 0));
  return [...seen].sort((left, right) => left - right);
}

/** Period per row as 0, 1, 2, ... periods since the first (weeks for dated weekly data): a whole per-row column, for the estimators that still index rows. */
export function periodIndices(sales: SalesData, periodLength: PeriodLength): { index: Float64Array; first: number; last: number; numbering: PeriodNumbering } {
  const { first, last, numbering } = periodNumbering(sales, periodLength);
  const index = new Float64Array(sales.rows);
  for (const block of salesBlocks(sales)) for (let row = 0; row < block.rows; row++) index[block.start + row] = periodNumber(numbering, block.period[row] ?? 0);
  return { index, first, last, numbering };
}

/**
 * Each row's period number as an array-like that reads the blocks as the rows are asked for
 * in increasing order (a RowCursor): for code written against a per-row column that visits
 * the rows in order (the cluster of a streamed least squares). Nothing per row is kept.
 */
export function streamedPeriodNumbers(sales: SalesData, numbering: PeriodNumbering): ArrayLike<number> {
  const cursor = new RowCursor(sales);
  const rows = sales.rows;
  return new Proxy({ length: rows } as ArrayLike<number>, {
    get(target, key) {
      if (key === 'length') return rows;
      if (typeof key !== 'string') return undefined;
      const row = Number(key);
      if (!Number.isInteger(row) || row < 0 || row >= rows) return undefined;
      const block = cursor.at(row);
      return periodNumber(numbering, block.period[row - block.start] ?? 0);
    },
  });
}

/**
 * The log market size per store: log(multiple x the store's mean units) over the rows used
 * (period number below `includeBefore` when given), the overall mean for a store without
 * one; undefined with a traffic column (each row's market is then its log traffic).
 */
export function storeLogMarketSize(sales: SalesData, multiple: number, includeBefore: number | undefined, numbering: PeriodNumbering): Float64Array | undefined {
  if (sales.map.traffic !== undefined) return undefined;
  const total = new Float64Array(sales.storeNames.length);
  const count = new Float64Array(sales.storeNames.length);
  for (const block of salesBlocks(sales)) {
    for (let row = 0; row < block.rows; row++) {
      if (includeBefore !== undefined && periodNumber(numbering, block.period[row] ?? 0) >= includeBefore) continue;
      const store = block.store[row] ?? 0;
      total[store] = (total[store] ?? 0) + (block.units[row] ?? 0);
      count[store] = (count[store] ?? 0) + 1;
    }
  }
  return storeLogOf(total, count, multiple);
}

/** Fills each row's log market size (whole per-row arrays: `include` marks the rows the store means use); returns the log market size per store (undefined with traffic: log traffic). */
export function setMarketSize(sales: SalesData, multiple: number, include: Uint8Array | undefined, out: Float64Array): Float64Array | undefined {
  let storeLog: Float64Array | undefined;
  if (sales.map.traffic === undefined) {
    const total = new Float64Array(sales.storeNames.length);
    const count = new Float64Array(sales.storeNames.length);
    for (const block of salesBlocks(sales)) {
      for (let row = 0; row < block.rows; row++) {
        if (include && include[block.start + row] !== 1) continue;
        const store = block.store[row] ?? 0;
        total[store] = (total[store] ?? 0) + (block.units[row] ?? 0);
        count[store] = (count[store] ?? 0) + 1;
      }
    }
    storeLog = storeLogOf(total, count, multiple);
  }
  for (const block of salesBlocks(sales)) blockLogMarketSize(block, storeLog, out.subarray(block.start, block.start + block.rows));
  return storeLog;
}

/** log(multiple x the store's mean units), the overall mean for a store without rows. */
function storeLogOf(total: Float64Array, count: Float64Array, multiple: number): Float64Array {
  let allUnits = 0;
  let allCount = 0;
  total.forEach((value, store) => {
    allUnits += value;
    allCount += count[store] ?? 0;
  });
  const overall = allUnits / Math.max(1, allCount);
  return Float64Array.from(total, (storeTotal, store) => Math.log(multiple * Math.max((count[store] ?? 0) > 0 ? storeTotal / (count[store] ?? 1) : overall, 1e-9)));
}

/** Each row's log market size (log traffic, or its store's), as a whole per-row column: for the estimators that still index rows. */
export function wholeLogMarketSize(sales: SalesData, storeLog: Float64Array | undefined): Float64Array {
  const out = new Float64Array(sales.rows);
  for (const block of salesBlocks(sales)) blockLogMarketSize(block, storeLog, out.subarray(block.start, block.start + block.rows));
  return out;
}

/** The weekday arrival effects' names (Monday the baseline) when dated daily rows have no traffic column to carry them, and every weekday has 2 or more rows. */
export function weekdayArrivalNames(sales: SalesData, periodLength: PeriodLength): readonly string[] | undefined {
  if (sales.map.traffic !== undefined || sales.periodKind !== 'date' || periodLength !== 'day') return undefined;
  const count = new Float64Array(7);
  for (const block of salesBlocks(sales)) {
    for (let row = 0; row < block.rows; row++) {
      const level = weekdayLevel(block.period[row] ?? 0) + 1;
      count[level] = (count[level] ?? 0) + 1;
    }
  }
  if (count.some((rows) => rows < 2)) return undefined;
  return weekdayNames.slice(1);
}

/** Weekday levels per row for arrival effects, as a whole per-row column (for the estimators that still index rows). */
export function weekdayArrivalEffects(sales: SalesData, periodLength: PeriodLength): LogitPoissonData['arrivalEffects'] {
  const names = weekdayArrivalNames(sales, periodLength);
  if (!names) return undefined;
  const level = new Int8Array(sales.rows);
  for (const block of salesBlocks(sales)) for (let row = 0; row < block.rows; row++) level[block.start + row] = weekdayLevel(block.period[row] ?? 0);
  return { names, level };
}
