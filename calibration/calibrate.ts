/**
 * Calibration, end to end: a sales history in, a scenario (with its `calibration` record)
 * and a report out. Order: read and check the rows (calibration/reader.ts); check that the
 * data can identify the model (enough rows, price and regressor variation); set each row's
 * market size; fit on the first (1 - holdout) of the periods and score the holdout against
 * seasonal-naive and mean baselines; fit again on every row; build the scenario.
 *
 * Market size M_t (the arrivals of the logit): the traffic column when the map gives one
 * (visits are the simulator's arrivals), else an assumed potential market of
 * `marketSizeMultiple` x the store's mean units (the usual share-definition assumption
 * of demand estimation when the market size is unobserved; default 3, so our mean inside
 * share is about one third). That assumption is recorded among the defaults: quality and
 * the arrival rate depend on it, the price response much less.
 *
 * Nothing is written here: the caller writes the scenario atomically (cli/commands/calibrate.ts).
 */
import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';
import { configError, type Problem } from '../core/errors.js';
import type { CalibrationRecord } from '../scenarios/calibration-record.js';
import type { ScenarioInput } from '../scenarios/schema.js';
import type { ColumnMap } from './column-map.js';
import { fitLogitNegativeBinomial, fitLogitPoisson, logitShare, parameterNames, rowLogMarketSize, type DemandData, type LogitPoissonData, type LogitPoissonFit } from './logit-poisson.js';
import { applyPooling, type PoolingOptions, type PoolingResult } from './pooling.js';
import { readSales, releaseSales, type SalesData } from './reader.js';
import { estimateEndogeneity, priceInstruments } from './endogeneity.js';
import { estimateInvertedShares } from './inverted-shares.js';
import { applyReferencePrices, estimateReferencePrices } from './reference-prices.js';
import { competitorEstimates, competitorStrategyRecord, fitCompetitorStrategies, minimumTransitions, scenarioCompetitorFields } from './competitors.js';
import { calendarDesign, calendarFromDemandFit, fitTrafficCalendar, placeCalendarEffects, type CalendarPlacement } from './calendar-effects.js';
import { censoredRows, censoringRecord, salesDesign, withoutCensoring } from './censoring.js';
import { applyReturns } from './returns.js';
import { blockedSalesDesign, periodNumber, type DesignRules, type PeriodNumbering } from './design-blocks.js';
import negativeBinomialCdf from '@stdlib/stats-base-dists-negative-binomial-cdf';
import poissonCdf from '@stdlib/stats-base-dists-poisson-cdf';

export type PeriodLength = 'day' | 'week';
/** auto: Poisson, or the negative binomial when the Poisson fit's Pearson dispersion exceeds 1.5. */
export type Likelihood = 'auto' | 'poisson' | 'negative-binomial';

export interface CalibrateOptions {
  readonly map: ColumnMap;
  readonly defaultMap?: boolean;
  readonly periodLength?: PeriodLength;
  /** Share of the last periods held out for the forecast check (0 for none; default 0.2). */
  readonly holdout?: number;
  /** Potential market per period as a multiple of the store's mean units, when there is no traffic column (default 3). */
  readonly marketSizeMultiple?: number;
  /** The scenario id (default: calibrated-<file name>-v1). */
  readonly scenarioId?: string;
  /** Recorded in the scenario card (the fit itself draws no random numbers). */
  readonly seed?: number;
  readonly likelihood?: Likelihood;
  /** Partial pooling across stores (calibration/pooling.ts): on by default with 3 or more stores; store attributes; one store's scenario. */
  readonly pooling?: PoolingOptions;
  /** Rows per block of the reader (calibration/sales-blocks.ts; default 32,768): a longer history is read block by block from a scratch file. */
  readonly blockRows?: number;
}

const overdispersed = 1.5;

/** The fit of the chosen likelihood, and the Poisson one it started from. */
function fitDemand(data: DemandData, likelihood: Likelihood): { fit: LogitPoissonFit; poisson: LogitPoissonFit } {
  const poisson = fitLogitPoisson(data);
  const negativeBinomial = likelihood === 'negative-binomial' || (likelihood === 'auto' && poisson.dispersion > overdispersed);
  return { fit: negativeBinomial ? fitLogitNegativeBinomial(data, { start: poisson.theta }) : poisson, poisson };
}

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

export interface CalibrationResult {
  readonly scenario: ScenarioInput;
  readonly record: CalibrationRecord;
  readonly fit: LogitPoissonFit;
  readonly holdout: HoldoutReport | undefined;
  /** Mean over rows of the logit own-price elasticity -b p (1 - s). */
  readonly meanElasticity: number;
  /** Share of rows whose units fall inside the 90% predictive band of the final fit. */
  readonly predictiveCoverage90: number;
  readonly seconds: number;
  /** The rows behind the fit, for the report (calibration/report.ts). */
  readonly rows: CalibrationRows;
  /** Store-level estimates with partial pooling, when the history has several stores. */
  readonly pooling?: PoolingResult | undefined;
}

