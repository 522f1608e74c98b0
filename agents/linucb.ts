/**
 * LinUCB with disjoint linear models (Li, Chu, Langford & Schapire 2010, Algorithm 1): a
 * contextual bandit whose arms are the ladder's prices. Each arm a has its own ridge
 * regression of the step's reward (profit) on a context vector x built from the
 * observation, and the agent plays the arm with the highest upper confidence bound
 *   p_a = x . theta_a + alpha * sqrt(x' A_a^-1 x),   A_a = ridge I + sum x x',  theta_a = A_a^-1 b_a.
 *
 * Context: observation features chosen by NAME (context.observationSpace.featureNames), plus
 * a constant 1 (bias) first. By default the features that exist among weather:*, forecast:*,
 * weekdaySin, weekdayCos, eventDay, presaleDay and stockOnHand: what the market is like
 * today, not our own past prices or sales. A configured list replaces the default; a name the
 * observation does not have is refused, listing the available ones. With only the bias the
 * agent is a (ridge-regularised) UCB over the ladder.
 *
 * Reward scale: the paper's rewards are clicks in [0, 1]; profits are not. The regression
 * runs on rewards rescaled to (r - low) / width by the reward range (configured, or by
 * default the running lowest and highest reward seen; width 1 while they are equal), and the
 * estimates are mapped back to currency: low + width * (x . theta). The sums are kept raw
 * (b = sum r x and s = sum x), so a moving running range rescales the whole history
 * exactly: theta = A^-1 (b - low s) / width. The ridge shrinks estimates toward `low`.
 *
 * Acting while training (explore: true): an arm never played is played first (lowest index
 * first; the paper does not, but a never-played arm's estimate is only the prior); then the
 * highest p_a, ties to the lowest index. No randomness. Acting greedily (explore: false): the
 * highest estimated reward low + width * (x . theta_a), no bonus. A^-1 is updated by
 * Sherman-Morrison, O(d^2) per step.
 *
 * Parameters (defaults in brackets):
 *   alpha [1]              width of the confidence bonus in rescaled reward units; the paper
 *                          sets 1 + sqrt(ln(2/delta)/2) for confidence 1 - delta.
 *   ridge [1]              lambda of A = lambda I + sum x x' (the paper's identity).
 *   features [default]     'default' or a list of feature names.
 *   bias [true]            prepend a constant 1 to the context.
 *   rewardRange [running]  see above.
 * Stationary only: for seasons, put the seasonal features (weekday, weather, events) into the
 * context. Weights: bandit.json holds the feature names and, per arm, A, A^-1, b, s (JSON).
 *
 * Source: L. Li, W. Chu, J. Langford, R. E. Schapire, A contextual-bandit approach to
 * personalized news article recommendation, WWW 2010, pp. 661-670.
 */
import { z } from 'zod';
import { configError, protocolError, PricelabError } from '../core/errors.js';
import type { BoxSpace } from '../env/spaces.js';
import type { Agent, AgentCheckpoint, AgentContext, AgentExport, Explanation, Transition } from './agent.js';
import { checkpointState, jsonFile } from './agent.js';
import { banditFileName, banditFormat, checkTransition, parseConfig, readBanditFile, rewardRangeSchema, rewardScale } from './bandit-statistics.js';
import { defineAgent } from './definition.js';

const kind = 'linucb';

/** The default context, by name pattern, in observation order. */
export function isDefaultContextFeature(name: string): boolean {
  return /^(weather|forecast):/.test(name) || ['weekdaySin', 'weekdayCos', 'eventDay', 'presaleDay', 'stockOnHand'].includes(name);
}

