/**
 * Card: the calibration report (`pricelab calibrate --report calibration.html`).
 *
 * What it shows, from a CalibrationResult (calibration/calibrate.ts):
 *   observed-fitted        units per period, observed and fitted (the final fit's mean
 *                          M_t s_t), summed over stores; the held-out periods shaded
 *   price-response         expected units and expected profit over the observed price range
 *                          (the mean over the history's rows of M_t s_t(p), each row keeping
 *                          its promotions, rival prices and market size), with a 95% band by
 *                          the delta method from the fit's covariance, over the observed rows
 *   residuals              Pearson residuals (y - m) / sqrt(V(m)) against the fitted mean and
 *                          against time, and their histogram beside the standard normal
 *   holdout                WAPE and MAPE of the model, seasonal naive and the mean on the
 *                          held-out periods (CalibrationResult.holdout)
 *   posterior-predictive   the calibrated scenario SIMULATED by env/ under the historical
 *                          prices, promotions and rival prices, once per parameter draw from
 *                          the fit's normal approximation; observed units against the central
 *                          90% band of the simulated units, and the coverage
 *
 * Posterior-predictive check, method: `draws` parameter vectors (default 200; fewer on long
 * histories, so that draws x rows stays within 20 million, at least 20) theta_d ~ N(theta_hat, Cov)
 * (Cholesky of the covariance of the identified parameters; standard normals by Box-Muller
 * from the seeded stream (seed, 'posterior-predictive')). For each draw and store the scenario
 * is copied with its quality, price sensitivity and rival qualities moved by theta_d -
 * theta_hat, its arrival rate scaled by the store's mean market size over the all-rows mean
 * (one store: the scenario as written), built with buildMarketModel and run by
 * MarketSimulation.stepPrices day by day over the history (stream seed
 * `ppc:<seed>:<draw>:<store>`): our price is the row's price, each competitor named after a
 * rival column posts that column's price, a competitor with no column follows its strategy.
 * The scenario has no promotion calendar, so a row's promotions enter as the price that
 * gives our offer the same utility, p - sum_m gamma_m z_m / b (exact for the one-segment
 * logit; the simulator's units depend on the price only through that utility). Units are
 * the simulator's units sold (Poisson thinning of arrivals, capped by stock when the scenario
 * has a stock: a shop's history records sales), summed over the days of a period. The band
 * is the 5% and 95% order statistics (inverse empirical CDF) of each row's simulated units;
 * the coverage is the share of rows whose observed units lie inside it. About 0.9 when the
 * scenario and its parameter uncertainty describe the history; far lower when they do not
 * (a wrong price response, seasons the scenario lacks, or counts more dispersed than the
 * simulator's Poisson law: a negative binomial fit's extra variance is not in the scenario).
 * Weekday arrival effects and the arrival rate are held at the scenario's values.
 *
 * Writing: the PNGs (`<report>-charts/<name>.png`), the figures (`<report>-figures.json`) and
 * then the page, each atomically (temporary file renamed into place), with the rendering
 * machinery of the comparison report (experiments/report: vega-lite to SVG by a headless
 * vega View, PNG by resvg).
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { CholeskyDecomposition, Matrix } from 'ml-matrix';
import type { TopLevelSpec } from 'vega-lite';
import { configError } from '../core/errors.js';
import { MarketSimulation } from '../env/market.js';
import { buildMarketModel } from '../env/model.js';
import { RandomStream } from '../core/random.js';
import { normalFromUniforms } from '../env/sampling.js';
import { chartConfig, vegaLiteSchema, type ReportChart } from '../experiments/report/charts.js';
import { formatterFor } from '../experiments/report/format.js';
import { chartSection, escapeHtml, type PageChart } from '../experiments/report/page.js';
import { renderSvg, svgToPng } from '../experiments/report/render.js';
import { writeFileAtomically } from '../core/atomic-write.js';
import { validateScenario } from '../scenarios/load.js';
import type { Scenario, ScenarioInput } from '../scenarios/schema.js';
import type { CalibrationResult } from './calibrate.js';
import { logitShare, waldZ95 } from './logit-poisson.js';

export const reportChartNames = ['observed-fitted', 'price-response', 'residuals', 'holdout', 'posterior-predictive'] as const;

export interface ReportOptions {
  /** Seed of the parameter draws and the simulated markets (default 1). */
  readonly seed?: number;
  /** Parameter draws, one simulated history each (default 200). */
  readonly draws?: number;
  /** The scenario to simulate (default: the calibrated one, result.scenario). */
  readonly scenario?: ScenarioInput;
  /** Points of the price-response curve (default 40). */
  readonly pricePoints?: number;
  /** Largest count of rows drawn in a scatter (evenly spaced rows beyond it; default 4000). */
  readonly maxScatterRows?: number;
}

export interface PredictiveCheck {
  readonly draws: number;
  readonly seed: number;
  readonly scenarioId: string;
  readonly rows: number;
  /** Share of rows whose observed units lie inside their simulated central 90% band. */
  readonly coverage90: number;
  readonly lower: Float64Array;
  readonly median: Float64Array;
  readonly upper: Float64Array;
  readonly method: string;
}

export interface PricePoint {
  readonly price: number;
  readonly units: number;
  readonly unitsLower: number;
  readonly unitsUpper: number;
  readonly profit: number;
  readonly profitLower: number;
  readonly profitUpper: number;
}

/** Every figure of the report, as written to `<report>-figures.json`. */
export interface ReportFigures {
  readonly scenarioId: string;
  readonly source: CalibrationResult['record']['source'];
  readonly estimates: CalibrationResult['record']['estimates'];
  readonly derived: CalibrationResult['record']['derived'];
  readonly fit: {
    readonly likelihood: string;
    readonly logLikelihood: number;
    readonly dispersion: number;
    readonly dispersionSize: number | null;
    readonly meanElasticity: number;
    /** The fitted law's plug-in 90% band (calibrate.ts), every row. */
    readonly predictiveCoverage90: number;
  };
  readonly holdout: CalibrationResult['holdout'] | null;
  readonly posteriorPredictive: { readonly draws: number; readonly seed: number; readonly scenarioId: string; readonly rows: number; readonly coverage90: number; readonly method: string };
  readonly priceResponse: { readonly unitCost: number; readonly method: string; readonly curve: readonly PricePoint[] };
  /** Each chart's data, by chart name, exactly as in its vega-lite spec. */
  readonly charts: Record<string, unknown>;
}

