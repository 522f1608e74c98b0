/**
 * DQN: deep Q-learning with experience replay and a target network (Mnih et al. 2015),
 * with Double DQN targets (van Hasselt et al. 2016), n-step returns (Sutton and Barto 2018,
 * ch. 7), an optional dueling head (Wang et al. 2016), Huber loss, Adam and gradient-norm
 * clipping. After CleanRL's dqn.py: one file, read top to bottom.
 *
 * Network: observation (the env's named, normalised features) -> dense ReLU layers
 * (hiddenLayers, default 64, 64) -> one Q-value per ladder price. Kernels start Glorot
 * uniform from seeded initializers, biases at zero.
 *
 * One observe(transition), in order:
 *   1. steps += 1; with reward centering, the running average reward rbar moves towards
 *      reward x rewardScale; the transition joins the n-step accumulator, which stores finished
 *      n-step transitions (reward x rewardScale) in the replay buffer (agents/replay-buffer.ts:
 *      termination stops the bootstrap, truncation does not).
 *   2. After learningStarts steps, every trainFrequency steps: one gradient update.
 *   3. After learningStarts steps, every targetUpdateInterval steps: the target network
 *      moves to the online one (tau = 1: a copy; tau < 1: Polyak averaging).
 *
 * One update, on a batch of B transitions (s, a, R, s', d) sampled uniformly (with reward
 * centering, R of a k-step row first loses rbar (1 + gamma + ... + gamma^{k-1}), today's rbar):
 *   a*   = argmax_a Q_online(s', a)          (Double DQN; plain DQN uses Q_target here)
 *   y    = R + d * Q_target(s', a*)          (d = 0 after a termination, else gamma^k)
 *   loss = mean over the batch of huber(Q_online(s, a) - y)   (or the squared error)
 *   grad = d loss / d theta, scaled down to norm maxGradNorm if longer (as torch's clip_grad_norm_)
 *   Adam (PyTorch's form): m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2,
 *        theta -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + 1e-8)
 *
 * Speed (TF.js core ops, not the Layers API): all parameters live in one flat variable, so
 * Adam is a dozen element-wise ops instead of a dozen per weight tensor; the backward pass
 * of the ReLU MLP is written out (two matrix products per layer, see `backward`; a test
 * checks it against tf.grads) instead of being recorded on tf's tape; matrix transposes
 * are explicit because the wasm backend sends only untransposed products to XNNPACK. One
 * update at batch 32 takes less than half the time of the tape + tf.train.adam version
 * (docs/agents/dqn.md has the figures, and the PyTorch peer's). Every tensor an update makes
 * lives in a tf.tidy; a test holds tf.memory().numTensors constant across updates.
 *
 * Dueling head: the head emits a value V and advantages A_i and
 * Q_i = V + A_i - mean_j A_j. That is linear in (V, A), so the head's raw kernel W
 * (hidden x (1 + actions)) folds into a plain Q head W M with a constant matrix M.
 * The network acted with, and exported, is therefore always a plain MLP; gradients
 * reach W through M's transpose.
 *
 * Artifacts (export): 'model.json' + 'weights.bin', the TF.js Layers format of the
 * equivalent tf.sequential of dense layers (tf.loadLayersModel gives the same greedy
 * actions), and 'dqn.json' (config and counters). A restored agent acts exactly like the
 * exported one; its optimizer state and replay buffer start empty.
 *
 * Checkpoints (saveCheckpoint/restoreCheckpoint): the whole learner state, unlike the export:
 * online, target and averaged parameters, Adam's moments (its step is counters.updates),
 * the replay buffer and the n-step accumulator's open episodes, counters, the reward average
 * and both random streams, so a resumed run acts and learns exactly as the uninterrupted one.
 *
 * Greedy choices: argmax of Q, or with changeMargin > 0 the hysteresis of
 * agents/change-margin.ts (keep yesterday's price unless another beats it by more than the
 * margin), in act, actBatch (explore off), explain and a restored artifact alike (the config is
 * in dqn.json); exploring training steps take the plain argmax when they do not explore.
 * horizonTerminal stores a truncation as a termination (a finite-horizon task that shows the
 * time left). stockPotential shapes the reward before it is stored, r + gamma phi(s') - phi(s)
 * with the salvage potential of agents/stock-potential.ts (no phi(s') past an episode's end).
 *
 * Exploration: epsilon-greedy; with explorationHold > 1, temporally extended (ez-greedy,
 * Dabney et al. 2021): an exploring price is held for n days, P(n) ~ n^-explorationHoldExponent.
 *
 * Randomness: weight init from the 'weights' stream, epsilon-greedy from 'exploration'
 * (two uniforms per exploring act, drawn either way; a third, the hold length, with
 * explorationHold > 1), replay sampling from 'replay': all seeded from AgentContext.seed,
 * never Math.random.
 */
import { z } from 'zod';
import type * as Tf from '@tensorflow/tfjs';
import { PricelabError, configError, protocolError } from '../core/errors.js';
import { RandomStream } from '../core/random.js';
import type { ActOptions, Agent, AgentCapabilities, AgentCheckpoint, AgentContext, AgentExport, Explanation, Transition } from './agent.js';
import { checkpointState, jsonFile, randomStateSchema, readJsonFile } from './agent.js';
import { defineAgent } from './definition.js';
import { stockPotential, type StockPotential } from './stock-potential.js';
import { adjustedValues, chooseWithMargin, previousLadderIndex, previousPriceReader, type PreviousPriceReader } from './change-margin.js';
import { packArray, unpackArray } from './packed-arrays.js';
import { NStepAccumulator, ReplayBuffer, nStepStateSchema, replayStateSchema, type ReplayBatch } from './replay-buffer.js';
import { backendChoices, loadTensorflow, type BackendInfo, type TensorflowModule } from './tf-backend.js';

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

/** Counters exported in dqn.json and restored with the agent. */
export interface DqnCounters {
  /** observe() calls: environment steps seen. */
  steps: number;
  /** Gradient updates made. */
  updates: number;
  /** Target-network syncs made. */
  targetSyncs: number;
}

