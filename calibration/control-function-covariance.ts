/**
 * Card: the standard errors of the control-function fit (endogeneity.ts) with the first
 * stage's error carried in: both stages stacked as one M-estimator, estimating equations
 * (W'(p - W pi), S(theta; v(pi))) with the analytic row scores of the logit-Poisson (or
 * negative binomial, or censored) likelihood, the Jacobian (-W'W; dS/dpi by central
 * differences; dS/dtheta minus the observed information), the meat clustered by period, the
 * sandwich G / (G - 1) J^-1 B J^-T (Murphy and Topel 1985, made robust; Newey and McFadden
 * 1994, section 6), every sum a pass over the blocks of the design (calibration/block-passes.ts).
 * Also the structural fit: the control-function fit without the control,
 * with that covariance, as the scenario takes it.
 */
import { Matrix, inverse } from 'ml-matrix';
import { censoredTerm, designBlocks, logLikelihoodDerivatives, rowLogMarketSize, waldZ95, type DemandData, type LogitPoissonData, type LogitPoissonFit, type ParameterEstimate } from './logit-poisson.js';
import { dot, sandwich, type LeastSquaresFit } from './least-squares.js';
import { ClusterSums } from './block-passes.js';

/** Scratch space for the rivals' utilities in addRowScore (one row at a time). */
let rivalUtilities = new Float64Array(16);

/**
 * Adds one row's score (the gradient of its log-likelihood in the utility parameters) to
 * `into`: r_t (d_0 - sum_j s_j d_j) as in calibration/logit-poisson.ts, with r_t = y - lambda
 * (Poisson) or k (y - lambda) / (k + lambda) (negative binomial of size k), or a censored
 * row's d log P(Y >= y) / d log lambda (`censoredTerm`); an arrival effect adds r_t to its own
 * entry, an arrival covariate r_t x_jt.
 */
export function addRowScore(data: LogitPoissonData, theta: ArrayLike<number>, row: number, dispersionSize: number, into: Float64Array): void {
  const promotionCount = data.promotions.length;
  const rivalCount = data.rivalPrices.length;
  const sensitivity = theta[1] ?? 0;
  const price = data.price[row] ?? 0;
  let ours = (theta[0] ?? 0) - sensitivity * price;
  for (let index = 0; index < promotionCount; index++) ours += (theta[2 + index] ?? 0) * (data.promotions[index]?.[row] ?? 0);
  let largest = Math.max(0, ours);
  if (rivalUtilities.length < rivalCount) rivalUtilities = new Float64Array(rivalCount);
  const utilities = rivalUtilities;
  for (let index = 0; index < rivalCount; index++) {
    const utility = (theta[2 + promotionCount + index] ?? 0) - sensitivity * (data.rivalPrices[index]?.[row] ?? 0);
    utilities[index] = utility;
    if (utility > largest) largest = utility;
  }
  let denominator = Math.exp(-largest) + Math.exp(ours - largest);
  for (let index = 0; index < rivalCount; index++) denominator += Math.exp((utilities[index] ?? 0) - largest);
  const ownShare = Math.exp(ours - largest) / denominator;
  const logLambda = rowLogMarketSize(data, theta, row) + ours - largest - Math.log(denominator);
  const lambda = Math.exp(logLambda);
  const units = data.units[row] ?? 0;
  const residual =
    data.censored?.[row] === 1
      ? censoredTerm(units, logLambda, dispersionSize).score
      : Number.isFinite(dispersionSize)
        ? (dispersionSize * (units - lambda)) / (dispersionSize + lambda)
        : units - lambda;
  into[0] = (into[0] ?? 0) + residual * (1 - ownShare);
  let priceScore = -price * (1 - ownShare);
  for (let index = 0; index < rivalCount; index++) {
    const rivalShare = Math.exp((utilities[index] ?? 0) - largest) / denominator;
    priceScore += rivalShare * (data.rivalPrices[index]?.[row] ?? 0);
    into[2 + promotionCount + index] = (into[2 + promotionCount + index] ?? 0) - residual * rivalShare;
  }
  into[1] = (into[1] ?? 0) + residual * priceScore;
  for (let index = 0; index < promotionCount; index++) into[2 + index] = (into[2 + index] ?? 0) + residual * (data.promotions[index]?.[row] ?? 0) * (1 - ownShare);
  const level = data.arrivalEffects?.level[row] ?? -1;
  if (level >= 0) into[2 + promotionCount + rivalCount + level] = (into[2 + promotionCount + rivalCount + level] ?? 0) + residual;
  const covariateOffset = 2 + promotionCount + rivalCount + (data.arrivalEffects?.names.length ?? 0);
  data.arrivalCovariates?.columns.forEach((column, index) => (into[covariateOffset + index] = (into[covariateOffset + index] ?? 0) + residual * (column[row] ?? 0)));
}

