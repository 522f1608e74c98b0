/**
 * Experience replay for off-policy agents (DQN): a ring buffer over typed arrays, and the
 * n-step accumulator that turns single steps into n-step transitions before they are stored.
 *
 * ReplayBuffer: `capacity` rows of (observation, action, reward, next observation, done,
 * discount), each column one preallocated typed array; when full, the oldest row is
 * overwritten. `sample` draws `batch.size` row indices uniformly, with replacement, from a
 * RandomStream (the agent's 'replay' stream: one uniform per row) and copies the rows
 * into the batch's preallocated arrays: no allocation per update.
 *
 * A stored row is an n-step transition (Sutton and Barto 2018, section 7.1):
 *   reward   = r_t + gamma r_{t+1} + ... + gamma^{k-1} r_{t+k-1}   (k <= n steps)
 *   next     = s_{t+k}
 *   discount = gamma^k                                            (the weight of the bootstrap)
 *   done     = the episode terminated at step t+k-1: no bootstrap past a terminal state.
 *   steps    = k                                                  (for reward centering: the
 *              learner subtracts rbar (1 + gamma + ... + gamma^{k-1}) at sampling time)
 * A truncated episode (the horizon, not the market, ended it) is not done: its last rows
 * bootstrap from the true final observation, with the discount of the steps they span.
 * The learner's target is reward + (done ? 0 : discount) * V(next); `bootstrapDiscounts`
 * in the batch holds that factor.
 */
import { z } from 'zod';
import { PricelabError, protocolError } from '../core/errors.js';
import type { RandomStream } from '../core/random.js';
import type { Transition } from './agent.js';
import { packArray, unpackArray } from './packed-arrays.js';

/** A replay buffer's contents for checkpoints: the rows stored so far, each column packed (agents/packed-arrays.ts). */
export const replayStateSchema = z.strictObject({
  capacity: z.number().int().positive(),
  featureCount: z.number().int().positive(),
  size: z.number().int().nonnegative(),
  position: z.number().int().nonnegative(),
  observations: z.string(),
  actions: z.string(),
  rewards: z.string(),
  nextObservations: z.string(),
  dones: z.string(),
  discounts: z.string(),
  stepCounts: z.string(),
});
export type ReplayState = z.output<typeof replayStateSchema>;

const transitionStateSchema = z.strictObject({
  observation: z.array(z.number()),
  action: z.number().int().nonnegative(),
  reward: z.number(),
  nextObservation: z.array(z.number()),
  terminated: z.boolean(),
  truncated: z.boolean(),
});

/** An n-step accumulator's open episodes for checkpoints: the steps each holds, oldest first. */
export const nStepStateSchema = z.array(z.strictObject({ steps: z.array(transitionStateSchema).min(1), last: z.array(z.number()) }));
export type NStepState = z.output<typeof nStepStateSchema>;

export interface ReplayBatch {
  readonly size: number;
  readonly featureCount: number;
  /** size x featureCount, row-major. */
  readonly observations: Float32Array;
  readonly actions: Int32Array;
  readonly rewards: Float32Array;
  /** size x featureCount, row-major. */
  readonly nextObservations: Float32Array;
  /** 0 where the episode terminated inside the stored steps, else gamma^k. */
  readonly bootstrapDiscounts: Float32Array;
  /** k, the number of environment steps each reward sums. */
  readonly stepCounts: Int32Array;
  /** The rows sampled (for tests and diagnostics). */
  readonly indices: Int32Array;
}

export class ReplayBuffer {
  readonly capacity: number;
  readonly featureCount: number;
  readonly observations: Float32Array;
  readonly actions: Int32Array;
  readonly rewards: Float32Array;
  readonly nextObservations: Float32Array;
  /** 1 where the episode terminated (no bootstrap). */
  readonly dones: Uint8Array;
  /** gamma^k, k the number of steps the stored reward sums. */
  readonly discounts: Float32Array;
  /** k, the number of steps the stored reward sums. */
  readonly stepCounts: Int32Array;
  /** Rows stored so far, at most capacity. */
  size = 0;
  /** The row the next add() writes. */
  position = 0;

  constructor(capacity: number, featureCount: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw protocolError(`expected a positive whole replay capacity, found ${capacity}`);
    if (!Number.isInteger(featureCount) || featureCount < 1) throw protocolError(`expected a positive whole feature count, found ${featureCount}`);
    this.capacity = capacity;
    this.featureCount = featureCount;
    this.observations = new Float32Array(capacity * featureCount);
    this.actions = new Int32Array(capacity);
    this.rewards = new Float32Array(capacity);
    this.nextObservations = new Float32Array(capacity * featureCount);
    this.dones = new Uint8Array(capacity);
    this.discounts = new Float32Array(capacity);
    this.stepCounts = new Int32Array(capacity);
  }