export const linUcbConfigSchema = z
  .strictObject({
    alpha: z.number().min(0).default(1).describe('width of the confidence bonus in rescaled reward units (Li et al.: 1 + sqrt(ln(2/delta)/2))'),
    ridge: z.number().gt(0).default(1).describe('lambda in A = lambda I + sum x x\' (ridge regularisation; 1 in the paper)'),
    features: z
      .union([z.literal('default'), z.array(z.string().min(1))])
      .default('default')
      .describe('observation features in the context, by name; "default": those present among weather:*, forecast:*, weekdaySin, weekdayCos, eventDay, presaleDay, stockOnHand'),
    bias: z.boolean().default(true).describe('prepend a constant 1 to the context (an intercept per arm)'),
    rewardRange: rewardRangeSchema,
  })
  // Runs even when other fields are invalid (every problem listed at once), so it guards what it reads.
  .superRefine(
    (config, context) => {
      const { features, bias } = config as { features: unknown; bias: unknown };
      if (!Array.isArray(features)) return;
      const seen = new Set<unknown>();
      features.forEach((name: unknown, index) => {
        if (typeof name === 'string' && seen.has(name)) context.addIssue({ code: 'custom', path: ['features', index], message: `expected each feature once, found "${name}" twice` });
        seen.add(name);
      });
      if (features.length === 0 && bias === false) context.addIssue({ code: 'custom', path: ['bias'], message: 'expected bias true or at least one feature, found an empty context' });
    },
    { when: () => true },
  );

export type LinUcbConfig = z.output<typeof linUcbConfigSchema>;

/** The context's feature names and their indices in the observation; unknown names are refused, listing the available ones. */
export function resolveContextFeatures(requested: LinUcbConfig['features'], space: BoxSpace): { names: string[]; indices: number[] } {
  const available = space.featureNames;
  if (requested === 'default') {
    const names = available.filter(isDefaultContextFeature);
    return { names, indices: names.map((name) => available.indexOf(name)) };
  }
  const problems = requested.flatMap((name, index) =>
    available.includes(name) ? [] : [{ path: ['config', 'features', index], message: `expected a feature of the observation (${available.join(', ')}), found "${name}"` }],
  );
  if (problems.length > 0) throw configError(`linucb cannot build its context: ${problems.length} unknown feature${problems.length === 1 ? '' : 's'}`, problems);
  return { names: [...requested], indices: requested.map((name) => available.indexOf(name)) };
}

interface ArmModel {
  plays: number;
  /** A = ridge I + sum x x', row-major d x d. */
  readonly a: Float64Array;
  readonly aInverse: Float64Array;
  /** b = sum r x (raw rewards). */
  readonly b: Float64Array;
  /** s = sum x, to rescale b by a moving reward range. */
  readonly contextSum: Float64Array;
}

const banditFileSchema = z.strictObject({
  format: z.literal(banditFormat),
  kind: z.literal(kind),
  features: z.array(z.string()),
  bias: z.boolean(),
  steps: z.number().int().nonnegative(),
  observedLow: z.number().nullable(),
  observedHigh: z.number().nullable(),
  arms: z.array(
    z.strictObject({
      plays: z.number().int().nonnegative(),
      a: z.array(z.number()),
      aInverse: z.array(z.number()),
      b: z.array(z.number()),
      contextSum: z.array(z.number()),
    }),
  ),
});

type BanditFile = z.output<typeof banditFileSchema>;

export class LinUcbAgent implements Agent {
  readonly kind = kind;
  readonly capabilities = { learns: true } as const;
  readonly config: LinUcbConfig;
  /** Feature names in the context (the bias, if any, comes first and is not named). */
  readonly featureNames: readonly string[];
  readonly dimension: number;
  steps = 0;
  observedLow: number | null = null;
  observedHigh: number | null = null;
  private readonly featureIndices: Int32Array;
  private readonly models: ArmModel[];
  private readonly context: Float64Array;
  private readonly work: Float64Array;
  private readonly work2: Float64Array;

  constructor(config: LinUcbConfig, agentContext: AgentContext, file?: BanditFile) {
    this.config = config;
    const { names, indices } = resolveContextFeatures(file ? file.features : config.features, agentContext.observationSpace);
    this.featureNames = names;
    this.featureIndices = Int32Array.from(indices);
    const bias = file ? file.bias : config.bias;
    this.dimension = names.length + (bias ? 1 : 0);
    const d = this.dimension;
    this.context = new Float64Array(d);
    if (bias) this.context[0] = 1;
    this.work = new Float64Array(d);
    this.work2 = new Float64Array(d);
    const arms = agentContext.actionSpace.n;
    if (file) {
      checkFile(file, arms, d);
      this.steps = file.steps;
      this.observedLow = file.observedLow;
      this.observedHigh = file.observedHigh;
      this.models = file.arms.map((arm) => ({
        plays: arm.plays,
        a: Float64Array.from(arm.a),
        aInverse: Float64Array.from(arm.aInverse),
        b: Float64Array.from(arm.b),
        contextSum: Float64Array.from(arm.contextSum),
      }));
    } else {
      this.models = Array.from({ length: arms }, () => {
        const a = new Float64Array(d * d);
        const aInverse = new Float64Array(d * d);
        for (let index = 0; index < d; index++) {
          a[index * d + index] = config.ridge;
          aInverse[index * d + index] = 1 / config.ridge;
        }
        return { plays: 0, a, aInverse, b: new Float64Array(d), contextSum: new Float64Array(d) };
      });
    }
  }

