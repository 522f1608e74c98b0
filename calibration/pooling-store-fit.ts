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
 * identified (no units sold, no convergence, a singular information). Newton is a generator
 * (`storeNewton`) so that pool-stores.ts can run every store's at once, one pass over the
 * blocks of rows serving each store's next step.
 */
import { CholeskyDecomposition, Matrix } from 'ml-matrix';
import type { SalesData } from './reader.js';
import type { SalesBlock, ScratchBlocks } from './sales-blocks.js';

/** What the pooling needs from the pooled fit. */
export interface PooledFitSummary {
  readonly theta: ArrayLike<number>;
  readonly likelihood: 'poisson' | 'negative-binomial';
  readonly dispersion: number;
  readonly dispersionSize?: { readonly value: number };
}

/** The sales rows the pooling reads: whole columns, or a SalesData whose rows are read block by block from its scratch file. */
export type PoolingSales = Pick<SalesData, 'rows' | 'units' | 'price' | 'promotions' | 'rivalPrices' | 'store' | 'storeNames'> & { readonly scratch?: ScratchBlocks | undefined };

/** The columns of one block of rows (or of every row) that a store's pass reads. */
type PassRows = Pick<SalesBlock, 'units' | 'price' | 'promotions' | 'rivalPrices'>;

export interface StorePass {
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

export const emptyPass = (): StorePass => ({ logLikelihood: 0, gradient: [0, 0], negativeHessian: [0, 0, 0], fisher: [0, 0, 0], elasticityFactor: 0, pearson: 0 });

/** Adds row `row` of `rows` (log market size `logMarketSize`) to a store's pass at (a_s, b_s) = phi; `utilities` holds rivals + 1 entries. */
export function addStoreRow(pass: StorePass, rows: PassRows, row: number, logMarketSize: number, fixed: ArrayLike<number>, phi: readonly [number, number], size: number, utilities: Float64Array): void {
  const poisson = !Number.isFinite(size);
  const promotionCount = rows.promotions.length;
  const rivalCount = rows.rivalPrices.length;
  const [quality, sensitivity] = phi;
  const price = rows.price[row] ?? 0;
  let ours = quality - sensitivity * price;
  for (let index = 0; index < promotionCount; index++) ours += (fixed[2 + index] ?? 0) * (rows.promotions[index]?.[row] ?? 0);
  utilities[0] = ours;
  let largest = Math.max(0, ours);
  for (let index = 0; index < rivalCount; index++) {
    const utility = (fixed[2 + promotionCount + index] ?? 0) - sensitivity * (rows.rivalPrices[index]?.[row] ?? 0);
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
    const rivalPrice = rows.rivalPrices[index]?.[row] ?? 0;
    meanB -= share * rivalPrice;
    secondBB += share * rivalPrice * rivalPrice;
  }
  const meanA = ownShare;
  const secondAA = ownShare;
  const secondAB = -ownShare * price;
  const logLambda = logMarketSize + ours - largest - Math.log(denominator);
  const lambda = Math.exp(logLambda);
  const units = rows.units[row] ?? 0;
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

/** One store's pass over its rows (`rowsOf`, indices into whole columns). */
export function storePass(sales: PassRows, logMarketSize: ArrayLike<number>, rowsOf: Int32Array, fixed: ArrayLike<number>, phi: readonly [number, number], size: number): StorePass {
  const pass = emptyPass();
  const utilities = new Float64Array(sales.rivalPrices.length + 1);
  for (const row of rowsOf) addStoreRow(pass, sales, row, logMarketSize[row] ?? 0, fixed, phi, size, utilities);
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

/** The negative binomial size of the pooled fit, Infinity for the Poisson. */
export const pooledSize = (fit: PooledFitSummary) => (fit.likelihood === 'negative-binomial' ? (fit.dispersionSize?.value ?? Number.POSITIVE_INFINITY) : Number.POSITIVE_INFINITY);

/**
 * Newton-Raphson on (a_s, b_s) as a generator: it yields each phi whose pass it needs and is
 * resumed with that pass, so one store can be fitted alone over its rows or every store at
 * once, a pass over the blocks serving each store's next request. Returns phi, its pass and
 * whether Newton converged.
 */
export function* storeNewton(fit: PooledFitSummary, maxIterations = 100): Generator<[number, number], { phi: [number, number]; pass: StorePass; converged: boolean }, StorePass> {
  let phi: [number, number] = [fit.theta[0] ?? 0, fit.theta[1] ?? 0];
  let pass = yield phi;
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
      const trial = yield candidate;
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
      const trial = yield candidate;
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
  return { phi, pass, converged };
}

/** A store's fit from Newton's end, its row count and its units sold. */
export function storeFitOf(result: { phi: [number, number]; pass: StorePass; converged: boolean }, rows: number, units: number): StoreFit {
  const { phi, pass, converged } = result;
  const elasticityFactor = rows > 0 ? pass.elasticityFactor / rows : 0;
  const [aa, ab, bb] = pass.negativeHessian;
  const determinant = aa * bb - ab * ab;
  // With no units sold the likelihood rises as the quality falls without end: no estimate exists.
  const identified = units > 0 && converged && positiveDefinite(pass.negativeHessian) && determinant > 1e-12 * Math.max(aa * bb, 1e-300) && Math.abs(phi[1]) < 1e6;
  if (!identified) return { phi, covariance: undefined, elasticityFactor, pearson: pass.pearson };
  return { phi, covariance: [bb / determinant, -ab / determinant, aa / determinant], elasticityFactor, pearson: pass.pearson };
}

/** (a_s, b_s) by Newton-Raphson on the store's rows (indices into whole columns), the other parameters fixed at the pooled fit's. */
export function fitStore(sales: PassRows, logMarketSize: ArrayLike<number>, rowsOf: Int32Array, fit: PooledFitSummary, maxIterations = 100): StoreFit {
  const size = pooledSize(fit);
  const newton = storeNewton(fit, maxIterations);
  let request = newton.next(emptyPass());
  while (!request.done) request = newton.next(storePass(sales, logMarketSize, rowsOf, fit.theta, request.value, size));
  let units = 0;
  for (const row of rowsOf) units += sales.units[row] ?? 0;
  return storeFitOf(request.value, rowsOf.length, units);
}