const adam = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 } as const;

/**
 * The whole learner state (saveCheckpoint): every flat parameter vector (online, target,
 * Adam's moments, the policy average) packed as float32 bytes, the counters (the Adam step
 * is counters.updates), the reward average, the replay buffer and the n-step accumulator's
 * open episodes, and the exploration and replay-sampling streams. The weights stream is
 * spent at creation only.
 */
const dqnCheckpointSchema = z.strictObject({
  featureCount: z.number().int().positive(),
  actionCount: z.number().int().positive(),
  parameterCount: z.number().int().positive(),
  counters: z.strictObject({ steps: z.number().int().nonnegative(), updates: z.number().int().nonnegative(), targetSyncs: z.number().int().nonnegative() }),
  averageReward: z.number(),
  lastLoss: z.number().nullable(),
  lastGradientNorm: z.number().nullable(),
  parameters: z.string(),
  targetParameters: z.string(),
  firstMoment: z.string(),
  secondMoment: z.string(),
  averageParameters: z.string().nullable(),
  exploration: randomStateSchema,
  replaySampling: randomStateSchema,
  replay: replayStateSchema,
  nStep: nStepStateSchema,
  /** ez-greedy: days each slot (market) still holds its exploring price, and that price. */
  holdRemaining: z.array(z.number().int().nonnegative()),
  heldActions: z.array(z.number().int().nonnegative()),
});
type DqnCheckpointState = z.output<typeof dqnCheckpointSchema>;

// ---------------------------------------------------------------------------------------
// The network: its parameter layout, forward pass, hand-written backward pass, TD targets.
// ---------------------------------------------------------------------------------------

export interface NetworkLayout {
  readonly featureCount: number;
  readonly actionCount: number;
  readonly dueling: boolean;
  /** Trained parameters in Layers order (kernel [in, out], then bias [out], per layer); the dueling head has 1 + actionCount outputs. */
  readonly shapes: readonly (readonly number[])[];
  readonly sizes: readonly number[];
  readonly parameterCount: number;
  /** Units of each dense layer of the plain MLP acted with and exported (the head: actionCount). */
  readonly policyUnits: readonly number[];
}

export function networkLayout(featureCount: number, actionCount: number, hiddenLayers: readonly number[], dueling: boolean): NetworkLayout {
  const units = [...hiddenLayers, dueling ? actionCount + 1 : actionCount];
  const shapes: number[][] = [];
  let inputs = featureCount;
  for (const outputs of units) {
    shapes.push([inputs, outputs], [outputs]);
    inputs = outputs;
  }
  const sizes = shapes.map((shape) => shape.reduce((product, length) => product * length, 1));
  return { featureCount, actionCount, dueling, shapes, sizes, parameterCount: sizes.reduce((sum, size) => sum + size, 0), policyUnits: [...hiddenLayers, actionCount] };
}

/** Q-values of a batch through the plain ReLU MLP `weights` ([kernel, bias] per layer), and each layer's input. */
export function forward(tf: TensorflowModule, observations: Tf.Tensor2D, weights: readonly Tf.Tensor[]): { inputs: Tf.Tensor2D[]; q: Tf.Tensor2D } {
  const layers = weights.length / 2;
  const inputs: Tf.Tensor2D[] = [];
  let activations = observations;
  for (let layer = 0; layer < layers; layer++) {
    inputs.push(activations);
    // The same fused op a Layers Dense layer runs: the exported model computes these very numbers.
    activations = tf.fused.matMul({ a: activations, b: weights[2 * layer]!, bias: weights[2 * layer + 1]!, activation: layer < layers - 1 ? 'relu' : 'linear' }) as Tf.Tensor2D;
  }
  return { inputs, q: activations };
}

/**
 * Gradients of the loss with respect to every weight of the MLP, given dLoss/dQ, by the
 * chain rule (what tf.grads computes; a test checks they agree). For layer l, whose input
 * is x_l (the ReLU output of layer l - 1) and whose output gradient is g_l:
 *   d kernel_l = x_l^T g_l,   d bias_l = sum over the batch of g_l,
 *   g_{l-1}    = (g_l kernel_l^T) * [x_l > 0]     (ReLU passes gradient where it was active)
 */
export function backward(tf: TensorflowModule, inputs: readonly Tf.Tensor2D[], weights: readonly Tf.Tensor[], dq: Tf.Tensor2D): Tf.Tensor[] {
  const gradients: Tf.Tensor[] = [];
  let upstream = dq;
  for (let layer = inputs.length - 1; layer >= 0; layer--) {
    const input = inputs[layer]!;
    // Explicit transposes: wasm runs untransposed products on XNNPACK, transposed ones in a naive loop.
    gradients[2 * layer] = tf.matMul(tf.transpose(input), upstream);
    gradients[2 * layer + 1] = tf.sum(upstream, 0);
    if (layer > 0) upstream = tf.mul(tf.matMul(upstream, tf.transpose(weights[2 * layer] as Tf.Tensor2D)), tf.step(input));
  }
  return gradients;
}

/**
 * Regression targets y = r + bootstrapDiscount * Q_target(s', a*), with a* the online
 * network's greedy next action (Double DQN), or the target network's own when
 * `nextQOnline` is null (max over Q_target: plain DQN).
 */
export function temporalDifferenceTargets(
  tf: TensorflowModule,
  rewards: Tf.Tensor1D,
  bootstrapDiscounts: Tf.Tensor1D,
  nextQTarget: Tf.Tensor2D,
  nextQOnline: Tf.Tensor2D | null,
): Tf.Tensor1D {
  // oneHot stays int32 and is cast: wasm's OneHot with dtype 'float32' writes integer bits (tfjs 4.22).
  const nextValues = nextQOnline === null ? tf.max(nextQTarget, 1) : tf.sum(tf.mul(nextQTarget, tf.cast(tf.oneHot(tf.argMax(nextQOnline, 1), nextQTarget.shape[1]), 'float32')), 1);
  return tf.add(rewards, tf.mul(bootstrapDiscounts, nextValues));
}

