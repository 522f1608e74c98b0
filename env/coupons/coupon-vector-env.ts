/**
 * CouponVectorEnv: N coupon markets of one scenario stepped in lockstep over one CouponState
 * (structure of arrays: the coupon day runs once for all of them), with the typed-array
 * contract of env/vector-env.ts: `observations` (count x 6, row-major), `rewards`,
 * `terminated`, `truncated`, `finalObservations`, `episodesFinished`, and `onEpisodeEnd` with
 * the episode's KPIs (EpisodeKpis and the coupon KPIs, as CouponEnv reports them).
 *
 * Each market is the coupon market of CouponMarketEnv (env/coupons/coupon-market.ts): the same
 * actions (priceIndex x (campaigns + 1) + campaign + 1), observation, reward (the day's profit
 * after coupons) and horizon. Market i's k-th episode draws from its own `coupons` stream,
 * seeded episodeSeed(seed, i, k) (core/seeds.ts) as the price VectorEnv seeds it: market i
 * equals a CouponMarketEnv reset with that seed, to the bit (a test holds it), whatever runs
 * beside it.
 *
 * Episodes auto-reset in the same step: when they end, `observations` already holds the next
 * episode's first observation and `finalObservations` the last one. Nothing terminates and
 * every market has the scenario's horizon, so all markets end on the same day and the state
 * restarts at day 0 for all of them at once (the coupon day keeps one day count).
 */
import { protocolError } from '../../core/errors.js';
import { RandomStream } from '../../core/random.js';
import { episodeSeed } from '../../core/seeds.js';
import type { Scenario } from '../../scenarios/schema.js';
import type { EpisodeKpis } from '../kpis.js';
import type { BoxSpace, DiscreteSpace } from '../spaces.js';
import { CouponDay, couponStreamName } from './coupon-day.js';
import { CouponEpisodeAccumulator, type CouponKpis } from './coupon-kpis.js';
import { CouponMarketEnv, writeCouponObservation } from './coupon-market.js';
import { STAGE_COUNT, type CouponModel } from './coupon-model.js';
import { CouponState } from './coupon-state.js';

export interface CouponVectorEnvOptions {
  count: number;
  seed?: number;
  horizonDays?: number;
  /** The prices the actions choose among (default: the scenario's ladder). */
  prices?: readonly number[];
  onEpisodeEnd?: (marketIndex: number, kpis: EpisodeKpis & CouponKpis) => void;
}

export class CouponVectorEnv {
  /** The coupon model, with the horizon (what the training loop counts back from, as a MarketModel's). */
  readonly model: CouponModel & { readonly horizon: number };
  readonly count: number;
  readonly actionSpace: DiscreteSpace;
  readonly observationSpace: BoxSpace;
  readonly featureCount: number;
  /** The prices the actions choose among. */
  readonly prices: Float64Array;
  /** The horizon (what the training loop reads as `model.horizon`). */
  readonly horizon: number;
  /** count x featureCount, row-major. */
  readonly observations: Float32Array;
  readonly rewards: Float64Array;
  readonly terminated: Uint8Array;
  readonly truncated: Uint8Array;
  readonly episodesFinished: Int32Array;
  /** The last observation of an episode that ended on this step (row i valid where truncated[i]). */
  readonly finalObservations: Float32Array;
  readonly state: CouponState;
  private readonly day: CouponDay;
  private readonly streams: RandomStream[];
  private readonly episodes: CouponEpisodeAccumulator[];
  private readonly priceToday: Float64Array;
  private readonly campaignToday: Int32Array;
  private readonly seed: number;
  private readonly onEpisodeEnd: CouponVectorEnvOptions['onEpisodeEnd'];
  private readonly single: CouponMarketEnv;
  private started = false;

