/**
 * Card: level 2 of the partial pooling across stores (calibration/pooling.ts) and the
 * empirical Bayes shrinkage.
 *
 *   estimate_s ~ Normal(x_s' beta, v_s + tau^2)
 *
 * tau by restricted maximum likelihood (beta integrated out): a grid, then a golden-section
 * search on tau >= 0; its 95% interval from the profile likelihood ratio (2 delta loglik <=
 * 3.84; 0 as the lower end when 0 is inside). beta by weighted least squares at tau (weights
 * 1 / (v_s + tau^2), ml-matrix solves), Student-t intervals with (stores - coefficients)
 * degrees of freedom. A store's shrunken estimate: x_s' beta + w_s (estimate_s - x_s' beta),
 * w_s = tau^2 / (tau^2 + v_s), variance w_s v_s + (1 - w_s)^2 x_s' Cov(beta) x_s (Morris).
 */
import { CholeskyDecomposition, Matrix, inverse } from 'ml-matrix';
import tQuantile from '@stdlib/stats-base-dists-t-quantile';
import { configError } from '../core/errors.js';
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