/** Cumulative P(n) for n = 1..longest, P(n) proportional to n^-exponent (ez-greedy's hold lengths). */
function holdLengthDistribution(longest: number, exponent: number): Float64Array {
  const weights = Float64Array.from({ length: longest }, (_, index) => (index + 1) ** -exponent);
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  let cumulative = 0;
  return weights.map((weight) => (cumulative += weight / total));
}

/** The first index of the largest of `count` values from `offset` (tf.argMax's choice). */
function argMaxOf(values: ArrayLike<number>, offset: number, count: number): number {
  let best = 0;
  for (let index = 1; index < count; index++) if ((values[offset + index] ?? Number.NaN) > (values[offset + best] ?? Number.NaN)) best = index;
  return best;
}

/** M, (1 + actions) x actions: Q = [V, A] M = V + A - mean(A). */
function duelingMatrixValues(actionCount: number): Float32Array {
  const values = new Float32Array((actionCount + 1) * actionCount);
  for (let action = 0; action < actionCount; action++) {
    values[action] = 1; // row 0: the value stream adds to every Q
    for (let advantage = 0; advantage < actionCount; advantage++) values[(1 + advantage) * actionCount + action] = (advantage === action ? 1 : 0) - 1 / actionCount;
  }
  return values;
}

// ---------------------------------------------------------------------------------------
// The agent.
// ---------------------------------------------------------------------------------------

export class DqnAgent implements Agent {
  readonly kind = 'dqn';
  readonly capabilities: AgentCapabilities;
  readonly config: DqnConfig;
  readonly layout: NetworkLayout;
  readonly backend: BackendInfo;
  readonly replay: ReplayBuffer;
  readonly counters: DqnCounters;
  /** Running average of the scaled reward (reward centering; 0 when off). */
  averageReward = 0;
  /** Mean loss and gradient norm (before clipping) of the last update. */
  lastLoss = Number.NaN;
  lastGradientNorm = Number.NaN;

  private readonly tf: TensorflowModule;
  private readonly nStep: NStepAccumulator;
  private readonly exploration: RandomStream;
  private readonly sampling: RandomStream;
  private readonly batch: ReplayBatch;
  /** All trained parameters, flat, in layout order; Adam's moments beside them. */
  private readonly parameters: Tf.Variable;
  private readonly firstMoment: Tf.Variable;
  private readonly secondMoment: Tf.Variable;
  private readonly targetParameters: Tf.Variable;
  /** Polyak average of the online parameters (null unless policyAveraging > 0). */
  private readonly averageParameters: Tf.Variable | null;
  /** The dueling fold M and its transpose (null without a dueling head). */
  private readonly dueling: { readonly fold: Tf.Tensor2D; readonly unfold: Tf.Tensor2D } | null;
  /** Per-layer weights of the plain MLP, online and target: what forward() runs. */
  private onlineWeights: Tf.Tensor[];
  private targetWeights: Tf.Tensor[];
  /** Per-layer weights of the averaged network (null unless policyAveraging > 0). */
  private averageWeights: Tf.Tensor[] | null;
  /** Potential-based shaping of the salvage (null unless stockPotential > 0). */
  /** The reward shaping of training, built at the first observe (a restored agent that only prices never needs it). */
  private potential: StockPotential | null | undefined;
  /** Reads yesterday's price from an observation (null unless changeMargin > 0). */
  private readonly previousPrice: PreviousPriceReader | null;
  private readonly observationSpace: AgentContext['observationSpace'];
  /** ez-greedy: the cumulative distribution of hold lengths 1..explorationHold (null when explorationHold is 1). */
  private readonly holdLengths: Float64Array | null;
  /** ez-greedy: per market (actBatch row; act uses row 0), days its exploring price is still held, and that price. */
  private holdRemaining: number[] = [];
  private heldActions: number[] = [];
  private disposed = false;

  /** Creates the agent on the configured backend (loading TensorFlow.js on first use). */
  static async create(config: DqnConfig, context: AgentContext): Promise<DqnAgent> {
    // A new agent will learn: a potential that does not fit the market is a config error now, not at the first step.
    if (config.stockPotential > 0) stockPotential(context.observationSpace, config.stockPotential, config.stockPotentialDays);
    const { tf, backend } = await loadTensorflow(config.backend);
    return new DqnAgent(tf, backend, config, context);
  }

  /**
   * @param policyWeights per-layer weights of the plain MLP to start from (a restore), or
   *   undefined for a seeded Glorot-uniform start.
   */
  constructor(tf: TensorflowModule, backend: BackendInfo, config: DqnConfig, context: AgentContext, policyWeights?: readonly Tf.Tensor[], counters?: DqnCounters) {
    this.tf = tf;
    this.backend = backend;
    this.config = config;
    const featureCount = context.observationSpace.shape[0];
    this.layout = networkLayout(featureCount, context.actionSpace.n, config.hiddenLayers, config.dueling);
    this.capabilities = { learns: true, tabular: false, batchedActions: true, warmupSteps: config.learningStarts };
    this.counters = counters ? { ...counters } : { steps: 0, updates: 0, targetSyncs: 0 };
    this.replay = new ReplayBuffer(config.replayCapacity, featureCount);
    this.batch = this.replay.createBatch(config.batchSize);
    const rewardScale = config.rewardScale;
    this.nStep = new NStepAccumulator(config.nSteps, config.gamma, (observation, action, reward, nextObservation, done, discount, steps) =>
      this.replay.add(observation, action, reward * rewardScale, nextObservation, done, discount, steps),
    );
    this.exploration = new RandomStream(context.seed, 'exploration');
    this.sampling = new RandomStream(context.seed, 'replay');
    this.holdLengths = config.explorationHold > 1 ? holdLengthDistribution(config.explorationHold, config.explorationHoldExponent) : null;
    this.previousPrice = config.changeMargin > 0 ? previousPriceReader(context.observationSpace, context.ladder) : null;
    this.observationSpace = context.observationSpace;

    const actionCount = this.layout.actionCount;
    if (config.dueling) {
      const fold = tf.tensor2d(duelingMatrixValues(actionCount), [actionCount + 1, actionCount]);
      this.dueling = { fold, unfold: tf.transpose(fold) };
    } else this.dueling = null;
    const initial = tf.tidy(() => (policyWeights ? this.unfoldPolicyWeights(policyWeights) : this.initialParameters(context.seed)));
    this.parameters = tf.variable(initial, false);
    this.targetParameters = tf.variable(initial, false);
    this.averageParameters = config.policyAveraging > 0 ? tf.variable(initial, false) : null;
    initial.dispose();
    this.firstMoment = tf.tidy(() => tf.variable(tf.zeros([this.layout.parameterCount]), false));
    this.secondMoment = tf.tidy(() => tf.variable(tf.zeros([this.layout.parameterCount]), false));
    // A restore acts with the loaded weights themselves, bit for bit.
    this.onlineWeights = policyWeights ? policyWeights.map((weight) => tf.clone(weight)) : this.policyWeightsOf(this.parameters);
    this.targetWeights = this.policyWeightsOf(this.targetParameters);
    // A restore acts with the loaded weights: the average starts there.
    this.averageWeights = this.averageParameters ? this.onlineWeights.map((weight) => tf.clone(weight)) : null;
  }

