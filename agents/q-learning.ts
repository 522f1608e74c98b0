/**
 * Tabular Q-learning (Watkins 1989) on a discretised state.
 *   Q(s, a) <- Q(s, a) + alpha (r + gamma max_a' Q(s', a') - Q(s, a)), no bootstrap past termination.
 * Exploration: epsilon-greedy with a linear schedule, or Calvano-style exp(-beta t).
 * Ties go to the lowest price. States: agents/discretiser.ts (defaults per scenario).
 * Weights export as JSON (q-table.json). Checkpoints hold the table, the visit counts, the
 * step counter (it drives the exploration schedule) and the exploration stream's state.
 * For the exact Calvano et al. (2020) duopoly
 * learner, fast enough for millions of periods, see agents/calvano.ts.
 */
import { z } from 'zod';
import { RandomStream } from '../core/random.js';
import { PricelabError } from '../core/errors.js';
import type { Agent, AgentCheckpoint, AgentContext, Explanation, Transition } from './agent.js';
import { checkpointState, jsonFile, randomStateSchema, readJsonFile } from './agent.js';
import { defineAgent } from './definition.js';
import { Discretiser, defaultDiscretisation, discretisationSchema } from './discretiser.js';

const explorationSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('epsilon'),
    start: z.number().min(0).max(1).default(1).describe('epsilon at the first step'),
    end: z.number().min(0).max(1).default(0.02).describe('epsilon after decaySteps'),
    decaySteps: z.number().int().positive().default(50_000).describe('steps of linear decay'),
  }),
  z.strictObject({ kind: z.literal('exponential'), beta: z.number().positive().describe('explore with probability exp(-beta t) (Calvano et al. 2020 use 4e-6)') }),
]);

const learningRateSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('constant') }).describe('every update uses alpha'),
  z.strictObject({
    kind: z.literal('visits'),
    omega: z.number().gt(0).max(1).default(1).describe('the n-th update of a (state, action) pair uses max(alpha, 1 / n^omega): 1 averages its targets, below 1 forgets old ones (Even-Dar and Mansour 2003)'),
  }),
]);

const configSchema = z.strictObject({
  alpha: z.number().gt(0).max(1).default(0.1).describe('learning rate (with learningRate "visits": its floor)'),
  learningRate: learningRateSchema
    .default({ kind: 'constant' })
    .describe('"constant": alpha throughout; "visits": a per-(state, action) rate that falls with the pair\'s visit count, down to alpha'),
  gamma: z.number().min(0).max(1).default(0.99).describe('discount factor'),
  initialValue: z.number().default(0).describe('Q before any update (optimistic values explore more)'),
  exploration: explorationSchema.default({ kind: 'epsilon', start: 1, end: 0.02, decaySteps: 50_000 }),
  discretisation: discretisationSchema.optional().describe('default: chosen from the scenario\'s features (see agents/discretiser.ts)'),
});

type Config = z.output<typeof configSchema>;

const checkpointSchema = z.strictObject({
  steps: z.number().int().nonnegative(),
  values: z.array(z.number()),
  visits: z.array(z.number()).nullable(),
  random: randomStateSchema,
});

export class QLearningAgent implements Agent {
  readonly kind = 'q-learning';
  readonly capabilities = { learns: true } as const;
  readonly config: Config;
  readonly discretiser: Discretiser;
  readonly values: Float64Array;
  private readonly actions: number;
  private readonly random: RandomStream;
  private steps = 0;
  private readonly discretisation: NonNullable<Config['discretisation']>;
  /** Updates made to each (state, action) pair: kept for the "visits" learning rate only. */
  private readonly visits: Float64Array | null;

  constructor(config: Config, context: AgentContext, values?: Float64Array, steps = 0, visits?: Float64Array) {
    this.config = config;
    this.actions = context.actionSpace.n;
    this.discretisation = config.discretisation ?? defaultDiscretisation(context.observationSpace, context.actionSpace.n);
    this.discretiser = new Discretiser(this.discretisation, context.observationSpace);
    this.values = values ?? new Float64Array(this.discretiser.stateCount * this.actions).fill(config.initialValue);
    this.random = new RandomStream(context.seed, 'exploration');
    this.steps = steps;
    this.visits = config.learningRate.kind === 'visits' ? (visits ?? new Float64Array(this.values.length)) : null;
  }

