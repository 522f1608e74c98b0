/**
 * Card: the forecast checks of calibration/calibrate.ts. The holdout: the demand fitted on
 * the training periods predicts the units of the last periods, scored (WAPE, MAPE) against
 * seasonal-naive and mean baselines. The predictive coverage: the share of rows inside the
 * fitted law's central 90% band (Poisson or negative binomial, stockout rows as lower bounds).
 * Both read the history block by block (calibration/design-blocks.ts gives each block's market
 * sizes under the fit): what they keep is per store (and the last season of training periods
 * per store), never per row.
 */
import { logitShare, rowLogMarketSize, rowOf, type LogitPoissonFit } from './logit-poisson.js';
import type { SalesData } from './reader.js';
import type { PeriodLength } from './market-size.js';
import { blockCensored, periodNumber, salesDesignBlocks, type DesignRules } from './design-blocks.js';
import { salesBlocks, type SalesBlock } from './sales-blocks.js';
import negativeBinomialCdf from '@stdlib/stats-base-dists-negative-binomial-cdf';
import poissonCdf from '@stdlib/stats-base-dists-poisson-cdf';

export interface HoldoutReport {
  readonly fraction: number;
  readonly trainingPeriods: number;
  readonly holdoutPeriods: number;
  readonly rows: number;
  readonly seasonLength: number;
  readonly wape: { readonly model: number; readonly seasonalNaive: number; readonly mean: number };
  readonly mape: { readonly model: number; readonly seasonalNaive: number; readonly mean: number };
  /** Share of holdout rows whose units fall inside the 90% predictive band of the training fit. */
  readonly predictiveCoverage90: number;
}

/**
 * The holdout: the model fitted on the training periods predicts units in the last periods
 * (from their prices, promotions, rival prices and market size). Baselines per series
 * (store): seasonal naive, the value one season before in the training part (season 7 days
 * or 52 weeks; the last training value when that period is missing), and the training mean.
 * `training` holds the rules of the training design (its includeBefore, the first held-out
 * period number); each row's market size is that design's under the training fit.
 */
export function scoreHoldout(
  sales: SalesData,
  training: DesignRules,
  fit: LogitPoissonFit,
  periodLength: PeriodLength,
  fraction: number,
  trainingPeriods: number,
  holdoutPeriods: number,
): HoldoutReport {
  const seasonLength = periodLength === 'week' ? 52 : 7;
  const firstHoldout = training.includeBefore ?? Number.POSITIVE_INFINITY;
  const numbering = training.numbering;
  const history = new Map<string, number>();
  const lastTraining = new Map<number, { period: number; units: number }>();
  const sum = new Float64Array(sales.storeNames.length);
  const count = new Float64Array(sales.storeNames.length);
  let lastTrainingPeriod = Number.NEGATIVE_INFINITY;
  for (const block of salesBlocks(sales)) {
    for (let row = 0; row < block.rows; row++) {
      const when = periodNumber(numbering, block.period[row] ?? 0);
      if (when < firstHoldout && when > lastTrainingPeriod) lastTrainingPeriod = when;
    }
  }
  for (const block of salesBlocks(sales)) {
    for (let row = 0; row < block.rows; row++) {
      const when = periodNumber(numbering, block.period[row] ?? 0);
      if (when >= firstHoldout) continue;
      const store = block.store[row] ?? 0;
      const units = block.units[row] ?? 0;
      // The seasonal-naive forecast looks one season back into the last season of training only: keep that season (stores x season entries, not every row).
      if (when > lastTrainingPeriod - seasonLength) history.set(`${store}:${when}`, units);
      sum[store] = (sum[store] ?? 0) + units;
      count[store] = (count[store] ?? 0) + 1;
      const previous = lastTraining.get(store);
      if (!previous || previous.period <= when) lastTraining.set(store, { period: when, units });
    }
  }
  const absolute = { model: 0, seasonalNaive: 0, mean: 0 };
  const relative = { model: 0, seasonalNaive: 0, mean: 0 };
  let actualTotal = 0;
  let positiveRows = 0;
  let rows = 0;
  const promotions = new Float64Array(sales.promotionNames.length);
  const rivals = new Float64Array(sales.rivalNames.length);
  for (const { block, data } of salesDesignBlocks(sales, training)) {
    for (let row = 0; row < block.rows; row++) {
      if (data.include?.[row] === 1) continue;
      rows++;
      const store = block.store[row] ?? 0;
      const when = periodNumber(numbering, block.period[row] ?? 0);
      const actual = block.units[row] ?? 0;
      rowOf(block.promotions, row, promotions);
      rowOf(block.rivalPrices, row, rivals);
      const forecasts = {
        model: Math.exp(rowLogMarketSize(data, fit.theta, row)) * logitShare(fit.theta, block.price[row] ?? 0, promotions, rivals),
        seasonalNaive: history.get(`${store}:${when - seasonLength * Math.ceil((when - lastTrainingPeriod) / seasonLength)}`) ?? lastTraining.get(store)?.units ?? 0,
        mean: (count[store] ?? 0) > 0 ? (sum[store] ?? 0) / (count[store] ?? 1) : 0,
      };
      actualTotal += actual;
      if (actual > 0) positiveRows++;
      for (const key of ['model', 'seasonalNaive', 'mean'] as const) {
        const error = Math.abs(actual - forecasts[key]);
        absolute[key] += error;
        if (actual > 0) relative[key] += error / actual;
      }
    }
  }
  const wape = (key: keyof typeof absolute) => (actualTotal > 0 ? absolute[key] / actualTotal : 0);
  const mape = (key: keyof typeof relative) => (positiveRows > 0 ? relative[key] / positiveRows : 0);
  return {
    fraction,
    trainingPeriods,
    holdoutPeriods,
    rows,
    seasonLength,
    wape: { model: wape('model'), seasonalNaive: wape('seasonalNaive'), mean: wape('mean') },
    predictiveCoverage90: predictiveCoverage(sales, training, fit, (block, row) => periodNumber(numbering, block.period[row] ?? 0) >= firstHoldout),
    mape: { model: mape('model'), seasonalNaive: mape('seasonalNaive'), mean: mape('mean') },
  };
}

