/**
 * Card: partial pooling across stores (hierarchical shrinkage, empirical Bayes) and store
 * elasticities explained by store attributes.
 *
 * Model, two levels (the first is the simulator's logit, calibration/logit-poisson.ts):
 *   level 1, store s:  units ~ Poisson or NB(M_t s_t), u_0t = a_s - b_s p_t + sum_m gamma_m z_mt,
 *                      u_kt = a_k - b_s r_kt    (the store's customers have one price sensitivity)
 *   level 2:           b_s ~ Normal(x_s' beta, tau^2),   a_s ~ Normal(alpha, tau_a^2)
 * x_s is 1 and the store's attributes, centred on their mean over the stores (so beta_0 is the
 * sensitivity of a store with average attributes); without attributes, x_s = 1.
 *
 * Method:
 * 1. Per store, (a_s, b_s) by maximum likelihood on the store's rows with everything else
 *    (promotion lifts, rival qualities, the negative binomial size) held at the pooled fit's
 *    values: Newton-Raphson on two parameters (Fisher scoring when the observed information
 *    is not positive definite, step halving). Variances v_s from the inverse observed
 *    information (times the Pearson dispersion when the pooled fit is quasi-Poisson). A store
 *    whose fit does not converge or has no information (one price, no sales) is kept out of
 *    level 2 and gets the level-2 prediction (it borrows everything).
 * 2. Level 2 by restricted maximum likelihood (REML, the marginal likelihood of the
 *    estimates b_s ~ N(x_s' beta, v_s + tau^2) with beta integrated out): tau by a grid and a
 *    golden-section search on tau >= 0; beta by weighted least squares at tau (weights
 *    1 / (v_s + tau^2), ml-matrix solves). tau's 95% interval: the profile REML likelihood
 *    ratio (2 delta loglik <= 3.84), 0 as its lower end when 0 is inside. beta's intervals:
 *    Student t with (stores - coefficients) degrees of freedom on (X'WX)^-1.
 * 3. Shrunken store estimates (the empirical Bayes posterior mean):
 *      b~_s = x_s' beta + w_s (b^_s - x_s' beta),  w_s = tau^2 / (tau^2 + v_s)
 *    with variance w_s v_s + (1 - w_s)^2 x_s' Cov(beta) x_s (Morris's correction for the
 *    estimated beta; tau's own uncertainty is not added). Small or noisy stores (large v_s)
 *    move furthest towards the prediction from their attributes. Qualities alike, with an
 *    intercept only.
 * Elasticities: store s's own-price elasticity is -b_s times the mean over its rows of
 * p (1 - s_0) at its own estimates; an attribute coefficient in elasticity units is the
 * coefficient times minus the mean of that factor over the stores.
 *
 * Limits: level 1 holds the common parameters fixed (their uncertainty is not carried into
 * v_s); a_s and b_s are shrunk separately (their correlation within a store is ignored).
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { CholeskyDecomposition, Matrix, inverse } from 'ml-matrix';
import tQuantile from '@stdlib/stats-base-dists-t-quantile';
import { PricelabError, configError, type Problem } from '../core/errors.js';
import type { CalibrationRecord } from '../scenarios/calibration-record.js';
import type { ScenarioInput } from '../scenarios/schema.js';
import type { SalesData } from './reader.js';
import { goldenSectionMaximum } from './golden-section.js';

export const z95 = 1.959963984540054;
/** chi-square(1) 95% quantile: the profile likelihood-ratio cut-off for tau's interval. */
const chiSquare95 = 3.841458820694124;

export interface Interval {
  readonly value: number;
  readonly standardError: number;
  readonly lower: number;
  readonly upper: number;
}

/** A store attribute table: one row of numbers per store key. */
export interface StoreAttributes {
  readonly file: string;
  readonly sha256: string;
  readonly columns: readonly string[];
  /** store key (as written in the sales file's store column) -> the attribute values in `columns` order. */
  readonly values: ReadonlyMap<string, readonly number[]>;
}

export interface SecondLevelFit {
  /** tau: the standard deviation of the store parameters around x' beta, with its profile-likelihood interval. */
  readonly tau: { readonly value: number; readonly lower: number; readonly upper: number };
  readonly beta: Float64Array;
  readonly betaCovariance: number[][];
  readonly coefficients: readonly Interval[];
  readonly restrictedLogLikelihood: number;
  /** Stores that entered the fit (finite variance). */
  readonly used: number;
}

export interface StorePooling {
  readonly store: string;
  readonly rows: number;
  /** The store's own estimates (level 1); undefined when the store could not be fitted. */
  readonly own: { readonly quality: Interval; readonly priceSensitivity: Interval } | undefined;
  readonly shrunken: { readonly quality: Interval; readonly priceSensitivity: Interval; readonly elasticity: Interval };
  /** w_s = tau^2 / (tau^2 + v_s): the weight on the store's own sensitivity (0: fully pooled). */
  readonly weight: number;
  /** Mean market size (arrivals) per period over the store's rows. */
  readonly marketPerPeriod: number;
}

export interface PoolingResult {
  readonly method: string;
  readonly stores: number;
  readonly storesEstimated: number;
  readonly priceSensitivity: { readonly tau: SecondLevelFit['tau']; readonly mean: Interval };
  readonly quality: { readonly tau: SecondLevelFit['tau']; readonly mean: Interval };
  readonly attributes:
    | {
        readonly file: string;
        readonly sha256: string;
        readonly coefficients: readonly (Interval & { readonly name: string; readonly elasticityPerUnit: number })[];
      }
    | undefined;
  /** Mean over stores of the shrunken store elasticities. */
  readonly meanElasticity: number;
  /** The same from the pooled fit (one sensitivity for every store): mean over rows of -b p (1 - s). */
  readonly pooledElasticity: number;
  readonly storeTable: readonly StorePooling[];
}