export interface CalibrationReport {
  readonly figures: ReportFigures;
  readonly charts: readonly ReportChart[];
  readonly predictive: PredictiveCheck;
}

const defaultDraws = 200;
/** Draws x rows held in memory by the predictive check (4 bytes each): 80 MB. */
const maxSimulatedCells = 20_000_000;
const defaultSeed = 1;

/** Each row's fitted mean M_t s_t under the final fit. */
export function fittedMeans(result: CalibrationResult): Float64Array {
  const { sales, logMarketSize } = result.rows;
  const theta = result.fit.theta;
  const promotions = new Float64Array(sales.promotions.length);
  const rivals = new Float64Array(sales.rivalPrices.length);
  const means = new Float64Array(sales.rows);
  for (let row = 0; row < sales.rows; row++) {
    loadRow(result, row, promotions, rivals);
    means[row] = Math.exp(logMarketSize[row] ?? 0) * logitShare(theta, sales.price[row] ?? 0, promotions, rivals);
  }
  return means;
}

function loadRow(result: CalibrationResult, row: number, promotions: Float64Array, rivals: Float64Array): void {
  const sales = result.rows.sales;
  sales.promotions.forEach((column, index) => (promotions[index] = column[row] ?? 0));
  sales.rivalPrices.forEach((column, index) => (rivals[index] = column[row] ?? 0));
}

/** Pearson residuals (y - m) / sqrt(V(m)): V(m) = m (Poisson) or m + m^2 / k (negative binomial). */
export function pearsonResiduals(result: CalibrationResult, means = fittedMeans(result)): Float64Array {
  const size = result.fit.dispersionSize?.value;
  const units = result.rows.sales.units;
  return means.map((mean, row) => {
    const variance = size === undefined ? mean : mean + (mean * mean) / size;
    return variance > 0 ? ((units[row] ?? 0) - mean) / Math.sqrt(variance) : 0;
  });
}

/** Indices of the identified parameters (finite, positive variance) of the fit. */
function identifiedParameters(result: CalibrationResult): number[] {
  return result.fit.parameters.flatMap((_, index) => {
    const variance = result.fit.covariance[index]?.[index] ?? Number.NaN;
    return Number.isFinite(variance) && variance > 0 ? [index] : [];
  });
}

/**
 * Expected units and profit over `points` prices spanning the observed range: the mean over
 * rows of M_t s_t(p) (each row's promotions, rival prices and market size kept), with a 95%
 * band by the delta method: Var = g' Cov g, g the gradient of that mean in the identified
 * parameters, d(M s)/dtheta = M s (d_0 - sum_j s_j d_j) (weekday arrival effects, when
 * fitted, held at their estimates). Profit is (p - c) x units, c the scenario's unit cost.
 */
export function priceResponse(result: CalibrationResult, points = 40): PricePoint[] {
  const { sales, logMarketSize } = result.rows;
  const theta = result.fit.theta;
  const promotionCount = sales.promotions.length;
  const rivalCount = sales.rivalPrices.length;
  const identified = identifiedParameters(result);
  const size = theta.length;
  const unitCost = result.scenario.unitCost;
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  for (const price of sales.price) {
    low = Math.min(low, price);
    high = Math.max(high, price);
  }
  const sensitivity = theta[1] ?? 0;
  const gradient = new Float64Array(size);
  const direction = new Float64Array(size);
  const rivalShares = new Float64Array(rivalCount);
  const curve: PricePoint[] = [];
  for (let point = 0; point < points; point++) {
    const price = points === 1 ? low : low + ((high - low) * point) / (points - 1);
    gradient.fill(0);
    let units = 0;
    for (let row = 0; row < sales.rows; row++) {
      let ours = (theta[0] ?? 0) - sensitivity * price;
      for (let index = 0; index < promotionCount; index++) ours += (theta[2 + index] ?? 0) * (sales.promotions[index]?.[row] ?? 0);
      let largest = Math.max(0, ours);
      for (let index = 0; index < rivalCount; index++) {
        const utility = (theta[2 + promotionCount + index] ?? 0) - sensitivity * (sales.rivalPrices[index]?.[row] ?? 0);
        rivalShares[index] = utility;
        largest = Math.max(largest, utility);
      }
      let denominator = Math.exp(-largest) + Math.exp(ours - largest);
      for (let index = 0; index < rivalCount; index++) {
        rivalShares[index] = Math.exp((rivalShares[index] ?? 0) - largest);
        denominator += rivalShares[index] ?? 0;
      }
      const share = Math.exp(ours - largest) / denominator;
      for (let index = 0; index < rivalCount; index++) rivalShares[index] = (rivalShares[index] ?? 0) / denominator;
      const mean = Math.exp(logMarketSize[row] ?? 0) * share;
      units += mean;
      // d log s / d theta = d_0 - sum_j s_j d_j, d_0 = (1, -p, z), d_k = (0, -r_k, e_k).
      direction.fill(0);
      direction[0] = 1 - share;
      let priceTerm = -price * share;
      for (let index = 0; index < rivalCount; index++) priceTerm += -(sales.rivalPrices[index]?.[row] ?? 0) * (rivalShares[index] ?? 0);
      direction[1] = -price - priceTerm;
      for (let index = 0; index < promotionCount; index++) direction[2 + index] = (sales.promotions[index]?.[row] ?? 0) * (1 - share);
      for (let index = 0; index < rivalCount; index++) direction[2 + promotionCount + index] = -(rivalShares[index] ?? 0);
      for (let index = 0; index < size; index++) gradient[index] = (gradient[index] ?? 0) + mean * (direction[index] ?? 0);
    }
    units /= sales.rows;
    let variance = 0;
    for (const left of identified) {
      for (const right of identified) variance += ((gradient[left] ?? 0) / sales.rows) * (result.fit.covariance[left]?.[right] ?? 0) * ((gradient[right] ?? 0) / sales.rows);
    }
    const halfWidth = waldZ95 * Math.sqrt(Math.max(0, variance));
    const unitsLower = Math.max(0, units - halfWidth);
    const unitsUpper = units + halfWidth;
    const margin = price - unitCost;
    const profitEnds = [margin * unitsLower, margin * unitsUpper];
    curve.push({ price, units, unitsLower, unitsUpper, profit: margin * units, profitLower: Math.min(...profitEnds), profitUpper: Math.max(...profitEnds) });
  }
  return curve;
}