  constructor(scenario: Scenario, options: CouponVectorEnvOptions) {
    if (!Number.isInteger(options.count) || options.count < 1) throw protocolError(`expected a positive whole number of markets, found ${options.count}`);
    // One market's env gives the model, spaces and prices exactly as a single coupon market has them.
    this.single = new CouponMarketEnv(scenario, { ...(options.horizonDays === undefined ? {} : { horizonDays: options.horizonDays }), ...(options.prices === undefined ? {} : { prices: options.prices }) });
    this.horizon = this.single.horizon;
    this.model = { ...this.single.model, horizon: this.horizon };
    this.prices = this.single.prices;
    this.actionSpace = this.single.actionSpace;
    this.observationSpace = this.single.observationSpace;
    this.featureCount = this.observationSpace.shape[0];
    this.count = options.count;
    this.seed = options.seed ?? 0;
    this.onEpisodeEnd = options.onEpisodeEnd;
    this.state = new CouponState(this.model, this.count);
    this.day = new CouponDay(this.state);
    this.streams = Array.from({ length: this.count }, (_, index) => new RandomStream(episodeSeed(this.seed, index, 0), couponStreamName));
    this.episodes = Array.from({ length: this.count }, () => new CouponEpisodeAccumulator(this.model.unitCost));
    this.priceToday = new Float64Array(this.count);
    this.campaignToday = new Int32Array(this.count);
    this.observations = new Float32Array(this.count * this.featureCount);
    this.rewards = new Float64Array(this.count);
    this.terminated = new Uint8Array(this.count);
    this.truncated = new Uint8Array(this.count);
    this.episodesFinished = new Int32Array(this.count);
    this.finalObservations = new Float32Array(this.count * this.featureCount);
  }

  /** The price of each action index (what an agent's context calls its ladder). */
  actionPrices(): Float64Array {
    return this.single.actionPrices();
  }

  reset(): Float32Array {
    for (let index = 0; index < this.count; index++) {
      this.episodesFinished[index] = 0;
      this.streams[index]!.reseed(episodeSeed(this.seed, index, 0), couponStreamName);
      this.episodes[index]!.reset();
    }
    this.state.reset();
    for (let index = 0; index < this.count; index++) writeCouponObservation(this.state, index, this.observations, index * this.featureCount);
    this.started = true;
    return this.observations;
  }

  /** Steps every market with its action index; results land in the typed arrays. */
  step(actions: Int32Array | readonly number[]): void {
    if (!this.started) throw protocolError('step() before reset(): call reset() first');
    if (actions.length !== this.count) throw protocolError(`expected ${this.count} actions (one per market), found ${actions.length}`);
    const width = this.model.campaignCount + 1;
    for (let index = 0; index < this.count; index++) {
      const action = actions[index]!;
      if (!this.actionSpace.contains(action)) throw new RangeError(`expected an action in 0..${this.actionSpace.n - 1} for market ${index}, found ${action}`);
      this.priceToday[index] = this.prices[Math.floor(action / width)] ?? 0;
      this.campaignToday[index] = (action % width) - 1;
    }
    const state = this.state;
    this.day.advance(this.priceToday, this.campaignToday, this.streams);
    const ended = state.day >= this.horizon;
    const groupsPerMarket = this.model.segmentCount * STAGE_COUNT;
    const unitCost = this.model.unitCost;
    const featureCount = this.featureCount;
    for (let index = 0; index < this.count; index++) {
      // Summed group by group from 0, as CouponMarketEnv sums them: the same reward to the bit.
      let units = 0;
      let revenue = 0;
      const first = index * groupsPerMarket;
      for (let group = first; group < first + groupsPerMarket; group++) {
        units += state.units[group] ?? 0;
        revenue += state.paid[group] ?? 0;
      }
      this.rewards[index] = revenue - unitCost * units;
      this.terminated[index] = 0;
      this.truncated[index] = ended ? 1 : 0;
      this.episodes[index]!.record(state, index, this.priceToday[index]!);
    }
    if (ended) {
      for (let index = 0; index < this.count; index++) {
        writeCouponObservation(state, index, this.finalObservations, index * featureCount);
        this.onEpisodeEnd?.(index, this.episodes[index]!.summary());
        const episode = ++this.episodesFinished[index]!;
        this.streams[index]!.reseed(episodeSeed(this.seed, index, episode), couponStreamName);
        this.episodes[index]!.reset();
      }
      state.reset();
    }
    for (let index = 0; index < this.count; index++) writeCouponObservation(state, index, this.observations, index * featureCount);
  }
}
