/**
 * Card: returns, fitted from a returns column (units returned in each period, from earlier
 * sales), in the simulator's own form (env/return-lags.ts, scenarios/schema.ts `returns`):
 * each unit sold in period s comes back with probability q, in period s + minLag + L, where L
 * (0-based) follows an exponential with mean parameter m truncated to the window
 * W = maxLag - minLag + 1 and discretised:
 *   P(L = i) = g_i = r^i (1 - r) / (1 - r^W),  r = exp(-1 / m),  i = 0 .. W - 1.
 * So the units returned in period t have mean
 *   mu_t = q sum_i g_i sold_{t - minLag - i}
 * and, as sums of independent per-unit outcomes with small probabilities, are close to
 * Poisson around it.
 *
 * Method: Poisson (quasi-)likelihood of the returned units. For given lags and m the rate has
 * a closed form, q = sum y_t / sum c_t (c_t the convolution above without q); m is found by
 * golden-section search on the profile in log m; minLag and maxLag (whole periods) by
 * profiling over every pair up to `maxLagSearched`. Rows used: periods whose every
 * contributing sale lies in the history (t - maxLagSearched at or after the first period), so
 * every pair is scored on the same rows. Intervals: q and log m from a model-based sandwich
 * A^-1 V A^-1 at the chosen lags, where A is the Poisson information sum w w' mu and V the
 * exact variance of the Poisson score when each unit sold returns by its own multinomial
 * draw (as the simulator draws it): V = A - q^2 sum_s sold_s v_s v_s', v_s = sum_i g_i w_{s+minLag+i},
 * w_t = dlog mu_t / dtheta (the Poisson information alone overstates the variance of q by
 * about 1 / (1 - q)). minLag and maxLag: the whole numbers whose profile likelihood-ratio
 * statistic is below 3.84 (chi-square, 1 degree of freedom).
 *
 * Not estimated (the simulator's discount and festival terms of the return logit, handling
 * cost, resellable share, refurbishing delay): left at documented defaults and listed. With
 * weekly (or any longer) periods the lags are fitted in periods and converted to days by
 * the period length, an approximation of the simulator's daily lags.
 *
 * The rows are read block by block (calibration/block-passes.ts) into per store and period
 * series: memory grows with stores x periods, not with rows.
 */
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';
import type { CalibrationRecord } from '../scenarios/calibration-record.js';
import type { ScenarioInput } from '../scenarios/schema.js';
import type { SalesData } from './reader.js';
import { goldenSectionMaximum } from './golden-section.js';
import type { SalesBlock } from './sales-blocks.js';
import { rowBlocks, rowValuesIn, type RowValues, type SomeColumns } from './block-passes.js';

export interface ReturnsFit {
  /** Return probability per unit sold, with its 95% interval. */
  readonly rate: { readonly value: number; readonly standardError: number; readonly lower: number; readonly upper: number };
  /** The truncated exponential's mean parameter m, in periods, with its 95% interval. */
  readonly meanLag: { readonly value: number; readonly standardError: number; readonly lower: number; readonly upper: number };
  /** Earliest and latest lag (periods after the sale), with their likelihood-ratio sets. */
  readonly minLag: { readonly value: number; readonly lower: number; readonly upper: number };
  readonly maxLag: { readonly value: number; readonly lower: number; readonly upper: number };
  /** Total returned over total sold (all rows, no edge correction): a plain check of the rate. */
  readonly returnedOverSold: number;
  readonly rowsUsed: number;
  readonly logLikelihood: number;
  /** Largest lag searched (periods). */
  readonly maxLagSearched: number;
}

export interface ReturnsSeries {
  /** Units sold per period, one array per series (store), periods consecutive from the first. */
  readonly sold: readonly Float64Array[];
  /** Units returned per period, NaN where the period has no row. */
  readonly returned: readonly Float64Array[];
}

export interface FitReturnsOptions {
  /** Largest lag searched, in periods (default: min(60, a quarter of the periods)). */
  readonly maxLagSearched?: number;
  readonly confidence?: number;
}