/** A Cholesky factor of the identified block of the covariance (independent draws if it is not positive definite). */
function drawFactor(result: CalibrationResult, identified: readonly number[]): { factor: Matrix; correlated: boolean } {
  // Symmetrised: the inverse of the information is symmetric only up to rounding.
  const entry = (row: number, column: number) => ((result.fit.covariance[row]?.[column] ?? 0) + (result.fit.covariance[column]?.[row] ?? 0)) / 2;
  const block = new Matrix(identified.map((row) => identified.map((column) => entry(row, column))));
  const cholesky = new CholeskyDecomposition(block);
  if (cholesky.isPositiveDefinite()) return { factor: cholesky.lowerTriangularMatrix, correlated: true };
  return { factor: Matrix.diag(identified.map((index) => Math.sqrt(result.fit.covariance[index]?.[index] ?? 0))), correlated: false };
}

/** Order statistic of a sorted sample at probability q (inverse empirical CDF). */
function quantileOfSorted(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}

/**
 * The posterior-predictive check (see the card): the scenario simulated under the historical
 * prices, promotions and rival prices, once per parameter draw, and the share of rows whose
 * observed units fall inside their simulated central 90% band.
 */
export function posteriorPredictiveCheck(result: CalibrationResult, options: ReportOptions = {}): PredictiveCheck {
  const requested = options.draws ?? defaultDraws;
  const seed = options.seed ?? defaultSeed;
  if (!Number.isInteger(requested) || requested < 20) throw configError('too few parameter draws', [{ path: ['draws'], message: `expected an integer >= 20 (a 90% band needs them), found ${requested}` }]);
  // Simulated units are held for every draw and row: fewer draws on long histories (at least 20).
  const draws = Math.max(20, Math.min(requested, Math.floor(maxSimulatedCells / Math.max(1, result.rows.sales.rows))));
  const base: Scenario = validateScenario(options.scenario ?? result.scenario, 'the scenario of the predictive check');
  if (base.demand.kind !== 'logit') throw configError('the predictive check needs logit demand', [{ path: ['demand', 'kind'], message: `expected logit, found ${base.demand.kind}` }]);
  const { sales, period, logMarketSize } = result.rows;
  const theta = result.fit.theta;
  const promotionCount = sales.promotions.length;
  const rivalOffset = 2 + promotionCount;
  const daysPerPeriod = result.record.source.periodLength === 'week' ? 7 : 1;
  let lastPeriod = 0;
  for (const value of period) lastPeriod = Math.max(lastPeriod, value);
  const horizonDays = (lastPeriod + 1) * daysPerPeriod;

  // Each store's row per period, and its market size relative to the mean over all rows.
  const storeCount = sales.storeNames.length;
  const rowOf = Array.from({ length: storeCount }, () => new Int32Array(lastPeriod + 1).fill(-1));
  const storeMarket = new Float64Array(storeCount);
  const storeRows = new Float64Array(storeCount);
  let allMarket = 0;
  for (let row = 0; row < sales.rows; row++) {
    const store = sales.store[row] ?? 0;
    (rowOf[store] as Int32Array)[period[row] ?? 0] = row;
    const market = Math.exp(logMarketSize[row] ?? 0);
    storeMarket[store] = (storeMarket[store] ?? 0) + market;
    storeRows[store] = (storeRows[store] ?? 0) + 1;
    allMarket += market;
  }
  const meanMarket = allMarket / sales.rows;

  const competitorColumn = competitorColumns(result, base);
  const identified = identifiedParameters(result);
  const { factor, correlated } = drawFactor(result, identified);
  const normals = new RandomStream(seed, 'posterior-predictive');
  const simulated = new Float32Array(draws * sales.rows);
  const prices = new Float64Array(1 + base.competitors.length);
  const deviation = new Float64Array(theta.length);
  const drawn = new Float64Array(identified.length);
  for (let draw = 0; draw < draws; draw++) {
    for (let index = 0; index < identified.length; index++) drawn[index] = normalFromUniforms(normals.next(), normals.next());
    deviation.fill(0);
    identified.forEach((parameter, row) => {
      let value = 0;
      for (let column = 0; column <= row; column++) value += factor.get(row, column) * (drawn[column] ?? 0);
      deviation[parameter] = value;
    });
    const sensitivityShift = deviation[1] ?? 0;
    const lifts = Array.from({ length: promotionCount }, (_, index) => (theta[2 + index] ?? 0) + (deviation[2 + index] ?? 0));
    for (let store = 0; store < storeCount; store++) {
      if ((storeRows[store] ?? 0) === 0) continue;
      const arrivalScale = storeCount === 1 ? 1 : (storeMarket[store] ?? 0) / (storeRows[store] ?? 1) / meanMarket;
      const scenario = drawnScenario(base, { qualityShift: deviation[0] ?? 0, sensitivityShift, arrivalScale, horizonDays, rivalShift: (column) => (column >= 0 ? (deviation[rivalOffset + column] ?? 0) : 0), competitorColumn });
      const sensitivity = scenario.demand.kind === 'logit' ? (scenario.demand.segments[0]?.priceSensitivity ?? 1) : 1;
      const market = new MarketSimulation(buildMarketModel(scenario));
      market.reset(`ppc:${seed}:${draw}:${store}`);
      const rows = rowOf[store] as Int32Array;
      let lastRow = -1;
      for (let day = 0; day < horizonDays; day++) {
        const row = rows[Math.floor(day / daysPerPeriod)] ?? -1;
        if (row >= 0) lastRow = row;
        const source = row >= 0 ? row : lastRow >= 0 ? lastRow : firstRowOf(rows);
        let lift = 0;
        for (let index = 0; index < promotionCount; index++) lift += (lifts[index] ?? 0) * (sales.promotions[index]?.[source] ?? 0);
        prices[0] = Math.max(1e-6, (sales.price[source] ?? 0) - lift / sensitivity);
        competitorColumn.forEach((column, index) => (prices[index + 1] = column >= 0 ? (sales.rivalPrices[column]?.[source] ?? Number.NaN) : Number.NaN));
        const outcome = market.stepPrices(prices);
        if (row >= 0) simulated[draw * sales.rows + row] = (simulated[draw * sales.rows + row] ?? 0) + outcome.sold;
      }
    }
  }

  const lower = new Float64Array(sales.rows);
  const median = new Float64Array(sales.rows);
  const upper = new Float64Array(sales.rows);
  const sample = new Float64Array(draws);
  let covered = 0;
  for (let row = 0; row < sales.rows; row++) {
    for (let draw = 0; draw < draws; draw++) sample[draw] = simulated[draw * sales.rows + row] ?? 0;
    sample.sort();
    lower[row] = quantileOfSorted(sample, 0.05);
    median[row] = quantileOfSorted(sample, 0.5);
    upper[row] = quantileOfSorted(sample, 0.95);
    const units = sales.units[row] ?? 0;
    if (units >= (lower[row] ?? 0) && units <= (upper[row] ?? 0)) covered++;
  }
  const method =
    `scenario ${base.id} simulated by the market (env/) under the historical prices, promotions (as the price of equal utility) and rival prices, ${draws} parameter draws from the fit's normal approximation ` +
    `(${correlated ? 'Cholesky of the covariance' : 'independent normals: the covariance is not positive definite'}; seed ${seed})${storeCount > 1 ? ', each store at its own market size' : ''}; ` +
    'band: 5% and 95% order statistics of the simulated units per row';
  return { draws, seed, scenarioId: base.id, rows: sales.rows, coverage90: covered / sales.rows, lower, median, upper, method };
}