  act(observation: Float32Array, options: { explore: boolean }): number {
    if (options.explore) {
      const explore = this.random.next() < this.explorationRate();
      const uniform = this.random.next(); // drawn either way: the stream stays aligned
      if (explore) return Math.min(this.actions - 1, Math.floor(uniform * this.actions));
    }
    return this.greedy(this.discretiser.state(observation));
  }

  observe(transition: Transition): void {
    const state = this.discretiser.state(transition.observation);
    const slot = state * this.actions + transition.action;
    let target = transition.reward;
    if (!transition.terminated) target += this.config.gamma * this.maxValue(this.discretiser.state(transition.nextObservation));
    this.values[slot] = (this.values[slot] ?? 0) + this.learningRate(slot) * (target - (this.values[slot] ?? 0));
    this.steps++;
  }

  /** The Q-values of the observation's discretised state: the greedy action maximises them. */
  explain(observation: Float32Array): Explanation {
    const state = this.discretiser.state(observation);
    const values = Array.from(this.values.subarray(state * this.actions, (state + 1) * this.actions));
    return { kind: 'action-values', values, chosen: this.greedy(state) };
  }

  private learningRate(slot: number): number {
    const schedule = this.config.learningRate;
    if (schedule.kind === 'constant' || !this.visits) return this.config.alpha;
    const visits = (this.visits[slot] ?? 0) + 1;
    this.visits[slot] = visits;
    return Math.max(this.config.alpha, schedule.omega === 1 ? 1 / visits : visits ** -schedule.omega);
  }

  explorationRate(): number {
    const exploration = this.config.exploration;
    if (exploration.kind === 'exponential') return Math.exp(-exploration.beta * this.steps);
    const progress = Math.min(1, this.steps / exploration.decaySteps);
    return exploration.start + (exploration.end - exploration.start) * progress;
  }

  export() {
    return {
      kind: this.kind,
      config: { ...this.config, discretisation: this.discretisation },
      files: { 'q-table.json': jsonFile({ states: this.discretiser.stateCount, actions: this.actions, steps: this.steps, values: Array.from(this.values), ...(this.visits ? { visits: Array.from(this.visits) } : {}) }) },
    };
  }

  saveCheckpoint(): AgentCheckpoint {
    return {
      kind: this.kind,
      state: { steps: this.steps, values: Array.from(this.values), visits: this.visits ? Array.from(this.visits) : null, random: this.random.saveState() },
    };
  }

  restoreCheckpoint(checkpoint: AgentCheckpoint): void {
    const state = checkpointState(checkpoint, this.kind, checkpointSchema);
    if (state.values.length !== this.values.length || (state.visits?.length ?? this.visits?.length) !== this.visits?.length) {
      throw new PricelabError('integrity', 'the q-learning checkpoint does not fit this agent', [
        { path: ['state', 'values'], message: `expected ${this.values.length} values (${this.discretiser.stateCount} states x ${this.actions} actions)${this.visits ? ' and as many visit counts' : ' and no visit counts'}, found ${state.values.length} and ${state.visits?.length ?? 'none'}` },
      ]);
    }
    this.values.set(state.values);
    if (this.visits && state.visits) this.visits.set(state.visits);
    this.steps = state.steps;
    this.random.restoreState(state.random);
  }

  dispose(): void {}

  private greedy(state: number): number {
    let best = 0;
    let bestValue = Number.NEGATIVE_INFINITY;
    const offset = state * this.actions;
    for (let action = 0; action < this.actions; action++) {
      const value = this.values[offset + action] ?? 0;
      if (value > bestValue) {
        bestValue = value;
        best = action;
      }
    }
    return best;
  }

  private maxValue(state: number): number {
    return this.values[state * this.actions + this.greedy(state)] ?? 0;
  }
}

export const qLearningDefinition = defineAgent({
  kind: 'q-learning',
  description: 'tabular Q-learning on a discretised state',
  configSchema,
  create: (config, context) => new QLearningAgent(config, context),
  restore: (exported, context) => {
    const config = configSchema.parse(exported.config);
    const table = readJsonFile<{ states: number; actions: number; steps: number; values: number[]; visits?: number[] }>(exported.files['q-table.json'], 'q-table.json');
    return new QLearningAgent(config, context, Float64Array.from(table.values), table.steps, table.visits ? Float64Array.from(table.visits) : undefined);
  },
});
