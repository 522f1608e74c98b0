/**
 * Off-policy estimators of a target policy's value V(pi) = E_x sum_a pi(a|x) E[r | x, a]
 * from decisions logged under another policy with known propensities p_i = mu(a_i | x_i).
 * With importance weights w_i = pi(a_i | x_i) / p_i:
 *
 *   IPS    V = (1/n) sum w_i r_i                               (Horvitz & Thompson 1952)
 *          unbiased; se = sd(w_i r_i) / sqrt(n)
 *   SNIPS  V = sum w_i r_i / sum w_i                            (Swaminathan & Joachims 2015)
 *          a weighted mean of the rewards, so always within [min r, max r]; slightly biased,
 *          much less variable; delta-method se = sqrt(sum w_i^2 (r_i - V)^2) / sum w_i
 *   DR     V = (1/n) sum [ sum_a pi(a|x_i) q(x_i, a) + w_i (r_i - q(x_i, a_i)) ]   (Dudik, Langford & Li 2011)
 *          unbiased if the propensities are right, whatever the reward model q (cross-fitted
 *          ridge: reward-model.ts); less variable the better q; se = sd(terms) / sqrt(n)
 *
 * Intervals: estimate -/+ z_{1-(1-level)/2} se (central limit theorem). Diagnostics: the mean
 * weight (should be near 1: far from 1 means poor overlap or wrong propensities) and the
 * effective sample size (sum w)^2 / sum w^2.
 */
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';
import { configError } from '../../core/errors.js';
import type { ActionPolicy } from './action-policy.js';
import { crossFittedRewardModel, type RewardModelOptions } from './reward-model.js';

export interface LoggedDecision {
  readonly context: Float32Array;
  readonly action: number;
  readonly propensity: number;
  readonly reward: number;
}

export interface OffPolicyEstimate {
  readonly estimator: 'ips' | 'snips' | 'dr';
  readonly estimate: number;
  readonly standardError: number;
  readonly low: number;
  readonly high: number;
  readonly level: number;
}

export interface OffPolicyEstimates {
  readonly ips: OffPolicyEstimate;
  readonly snips: OffPolicyEstimate;
  readonly dr: OffPolicyEstimate;
  readonly diagnostics: { readonly decisions: number; readonly meanWeight: number; readonly effectiveSampleSize: number; readonly maxWeight: number };
}

export interface EstimateOptions extends RewardModelOptions {
  readonly level?: number;
}

function interval(estimator: OffPolicyEstimate['estimator'], estimate: number, standardError: number, level: number): OffPolicyEstimate {
  const z = normalQuantile(1 - (1 - level) / 2, 0, 1);
  return { estimator, estimate, standardError, low: estimate - z * standardError, high: estimate + z * standardError, level };
}

function meanAndStandardError(values: readonly number[]): { mean: number; standardError: number } {
  const n = values.length;
  let total = 0;
  for (const value of values) total += value;
  const mean = total / n;
  let squares = 0;
  for (const value of values) squares += (value - mean) ** 2;
  return { mean, standardError: Math.sqrt(squares / (n - 1) / n) };
}

/** pi(a_i | x_i) / p_i for every decision. */
export function importanceWeights(target: ActionPolicy, decisions: readonly LoggedDecision[]): number[] {
  const probabilities = new Float64Array(target.actionCount);
  return decisions.map((decision) => {
    target.probabilities(decision.context, probabilities);
    return (probabilities[decision.action] ?? 0) / decision.propensity;
  });
}

export function ipsEstimate(weights: readonly number[], rewards: readonly number[], level = 0.95): OffPolicyEstimate {
  const { mean, standardError } = meanAndStandardError(weights.map((weight, index) => weight * (rewards[index] ?? 0)));
  return interval('ips', mean, standardError, level);
}

export function snipsEstimate(weights: readonly number[], rewards: readonly number[], level = 0.95): OffPolicyEstimate {
  let weightTotal = 0;
  let weighted = 0;
  weights.forEach((weight, index) => {
    weightTotal += weight;
    weighted += weight * (rewards[index] ?? 0);
  });
  if (weightTotal <= 0) return interval('snips', Number.NaN, Number.NaN, level);
  const estimate = weighted / weightTotal;
  let squares = 0;
  weights.forEach((weight, index) => (squares += weight * weight * ((rewards[index] ?? 0) - estimate) ** 2));
  return interval('snips', estimate, Math.sqrt(squares) / weightTotal, level);
}

export function doublyRobustEstimate(
  target: ActionPolicy,
  decisions: readonly LoggedDecision[],
  weights: readonly number[],
  predictions: readonly Float64Array[],
  level = 0.95,
): OffPolicyEstimate {
  const probabilities = new Float64Array(target.actionCount);
  const terms = decisions.map((decision, index) => {
    target.probabilities(decision.context, probabilities);
    const row = predictions[index]!;
    let direct = 0;
    for (let action = 0; action < probabilities.length; action++) direct += (probabilities[action] ?? 0) * (row[action] ?? 0);
    return direct + (weights[index] ?? 0) * (decision.reward - (row[decision.action] ?? 0));
  });
  const { mean, standardError } = meanAndStandardError(terms);
  return interval('dr', mean, standardError, level);
}

/** IPS, SNIPS and DR (cross-fitted ridge reward model) of `target` from logged decisions. */
export function estimatePolicyValue(target: ActionPolicy, decisions: readonly LoggedDecision[], options: EstimateOptions = {}): OffPolicyEstimates {
  const level = options.level ?? 0.95;
  if (decisions.length < 2) throw configError('off-policy evaluation needs decisions', [{ path: ['decisions'], message: `expected at least 2, found ${decisions.length}` }]);
  const weights = importanceWeights(target, decisions);
  const rewards = decisions.map((decision) => decision.reward);
  const { predictions } = crossFittedRewardModel(
    decisions.map((decision) => decision.context),
    decisions.map((decision) => decision.action),
    rewards,
    target.actionCount,
    options,
  );
  let weightTotal = 0;
  let squareTotal = 0;
  let maxWeight = 0;
  for (const weight of weights) {
    weightTotal += weight;
    squareTotal += weight * weight;
    maxWeight = Math.max(maxWeight, weight);
  }
  return {
    ips: ipsEstimate(weights, rewards, level),
    snips: snipsEstimate(weights, rewards, level),
    dr: doublyRobustEstimate(target, decisions, weights, predictions, level),
    diagnostics: { decisions: decisions.length, meanWeight: weightTotal / decisions.length, effectiveSampleSize: squareTotal > 0 ? (weightTotal * weightTotal) / squareTotal : 0, maxWeight },
  };
}