/**
 * Which rival price column each of the scenario's competitors posts in the simulation: the
 * record's `rivalQuality:<column>` estimate says which `competitors[k]` it went into (names
 * are slugged, so not matched by name); -1: the competitor follows its own strategy.
 */
export function competitorColumns(result: CalibrationResult, scenario: Pick<Scenario, 'competitors'>): number[] {
  return scenario.competitors.map((_, position) => {
    const estimate = result.record.estimates.find((entry) => entry.scenarioPath === `competitors[${position}].quality` && entry.parameter.startsWith('rivalQuality:'));
    return estimate ? result.rows.sales.rivalNames.indexOf(estimate.parameter.slice('rivalQuality:'.length)) : -1;
  });
}

function firstRowOf(rows: Int32Array): number {
  for (const row of rows) if (row >= 0) return row;
  return 0;
}

/** The scenario with one parameter draw applied, scaled to a store's market and stretched over the history. */
function drawnScenario(
  base: Scenario,
  change: { qualityShift: number; sensitivityShift: number; arrivalScale: number; horizonDays: number; rivalShift: (column: number) => number; competitorColumn: readonly number[] },
): Scenario {
  if (base.demand.kind !== 'logit') return base;
  const demand = base.demand;
  return {
    ...base,
    horizonDays: change.horizonDays,
    demand: {
      ...demand,
      quality: demand.quality + change.qualityShift,
      segments: demand.segments.map((segment) => ({
        ...segment,
        arrivalRate: segment.arrivalRate * change.arrivalScale,
        // A draw past zero would make demand rise with price: held just above it.
        priceSensitivity: Math.max(1e-9, segment.priceSensitivity + change.sensitivityShift),
      })),
    },
    competitors: base.competitors.map((competitor, index) => ({ ...competitor, quality: competitor.quality + change.rivalShift(change.competitorColumn[index] ?? -1) })),
  };
}

/** Evenly spaced rows, at most `limit` of them (all rows when there are fewer). */
function sampleRows(rows: number, limit: number): number[] {
  if (rows <= limit) return Array.from({ length: rows }, (_, row) => row);
  return Array.from({ length: limit }, (_, index) => Math.floor((index * rows) / limit));
}

/** The x axis of time charts: the period's first date for dated rows, else its number as given. */
function periodAxis(result: CalibrationResult): { label: (period: number) => string | number; type: 'temporal' | 'quantitative'; title: string; scale: { scale?: { zero: false } } } {
  const sales = result.rows.sales;
  let first = Number.POSITIVE_INFINITY;
  for (const value of sales.period) first = Math.min(first, value);
  const daysPerPeriod = result.record.source.periodLength === 'week' ? 7 : 1;
  if (sales.periodKind === 'date') {
    return { label: (period) => new Date((first + period * daysPerPeriod) * 86_400_000).toISOString().slice(0, 10), type: 'temporal', title: result.record.source.periodLength === 'week' ? 'week starting' : 'date', scale: {} };
  }
  return { label: (period) => first + period, type: 'quantitative', title: `period (${sales.map.period ?? 'period'})`, scale: { scale: { zero: false } } };
}