/** What the pooling needs from the pooled fit. */
export interface PooledFitSummary {
  readonly theta: ArrayLike<number>;
  readonly likelihood: 'poisson' | 'negative-binomial';
  readonly dispersion: number;
  readonly dispersionSize?: { readonly value: number };
}

export type PoolingSales = Pick<SalesData, 'rows' | 'units' | 'price' | 'promotions' | 'rivalPrices' | 'store' | 'storeNames'>;

export const minimumStores = 3;

// ---------------------------------------------------------------- level 1: one store

interface StorePass {
  logLikelihood: number;
  gradient: [number, number];
  /** Minus the Hessian and the Fisher information, [aa, ab, bb]. */
  negativeHessian: [number, number, number];
  fisher: [number, number, number];
  /** Sum over rows of p (1 - s_0). */
  elasticityFactor: number;
  /** Pearson chi-square (of the law used: Poisson or NB). */
  pearson: number;
}

function storePass(sales: PoolingSales, logMarketSize: Float64Array, rowsOf: Int32Array, fixed: ArrayLike<number>, phi: readonly [number, number], size: number): StorePass {
  const poisson = !Number.isFinite(size);
  const promotionCount = sales.promotions.length;
  const rivalCount = sales.rivalPrices.length;
  const [quality, sensitivity] = phi;
  const pass: StorePass = { logLikelihood: 0, gradient: [0, 0], negativeHessian: [0, 0, 0], fisher: [0, 0, 0], elasticityFactor: 0, pearson: 0 };
  const utilities = new Float64Array(rivalCount + 1);
  for (const row of rowsOf) {
    const price = sales.price[row] ?? 0;
    let ours = quality - sensitivity * price;
    for (let index = 0; index < promotionCount; index++) ours += (fixed[2 + index] ?? 0) * (sales.promotions[index]?.[row] ?? 0);
    utilities[0] = ours;
    let largest = Math.max(0, ours);
    for (let index = 0; index < rivalCount; index++) {
      const utility = (fixed[2 + promotionCount + index] ?? 0) - sensitivity * (sales.rivalPrices[index]?.[row] ?? 0);
      utilities[index + 1] = utility;
      if (utility > largest) largest = utility;
    }
    let denominator = Math.exp(-largest);
    for (let index = 0; index <= rivalCount; index++) denominator += Math.exp((utilities[index] ?? 0) - largest);
    // d_j = (d quality, d sensitivity) of utility j: ours (1, -p), rival k (0, -r_k).
    // m = sum_j s_j d_j; second = sum_j s_j d_j d_j' (only the b-b entry has rival terms).
    const ownShare = Math.exp(ours - largest) / denominator;
    let meanB = -ownShare * price;
    let secondBB = ownShare * price * price;
    for (let index = 0; index < rivalCount; index++) {
      const share = Math.exp((utilities[index + 1] ?? 0) - largest) / denominator;
      const rivalPrice = sales.rivalPrices[index]?.[row] ?? 0;
      meanB -= share * rivalPrice;
      secondBB += share * rivalPrice * rivalPrice;
    }
    const meanA = ownShare;
    const secondAA = ownShare;
    const secondAB = -ownShare * price;
    const logLambda = (logMarketSize[row] ?? 0) + ours - largest - Math.log(denominator);
    const lambda = Math.exp(logLambda);
    const units = sales.units[row] ?? 0;
    pass.logLikelihood += poisson ? (units > 0 ? units * logLambda : 0) - lambda : (units > 0 ? units * logLambda : 0) - (units + size) * Math.log(size + lambda);
    const residual = poisson ? units - lambda : (size * (units - lambda)) / (size + lambda);
    const curvature = poisson ? lambda : ((units + size) * lambda * size) / ((size + lambda) * (size + lambda));
    const expected = poisson ? lambda : (lambda * size) / (size + lambda);
    const scoreA = 1 - meanA;
    const scoreB = -price - meanB;
    pass.gradient[0] += residual * scoreA;
    pass.gradient[1] += residual * scoreB;
    // -Hessian = curvature g g' + residual (second - m m'); Fisher = expected g g'.
    pass.negativeHessian[0] += curvature * scoreA * scoreA + residual * (secondAA - meanA * meanA);
    pass.negativeHessian[1] += curvature * scoreA * scoreB + residual * (secondAB - meanA * meanB);
    pass.negativeHessian[2] += curvature * scoreB * scoreB + residual * (secondBB - meanB * meanB);
    pass.fisher[0] += expected * scoreA * scoreA;
    pass.fisher[1] += expected * scoreA * scoreB;
    pass.fisher[2] += expected * scoreB * scoreB;
    pass.elasticityFactor += price * (1 - ownShare);
    if (lambda > 0) pass.pearson += ((units - lambda) * (units - lambda)) / (poisson ? lambda : lambda + (lambda * lambda) / size);
  }
  return pass;
}

function positiveDefinite(matrix: readonly [number, number, number]): boolean {
  return new CholeskyDecomposition(new Matrix([[matrix[0], matrix[1]], [matrix[1], matrix[2]]])).isPositiveDefinite();
}

