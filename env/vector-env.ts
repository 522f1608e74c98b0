/**
 * VectorEnv: N markets of one scenario stepped in lockstep over typed arrays, for speed
 * (no per-step objects). Each market runs the same MarketSimulation as the single env, so
 * the day's logic is written once. Episodes auto-reset in the same step: when market i's
 * episode ends (terminated, or truncated at the horizon), its row of `observations` already
 * holds the first observation of its next episode, and `onEpisodeEnd` receives the KPIs.
 * Market i's k-th episode has seed episodeSeed(seed, i, k): reproducible, and independent
 * of how many markets run beside it.
 */
import { protocolError } from '../core/errors.js';
import { MarketSimulation } from './market.js';
import { buildMarketModel, type MarketModel } from './model.js';
import { ObservationWriter, buildObservationFeatures, type ObservationFeature } from './observation.js';
import { episodeSeed } from '../core/seeds.js';
import { box, discrete, type BoxSpace, type DiscreteSpace } from './spaces.js';
import type { EpisodeKpis } from './kpis.js';
import type { Scenario } from '../scenarios/schema.js';

export interface VectorEnvOptions {
  count: number;
  seed?: number;
  onEpisodeEnd?: (marketIndex: number, kpis: EpisodeKpis) => void;
}

export class VectorEnv {
  readonly model: MarketModel;
  readonly count: number;
  readonly actionSpace: DiscreteSpace;
  readonly observationSpace: BoxSpace;
  readonly featureCount: number;
  /** count x featureCount, row-major. */
  readonly observations: Float32Array;
  readonly rewards: Float64Array;
  readonly terminated: Uint8Array;
  readonly truncated: Uint8Array;
  readonly episodesFinished: Int32Array;
  /**
   * The last observation of an episode that ended on this step (row i valid where
   * terminated[i] or truncated[i]): `observations` already holds the next episode's first
   * one, and a learner bootstrapping a truncated step needs this one (Gymnasium's final_observation).
   */
  readonly finalObservations: Float32Array;
  private readonly markets: MarketSimulation[];
  private readonly features: readonly ObservationFeature[];
  private readonly observationWriter: ObservationWriter;
  private readonly seed: number;
  private readonly onEpisodeEnd: ((marketIndex: number, kpis: EpisodeKpis) => void) | undefined;
  private started = false;

  constructor(source: Scenario | MarketModel, options: VectorEnvOptions) {
    if (!Number.isInteger(options.count) || options.count < 1) throw protocolError(`expected a positive whole number of markets, found ${options.count}`);
    this.model = 'calendar' in source ? source : buildMarketModel(source);
    this.count = options.count;
    this.seed = options.seed ?? 0;
    this.onEpisodeEnd = options.onEpisodeEnd;
    this.features = buildObservationFeatures(this.model);
    this.observationWriter = new ObservationWriter(this.model, this.features);
    this.featureCount = this.features.length;
    this.actionSpace = discrete(this.model.ladder.length);
    this.observationSpace = box(
      this.features.map((feature) => feature.name),
      this.features.map((feature) => feature.low),
      this.features.map((feature) => feature.high),
      this.features.map((feature) => feature.scale),
    );
    this.markets = Array.from({ length: this.count }, () => new MarketSimulation(this.model));
    this.observations = new Float32Array(this.count * this.featureCount);
    this.rewards = new Float64Array(this.count);
    this.terminated = new Uint8Array(this.count);
    this.truncated = new Uint8Array(this.count);
    this.episodesFinished = new Int32Array(this.count);
    this.finalObservations = new Float32Array(this.count * this.featureCount);
  }

  reset(): Float32Array {
    for (let index = 0; index < this.count; index++) {
      this.episodesFinished[index] = 0;
      this.markets[index]!.reset(episodeSeed(this.seed, index, 0));
      this.observationWriter.write(this.markets[index]!, this.observations, index * this.featureCount);
    }
    this.started = true;
    return this.observations;
  }

  /** Steps every market with its ladder index; results land in the typed arrays. */
  step(actions: Int32Array | readonly number[]): void {
    if (!this.started) throw protocolError('step() before reset(): call reset() first');
    if (actions.length !== this.count) throw protocolError(`expected ${this.count} actions (one per market), found ${actions.length}`);
    const featureCount = this.featureCount;
    for (let index = 0; index < this.count; index++) {
      const market = this.markets[index]!;
      const outcome = market.stepIndex(actions[index]!);
      this.rewards[index] = outcome.reward;
      this.terminated[index] = outcome.terminated ? 1 : 0;
      this.truncated[index] = !outcome.terminated && outcome.lastDay ? 1 : 0;
      if (market.ended) {
        this.observationWriter.write(market, this.finalObservations, index * featureCount);
        this.onEpisodeEnd?.(index, market.episodeKpis());
        const episode = ++this.episodesFinished[index]!;
        market.reset(episodeSeed(this.seed, index, episode));
      }
      this.observationWriter.write(market, this.observations, index * featureCount);
    }
  }
}