  /** The network greedy actions, Q-values and the export use: the Polyak average when enabled, else the online one. */
  private get actingWeights(): Tf.Tensor[] {
    return this.averageWeights ?? this.onlineWeights;
  }

  /** The Adam step size after `steps` environment steps (learningRateSchedule). */
  learningRateAt(steps: number): number {
    const { learningRate, learningRateEnd, learningRateSchedule, totalSteps } = this.config;
    if (learningRateSchedule === 'constant') return learningRate;
    const progress = Math.min(1, steps / totalSteps);
    const weight = learningRateSchedule === 'linear' ? 1 - progress : 0.5 * (1 + Math.cos(Math.PI * progress));
    return learningRateEnd + (learningRate - learningRateEnd) * weight;
  }

  act(observation: Float32Array, options: ActOptions): number {
    this.assertLive();
    if (options.explore) {
      const exploring = this.exploringAction(0, this.explorationRate());
      if (exploring >= 0) return exploring;
    }
    return this.greedyActions(observation, 1, !options.explore)[0]!;
  }

  /**
   * Epsilon-greedy's draw for one market (`slot`: its row in actBatch): a random action, or
   * -1 for the greedy one. Two uniforms per call, drawn either way (the stream stays
   * aligned); with explorationHold > 1 a third, the hold length, and a held price is
   * returned until its days are spent.
   */
  private exploringAction(slot: number, epsilon: number): number {
    const explore = this.exploration.next() < epsilon;
    const uniform = this.exploration.next();
    const actionCount = this.layout.actionCount;
    if (!this.holdLengths) return explore ? Math.min(actionCount - 1, Math.floor(uniform * actionCount)) : -1;
    const lengthUniform = this.exploration.next();
    if (this.holdRemaining.length <= slot) {
      this.holdRemaining = [...this.holdRemaining, ...Array<number>(slot + 1 - this.holdRemaining.length).fill(0)];
      this.heldActions = [...this.heldActions, ...Array<number>(slot + 1 - this.heldActions.length).fill(0)];
    }
    if (this.holdRemaining[slot]! > 0) {
      this.holdRemaining[slot]!--;
      return this.heldActions[slot]!;
    }
    if (!explore) return -1;
    const action = Math.min(actionCount - 1, Math.floor(uniform * actionCount));
    let days = 1;
    while (days < this.holdLengths.length && lengthUniform >= this.holdLengths[days - 1]!) days++;
    this.heldActions[slot] = action;
    this.holdRemaining[slot] = days - 1;
    return action;
  }

  /** One forward pass for `count` observations (row-major), then epsilon-greedy per row when exploring. */
  actBatch(observations: Float32Array, count: number, options: ActOptions, out: Int32Array): void {
    this.assertLive();
    out.set(this.greedyActions(observations, count, !options.explore).subarray(0, count));
    if (!options.explore) return;
    const epsilon = this.explorationRate();
    for (let row = 0; row < count; row++) {
      const exploring = this.exploringAction(row, epsilon);
      if (exploring >= 0) out[row] = exploring;
    }
  }

  observe(transition: Transition): void {
    this.assertLive();
    const counters = this.counters;
    counters.steps++;
    const ends = transition.terminated || (this.config.horizonTerminal && transition.truncated);
    if (this.potential === undefined) {
      const { stockPotential: perUnit, stockPotentialDays } = this.config;
      this.potential = perUnit > 0 ? stockPotential(this.observationSpace, perUnit, stockPotentialDays) : null;
    }
    const potential = this.potential;
    const reward = potential ? transition.reward + (ends ? 0 : this.config.gamma * potential.at(transition.nextObservation)) - potential.at(transition.observation) : transition.reward;
    if (this.config.rewardCentering > 0) this.averageReward += Math.max(this.config.rewardCentering, 1 / counters.steps) * (reward * this.config.rewardScale - this.averageReward);
    this.nStep.push(reward !== transition.reward || (ends && !transition.terminated) ? { ...transition, reward, terminated: ends } : transition);
    if (counters.steps <= this.config.learningStarts || this.replay.size < this.config.batchSize) return;
    if (counters.steps % this.config.trainFrequency === 0) this.train();
    if (counters.steps % this.config.targetUpdateInterval === 0) this.syncTarget();
  }

  /** Linear decay from epsilonStart to epsilonEnd over explorationFraction x totalSteps steps. */
  explorationRate(): number {
    const { epsilonStart, epsilonEnd, explorationFraction, totalSteps } = this.config;
    const duration = explorationFraction * totalSteps;
    const progress = duration <= 0 ? 1 : Math.min(1, this.counters.steps / duration);
    return epsilonStart + (epsilonEnd - epsilonStart) * progress;
  }