function solve2(matrix: readonly [number, number, number], vector: readonly [number, number]): [number, number] {
  const solved = new CholeskyDecomposition(new Matrix([[matrix[0], matrix[1]], [matrix[1], matrix[2]]])).solve(Matrix.columnVector([...vector]));
  return [solved.get(0, 0), solved.get(1, 0)];
}

interface StoreFit {
  readonly phi: [number, number];
  /** The inverse observed information [aa, ab, bb] (not scaled for dispersion); undefined when the store is not identified. */
  readonly covariance: [number, number, number] | undefined;
  readonly elasticityFactor: number;
  readonly pearson: number;
}

/** (a_s, b_s) by Newton-Raphson on the store's rows, the other parameters fixed at the pooled fit's. */
export function fitStore(sales: PoolingSales, logMarketSize: Float64Array, rowsOf: Int32Array, fit: PooledFitSummary, maxIterations = 100): StoreFit {
  const size = fit.likelihood === 'negative-binomial' ? (fit.dispersionSize?.value ?? Number.POSITIVE_INFINITY) : Number.POSITIVE_INFINITY;
  let phi: [number, number] = [fit.theta[0] ?? 0, fit.theta[1] ?? 0];
  let pass = storePass(sales, logMarketSize, rowsOf, fit.theta, phi, size);
  let converged = false;
  for (let iteration = 0; iteration < maxIterations && !converged; iteration++) {
    const information = positiveDefinite(pass.negativeHessian) ? pass.negativeHessian : positiveDefinite(pass.fisher) ? pass.fisher : undefined;
    if (!information) break;
    const step = solve2(information, pass.gradient);
    const decrement = step[0] * pass.gradient[0] + step[1] * pass.gradient[1];
    if (!(decrement >= 0) || !Number.isFinite(decrement)) break;
    if (decrement < 1e-12 * (1 + Math.abs(pass.logLikelihood))) {
      // Take the last (tiny) step too: Newton's error after it is the square of this one's.
      const candidate: [number, number] = [phi[0] + step[0], phi[1] + step[1]];
      const trial = storePass(sales, logMarketSize, rowsOf, fit.theta, candidate, size);
      if (trial.logLikelihood >= pass.logLikelihood - 1e-12 * (1 + Math.abs(pass.logLikelihood))) {
        phi = candidate;
        pass = trial;
      }
      converged = true;
      break;
    }
    let accepted = false;
    for (let scale = 1; scale > 1e-10; scale /= 2) {
      const candidate: [number, number] = [phi[0] + scale * step[0], phi[1] + scale * step[1]];
      const trial = storePass(sales, logMarketSize, rowsOf, fit.theta, candidate, size);
      if (Number.isFinite(trial.logLikelihood) && trial.logLikelihood >= pass.logLikelihood) {
        phi = candidate;
        pass = trial;
        accepted = true;
        break;
      }
    }
    if (!accepted) {
      converged = decrement < 1e-6 * (1 + Math.abs(pass.logLikelihood));
      break;
    }
  }
  const elasticityFactor = rowsOf.length > 0 ? pass.elasticityFactor / rowsOf.length : 0;
  const [aa, ab, bb] = pass.negativeHessian;
  const determinant = aa * bb - ab * ab;
  // With no units sold the likelihood rises as the quality falls without end: no estimate exists.
  let units = 0;
  for (const row of rowsOf) units += sales.units[row] ?? 0;
  const identified = units > 0 && converged && positiveDefinite(pass.negativeHessian) && determinant > 1e-12 * Math.max(aa * bb, 1e-300) && Math.abs(phi[1]) < 1e6;
  if (!identified) return { phi, covariance: undefined, elasticityFactor, pearson: pass.pearson };
  return { phi, covariance: [bb / determinant, -ab / determinant, aa / determinant], elasticityFactor, pearson: pass.pearson };
}

// ---------------------------------------------------------------- level 2

function weightedLeastSquares(estimates: readonly number[], variances: readonly number[], design: readonly (readonly number[])[], tauSquared: number) {
  const columns = design[0]?.length ?? 1;
  const xtwx = Matrix.zeros(columns, columns);
  const xtwy = Matrix.zeros(columns, 1);
  let logVariance = 0;
  estimates.forEach((estimate, store) => {
    const total = (variances[store] ?? 0) + tauSquared;
    logVariance += Math.log(total);
    const row = design[store] ?? [];
    for (let p = 0; p < columns; p++) {
      xtwy.set(p, 0, xtwy.get(p, 0) + ((row[p] ?? 0) * estimate) / total);
      for (let q = 0; q < columns; q++) xtwx.set(p, q, xtwx.get(p, q) + ((row[p] ?? 0) * (row[q] ?? 0)) / total);
    }
  });
  const cholesky = new CholeskyDecomposition(xtwx);
  if (!cholesky.isPositiveDefinite()) return undefined;
  const beta = cholesky.solve(xtwy).getColumn(0);
  let residualSquares = 0;
  estimates.forEach((estimate, store) => {
    const row = design[store] ?? [];
    const fitted = row.reduce((total, value, p) => total + value * (beta[p] ?? 0), 0);
    residualSquares += ((estimate - fitted) * (estimate - fitted)) / ((variances[store] ?? 0) + tauSquared);
  });
  let logDeterminant = 0;
  const lower = cholesky.lowerTriangularMatrix;
  for (let p = 0; p < columns; p++) logDeterminant += 2 * Math.log(lower.get(p, p));
  return { beta: Float64Array.from(beta), xtwx, restrictedLogLikelihood: -0.5 * (logVariance + logDeterminant + residualSquares) };
}

