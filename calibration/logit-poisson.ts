/**
 * Card: the simulator's demand model fitted to a sales history by maximum likelihood.
 *
 * Model (the simulator's own, docs/market-model.md, with one segment):
 *   units_t ~ Poisson(M_t * s_t),   s_t = exp(u_0t) / (exp(a_out) + exp(u_0t) + sum_k exp(u_kt))
 *   u_0t = a - b p_t + sum_m gamma_m z_mt        (our offer: quality, price, promotion lifts)
 *   u_kt = a_k - b r_kt                          (rival k at its price r_kt)
 * The outside utility a_out is 0 and the logit scale mu is 1: utilities are identified only
 * up to location and scale (a, b, a_k and gamma are in units of mu), which the simulator
 * accepts as given. M_t, the market size (arrivals), is known per row: the traffic column
 * when there is one, otherwise an assumed potential market (see calibration/calibrate.ts).
 * Units are the simulator's Poisson thinning of arrivals, so with traffic the likelihood is
 * the simulator's exact law.
 *
 * Parameters, in order: quality (a), priceSensitivity (b, utility per currency unit),
 * lift:<promotion> (gamma_m, utility), rivalQuality:<column> (a_k), then arrival:<level>
 * (log multipliers of M_t by level) and the arrival covariates (beta_j x_jt added to log M_t).
 *
 * Method: Newton-Raphson on the log-likelihood with the analytic gradient and Hessian,
 * falling back to Fisher scoring when the observed information is not positive definite,
 * with step halving so that every step raises the likelihood; converged when the Newton
 * decrement falls below 1e-14 (1 + |loglik|). Linear algebra: ml-matrix (Cholesky solves,
 * inverse). Intervals: 95% Wald from the inverse observed information at the optimum; when
 * the Pearson dispersion exceeds `quasiThreshold` (overdispersed counts, as in scanner data)
 * the standard errors are scaled by its square root (quasi-Poisson) and the method says so.
 *
 * Overdispersed counts (scanner data): fitLogitNegativeBinomial, the same mean with NB2
 * units (variance lambda + lambda^2 / k), alternating Newton on the utilities with a
 * golden-section search over log k, as MASS::glm.nb alternates IRLS and theta.ml.
 *
 * Derivatives: with d_j = du_j/dtheta (u linear in theta) and shares s_j,
 *   dlog lambda = d_0 - m,  m = sum_j s_j d_j;   d2 log lambda = -(sum_j s_j d_j d_j' - m m')
 *   grad = sum_t (y_t - lambda_t) dlog lambda_t;  -Hessian = sum_t lambda_t g g' + (y_t - lambda_t)(sum_j s_j d_j d_j' - m m').
 *
 * Censored rows (a stockout: units sold is a lower bound on demand, `censored`): the row's
 * term is log P(Y >= y) instead of log P(Y = y), under the same law (Tobit-style). With
 * eta = log lambda and S = P(Y >= y): dS/deta = y P(Y = y) for both laws (Poisson:
 * S = P(y, lambda), the regularized lower incomplete gamma; NB2: S = I_x(y, k), the
 * regularized incomplete beta at x = lambda / (k + lambda)), so
 *   dl/deta = a = y P(Y = y) / S,   d2l/deta2 = a (r_y - a)
 * where r_y = dlog P(Y = y)/deta is the uncensored row's residual (y - lambda, or
 * k (y - lambda) / (k + lambda)). The rest of the chain rule (through the shares) is the
 * uncensored row's with a in place of the residual and a (a - r_y) as the curvature; a
 * censored row with y = 0 carries no information (S = 1). Its Fisher-scoring weight is a^2
 * (the censored score's square: positive, for the fallback direction only; intervals use the
 * observed information). Incomplete gamma and beta from @stdlib.
 */
import { CholeskyDecomposition, Matrix, inverse } from 'ml-matrix';
import betainc from '@stdlib/math-base-special-betainc';
import gammainc from '@stdlib/math-base-special-gammainc';
import gammaln from '@stdlib/math-base-special-gammaln';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';
import { goldenSectionMaximum } from './golden-section.js';