/**
 * The predictive check: the share of the chosen rows whose units fall inside the central 90%
 * band of the fitted law at that row (Poisson, or negative binomial with the fitted size,
 * around the mean M_t s_t from the row's own prices, promotions, rival prices and market
 * size under the fit, by the design `rules`): the calibrated market replayed under the
 * historical prices. About 0.9 when the law fits; far below when counts are more dispersed
 * than it allows. Parameter uncertainty is not included (a plug-in band).
 */
export function predictiveCoverage(sales: SalesData, rules: DesignRules, fit: LogitPoissonFit, chosen: (block: SalesBlock, row: number) => boolean): number {
  const promotions = new Float64Array(sales.promotionNames.length);
  const rivals = new Float64Array(sales.rivalNames.length);
  const size = fit.dispersionSize?.value;
  let rows = 0;
  let covered = 0;
  let censored = new Uint8Array(0);
  for (const { block, data } of salesDesignBlocks(sales, rules)) {
    // A stockout row's demand is only known to be at least its units: inside when the band reaches them.
    if (censored.length < block.rows) censored = new Uint8Array(block.rows);
    const anyCensored = (block.stock !== undefined || block.stockout !== undefined) && blockCensored(block, censored);
    for (let row = 0; row < block.rows; row++) {
      if (!chosen(block, row)) continue;
      rowOf(block.promotions, row, promotions);
      rowOf(block.rivalPrices, row, rivals);
      const mean = Math.exp(rowLogMarketSize(data, fit.theta, row)) * logitShare(fit.theta, block.price[row] ?? 0, promotions, rivals);
      const units = block.units[row] ?? 0;
      // With q the integer quantiles: y >= q(0.05) iff F(floor y) >= 0.05, and y <= q(0.95) iff
      // F(ceil y - 1) < 0.95; two CDF values instead of two quantile searches.
      const cdf = (count: number) => (count < 0 ? 0 : size === undefined ? poissonCdf(count, mean) : negativeBinomialCdf(count, size, size / (size + mean)));
      rows++;
      if (((anyCensored && censored[row] === 1) || cdf(Math.floor(units)) >= 0.05) && cdf(Math.ceil(units) - 1) < 0.95) covered++;
    }
  }
  return rows > 0 ? covered / rows : 0;
}
