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
 * Memory: every pass here reads the history block by block (calibration/sales-blocks.ts,
 * design-blocks.ts), so what the calibration keeps is per store, per period or per parameter,
 * not per row, and it never reads a whole column of `sales` (tests/calibration/streaming.test.ts
 * holds it to that through ScratchBlocks.materialized). The estimators read blocks too
 * (calibration/block-passes.ts; tests/calibration/estimator-blocks.test.ts). Only the report
 * (a chart point per row), `historical:` and a short history's random-walk step read whole
 * columns, made on first use.
 *
 * Nothing is written here: the caller writes the scenario atomically (cli/commands/calibrate.ts).
 */
import { performance } from 'node:perf_hooks';
import { configError, type Problem } from '../core/errors.js';
import type { CalibrationRecord } from '../scenarios/calibration-record.js';
import type { ScenarioInput } from '../scenarios/schema.js';
import type { ColumnMap } from './column-map.js';
import { fitLogitNegativeBinomial, fitLogitPoisson, logitShare, parameterNames, rowLogMarketSize, rowOf, type DemandData, type LogitPoissonFit } from './logit-poisson.js';
import { applyPooling, type PoolingOptions, type PoolingResult } from './pooling.js';
import { readSales, releaseSales, type SalesData } from './reader.js';
import { perBlockLogMarketSize, periodNumbers } from './block-passes.js';
import { estimateEndogeneity, priceInstruments } from './endogeneity.js';
import { estimateInvertedShares } from './inverted-shares.js';
import { estimateReferencePrices } from './reference-prices.js';
import { applyReferencePrices } from './reference-price-scenario.js';
import { calendarDesign, calendarFromDemandFit, fitTrafficCalendar, placeCalendarEffects } from './calendar-effects.js';
import { censoringRecord, countCensoredRows } from './censoring.js';
import { applyReturns } from './returns.js';
import { blockedSalesDesign, salesDesignBlocks, type DesignRules, type PeriodNumbering } from './design-blocks.js';
import { distinctPeriods, periodIndices, periodNumbering, storeLogMarketSize, streamedPeriodNumbers, weekdayArrivalNames, type PeriodLength } from './market-size.js';
import { salesBlocks } from './sales-blocks.js';
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
  /** Each row's period as 0, 1, 2, ... periods since the first: a whole per-row column, computed when read (the calibration itself never reads it). */
  readonly period: Float64Array;
  /** The first held-out period (same numbering); undefined without a holdout. */
  readonly firstHoldoutPeriod: number | undefined;
  /** Each row's log market size under the final fit (its arrival effects included): the mean is exp(this) x share. A whole per-row column, computed when read. */
  readonly logMarketSize: Float64Array;
  /** How each row's period number is made (periodNumber in design-blocks.ts), for passes over the blocks. */
  readonly numbering: PeriodNumbering;
  /** The final fit's design rules: salesDesignBlocks(sales, rules) gives each block's rows with their market sizes (rowLogMarketSize under the fit's theta). */
  readonly rules: DesignRules;
}

/** Each row's log market size under `theta` by the design `rules` (arrival effects and covariates included), as a whole per-row column. */
export function logMarketSizeColumn(sales: SalesData, rules: DesignRules, theta: Float64Array): Float64Array {
  const out = new Float64Array(sales.rows);
  for (const { block, data } of salesDesignBlocks(sales, rules)) for (let row = 0; row < block.rows; row++) out[block.start + row] = rowLogMarketSize(data, theta, row);
  return out;
}