export function calibrationReport(result: CalibrationResult, options: ReportOptions = {}): CalibrationReport {
  const { sales, period, firstHoldoutPeriod } = result.rows;
  const means = fittedMeans(result);
  const residuals = pearsonResiduals(result, means);
  const predictive = posteriorPredictiveCheck(result, options);
  const curve = priceResponse(result, options.pricePoints ?? 40);
  const maxScatter = options.maxScatterRows ?? 4000;
  const axis = periodAxis(result);
  const unitCost = result.scenario.unitCost;
  const holdoutPart = (when: number) => (firstHoldoutPeriod !== undefined && when >= firstHoldoutPeriod ? 'holdout' : 'training');

  // Observed and fitted units per period, summed over stores.
  let lastPeriod = 0;
  for (const value of period) lastPeriod = Math.max(lastPeriod, value);
  const observedTotal = new Float64Array(lastPeriod + 1);
  const fittedTotal = new Float64Array(lastPeriod + 1);
  const present = new Uint8Array(lastPeriod + 1);
  for (let row = 0; row < sales.rows; row++) {
    const when = period[row] ?? 0;
    observedTotal[when] = (observedTotal[when] ?? 0) + (sales.units[row] ?? 0);
    fittedTotal[when] = (fittedTotal[when] ?? 0) + (means[row] ?? 0);
    present[when] = 1;
  }
  const observedFitted = [...present.keys()]
    .filter((when) => present[when] === 1)
    .flatMap((when) => [
      { period: axis.label(when), series: 'observed', units: observedTotal[when] ?? 0, part: holdoutPart(when) },
      { period: axis.label(when), series: 'fitted', units: fittedTotal[when] ?? 0, part: holdoutPart(when) },
    ]);
  const holdoutSpan = firstHoldoutPeriod === undefined ? [] : [{ start: axis.label(firstHoldoutPeriod), end: axis.label(lastPeriod), label: 'holdout' }];
  const storeNote = sales.storeNames.length > 1 ? `, summed over ${sales.storeNames.length} stores` : '';

  const scatterRows = sampleRows(sales.rows, maxScatter);
  const scatterNote = scatterRows.length < sales.rows ? [`Scatter points: ${scatterRows.length} evenly spaced rows of ${sales.rows} (every figure uses all rows).`] : [];
  const observedPoints = scatterRows.map((row) => ({ price: sales.price[row] ?? 0, units: sales.units[row] ?? 0, profit: ((sales.price[row] ?? 0) - unitCost) * (sales.units[row] ?? 0) }));
  const residualPoints = scatterRows.map((row) => ({ fitted: means[row] ?? 0, period: axis.label(period[row] ?? 0), residual: residuals[row] ?? 0, part: holdoutPart(period[row] ?? 0) }));
  const histogram = residualHistogram(residuals);

  // The predictive check drawn for one series: the only store, or the one with the most units.
  const storeUnits = new Float64Array(sales.storeNames.length);
  for (let row = 0; row < sales.rows; row++) storeUnits[sales.store[row] ?? 0] = (storeUnits[sales.store[row] ?? 0] ?? 0) + (sales.units[row] ?? 0);
  const shownStore = storeUnits.indexOf(Math.max(...storeUnits));
  const predictivePoints: { period: string | number; units: number; lower: number; median: number; upper: number; inside: string }[] = [];
  for (let row = 0; row < sales.rows; row++) {
    if ((sales.store[row] ?? 0) !== shownStore) continue;
    const units = sales.units[row] ?? 0;
    const lower = predictive.lower[row] ?? 0;
    const upper = predictive.upper[row] ?? 0;
    predictivePoints.push({ period: axis.label(period[row] ?? 0), units, lower, median: predictive.median[row] ?? 0, upper, inside: units >= lower && units <= upper ? 'inside the band' : 'outside the band' });
  }
  const shownCoverage = predictivePoints.filter((point) => point.inside === 'inside the band').length / Math.max(1, predictivePoints.length);

  const holdout = result.holdout;
  const holdoutBars = holdout
    ? (['wape', 'mape'] as const).flatMap((metric) =>
        (
          [
            ['model', 'model'],
            ['seasonalNaive', `seasonal naive (${holdout.seasonLength})`],
            ['mean', 'mean'],
          ] as const
        ).map(([key, forecast]) => ({ metric: metric.toUpperCase(), forecast, value: holdout[metric][key] })),
      )
    : [];

  const charts: ReportChart[] = [
    {
      name: 'observed-fitted',
      title: 'Observed and fitted units over time',
      caption: `Units per ${result.record.source.periodLength}${storeNote}: observed, and fitted by the final fit (the mean M_t s_t from each row's price, promotions, rival prices and market size).${firstHoldoutPeriod === undefined ? '' : ' Shaded: the held-out periods (their forecasts are scored in the holdout table by the fit on the earlier periods).'}`,
      notes: [],
      spec: {
        $schema: vegaLiteSchema,
        config: chartConfig,
        width: 640,
        height: 260,
        layer: [
          ...(holdoutSpan.length === 0
            ? []
            : [
                {
                  data: { values: holdoutSpan },
                  mark: { type: 'rect' as const, color: '#e8e8e8' },
                  encoding: { x: { field: 'start', type: axis.type, ...axis.scale }, x2: { field: 'end' } },
                },
              ]),
          {
            data: { values: observedFitted },
            mark: { type: 'line', point: { size: 12 }, strokeWidth: 1.2 },
            encoding: {
              x: { field: 'period', type: axis.type, title: axis.title, ...axis.scale },
              y: { field: 'units', type: 'quantitative', title: `units per ${result.record.source.periodLength}` },
              color: { field: 'series', type: 'nominal', title: null, scale: { domain: ['observed', 'fitted'], range: ['#555555', '#d62728'] } },
              tooltip: [{ field: 'period' }, { field: 'series' }, { field: 'units', format: ',.1f' }, { field: 'part' }],
            },
          },
        ],
      },
    },
    {
      name: 'price-response',
      title: 'Price response',
      caption:
        `Expected units and expected profit ((p - ${formatterFor([unitCost])(unitCost)}) x units) per row over the observed price range: the mean over the history's rows of M_t s_t(p), each row keeping its promotions, rival prices and market size, ` +
        'with a 95% band by the delta method from the fit\'s covariance. Points: the observed rows.',
      notes: [...scatterNote, ...(result.record.defaults.some((entry) => entry.field === 'unitCost') ? ['The unit cost is a default (not in the data): read profit levels with care.'] : [])],
      spec: {
        $schema: vegaLiteSchema,
        config: chartConfig,
        hconcat: (
          [
            ['units', 'unitsLower', 'unitsUpper', 'expected units'],
            ['profit', 'profitLower', 'profitUpper', 'expected profit'],
          ] as const
        ).map(([field, lowerField, upperField, title]) => ({
          width: 320,
          height: 240,
          layer: [
            { data: { values: observedPoints }, mark: { type: 'point' as const, filled: true, size: 10, opacity: 0.35, color: '#777777' }, encoding: { x: { field: 'price', type: 'quantitative' as const, title: 'price', scale: { zero: false } }, y: { field, type: 'quantitative' as const, title } } },
            { data: { values: curve }, mark: { type: 'area' as const, opacity: 0.25, color: '#1f77b4' }, encoding: { x: { field: 'price', type: 'quantitative' as const }, y: { field: lowerField, type: 'quantitative' as const }, y2: { field: upperField } } },
            {
              data: { values: curve },
              mark: { type: 'line' as const, color: '#1f77b4', strokeWidth: 2 },
              encoding: { x: { field: 'price', type: 'quantitative' as const }, y: { field, type: 'quantitative' as const }, tooltip: [{ field: 'price', format: ',.4f' }, { field, format: ',.2f' }, { field: lowerField, format: ',.2f' }, { field: upperField, format: ',.2f' }] },
            },
          ],
        })),
      },
    },
    {
      name: 'residuals',
      title: 'Residual diagnostics',
      caption: `Pearson residuals (y - m) / sqrt(V(m)), V the ${result.fit.likelihood === 'negative-binomial' ? 'negative binomial variance m + m^2 / k' : 'Poisson variance m'}: against the fitted mean, against time (held-out periods in orange), and their histogram with the standard normal density scaled to it. A good fit: no trend or funnel, a spread of about 1.`,
      notes: scatterNote,
      spec: {
        $schema: vegaLiteSchema,
        config: chartConfig,
        hconcat: [
          {
            width: 220,
            height: 200,
            data: { values: residualPoints },
            mark: { type: 'point', filled: true, size: 10, opacity: 0.4 },
            encoding: { x: { field: 'fitted', type: 'quantitative', title: 'fitted mean' }, y: { field: 'residual', type: 'quantitative', title: 'Pearson residual' }, color: { value: '#1f77b4' } },
          },
          {
            width: 260,
            height: 200,
            data: { values: residualPoints },
            mark: { type: 'point', filled: true, size: 10, opacity: 0.4 },
            encoding: {
              x: { field: 'period', type: axis.type, title: axis.title, ...axis.scale },
              y: { field: 'residual', type: 'quantitative', title: 'Pearson residual' },
              color: { field: 'part', type: 'nominal', title: null, scale: { domain: ['training', 'holdout'], range: ['#1f77b4', '#ff7f0e'] } },
            },
          },
          {
            width: 220,
            height: 200,
            data: { values: histogram },
            layer: [
              { mark: { type: 'bar', color: '#9ecae1' }, encoding: { x: { field: 'low', type: 'quantitative', title: 'Pearson residual', bin: { binned: true } }, x2: { field: 'high' }, y: { field: 'count', type: 'quantitative', title: 'rows' } } },
              { mark: { type: 'line', color: '#d62728' }, encoding: { x: { field: 'middle', type: 'quantitative' }, y: { field: 'normal', type: 'quantitative' } } },
            ],
          },
        ],
      },
    },
    ...(holdout
      ? [
          {
            name: 'holdout',
            title: 'Holdout forecasts',
            caption: `WAPE and MAPE on the last ${holdout.holdoutPeriods} of ${holdout.trainingPeriods + holdout.holdoutPeriods} periods (${holdout.rows} rows): the model fitted on the earlier periods against seasonal naive (season ${holdout.seasonLength}) and the training mean. Lower is better.`,
            notes: [],
            spec: {
              $schema: vegaLiteSchema,
              config: chartConfig,
              data: { values: holdoutBars },
              facet: { column: { field: 'metric', type: 'nominal', title: null } },
              spec: {
                width: 200,
                height: 160,
                mark: 'bar',
                encoding: {
                  x: { field: 'forecast', type: 'nominal', title: null, sort: null, axis: { labelAngle: -20 } },
                  y: { field: 'value', type: 'quantitative', title: 'error' },
                  color: { field: 'forecast', type: 'nominal', legend: null, sort: null },
                  tooltip: [{ field: 'metric' }, { field: 'forecast' }, { field: 'value', format: '.4f' }],
                },
              },
              resolve: { scale: { y: 'independent' } },
            } satisfies TopLevelSpec,
          },
        ]
      : []),
    {
      name: 'posterior-predictive',
      title: 'Posterior-predictive check',
      caption:
        `Scenario ${predictive.scenarioId} simulated by the market under the historical prices, promotions and rival prices, once per parameter draw (${predictive.draws} draws from the fit's normal approximation, seed ${predictive.seed}): ` +
        `the central 90% band of the simulated units and their median, with the observed units. ${formatPercent(predictive.coverage90)} of all ${predictive.rows} rows lie inside their band (about 90% when the scenario describes the history).`,
      notes: sales.storeNames.length > 1 ? [`Drawn: store ${sales.storeNames[shownStore] ?? shownStore} (the most units; ${formatPercent(shownCoverage)} of its rows inside). The coverage is over every store's rows.`] : [],
      spec: {
        $schema: vegaLiteSchema,
        config: chartConfig,
        width: 640,
        height: 260,
        data: { values: predictivePoints },
        encoding: { x: { field: 'period', type: axis.type, title: axis.title, ...axis.scale } },
        layer: [
          { mark: { type: 'area', opacity: 0.3, color: '#2ca02c' }, encoding: { y: { field: 'lower', type: 'quantitative', title: `units per ${result.record.source.periodLength}` }, y2: { field: 'upper' } } },
          { mark: { type: 'line', color: '#2ca02c', strokeWidth: 1 }, encoding: { y: { field: 'median', type: 'quantitative' } } },
          {
            mark: { type: 'point', filled: true, size: 16 },
            encoding: {
              y: { field: 'units', type: 'quantitative' },
              color: { field: 'inside', type: 'nominal', title: null, scale: { domain: ['inside the band', 'outside the band'], range: ['#333333', '#d62728'] } },
              tooltip: [{ field: 'period' }, { field: 'units' }, { field: 'lower' }, { field: 'median' }, { field: 'upper' }],
            },
          },
        ],
      },
    },
  ];

  const chartData: Record<string, unknown> = {
    'observed-fitted': { series: observedFitted, holdout: holdoutSpan },
    'price-response': { curve, observed: observedPoints },
    residuals: { points: residualPoints, histogram },
    ...(holdout ? { holdout: holdoutBars } : {}),
    'posterior-predictive': { store: sales.storeNames[shownStore] ?? String(shownStore), coverage90: shownCoverage, points: predictivePoints },
  };
  const figures: ReportFigures = {
    scenarioId: result.scenario.id,
    source: result.record.source,
    estimates: result.record.estimates,
    derived: result.record.derived,
    fit: {
      likelihood: result.fit.likelihood,
      logLikelihood: result.fit.logLikelihood,
      dispersion: result.fit.dispersion,
      dispersionSize: result.fit.dispersionSize?.value ?? null,
      meanElasticity: result.meanElasticity,
      predictiveCoverage90: result.predictiveCoverage90,
    },
    holdout: holdout ?? null,
    posteriorPredictive: { draws: predictive.draws, seed: predictive.seed, scenarioId: predictive.scenarioId, rows: predictive.rows, coverage90: predictive.coverage90, method: predictive.method },
    priceResponse: { unitCost, method: 'mean over rows of M_t s_t(p) (each row keeping its promotions, rival prices and market size); 95% band by the delta method from the fit covariance', curve },
    charts: chartData,
  };
  return { figures, charts, predictive };
}

