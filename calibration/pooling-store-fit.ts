/**
 * Card: level 1 of the partial pooling across stores (calibration/pooling.ts): one store's
 * quality a_s and price sensitivity b_s by maximum likelihood on its own rows, everything
 * else (promotion lifts, rival qualities, the negative binomial size) held at the pooled
 * fit's values.
 *
 *   u_0t = a_s - b_s p_t + sum_m gamma_m z_mt,   u_kt = a_k - b_s r_kt,   units ~ Poisson or NB(M_t s_t)
 *
 * Newton-Raphson on the two parameters (Fisher scoring when the observed information is not
 * positive definite, step halving). The covariance is the inverse observed information (not
 * scaled for dispersion; pool-stores.ts scales it); undefined when the store is not
 * identified (no units sold, no convergence, a singular information).
 */
import { CholeskyDecomposition, Matrix } from 'ml-matrix';
import type { SalesData } from './reader.js';

/** What the pooling needs from the pooled fit. */
export interface PooledFitSummary {
  readonly theta: ArrayLike<number>;
  readonly likelihood: 'poisson' | 'negative-binomial';
  readonly dispersion: number;
  readonly dispersionSize?: { readonly value: number };
}

export type PoolingSales = Pick<SalesData, 'rows' | 'units' | 'price' | 'promotions' | 'rivalPrices' | 'store' | 'storeNames'>;

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

export function storePass(sales: PoolingSales, logMarketSize: Float64Array, rowsOf: Int32Array, fixed: ArrayLike<number>, phi: readonly [number, number], size: number): StorePass {
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

export interface StoreFit {
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