/** The score summed over the included rows (block by block for a blocked design, in row order). */
export function totalScore(data: DemandData, theta: ArrayLike<number>, dispersionSize: number): Float64Array {
  const total = new Float64Array(theta.length);
  for (const block of designBlocks(data)) {
    for (let row = 0; row < block.rows; row++) {
      if (block.include && block.include[row] !== 1) continue;
      addRowScore(block, theta, row, dispersionSize, total);
    }
  }
  return total;
}

/**
 * One block of the second stage: its design (the control-function residual the last of its
 * promotions), each row's first-stage regressors and price (`fill`, NaN for a row outside the
 * first stage) and each row's cluster (period).
 */
export interface StageBlock {
  readonly rows: number;
  readonly design: LogitPoissonData;
  readonly fill: (row: number, into: Float64Array) => number;
  readonly cluster: ArrayLike<number>;
}

/**
 * Covariance of the second stage's parameters with both stages stacked: estimating
 * equations psi = (W'(p - W pi), S(theta; v(pi))), Jacobian J (the first-stage block -W'W;
 * dS/dtheta minus the observed information; dS/dpi by central differences of the analytic
 * score), meat B clustered by period, covariance G/(G-1) J^-1 B J^-T; the theta block. Parameters that the second stage
 * cannot place (a rival quality at minus infinity: no information) get NaN and are left out.
 * `data` is the second stage's design, `stages` its blocks with the first stage beside (a
 * fresh pass at each call); every sum runs over the blocks in row order.
 */