export interface LogitPoissonData {
  readonly rows: number;
  readonly units: Float64Array;
  /** log of the market size (arrivals) per row. */
  readonly logMarketSize: Float64Array;
  readonly price: Float64Array;
  readonly promotions: readonly Float64Array[];
  readonly promotionNames: readonly string[];
  readonly rivalPrices: readonly Float64Array[];
  readonly rivalNames: readonly string[];
  /** 1 for rows used in the fit (e.g. the training part of a holdout split); all rows when absent. */
  readonly include?: Uint8Array;
  /**
   * Arrival effects: log multipliers of the market size by level (e.g. weekday), for when no
   * traffic column measures arrivals. level[row] is the row's level, -1 for the baseline;
   * the parameters are named `arrival:<name>`, after the rival qualities.
   */
  readonly arrivalEffects?: { readonly names: readonly string[]; readonly level: Int8Array };
  /**
   * Arrival covariates: columns x_j whose effect beta_j adds beta_j x_j[row] to log lambda
   * (festival windows, season, weather: calibration/calendar-effects.ts). Their parameters
   * follow the arrival effects and are named as given.
   */
  readonly arrivalCovariates?: { readonly names: readonly string[]; readonly columns: readonly Float64Array[] };
  /** 1 for censored rows (the period stocked out: demand >= units sold); their term is log P(Y >= y). All exact when absent. */
  readonly censored?: Uint8Array;
}

/**
 * A design whose rows come block by block (a long history read from its scratch file:
 * calibration/sales-blocks.ts): each block is a LogitPoissonData over its own rows, read
 * afresh at each pass. Every fit sums over the blocks in row order, so a blocked design
 * gives the fit of the same rows in one block, to the last bit.
 */
export interface BlockedLogitPoissonData {
  readonly rows: number;
  readonly promotionNames: readonly string[];
  readonly rivalNames: readonly string[];
  readonly arrivalNames: readonly string[];
  readonly covariateNames: readonly string[];
  /** The blocks in row order; a block may be reused (overwritten) once the next is asked for. */
  blocks(): Iterable<LogitPoissonData>;
}

/** A design in memory, or read block by block. */
export type DemandData = LogitPoissonData | BlockedLogitPoissonData;

/** The blocks of a design (one for a design in memory). */
export function designBlocks(data: DemandData): Iterable<LogitPoissonData> {
  return 'blocks' in data ? data.blocks() : [data];
}

/** Parameter counts and names of a design. */
function shapeOf(data: DemandData): { promotionCount: number; rivalCount: number; arrivalNames: readonly string[]; covariateNames: readonly string[]; promotionNames: readonly string[]; rivalNames: readonly string[] } {
  if ('blocks' in data) return { promotionCount: data.promotionNames.length, rivalCount: data.rivalNames.length, arrivalNames: data.arrivalNames, covariateNames: data.covariateNames, promotionNames: data.promotionNames, rivalNames: data.rivalNames };
  return {
    promotionCount: data.promotions.length,
    rivalCount: data.rivalPrices.length,
    arrivalNames: data.arrivalEffects?.names ?? [],
    covariateNames: data.arrivalCovariates?.names ?? [],
    promotionNames: data.promotionNames,
    rivalNames: data.rivalNames,
  };
}

/**
 * One censored row's term: log S with S = P(Y >= y), its derivative in eta = log lambda
 * (`score`, a = y P(Y = y) / S) and minus its second derivative (`curvature`, a (a - r_y)),
 * under the Poisson (dispersionSize Infinity) or NB2 with size k. Non-integer y (units from
 * log units) use the continuous extensions (incomplete gamma and beta at real y).
 */
export function censoredTerm(units: number, logLambda: number, dispersionSize = Number.POSITIVE_INFINITY): { logSurvival: number; score: number; curvature: number } {
  if (!(units > 0)) return { logSurvival: 0, score: 0, curvature: 0 };
  const lambda = Math.exp(logLambda);
  const poisson = !Number.isFinite(dispersionSize);
  const k = dispersionSize;
  // log P(Y = y) (continuous in y) and r_y = dlog P(Y = y)/deta.
  const logProbability = poisson
    ? units * logLambda - lambda - gammaln(units + 1)
    : gammaln(units + k) - gammaln(k) - gammaln(units + 1) + k * (Math.log(k) - Math.log(k + lambda)) + units * (logLambda - Math.log(k + lambda));
  const residual = poisson ? units - lambda : (k * (units - lambda)) / (k + lambda);
  const survival = poisson ? gammainc(lambda, units) : betainc(lambda / (k + lambda), units, k);
  let logSurvival = Math.log(survival);
  if (!(survival > 1e-300)) {
    // Far in the tail (lambda << y) S leaves the normal doubles: sum the tail itself,
    // S = P(Y = y) sum_j prod_{i < j} P(Y = y + i + 1) / P(Y = y + i), whose ratios
    // (lambda / (y + i + 1), or x (y + i + k) / (y + i + 1)) are small there.
    const x = poisson ? 0 : lambda / (k + lambda);
    let term = 1;
    let sum = 1;
    for (let index = 0; index < 100_000 && term > 1e-17 * sum; index++) {
      term *= poisson ? lambda / (units + index + 1) : (x * (units + index + k)) / (units + index + 1);
      sum += term;
    }
    logSurvival = logProbability + Math.log(sum);
  }
  const score = Math.exp(Math.log(units) + logProbability - logSurvival);
  return { logSurvival, score, curvature: score * (score - residual) };
}