/**
 * Level 2 by REML: estimates_s ~ N(x_s' beta, variances_s + tau^2). Returns tau with its
 * profile likelihood-ratio interval and beta with Student-t intervals. Needs more stores than
 * coefficients.
 */
export function fitSecondLevel(estimates: readonly number[], variances: readonly number[], design: readonly (readonly number[])[]): SecondLevelFit {
  const stores = estimates.length;
  const columns = design[0]?.length ?? 1;
  if (stores <= columns) throw configError('too few stores for the second level', [{ path: ['stores'], message: `expected more fitted stores than second-level coefficients (${columns}), found ${stores}` }]);
  const restricted = (tau: number) => weightedLeastSquares(estimates, variances, design, tau * tau)?.restrictedLogLikelihood ?? Number.NEGATIVE_INFINITY;
  const average = estimates.reduce((total, value) => total + value, 0) / stores;
  const spread = Math.sqrt(estimates.reduce((total, value) => total + (value - average) * (value - average), 0) / Math.max(1, stores - 1));
  const ceiling = 3 * spread + 1e-12;
  // A grid, then golden section around its best point (the REML likelihood in tau may have a flat start).
  const grid = 64;
  let best = 0;
  let bestValue = restricted(0);
  for (let index = 1; index <= grid; index++) {
    const tau = (ceiling * index) / grid;
    const value = restricted(tau);
    if (value > bestValue) {
      best = tau;
      bestValue = value;
    }
  }
  const step = ceiling / grid;
  let tauHat = goldenSectionMaximum(restricted, Math.max(0, best - step), best + step, 1e-10 * (1 + ceiling));
  if (restricted(tauHat) < bestValue) tauHat = best;
  const maximum = restricted(tauHat);
  const inside = (tau: number) => 2 * (maximum - restricted(tau)) <= chiSquare95;
  const bisect = (inner: number, outer: number) => {
    for (let iteration = 0; iteration < 200 && Math.abs(outer - inner) > 1e-10 * (1 + Math.abs(inner)); iteration++) {
      const middle = (inner + outer) / 2;
      if (inside(middle)) inner = middle;
      else outer = middle;
    }
    return (inner + outer) / 2;
  };
  const lower = inside(0) ? 0 : bisect(tauHat, 0);
  let outer = Math.max(2 * tauHat, ceiling, 1e-12);
  while (inside(outer) && outer < 1e12) outer *= 2;
  const upper = bisect(tauHat, outer);

  const solved = weightedLeastSquares(estimates, variances, design, tauHat * tauHat);
  if (!solved) throw configError('the store attributes are collinear', [{ path: ['stores'], message: 'expected attributes that are not constant or linear combinations of each other over the fitted stores' }]);
  const betaCovariance = inverse(solved.xtwx).to2DArray();
  const t = tQuantile(0.975, stores - columns);
  const coefficients = Array.from(solved.beta, (value, p) => {
    const standardError = Math.sqrt(betaCovariance[p]?.[p] ?? Number.NaN);
    return { value, standardError, lower: value - t * standardError, upper: value + t * standardError };
  });
  return { tau: { value: tauHat, lower, upper }, beta: solved.beta, betaCovariance, coefficients, restrictedLogLikelihood: maximum, used: stores };
}

/**
 * The empirical Bayes posterior of one store's parameter: its own estimate shrunk towards the
 * level-2 prediction `prior` (variance of the prediction `priorVariance`, from beta) by the
 * weight tau^2 / (tau^2 + variance). An unfitted store (variance Infinity) gets the prediction.
 */
export function shrink(estimate: number, variance: number, prior: number, priorVariance: number, tau: number): Interval & { weight: number } {
  const tauSquared = tau * tau;
  const weight = Number.isFinite(variance) ? (tauSquared + variance > 0 ? tauSquared / (tauSquared + variance) : 1) : 0;
  const value = Number.isFinite(variance) ? prior + weight * (estimate - prior) : prior;
  const shrunkVariance = Number.isFinite(variance) ? weight * variance + (1 - weight) * (1 - weight) * priorVariance : tauSquared + priorVariance;
  const standardError = Math.sqrt(shrunkVariance);
  return { value, standardError, lower: value - z95 * standardError, upper: value + z95 * standardError, weight };
}

function quadratic(covariance: readonly (readonly number[])[], row: readonly number[]): number {
  let total = 0;
  row.forEach((left, p) => row.forEach((right, q) => (total += left * right * (covariance[p]?.[q] ?? 0))));
  return total;
}

/** Rows of each store, grouped (a counting sort of the store index). */
function rowsByStore(sales: PoolingSales): Int32Array[] {
  const counts = new Int32Array(sales.storeNames.length);
  for (let row = 0; row < sales.rows; row++) counts[sales.store[row] ?? 0]! += 1;
  const groups = Array.from(counts, (count) => new Int32Array(count));
  const filled = new Int32Array(sales.storeNames.length);
  for (let row = 0; row < sales.rows; row++) {
    const store = sales.store[row] ?? 0;
    groups[store]![filled[store]!++] = row;
  }
  return groups;
}