const logMeanRange = [Math.log(0.05), Math.log(1000)] as const;
const chiSquare95 = 3.841458820694124;

/** Per series: sum of y and of the convolution c over the rows used, and sum y log c (the profile in q is then closed form). */
function profile(series: ReturnsSeries, firstRow: number, minLag: number, window: number, logMean: number): { logLikelihood: number; rate: number } {
  const r = Math.exp(-Math.exp(-logMean));
  const rToWindow = r ** window;
  const normaliser = (1 - r) / (1 - rToWindow);
  let returned = 0;
  let convolved = 0;
  let weighted = 0;
  for (let index = 0; index < series.sold.length; index++) {
    const sold = series.sold[index]!;
    const returns = series.returned[index]!;
    // c_t = sum_{i < W} r^i x_{t - minLag - i}, by c_t = r c_{t-1} + x_{t-minLag} - r^W x_{t-minLag-W}.
    let running = 0;
    for (let t = minLag; t < sold.length; t++) {
      running = r * running + (sold[t - minLag] ?? 0) - (t - minLag - window >= 0 ? rToWindow * (sold[t - minLag - window] ?? 0) : 0);
      if (t < firstRow) continue;
      const y = returns[t] ?? Number.NaN;
      if (Number.isNaN(y)) continue;
      const c = Math.max(0, running) * normaliser;
      returned += y;
      convolved += c;
      if (y > 0) weighted += c > 0 ? y * Math.log(c) : Number.NEGATIVE_INFINITY;
    }
  }
  if (!(convolved > 0)) return { logLikelihood: returned > 0 ? Number.NEGATIVE_INFINITY : 0, rate: 0 };
  const rate = returned / convolved;
  // sum y log(q c) - q sum c, without sum log y!
  return { logLikelihood: weighted + (returned > 0 ? returned * Math.log(rate) : 0) - returned, rate };
}

/**
 * Several stores' series summed: sold in every period; returned where every store has a row
 * (NaN where any store lacks one, so a partial total is never read as a store's zero).
 */
function totalOf(series: ReturnsSeries): ReturnsSeries {
  const length = Math.max(0, ...series.sold.map((sold) => sold.length));
  const sold = new Float64Array(length);
  const returned = new Float64Array(length);
  series.sold.forEach((storeSold, index) => {
    const storeReturned = series.returned[index];
    for (let t = 0; t < length; t++) {
      sold[t] = (sold[t] ?? 0) + (storeSold[t] ?? 0);
      returned[t] = (returned[t] ?? 0) + (storeReturned?.[t] ?? Number.NaN);
    }
  });
  return { sold: [sold], returned: [returned] };
}

