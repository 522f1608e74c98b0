/**
 * Card: the forecast checks of calibration/calibrate.ts. The holdout: the demand fitted on
 * the training periods predicts the units of the last periods, scored (WAPE, MAPE) against
 * seasonal-naive and mean baselines. The predictive coverage: the share of rows inside the
 * fitted law's central 90% band (Poisson or negative binomial, stockout rows as lower bounds).
 */
import { logitShare, type LogitPoissonFit } from './logit-poisson.js';
import type { SalesData } from './reader.js';
import type { PeriodLength } from './market-size.js';
import { censoredRows } from './censoring.js';
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
 */
export function scoreHoldout(
  sales: SalesData,
  period: Float64Array,
  include: Uint8Array,
  logMarketSize: Float64Array,
  fit: LogitPoissonFit,
  periodLength: PeriodLength,
  fraction: number,
  trainingPeriods: number,
  holdoutPeriods: number,
): HoldoutReport {
  const seasonLength = periodLength === 'week' ? 52 : 7;
  const history = new Map<string, number>();
  const lastTraining = new Map<number, { period: number; units: number }>();
  const sum = new Float64Array(sales.storeNames.length);
  const count = new Float64Array(sales.storeNames.length);
  let lastTrainingPeriod = Number.NEGATIVE_INFINITY;
  for (let row = 0; row < sales.rows; row++) if (include[row] === 1 && (period[row] ?? 0) > lastTrainingPeriod) lastTrainingPeriod = period[row] ?? 0;
  for (let row = 0; row < sales.rows; row++) {
    if (include[row] !== 1) continue;
    const store = sales.store[row] ?? 0;
    const when = period[row] ?? 0;
    const units = sales.units[row] ?? 0;
    // The seasonal-naive forecast looks one season back into the last season of training only: keep that season (stores x season entries, not every row).
    if (when > lastTrainingPeriod - seasonLength) history.set(`${store}:${when}`, units);
    sum[store] = (sum[store] ?? 0) + units;
    count[store] = (count[store] ?? 0) + 1;
    const previous = lastTraining.get(store);
    if (!previous || previous.period <= when) lastTraining.set(store, { period: when, units });
  }
  const absolute = { model: 0, seasonalNaive: 0, mean: 0 };
  const relative = { model: 0, seasonalNaive: 0, mean: 0 };
  let actualTotal = 0;
  let positiveRows = 0;
  let rows = 0;
  const promotions = new Float64Array(sales.promotions.length);
  const rivals = new Float64Array(sales.rivalPrices.length);
  for (let row = 0; row < sales.rows; row++) {
    if (include[row] === 1) continue;
    rows++;
    const store = sales.store[row] ?? 0;
    const when = period[row] ?? 0;
    const actual = sales.units[row] ?? 0;
    sales.promotions.forEach((column, index) => (promotions[index] = column[row] ?? 0));
    sales.rivalPrices.forEach((column, index) => (rivals[index] = column[row] ?? 0));
    const forecasts = {
      model: Math.exp(logMarketSize[row] ?? 0) * logitShare(fit.theta, sales.price[row] ?? 0, promotions, rivals),
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
  const wape = (key: keyof typeof absolute) => (actualTotal > 0 ? absolute[key] / actualTotal : 0);
  const mape = (key: keyof typeof relative) => (positiveRows > 0 ? relative[key] / positiveRows : 0);
  return {
    fraction,
    trainingPeriods,
    holdoutPeriods,
    rows,
    seasonLength,
    wape: { model: wape('model'), seasonalNaive: wape('seasonalNaive'), mean: wape('mean') },
    predictiveCoverage90: predictiveCoverage(sales, logMarketSize, fit, (row) => include[row] !== 1),
    mape: { model: mape('model'), seasonalNaive: mape('seasonalNaive'), mean: mape('mean') },
  };
}

/**
 * The predictive check: the share of the chosen rows whose units fall inside the central 90%
 * band of the fitted law at that row (Poisson, or negative binomial with the fitted size,
 * around the mean M_t s_t from the row's own prices, promotions, rival prices and market
 * size): the calibrated market replayed under the historical prices. About 0.9 when the law
 * fits; far below when counts are more dispersed than it allows. Parameter uncertainty is
 * not included (a plug-in band).
 */
export function predictiveCoverage(sales: SalesData, logMarketSize: Float64Array, fit: LogitPoissonFit, chosen: (row: number) => boolean): number {
  const promotions = new Float64Array(sales.promotions.length);
  const rivals = new Float64Array(sales.rivalPrices.length);
  const size = fit.dispersionSize?.value;
  // A stockout row's demand is only known to be at least its units: inside when the band reaches them.
  const censored = censoredRows(sales);
  let rows = 0;
  let covered = 0;
  for (let row = 0; row < sales.rows; row++) {
    if (!chosen(row)) continue;
    sales.promotions.forEach((column, index) => (promotions[index] = column[row] ?? 0));
    sales.rivalPrices.forEach((column, index) => (rivals[index] = column[row] ?? 0));
    const mean = Math.exp(logMarketSize[row] ?? 0) * logitShare(fit.theta, sales.price[row] ?? 0, promotions, rivals);
    const units = sales.units[row] ?? 0;
    // With q the integer quantiles: y >= q(0.05) iff F(floor y) >= 0.05, and y <= q(0.95) iff
    // F(ceil y - 1) < 0.95; two CDF values instead of two quantile searches.
    const cdf = (count: number) => (count < 0 ? 0 : size === undefined ? poissonCdf(count, mean) : negativeBinomialCdf(count, size, size / (size + mean)));
    rows++;
    if ((censored?.[row] === 1 || cdf(Math.floor(units)) >= 0.05) && cdf(Math.ceil(units) - 1) < 0.95) covered++;
  }
  return rows > 0 ? covered / rows : 0;
}