  add(observation: ArrayLike<number>, action: number, reward: number, nextObservation: ArrayLike<number>, done: boolean, discount: number, steps = 1): void {
    const features = this.featureCount;
    if (observation.length !== features || nextObservation.length !== features) {
      throw protocolError(`expected observations of ${features} features, found ${observation.length} and ${nextObservation.length}`);
    }
    const row = this.position;
    const offset = row * features;
    for (let feature = 0; feature < features; feature++) {
      this.observations[offset + feature] = observation[feature]!;
      this.nextObservations[offset + feature] = nextObservation[feature]!;
    }
    this.actions[row] = action;
    this.rewards[row] = reward;
    this.dones[row] = done ? 1 : 0;
    this.discounts[row] = discount;
    this.stepCounts[row] = steps;
    this.position = (row + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
  }

  /** The rows stored so far and where the next one goes (for checkpoints). */
  saveState(): ReplayState {
    const rows = this.size;
    const features = this.featureCount;
    return {
      capacity: this.capacity,
      featureCount: features,
      size: rows,
      position: this.position,
      observations: packArray(this.observations.subarray(0, rows * features)),
      actions: packArray(this.actions.subarray(0, rows)),
      rewards: packArray(this.rewards.subarray(0, rows)),
      nextObservations: packArray(this.nextObservations.subarray(0, rows * features)),
      dones: packArray(this.dones.subarray(0, rows)),
      discounts: packArray(this.discounts.subarray(0, rows)),
      stepCounts: packArray(this.stepCounts.subarray(0, rows)),
    };
  }

  /** Replaces the contents with a saved state of a buffer of the same capacity and feature count (else an integrity error). */
  restoreState(state: ReplayState, path: readonly (string | number)[] = ['replay']): void {
    const problems = [];
    if (state.capacity !== this.capacity) problems.push({ path: [...path, 'capacity'], message: `expected a replay capacity of ${this.capacity} (this agent's config), found ${state.capacity}` });
    if (state.featureCount !== this.featureCount) problems.push({ path: [...path, 'featureCount'], message: `expected ${this.featureCount} features, found ${state.featureCount}` });
    if (state.size > this.capacity) problems.push({ path: [...path, 'size'], message: `expected at most ${this.capacity} rows, found ${state.size}` });
    if (state.position >= this.capacity || (state.size < this.capacity && state.position !== state.size)) {
      problems.push({ path: [...path, 'position'], message: `expected the next row below ${this.capacity} (equal to size until the buffer is full), found ${state.position} with size ${state.size}` });
    }
    if (problems.length > 0) throw new PricelabError('integrity', 'the replay buffer in the checkpoint does not fit this agent', problems);
    const rows = state.size;
    const features = this.featureCount;
    this.observations.set(unpackArray(state.observations, Float32Array, rows * features, [...path, 'observations']));
    this.actions.set(unpackArray(state.actions, Int32Array, rows, [...path, 'actions']));
    this.rewards.set(unpackArray(state.rewards, Float32Array, rows, [...path, 'rewards']));
    this.nextObservations.set(unpackArray(state.nextObservations, Float32Array, rows * features, [...path, 'nextObservations']));
    this.dones.set(unpackArray(state.dones, Uint8Array, rows, [...path, 'dones']));
    this.discounts.set(unpackArray(state.discounts, Float32Array, rows, [...path, 'discounts']));
    this.stepCounts.set(unpackArray(state.stepCounts, Int32Array, rows, [...path, 'stepCounts']));
    // Rows past `size` are never sampled; clear them so two restored buffers hold the same bytes.
    this.observations.fill(0, rows * features);
    this.nextObservations.fill(0, rows * features);
    for (const column of [this.actions, this.rewards, this.dones, this.discounts, this.stepCounts]) column.fill(0, rows);
    this.size = rows;
    this.position = state.position;
  }

  /** Preallocated arrays for batches of `size` rows. */
  createBatch(size: number): ReplayBatch {
    const features = this.featureCount;
    return {
      size,
      featureCount: features,
      observations: new Float32Array(size * features),
      actions: new Int32Array(size),
      rewards: new Float32Array(size),
      nextObservations: new Float32Array(size * features),
      bootstrapDiscounts: new Float32Array(size),
      stepCounts: new Int32Array(size),
      indices: new Int32Array(size),
    };
  }

  /** Fills `batch` with rows drawn uniformly with replacement: one uniform of `random` per row. */
  sample(random: RandomStream, batch: ReplayBatch): void {
    if (this.size === 0) throw protocolError('cannot sample an empty replay buffer: add transitions first');
    const features = this.featureCount;
    for (let slot = 0; slot < batch.size; slot++) {
      const row = Math.min(this.size - 1, Math.floor(random.next() * this.size));
      batch.indices[slot] = row;
      batch.observations.set(this.observations.subarray(row * features, (row + 1) * features), slot * features);
      batch.nextObservations.set(this.nextObservations.subarray(row * features, (row + 1) * features), slot * features);
      batch.actions[slot] = this.actions[row]!;
      batch.rewards[slot] = this.rewards[row]!;
      batch.bootstrapDiscounts[slot] = this.dones[row] === 1 ? 0 : this.discounts[row]!;
      batch.stepCounts[slot] = this.stepCounts[row]!;
    }
  }
}

/** Where an n-step accumulator sends each finished transition (ReplayBuffer.add's signature); `steps` is k. */
export type NStepSink = (observation: Float32Array, action: number, reward: number, nextObservation: Float32Array, done: boolean, discount: number, steps: number) => void;

interface OpenEpisode {
  readonly steps: Transition[];
  /** The next observation of the last step: the observation the episode's next step starts from. */
  last: Float32Array;
}

/**
 * Turns single steps into n-step transitions. Each open episode keeps its last steps (at
 * most n); a step joins the open episode whose last next-observation equals its
 * observation, else it opens a new one. So steps of several markets may arrive interleaved
 * (a vector env) and still be accumulated per market; two markets in the same observed
 * state are interchangeable (the future depends on the state alone), so either may take
 * the step. When an episode holds n steps, its oldest start is emitted; when it ends
 * (terminated or truncated) every start it still holds is emitted, with k < n steps.
 * With n = 1 every step is emitted at once, unchanged.
 */
export class NStepAccumulator {
  readonly n: number;
  readonly gamma: number;
  /** Open episodes beyond this count are flushed, oldest first (as if truncated). */
  readonly maxOpenEpisodes: number;
  private readonly sink: NStepSink;
  private open: OpenEpisode[] = [];