/** 30 equal bins over the residuals (clipped to +-6) and the standard normal density scaled to the counts. */
function residualHistogram(residuals: Float64Array): { low: number; high: number; middle: number; count: number; normal: number }[] {
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  for (const value of residuals) {
    const clipped = Math.max(-6, Math.min(6, value));
    low = Math.min(low, clipped);
    high = Math.max(high, clipped);
  }
  if (!(high > low)) high = low + 1;
  const bins = 30;
  const width = (high - low) / bins;
  const counts = new Float64Array(bins);
  for (const value of residuals) {
    const bin = Math.min(bins - 1, Math.max(0, Math.floor((Math.max(-6, Math.min(6, value)) - low) / width)));
    counts[bin] = (counts[bin] ?? 0) + 1;
  }
  return Array.from(counts, (count, bin) => {
    const binLow = low + bin * width;
    const middle = binLow + width / 2;
    return { low: binLow, high: binLow + width, middle, count, normal: (residuals.length * width * Math.exp((-middle * middle) / 2)) / Math.sqrt(2 * Math.PI) };
  });
}

function formatPercent(share: number): string {
  return `${(100 * share).toFixed(1)}%`;
}

/** The files of a report at `htmlPath`: the page, its PNG folder and its figures. */
export function reportPaths(htmlPath: string): { html: string; chartsFolder: string; figures: string } {
  const html = resolve(htmlPath);
  const extension = extname(html);
  const stem = join(dirname(html), basename(html, extension));
  return { html, chartsFolder: `${stem}-charts`, figures: `${stem}-figures.json` };
}