export interface CalibrationRows {
  readonly sales: SalesData;
  /** Each row's period as 0, 1, 2, ... periods since the first. */
  readonly period: Float64Array;
  /** The first held-out period (same numbering); undefined without a holdout. */
  readonly firstHoldoutPeriod: number | undefined;
  /** Each row's log market size under the final fit (its arrival effects included): the mean is exp(this) x share. */
  readonly logMarketSize: Float64Array;
}

const defaultMultiple = 3;

/** Reads a sales file and calibrates it. Throws a config error (exit 2) for bad or uninformative input. */
export async function calibrateFile(path: string, options: CalibrateOptions): Promise<CalibrationResult> {
  const started = performance.now();
  const sales = await readSales(path, { map: options.map, defaultMap: options.defaultMap ?? false, ...(options.blockRows === undefined ? {} : { blockRows: options.blockRows }) });
  try {
    return calibrateSales(sales, options, started);
  } catch (error) {
    releaseSales(sales);
    throw error;
  }
}

export function calibrateSales(sales: SalesData, options: CalibrateOptions, started = performance.now()): CalibrationResult {
  const periodLength = options.periodLength ?? 'day';
  const holdoutFraction = options.holdout ?? 0.2;
  const multiple = options.marketSizeMultiple ?? defaultMultiple;
  // Festival windows, season, weather (calibration/calendar-effects.ts): arrival covariates of the fit, or fitted to the traffic.
  const calendar = calendarDesign(sales, periodLength);
  const calendarCovariates = sales.traffic || calendar.names.length === 0 ? undefined : { names: calendar.names, columns: calendar.columns };
  checkIdentifiable(sales, (weekdayArrivalEffects(sales, periodLength)?.names.length ?? 0) + (calendarCovariates?.names.length ?? 0));

  const periods = periodIndices(sales, periodLength);
  const distinct = [...new Set(periods.index)].sort((left, right) => left - right);
  const logMarketSize = new Float64Array(sales.rows);
  const weekdayEffects = weekdayArrivalEffects(sales, periodLength);
  // A history longer than one block is fitted block by block from its scratch file (design-blocks.ts): same rows, same sums.
  const demandDesign = (inMemory: LogitPoissonData, rules: Omit<DesignRules, 'numbering' | 'weekdayNames' | 'arrivalCovariates'>): DemandData =>
    sales.scratch ? blockedSalesDesign(sales, { ...rules, numbering: periods.numbering, weekdayNames: weekdayEffects?.names, arrivalCovariates: calendarCovariates }) : inMemory;

  let holdout: HoldoutReport | undefined;
  if (holdoutFraction > 0) {
    const trainingCount = Math.floor(distinct.length * (1 - holdoutFraction));
    if (trainingCount < 2 || distinct.length - trainingCount < 1) {
      throw configError('too few periods for the holdout', [{ path: ['holdout'], message: `expected at least 2 training periods and 1 holdout period, found ${distinct.length} periods with holdout ${holdoutFraction}` }]);
    }
    const firstHoldout = distinct[trainingCount] ?? Number.POSITIVE_INFINITY;
    const include = Uint8Array.from(periods.index, (period) => (period < firstHoldout ? 1 : 0));
    const storeLogTraining = setMarketSize(sales, multiple, include, logMarketSize);
    const trainingDesign = salesDesign(sales, logMarketSize, { include, arrivalEffects: weekdayEffects, arrivalCovariates: calendarCovariates });
    const trainingFit = fitDemand(demandDesign(trainingDesign, { storeLogMarketSize: storeLogTraining, includeBefore: firstHoldout, censor: true }), options.likelihood ?? 'auto').fit;
    const effectiveLogMarketSize = logMarketSize.map((_, row) => rowLogMarketSize(trainingDesign, trainingFit.theta, row));
    holdout = scoreHoldout(sales, periods.index, include, effectiveLogMarketSize, trainingFit, periodLength, holdoutFraction, trainingCount, distinct.length - trainingCount);
  }

  const storeLogFull = setMarketSize(sales, multiple, undefined, logMarketSize);
  const fullDesign = salesDesign(sales, logMarketSize, { arrivalEffects: weekdayEffects, arrivalCovariates: calendarCovariates });
  const { fit: naiveFit, poisson } = fitDemand(demandDesign(fullDesign, { storeLogMarketSize: storeLogFull, censor: true }), options.likelihood ?? 'auto');
  let fit = naiveFit;
  // A rival whose quality the data cannot place (pushed towards minus infinity) is left out
  // of the scenario and listed among the defaults; any other unidentified parameter is an error.
  const rivalOffset = 2 + sales.promotions.length;
  const isRival = (index: number) => index >= rivalOffset && index < rivalOffset + sales.rivalPrices.length;
  const unidentified = fit.parameters.filter((parameter, index) => !isRival(index) && !Number.isFinite(parameter.standardError));
  if (unidentified.length > 0 || !fit.converged) {
    throw configError('the demand model is not identified by this history', [
      {
        path: ['fit'],
        message: `expected a converged fit with finite standard errors, found ${fit.converged ? 'no finite standard error for' : 'no convergence after ' + fit.iterations + ' iterations;'} ${unidentified.map((parameter) => parameter.name).join(', ')}: a column may be constant or collinear with another`,
      },
    ]);
  }
  // Price endogeneity (calibration/endogeneity.ts): with a cost column or several stores, the
  // control-function estimate beside the naive one; the scenario takes the one chosen.
  const instruments = priceInstruments(sales, periods.index);
  const endogeneity = instruments.length > 0 ? estimateEndogeneity({ design: fullDesign, naive: naiveFit, instruments, cluster: periods.index, fit: (data) => fitDemand(data, naiveFit.likelihood).fit }) : undefined;
  if (endogeneity) fit = endogeneity.chosenFit;

  let elasticity = 0;
  const promotions = new Float64Array(sales.promotions.length);
  const rivals = new Float64Array(sales.rivalPrices.length);
  for (let row = 0; row < sales.rows; row++) {
    sales.promotions.forEach((column, index) => (promotions[index] = column[row] ?? 0));
    sales.rivalPrices.forEach((column, index) => (rivals[index] = column[row] ?? 0));
    const price = sales.price[row] ?? 0;
    elasticity += -(fit.theta[1] ?? 0) * price * (1 - logitShare(fit.theta, price, promotions, rivals));
  }
  const meanElasticity = elasticity / sales.rows;
  const fittedLogMarketSize = logMarketSize.map((_, row) => rowLogMarketSize(fullDesign, fit.theta, row));
  const inSampleCoverage = predictiveCoverage(sales, fittedLogMarketSize, fit, () => true);
  const seconds = (performance.now() - started) / 1000;
  const calendarFit = calendar.names.length === 0 ? undefined : sales.traffic ? fitTrafficCalendar(sales, calendar, periodLength) : calendarFromDemandFit(fit, calendar);
  const calendarPlacement = placeCalendarEffects(sales, calendar, calendarFit);
  const { scenario, record } = buildScenario(sales, fit, { periodLength, multiple, holdout, meanElasticity, seconds, periods: distinct.length, options, poissonLogLikelihood: poisson.logLikelihood, inSampleCoverage, calendar: calendarPlacement });
  // Stockouts: the naive fit (stockout rows taken as exact demand) beside the censored one the scenario uses.
  if (fullDesign.censored) record.censoring = censoringRecord(sales, fullDesign.censored, fit.rowsUsed, fitDemand(demandDesign(withoutCensoring(fullDesign), { storeLogMarketSize: storeLogFull, censor: false }), options.likelihood ?? 'auto').fit, fit);
  // Returns: rate and lag distribution from a returns column into the returns block; without one, the default (none), listed.
  applyReturns(sales, periods.index, periodLength === 'week' ? 7 : 1, scenario, record);
  // Reference prices (calibration/reference-prices.ts): memory by profile likelihood, gain and loss; into the scenario only when the data support them.
  applyReferencePrices(scenario, record, estimateReferencePrices(fullDesign, periods.index, sales.store, { baseFit: poisson }), periodLength === 'week' ? 7 : 1);
  if (endogeneity) record.endogeneity = endogeneity.record;
  if (sales.traffic) record.invertedShares = estimateInvertedShares({ design: fullDesign, instruments, cluster: periods.index });
  const rows: CalibrationRows = { sales, period: periods.index, firstHoldoutPeriod: holdout ? distinct[holdout.trainingPeriods] : undefined, logMarketSize: fittedLogMarketSize };
  // Partial pooling across stores (calibration/pooling.ts), around the naive fit: the store fits take prices as given, as it does.
  const pooled = applyPooling(sales, logMarketSize.map((_, row) => rowLogMarketSize(fullDesign, naiveFit.theta, row)), naiveFit, periodLength === 'week' ? 7 : 1, options.pooling, { scenario, record });
  return { scenario: pooled.scenario, record: pooled.record, fit, holdout, meanElasticity, seconds, predictiveCoverage90: inSampleCoverage, rows, pooling: pooled.pooling };
}

