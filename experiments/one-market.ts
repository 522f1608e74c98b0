/**
 * One env seen as a vector of one market, so the training loop (training-loop.ts) is written
 * once (Stable-Baselines3 wraps a single env in a DummyVecEnv the same way). Episode e of the
 * run is the env's reset with seed `seed + e`; when an episode ends, its last observation is
 * kept in `finalObservations` and the next episode starts at once, as a VectorEnv's markets do.
 * The env's observation arrays are handed on as they come (new ones every step), uncopied.
 */
import type { Env } from '../env/env.js';
import type { DiscreteSpace } from '../env/spaces.js';
import type { TrainingMarkets } from './training-callback.js';

export class OneMarket implements TrainingMarkets {
  readonly count = 1;
  readonly featureCount: number;
  readonly actionSpace: DiscreteSpace;
  readonly model: { readonly horizon: number };
  readonly freshObservations = true;
  observations: Float32Array;
  finalObservations: Float32Array;
  readonly rewards = new Float64Array(1);
  readonly terminated = new Uint8Array(1);
  readonly truncated = new Uint8Array(1);
  private readonly env: Env;
  private readonly seed: number;
  private readonly firstEpisode: number;
  private episode: number;

  /** `firstEpisode`: the episode to start at (a resumed run's episodes so far). */
  constructor(env: Env, options: { seed: number; firstEpisode?: number }) {
    this.env = env;
    this.seed = options.seed;
    this.firstEpisode = options.firstEpisode ?? 0;
    this.episode = this.firstEpisode;
    this.featureCount = env.observationSpace.shape[0];
    this.actionSpace = env.actionSpace;
    // A TimeLimit knows its horizon; any other env has none the loop can count back from.
    this.model = { horizon: 'maxSteps' in env && typeof env.maxSteps === 'number' ? env.maxSteps : Number.POSITIVE_INFINITY };
    this.observations = new Float32Array(this.featureCount);
    this.finalObservations = new Float32Array(this.featureCount);
  }

  reset(): Float32Array {
    this.episode = this.firstEpisode;
    this.observations = this.env.reset({ seed: this.seed + this.episode }).observation;
    return this.observations;
  }

  step(actions: Int32Array): void {
    const result = this.env.step(actions[0] ?? 0);
    this.rewards[0] = result.reward;
    this.terminated[0] = result.terminated ? 1 : 0;
    this.truncated[0] = result.truncated ? 1 : 0;
    if (result.terminated || result.truncated) {
      this.finalObservations = result.observation;
      this.episode++;
      this.observations = this.env.reset({ seed: this.seed + this.episode }).observation;
    } else this.observations = result.observation;
  }
}
