/**
 * DQN: deep Q-learning with experience replay and a target network (Mnih et al. 2015),
 * with Double DQN targets (van Hasselt et al. 2016), n-step returns (Sutton and Barto 2018,
 * ch. 7), an optional dueling head (Wang et al. 2016), Huber loss, Adam and gradient-norm
 * clipping. After CleanRL's dqn.py: the algorithm reads top to bottom in this file; beside it
 * agents/dqn-network.ts (layout, forward, hand-written backward pass, dueling fold, Adam),
 * dqn-artifact.ts (export, restore), dqn-checkpoint.ts (learner state), dqn-config.ts.
 *
 * Network: observation (the env's named, normalised features) -> dense ReLU layers
 * (hiddenLayers) -> one Q-value per ladder price; a dueling head is folded into a plain Q
 * head, so the network acted with and exported is always a plain MLP.
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
 * Speed: core ops, one flat parameter vector, no tape; one update at batch 32 takes less than
 * half the time of the tape + tf.train.adam version (docs/agents/dqn.md has the figures).
 * Every tensor an update makes lives in a tf.tidy; a test holds tf.memory().numTensors
 * constant across updates.
 *
 * Greedy choices: argmax of Q, or with changeMargin > 0 the hysteresis of
 * agents/change-margin.ts (keep yesterday's price unless another beats it by more than the
 * margin), in act, actBatch (explore off), explain and a restored artifact alike (the config is
 * in dqn.json); exploring training steps take the plain argmax when they do not explore.
 * horizonTerminal stores a truncation as a termination (a finite-horizon task that shows the
 * time left). stockPotential shapes the reward before it is stored, r + gamma phi(s') - phi(s)
 * with the salvage potential of agents/stock-potential.ts over the horizon's last
 * stockPotentialWindowDays (6) days (no phi(s') past an episode's end).
 *
 * Randomness: weight init from the 'weights' stream, epsilon-greedy from 'exploration'
 * (two uniforms per exploring act, drawn either way), replay sampling from 'replay': all
 * seeded from AgentContext.seed, never Math.random.
 */
import type * as Tf from '@tensorflow/tfjs';
import { protocolError } from '../core/errors.js';
import { RandomStream } from '../core/random.js';
import type { ActOptions, Agent, AgentCapabilities, AgentCheckpoint, AgentContext, AgentExport, Explanation, Transition } from './agent.js';
import { defineAgent } from './definition.js';
import { stockPotential, stockPotentialWindowDays, type StockPotential } from './stock-potential.js';
import { adjustedValues, chooseWithMargin, previousLadderIndex, previousPriceReader, type PreviousPriceReader } from './change-margin.js';
import { acceptedDqnConfigSchema, type DqnConfig } from './dqn-config.js';
import { dqnExport, withChangeMargin, withDqnArtifact, type DqnCounters } from './dqn-artifact.js';
import { readDqnCheckpoint, type DqnCheckpointState } from './dqn-checkpoint.js';
import { adamStep, backward, duelingFold, flatGradient, forward, initialParameters, networkLayout, policyWeightsOf, temporalDifferenceTargets, unfoldPolicyWeights, type DuelingFold, type NetworkLayout } from './dqn-network.js';
import { packArray, unpackArray } from './packed-arrays.js';
import { NStepAccumulator, ReplayBuffer, type ReplayBatch } from './replay-buffer.js';
import { loadTensorflow, type BackendInfo, type TensorflowModule } from './tf-backend.js';

export { dqnConfigSchema, type DqnConfig } from './dqn-config.js';
export { buildLayersModel, layersArtifactsOf, toLayersFormat, withChangeMargin, type DqnCounters } from './dqn-artifact.js';
export { backward, forward, networkLayout, temporalDifferenceTargets, type NetworkLayout } from './dqn-network.js';

