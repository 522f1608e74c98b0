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
 *
 * Here: the order of work, the identifiability check, and the fits. Period numbers and
 * market sizes are in calibration/market-size.ts, the holdout and predictive coverage in
 * calibration/holdout.ts, the scenario and its record in calibration/calibrated-scenario.ts.
 *
 * Nothing is written here: the caller writes the scenario atomically (cli/commands/calibrate.ts).
 */
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
import { calendarDesign, calendarFromDemandFit, fitTrafficCalendar, placeCalendarEffects } from './calendar-effects.js';
import { censoringRecord, salesDesign, withoutCensoring } from './censoring.js';
import { applyReturns } from './returns.js';
import { blockedSalesDesign, type DesignRules } from './design-blocks.js';
import { periodIndices, setMarketSize, weekdayArrivalEffects, type PeriodLength } from './market-size.js';
import { predictiveCoverage, scoreHoldout, type HoldoutReport } from './holdout.js';
import { buildScenario } from './calibrated-scenario.js';

export type { PeriodLength } from './market-size.js';
export type { HoldoutReport } from './holdout.js';
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
