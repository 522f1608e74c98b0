/**
 * Card: the posterior-predictive check of the calibration report (report.ts).
 *
 * Method: `draws` parameter vectors (default 200; fewer on long
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
 */
import { CholeskyDecomposition, Matrix } from 'ml-matrix';
import { configError } from '../core/errors.js';
import { MarketSimulation } from '../env/market.js';
import { buildMarketModel } from '../env/model.js';
import { RandomStream } from '../core/random.js';
import { normalFromUniforms } from '../env/sampling.js';
import { validateScenario } from '../scenarios/load.js';
import type { Scenario } from '../scenarios/schema.js';
import type { CalibrationResult } from './calibrate.js';
import { identifiedParameters } from './report-fit-figures.js';
import type { PredictiveCheck, ReportOptions } from './report-types.js';

const defaultDraws = 200;
/** Draws x rows held in memory by the predictive check (4 bytes each): 80 MB. */
const maxSimulatedCells = 20_000_000;
const defaultSeed = 1;

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