/** Fits the return rate and lag distribution; undefined when the history is too short or has no sales to match. */
export function fitReturns(series: ReturnsSeries, options: FitReturnsOptions = {}): ReturnsFit | undefined {
  const periods = Math.max(0, ...series.sold.map((sold) => sold.length));
  const cap = Math.max(1, Math.floor(options.maxLagSearched ?? Math.min(60, Math.floor(periods / 4))));
  const firstRow = cap;
  let totalSold = 0;
  let totalReturned = 0;
  let rowsUsed = 0;
  series.sold.forEach((sold, index) => {
    for (let t = 0; t < sold.length; t++) {
      totalSold += sold[t] ?? 0;
      const y = series.returned[index]?.[t] ?? Number.NaN;
      if (!Number.isNaN(y)) {
        totalReturned += y;
        if (t >= firstRow) rowsUsed++;
      }
    }
  });
  if (rowsUsed < 10 || !(totalSold > 0) || !(totalReturned > 0)) return undefined;

  // Profile over every (minLag, maxLag) pair; m by golden section on each. With several
  // stores the search runs on their totals (same q and lags, so the same mean structure; one
  // series instead of one per store), and q and m are then refitted on the stores' own series.
  const search = series.sold.length > 1 ? totalOf(series) : series;
  const best = { logLikelihood: Number.NEGATIVE_INFINITY, minLag: 0, maxLag: 0, logMean: 0, rate: 0 };
  const byMin = new Float64Array(cap + 1).fill(Number.NEGATIVE_INFINITY);
  const byMax = new Float64Array(cap + 1).fill(Number.NEGATIVE_INFINITY);
  for (let minLag = 0; minLag <= cap; minLag++) {
    let previous = Number.NaN;
    for (let maxLag = minLag; maxLag <= cap; maxLag++) {
      const window = maxLag - minLag + 1;
      const objective = (logMean: number) => profile(search, firstRow, minLag, window, logMean).logLikelihood;
      // The optimum moves little from one window to the next: search near the last one, the whole range if it lands on an edge.
      let logMean = 0;
      if (window > 1) {
        const near = Number.isNaN(previous) ? logMeanRange : ([Math.max(logMeanRange[0], previous - 1), Math.min(logMeanRange[1], previous + 1)] as const);
        logMean = goldenSectionMaximum(objective, near[0], near[1], 1e-3);
        if (!Number.isNaN(previous) && (logMean - near[0] < 1e-2 || near[1] - logMean < 1e-2)) logMean = goldenSectionMaximum(objective, logMeanRange[0], logMeanRange[1], 1e-3);
        previous = logMean;
      }
      const { logLikelihood, rate } = profile(search, firstRow, minLag, window, logMean);
      byMin[minLag] = Math.max(byMin[minLag] ?? Number.NEGATIVE_INFINITY, logLikelihood);
      byMax[maxLag] = Math.max(byMax[maxLag] ?? Number.NEGATIVE_INFINITY, logLikelihood);
      if (logLikelihood > best.logLikelihood) Object.assign(best, { logLikelihood, minLag, maxLag, logMean, rate });
    }
  }
  if (!Number.isFinite(best.logLikelihood)) return undefined;
  const likelihoodRatioSet = (values: Float64Array) => {
    const kept = [...values.keys()].filter((lag) => 2 * (best.logLikelihood - (values[lag] ?? Number.NEGATIVE_INFINITY)) <= chiSquare95);
    return { lower: Math.min(...kept), upper: Math.max(...kept) };
  };

  if (search !== series && best.maxLag > best.minLag) {
    const window = best.maxLag - best.minLag + 1;
    const objective = (logMean: number) => profile(series, firstRow, best.minLag, window, logMean).logLikelihood;
    best.logMean = goldenSectionMaximum(objective, Math.max(logMeanRange[0], best.logMean - 1), Math.min(logMeanRange[1], best.logMean + 1), 1e-4);
    best.rate = profile(series, firstRow, best.minLag, window, best.logMean).rate;
  } else if (search !== series) best.rate = profile(series, firstRow, best.minLag, 1, 0).rate;
  const z = normalQuantile(0.5 + (options.confidence ?? 0.95) / 2, 0, 1);
  const covariance = sandwich(series, firstRow, best.minLag, best.maxLag - best.minLag + 1, best.logMean, best.rate);
  const rateError = Math.sqrt(covariance[0]);
  const logMeanError = Math.sqrt(covariance[1]);
  const meanLag = Math.exp(best.logMean);
  return {
    rate: { value: best.rate, standardError: rateError, lower: Math.max(0, best.rate - z * rateError), upper: Math.min(1, best.rate + z * rateError) },
    meanLag: { value: meanLag, standardError: meanLag * logMeanError, lower: Math.exp(best.logMean - z * logMeanError), upper: Math.exp(best.logMean + z * logMeanError) },
    minLag: { value: best.minLag, ...likelihoodRatioSet(byMin) },
    maxLag: { value: best.maxLag, ...likelihoodRatioSet(byMax) },
    returnedOverSold: totalReturned / totalSold,
    rowsUsed,
    logLikelihood: best.logLikelihood,
    maxLagSearched: cap,
  };
}

/**
 * Variances of q and log m: A^-1 V A^-1 with A = sum_t mu_t w_t w_t' (w_t = dlog mu_t/dtheta)
 * and V = A - q^2 sum_s sold_s v_s v_s' (the multinomial covariance of the returned counts).
 * A window of one lag leaves m unidentified: its variance is NaN and only q's is computed.
 */