  /** One gradient update on a batch drawn from the replay buffer (rewards centred when asked); returns its mean loss. */
  train(): number {
    this.assertLive();
    this.replay.sample(this.sampling, this.batch);
    if (this.config.rewardCentering > 0) {
      // A row summing k rewards loses rbar (1 + gamma + ... + gamma^{k-1}), with today's rbar for every row.
      const { gamma } = this.config;
      const batch = this.batch;
      for (let row = 0; row < batch.size; row++) {
        const steps = batch.stepCounts[row]!;
        batch.rewards[row] = batch.rewards[row]! - this.averageReward * (gamma === 1 ? steps : (1 - gamma ** steps) / (1 - gamma));
      }
    }
    return this.update(this.batch);
  }

  /** One gradient update on `batch` (see the card above); returns its mean loss. */
  update(batch: ReplayBatch): number {
    this.assertLive();
    const tf = this.tf;
    const { featureCount, actionCount } = this.layout;
    const size = batch.size;
    const { maxGradNorm } = this.config;
    const learningRate = this.learningRateAt(this.counters.steps);
    const step = ++this.counters.updates;
    const actionMask = new Float32Array(size * actionCount);
    for (let row = 0; row < size; row++) actionMask[row * actionCount + batch.actions[row]!] = 1;

    tf.tidy(() => {
      const observations = tf.tensor2d(batch.observations.subarray(0, size * featureCount), [size, featureCount]);
      const nextObservations = tf.tensor2d(batch.nextObservations.subarray(0, size * featureCount), [size, featureCount]);
      const mask = tf.tensor2d(actionMask, [size, actionCount]);

      // Targets: no gradient flows through them (nothing here is on a tape).
      const nextQTarget = forward(tf, nextObservations, this.targetWeights).q;
      const nextQOnline = this.config.doubleDqn ? forward(tf, nextObservations, this.onlineWeights).q : null;
      const targets = temporalDifferenceTargets(tf, tf.tensor1d(batch.rewards.subarray(0, size)), tf.tensor1d(batch.bootstrapDiscounts.subarray(0, size)), nextQTarget, nextQOnline);

      // Loss on Q(s, a) and its gradient with respect to Q (mean over the batch).
      const online = forward(tf, observations, this.onlineWeights);
      const errors = tf.sub(tf.sum(tf.mul(online.q, mask), 1), targets);
      let lossPerSample: Tf.Tensor;
      let dLossdChosenQ: Tf.Tensor;
      if (this.config.loss === 'huber') {
        const delta = this.config.huberDelta;
        const clipped = tf.clipByValue(errors, -delta, delta); // Huber's derivative
        lossPerSample = tf.mul(clipped, tf.sub(errors, tf.mul(clipped, 0.5))); // 0.5 e^2 if |e| <= delta, else delta (|e| - delta / 2)
        dLossdChosenQ = tf.mul(clipped, 1 / size);
      } else {
        lossPerSample = tf.square(errors);
        dLossdChosenQ = tf.mul(errors, 2 / size);
      }
      if (this.config.expectile !== 0.5) {
        // Expectile regression: an error where the target fell short of the prediction (e > 0) weighs
        // 2 (1 - expectile), one where it exceeded it 2 expectile (1 and 1 at 0.5: the plain loss).
        const tau = this.config.expectile;
        const weights = tf.where(tf.greater(errors, 0), tf.fill([size], 2 * (1 - tau)), tf.fill([size], 2 * tau));
        lossPerSample = tf.mul(lossPerSample, weights);
        dLossdChosenQ = tf.mul(dLossdChosenQ, weights);
      }
      const dq = tf.mul(mask, tf.reshape(dLossdChosenQ, [size, 1])) as Tf.Tensor2D;

      // Backward pass, then one flat gradient over every parameter.
      const gradients = backward(tf, online.inputs, this.onlineWeights, dq);
      if (this.dueling) {
        const head = gradients.length - 2;
        gradients[head] = tf.matMul(gradients[head] as Tf.Tensor2D, this.dueling.unfold);
        gradients[head + 1] = tf.matMul(tf.reshape(gradients[head + 1]!, [1, actionCount]), this.dueling.unfold);
      }
      let gradient = tf.concat(gradients.map((part) => tf.reshape(part, [-1])));
      let squared = tf.square(gradient);

      // One read-back per update: the gradient norm (for clipping) and the loss.
      const [sumOfSquares = Number.NaN, lossSum = Number.NaN] = tf.stack([tf.sum(squared), tf.sum(lossPerSample)]).dataSync();
      this.lastGradientNorm = Math.sqrt(sumOfSquares);
      this.lastLoss = lossSum / size;
      if (this.lastGradientNorm > maxGradNorm) {
        const scale = maxGradNorm / (this.lastGradientNorm + 1e-6);
        gradient = tf.mul(gradient, scale);
        squared = tf.mul(squared, scale * scale);
      }

      // Adam, bias-corrected as in PyTorch.
      const { beta1, beta2, epsilon } = adam;
      this.firstMoment.assign(tf.add(tf.mul(this.firstMoment, beta1), tf.mul(gradient, 1 - beta1)));
      this.secondMoment.assign(tf.add(tf.mul(this.secondMoment, beta2), tf.mul(squared, 1 - beta2)));
      const denominator = tf.add(tf.mul(tf.sqrt(this.secondMoment), 1 / Math.sqrt(1 - beta2 ** step)), epsilon);
      this.parameters.assign(tf.sub(this.parameters, tf.mul(tf.div(this.firstMoment, denominator), learningRate / (1 - beta1 ** step))));
    });

    const previous = this.onlineWeights;
    this.onlineWeights = this.policyWeightsOf(this.parameters);
    for (const weight of previous) weight.dispose();
    if (this.averageParameters && this.averageWeights) {
      const averaging = this.config.policyAveraging;
      const average = this.averageParameters;
      tf.tidy(() => {
        average.assign(tf.add(tf.mul(this.parameters, averaging), tf.mul(average, 1 - averaging)));
      });
      const previousAverage = this.averageWeights;
      this.averageWeights = this.policyWeightsOf(average);
      for (const weight of previousAverage) weight.dispose();
    }
    return this.lastLoss;
  }

