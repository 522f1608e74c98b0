/**
 * Card: the calibrated scenario and its `calibration` record, built from the final demand
 * fit of calibration/calibrate.ts: prices, cost and market from the history (with every
 * assumption listed among the defaults), the identified rivals with their fitted strategies
 * (calibration/competitors.ts), the day-of-week profile (from traffic, or from the fitted
 * weekday arrival effects), the calendar placement, the negative binomial demand shock, and
 * every estimate with its interval and method.
 */
import { basename } from 'node:path';
import type { CalibrationRecord } from '../scenarios/calibration-record.js';
import type { ScenarioInput } from '../scenarios/schema.js';
import type { CalibrateOptions } from './calibrate.js';
import type { ColumnMap } from './column-map.js';
import type { LogitPoissonFit } from './logit-poisson.js';
import type { SalesData } from './reader.js';
import { competitorEstimates, competitorStrategyRecord, fitCompetitorStrategies, minimumTransitions, scenarioCompetitorFields } from './competitors.js';
import type { CalendarPlacement } from './calendar-effects.js';
import type { HoldoutReport } from './holdout.js';
import { weekdayNames, type PeriodLength } from './market-size.js';
import { blockQuantile } from './block-statistics.js';
import { salesBlocks } from './sales-blocks.js';

export interface BuildContext {
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
  /** The history with whole columns (reader.ts, wholeColumns), for the competitor fits that still index rows; `sales` when absent. */
  readonly wholeSales?: SalesData;
}

/** Running sum, count, smallest and largest value of a column. */
class Summary {
  total = 0;
  count = 0;
  low = Number.POSITIVE_INFINITY;
  high = Number.NEGATIVE_INFINITY;
  add(value: number): void {
    this.total += value;
    this.count++;
    if (value < this.low) this.low = value;
    if (value > this.high) this.high = value;
  }
  get mean(): number {
    return this.total / Math.max(1, this.count);
  }
}