function sandwich(series: ReturnsSeries, firstRow: number, minLag: number, window: number, logMean: number, rate: number): [number, number] {
  const mean = Math.exp(logMean);
  const r = Math.exp(-1 / mean);
  const rToWindow = r ** window;
  const weights = Float64Array.from({ length: window }, (_, lag) => (r ** lag * (1 - r)) / (1 - rToWindow));
  // dlog g_i / dlog m = (i - r / (1 - r) + W r^W / (1 - r^W)) / m
  const slopes = Float64Array.from({ length: window }, (_, lag) => (lag - r / (1 - r) + (window * rToWindow) / (1 - rToWindow)) / mean);
  const information = [0, 0, 0];
  const variance = [0, 0, 0];
  for (let index = 0; index < series.sold.length; index++) {
    const sold = series.sold[index]!;
    const returns = series.returned[index]!;
    const scoreRate = new Float64Array(sold.length);
    const scoreMean = new Float64Array(sold.length);
    const used = new Uint8Array(sold.length);
    for (let t = Math.max(firstRow, minLag); t < sold.length; t++) {
      if (Number.isNaN(returns[t] ?? Number.NaN)) continue;
      let convolved = 0;
      let slope = 0;
      for (let lag = 0; lag < window && t - minLag - lag >= 0; lag++) {
        const units = sold[t - minLag - lag] ?? 0;
        convolved += (weights[lag] ?? 0) * units;
        slope += (weights[lag] ?? 0) * (slopes[lag] ?? 0) * units;
      }
      if (!(convolved > 0)) continue;
      const mu = rate * convolved;
      const wRate = 1 / rate;
      const wMean = slope / convolved;
      used[t] = 1;
      scoreRate[t] = wRate;
      scoreMean[t] = wMean;
      information[0] = (information[0] ?? 0) + mu * wRate * wRate;
      information[1] = (information[1] ?? 0) + mu * wRate * wMean;
      information[2] = (information[2] ?? 0) + mu * wMean * wMean;
    }
    for (let s = 0; s < sold.length; s++) {
      const units = sold[s] ?? 0;
      if (!(units > 0)) continue;
      let vRate = 0;
      let vMean = 0;
      for (let lag = 0; lag < window; lag++) {
        const t = s + minLag + lag;
        if (t >= sold.length || used[t] !== 1) continue;
        vRate += (weights[lag] ?? 0) * (scoreRate[t] ?? 0);
        vMean += (weights[lag] ?? 0) * (scoreMean[t] ?? 0);
      }
      const scale = rate * rate * units;
      variance[0] = (variance[0] ?? 0) - scale * vRate * vRate;
      variance[1] = (variance[1] ?? 0) - scale * vRate * vMean;
      variance[2] = (variance[2] ?? 0) - scale * vMean * vMean;
    }
  }
  for (let entry = 0; entry < 3; entry++) variance[entry] = (variance[entry] ?? 0) + (information[entry] ?? 0);
  const [a, b, d] = information as [number, number, number];
  if (window === 1) {
    // q alone: A and V are scalars.
    return [(variance[0] ?? 0) / (a * a), Number.NaN];
  }
  const determinant = a * d - b * b;
  // A^-1 = [d, -b; -b, a] / det; the (0,0) and (1,1) entries of A^-1 V A^-1.
  const inverse = [d / determinant, -b / determinant, a / determinant] as const;
  const [v0, v1, v2] = variance as [number, number, number];
  const entry = (first: readonly [number, number], second: readonly [number, number]) =>
    first[0] * (v0 * second[0] + v1 * second[1]) + first[1] * (v1 * second[0] + v2 * second[1]);
  const rowRate = [inverse[0], inverse[1]] as const;
  const rowMean = [inverse[1], inverse[2]] as const;
  return [entry(rowRate, rowRate), entry(rowMean, rowMean)];
}