export interface ParameterEstimate {
  readonly name: string;
  readonly value: number;
  readonly standardError: number;
  readonly lower: number;
  readonly upper: number;
}

export interface LogitPoissonFit {
  readonly parameters: readonly ParameterEstimate[];
  /** Estimates in parameter order (quality, priceSensitivity, lifts..., rival qualities...). */
  readonly theta: Float64Array;
  /** Covariance of the estimates used for the intervals (scaled when quasi-Poisson). */
  readonly covariance: number[][];
  readonly logLikelihood: number;
  readonly iterations: number;
  readonly converged: boolean;
  /** Pearson chi-square over residual degrees of freedom (about 1 when the likelihood's variance fits). */
  readonly dispersion: number;
  readonly likelihood: 'poisson' | 'negative-binomial';
  /** The negative binomial size k (variance lambda + lambda^2 / k) with its 95% interval; absent for the Poisson. */
  readonly dispersionSize?: { readonly value: number; readonly lower: number; readonly upper: number };
  readonly intervalMethod: string;
  readonly rowsUsed: number;
  readonly promotionCount: number;
  readonly rivalCount: number;
}

export interface FitOptions {
  readonly maxIterations?: number;
  /** Dispersion above which standard errors are scaled (quasi-Poisson); Infinity never scales. */
  readonly quasiThreshold?: number;
  /** Two-sided confidence level of the intervals (default 0.95). */
  readonly confidence?: number;
  /** Where Newton starts (a nearby fit's theta, same layout); default: the moment-based start. */
  readonly start?: Float64Array;
}

export const waldZ95 = 1.959963984540054;

export function parameterNames(promotionNames: readonly string[], rivalNames: readonly string[], arrivalNames: readonly string[] = [], covariateNames: readonly string[] = []): string[] {
  return [
    'quality',
    'priceSensitivity',
    ...promotionNames.map((name) => `lift:${name}`),
    ...rivalNames.map((name) => `rivalQuality:${name}`),
    ...arrivalNames.map((name) => `arrival:${name}`),
    ...covariateNames,
  ];
}

/** The row's log market size plus its arrival effect under `theta` (the effects follow the rival qualities). */
export function rowLogMarketSize(data: LogitPoissonData, theta: ArrayLike<number>, row: number): number {
  const level = data.arrivalEffects?.level[row] ?? -1;
  const offset = 2 + data.promotions.length + data.rivalPrices.length;
  let covariates = 0;
  const covariateOffset = offset + (data.arrivalEffects?.names.length ?? 0);
  data.arrivalCovariates?.columns.forEach((column, index) => (covariates += (theta[covariateOffset + index] ?? 0) * (column[row] ?? 0)));
  return (data.logMarketSize[row] ?? 0) + (level >= 0 ? (theta[offset + level] ?? 0) : 0) + covariates;
}

/** Our logit share given the parameters, one row's price, promotions and rival prices. */
export function logitShare(theta: ArrayLike<number>, price: number, promotions: ArrayLike<number>, rivalPrices: ArrayLike<number>): number {
  const sensitivity = theta[1] ?? 0;
  let ours = (theta[0] ?? 0) - sensitivity * price;
  for (let index = 0; index < promotions.length; index++) ours += (theta[2 + index] ?? 0) * (promotions[index] ?? 0);
  let largest = Math.max(0, ours);
  const rivalUtilities: number[] = [];
  for (let index = 0; index < rivalPrices.length; index++) {
    const utility = (theta[2 + promotions.length + index] ?? 0) - sensitivity * (rivalPrices[index] ?? 0);
    rivalUtilities.push(utility);
    largest = Math.max(largest, utility);
  }
  let denominator = Math.exp(-largest) + Math.exp(ours - largest);
  for (const utility of rivalUtilities) denominator += Math.exp(utility - largest);
  return Math.exp(ours - largest) / denominator;
}