  /** Moves the target network to the online one: a copy (tau = 1) or Polyak averaging. */
  syncTarget(): void {
    this.assertLive();
    const tf = this.tf;
    const tau = this.config.tau;
    tf.tidy(() => {
      this.targetParameters.assign(tau >= 1 ? tf.clone(this.parameters) : tf.add(tf.mul(this.parameters, tau), tf.mul(this.targetParameters, 1 - tau)));
    });
    const previous = this.targetWeights;
    this.targetWeights = this.policyWeightsOf(this.targetParameters);
    for (const weight of previous) weight.dispose();
    this.counters.targetSyncs++;
  }

  /** The online network's parameters, flat, in layout order (a copy). */
  parameterValues(): Float32Array {
    this.assertLive();
    return Float32Array.from(this.parameters.dataSync());
  }

  /** The target network's parameters, flat, in layout order (a copy). */
  targetParameterValues(): Float32Array {
    this.assertLive();
    return Float32Array.from(this.targetParameters.dataSync());
  }

  /** Q-values of `count` observations (row-major), count x actions, row-major. */
  qValues(observations: Float32Array, count: number): Float32Array {
    this.assertLive();
    const tf = this.tf;
    const q = tf.tidy(() => forward(tf, tf.tensor2d(observations.subarray(0, count * this.layout.featureCount), [count, this.layout.featureCount]), this.actingWeights).q);
    const values = Float32Array.from(q.dataSync());
    q.dispose();
    return values;
  }

  /** The whole learner state, as JSON (see dqnCheckpointSchema). */
  saveCheckpoint(): AgentCheckpoint {
    this.assertLive();
    const flat = (variable: Tf.Variable) => packArray(variable.dataSync() as Float32Array);
    const state: DqnCheckpointState = {
      featureCount: this.layout.featureCount,
      actionCount: this.layout.actionCount,
      parameterCount: this.layout.parameterCount,
      counters: { ...this.counters },
      averageReward: this.averageReward,
      lastLoss: Number.isFinite(this.lastLoss) ? this.lastLoss : null,
      lastGradientNorm: Number.isFinite(this.lastGradientNorm) ? this.lastGradientNorm : null,
      parameters: flat(this.parameters),
      targetParameters: flat(this.targetParameters),
      firstMoment: flat(this.firstMoment),
      secondMoment: flat(this.secondMoment),
      averageParameters: this.averageParameters ? flat(this.averageParameters) : null,
      exploration: this.exploration.saveState(),
      replaySampling: this.sampling.saveState(),
      replay: this.replay.saveState(),
      nStep: this.nStep.saveState(),
      holdRemaining: [...this.holdRemaining],
      heldActions: [...this.heldActions],
    };
    return { kind: this.kind, state };
  }

  /** Loads a checkpoint saved by an agent of the same config and market; a mismatch is an integrity error listing every problem. */
  restoreCheckpoint(checkpoint: AgentCheckpoint): void {
    this.assertLive();
    const state = checkpointState(checkpoint, this.kind, dqnCheckpointSchema);
    const { featureCount, actionCount, parameterCount } = this.layout;
    const problems = [];
    if (state.featureCount !== featureCount) problems.push({ path: ['state', 'featureCount'], message: `expected ${featureCount} observation features, found ${state.featureCount}` });
    if (state.actionCount !== actionCount) problems.push({ path: ['state', 'actionCount'], message: `expected ${actionCount} prices, found ${state.actionCount}` });
    if (state.parameterCount !== parameterCount) problems.push({ path: ['state', 'parameterCount'], message: `expected ${parameterCount} parameters (this config's network), found ${state.parameterCount}` });
    if ((state.averageParameters === null) !== (this.averageParameters === null)) {
      problems.push({ path: ['state', 'averageParameters'], message: `expected ${this.averageParameters ? 'the policy average (policyAveraging > 0)' : 'none (policyAveraging 0)'}, found ${state.averageParameters === null ? 'none' : 'one'}` });
    }
    if (problems.length > 0) throw new PricelabError('integrity', 'the DQN checkpoint does not fit this agent', problems);
    const tf = this.tf;
    const load = (variable: Tf.Variable, packed: string, name: string) => {
      const values = unpackArray(packed, Float32Array, parameterCount, ['state', name]);
      tf.tidy(() => variable.assign(tf.tensor1d(values)));
    };
    load(this.parameters, state.parameters, 'parameters');
    load(this.targetParameters, state.targetParameters, 'targetParameters');
    load(this.firstMoment, state.firstMoment, 'firstMoment');
    load(this.secondMoment, state.secondMoment, 'secondMoment');
    if (this.averageParameters && state.averageParameters !== null) load(this.averageParameters, state.averageParameters, 'averageParameters');
    this.replay.restoreState(state.replay, ['state', 'replay']);
    this.nStep.restoreState(state.nStep);
    this.holdRemaining = [...state.holdRemaining];
    this.heldActions = [...state.heldActions];
    this.exploration.restoreState(state.exploration);
    this.sampling.restoreState(state.replaySampling);
    Object.assign(this.counters, state.counters);
    this.averageReward = state.averageReward;
    this.lastLoss = state.lastLoss ?? Number.NaN;
    this.lastGradientNorm = state.lastGradientNorm ?? Number.NaN;
    const previous = [...this.onlineWeights, ...this.targetWeights, ...(this.averageWeights ?? [])];
    this.onlineWeights = this.policyWeightsOf(this.parameters);
    this.targetWeights = this.policyWeightsOf(this.targetParameters);
    if (this.averageParameters) this.averageWeights = this.policyWeightsOf(this.averageParameters);
    for (const weight of previous) weight.dispose();
  }

  async export(): Promise<AgentExport> {
    this.assertLive();
    const { modelJson, weightData } = await toLayersFormat(this.tf, this.layout, this.actingWeights);
    const state: DqnStateFile = {
      format: 'pricelab-dqn',
      formatVersion: 1,
      featureCount: this.layout.featureCount,
      actionCount: this.layout.actionCount,
      config: this.config,
      counters: { ...this.counters },
      explorationRate: this.explorationRate(),
    };
    return { kind: this.kind, config: this.config, files: { 'model.json': jsonFile(modelJson), 'weights.bin': weightData, 'dqn.json': jsonFile(state) } };
  }