/**
 * Per store, the units sold and returned by period (consecutive from the first period of the
 * history): two passes over the rows block by block (the period range, then the sums), kept
 * per store and period. `period` is each row's period index, whole or made per block.
 */
export function returnsSeries(sales: SomeColumns<'units' | 'store' | 'returns'> & Pick<SalesData, 'storeNames'>, period: RowValues): ReturnsSeries {
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const block of rowBlocks<'units' | 'store' | 'returns'>(sales)) {
    const periods = rowValuesIn(period, block.start, block.rows, block as SalesBlock);
    for (let row = 0; row < block.rows; row++) {
      const value = periods[row] ?? 0;
      if (value < first) first = value;
      if (value > last) last = value;
    }
  }
  const length = Math.max(0, last - first + 1);
  const sold = sales.storeNames.map(() => new Float64Array(length));
  const returned = sales.storeNames.map(() => new Float64Array(length).fill(Number.NaN));
  for (const block of rowBlocks<'units' | 'store' | 'returns'>(sales)) {
    const periods = rowValuesIn(period, block.start, block.rows, block as SalesBlock);
    for (let row = 0; row < block.rows; row++) {
      const store = block.store[row] ?? 0;
      const t = (periods[row] ?? first) - first;
      const soldSeries = sold[store]!;
      const returnedSeries = returned[store]!;
      soldSeries[t] = (soldSeries[t] ?? 0) + (block.units[row] ?? 0);
      returnedSeries[t] = (Number.isNaN(returnedSeries[t] ?? Number.NaN) ? 0 : (returnedSeries[t] ?? 0)) + (block.returns?.[row] ?? 0);
    }
  }
  return { sold, returned };
}

const round = (value: number) => Number(value.toPrecision(6));
const logit = (share: number) => Math.log(share / (1 - share));

/** Defaults of the returns block that no sales history identifies. */
export const returnsDefaults = { discountLogit: 0, festivalLogit: 0, handlingCost: 0, resellableFraction: 1, refurbishDays: 0 } as const;

/**
 * The returns block of the scenario and its record entries: fitted from the returns column
 * when there is one, else the documented default (no returns block: nothing comes back),
 * listed among the defaults. `period` is each row's period index (0, 1, ... in periods).
 */