/** A value computed on first use and kept. */
function once<Value>(compute: () => Value): () => Value {
  let value: { readonly value: Value } | undefined;
  return () => (value ??= { value: compute() }).value;
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
  const likelihood = options.likelihood ?? 'auto';
  const hasTraffic = sales.map.traffic !== undefined;
  // Every pass below reads the rows block by block (calibration/sales-blocks.ts): what is kept is per
  // store, per period or per parameter, never per row.
  // Festival windows, season, weather (calibration/calendar-effects.ts): arrival covariates of the fit, or fitted to the traffic.
  const calendar = calendarDesign(sales, periodLength);
  const calendarCovariates = hasTraffic || calendar.names.length === 0 ? undefined : { names: calendar.names, fillBlock: calendar.fillBlock };
  const weekdayEffectNames = weekdayArrivalNames(sales, periodLength);
  checkIdentifiable(sales, (weekdayEffectNames?.length ?? 0) + (calendarCovariates?.names.length ?? 0));

  const { numbering } = periodNumbering(sales, periodLength);
  const distinct = distinctPeriods(sales, numbering);
  const rulesFor = (storeLog: Float64Array | undefined, extra: Partial<DesignRules> = {}): DesignRules => ({ storeLogMarketSize: storeLog, numbering, weekdayNames: weekdayEffectNames, arrivalCovariates: calendarCovariates, censor: true, ...extra });

  let holdout: HoldoutReport | undefined;
  if (holdoutFraction > 0) {
    const trainingCount = Math.floor(distinct.length * (1 - holdoutFraction));
    if (trainingCount < 2 || distinct.length - trainingCount < 1) {
      throw configError('too few periods for the holdout', [{ path: ['holdout'], message: `expected at least 2 training periods and 1 holdout period, found ${distinct.length} periods with holdout ${holdoutFraction}` }]);
    }
    const firstHoldout = distinct[trainingCount] ?? Number.POSITIVE_INFINITY;
    const trainingRules = rulesFor(storeLogMarketSize(sales, multiple, firstHoldout, numbering), { includeBefore: firstHoldout });
    const trainingFit = fitDemand(blockedSalesDesign(sales, trainingRules), likelihood).fit;
    holdout = scoreHoldout(sales, trainingRules, trainingFit, periodLength, holdoutFraction, trainingCount, distinct.length - trainingCount);
  }

  const storeLogFull = storeLogMarketSize(sales, multiple, undefined, numbering);
  const fullRules = rulesFor(storeLogFull);
  const { fit: naiveFit, poisson } = fitDemand(blockedSalesDesign(sales, fullRules), likelihood);
  let fit = naiveFit;
  // A rival whose quality the data cannot place (pushed towards minus infinity) is left out
  // of the scenario and listed among the defaults; any other unidentified parameter is an error.
  const rivalOffset = 2 + sales.promotionNames.length;
  const isRival = (index: number) => index >= rivalOffset && index < rivalOffset + sales.rivalNames.length;
  const unidentified = fit.parameters.filter((parameter, index) => !isRival(index) && !Number.isFinite(parameter.standardError));
  if (unidentified.length > 0 || !fit.converged) {
    throw configError('the demand model is not identified by this history', [
      {
        path: ['fit'],
        message: `expected a converged fit with finite standard errors, found ${fit.converged ? 'no finite standard error for' : 'no convergence after ' + fit.iterations + ' iterations;'} ${unidentified.map((parameter) => parameter.name).join(', ')}: a column may be constant or collinear with another`,
      },
    ]);
  }
  // The estimators read the blocks too (calibration/block-passes.ts): the full design block by block, per-row inputs made per block.
  const fullDesign = () => blockedSalesDesign(sales, fullRules);
  // Price endogeneity (calibration/endogeneity.ts): with a cost column or several stores, the
  // control-function estimate beside the naive one; the scenario takes the one chosen.
  const instruments = priceInstruments(sales, periodNumbers(numbering));
  const endogeneity = instruments.length > 0 ? estimateEndogeneity({ design: fullDesign(), naive: naiveFit, instruments, cluster: periodNumbers(numbering), fit: (data) => fitDemand(data, naiveFit.likelihood).fit, sales }) : undefined;
  if (endogeneity) fit = endogeneity.chosenFit;

  const meanElasticity = meanOwnPriceElasticity(sales, fit.theta);
  const inSampleCoverage = predictiveCoverage(sales, fullRules, fit, () => true);
  const seconds = (performance.now() - started) / 1000;
  const calendarFit = calendar.names.length === 0 ? undefined : hasTraffic ? fitTrafficCalendar(sales, calendar, periodLength) : calendarFromDemandFit(fit, calendar);
  const calendarPlacement = placeCalendarEffects(sales, calendar, calendarFit);
  const { scenario, record } = buildScenario(sales, fit, { periodLength, multiple, holdout, meanElasticity, seconds, periods: distinct.length, options, poissonLogLikelihood: poisson.logLikelihood, inSampleCoverage, calendar: calendarPlacement });
  // Stockouts: the naive fit (stockout rows taken as exact demand) beside the censored one the scenario uses.
  const censoredCount = countCensoredRows(sales);
  if (censoredCount > 0) record.censoring = censoringRecord(sales, censoredCount, fit.rowsUsed, fitDemand(blockedSalesDesign(sales, { ...fullRules, censor: false }), likelihood).fit, fit);
  // Returns: rate and lag distribution from a returns column into the returns block; without one, the default (none), listed.
  applyReturns(sales, periodNumbers(numbering), periodLength === 'week' ? 7 : 1, scenario, record);
  // Reference prices (calibration/reference-prices.ts): memory by profile likelihood, gain and loss; into the scenario only when the data support them.
  applyReferencePrices(scenario, record, estimateReferencePrices(fullDesign(), periodNumbers(numbering), (block) => block.store, { baseFit: poisson, sales }), periodLength === 'week' ? 7 : 1);
  if (endogeneity) record.endogeneity = endogeneity.record;
  if (hasTraffic) record.invertedShares = estimateInvertedShares({ design: blockedSalesDesign(sales, fullRules), instruments, cluster: streamedPeriodNumbers(sales, numbering), sales });
  const finalTheta = fit.theta;
  const period = once(() => periodIndices(sales, periodLength).index);
  const logMarketSize = once(() => logMarketSizeColumn(sales, fullRules, finalTheta));
  const rows: CalibrationRows = {
    sales,
    get period() {
      return period();
    },
    firstHoldoutPeriod: holdout ? distinct[holdout.trainingPeriods] : undefined,
    get logMarketSize() {
      return logMarketSize();
    },
    numbering,
    rules: fullRules,
  };
  // Partial pooling across stores (calibration/pooling.ts), around the naive fit: the store fits take prices as given, as it does.
  const pooled = applyPooling(sales, perBlockLogMarketSize(fullDesign(), sales, naiveFit.theta), naiveFit, periodLength === 'week' ? 7 : 1, options.pooling, { scenario, record });
  return { scenario: pooled.scenario, record: pooled.record, fit, holdout, meanElasticity, seconds, predictiveCoverage90: inSampleCoverage, rows, pooling: pooled.pooling };
}