  /** Frees every tensor and variable the agent holds; the agent cannot be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const tensor of [...this.onlineWeights, ...this.targetWeights, ...(this.averageWeights ?? [])]) tensor.dispose();
    this.onlineWeights = [];
    this.targetWeights = [];
    if (this.averageWeights) this.averageWeights = [];
    this.averageParameters?.dispose();
    this.parameters.dispose();
    this.targetParameters.dispose();
    this.firstMoment.dispose();
    this.secondMoment.dispose();
    this.dueling?.fold.dispose();
    this.dueling?.unfold.dispose();
  }

  /**
   * The values behind the greedy choice: Q(s, .) of the acting network, in scaled reward
   * units (rewardScale). With changeMargin, the kept price's value carries the margin
   * (agents/change-margin.ts), so `chosen` is always the largest value.
   */
  explain(observation: Float32Array): Explanation {
    this.assertLive();
    const q = this.qValues(observation, 1);
    const actionCount = this.layout.actionCount;
    if (!this.previousPrice) return { kind: 'action-values', values: Array.from(q), chosen: argMaxOf(q, 0, actionCount) };
    const keep = previousLadderIndex(this.previousPrice, observation, 0);
    const margin = this.scaledChangeMargin;
    return { kind: 'action-values', values: adjustedValues(q, 0, actionCount, keep, margin), chosen: chooseWithMargin(q, 0, actionCount, keep, margin) };
  }

  /** changeMargin in the network's units (reward x rewardScale). */
  private get scaledChangeMargin(): number {
    return this.config.changeMargin * this.config.rewardScale;
  }

  /**
   * Greedy actions; `withMargin`: the greedy policy of evaluation and serving (explore off),
   * which applies changeMargin. While exploring, the non-random choice is the plain argmax, the
   * policy the Q-learning targets evaluate (applying the margin there too lost 1,800 a year on
   * steady-state-v1: docs/agents/dqn.md).
   */
  private greedyActions(observations: Float32Array, count: number, withMargin: boolean): Int32Array {
    const tf = this.tf;
    const features = this.layout.featureCount;
    if (observations.length < count * features) throw protocolError(`expected ${count} observations of ${features} features (${count * features} numbers), found ${observations.length} numbers`);
    if (!this.previousPrice || !withMargin) {
      const actions = tf.tidy(() => tf.argMax(forward(tf, tf.tensor2d(observations.subarray(0, count * features), [count, features]), this.actingWeights).q, 1));
      const values = actions.dataSync() as Int32Array;
      actions.dispose();
      return values;
    }
    const q = this.qValues(observations, count);
    const actionCount = this.layout.actionCount;
    const margin = this.scaledChangeMargin;
    const actions = new Int32Array(count);
    for (let row = 0; row < count; row++) actions[row] = chooseWithMargin(q, row * actionCount, actionCount, previousLadderIndex(this.previousPrice, observations, row * features), margin);
    return actions;
  }

  /** Seeded Glorot-uniform kernels, zero biases, flattened in layout order. */
  private initialParameters(seed: number): Tf.Tensor1D {
    const tf = this.tf;
    const seeds = new RandomStream(seed, 'weights');
    const parts = this.layout.shapes.map((shape) =>
      shape.length === 2 ? tf.initializers.glorotUniform({ seed: Math.floor(seeds.next() * 2 ** 31) }).apply([...shape]) : tf.zeros([...shape]),
    );
    return tf.concat(parts.map((part) => tf.reshape(part, [-1]))) as Tf.Tensor1D;
  }

  /** The per-layer weights of the plain MLP from flat parameters (a dueling head folded: W M, b M). */
  private policyWeightsOf(parameters: Tf.Tensor): Tf.Tensor[] {
    const tf = this.tf;
    return tf.tidy(() => {
      const parts = tf.split(parameters, [...this.layout.sizes]).map((part, index) => tf.reshape(part, [...this.layout.shapes[index]!]));
      if (this.dueling) {
        const head = parts.length - 2;
        parts[head] = tf.matMul(parts[head] as Tf.Tensor2D, this.dueling.fold);
        // b M as a column sum, not a 1-row matMul: wasm's fused matMul rejects a bias whose buffer was made with rank 3.
        parts[head + 1] = tf.sum(tf.mul(tf.reshape(parts[head + 1]!, [-1, 1]), this.dueling.fold), 0);
      }
      return parts;
    });
  }

  /** Flat parameters from per-layer MLP weights; a dueling head is unfolded (V = mean of Q, A = Q - V), which folds back to the same Q head. */
  private unfoldPolicyWeights(weights: readonly Tf.Tensor[]): Tf.Tensor1D {
    const tf = this.tf;
    const parts = [...weights];
    if (this.dueling) {
      const head = parts.length - 2;
      const kernel = parts[head] as Tf.Tensor2D;
      const value = tf.mean(kernel, 1, true);
      parts[head] = tf.concat([value, tf.sub(kernel, value)], 1);
      const bias = parts[head + 1]!;
      const biasValue = tf.reshape(tf.mean(bias), [1]);
      parts[head + 1] = tf.concat([biasValue, tf.sub(bias, biasValue)]);
    }
    return tf.concat(parts.map((part) => tf.reshape(part, [-1]))) as Tf.Tensor1D;
  }

  private assertLive(): void {
    if (this.disposed) throw protocolError('the DQN agent was disposed: create or restore a new one');
  }
}

// ---------------------------------------------------------------------------------------
// Artifacts: the TF.js Layers format (model.json + weights.bin) and dqn.json.
// ---------------------------------------------------------------------------------------

interface DqnStateFile {
  format: 'pricelab-dqn';
  formatVersion: 1;
  featureCount: number;
  actionCount: number;
  config: DqnConfig;
  counters: DqnCounters;
  explorationRate: number;
}

