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
 * Here: the Newton driver, both fits and their intervals. The design and parameter layout
 * are in calibration/demand-design.ts, the likelihood pass and its derivatives in
 * calibration/logit-likelihood.ts, a censored row's term (stockouts: log P(Y >= y)) in
 * calibration/censored-term.ts; their exports are re-exported from here.
 */
import { CholeskyDecomposition, Matrix, inverse } from 'ml-matrix';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';
import { goldenSectionMaximum } from './golden-section.js';
import { designBlocks, parameterCount, parameterNames, shapeOf, type DemandData } from './demand-design.js';
import { constantOf, evaluate, type Pass } from './logit-likelihood.js';

export { designBlocks, logitShare, parameterNames, rowLogMarketSize, rowOf, type BlockedLogitPoissonData, type DemandData, type LogitPoissonData } from './demand-design.js';
export { censoredTerm } from './censored-term.js';
export { logLikelihoodDerivatives } from './logit-likelihood.js';

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