/** The key a store id is matched by: numbers by value ("2" and "2.0" are the same store), text as written. */
export function storeKey(text: string): string {
  const trimmed = text.trim();
  const number = Number(trimmed);
  return trimmed !== '' && Number.isFinite(number) ? String(number) : trimmed;
}

/**
 * Partial pooling of the store qualities and price sensitivities around the pooled fit.
 * `logMarketSize` is each row's effective log market size under the pooled fit (arrival
 * effects included). Attributes, when given, must cover every store.
 */
export function poolStores(sales: PoolingSales, logMarketSize: Float64Array, fit: PooledFitSummary, attributes?: StoreAttributes): PoolingResult {
  const storeCount = sales.storeNames.length;
  if (storeCount < minimumStores) {
    throw configError('too few stores to pool', [{ path: ['store'], message: `expected at least ${minimumStores} stores for partial pooling, found ${storeCount}` }]);
  }
  const groups = rowsByStore(sales);
  const ownFits = groups.map((rowsOf) => fitStore(sales, logMarketSize, rowsOf, fit));
  // Quasi-Poisson: the Pearson dispersion of the store-level fits (not the pooled fit's, which
  // the spread between stores inflates) scales the store variances when it exceeds 1.
  const identifiedFits = ownFits.filter((storeFit) => storeFit.covariance !== undefined);
  const commonParameters = Math.max(0, fit.theta.length - 2);
  let pearson = 0;
  let rowsFitted = 0;
  ownFits.forEach((storeFit, store) => {
    if (!storeFit.covariance) return;
    pearson += storeFit.pearson;
    rowsFitted += groups[store]?.length ?? 0;
  });
  const withinDispersion = rowsFitted > 2 * identifiedFits.length + commonParameters ? pearson / (rowsFitted - 2 * identifiedFits.length - commonParameters) : Number.NaN;
  const scale = fit.likelihood === 'poisson' && withinDispersion > 1 ? withinDispersion : 1;
  const fits = ownFits.map((storeFit) => (storeFit.covariance ? { ...storeFit, covariance: storeFit.covariance.map((value) => value * scale) as [number, number, number] } : storeFit));
  const fitted = fits.map((storeFit, store) => ({ storeFit, store })).filter(({ storeFit }) => storeFit.covariance !== undefined);

  let design: number[][] = sales.storeNames.map(() => [1]);
  if (attributes) {
    const problems: Problem[] = [];
    const raw = sales.storeNames.map((name) => {
      const values = attributes.values.get(storeKey(name));
      if (!values && problems.length < 20) problems.push({ path: ['stores', name], message: `expected a row for store ${name} in ${attributes.file} (every store of the sales file needs its attributes), found none` });
      return values ?? [];
    });
    if (problems.length > 0) throw configError(`${attributes.file} lacks stores of the sales file`, problems);
    const means = attributes.columns.map((_, column) => fitted.reduce((total, { store }) => total + (raw[store]?.[column] ?? 0), 0) / Math.max(1, fitted.length));
    design = raw.map((values) => [1, ...values.map((value, column) => value - (means[column] ?? 0))]);
  }

  const secondLevel = (select: (storeFit: StoreFit) => { estimate: number; variance: number }, withAttributes: boolean) =>
    fitSecondLevel(
      fitted.map(({ storeFit }) => select(storeFit).estimate),
      fitted.map(({ storeFit }) => select(storeFit).variance),
      fitted.map(({ store }) => (withAttributes ? (design[store] ?? [1]) : [1])),
    );
  const sensitivityOf = (storeFit: StoreFit) => ({ estimate: storeFit.phi[1], variance: storeFit.covariance?.[2] ?? Number.POSITIVE_INFINITY });
  const qualityOf = (storeFit: StoreFit) => ({ estimate: storeFit.phi[0], variance: storeFit.covariance?.[0] ?? Number.POSITIVE_INFINITY });
  const sensitivityLevel = secondLevel(sensitivityOf, attributes !== undefined);
  const qualityLevel = secondLevel(qualityOf, false);

  const storeTable: StorePooling[] = fits.map((storeFit, store) => {
    const row = design[store] ?? [1];
    const own = storeFit.covariance ? { quality: interval(storeFit.phi[0], storeFit.covariance[0]), priceSensitivity: interval(storeFit.phi[1], storeFit.covariance[2]) } : undefined;
    const sensitivity = sensitivityOf(storeFit);
    const prior = row.reduce((total, value, p) => total + value * (sensitivityLevel.beta[p] ?? 0), 0);
    const shrunkSensitivity = shrink(sensitivity.estimate, sensitivity.variance, prior, quadratic(sensitivityLevel.betaCovariance, row), sensitivityLevel.tau.value);
    const quality = qualityOf(storeFit);
    const shrunkQuality = shrink(quality.estimate, quality.variance, qualityLevel.beta[0] ?? 0, qualityLevel.betaCovariance[0]?.[0] ?? 0, qualityLevel.tau.value);
    const factor = storeFit.elasticityFactor;
    const rowsOf = groups[store] ?? new Int32Array(0);
    let market = 0;
    for (const index of rowsOf) market += Math.exp(logMarketSize[index] ?? 0);
    const { weight, ...sensitivityInterval } = shrunkSensitivity;
    const qualityInterval: Interval = { value: shrunkQuality.value, standardError: shrunkQuality.standardError, lower: shrunkQuality.lower, upper: shrunkQuality.upper };
    return {
      store: sales.storeNames[store] ?? String(store),
      rows: rowsOf.length,
      own,
      shrunken: {
        quality: qualityInterval,
        priceSensitivity: sensitivityInterval,
        elasticity: { value: -factor * sensitivityInterval.value, standardError: factor * sensitivityInterval.standardError, lower: -factor * sensitivityInterval.upper, upper: -factor * sensitivityInterval.lower },
      },
      weight,
      marketPerPeriod: rowsOf.length > 0 ? market / rowsOf.length : 0,
    };
  });
  let pooledElasticity = 0;
  for (const rowsOf of groups) pooledElasticity -= (fit.theta[1] ?? 0) * storePass(sales, logMarketSize, rowsOf, fit.theta, [fit.theta[0] ?? 0, fit.theta[1] ?? 0], Number.POSITIVE_INFINITY).elasticityFactor;
  const meanFactor = fits.reduce((total, storeFit) => total + storeFit.elasticityFactor, 0) / storeCount;
  const toMean = (level: SecondLevelFit): Interval => level.coefficients[0] ?? { value: Number.NaN, standardError: Number.NaN, lower: Number.NaN, upper: Number.NaN };
  return {
    method:
      'empirical Bayes partial pooling: per-store quality and price sensitivity by maximum likelihood (other parameters at the pooled fit), the between-store spread tau by restricted maximum likelihood (profile likelihood-ratio interval), store estimates shrunk by tau^2 / (tau^2 + v_s) towards the second-level mean' +
      (attributes ? ' (a weighted regression on the store attributes, centred; Student-t intervals)' : '') +
      (scale > 1 ? `; store variances scaled by the within-store Pearson dispersion ${scale.toPrecision(3)} (quasi-Poisson)` : ''),
    stores: storeCount,
    storesEstimated: fitted.length,
    priceSensitivity: { tau: sensitivityLevel.tau, mean: toMean(sensitivityLevel) },
    quality: { tau: qualityLevel.tau, mean: toMean(qualityLevel) },
    attributes: attributes
      ? {
          file: attributes.file,
          sha256: attributes.sha256,
          coefficients: attributes.columns.map((name, column) => {
            const coefficient = sensitivityLevel.coefficients[column + 1]!;
            return { name, ...coefficient, elasticityPerUnit: -meanFactor * coefficient.value };
          }),
        }
      : undefined,
    meanElasticity: storeTable.reduce((total, entry) => total + entry.shrunken.elasticity.value, 0) / storeCount,
    pooledElasticity: pooledElasticity / Math.max(1, sales.rows),
    storeTable,
  };
}

