/**
 * Card: censored demand at stockouts.
 *
 * A period that stocked out sold what it had: its units sold are a lower bound on its
 * demand, not the demand. Which rows are censored: the stockout flag is 1, or the units sold
 * reach the stock on hand at the start of the period (units >= stock, with stock > 0... a
 * period that starts with no stock and sells nothing is censored at 0, which carries no
 * information and drops out of the likelihood by itself).
 *
 * The fit (calibration/logit-poisson.ts) gives a censored row the term log P(Y >= y) of the
 * same law (Poisson or negative binomial with the logit mean), a Tobit-style likelihood; the
 * naive fit, which takes the units sold of a stockout period for its demand, is fitted beside
 * it. Treating lost sales as no demand biases the price sensitivity: stockouts happen at low
 * prices, where demand is high, so the naive fit sees too little response to a price cut.
 * `censoringRecord` puts both side by side for the scenario's calibration record; the
 * censored fit is the one the scenario uses.
 */
import type { CalibrationRecord } from '../scenarios/calibration-record.js';
import type { LogitPoissonData, LogitPoissonFit } from './logit-poisson.js';
import type { SalesData } from './reader.js';
import { blockCensored } from './design-blocks.js';
import { salesBlocks } from './sales-blocks.js';

/** 1 for rows whose demand is censored at the units sold; undefined without a stock or stockout column, or when no row is censored. */
export function censoredRows(sales: Pick<SalesData, 'rows' | 'units' | 'stock' | 'stockout'>): Uint8Array | undefined {
  if (!sales.stock && !sales.stockout) return undefined;
  const censored = new Uint8Array(sales.rows);
  let count = 0;
  for (let row = 0; row < sales.rows; row++) {
    const flagged = sales.stockout?.[row] === 1;
    const stock = sales.stock?.[row];
    const soldOut = stock !== undefined && (sales.units[row] ?? 0) >= stock;
    if (flagged || soldOut) {
      censored[row] = 1;
      count++;
    }
  }
  return count > 0 ? censored : undefined;
}

const round = (value: number) => Number(value.toPrecision(6));

function estimateOf(fit: LogitPoissonFit, index: number): { value: number; lower: number; upper: number } {
  const parameter = fit.parameters[index];
  return { value: round(parameter?.value ?? Number.NaN), lower: round(parameter?.lower ?? Number.NaN), upper: round(parameter?.upper ?? Number.NaN) };
}

/** Rows whose demand is censored, counted block by block (calibration/sales-blocks.ts); 0 without a stock or stockout column. */
export function countCensoredRows(sales: SalesData): number {
  if (sales.map.stock === undefined && sales.map.stockout === undefined) return 0;
  let count = 0;
  let censored = new Uint8Array(0);
  for (const block of salesBlocks(sales)) {
    if (censored.length < block.rows) censored = new Uint8Array(block.rows);
    blockCensored(block, censored);
    for (let row = 0; row < block.rows; row++) count += censored[row] ?? 0;
  }
  return count;
}

/** The censoring block of the calibration record: rows censored (their flags, or their count), and the naive fit beside the censored one. */
export function censoringRecord(sales: Pick<SalesData, 'map'>, censored: Uint8Array | number, rowsUsed: number, naive: LogitPoissonFit, fit: LogitPoissonFit): NonNullable<CalibrationRecord['censoring']> {
  let rows = 0;
  if (typeof censored === 'number') rows = censored;
  else for (const flag of censored) rows += flag;
  const columns = [sales.map.stock, sales.map.stockout].filter((column): column is string => column !== undefined);
  return {
    rowsCensored: rows,
    shareCensored: round(rows / Math.max(1, rowsUsed)),
    rule: `a row is censored when ${[sales.map.stockout === undefined ? undefined : `${sales.map.stockout} is 1`, sales.map.stock === undefined ? undefined : `the units sold reach ${sales.map.stock}`].filter(Boolean).join(' or ')} (columns ${columns.join(', ')})`,
    method: 'censored (Tobit-style) maximum likelihood: a stockout row contributes log P(Y >= units sold) under the same law; used for the scenario',
    naiveMethod: 'the same fit taking the units sold of stockout rows as their demand (biased towards too little price response); shown for comparison only',
    censored: { quality: estimateOf(fit, 0), priceSensitivity: estimateOf(fit, 1) },
    naive: { quality: estimateOf(naive, 0), priceSensitivity: estimateOf(naive, 1) },
  };
}

/** The same design with every row taken as exact (the naive fit). */
export function withoutCensoring<Data extends { readonly censored?: Uint8Array }>(data: Data): Data {
  const copy: { censored?: Uint8Array } = { ...data };
  delete copy.censored;
  return copy as Data;
}

/** The command's text lines for the censoring block: both fits side by side (none without stockouts). */
export function censoringSummaryLines(censoring: CalibrationRecord['censoring']): string[] {
  if (!censoring) return [];
  const show = (interval: { value: number; lower: number; upper: number }) => `${interval.value.toPrecision(4)} (${interval.lower.toPrecision(4)} .. ${interval.upper.toPrecision(4)})`;
  return [
    '',
    `stockouts: ${censoring.rowsCensored} rows censored (${(100 * censoring.shareCensored).toFixed(1)}%); ${censoring.rule}`,
    `  censored fit (used):  quality ${show(censoring.censored.quality)}, price sensitivity ${show(censoring.censored.priceSensitivity)}`,
    `  naive fit (shown):    quality ${show(censoring.naive.quality)}, price sensitivity ${show(censoring.naive.priceSensitivity)}`,
  ];
}

/** A sales history as the likelihood's rows: units, price, promotions, rivals, stockout rows marked censored, and the caller's market sizes and arrival terms. */
export function salesDesign(
  sales: SalesData,
  logMarketSize: Float64Array,
  extras: { readonly include?: Uint8Array | undefined; readonly arrivalEffects?: LogitPoissonData['arrivalEffects']; readonly arrivalCovariates?: LogitPoissonData['arrivalCovariates'] } = {},
): LogitPoissonData {
  const censored = censoredRows(sales);
  return {
    ...(censored ? { censored } : {}),
    rows: sales.rows,
    units: sales.units,
    logMarketSize,
    price: sales.price,
    promotions: sales.promotions,
    promotionNames: sales.promotionNames,
    rivalPrices: sales.rivalPrices,
    rivalNames: sales.rivalNames,
    ...(extras.include ? { include: extras.include } : {}),
    ...(extras.arrivalEffects ? { arrivalEffects: extras.arrivalEffects } : {}),
    ...(extras.arrivalCovariates ? { arrivalCovariates: extras.arrivalCovariates } : {}),
  };
}