/** Mean over rows of the logit own-price elasticity -b p (1 - s), one pass over the blocks. */
function meanOwnPriceElasticity(sales: SalesData, theta: Float64Array): number {
  let elasticity = 0;
  const promotions = new Float64Array(sales.promotionNames.length);
  const rivals = new Float64Array(sales.rivalNames.length);
  for (const block of salesBlocks(sales)) {
    for (let row = 0; row < block.rows; row++) {
      rowOf(block.promotions, row, promotions);
      rowOf(block.rivalPrices, row, rivals);
      const price = block.price[row] ?? 0;
      elasticity += -(theta[1] ?? 0) * price * (1 - logitShare(theta, price, promotions, rivals));
    }
  }
  return elasticity / sales.rows;
}

/** Rows, price and regressor variation: what the model needs before a fit is worth trying (one pass over the blocks). */
function checkIdentifiable(sales: SalesData, arrivalEffectCount: number): void {
  const problems: Problem[] = [];
  const parameters = parameterNames(sales.promotionNames, sales.rivalNames).length + arrivalEffectCount;
  const minimumRows = Math.max(20, 5 * parameters);
  if (sales.rows < minimumRows) {
    problems.push({ path: ['rows'], message: `expected at least ${minimumRows} rows for ${parameters} parameters, found ${sales.rows}` });
  }
  /** Smallest, largest and first value of a column. */
  class Range {
    low = Number.POSITIVE_INFINITY;
    high = Number.NEGATIVE_INFINITY;
    first: number | undefined;
    add(value: number): void {
      this.first ??= value;
      if (value < this.low) this.low = value;
      if (value > this.high) this.high = value;
    }
    get varies(): boolean {
      return this.high - this.low > 1e-9 * Math.max(1, Math.abs(this.high));
    }
  }
  const price = new Range();
  const promotions = sales.promotionNames.map(() => new Range());
  const rivals = sales.rivalNames.map(() => new Range());
  let units = 0;
  for (const block of salesBlocks(sales)) {
    for (let row = 0; row < block.rows; row++) {
      price.add(block.price[row] ?? 0);
      for (let index = 0; index < promotions.length; index++) promotions[index]?.add(block.promotions[index]?.[row] ?? 0);
      for (let index = 0; index < rivals.length; index++) rivals[index]?.add(block.rivalPrices[index]?.[row] ?? 0);
      units += block.units[row] ?? 0;
    }
  }
  if (!price.varies) problems.push({ path: [sales.map.price], message: `expected the price to vary (the price response is estimated from its variation), found ${price.first} in every row` });
  promotions.forEach((range, index) => {
    if (!range.varies) problems.push({ path: [sales.promotionNames[index] ?? ''], message: `expected the promotion column to vary, found ${range.first} in every row: drop it from the map` });
  });
  rivals.forEach((range, index) => {
    if (!range.varies) problems.push({ path: [sales.rivalNames[index] ?? ''], message: `expected the rival price to vary (its quality is estimated from it), found ${range.first} in every row: drop it from the map` });
  });
  if (units <= 0) problems.push({ path: [sales.map.units ?? sales.map.logUnits ?? 'units'], message: 'expected some units sold, found 0 in every row' });
  if (problems.length > 0) throw configError(`${sales.source.path} cannot identify the demand model`, problems);
}