function interval(value: number, variance: number): Interval {
  const standardError = Math.sqrt(variance);
  return { value, standardError, lower: value - z95 * standardError, upper: value + z95 * standardError };
}

// ---------------------------------------------------------------- the attribute table

/**
 * Reads a store attribute table (CSV, plain or gzipped): one row per store, keyed by the
 * column named like the sales file's store column (case-insensitively), every other column
 * (or those in `columns`) a number. Bad values are config errors naming the row and column.
 */
export function readStoreAttributes(path: string, storeColumn: string, columns?: readonly string[]): StoreAttributes {
  let bytes: Buffer;
  try {
    if (!statSync(path).isFile()) throw configError(`cannot read ${path}`, [{ path: ['stores'], message: 'expected a regular file, found something else' }]);
    bytes = readFileSync(path);
  } catch (error) {
    if (error instanceof PricelabError) throw error;
    throw new PricelabError('not-found', `no store attribute file at ${path}`);
  }
  // A table of stores is small (one row per store): read whole, gunzipped when the magic bytes say so.
  let records: Record<string, string>[];
  try {
    const text = bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;
    records = parse(text, { columns: true, skip_empty_lines: true, trim: true }) as Record<string, string>[];
  } catch (error) {
    throw configError(`${path} could not be read as CSV`, [{ path: ['stores'], message: `expected CSV (plain or gzipped) with a header row, found an error: ${(error as Error).message}` }]);
  }
  const header = Object.keys(records[0] ?? {});
  const key = header.find((name) => name.toLowerCase() === storeColumn.toLowerCase());
  const problems: Problem[] = [];
  if (!key) problems.push({ path: ['stores', storeColumn], message: `expected a store column named ${storeColumn} (any case) in ${path}, found columns ${header.join(', ') || 'none'}` });
  const chosen = columns ?? header.filter((name) => name !== key);
  for (const name of chosen) if (!header.includes(name)) problems.push({ path: ['store-attributes', name], message: `expected an attribute column ${name} in ${path}, found columns ${header.join(', ')}` });
  if (chosen.length === 0) problems.push({ path: ['stores'], message: `expected at least one attribute column besides the store in ${path}, found none` });
  if (problems.length > 0) throw configError(`${path} is not a store attribute table`, problems);
  const values = new Map<string, number[]>();
  records.forEach((record, index) => {
    const store = storeKey(record[key!] ?? '');
    if (values.has(store) && problems.length < 20) problems.push({ path: [`row[${index + 1}]`, key!], message: `expected one row per store, found store ${store} again` });
    values.set(
      store,
      chosen.map((name) => {
        const value = Number(record[name]);
        if ((record[name] === undefined || record[name] === '' || !Number.isFinite(value)) && problems.length < 20) {
          problems.push({ path: [`row[${index + 1}]`, name], message: `expected a number, found ${JSON.stringify(record[name] ?? '')}` });
        }
        return value;
      }),
    );
  });
  if (problems.length > 0) throw configError(`${path} has bad store attributes`, problems);
  return { file: path, sha256: createHash('sha256').update(bytes).digest('hex'), columns: chosen, values };
}

