/**
 * Card: the likelihood's rows (calibration/logit-poisson.ts) built block by block from a
 * sales history, so that the demand fit's passes hold one block of rows, not the file.
 *
 * Each block of the history (calibration/sales-blocks.ts) becomes a LogitPoissonData over
 * its own rows: units, price, promotions and rival prices as read; the log market size, the
 * rows used (a holdout's training part), the weekday arrival level and the stockout
 * censoring computed from the block's own columns by the same rules as the whole-history
 * arrays of calibration/market-size.ts and calibration/censoring.ts; arrival covariates
 * (calendar-design.ts) computed for the block by its `fillBlock`, or sliced from whole columns.
 * calibrate.ts uses it for every history, one block or many. Summed block after
 * block in row order, the fit is the same to the last bit as the fit of the arrays.
 */
import type { BlockedLogitPoissonData, LogitPoissonData } from './logit-poisson.js';
import { salesBlocks, type SalesBlock } from './sales-blocks.js';
import type { SalesData } from './reader.js';

/** A row's period as 0, 1, 2, ... periods since the first: floor((period - first) / divisor). */
export interface PeriodNumbering {
  readonly first: number;
  readonly divisor: number;
}

export const periodNumber = (numbering: PeriodNumbering, period: number) => Math.floor((period - numbering.first) / numbering.divisor);

/** Arrival covariate columns of a design: whole per-row columns, or a rule that fills each block's from its own rows. */
export type ArrivalCovariateSource =
  | { readonly names: readonly string[]; readonly columns: readonly Float64Array[] }
  | { readonly names: readonly string[]; readonly fillBlock: (block: SalesBlock, into: readonly Float64Array[]) => void };

/** How each block's derived columns are made. */
export interface DesignRules {
  /** Log market size per store (no traffic column), or undefined: log traffic. */
  readonly storeLogMarketSize: Float64Array | undefined;
  /** Rows with a period number below this are used (a holdout's training part); all rows when undefined. */
  readonly includeBefore?: number | undefined;
  readonly numbering: PeriodNumbering;
  /** Weekday arrival effects (Monday the baseline) of dated daily rows, when the fit has them. */
  readonly weekdayNames?: readonly string[] | undefined;
  /** Arrival covariates: whole per-row columns (sliced to each block), or `fillBlock` computing a block's own (calibration/calendar-design.ts). */
  readonly arrivalCovariates?: ArrivalCovariateSource | undefined;
  /** Stockout rows censored (the censored fit) or taken as exact (the naive one). */
  readonly censor: boolean;
}

/** The log market size of each row of a block, by the rule of calibrate's setMarketSize. */
export function blockLogMarketSize(block: SalesBlock, storeLogMarketSize: Float64Array | undefined, out: Float64Array): void {
  if (!storeLogMarketSize) {
    const traffic = block.traffic;
    for (let row = 0; row < block.rows; row++) out[row] = Math.log(traffic?.[row] ?? 0);
    return;
  }
  for (let row = 0; row < block.rows; row++) out[row] = storeLogMarketSize[block.store[row] ?? 0] ?? 0;
}

/** The weekday level of a dated row: Monday-first weekday - 1 (-1 for Monday, the baseline). Day 0 (1970-01-01) was a Thursday. */
export const weekdayLevel = (period: number) => ((((period + 3) % 7) + 7) % 7) - 1;

/** A row's demand is censored: its stockout flag is 1 or its units reach its stock (calibration/censoring.ts). */
export function blockCensored(block: SalesBlock, out: Uint8Array): boolean {
  let any = false;
  for (let row = 0; row < block.rows; row++) {
    const stock = block.stock?.[row];
    const censored = block.stockout?.[row] === 1 || (stock !== undefined && (block.units[row] ?? 0) >= stock);
    out[row] = censored ? 1 : 0;
    if (censored) any = true;
  }
  return any;
}

/** The likelihood's rows of a sales history, block by block. */
export function blockedSalesDesign(sales: SalesData, rules: DesignRules): BlockedLogitPoissonData {
  return {
    rows: sales.rows,
    promotionNames: sales.promotionNames,
    rivalNames: sales.rivalNames,
    arrivalNames: rules.weekdayNames ?? [],
    covariateNames: rules.arrivalCovariates?.names ?? [],
    *blocks(): Generator<LogitPoissonData> {
      for (const { data } of salesDesignBlocks(sales, rules)) yield data;
    },
  };
}

/**
 * Each block of a sales history with its likelihood rows (valid until the next block): for
 * the passes that need the block's other columns (store, period) beside the design's.
 */
export function* salesDesignBlocks(sales: SalesData, rules: DesignRules): Generator<{ readonly block: SalesBlock; readonly data: LogitPoissonData }> {
  let logMarketSize = new Float64Array(0);
  let include = new Uint8Array(0);
  let level = new Int8Array(0);
  let censored = new Uint8Array(0);
  const covariates = rules.arrivalCovariates;
  let covariateColumns: Float64Array[] = [];
  for (const block of salesBlocks(sales)) {
    const rows = block.rows;
    if (logMarketSize.length < rows) {
      logMarketSize = new Float64Array(rows);
      include = new Uint8Array(rows);
      level = new Int8Array(rows);
      censored = new Uint8Array(rows);
      if (covariates && 'fillBlock' in covariates) covariateColumns = covariates.names.map(() => new Float64Array(rows));
    }
    const blockLog = logMarketSize.subarray(0, rows);
    blockLogMarketSize(block, rules.storeLogMarketSize, blockLog);
    const blockInclude = include.subarray(0, rows);
    if (rules.includeBefore !== undefined) for (let row = 0; row < rows; row++) blockInclude[row] = periodNumber(rules.numbering, block.period[row] ?? 0) < rules.includeBefore ? 1 : 0;
    const blockLevel = level.subarray(0, rows);
    if (rules.weekdayNames) for (let row = 0; row < rows; row++) blockLevel[row] = weekdayLevel(block.period[row] ?? 0);
    const blockCensoredRows = censored.subarray(0, rows);
    const anyCensored = rules.censor && (block.stock !== undefined || block.stockout !== undefined) && blockCensored(block, blockCensoredRows);
    let covariateBlock: readonly Float64Array[] | undefined;
    if (covariates && 'fillBlock' in covariates) {
      covariateBlock = covariateColumns.map((column) => column.subarray(0, rows));
      covariates.fillBlock(block, covariateBlock);
    } else if (covariates) covariateBlock = covariates.columns.map((column) => column.subarray(block.start, block.start + rows));
    yield {
      block,
      data: {
        rows,
        units: block.units,
        logMarketSize: blockLog,
        price: block.price,
        promotions: block.promotions,
        promotionNames: sales.promotionNames,
        rivalPrices: block.rivalPrices,
        rivalNames: sales.rivalNames,
        ...(rules.includeBefore !== undefined ? { include: blockInclude } : {}),
        ...(rules.weekdayNames ? { arrivalEffects: { names: rules.weekdayNames, level: blockLevel } } : {}),
        ...(covariates && covariateBlock ? { arrivalCovariates: { names: covariates.names, columns: covariateBlock } } : {}),
        ...(anyCensored ? { censored: blockCensoredRows } : {}),
      },
    };
  }
}
