/**
 * Card: the demand log-likelihood of calibration/logit-poisson.ts at one theta, in one pass
 * over the rows (block by block for a blocked design): its value, gradient, minus its
 * Hessian and the Fisher information, the Pearson sum, for the Poisson or NB2 units, with
 * censored rows through calibration/censored-term.ts.
 *
 * Derivatives: with d_j = du_j/dtheta (u linear in theta) and shares s_j,
 *   dlog lambda = d_0 - m,  m = sum_j s_j d_j;   d2 log lambda = -(sum_j s_j d_j d_j' - m m')
 *   grad = sum_t (y_t - lambda_t) dlog lambda_t;  -Hessian = sum_t lambda_t g g' + (y_t - lambda_t)(sum_j s_j d_j d_j' - m m').
 */
import gammaln from '@stdlib/math-base-special-gammaln';
import { censoredTerm } from './censored-term.js';
import { designBlocks, rowLogMarketSize, shapeOf, type DemandData } from './demand-design.js';

/** Workspace for one pass over the rows: log-likelihood, gradient, minus the Hessian, Fisher information. */
export interface Pass {
  logLikelihood: number;
  gradient: Float64Array;
  negativeHessian: Float64Array;
  fisher: Float64Array;
  pearson: number;
  /** Rows in the Pearson sum (uncensored rows used). */
  pearsonRows: number;
  rows: number;
}

/**
 * One pass over the rows at `theta`. `dispersionSize` is the negative binomial size k
 * (variance lambda + lambda^2 / k); Infinity gives the Poisson. With eta = log lambda:
 *   Poisson: dl/deta = y - lambda, -d2l/deta2 = lambda
 *   NB2:     dl/deta = k (y - lambda) / (k + lambda), -d2l/deta2 = (y + k) lambda k / (k + lambda)^2, Fisher weight lambda k / (k + lambda)
 */