/** The tf.sequential equivalent of the network: dense layers named hidden_1.., q_values. */
export function buildLayersModel(tf: TensorflowModule, layout: NetworkLayout): Tf.Sequential {
  const last = layout.policyUnits.length - 1;
  return tf.sequential({
    name: 'pricelab_dqn',
    layers: layout.policyUnits.map((units, index) =>
      tf.layers.dense({
        units,
        activation: index < last ? 'relu' : 'linear',
        name: index < last ? `hidden_${index + 1}` : 'q_values',
        kernelInitializer: 'zeros', // overwritten by setWeights: no random numbers spent here
        ...(index === 0 ? { inputShape: [layout.featureCount] } : {}),
      }),
    ),
  });
}

/** model.json (Layers topology + weights manifest) and weights.bin for the MLP `weights`. */
export async function toLayersFormat(tf: TensorflowModule, layout: NetworkLayout, weights: readonly Tf.Tensor[]): Promise<{ modelJson: Tf.io.ModelJSON; weightData: Uint8Array }> {
  const model = buildLayersModel(tf, layout);
  try {
    model.setWeights([...weights]);
    let saved: Tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        saved = artifacts;
        return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } };
      }),
    );
    if (!saved?.modelTopology || !saved.weightSpecs || !saved.weightData) throw new PricelabError('integrity', 'TensorFlow.js saved no topology or weights for the DQN model');
    const modelJson: Tf.io.ModelJSON = {
      format: 'layers-model',
      generatedBy: saved.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version_layers}`,
      convertedBy: null,
      modelTopology: saved.modelTopology,
      weightsManifest: [{ paths: ['weights.bin'], weights: saved.weightSpecs }],
    };
    return { modelJson, weightData: new Uint8Array(tf.io.CompositeArrayBuffer.join(saved.weightData)) };
  } finally {
    model.dispose();
  }
}

/** Model artifacts for tf.loadLayersModel(tf.io.fromMemory(...)) from the exported files. */
export function layersArtifactsOf(files: Readonly<Record<string, Uint8Array>>): Tf.io.ModelArtifacts {
  const modelJson = readJsonFile<Tf.io.ModelJSON>(files['model.json'], 'model.json');
  const bytes = files['weights.bin'];
  if (!bytes) throw new PricelabError('integrity', 'expected the weights file "weights.bin" in the DQN artifact, found none');
  const paths = (modelJson.weightsManifest ?? []).flatMap((group) => group.paths);
  if (paths.length !== 1 || paths[0] !== 'weights.bin') throw new PricelabError('integrity', `expected model.json to list one weights file, "weights.bin", found ${JSON.stringify(paths)}`);
  return {
    modelTopology: modelJson.modelTopology,
    weightSpecs: (modelJson.weightsManifest ?? []).flatMap((group) => group.weights),
    weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
  };
}

/**
 * The same export with another change margin: the margin shapes only the greedy choice, never
 * the weights, so one trained network can be tried at several (chosen on validation seeds:
 * experiments/margin-selection.ts). A config error for a margin below 0.
 */
export function withChangeMargin(exported: AgentExport, margin: number): AgentExport {
  if (!(margin >= 0) || !Number.isFinite(margin)) throw configError('bad change margin', [{ path: ['changeMargin'], message: `expected a finite number of 0 or more (reward units), found ${margin}` }]);
  const state = readJsonFile<DqnStateFile>(exported.files['dqn.json'], 'dqn.json');
  const config = { ...state.config, changeMargin: margin };
  return { ...exported, config, files: { ...exported.files, 'dqn.json': jsonFile({ ...state, config }) } };
}

/** Rebuilds a DQN agent from its export: the Layers model's weights become the policy, bit for bit. */
export async function restoreDqn(exported: AgentExport, context: AgentContext): Promise<DqnAgent> {
  const state = readJsonFile<DqnStateFile>(exported.files['dqn.json'], 'dqn.json');
  const parsed = dqnConfigSchema.safeParse(state.config ?? exported.config);
  if (!parsed.success) {
    throw configError('the DQN artifact holds an invalid config', parsed.error.issues.map((issue) => ({ path: ['config', ...issue.path.map(String)], message: issue.message })));
  }
  const config = parsed.data;
  const featureCount = context.observationSpace.shape[0];
  const problems = [];
  if (state.featureCount !== featureCount) problems.push({ path: ['featureCount'], message: `expected ${featureCount} observation features (this market's), found ${state.featureCount}` });
  if (state.actionCount !== context.actionSpace.n) problems.push({ path: ['actionCount'], message: `expected ${context.actionSpace.n} prices (this market's ladder), found ${state.actionCount}` });
  if (problems.length > 0) throw configError('the DQN artifact does not fit this market', problems);

  const { tf, backend } = await loadTensorflow(config.backend);
  const model = await tf.loadLayersModel(tf.io.fromMemory(layersArtifactsOf(exported.files)));
  try {
    const layout = networkLayout(featureCount, context.actionSpace.n, config.hiddenLayers, config.dueling);
    const weights = model.getWeights();
    const expected = layout.policyUnits.flatMap((units, index) => [[index === 0 ? featureCount : layout.policyUnits[index - 1]!, units], [units]]);
    const shapesFound = weights.map((weight) => weight.shape);
    if (JSON.stringify(shapesFound) !== JSON.stringify(expected)) {
      throw new PricelabError('integrity', 'the DQN artifact does not match its config', [{ path: ['model.json'], message: `expected weight shapes ${JSON.stringify(expected)}, found ${JSON.stringify(shapesFound)}` }]);
    }
    return new DqnAgent(tf, backend, config, context, weights, state.counters);
  } finally {
    model.dispose();
  }
}

export const dqnDefinition = defineAgent({
  kind: 'dqn',
  description: 'deep Q-network (Double DQN, n-step returns, optional dueling head) in TensorFlow.js; exports the TF.js Layers format',
  configSchema: dqnConfigSchema,
  create: (config, context) => DqnAgent.create(config, context),
  restore: (exported, context) => restoreDqn(exported, context),
});