/** A config error (exit 2) naming `--report` unless the path can take the report: its folder exists, the path is not a folder, nor one of `others`. */
export function checkReportPath(htmlPath: string, others: readonly string[] = []): void {
  const paths = reportPaths(htmlPath);
  const problem = (found: string) => configError(`cannot write the report ${htmlPath}`, [{ path: ['report'], message: `expected an HTML file path in an existing folder, found ${found}` }]);
  const folder = dirname(paths.html);
  if (!existsSync(folder) || !statSync(folder).isDirectory()) throw problem(`${htmlPath} (no folder ${folder})`);
  if (existsSync(paths.html) && statSync(paths.html).isDirectory()) throw problem(`${htmlPath} (a folder)`);
  if (existsSync(paths.chartsFolder) && !statSync(paths.chartsFolder).isDirectory()) throw problem(`${htmlPath} (${paths.chartsFolder}, where its PNGs go, is a file)`);
  for (const other of others) {
    const taken = resolve(other);
    if (taken === paths.html || taken === paths.figures) throw problem(`${htmlPath} (it would overwrite ${other})`);
  }
}

export interface WrittenCalibrationReport {
  readonly html: string;
  readonly figures: string;
  readonly pngs: readonly string[];
  readonly warnings: readonly string[];
  readonly report: CalibrationReport;
}

/** Builds the report and writes its PNGs, figures and page, each atomically; a file-system failure is a config error naming the path. */
export async function writeCalibrationReport(htmlPath: string, result: CalibrationResult, options: ReportOptions = {}): Promise<WrittenCalibrationReport> {
  checkReportPath(htmlPath);
  const paths = reportPaths(htmlPath);
  const report = calibrationReport(result, options);
  const warnings: string[] = [];
  const pageCharts: PageChart[] = [];
  const rendered: { name: string; png: Uint8Array }[] = [];
  for (const chart of report.charts) {
    const svg = await renderSvg(chart.spec);
    warnings.push(...svg.warnings.map((warning) => `${chart.name}: ${warning}`));
    rendered.push({ name: chart.name, png: svgToPng(svg.svg) });
    pageCharts.push({ name: chart.name, title: chart.title, caption: chart.caption, notes: chart.notes, svg: svg.svg, spec: chart.spec });
  }
  const pngs: string[] = [];
  try {
    mkdirSync(paths.chartsFolder, { recursive: true });
    for (const chart of rendered) {
      const png = join(paths.chartsFolder, `${chart.name}.png`);
      writeFileAtomically(png, chart.png);
      pngs.push(png);
    }
    writeFileAtomically(paths.figures, `${JSON.stringify(report.figures, null, 2)}\n`);
    writeFileAtomically(paths.html, calibrationPage(result, report, pageCharts, basename(paths.figures)));
  } catch (error) {
    throw configError(`cannot write the report ${htmlPath}`, [{ path: ['report'], message: `expected a writable path, found ${htmlPath}: ${(error as Error).message}` }]);
  }
  return { html: paths.html, figures: paths.figures, pngs, warnings, report };
}