export function applyReturns(sales: SalesData, period: RowValues, daysPerPeriod: number, scenario: ScenarioInput, record: CalibrationRecord): void {
  if (sales.map.returns === undefined) {
    record.defaults.push({ field: 'returns', value: 'none', reason: 'no returns column: the scenario has no returns block (no sold unit comes back)' });
    return;
  }
  const column = sales.map.returns ?? 'returns';
  const fit = fitReturns(returnsSeries(sales, period));
  if (!fit) {
    let returned = 0;
    let sold = 0;
    for (const block of rowBlocks<'units' | 'returns'>(sales)) {
      for (let row = 0; row < block.rows; row++) {
        returned += block.returns?.[row] ?? 0;
        sold += block.units[row] ?? 0;
      }
    }
    record.defaults.push({
      field: 'returns',
      value: 'none',
      reason:
        returned > 0
          ? `the returns column ${column} cannot identify a rate and lags: too few periods (the fit needs at least 10 periods after the longest lag searched)`
          : `the returns column ${column} holds no returned unit (${sold} sold): no returns block (at 95%, the rate is below ${round(Math.min(1, 3 / Math.max(sold, 1)))} by the rule of three)`,
    });
    return;
  }
  const method = `Poisson likelihood of the returned units with mean q sum_i g_i sold(t - minLag - i) (the simulator's truncated exponential lag), lags profiled over 0..${fit.maxLagSearched} periods, ${fit.rowsUsed} periods used`;
  const clampLogit = (value: number) => Math.max(-30, Math.min(30, value));
  const rateValue = Math.min(Math.max(fit.rate.value, 1e-9), 1 - 1e-9);
  // The simulator's earliest return is a day after the sale: a fitted lag of 0 periods becomes 1 day.
  const minLagDays = Math.min(365, Math.max(1, fit.minLag.value * daysPerPeriod));
  const maxLagDays = Math.min(365, Math.max(minLagDays, fit.maxLag.value * daysPerPeriod));
  scenario.returns = {
    baseLogit: round(clampLogit(logit(rateValue))),
    discountLogit: returnsDefaults.discountLogit,
    festivalLogit: returnsDefaults.festivalLogit,
    minLagDays,
    maxLagDays,
    meanLagDays: round(Math.min(365, Math.max(1e-3, fit.meanLag.value * daysPerPeriod))),
    handlingCost: returnsDefaults.handlingCost,
    resellableFraction: returnsDefaults.resellableFraction,
    refurbishDays: returnsDefaults.refurbishDays,
  };
  const sandwichMethod = `${method}; 95% interval from the model-based sandwich (each unit sold returns by its own multinomial draw)`;
  record.estimates.push(
    { parameter: 'returnRate', value: round(fit.rate.value), standardError: round(fit.rate.standardError), lower: round(fit.rate.lower), upper: round(fit.rate.upper), method: sandwichMethod },
    {
      parameter: 'returnLogit',
      scenarioPath: 'returns.baseLogit',
      value: round(clampLogit(logit(rateValue))),
      standardError: round(fit.rate.standardError / (rateValue * (1 - rateValue))),
      lower: round(clampLogit(logit(Math.max(fit.rate.lower, 1e-9)))),
      upper: round(clampLogit(logit(Math.min(fit.rate.upper, 1 - 1e-9)))),
      method: `logit of the return rate (the simulator's t0); interval: the rate's, transformed`,
    },
  );
  if (Number.isFinite(fit.meanLag.standardError)) {
    record.estimates.push({
      parameter: 'returnLagMean',
      scenarioPath: 'returns.meanLagDays',
      value: round(fit.meanLag.value * daysPerPeriod),
      standardError: round(fit.meanLag.standardError * daysPerPeriod),
      lower: round(fit.meanLag.lower * daysPerPeriod),
      upper: round(fit.meanLag.upper * daysPerPeriod),
      method: `${sandwichMethod}; in log m, in days (${daysPerPeriod} per period)`,
    });
  } else {
    record.defaults.push({ field: 'returns.meanLagDays', value: scenario.returns.meanLagDays, reason: 'every return comes back after the same lag: the lag distribution has one value and no mean to fit' });
  }
  for (const [name, lag, path] of [['returnLagMin', fit.minLag, 'returns.minLagDays'], ['returnLagMax', fit.maxLag, 'returns.maxLagDays']] as const) {
    record.estimates.push({
      parameter: name,
      scenarioPath: path,
      value: lag.value * daysPerPeriod,
      standardError: round(((lag.upper - lag.lower) * daysPerPeriod) / (2 * 1.959963984540054)),
      lower: lag.lower * daysPerPeriod,
      upper: lag.upper * daysPerPeriod,
      method: `${method}; whole periods, profile likelihood; interval: the lags whose likelihood-ratio statistic is below 3.84 (standard error: its width / 3.92), in days`,
    });
  }
  record.derived.push({ name: 'returnedOverSold', value: round(fit.returnedOverSold), method: 'units returned over units sold, all rows (no correction for returns of sales before the history or after it)' });
  record.defaults.push(
    { field: 'returns.discountLogit', value: returnsDefaults.discountLogit, reason: 'not estimated: the return rate is fitted as one rate for every price' },
    { field: 'returns.festivalLogit', value: returnsDefaults.festivalLogit, reason: 'not estimated: the return rate is fitted as one rate for every day' },
    { field: 'returns.handlingCost', value: returnsDefaults.handlingCost, reason: 'not in a sales history: set your own cost per returned unit' },
    { field: 'returns.resellableFraction', value: returnsDefaults.resellableFraction, reason: 'not in a sales history: every returned unit is taken back into stock' },
    { field: 'returns.refurbishDays', value: returnsDefaults.refurbishDays, reason: 'not in a sales history: returned units are resellable the day they come back' },
  );
}