/** Rows, price and regressor variation: what the model needs before a fit is worth trying. */
function checkIdentifiable(sales: SalesData, arrivalEffectCount: number): void {
  const problems: Problem[] = [];
  const parameters = parameterNames(sales.promotionNames, sales.rivalNames).length + arrivalEffectCount;
  const minimumRows = Math.max(20, 5 * parameters);
  if (sales.rows < minimumRows) {
    problems.push({ path: ['rows'], message: `expected at least ${minimumRows} rows for ${parameters} parameters, found ${sales.rows}` });
  }
  const varies = (values: Float64Array) => {
    let low = Number.POSITIVE_INFINITY;
    let high = Number.NEGATIVE_INFINITY;
    for (const value of values) {
      if (value < low) low = value;
      if (value > high) high = value;
    }
    return high - low > 1e-9 * Math.max(1, Math.abs(high));
  };
  if (!varies(sales.price)) problems.push({ path: [sales.map.price], message: `expected the price to vary (the price response is estimated from its variation), found ${sales.price[0]} in every row` });
  sales.promotions.forEach((column, index) => {
    if (!varies(column)) problems.push({ path: [sales.promotionNames[index] ?? ''], message: `expected the promotion column to vary, found ${column[0]} in every row: drop it from the map` });
  });
  sales.rivalPrices.forEach((column, index) => {
    if (!varies(column)) problems.push({ path: [sales.rivalNames[index] ?? ''], message: `expected the rival price to vary (its quality is estimated from it), found ${column[0]} in every row: drop it from the map` });
  });
  let units = 0;
  for (const value of sales.units) units += value;
  if (units <= 0) problems.push({ path: [sales.map.units ?? sales.map.logUnits ?? 'units'], message: 'expected some units sold, found 0 in every row' });
  if (problems.length > 0) throw configError(`${sales.source.path} cannot identify the demand model`, problems);
}