export function evaluate(design: DemandData, theta: Float64Array, withDerivatives: boolean, dispersionSize = Number.POSITIVE_INFINITY): Pass {
  const poisson = !Number.isFinite(dispersionSize);
  const k = dispersionSize;
  const sizeConstant = poisson ? 0 : k * Math.log(k) - gammaln(k);
  const shape = shapeOf(design);
  const promotionCount = shape.promotionCount;
  const rivalCount = shape.rivalCount;
  const size = theta.length;
  const gradient = new Float64Array(size);
  const negativeHessian = new Float64Array(size * size);
  const fisher = new Float64Array(size * size);
  // Our d_0 (quality, price, promotions), the shares, the mean m and the score g.
  const ownLength = 2 + promotionCount;
  const own = new Float64Array(ownLength);
  const shares = new Float64Array(rivalCount + 1);
  const utilities = new Float64Array(rivalCount + 1);
  const mean = new Float64Array(size);
  const score = new Float64Array(size);
  const covariateOffset = ownLength + rivalCount + shape.arrivalNames.length;
  // The row's score is dense over our utility and the rivals, and has one arrival level and the
  // covariates besides (zero elsewhere, as is the mean m): the derivative sums run over these
  // `active` indices only, in increasing order (with 83 store levels, a 25th of the work).
  const denseLength = ownLength + rivalCount;
  const active = new Int32Array(size);
  let logLikelihood = 0;
  let pearson = 0;
  let pearsonRows = 0;
  let rows = 0;
  const sensitivity = theta[1] ?? 0;
  for (const data of designBlocks(design)) for (let row = 0; row < data.rows; row++) {
    if (data.include && data.include[row] !== 1) continue;
    rows++;
    const price = data.price[row] ?? 0;
    let ours = (theta[0] ?? 0) - sensitivity * price;
    for (let index = 0; index < promotionCount; index++) ours += (theta[2 + index] ?? 0) * (data.promotions[index]?.[row] ?? 0);
    utilities[0] = ours;
    let largest = Math.max(0, ours);
    for (let index = 0; index < rivalCount; index++) {
      const utility = (theta[2 + promotionCount + index] ?? 0) - sensitivity * (data.rivalPrices[index]?.[row] ?? 0);
      utilities[index + 1] = utility;
      if (utility > largest) largest = utility;
    }
    let denominator = Math.exp(-largest);
    for (let index = 0; index <= rivalCount; index++) {
      const weight = Math.exp((utilities[index] ?? 0) - largest);
      shares[index] = weight;
      denominator += weight;
    }
    for (let index = 0; index <= rivalCount; index++) shares[index] = (shares[index] ?? 0) / denominator;
    const logShare = ours - largest - Math.log(denominator);
    const logLambda = rowLogMarketSize(data, theta, row) + logShare;
    const lambda = Math.exp(logLambda);
    const units = data.units[row] ?? 0;
    const censored = data.censored?.[row] === 1 ? censoredTerm(units, logLambda, dispersionSize) : undefined;
    if (censored) {
      // log P(Y >= y), every constant included (constantOf skips censored rows); no Pearson term.
      logLikelihood += censored.logSurvival;
    } else if (poisson) {
      pearsonRows++;
      logLikelihood += (units > 0 ? units * logLambda : 0) - lambda;
      pearson += lambda > 0 ? ((units - lambda) * (units - lambda)) / lambda : 0;
    } else {
      pearsonRows++;
      logLikelihood += (units > 0 ? units * logLambda : 0) - (units + k) * Math.log(k + lambda) + sizeConstant + gammaln(units + k);
      pearson += lambda > 0 ? ((units - lambda) * (units - lambda)) / (lambda + (lambda * lambda) / k) : 0;
    }
    if (!withDerivatives) continue;

    // m = sum_j s_j d_j. Our d_0 is dense over quality, price and promotions; rival k's d_k
    // has two entries (-r_k at the price, 1 at its quality), so the second moment
    // sum_j s_j d_j d_j' is our dense block plus three entries per rival: O(P^2 + K) a row.
    const ownShare = shares[0] ?? 0;
    own[0] = 1;
    own[1] = -price;
    for (let index = 0; index < promotionCount; index++) own[2 + index] = data.promotions[index]?.[row] ?? 0;
    for (let p = 0; p < ownLength; p++) mean[p] = ownShare * (own[p] ?? 0);
    for (let index = 0; index < rivalCount; index++) {
      const rivalShare = shares[index + 1] ?? 0;
      mean[1] = (mean[1] ?? 0) - rivalShare * (data.rivalPrices[index]?.[row] ?? 0);
      mean[ownLength + index] = rivalShare;
    }
    for (let p = 0; p < size; p++) score[p] = (p < ownLength ? (own[p] ?? 0) : 0) - (mean[p] ?? 0);
    // An arrival effect enters log lambda directly (not through the shares): score 1, no second moment.
    const level = data.arrivalEffects?.level[row] ?? -1;
    let activeCount = denseLength;
    for (let p = 0; p < denseLength; p++) active[p] = p;
    if (level >= 0) {
      score[denseLength + level] = 1;
      active[activeCount++] = denseLength + level;
    }
    data.arrivalCovariates?.columns.forEach((column, index) => {
      score[covariateOffset + index] = column[row] ?? 0;
      active[activeCount++] = covariateOffset + index;
    });
    // residual: dl/deta; curvature: -d2l/deta2; expected: its expectation (Fisher scoring).
    const residual = censored ? censored.score : poisson ? units - lambda : (k * (units - lambda)) / (k + lambda);
    const curvature = censored ? censored.curvature : poisson ? lambda : ((units + k) * lambda * k) / ((k + lambda) * (k + lambda));
    const expected = censored ? censored.score * censored.score : poisson ? lambda : (lambda * k) / (k + lambda);
    for (let a = 0; a < activeCount; a++) {
      const p = active[a] ?? 0;
      gradient[p] = (gradient[p] ?? 0) + residual * (score[p] ?? 0);
    }
    // -Hessian += curvature g g' + residual (second moment - m m'); Fisher += expected g g'.
    for (let a = 0; a < activeCount; a++) {
      const p = active[a] ?? 0;
      const scoreP = score[p] ?? 0;
      const meanP = mean[p] ?? 0;
      for (let b = 0; b <= a; b++) {
        const q = active[b] ?? 0;
        const outer = scoreP * (score[q] ?? 0);
        fisher[p * size + q] = (fisher[p * size + q] ?? 0) + expected * outer;
        negativeHessian[p * size + q] = (negativeHessian[p * size + q] ?? 0) + curvature * outer - residual * meanP * (mean[q] ?? 0);
      }
    }
    const weighted = residual * ownShare;
    for (let p = 0; p < ownLength; p++) {
      for (let q = 0; q <= p; q++) negativeHessian[p * size + q] = (negativeHessian[p * size + q] ?? 0) + weighted * (own[p] ?? 0) * (own[q] ?? 0);
    }
    for (let index = 0; index < rivalCount; index++) {
      const rivalWeight = residual * (shares[index + 1] ?? 0);
      const rivalPrice = data.rivalPrices[index]?.[row] ?? 0;
      const column = ownLength + index;
      negativeHessian[1 * size + 1] = (negativeHessian[1 * size + 1] ?? 0) + rivalWeight * rivalPrice * rivalPrice;
      negativeHessian[column * size + 1] = (negativeHessian[column * size + 1] ?? 0) - rivalWeight * rivalPrice;
      negativeHessian[column * size + column] = (negativeHessian[column * size + column] ?? 0) + rivalWeight;
    }
  }
  for (let p = 0; p < size; p++) {
    for (let q = 0; q < p; q++) {
      negativeHessian[q * size + p] = negativeHessian[p * size + q] ?? 0;
      fisher[q * size + p] = fisher[p * size + q] ?? 0;
    }
  }
  return { logLikelihood, gradient, negativeHessian, fisher, pearson, pearsonRows, rows };
}

/** The log-likelihood (without the sum log y! of exact rows), its gradient and minus its Hessian at `theta` (checked against numerical derivatives in tests). */
export function logLikelihoodDerivatives(
  data: DemandData,
  theta: ArrayLike<number>,
  dispersionSize = Number.POSITIVE_INFINITY,
): { logLikelihood: number; gradient: Float64Array; negativeHessian: Float64Array } {
  const pass = evaluate(data, Float64Array.from(theta), true, dispersionSize);
  return { logLikelihood: pass.logLikelihood, gradient: pass.gradient, negativeHessian: pass.negativeHessian };
}

/** sum log(y!) over the rows used: the part of the Poisson log-likelihood free of parameters. */
export function constantOf(design: DemandData): number {
  let total = 0;
  for (const data of designBlocks(design)) for (let row = 0; row < data.rows; row++) {
    if ((data.include && data.include[row] !== 1) || data.censored?.[row] === 1) continue;
    total += gammaln((data.units[row] ?? 0) + 1);
  }
  return total;
}