// ---------------------------------------------------------------- into the scenario and its record

export interface PoolingOptions {
  /** false: no pooling; default: pool whenever the history has at least `minimumStores` stores. */
  readonly enabled?: boolean;
  readonly attributes?: StoreAttributes;
  /** Write this store's market (its shrunken quality and sensitivity, its own arrivals) instead of the pooled one. */
  readonly store?: string;
}

const round = (value: number) => Number(value.toPrecision(6));
const roundInterval = (entry: Interval) => ({ value: round(entry.value), standardError: round(entry.standardError), lower: round(entry.lower), upper: round(entry.upper) });
const roundTau = (tau: SecondLevelFit['tau']) => ({ value: round(tau.value), lower: round(tau.lower), upper: round(tau.upper) });

/** The `pooling` block of the calibration record (numbers to six significant digits). */
export function poolingRecord(result: PoolingResult, scenarioStore: string | undefined): NonNullable<CalibrationRecord['pooling']> {
  return {
    method: result.method,
    stores: result.stores,
    storesEstimated: result.storesEstimated,
    ...(scenarioStore === undefined ? {} : { scenarioStore }),
    priceSensitivity: { tau: roundTau(result.priceSensitivity.tau), mean: roundInterval(result.priceSensitivity.mean) },
    quality: { tau: roundTau(result.quality.tau), mean: roundInterval(result.quality.mean) },
    meanElasticity: round(result.meanElasticity),
    pooledElasticity: round(result.pooledElasticity),
    ...(result.attributes
      ? {
          attributes: {
            file: result.attributes.file,
            sha256: result.attributes.sha256,
            coefficients: result.attributes.coefficients.map((entry) => ({ name: entry.name, ...roundInterval(entry), elasticityPerUnit: round(entry.elasticityPerUnit) })),
          },
        }
      : {}),
    storeEstimates: result.storeTable.map((entry) => ({
      store: entry.store,
      rows: entry.rows,
      weight: round(entry.weight),
      ...(entry.own ? { own: { quality: roundInterval(entry.own.quality), priceSensitivity: roundInterval(entry.own.priceSensitivity) } } : {}),
      quality: roundInterval(entry.shrunken.quality),
      priceSensitivity: roundInterval(entry.shrunken.priceSensitivity),
      elasticity: roundInterval(entry.shrunken.elasticity),
    })),
  };
}

/**
 * Pools the stores of a calibrated history and puts the result in the record; with
 * `options.store`, the scenario becomes that store's market: its shrunken quality and price
 * sensitivity, its own arrivals per day (the rivals, promotions and everything else stay
 * the pooled fit's). When pooling was not asked for (no attributes, no store) and fails, the
 * scenario is the pooled one and the record says why among the defaults; when it was asked
 * for, the failure is the caller's error (exit 2).
 */
export function applyPooling(
  sales: PoolingSales,
  logMarketSize: Float64Array,
  fit: PooledFitSummary,
  daysPerPeriod: number,
  options: PoolingOptions | undefined,
  built: { readonly scenario: ScenarioInput; readonly record: CalibrationRecord },
): { scenario: ScenarioInput; record: CalibrationRecord; pooling: PoolingResult | undefined } {
  const asked = options?.attributes !== undefined || options?.store !== undefined;
  if (options?.enabled === false || (!asked && sales.storeNames.length < minimumStores)) return { ...built, pooling: undefined };
  let pooling: PoolingResult;
  try {
    pooling = poolStores(sales, logMarketSize, fit, options?.attributes);
    const nonFinite = firstNonFinite(poolingRecord(pooling, undefined), 'pooling');
    if (nonFinite !== undefined) throw configError('the pooling across stores is degenerate', [{ path: ['pooling'], message: `expected finite estimates, found ${nonFinite} not finite` }]);
  } catch (error) {
    // Asked for (attributes, a store), a failure is the command's error; on by default, it is a listed default.
    if (asked) throw error;
    const reason = error instanceof PricelabError ? `${error.message}: ${error.problems.map((problem) => problem.message).join('; ')}` : `the pooling failed: ${(error as Error).message}`;
    return { ...built, record: { ...built.record, defaults: [...built.record.defaults, { field: 'pooling', value: 'not done', reason }] }, pooling: undefined };
  }
  if (built.record.endogeneity?.choice === 'instrumented') {
    pooling = {
      ...pooling,
      method: `${pooling.method}; the stores' sensitivities take prices as exogenous within each store (as the naive fit does, pooledElasticity), while the pooled scenario's is instrumented (calibration.endogeneity)`,
    };
  }
  const store = options?.store;
  if (store === undefined) return { scenario: { ...built.scenario, calibration: { ...built.record, pooling: poolingRecord(pooling, undefined) } }, record: { ...built.record, pooling: poolingRecord(pooling, undefined) }, pooling };

  const entry = pooling.storeTable.find((candidate) => storeKey(candidate.store) === storeKey(store));
  if (!entry) {
    throw configError(`no store ${store} in the sales file`, [{ path: ['store'], message: `expected one of the ${pooling.stores} stores (${pooling.storeTable.slice(0, 10).map((candidate) => candidate.store).join(', ')}${pooling.stores > 10 ? ', ...' : ''}), found ${store}` }]);
  }
  const demand = built.scenario.demand;
  if (demand.kind !== 'logit') return { ...built, pooling };
  const method = `${pooling.method}; store ${entry.store}'s shrunken estimate (the scenario is this store's market)`;
  const arrivalRate = round(entry.marketPerPeriod / daysPerPeriod);
  const storeEstimates: CalibrationRecord['estimates'] = [
    { parameter: `store:${entry.store}:quality`, scenarioPath: 'demand.quality', ...roundInterval(entry.shrunken.quality), method },
    { parameter: `store:${entry.store}:priceSensitivity`, scenarioPath: 'demand.segments[0].priceSensitivity', ...roundInterval(entry.shrunken.priceSensitivity), method },
  ];
  const record: CalibrationRecord = {
    ...built.record,
    // The pooled quality and sensitivity stay in the record, no longer placed in the scenario.
    estimates: [
      ...built.record.estimates.map((estimate) =>
        estimate.scenarioPath === 'demand.quality' || estimate.scenarioPath === 'demand.segments[0].priceSensitivity' ? withoutScenarioPath(estimate) : estimate,
      ),
      ...storeEstimates,
    ],
    derived: [...built.record.derived, { name: 'storeArrivalRatePerDay', value: arrivalRate, method: `store ${entry.store}: mean market size per period over its rows / days per period` }],
    defaults: built.record.defaults.map((entryDefault) => (entryDefault.field === 'demand.segments[0].arrivalRate' ? { ...entryDefault, value: arrivalRate } : entryDefault)),
    pooling: poolingRecord(pooling, entry.store),
  };
  const scenario: ScenarioInput = {
    ...built.scenario,
    description: `${built.scenario.description} (store ${entry.store} of ${pooling.stores}, partial pooling)`,
    demand: {
      ...demand,
      quality: round(entry.shrunken.quality.value),
      segments: demand.segments.map((segment, index) => (index === 0 ? { ...segment, priceSensitivity: round(entry.shrunken.priceSensitivity.value), arrivalRate } : segment)),
    },
    calibration: record,
  };
  return { scenario, record, pooling };
}

