/**
 * A policy as off-policy evaluation needs it: the probability of every ladder action in a
 * context, pi(a | x). Deterministic rules put probability 1 on their action; a stochastic
 * policy spreads it. `rulePolicy` wraps a command-line rule spec (`fixed:8`, `cost-plus:0.6`,
 * ...; agents/policy-spec.ts) that reads only the observation; `epsilonMixture` gives
 * (1 - epsilon) pi(a | x) + epsilon / K, the epsilon-greedy logging policy around a rule.
 */
import type { TimeLimit } from '../../env/env.js';
import { configError } from '../../core/errors.js';
import { armAgent } from '../online/arm-policy.js';

export interface ActionPolicy {
  readonly name: string;
  readonly actionCount: number;
  /** Writes pi(a | context) for every action a into `out` (length actionCount, summing to 1). */
  probabilities(context: Float32Array, out: Float64Array): void;
}

/** A rule spec as a deterministic policy (oracles that read the live market are refused: a log has no market). */
export async function rulePolicy(env: TimeLimit, spec: string, seed = 0): Promise<ActionPolicy> {
  const agent = await armAgent(env, spec, seed, { allowOracle: false });
  const actionCount = env.actionSpace.n;
  return {
    name: spec,
    actionCount,
    probabilities(context, out) {
      out.fill(0);
      out[agent.act(context, { explore: false })] = 1;
    },
  };
}

export function epsilonMixture(base: ActionPolicy, epsilon: number): ActionPolicy {
  if (!(epsilon >= 0 && epsilon <= 1)) throw configError('cannot mix in exploration', [{ path: ['epsilon'], message: `expected a number from 0 to 1, found ${epsilon}` }]);
  return {
    name: epsilon === 0 ? base.name : `epsilon-greedy ${epsilon} around ${base.name}`,
    actionCount: base.actionCount,
    probabilities(context, out) {
      base.probabilities(context, out);
      for (let action = 0; action < out.length; action++) out[action] = (1 - epsilon) * (out[action] ?? 0) + epsilon / base.actionCount;
    },
  };
}

/** Draws an action from pi(. | context) with one uniform; returns the action and its probability. */
export function sampleAction(probabilities: Float64Array, uniform: number): { action: number; propensity: number } {
  let cumulative = 0;
  let last = 0;
  for (let action = 0; action < probabilities.length; action++) {
    const probability = probabilities[action] ?? 0;
    if (probability <= 0) continue;
    last = action;
    cumulative += probability;
    if (uniform < cumulative) return { action, propensity: probability };
  }
  return { action: last, propensity: probabilities[last] ?? 0 };
}