  get arms(): number {
    return this.models.length;
  }

  act(observation: Float32Array, options: { explore: boolean }): number {
    const x = this.buildContext(observation);
    if (options.explore) {
      for (let arm = 0; arm < this.models.length; arm++) if (this.models[arm]!.plays === 0) return arm;
    }
    const { low, width } = rewardScale(this.config.rewardRange, this.observedLow, this.observedHigh);
    const bonusScale = options.explore ? this.config.alpha * width : 0;
    let best = 0;
    let bestValue = Number.NEGATIVE_INFINITY;
    for (let arm = 0; arm < this.models.length; arm++) {
      const model = this.models[arm]!;
      let value = this.estimate(model, x, low);
      if (bonusScale > 0) value += bonusScale * Math.sqrt(Math.max(0, this.quadraticForm(model.aInverse, x)));
      if (value > bestValue) {
        best = arm;
        bestValue = value;
      }
    }
    return best;
  }

  /** The estimated reward of every arm for this context (no exploration bonus): what the greedy choice maximises. */
  explain(observation: Float32Array): Explanation {
    const values = Array.from(this.estimates(observation));
    return { kind: 'action-values', values, chosen: this.act(observation, { explore: false }) };
  }

  /** Estimated reward of every arm for this observation, in reward units (no bonus). */
  estimates(observation: Float32Array): Float64Array {
    const x = this.buildContext(observation);
    const { low } = rewardScale(this.config.rewardRange, this.observedLow, this.observedHigh);
    return Float64Array.from(this.models, (model) => this.estimate(model, x, low));
  }

  observe(transition: Transition): void {
    checkTransition(transition.action, transition.reward, this.models.length);
    const x = this.buildContext(transition.observation);
    const offset = this.dimension - this.featureNames.length;
    for (let index = offset; index < x.length; index++) {
      if (!Number.isFinite(x[index]!)) throw protocolError(`expected finite context features, found ${x[index]} for "${this.featureNames[index - offset]}"`);
    }
    const reward = transition.reward;
    this.steps++;
    if (this.observedLow === null || reward < this.observedLow) this.observedLow = reward;
    if (this.observedHigh === null || reward > this.observedHigh) this.observedHigh = reward;
    const model = this.models[transition.action]!;
    const d = this.dimension;
    // Sherman-Morrison: (A + x x')^-1 = A^-1 - (A^-1 x)(A^-1 x)' / (1 + x' A^-1 x), A symmetric.
    const ax = this.work;
    multiply(model.aInverse, x, ax);
    let denominator = 1;
    for (let row = 0; row < d; row++) denominator += x[row]! * ax[row]!;
    for (let row = 0; row < d; row++) {
      for (let column = 0; column < d; column++) {
        model.aInverse[row * d + column]! -= (ax[row]! * ax[column]!) / denominator;
        model.a[row * d + column]! += x[row]! * x[column]!;
      }
      model.b[row]! += reward * x[row]!;
      model.contextSum[row]! += x[row]!;
    }
    model.plays++;
  }

  export(): AgentExport {
    return { kind, config: this.config, files: { [banditFileName]: jsonFile(this.statisticsFile()) } };
  }

  /** LinUCB draws no random numbers: its per-arm models and counters (bandit.json) are its whole state. */
  saveCheckpoint(): AgentCheckpoint {
    return { kind, state: this.statisticsFile() };
  }