/** The path of the first number that is not finite in a JSON-like value, or undefined. */
function firstNonFinite(value: unknown, path: string): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : path;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      const found = firstNonFinite(value[index], `${path}[${index}]`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, entry] of Object.entries(value)) {
      const found = firstNonFinite(entry, `${path}.${key}`);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

function withoutScenarioPath(estimate: CalibrationRecord['estimates'][number]): CalibrationRecord['estimates'][number] {
  const { scenarioPath: _placed, ...rest } = estimate;
  void _placed;
  return rest;
}

/**
 * The pooling options from the command line's --stores, --store-attributes and --store.
 * Without --map the default map reads a column named `store` when there is one.
 */
export function poolingOptionsFromFlags(flags: { readonly stores?: string; readonly storeAttributes?: string; readonly store?: string; readonly map?: string }, mappedStoreColumn: string | undefined): PoolingOptions | undefined {
  const storeColumn = mappedStoreColumn ?? (flags.map === undefined ? 'store' : undefined);
  if (flags.stores === undefined && flags.store === undefined) {
    if (flags.storeAttributes !== undefined) throw configError('--store-attributes needs --stores', [{ path: ['store-attributes'], message: 'expected --stores <file> with it, found none' }]);
    return undefined;
  }
  if (storeColumn === undefined) {
    throw configError('pooling across stores needs a store column', [{ path: [flags.stores === undefined ? 'store' : 'stores'], message: 'expected the column map to name a store column ("store"), found none' }]);
  }
  const columns = flags.storeAttributes?.split(',').map((name) => name.trim()).filter((name) => name.length > 0);
  return {
    ...(flags.stores === undefined ? {} : { attributes: readStoreAttributes(flags.stores, storeColumn, columns) }),
    ...(flags.store === undefined ? {} : { store: flags.store }),
  };
}

/** Lines for the command's text output: tau, the mean, the attribute effects, the scenario's store. */
export function poolingSummaryLines(pooling: CalibrationRecord['pooling']): string[] {
  if (!pooling) return [];
  const figure = (value: number) => Number(value.toPrecision(4)).toString();
  const sensitivity = pooling.priceSensitivity;
  const lines = [
    '',
    `partial pooling: ${pooling.storesEstimated} of ${pooling.stores} stores fitted; store price sensitivities ${figure(sensitivity.mean.value)} (${figure(sensitivity.mean.lower)} .. ${figure(sensitivity.mean.upper)}) on average, spread tau ${figure(sensitivity.tau.value)} (${figure(sensitivity.tau.lower)} .. ${figure(sensitivity.tau.upper)}); mean store elasticity ${figure(pooling.meanElasticity)}${pooling.pooledElasticity === undefined ? '' : ` (the fit pooled around: ${figure(pooling.pooledElasticity)})`}`,
  ];
  for (const coefficient of pooling.attributes?.coefficients ?? []) {
    const clear = coefficient.lower > 0 || coefficient.upper < 0;
    lines.push(`  ${coefficient.name}: ${figure(coefficient.value)} (${figure(coefficient.lower)} .. ${figure(coefficient.upper)}) per unit, elasticity ${figure(coefficient.elasticityPerUnit)} per unit${clear ? ' *' : ''}`);
  }
  lines.push(pooling.scenarioStore === undefined ? '  the scenario is the pooled market (--store <id> writes one store\'s)' : `  the scenario is store ${pooling.scenarioStore}'s market (its shrunken quality and sensitivity, its arrivals)`);
  return lines;
}
