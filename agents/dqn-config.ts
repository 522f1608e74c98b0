/**
 * DQN's config: every setting of agents/dqn.ts, validated by zod, a one-line description
 * on each (CLI help and docs/agents/dqn.md's table come from here); why each exists, how it
 * was measured and what was tried and not kept is in docs/agents/dqn.md.
 */
import { z } from 'zod';
import { backendChoices } from './tf-backend.js';

export const dqnConfigSchema = z.strictObject({
  hiddenLayers: z.array(z.number().int().positive()).min(1).default([64, 64]).describe('units of each hidden ReLU layer, input side first'),
  learningRate: z.number().positive().default(1e-3).describe('Adam step size'),
  learningRateSchedule: z.enum(['constant', 'linear', 'cosine']).default('constant').describe('Adam step size over training: constant, or decayed from learningRate to learningRateEnd over totalSteps environment steps, linearly or along a half cosine'),
  learningRateEnd: z.number().nonnegative().default(0).describe('the step size a linear or cosine schedule reaches at totalSteps (held afterwards); unused when constant'),
  policyAveraging: z.number().min(0).lt(1).default(0).describe('0: act greedily with the online network; above 0 (tau, e.g. 0.001): act greedily with, and export, a Polyak average of the online weights, moved that fraction towards them after every update'),
  gamma: z.number().min(0).max(1).default(0.99).describe('discount factor per step (day)'),
  batchSize: z.number().int().positive().default(32).describe('transitions per gradient update'),
  replayCapacity: z.number().int().positive().default(100_000).describe('transitions the replay buffer holds; the oldest is overwritten when full'),
  learningStarts: z.number().int().nonnegative().default(1_000).describe('environment steps collected before the first update (warm-up)'),
  trainFrequency: z.number().int().positive().default(4).describe('one gradient update every this many environment steps'),
  targetUpdateInterval: z.number().int().positive().default(1_000).describe('environment steps between target-network syncs'),
  tau: z.number().gt(0).max(1).default(1).describe('target sync weight: 1 copies the online network (hard update), below 1 moves the target that fraction of the way (soft, Polyak)'),
  doubleDqn: z.boolean().default(true).describe('Double DQN: the online network picks the next action, the target network values it'),
  loss: z.enum(['huber', 'mse']).default('huber').describe('temporal-difference loss: Huber (smooth L1) or squared error'),
  huberDelta: z.number().positive().default(1).describe("Huber's delta (scaled reward units): errors up to it are squared, larger ones count linearly. 1 is the usual choice; a larger delta weighs rare large outcomes (a reorder cliff) nearer their mean, since a clipped loss fits something between the median and the mean"),
  epsilonStart: z.number().min(0).max(1).default(1).describe('exploration rate at the first step'),
  epsilonEnd: z.number().min(0).max(1).default(0.05).describe('exploration rate once the decay is over'),
  explorationFraction: z.number().min(0).max(1).default(0.1).describe('fraction of totalSteps over which epsilon decays linearly from epsilonStart to epsilonEnd'),
  totalSteps: z.number().int().positive().default(100_000).describe('the training budget in environment steps that explorationFraction refers to'),
  maxGradNorm: z.number().positive().default(10).describe('gradients longer than this (global L2 norm) are scaled down to it'),
  dueling: z.boolean().default(false).describe('dueling head: Q = V + A - mean(A), exported folded into a plain Q head'),
  nSteps: z.number().int().min(1).max(100).default(1).describe('n-step returns: rewards summed over this many steps before bootstrapping'),
  rewardScale: z.number().positive().default(1).describe('rewards are multiplied by this before they are stored (Q-values are in scaled units; greedy actions are unaffected)'),
  rewardCentering: z.number().min(0).max(1).default(0).describe('0: off; above 0 (beta, e.g. 0.001): subtract a running average of the (scaled) reward, updated with step size max(beta, 1/steps), from every sampled reward, so Q-values hold only differences from the average (Naik et al. 2024); the greedy policy of a task that never terminates is unchanged, and a large gamma no longer means large Q-values'),
  horizonTerminal: z.boolean().default(false).describe('false: a truncated episode (the time limit reached) bootstraps from its final observation, as for a limit the task does not have; true: it ends like a termination, no value past the last day. Right for a finite-horizon task whose observation shows the time left (daysLeft) and whose last day settles the books (a salvage of left-over stock): Pardo et al. 2018, "Time limits in reinforcement learning"'),
  changeMargin: z.number().nonnegative().default(0).describe("0: plain greedy choices; above 0 (reward units, before rewardScale): hysteresis against flicker (agents/change-margin.ts): a greedy choice keeps yesterday's price (the ladder price nearest the lastPrice feature) unless another price's Q-value beats it by more than this. Shapes the greedy policy of evaluation and serving (explore off): act, actBatch, explain, and an agent restored from the export; while training explores, the non-random choice stays the plain argmax. Needs a lastPrice feature"),
  stockPotential: z.number().nonnegative().default(0).describe("0: off; above 0 (reward units per unit of stock, e.g. unitCost - salvageValue): potential-based reward shaping of the salvage on the horizon's last day (agents/stock-potential.ts, Ng et al. 1999): phi(s) = -stockPotential x (stock on hand + on order) on the horizon's last 6 days, r' = r + gamma phi(s') - phi(s), so the last day's lump is booked as the stock position moves and a markdown's worth is no longer a per cent of it. The optimal policy is unchanged. Needs stockOnHand and daysLeft features"),
  backend: z.enum(backendChoices).default('auto').describe("TensorFlow.js backend: 'auto' (node if installed, else wasm, else cpu), 'node', 'wasm' or 'cpu'"),
});

export type DqnConfig = z.output<typeof dqnConfigSchema>;

/**
 * Settings tried and not kept (docs/agents/dqn.md, "Removed settings"), each with the value it
 * had when it changed nothing: its old default, which every export and config written by
 * then carries unless it was set.
 */
export const retiredDqnSettings: Readonly<Record<string, number>> = { expectile: 0.5, explorationHold: 1, explorationHoldExponent: 2, stockPotentialDays: 6 };

/** The config without its retired settings, whatever their values. */
export function withoutRetiredSettings(config: unknown): unknown {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) return config;
  return Object.fromEntries(Object.entries(config).filter(([key]) => !Object.hasOwn(retiredDqnSettings, key)));
}

/**
 * What the agent definition parses (new configs, experiment files, a phased agent's finale):
 * dqnConfigSchema, where a retired setting at its old default is dropped (it changed nothing),
 * and at any other value is a config error that names it and says it was removed.
 */
export const acceptedDqnConfigSchema = z.preprocess((input, context) => {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return input;
  for (const [key, neutral] of Object.entries(retiredDqnSettings)) {
    const value = (input as Record<string, unknown>)[key];
    if (value !== undefined && value !== neutral) {
      context.addIssue({ code: 'custom', path: [key], input: value, message: `${key} was removed (tried and not kept: docs/agents/dqn.md, "Removed settings"): expected it absent or ${neutral}, its old default, found ${JSON.stringify(value)}` });
    }
  }
  return withoutRetiredSettings(input);
}, dqnConfigSchema);