  constructor(n: number, gamma: number, sink: NStepSink, maxOpenEpisodes = 4096) {
    if (!Number.isInteger(n) || n < 1) throw protocolError(`expected a whole n >= 1 for n-step returns, found ${n}`);
    this.n = n;
    this.gamma = gamma;
    this.sink = sink;
    this.maxOpenEpisodes = maxOpenEpisodes;
  }

  /** Episodes with steps not yet emitted. */
  get openEpisodes(): number {
    return this.open.length;
  }

  push(step: Transition): void {
    if (this.n === 1) {
      this.sink(step.observation, step.action, step.reward, step.nextObservation, step.terminated, this.gamma, 1);
      return;
    }
    let episode = this.open.find((candidate) => sameObservation(candidate.last, step.observation));
    if (!episode) {
      episode = { steps: [], last: step.nextObservation };
      this.open.push(episode);
      if (this.open.length > this.maxOpenEpisodes) this.close(this.open[0]!);
    }
    episode.steps.push(step);
    episode.last = step.nextObservation;
    if (step.terminated || step.truncated) this.close(episode);
    else if (episode.steps.length === this.n) this.emitOldest(episode);
  }

  /** The open episodes and their held steps (for checkpoints). */
  saveState(): NStepState {
    return this.open.map((episode) => ({
      steps: episode.steps.map((step) => ({
        observation: Array.from(step.observation),
        action: step.action,
        reward: step.reward,
        nextObservation: Array.from(step.nextObservation),
        terminated: step.terminated,
        truncated: step.truncated,
      })),
      last: Array.from(episode.last),
    }));
  }

  /** Replaces the open episodes with saved ones. */
  restoreState(state: NStepState): void {
    this.open = state.map((episode) => ({
      steps: episode.steps.map((step) => ({ ...step, observation: Float32Array.from(step.observation), nextObservation: Float32Array.from(step.nextObservation) })),
      last: Float32Array.from(episode.last),
    }));
  }

  /** Emits every step still held (as at a truncation) and forgets the open episodes. */
  flush(): void {
    while (this.open.length > 0) this.close(this.open[0]!);
  }

  private close(episode: OpenEpisode): void {
    while (episode.steps.length > 0) this.emitOldest(episode);
    this.open.splice(this.open.indexOf(episode), 1);
  }

  /** Emits the transition starting at the oldest held step, spanning every held step. */
  private emitOldest(episode: OpenEpisode): void {
    const steps = episode.steps;
    const first = steps[0]!;
    const last = steps[steps.length - 1]!;
    let reward = 0;
    let discount = 1;
    for (const step of steps) {
      reward += discount * step.reward;
      discount *= this.gamma;
    }
    this.sink(first.observation, first.action, reward, last.nextObservation, last.terminated, discount, steps.length);
    steps.shift();
  }
}

function sameObservation(a: Float32Array, b: Float32Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let index = 0; index < a.length; index++) if (a[index] !== b[index]) return false;
  return true;
}
