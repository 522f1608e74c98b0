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
  expectile: z.number().gt(0).lt(1).default(0.5).describe("the statistic of the return that Q-values learn: 0.5, its mean (a symmetric loss); below 0.5, a lower expectile (Newey & Powell 1987), risk-averse: errors where the target falls short of the prediction weigh (1 - expectile) / expectile times those where it exceeds it, so an action that sometimes ends in a large loss (a last-day reorder) is valued below its mean. Use with a squared-error loss or a large huberDelta: a clipped loss hardly sees a rare large loss whatever its weight"),
  epsilonStart: z.number().min(0).max(1).default(1).describe('exploration rate at the first step'),
  epsilonEnd: z.number().min(0).max(1).default(0.05).describe('exploration rate once the decay is over'),
  explorationFraction: z.number().min(0).max(1).default(0.1).describe('fraction of totalSteps over which epsilon decays linearly from epsilonStart to epsilonEnd'),
  explorationHold: z.number().int().min(1).max(10_000).default(1).describe('1: epsilon-greedy explores one day at a time; above 1: temporally-extended epsilon-greedy (ez-greedy, Dabney et al. 2021): an exploring choice holds its random price for n days, P(n) proportional to n^-explorationHoldExponent for n = 1..explorationHold, then greedy choices resume. Shows the learner what holding another price is worth, where one-day deviations show only their transient cost'),
  explorationHoldExponent: z.number().min(0).max(10).default(2).describe('the exponent mu of the hold distribution P(n) ~ n^-mu (2: the zeta distribution of Dabney et al.; 1: longer holds, mean about explorationHold / ln(explorationHold); 0: uniform)'),
  totalSteps: z.number().int().positive().default(100_000).describe('the training budget in environment steps that explorationFraction refers to'),
  maxGradNorm: z.number().positive().default(10).describe('gradients longer than this (global L2 norm) are scaled down to it'),
  dueling: z.boolean().default(false).describe('dueling head: Q = V + A - mean(A), exported folded into a plain Q head'),
  nSteps: z.number().int().min(1).max(100).default(1).describe('n-step returns: rewards summed over this many steps before bootstrapping'),
  rewardScale: z.number().positive().default(1).describe('rewards are multiplied by this before they are stored (Q-values are in scaled units; greedy actions are unaffected)'),
  rewardCentering: z.number().min(0).max(1).default(0).describe('0: off; above 0 (beta, e.g. 0.001): subtract a running average of the (scaled) reward, updated with step size max(beta, 1/steps), from every sampled reward, so Q-values hold only differences from the average (Naik et al. 2024); the greedy policy of a task that never terminates is unchanged, and a large gamma no longer means large Q-values'),
  horizonTerminal: z.boolean().default(false).describe('false: a truncated episode (the time limit reached) bootstraps from its final observation, as for a limit the task does not have; true: it ends like a termination, no value past the last day. Right for a finite-horizon task whose observation shows the time left (daysLeft) and whose last day settles the books (a salvage of left-over stock): Pardo et al. 2018, "Time limits in reinforcement learning"'),
  changeMargin: z.number().nonnegative().default(0).describe("0: plain greedy choices; above 0 (reward units, before rewardScale): hysteresis against flicker (agents/change-margin.ts): a greedy choice keeps yesterday's price (the ladder price nearest the lastPrice feature) unless another price's Q-value beats it by more than this. Shapes the greedy policy of evaluation and serving (explore off): act, actBatch, explain, and an agent restored from the export; while training explores, the non-random choice stays the plain argmax. Needs a lastPrice feature"),
  stockPotential: z.number().nonnegative().default(0).describe("0: off; above 0 (reward units per unit of stock, e.g. unitCost - salvageValue): potential-based reward shaping of the salvage on the horizon's last day (agents/stock-potential.ts, Ng et al. 1999): phi(s) = -stockPotential x (stock on hand + on order) on the last stockPotentialDays days, r' = r + gamma phi(s') - phi(s), so the last day's lump is booked as the stock position moves and a markdown's worth is no longer a per cent of it. The optimal policy is unchanged. Needs stockOnHand and daysLeft features"),
  stockPotentialDays: z.number().int().positive().default(6).describe("the window of the stock potential: the horizon's last this many days. Below the cap of the lastDays feature (7), so that the step into the window, which books the whole position at once, is between two days the observation tells apart (a config error otherwise)"),
  backend: z.enum(backendChoices).default('auto').describe("TensorFlow.js backend: 'auto' (node if installed, else wasm, else cpu), 'node', 'wasm' or 'cpu'"),
});

export type DqnConfig = z.output<typeof dqnConfigSchema>;