/** Period per row as 0, 1, 2, ... periods since the first (weeks for dated weekly data). */
function periodIndices(sales: SalesData, periodLength: PeriodLength): { index: Float64Array; first: number; last: number; numbering: PeriodNumbering } {
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
function setMarketSize(sales: SalesData, multiple: number, include: Uint8Array | undefined, out: Float64Array): Float64Array | undefined {
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

/**
 * The holdout: the model fitted on the training periods predicts units in the last periods
 * (from their prices, promotions, rival prices and market size). Baselines per series
 * (store): seasonal naive, the value one season before in the training part (season 7 days
 * or 52 weeks; the last training value when that period is missing), and the training mean.
 */
function scoreHoldout(
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

interface BuildContext {
  readonly periodLength: PeriodLength;
  readonly multiple: number;
  readonly holdout: HoldoutReport | undefined;
  readonly meanElasticity: number;
  readonly seconds: number;
  readonly periods: number;
  readonly options: CalibrateOptions;
  readonly poissonLogLikelihood: number;
  readonly inSampleCoverage: number;
  readonly calendar: CalendarPlacement;
}

function quantile(values: Float64Array, probability: number): number {
  const sorted = Float64Array.from(values).sort();
  const position = (sorted.length - 1) * probability;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return (sorted[low] ?? 0) + ((sorted[high] ?? 0) - (sorted[low] ?? 0)) * (position - low);
}

/** Smallest and largest value, without spreading (a spread of a million arguments overflows the stack). */
function extent(values: Float64Array): { low: number; high: number } {
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  for (const value of values) {
    if (value < low) low = value;
    if (value > high) high = value;
  }
  return { low, high };
}

function mean(values: Float64Array): number {
  let total = 0;
  for (const value of values) total += value;
  return total / Math.max(1, values.length);
}

const round = (value: number) => Number(value.toPrecision(6));

function slug(text: string): string {
  return text.toLowerCase().replace(/\.(csv|jsonl|ndjson)(\.gz)?$/, '').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'sales';
}

function formatPeriod(value: number, kind: SalesData['periodKind']): string | number {
  return kind === 'date' ? new Date(value * 86_400_000).toISOString().slice(0, 10) : value;
}

/** The largest typical move between consecutive periods of a rival price series (its median non-zero change). */
function typicalStep(values: Float64Array, fallback: number): number {
  const changes: number[] = [];
  for (let index = 1; index < values.length; index++) {
    const change = Math.abs((values[index] ?? 0) - (values[index - 1] ?? 0));
    if (change > 0) changes.push(change);
  }
  if (changes.length === 0) return fallback;
  changes.sort((left, right) => left - right);
  return changes[Math.floor(changes.length / 2)] ?? fallback;
}

function buildScenario(sales: SalesData, fit: LogitPoissonFit, context: BuildContext): { scenario: ScenarioInput; record: CalibrationRecord } {
  const daysPerPeriod = context.periodLength === 'week' ? 7 : 1;
  const { low: firstPeriod, high: lastPeriod } = extent(sales.period);
  const defaults: CalibrationRecord['defaults'] = [];
  const method =
    fit.likelihood === 'poisson'
      ? 'maximum likelihood: Poisson units with the logit mean (outside option), Newton-Raphson'
      : 'maximum likelihood: negative binomial (NB2) units with the logit mean (outside option), Newton-Raphson alternated with a golden-section search over the size';
  const estimate = (index: number, scenarioPath: string | undefined) => {
    const parameter = fit.parameters[index]!;
    return {
      parameter: parameter.name,
      ...(scenarioPath === undefined ? {} : { scenarioPath }),
      value: round(parameter.value),
      standardError: round(parameter.standardError),
      lower: round(parameter.lower),
      upper: round(parameter.upper),
      method: `${method}; ${fit.intervalMethod}`,
    };
  };

  const medianPrice = quantile(sales.price, 0.5);
  const { low: lowPrice, high: highPrice } = extent(sales.price);
  const unitCost = sales.cost ? mean(sales.cost) : medianPrice / 2;
  if (!sales.cost) defaults.push({ field: 'unitCost', value: round(unitCost), reason: 'no cost column: half the median price (a placeholder: set your own cost before trusting profits)' });

  let marketSizePerPeriod: number;
  if (sales.traffic) marketSizePerPeriod = mean(sales.traffic);
  else {
    marketSizePerPeriod = (context.multiple * mean(sales.units)) / 1;
    defaults.push({
      field: 'demand.segments[0].arrivalRate',
      value: round(marketSizePerPeriod / daysPerPeriod),
      reason: `no traffic column: the market per period is assumed to be ${context.multiple} x the store's mean units (the potential-market assumption); quality depends on it`,
    });
  }
  // With fitted weekday effects the market is base x exp(effect): its mean over the week.
  // With traffic, its mean holds the calendar multipliers the scenario applies again: divide them out.
  const arrivalScale = sales.traffic ? 1 / context.calendar.meanMultiplier : meanArrivalMultiplier(fit);
  const arrivalRate = (marketSizePerPeriod * arrivalScale) / daysPerPeriod;

  const promotionCount = sales.promotions.length;
  const rivalNames = sales.rivalNames.map((name, index) => {
    const base = slug(name);
    return sales.rivalNames.slice(0, index).some((other) => slug(other) === base) ? `${base}-${index + 1}` : base;
  });
  let competitorCount = 0;
  const identifiedRival = (index: number) => Number.isFinite(fit.parameters[2 + promotionCount + index]?.standardError ?? Number.NaN);
  sales.rivalNames.forEach((name, index) => {
    if (!identifiedRival(index)) {
      defaults.push({
        field: `rival ${name}`,
        value: 'left out',
        reason: `its quality is not identified (the fit pushes it towards minus infinity: ${round(fit.theta[2 + promotionCount + index] ?? 0)}, no information left): the data show no substitution towards it`,
      });
    }
  });
  // Each kept rival's strategy: every kind the simulator has, fitted and chosen by BIC (calibration/competitors.ts).
  const keptRivals = sales.rivalPrices.flatMap((_, index) => (identifiedRival(index) ? [index] : []));
  const strategyFits = fitCompetitorStrategies(sales, {
    periodLength: context.periodLength,
    rivals: keptRivals,
    names: keptRivals.map((index) => rivalNames[index] ?? `rival-${index + 1}`),
    demand: { quality: fit.theta[0] ?? 0, priceSensitivity: fit.theta[1] ?? 0, rivalQualities: sales.rivalPrices.map((_, index) => fit.theta[2 + promotionCount + index] ?? 0) },
  });
  const competitors = sales.rivalPrices.flatMap((column, index) => {
    if (!identifiedRival(index)) return [];
    const rivalMean = mean(column);
    let { low, high } = extent(column);
    if (high <= low) high = low * 1.01;
    low = round(low);
    high = Math.max(round(high), low * 1.0001);
    const rivalCost = (unitCost * rivalMean) / mean(sales.price);
    const position = competitorCount++;
    const strategyFit = strategyFits[position];
    const fitted = strategyFit ? scenarioCompetitorFields(strategyFit, { unitCost: round(rivalCost), daysPerPeriod }) : undefined;
    if (!fitted?.unitCostFitted) {
      const moved = fitted !== undefined && fitted.unitCost !== round(rivalCost);
      defaults.push({ field: `competitors[${position}].unitCost`, value: fitted?.unitCost ?? round(rivalCost), reason: `rival costs are not observed: our unit cost scaled by the rival's mean price over ours${moved ? `, moved so that unitCost x (1 + floorMargin) is the fitted floor of its ${fitted.strategy.kind} strategy` : ''}` });
    }
    if (!fitted) {
      defaults.push({
        field: `competitors[${position}].strategy`,
        value: 'random-walk',
        reason: `too few pairs of consecutive periods (${minimumTransitions} needed) to fit a strategy: a random walk over the observed price range with the median observed change as its step`,
      });
    }
    return [{
      name: rivalNames[index] ?? `rival-${index + 1}`,
      quality: round(fit.theta[2 + promotionCount + index] ?? 0),
      unitCost: fitted?.unitCost ?? round(rivalCost),
      initialPrice: round(Math.min(high, Math.max(low, rivalMean))),
      strategy: fitted?.strategy ?? { kind: 'random-walk' as const, step: round(typicalStep(column, (high - low) / 10)), min: low, max: high },
      latencyDays: fitted?.latencyDays ?? daysPerPeriod,
    }];
  });

  defaults.push({ field: 'demand.outsideUtility', value: 0, reason: 'utilities are identified up to location: the outside option is the zero' });
  defaults.push({ field: 'demand.segments[0].scale', value: 1, reason: 'utilities are identified up to scale: mu = 1, so quality and sensitivity are in units of mu' });
  defaults.push({ field: 'demand.segments', value: 'one segment', reason: 'not tested: give a customer choice panel (--panel) for latent classes, or --segment-test to test a second, price-sensitive segment from the sales (docs/calibration.md, Segments)' });
  if (promotionCount > 0) {
    defaults.push({ field: 'promotions', value: 'recorded only', reason: 'the scenario schema has no promotion calendar: the lifts are in calibration.estimates, the scenario prices without promotions' });
  }
  const weekdays = weekdayProfile(sales, context.periodLength) ?? weekdayProfileFromFit(fit, sales);
  if (!weekdays) defaults.push({ field: 'curves.dayOfWeek', value: 'none', reason: 'the weekday profile needs dated daily rows (read from traffic when given, else fitted as arrival effects)' });
  defaults.push(...context.calendar.defaults);

  const estimates: CalibrationRecord['estimates'] = [estimate(0, 'demand.quality'), estimate(1, 'demand.segments[0].priceSensitivity')];
  weekdays?.forEach((day, index) =>
    estimates.push({ parameter: `dayOfWeek:${weekdayNames[index]}`, scenarioPath: `curves.dayOfWeek[${index}]`, ...day, method: sales.traffic ? weekdayMethod : weekdayFitMethod }),
  );
  fit.parameters.forEach((parameter, index) => {
    if (parameter.name.startsWith('arrival:')) estimates.push(estimate(index, undefined));
  });
  estimates.push(...context.calendar.estimates);
  for (let index = 0; index < promotionCount; index++) estimates.push(estimate(2 + index, undefined));
  let position = 0;
  for (let index = 0; index < sales.rivalPrices.length; index++) {
    if (identifiedRival(index)) estimates.push(estimate(2 + promotionCount + index, `competitors[${position++}].quality`));
  }
  strategyFits.forEach((entry, index) => estimates.push(...(entry ? competitorEstimates(entry, index) : [])));
  if (fit.dispersionSize) {
    const { value, lower, upper } = fit.dispersionSize;
    estimates.push({
      parameter: 'dispersionSize',
      scenarioPath: 'demandShock.size',
      value: round(value),
      standardError: round(((Math.log(upper) - Math.log(lower)) / (2 * 1.959963984540054)) * value),
      lower: round(lower),
      upper: round(upper),
      method: `negative binomial size k (variance lambda + lambda^2 / k): maximum likelihood, interval from the curvature in log k (delta method for the standard error); simulated as a Gamma(k, 1/k) arrival shock held ${daysPerPeriod} day(s), one per period of the history`,
    });
  }

  const fileName = basename(sales.source.path);
  const scenarioId = context.options.scenarioId ?? `calibrated-${slug(fileName)}-v1`;
  const periodSpan = sales.periodKind === 'date' ? lastPeriod - firstPeriod + 1 : (lastPeriod - firstPeriod + 1) * daysPerPeriod;
  const record: CalibrationRecord = {
    method,
    source: {
      file: sales.source.path,
      sha256: sales.source.sha256,
      format: sales.source.format,
      rows: sales.rows,
      rowsRead: sales.rowsRead,
      firstPeriod: formatPeriod(firstPeriod, sales.periodKind),
      lastPeriod: formatPeriod(lastPeriod, sales.periodKind),
      periods: context.periods,
      periodLength: context.periodLength,
      stores: sales.storeNames.length,
      ...(sales.product === undefined ? {} : { product: sales.product }),
      columns: columnsOf(sales.map),
    },
    estimates,
    derived: [
      { name: 'meanOwnPriceElasticity', value: round(context.meanElasticity), method: 'mean over rows of -b p (1 - s), the logit elasticity at the fitted shares' },
      ...(fit.likelihood === 'negative-binomial'
        ? [{ name: 'likelihoodRatioAgainstPoisson', value: round(2 * (fit.logLikelihood - context.poissonLogLikelihood)), method: '2 (loglik NB - loglik Poisson); chi-square with 1 degree of freedom on the boundary (5% critical value 2.71)' }]
        : []),
      { name: 'arrivalRatePerDay', value: round(arrivalRate), method: sales.traffic ? 'mean traffic per period / days per period' : 'assumed potential market per period / days per period' },
    ],
    defaults,
    fit: {
      logLikelihood: round(fit.logLikelihood),
      iterations: fit.iterations,
      converged: fit.converged,
      dispersion: round(fit.dispersion),
      intervalMethod: fit.intervalMethod,
      predictiveCoverage90: round(context.inSampleCoverage),
      seconds: round(context.seconds),
    },
    ...(context.holdout ? { holdout: roundHoldout(context.holdout) } : {}),
    ...(strategyFits.some((entry) => entry !== undefined)
      ? { competitorStrategies: strategyFits.flatMap((entry, position) => (entry ? [competitorStrategyRecord(entry, competitors[position]?.name ?? entry.name)] : [])) }
      : {}),
  };

  const quality = fit.theta[0] ?? 0;
  const sensitivity = fit.theta[1] ?? 0;
  const scenario: ScenarioInput = {
    id: scenarioId,
    version: 1,
    description: `Calibrated from ${fileName}: ${sales.rows} rows, ${context.periods} ${context.periodLength}s${sales.product === undefined ? '' : `, product ${sales.product}`}, ${sales.storeNames.length} store(s)`,
    card: {
      models: `One product priced per day, demand fitted to a sales history (sha256 ${sales.source.sha256.slice(0, 12)}...): logit with an outside option, quality ${round(quality)}, price sensitivity ${round(sensitivity)} per currency unit (mean own-price elasticity ${round(context.meanElasticity)}), ${sales.rivalPrices.length} rival(s), about ${round(arrivalRate)} arrivals per day. Every estimate, its 95% interval and method, and every default are in the calibration block.`,
      purpose: 'A market measured against a shop\'s own history, for training and comparing pricing policies on it before they meet real customers.',
      sources: [`${fileName} (sha256 ${sales.source.sha256})`, 'pricelab calibrate (docs/calibration.md)'],
    },
    startDate: sales.periodKind === 'date' ? new Date(firstPeriod * 86_400_000).toISOString().slice(0, 10) : '2026-01-01',
    horizonDays: Math.max(1, Math.min(3650, periodSpan)),
    objective: { kind: 'profit' },
    unitCost: round(unitCost),
    listPrice: round(medianPrice),
    priceLadder: { kind: 'range', min: round(lowPrice), max: Math.max(round(highPrice), round(lowPrice) * 1.0001), count: 15 },
    demand: {
      kind: 'logit',
      quality: round(quality),
      outsideUtility: 0,
      segments: [{ name: 'calibrated', arrivalRate: round(arrivalRate), priceSensitivity: round(sensitivity), scale: 1, ...(context.calendar.segmentWeather ? { weather: context.calendar.segmentWeather } : {}) }],
    },
    ...(fit.dispersionSize ? { demandShock: { size: Math.min(1e8, round(fit.dispersionSize.value)), periodDays: daysPerPeriod } } : {}),
    competitors,
    ...(weekdays || Object.keys(context.calendar.curves).length > 0 ? { curves: { ...context.calendar.curves, ...(weekdays ? { dayOfWeek: weekdays.map((day) => day.value) } : {}) } } : {}),
    ...(context.calendar.festivals.length > 0 ? { festivals: context.calendar.festivals } : {}),
    ...(context.calendar.weather ? { weather: context.calendar.weather } : {}),
    calibration: record,
  };
  if (sales.periodKind !== 'date') defaults.push({ field: 'startDate', value: '2026-01-01', reason: 'the history has period numbers, not dates' });
  if (context.options.seed !== undefined) scenario.card.sources?.push(`seed ${context.options.seed}`);
  return { scenario, record };
}

const weekdayNames = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'] as const;
const weekdayMethod =
  'mean traffic on the weekday over the mean of the seven weekday means (the arrival multiplier the simulator applies, averaging 1); interval: the weekday mean +- 1.96 standard errors, over the same denominator';

/**
 * The day-of-week arrival profile, Monday first, from the traffic of dated daily rows: the
 * simulator multiplies arrivals by it, and traffic is arrivals. Undefined without traffic,
 * dates or daily periods, or with fewer than two rows on some weekday.
 */
function weekdayProfile(sales: SalesData, periodLength: PeriodLength): { value: number; standardError: number; lower: number; upper: number }[] | undefined {
  const traffic = sales.traffic;
  if (!traffic || sales.periodKind !== 'date' || periodLength !== 'day') return undefined;
  const count = new Float64Array(7);
  const sum = new Float64Array(7);
  const squares = new Float64Array(7);
  for (let row = 0; row < sales.rows; row++) {
    // Day 0 (1970-01-01) was a Thursday: Monday-first index (day + 3) mod 7.
    const weekday = ((((sales.period[row] ?? 0) + 3) % 7) + 7) % 7;
    const value = traffic[row] ?? 0;
    count[weekday] = (count[weekday] ?? 0) + 1;
    sum[weekday] = (sum[weekday] ?? 0) + value;
    squares[weekday] = (squares[weekday] ?? 0) + value * value;
  }
  if (count.some((rows) => rows < 2)) return undefined;
  const means = Array.from(sum, (total, weekday) => total / (count[weekday] ?? 1));
  const overall = means.reduce((total, value) => total + value, 0) / 7;
  if (!(overall > 0)) return undefined;
  return means.map((weekdayMean, weekday) => {
    const rows = count[weekday] ?? 1;
    const variance = Math.max(0, ((squares[weekday] ?? 0) - rows * weekdayMean * weekdayMean) / (rows - 1));
    const standardError = Math.sqrt(variance / rows) / overall;
    const value = weekdayMean / overall;
    return { value: round(value), standardError: round(standardError), lower: round(Math.max(1e-6, value - 1.959963984540054 * standardError)), upper: round(value + 1.959963984540054 * standardError) };
  });
}

const weekdayFitMethod =
  'exp(arrival effect) of the weekday (Monday 0) over the mean of the seven, from the same maximum-likelihood fit (no traffic column); interval: exp of the effect\'s Wald interval over the same denominator (Monday, the baseline, has none: its interval is its value)';

/** Weekday levels for arrival effects (Monday the baseline) when dated daily rows have no traffic column to carry them. */
function weekdayArrivalEffects(sales: SalesData, periodLength: PeriodLength): LogitPoissonData['arrivalEffects'] {
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

function arrivalEffectsOf(fit: LogitPoissonFit): { value: number; lower: number; upper: number; standardError: number }[] | undefined {
  const effects = fit.parameters.filter((parameter) => parameter.name.startsWith('arrival:'));
  if (effects.length !== 6) return undefined;
  return [{ value: 0, lower: 0, upper: 0, standardError: 0 }, ...effects.map((effect) => ({ value: effect.value, lower: effect.lower, upper: effect.upper, standardError: effect.standardError }))];
}

function meanArrivalMultiplier(fit: LogitPoissonFit): number {
  const effects = arrivalEffectsOf(fit);
  return effects ? effects.reduce((total, effect) => total + Math.exp(effect.value), 0) / 7 : 1;
}

/** The weekday profile from fitted arrival effects: exp(effect) over the mean of the seven, Monday first. */
function weekdayProfileFromFit(fit: LogitPoissonFit, sales: SalesData): { value: number; standardError: number; lower: number; upper: number }[] | undefined {
  const effects = arrivalEffectsOf(fit);
  if (!effects || sales.traffic) return undefined;
  const scale = meanArrivalMultiplier(fit);
  return effects.map((effect) => ({
    value: round(Math.exp(effect.value) / scale),
    standardError: round((Math.exp(effect.value) * effect.standardError) / scale),
    lower: round(Math.exp(effect.lower) / scale),
    upper: round(Math.exp(effect.upper) / scale),
  }));
}

function roundHoldout(holdout: HoldoutReport): HoldoutReport {
  const roundAll = (values: HoldoutReport['wape']) => ({ model: round(values.model), seasonalNaive: round(values.seasonalNaive), mean: round(values.mean) });
  return { ...holdout, wape: roundAll(holdout.wape), mape: roundAll(holdout.mape), predictiveCoverage90: round(holdout.predictiveCoverage90) };
}

/**
 * The predictive check: the share of the chosen rows whose units fall inside the central 90%
 * band of the fitted law at that row (Poisson, or negative binomial with the fitted size,
 * around the mean M_t s_t from the row's own prices, promotions, rival prices and market
 * size): the calibrated market replayed under the historical prices. About 0.9 when the law
 * fits; far below when counts are more dispersed than it allows. Parameter uncertainty is
 * not included (a plug-in band).
 */
function predictiveCoverage(sales: SalesData, logMarketSize: Float64Array, fit: LogitPoissonFit, chosen: (row: number) => boolean): number {
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

function columnsOf(map: ColumnMap): CalibrationRecord['source']['columns'] {
  const columns: CalibrationRecord['source']['columns'] = {};
  for (const [key, value] of Object.entries(map)) {
    if (value === undefined) continue;
    if (Array.isArray(value) && value.length === 0) continue;
    if (key === 'filter' && Object.keys(value as object).length === 0) continue;
    columns[key] = value as string;
  }
  return columns;
}