/** The page: what was calibrated, the estimates, the holdout table, the coverage figures, then the charts. */
export function calibrationPage(result: CalibrationResult, report: CalibrationReport, charts: readonly PageChart[], figuresFile: string): string {
  const record = result.record;
  const estimate = formatterFor(record.estimates.flatMap((entry) => [entry.value, entry.lower, entry.upper]));
  const estimateRows = record.estimates
    .map((entry) => `<tr><td>${escapeHtml(entry.parameter)}</td><td>${estimate(entry.value)}</td><td>${estimate(entry.lower)} .. ${estimate(entry.upper)}</td><td>${escapeHtml(entry.scenarioPath ?? '(recorded only)')}</td><td>${escapeHtml(entry.method)}</td></tr>`)
    .join('\n');
  const holdout = result.holdout;
  const error = (value: number) => value.toFixed(4);
  const holdoutTable = holdout
    ? `<h2>Holdout</h2>
<p>The last ${holdout.holdoutPeriods} of ${holdout.trainingPeriods + holdout.holdoutPeriods} periods (${holdout.rows} rows), forecast by the fit on the earlier periods.</p>
<table class="holdout"><tr><th>forecast</th><th>WAPE</th><th>MAPE</th></tr>
<tr><td>model</td><td>${error(holdout.wape.model)}</td><td>${error(holdout.mape.model)}</td></tr>
<tr><td>seasonal naive (${holdout.seasonLength})</td><td>${error(holdout.wape.seasonalNaive)}</td><td>${error(holdout.mape.seasonalNaive)}</td></tr>
<tr><td>mean</td><td>${error(holdout.wape.mean)}</td><td>${error(holdout.mape.mean)}</td></tr>
</table>`
    : '<h2>Holdout</h2>\n<p>No holdout (<code>--holdout 0</code>).</p>';
  const predictive = report.predictive;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>pricelab calibrate: ${escapeHtml(result.scenario.id)}</title>
<style>
body { font-family: "DejaVu Sans", system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; padding: 0 1rem; color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.85rem; }
td, th { border-bottom: 1px solid #ddd; padding: 0.2rem 0.6rem; text-align: right; }
td:first-child, th:first-child, td:nth-child(4), td:nth-child(5) { text-align: left; }
.notes { color: #555; font-size: 0.85rem; margin: 0 0 0.5rem; }
figure { margin: 0; overflow-x: auto; } code { font-size: 0.8rem; }
</style>
</head>
<body>
<h1>pricelab calibrate: ${escapeHtml(result.scenario.id)}</h1>
<p>Calibrated from <code>${escapeHtml(record.source.file)}</code> (sha256 <code>${escapeHtml(record.source.sha256.slice(0, 16))}…</code>): ${record.source.rows} rows,
${record.source.periods} ${record.source.periodLength}s ${escapeHtml(String(record.source.firstPeriod))}..${escapeHtml(String(record.source.lastPeriod))}, ${record.source.stores} store(s).
Likelihood ${escapeHtml(result.fit.likelihood)}${result.fit.dispersionSize ? ` (size ${result.fit.dispersionSize.value.toFixed(3)})` : ''}, Pearson dispersion ${result.fit.dispersion.toFixed(3)}, mean own-price elasticity ${result.meanElasticity.toFixed(3)}.</p>
<h2>Predictive coverage</h2>
<table class="coverage"><tr><th>check</th><th>rows inside their 90% band</th><th>method</th></tr>
<tr><td>posterior-predictive (simulated scenario)</td><td>${formatPercent(predictive.coverage90)}</td><td>${escapeHtml(predictive.method)}</td></tr>
<tr><td>fitted law (plug-in)</td><td>${formatPercent(result.predictiveCoverage90)}</td><td>the fitted law's central 90% band at each row's mean, parameter uncertainty left out</td></tr>
${holdout ? `<tr><td>fitted law on the holdout (training fit)</td><td>${formatPercent(holdout.predictiveCoverage90)}</td><td>as above, for the held-out rows</td></tr>` : ''}
</table>
<h2>Estimates</h2>
<table class="estimates"><tr><th>parameter</th><th>estimate</th><th>95% interval</th><th>into</th><th>method</th></tr>
${estimateRows}
</table>
${holdoutTable}
${charts.map(chartSection).join('\n')}
<h2>Left at defaults</h2>
<ul>${record.defaults.map((entry) => `<li><code>${escapeHtml(entry.field)}</code> = ${escapeHtml(String(entry.value))}: ${escapeHtml(entry.reason)}</li>`).join('')}</ul>
<p>Every figure is in <code>${escapeHtml(figuresFile)}</code> beside this page, each chart as a PNG in the <code>-charts</code> folder beside it.</p>
</body>
</html>
`;
}

/** What `pricelab calibrate --report --json` prints about the report. */
export function reportSummary(written: WrittenCalibrationReport) {
  const predictive = written.report.predictive;
  return { html: written.html, figures: written.figures, pngs: written.pngs, posteriorPredictive: { coverage90: predictive.coverage90, draws: predictive.draws, seed: predictive.seed, rows: predictive.rows } };
}

/** The lines `pricelab calibrate --report` prints about the report. */
export function reportText(written: WrittenCalibrationReport): string {
  const predictive = written.report.predictive;
  return (
    `posterior-predictive check: ${formatPercent(predictive.coverage90)} of rows inside the 90% band of the simulated scenario (${predictive.draws} parameter draws, seed ${predictive.seed})\n` +
    `wrote the report ${written.html} (charts as PNG in ${dirname(written.pngs[0] ?? written.html)}, figures in ${written.figures})\n`
  );
}