/** The first index of the largest of `count` values from `offset` (tf.argMax's choice). */
function argMaxOf(values: ArrayLike<number>, offset: number, count: number): number {
  let best = 0;
  for (let index = 1; index < count; index++) if ((values[offset + index] ?? Number.NaN) > (values[offset + best] ?? Number.NaN)) best = index;
  return best;
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
  private readonly dueling: DuelingFold | null;
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
  private disposed = false;

  /** Creates the agent on the configured backend (loading TensorFlow.js on first use). */
  static async create(config: DqnConfig, context: AgentContext): Promise<DqnAgent> {
    // A new agent will learn: a potential that does not fit the market is a config error now, not at the first step.
    if (config.stockPotential > 0) stockPotential(context.observationSpace, config.stockPotential, stockPotentialWindowDays);
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
    this.capabilities = { learns: true };
    this.counters = counters ? { ...counters } : { steps: 0, updates: 0, targetSyncs: 0 };
    this.replay = new ReplayBuffer(config.replayCapacity, featureCount);
    this.batch = this.replay.createBatch(config.batchSize);
    const rewardScale = config.rewardScale;
    this.nStep = new NStepAccumulator(config.nSteps, config.gamma, (observation, action, reward, nextObservation, done, discount, steps) =>
      this.replay.add(observation, action, reward * rewardScale, nextObservation, done, discount, steps),
    );
    this.exploration = new RandomStream(context.seed, 'exploration');
    this.sampling = new RandomStream(context.seed, 'replay');
    this.previousPrice = config.changeMargin > 0 ? previousPriceReader(context.observationSpace, context.ladder) : null;
    this.observationSpace = context.observationSpace;

    this.dueling = config.dueling ? duelingFold(tf, this.layout.actionCount) : null;
    const initial = tf.tidy(() => (policyWeights ? unfoldPolicyWeights(tf, policyWeights, this.dueling) : initialParameters(tf, this.layout, context.seed)));
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
      const exploring = this.exploringAction(this.explorationRate());
      if (exploring >= 0) return exploring;
    }
    return this.greedyActions(observation, 1, !options.explore)[0]!;
  }

  /** Epsilon-greedy's draw: a random action, or -1 for the greedy one. Two uniforms per call, drawn either way (the stream stays aligned). */
  private exploringAction(epsilon: number): number {
    const explore = this.exploration.next() < epsilon;
    const uniform = this.exploration.next();
    return explore ? Math.min(this.layout.actionCount - 1, Math.floor(uniform * this.layout.actionCount)) : -1;
  }

  /** One forward pass for `count` observations (row-major), then epsilon-greedy per row when exploring. */
  actBatch(observations: Float32Array, count: number, options: ActOptions, out: Int32Array): void {
    this.assertLive();
    out.set(this.greedyActions(observations, count, !options.explore).subarray(0, count));
    if (!options.explore) return;
    const epsilon = this.explorationRate();
    for (let row = 0; row < count; row++) {
      const exploring = this.exploringAction(epsilon);
      if (exploring >= 0) out[row] = exploring;
    }
  }

  observe(transition: Transition): void {
    this.assertLive();
    const counters = this.counters;
    counters.steps++;
    const ends = transition.terminated || (this.config.horizonTerminal && transition.truncated);
    if (this.potential === undefined) {
      const perUnit = this.config.stockPotential;
      this.potential = perUnit > 0 ? stockPotential(this.observationSpace, perUnit, stockPotentialWindowDays) : null;
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
      const dq = tf.mul(mask, tf.reshape(dLossdChosenQ, [size, 1])) as Tf.Tensor2D;

      // Backward pass, then one flat gradient over every parameter.
      let gradient = flatGradient(tf, backward(tf, online.inputs, this.onlineWeights, dq), this.dueling, actionCount);
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

      adamStep(tf, this.parameters, { firstMoment: this.firstMoment, secondMoment: this.secondMoment }, gradient, squared, step, learningRate);
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

  /** The whole learner state, as JSON (agents/dqn-checkpoint.ts). */
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
    };
    return { kind: this.kind, state };
  }

  /** Loads a checkpoint saved by an agent of the same config and market; a mismatch is an integrity error listing every problem. */
  restoreCheckpoint(checkpoint: AgentCheckpoint): void {
    this.assertLive();
    const state = readDqnCheckpoint(checkpoint, this.layout, this.averageParameters !== null);
    const { parameterCount } = this.layout;
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
    return dqnExport(this.tf, this.layout, this.actingWeights, { config: this.config, counters: this.counters, explorationRate: this.explorationRate() });
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

  /** The per-layer weights of the plain MLP from flat parameters (agents/dqn-network.ts). */
  private policyWeightsOf(parameters: Tf.Tensor): Tf.Tensor[] {
    return policyWeightsOf(this.tf, this.layout, parameters, this.dueling);
  }

  private assertLive(): void {
    if (this.disposed) throw protocolError('the DQN agent was disposed: create or restore a new one');
  }
}

/** Rebuilds a DQN agent from its export (agents/dqn-artifact.ts): the Layers model's weights become the policy, bit for bit. */
export async function restoreDqn(exported: AgentExport, context: AgentContext): Promise<DqnAgent> {
  return withDqnArtifact(exported, context, ({ tf, backend, config, weights, counters }) => new DqnAgent(tf, backend, config, context, weights, counters));
}

export const dqnDefinition = defineAgent({
  kind: 'dqn',
  description: 'deep Q-network (Double DQN, n-step returns, optional dueling head) in TensorFlow.js; exports the TF.js Layers format',
  configSchema: acceptedDqnConfigSchema,
  create: (config, context) => DqnAgent.create(config, context),
  restore: restoreDqn,
  greedyPolicy: { withChangeMargin },
});
