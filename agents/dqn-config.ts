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
  learningRateSchedule: z.enum(['constant', 'linear', 'cosine']).default('constant').describe('Adam step size over training: constant, or decayed to learningRateEnd over totalSteps, linearly or along a half cosine'),
  learningRateEnd: z.number().nonnegative().default(0).describe('the step size a linear or cosine schedule reaches at totalSteps (held afterwards); unused when constant'),
  policyAveraging: z.number().min(0).lt(1).default(0).describe('0: act with the online network; above 0 (e.g. 0.001): act with, and export, a Polyak average of it, moved this fraction after every update'),
  gamma: z.number().min(0).max(1).default(0.99).describe('discount factor per step (day)'),
  batchSize: z.number().int().positive().default(32).describe('transitions per gradient update'),
  replayCapacity: z.number().int().positive().default(100_000).describe('transitions the replay buffer holds; the oldest is overwritten when full'),
  learningStarts: z.number().int().nonnegative().default(1_000).describe('environment steps collected before the first update (warm-up)'),
  trainFrequency: z.number().int().positive().default(4).describe('one gradient update every this many environment steps'),
  targetUpdateInterval: z.number().int().positive().default(1_000).describe('environment steps between target-network syncs'),
  tau: z.number().gt(0).max(1).default(1).describe('target sync weight: 1 copies the online network (hard), below 1 moves the target that fraction of the way (Polyak)'),
  doubleDqn: z.boolean().default(true).describe('Double DQN: the online network picks the next action, the target network values it'),
  loss: z.enum(['huber', 'mse']).default('huber').describe('temporal-difference loss: Huber (smooth L1) or squared error'),
  huberDelta: z.number().positive().default(1).describe("Huber's delta (scaled reward units): errors up to it are squared, larger ones count linearly; a large delta fits the mean of rare large outcomes"),
  epsilonStart: z.number().min(0).max(1).default(1).describe('exploration rate at the first step'),
  epsilonEnd: z.number().min(0).max(1).default(0.05).describe('exploration rate once the decay is over'),
  explorationFraction: z.number().min(0).max(1).default(0.1).describe('fraction of totalSteps over which epsilon decays linearly from epsilonStart to epsilonEnd'),
  totalSteps: z.number().int().positive().default(100_000).describe('the training budget in environment steps that explorationFraction refers to'),
  maxGradNorm: z.number().positive().default(10).describe('gradients longer than this (global L2 norm) are scaled down to it'),
  dueling: z.boolean().default(false).describe('dueling head: Q = V + A - mean(A), exported folded into a plain Q head'),
  nSteps: z.number().int().min(1).max(100).default(1).describe('n-step returns: rewards summed over this many steps before bootstrapping'),
  rewardScale: z.number().positive().default(1).describe('rewards are multiplied by this before they are stored (Q-values are in scaled units; greedy actions are unaffected)'),
  rewardCentering: z.number().min(0).max(1).default(0).describe('0: off; above 0 (e.g. 0.001): step size of a running average of the scaled reward, subtracted from every sampled reward (Naik et al. 2024)'),
  horizonTerminal: z.boolean().default(false).describe('false: a truncated episode bootstraps from its final observation; true: it ends like a termination (a finite horizon shown in the observation)'),
  changeMargin: z.number().nonnegative().default(0).describe("0: plain greedy choices; above 0 (reward units): keep yesterday's price unless another's Q-value beats it by more (evaluation and serving; needs lastPrice)"),
  stockPotential: z.number().nonnegative().default(0).describe("0: off; above 0 (reward units per unit of stock): potential-based shaping of the last-day salvage over the horizon's last 6 days (needs stockOnHand, daysLeft)"),
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