/** What the scenario takes from the rows: each column's sum, extent and count, and the traffic per weekday, in one pass over the blocks. */
function historyFigures(sales: SalesData) {
  const period = new Summary();
  const price = new Summary();
  const units = new Summary();
  const cost = new Summary();
  const traffic = new Summary();
  const rivals = sales.rivalNames.map(() => new Summary());
  const weekdayTraffic = { count: new Float64Array(7), sum: new Float64Array(7), squares: new Float64Array(7) };
  for (const block of salesBlocks(sales)) {
    for (let row = 0; row < block.rows; row++) {
      period.add(block.period[row] ?? 0);
      price.add(block.price[row] ?? 0);
      units.add(block.units[row] ?? 0);
      if (block.cost) cost.add(block.cost[row] ?? 0);
      for (let index = 0; index < rivals.length; index++) rivals[index]?.add(block.rivalPrices[index]?.[row] ?? 0);
      if (block.traffic) {
        const value = block.traffic[row] ?? 0;
        traffic.add(value);
        // Day 0 (1970-01-01) was a Thursday: Monday-first index (day + 3) mod 7.
        const weekday = ((((block.period[row] ?? 0) + 3) % 7) + 7) % 7;
        weekdayTraffic.count[weekday] = (weekdayTraffic.count[weekday] ?? 0) + 1;
        weekdayTraffic.sum[weekday] = (weekdayTraffic.sum[weekday] ?? 0) + value;
        weekdayTraffic.squares[weekday] = (weekdayTraffic.squares[weekday] ?? 0) + value * value;
      }
    }
  }
  return { period, price, units, cost, traffic, rivals, weekdayTraffic };
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

export function buildScenario(sales: SalesData, fit: LogitPoissonFit, context: BuildContext): { scenario: ScenarioInput; record: CalibrationRecord } {
  const daysPerPeriod = context.periodLength === 'week' ? 7 : 1;
  const figures = historyFigures(sales);
  const { low: firstPeriod, high: lastPeriod } = figures.period;
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

  const medianPrice = blockQuantile(sales, (block) => block.price, 0.5);
  const { low: lowPrice, high: highPrice } = figures.price;
  const hasCost = sales.map.cost !== undefined;
  const hasTraffic = sales.map.traffic !== undefined;
  const unitCost = hasCost ? figures.cost.mean : medianPrice / 2;
  if (!hasCost) defaults.push({ field: 'unitCost', value: round(unitCost), reason: 'no cost column: half the median price (a placeholder: set your own cost before trusting profits)' });

  let marketSizePerPeriod: number;
  if (hasTraffic) marketSizePerPeriod = figures.traffic.mean;
  else {
    marketSizePerPeriod = (context.multiple * figures.units.mean) / 1;
    defaults.push({
      field: 'demand.segments[0].arrivalRate',
      value: round(marketSizePerPeriod / daysPerPeriod),
      reason: `no traffic column: the market per period is assumed to be ${context.multiple} x the store's mean units (the potential-market assumption); quality depends on it`,
    });
  }
  // With fitted weekday effects the market is base x exp(effect): its mean over the week.
  // With traffic, its mean holds the calendar multipliers the scenario applies again: divide them out.
  const arrivalScale = hasTraffic ? 1 / context.calendar.meanMultiplier : meanArrivalMultiplier(fit);
  const arrivalRate = (marketSizePerPeriod * arrivalScale) / daysPerPeriod;

  const promotionCount = sales.promotionNames.length;
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
  const keptRivals = sales.rivalNames.flatMap((_, index) => (identifiedRival(index) ? [index] : []));
  // calibration/competitors.ts still indexes whole columns: it gets the history's whole-column view (reader.ts, wholeColumns).
  const strategyFits = fitCompetitorStrategies(context.wholeSales ?? sales, {
    periodLength: context.periodLength,
    rivals: keptRivals,
    names: keptRivals.map((index) => rivalNames[index] ?? `rival-${index + 1}`),
    demand: { quality: fit.theta[0] ?? 0, priceSensitivity: fit.theta[1] ?? 0, rivalQualities: sales.rivalNames.map((_, index) => fit.theta[2 + promotionCount + index] ?? 0) },
  });
  const competitors = sales.rivalNames.flatMap((_, index) => {
    if (!identifiedRival(index)) return [];
    const rivalFigures = figures.rivals[index] as Summary;
    const rivalMean = rivalFigures.mean;
    let { low, high } = rivalFigures;
    if (high <= low) high = low * 1.01;
    low = round(low);
    high = Math.max(round(high), low * 1.0001);
    const rivalCost = (unitCost * rivalMean) / figures.price.mean;
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
      // Without a fitted strategy (too few pairs: a short history), the median change of the whole series.
      strategy: fitted?.strategy ?? { kind: 'random-walk' as const, step: round(typicalStep((context.wholeSales ?? sales).rivalPrices[index] ?? new Float64Array(0), (high - low) / 10)), min: low, max: high },
      latencyDays: fitted?.latencyDays ?? daysPerPeriod,
    }];
  });

  defaults.push({ field: 'demand.outsideUtility', value: 0, reason: 'utilities are identified up to location: the outside option is the zero' });
  defaults.push({ field: 'demand.segments[0].scale', value: 1, reason: 'utilities are identified up to scale: mu = 1, so quality and sensitivity are in units of mu' });
  defaults.push({ field: 'demand.segments', value: 'one segment', reason: 'not tested: give a customer choice panel (--panel) for latent classes, or --segment-test to test a second, price-sensitive segment from the sales (docs/calibration.md, Segments)' });
  if (promotionCount > 0) {
    defaults.push({ field: 'promotions', value: 'recorded only', reason: 'the scenario schema has no promotion calendar: the lifts are in calibration.estimates, the scenario prices without promotions' });
  }
  const weekdays = weekdayProfile(sales, figures.weekdayTraffic, context.periodLength) ?? weekdayProfileFromFit(fit, sales);
  if (!weekdays) defaults.push({ field: 'curves.dayOfWeek', value: 'none', reason: 'the weekday profile needs dated daily rows (read from traffic when given, else fitted as arrival effects)' });
  defaults.push(...context.calendar.defaults);

  const estimates: CalibrationRecord['estimates'] = [estimate(0, 'demand.quality'), estimate(1, 'demand.segments[0].priceSensitivity')];
  weekdays?.forEach((day, index) =>
    estimates.push({ parameter: `dayOfWeek:${weekdayNames[index]}`, scenarioPath: `curves.dayOfWeek[${index}]`, ...day, method: hasTraffic ? weekdayMethod : weekdayFitMethod }),
  );
  fit.parameters.forEach((parameter, index) => {
    if (parameter.name.startsWith('arrival:')) estimates.push(estimate(index, undefined));
  });
  estimates.push(...context.calendar.estimates);
  for (let index = 0; index < promotionCount; index++) estimates.push(estimate(2 + index, undefined));
  let position = 0;
  for (let index = 0; index < sales.rivalNames.length; index++) {
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
      { name: 'arrivalRatePerDay', value: round(arrivalRate), method: hasTraffic ? 'mean traffic per period / days per period' : 'assumed potential market per period / days per period' },
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
      models: `One product priced per day, demand fitted to a sales history (sha256 ${sales.source.sha256.slice(0, 12)}...): logit with an outside option, quality ${round(quality)}, price sensitivity ${round(sensitivity)} per currency unit (mean own-price elasticity ${round(context.meanElasticity)}), ${sales.rivalNames.length} rival(s), about ${round(arrivalRate)} arrivals per day. Every estimate, its 95% interval and method, and every default are in the calibration block.`,
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

const weekdayMethod =
  'mean traffic on the weekday over the mean of the seven weekday means (the arrival multiplier the simulator applies, averaging 1); interval: the weekday mean +- 1.96 standard errors, over the same denominator';

/**
 * The day-of-week arrival profile, Monday first, from the traffic of dated daily rows: the
 * simulator multiplies arrivals by it, and traffic is arrivals. Undefined without traffic,
 * dates or daily periods, or with fewer than two rows on some weekday.
 */
function weekdayProfile(
  sales: SalesData,
  { count, sum, squares }: { readonly count: Float64Array; readonly sum: Float64Array; readonly squares: Float64Array },
  periodLength: PeriodLength,
): { value: number; standardError: number; lower: number; upper: number }[] | undefined {
  if (sales.map.traffic === undefined || sales.periodKind !== 'date' || periodLength !== 'day') return undefined;
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
  if (!effects || sales.map.traffic !== undefined) return undefined;
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