  restoreCheckpoint(checkpoint: AgentCheckpoint): void {
    const file = checkpointState(checkpoint, kind, banditFileSchema);
    if (file.features.join('\n') !== this.featureNames.join('\n') || file.bias !== this.dimension > this.featureNames.length) {
      throw new PricelabError('integrity', 'the linucb checkpoint does not fit this agent', [
        { path: ['state', 'features'], message: `expected the features ${this.featureNames.join(', ')}, found ${file.features.join(', ')}` },
      ]);
    }
    checkFile(file, this.models.length, this.dimension);
    this.steps = file.steps;
    this.observedLow = file.observedLow;
    this.observedHigh = file.observedHigh;
    file.arms.forEach((arm, index) => {
      const model = this.models[index]!;
      model.plays = arm.plays;
      model.a.set(arm.a);
      model.aInverse.set(arm.aInverse);
      model.b.set(arm.b);
      model.contextSum.set(arm.contextSum);
    });
  }

  private statisticsFile(): BanditFile {
    return {
      format: banditFormat,
      kind,
      features: [...this.featureNames],
      bias: this.dimension > this.featureNames.length,
      steps: this.steps,
      observedLow: this.observedLow,
      observedHigh: this.observedHigh,
      arms: this.models.map((model) => ({
        plays: model.plays,
        a: Array.from(model.a),
        aInverse: Array.from(model.aInverse),
        b: Array.from(model.b),
        contextSum: Array.from(model.contextSum),
      })),
    };
  }

  dispose(): void {}

  /** low + x . A^-1 (b - low s): the ridge estimate on rescaled rewards, mapped back to reward units. */
  private estimate(model: ArmModel, x: Float64Array, low: number): number {
    const d = this.dimension;
    const centred = this.work2;
    for (let index = 0; index < d; index++) centred[index] = model.b[index]! - low * model.contextSum[index]!;
    let value = low;
    for (let row = 0; row < d; row++) {
      let theta = 0;
      for (let column = 0; column < d; column++) theta += model.aInverse[row * d + column]! * centred[column]!;
      value += theta * x[row]!;
    }
    return value;
  }

  private quadraticForm(matrix: Float64Array, x: Float64Array): number {
    const d = this.dimension;
    let total = 0;
    for (let row = 0; row < d; row++) {
      let inner = 0;
      for (let column = 0; column < d; column++) inner += matrix[row * d + column]! * x[column]!;
      total += x[row]! * inner;
    }
    return total;
  }

  private buildContext(observation: Float32Array): Float64Array {
    const offset = this.dimension - this.featureIndices.length;
    for (let index = 0; index < this.featureIndices.length; index++) this.context[offset + index] = observation[this.featureIndices[index]!] ?? 0;
    return this.context;
  }
}

function multiply(matrix: Float64Array, vector: Float64Array, out: Float64Array): void {
  const d = vector.length;
  for (let row = 0; row < d; row++) {
    let total = 0;
    for (let column = 0; column < d; column++) total += matrix[row * d + column]! * vector[column]!;
    out[row] = total;
  }
}

function checkFile(file: BanditFile, arms: number, dimension: number): void {
  const problems = [];
  if (file.arms.length !== arms) problems.push({ path: [banditFileName, 'arms'], message: `expected ${arms} arms (one per ladder price), found ${file.arms.length}` });
  file.arms.forEach((arm, index) => {
    for (const [field, length] of [['a', dimension * dimension], ['aInverse', dimension * dimension], ['b', dimension], ['contextSum', dimension]] as const) {
      if (arm[field].length !== length) problems.push({ path: [banditFileName, 'arms', index, field], message: `expected ${length} numbers (context dimension ${dimension}), found ${arm[field].length}` });
    }
  });
  if (problems.length > 0) throw new PricelabError('integrity', 'the linucb statistics do not fit this agent', problems);
}

export const linUcbDefinition = defineAgent({
  kind,
  description: 'LinUCB contextual bandit over the price ladder (disjoint linear models on named observation features)',
  configSchema: linUcbConfigSchema,
  create: (config, context) => new LinUcbAgent(config, context),
  restore: (exported, context) => {
    const config = parseConfig(linUcbConfigSchema, exported.config, kind);
    return new LinUcbAgent(config, context, readBanditFile(exported, banditFileSchema));
  },
});