/** Workspace for one pass over the rows: log-likelihood, gradient, minus the Hessian, Fisher information. */
interface Pass {
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
function evaluate(design: DemandData, theta: Float64Array, withDerivatives: boolean, dispersionSize = Number.POSITIVE_INFINITY): Pass {
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

function toMatrix(values: Float64Array, size: number): Matrix {
  return new Matrix(Array.from({ length: size }, (_, row) => Array.from(values.subarray(row * size, row * size + size))));
}

/**
 * The ascent direction: Newton when the observed information is positive definite, else
 * Fisher scoring, else Fisher scoring with a ridge on its diagonal (Levenberg-Marquardt),
 * raised tenfold until it is positive definite: at symmetric starting values (b = 0, equal
 * qualities) the information is singular.
 */
function direction(pass: Pass, size: number, useNewton: boolean): Float64Array | undefined {
  const gradient = Matrix.columnVector(Array.from(pass.gradient));
  for (const information of useNewton ? [pass.negativeHessian, pass.fisher] : [pass.fisher]) {
    const cholesky = new CholeskyDecomposition(toMatrix(information, size));
    if (!cholesky.isPositiveDefinite()) continue;
    return Float64Array.from(cholesky.solve(gradient).getColumn(0));
  }
  let largestDiagonal = 0;
  for (let index = 0; index < size; index++) largestDiagonal = Math.max(largestDiagonal, pass.fisher[index * size + index] ?? 0);
  for (let ridge = 1e-8 * Math.max(largestDiagonal, 1e-300); ridge < 1e300; ridge *= 10) {
    const damped = Float64Array.from(pass.fisher);
    for (let index = 0; index < size; index++) damped[index * size + index] = (damped[index * size + index] ?? 0) + ridge;
    const cholesky = new CholeskyDecomposition(toMatrix(damped, size));
    if (cholesky.isPositiveDefinite()) return Float64Array.from(cholesky.solve(gradient).getColumn(0));
  }
  return undefined;
}

/** Parameters of the fit: quality, price sensitivity, one per promotion, rival, arrival effect and covariate. */
function parameterCount(design: DemandData): number {
  const shape = shapeOf(design);
  return 2 + shape.promotionCount + shape.rivalCount + shape.arrivalNames.length + shape.covariateNames.length;
}

function startingValues(design: DemandData): Float64Array {
  const size = parameterCount(design);
  const theta = new Float64Array(size);
  const { promotionCount, rivalCount } = shapeOf(design);
  let units = 0;
  let market = 0;
  for (const data of designBlocks(design)) for (let row = 0; row < data.rows; row++) {
    if (data.include && data.include[row] !== 1) continue;
    units += data.units[row] ?? 0;
    market += Math.exp(data.logMarketSize[row] ?? 0);
  }
  // Everyone (us and each rival) starts with an equal share of the inside market, at b = 0.
  const inside = Math.min(0.95, Math.max(1e-6, (units / Math.max(market, 1e-300)) * (1 + rivalCount)));
  const quality = Math.log(inside / (1 - inside)) - Math.log(1 + rivalCount);
  theta[0] = quality;
  for (let index = 0; index < rivalCount; index++) theta[2 + promotionCount + index] = quality;
  return theta;
}

interface NewtonResult {
  theta: Float64Array;
  pass: Pass;
  iterations: number;
  converged: boolean;
}

/** Newton-Raphson (with the fallbacks of `direction` and step halving) over the utility parameters, the dispersion size fixed. */
function maximise(data: DemandData, start: Float64Array, dispersionSize: number, maxIterations: number): NewtonResult {
  const size = start.length;
  let theta = start;
  let pass = evaluate(data, theta, true, dispersionSize);
  let iterations = 0;
  let converged = false;
  while (iterations < maxIterations) {
    iterations++;
    let accepted = false;
    let fullNewtonStep = false;
    let decrement = Number.NaN;
    const before = pass.logLikelihood;
    for (const useNewton of [true, false]) {
      const step = direction(pass, size, useNewton);
      if (!step) continue;
      decrement = step.reduce((total, value, index) => total + value * (pass.gradient[index] ?? 0), 0);
      if (decrement < 1e-14 * (1 + Math.abs(pass.logLikelihood))) {
        // Take the last (tiny) step too: Newton's error after it is the square of this one's.
        const candidate = theta.map((value, index) => value + (step[index] ?? 0));
        if (evaluate(data, candidate, false, dispersionSize).logLikelihood >= pass.logLikelihood - 1e-12 * (1 + Math.abs(pass.logLikelihood))) theta = candidate;
        pass = evaluate(data, theta, true, dispersionSize);
        converged = true;
        break;
      }
      for (let scale = 1; scale > 1e-10; scale /= 2) {
        const candidate = theta.map((value, index) => value + scale * (step[index] ?? 0));
        const trial = evaluate(data, candidate, false, dispersionSize);
        if (Number.isFinite(trial.logLikelihood) && trial.logLikelihood >= pass.logLikelihood) {
          theta = candidate;
          accepted = true;
          fullNewtonStep = useNewton && scale === 1;
          break;
        }
      }
      if (accepted) break;
    }
    if (converged) break;
    if (!accepted) {
      // No step raises the likelihood: at the optimum to machine precision, or stuck.
      converged = decrement > 0 && decrement < 1e-6 * (1 + Math.abs(pass.logLikelihood));
      break;
    }
    pass = evaluate(data, theta, true, dispersionSize);
    // A full Newton step that no longer moves the likelihood (as glm's deviance test): what is
    // left is a parameter drifting along a flat direction (a rival the data cannot place,
    // left out of the intervals by identifiedCovariance), not a better fit.
    if (fullNewtonStep && pass.logLikelihood - before < 1e-12 * (1 + Math.abs(pass.logLikelihood))) {
      converged = true;
      break;
    }
  }
  return { theta, pass, iterations, converged };
}

export function fitLogitPoisson(data: DemandData, options: FitOptions = {}): LogitPoissonFit {
  const start = options.start?.length === parameterCount(data) ? Float64Array.from(options.start) : startingValues(data);
  const result = maximise(data, start, Number.POSITIVE_INFINITY, options.maxIterations ?? 200);
  return assemble(data, result, options, Number.POSITIVE_INFINITY);
}

/** Smallest and largest negative binomial size searched (log scale); the upper end is Poisson in all but name. */
const sizeRange = [Math.log(1e-3), Math.log(1e8)] as const;

/**
 * Negative binomial (NB2: variance lambda + lambda^2 / k) with the same logit mean, for
 * overdispersed counts. Fitted as MASS::glm.nb does: alternate the utility parameters
 * (Newton, k fixed) and k (the likelihood maximised over log k by golden-section search,
 * lambda fixed) until the log-likelihood settles. k and the utility parameters are
 * orthogonal (their expected cross-information is zero), so the Wald intervals come from
 * the utility block of the observed information at k; k's own interval from the curvature
 * of the likelihood in log k.
 */
export function fitLogitNegativeBinomial(data: DemandData, options: FitOptions = {}): LogitPoissonFit {
  const maxIterations = options.maxIterations ?? 200;
  let result = maximise(data, options.start ? Float64Array.from(options.start) : startingValues(data), Number.POSITIVE_INFINITY, maxIterations);
  let logSize = sizeRange[1];
  let previous = Number.NEGATIVE_INFINITY;
  let rounds = 0;
  let iterations = result.iterations;
  for (; rounds < 50; rounds++) {
    const profile = (candidate: number) => evaluate(data, result.theta, false, Math.exp(candidate)).logLikelihood;
    // After the first round k moves little: search near the last value, the whole range if it sits at an edge.
    const near = rounds === 0 ? sizeRange : ([Math.max(sizeRange[0], logSize - 1), Math.min(sizeRange[1], logSize + 1)] as const);
    logSize = goldenSectionMaximum(profile, near[0], near[1], 1e-5);
    if (rounds > 0 && (logSize - near[0] < 1e-3 || near[1] - logSize < 1e-3)) logSize = goldenSectionMaximum(profile, sizeRange[0], sizeRange[1], 1e-5);
    result = maximise(data, result.theta, Math.exp(logSize), maxIterations);
    iterations += result.iterations;
    const current = result.pass.logLikelihood;
    if (Math.abs(current - previous) < 1e-9 * (1 + Math.abs(current))) break;
    previous = current;
  }
  const size = Math.exp(logSize);
  const step = 1e-3;
  const curvature =
    -(evaluate(data, result.theta, false, Math.exp(logSize + step)).logLikelihood - 2 * result.pass.logLikelihood + evaluate(data, result.theta, false, Math.exp(logSize - step)).logLikelihood) / (step * step);
  const logSizeError = curvature > 0 ? 1 / Math.sqrt(curvature) : Number.NaN;
  const z = options.confidence === undefined ? waldZ95 : normalQuantile(0.5 + options.confidence / 2, 0, 1);
  return {
    ...assemble(data, { ...result, iterations, converged: result.converged && rounds < 50 }, { ...options, quasiThreshold: Number.POSITIVE_INFINITY }, size),
    dispersionSize: { value: size, lower: Math.exp(logSize - z * logSizeError), upper: Math.exp(logSize + z * logSizeError) },
  };
}

/**
 * The inverse observed information over the identified parameters. A parameter whose
 * information is negligible (below 1e-9 of the largest diagonal entry: a rival quality
 * pushed towards minus infinity, whose share the data cannot tell from zero) is not
 * identified: its row and column are NaN and the rest are inverted without it. All NaN
 * when the remaining block is not positive definite either.
 */
function identifiedCovariance(negativeHessian: Float64Array, size: number): number[][] {
  const covariance = Array.from({ length: size }, () => new Array<number>(size).fill(Number.NaN));
  let largest = 0;
  for (let index = 0; index < size; index++) largest = Math.max(largest, negativeHessian[index * size + index] ?? 0);
  const kept = Array.from({ length: size }, (_, index) => index).filter((index) => (negativeHessian[index * size + index] ?? 0) > 1e-9 * largest);
  const block = new Matrix(kept.map((row) => kept.map((column) => negativeHessian[row * size + column] ?? 0)));
  if (kept.length === 0 || !new CholeskyDecomposition(block).isPositiveDefinite()) return covariance;
  const inverted = inverse(block);
  kept.forEach((row, rowIndex) => kept.forEach((column, columnIndex) => ((covariance[row] as number[])[column] = inverted.get(rowIndex, columnIndex))));
  return covariance;
}

function assemble(data: DemandData, result: NewtonResult, options: FitOptions, dispersionSize: number): LogitPoissonFit {
  const shape = shapeOf(data);
  const { theta, pass, iterations, converged } = result;
  const size = theta.length;
  const poisson = !Number.isFinite(dispersionSize);
  const quasiThreshold = options.quasiThreshold ?? 1;
  const names = parameterNames(shape.promotionNames, shape.rivalNames, shape.arrivalNames, shape.covariateNames);
  const covarianceMatrix = identifiedCovariance(pass.negativeHessian, size);
  const dispersion = pass.pearsonRows > size ? pass.pearson / (pass.pearsonRows - size) : Number.NaN;
  const quasi = Number.isFinite(dispersion) && dispersion > quasiThreshold;
  const varianceScale = quasi ? dispersion : 1;
  const z = options.confidence === undefined ? waldZ95 : normalQuantile(0.5 + options.confidence / 2, 0, 1);
  const covariance = covarianceMatrix.map((row) => row.map((value) => value * varianceScale));
  const parameters = names.map((name, index) => {
    const standardError = Math.sqrt(covariance[index]?.[index] ?? Number.NaN);
    const value = theta[index] ?? Number.NaN;
    return { name, value, standardError, lower: value - z * standardError, upper: value + z * standardError };
  });
  return {
    parameters,
    theta,
    covariance,
    // The log-likelihood of either law, with every constant (sum log y!) included.
    logLikelihood: pass.logLikelihood - constantOf(data),
    iterations,
    converged,
    dispersion,
    likelihood: poisson ? 'poisson' : 'negative-binomial',
    intervalMethod: !poisson
      ? `Wald from the inverse observed information (negative binomial, size ${dispersionSize.toPrecision(4)})`
      : quasi
        ? `Wald from the inverse observed information, scaled by the Pearson dispersion ${dispersion.toPrecision(3)} (quasi-Poisson)`
        : 'Wald from the inverse observed information (Poisson)',
    rowsUsed: pass.rows,
    promotionCount: shape.promotionCount,
    rivalCount: shape.rivalCount,
  };
}

/** sum log(y!) over the rows used: the part of the Poisson log-likelihood free of parameters. */
function constantOf(design: DemandData): number {
  let total = 0;
  for (const data of designBlocks(design)) for (let row = 0; row < data.rows; row++) {
    if ((data.include && data.include[row] !== 1) || data.censored?.[row] === 1) continue;
    total += gammaln((data.units[row] ?? 0) + 1);
  }
  return total;
}