export function stackedCovariance(
  data: DemandData,
  fit: LogitPoissonFit,
  stages: () => Iterable<StageBlock>,
  stageSize: number,
  firstStage: LeastSquaresFit,
): number[][] & { clusters: number } {
  const size = fit.theta.length;
  const dispersionSize = fit.dispersionSize?.value ?? Number.POSITIVE_INFINITY;
  const kept = Array.from({ length: size }, (_, index) => index).filter((index) => Number.isFinite(fit.parameters[index]?.standardError ?? Number.NaN));
  const total = kept.length + stageSize;
  const stageRow = new Float64Array(stageSize);
  const jacobian = new Matrix(total, total);
  // First-stage block: d/dpi of W'(p - W pi) = -W'W.
  for (let row = 0; row < stageSize; row++) for (let column = 0; column < stageSize; column++) jacobian.set(row, column, -firstStage.gram.get(row, column));
  // dS/dpi_j: pi_j + h moves every v_t by -h W_jt.
  let shiftedControl = new Float64Array(0);
  for (let column = 0; column < stageSize; column++) {
    const step = 1e-5 * Math.max(1, Math.abs(firstStage.coefficients[column] ?? 0));
    const shifted = (sign: number) => {
      const score = new Float64Array(size);
      for (const stage of stages()) {
        const block = stage.design;
        const controlSlot = block.promotions.length - 1;
        if (shiftedControl.length < stage.rows) shiftedControl = new Float64Array(stage.rows);
        const values = shiftedControl.subarray(0, stage.rows);
        values.set((block.promotions[controlSlot] as Float64Array).subarray(0, stage.rows));
        for (let row = 0; row < stage.rows; row++) {
          if (Number.isNaN(stage.fill(row, stageRow))) continue;
          values[row] = (values[row] ?? 0) - sign * step * (stageRow[column] ?? 0);
        }
        const withControl: LogitPoissonData = { ...block, promotions: block.promotions.map((promotion, index) => (index === controlSlot ? values : promotion)) };
        for (let row = 0; row < stage.rows; row++) {
          if (withControl.include && withControl.include[row] !== 1) continue;
          addRowScore(withControl, fit.theta, row, dispersionSize, score);
        }
      }
      return score;
    };
    const plus = shifted(1);
    const minus = shifted(-1);
    kept.forEach((parameter, index) => jacobian.set(stageSize + index, column, ((plus[parameter] ?? 0) - (minus[parameter] ?? 0)) / (2 * step)));
  }
  // dS/dtheta: minus the observed information of the second stage, analytic (calibration/logit-poisson.ts).
  const { negativeHessian } = logLikelihoodDerivatives(data, fit.theta, dispersionSize);
  kept.forEach((row, rowIndex) => kept.forEach((column, columnIndex) => jacobian.set(stageSize + rowIndex, stageSize + columnIndex, -(negativeHessian[row * size + column] ?? 0))));
  const score = new Float64Array(size);
  const sums = new ClusterSums(total);
  for (const stage of stages()) {
    const block = stage.design;
    for (let row = 0; row < stage.rows; row++) {
      sums.add(stage.cluster[row] ?? 0, (into) => {
        const price = stage.fill(row, stageRow);
        if (Number.isNaN(price) || (block.include && block.include[row] !== 1)) return false;
        const residual = price - dot(stageRow, firstStage.coefficients);
        for (let index = 0; index < stageSize; index++) into[index] = (stageRow[index] ?? 0) * residual;
        score.fill(0);
        addRowScore(block, fit.theta, row, dispersionSize, score);
        kept.forEach((parameter, index) => (into[stageSize + index] = score[parameter] ?? 0));
        return true;
      });
    }
  }
  const clusters = sums.clusters;
  const meat = new Matrix(sums.outer());
  const covariance = Array.from({ length: size }, () => new Array<number>(size).fill(Number.NaN));
  let jacobianInverse: Matrix;
  try {
    jacobianInverse = inverse(jacobian);
  } catch {
    return Object.assign(covariance, { clusters }); // singular: no standard errors, the naive fit is kept
  }
  const full = sandwich(jacobianInverse, meat, clusters);
  kept.forEach((row, rowIndex) => kept.forEach((column, columnIndex) => ((covariance[row] as number[])[column] = full.get(stageSize + rowIndex, stageSize + columnIndex))));
  return Object.assign(covariance, { clusters });
}

/** The control-function fit without the control: what the scenario takes, with the stacked covariance. */
export function structuralFit(fit: LogitPoissonFit, covariance: number[][], controlIndex: number, intervalMethod: string): LogitPoissonFit {
  const keep = (index: number) => index !== controlIndex;
  const parameters: ParameterEstimate[] = fit.parameters.flatMap((parameter, index) => {
    if (!keep(index)) return [];
    const standardError = Math.sqrt(covariance[index]?.[index] ?? Number.NaN);
    return [{ name: parameter.name, value: parameter.value, standardError, lower: parameter.value - waldZ95 * standardError, upper: parameter.value + waldZ95 * standardError }];
  });
  return {
    ...fit,
    parameters,
    theta: fit.theta.filter((_, index) => keep(index)),
    covariance: covariance.filter((_, index) => keep(index)).map((row) => row.filter((_, index) => keep(index))),
    intervalMethod,
    promotionCount: fit.promotionCount - 1,
  };
}
