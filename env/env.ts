/**
 * The Gymnasium contract, typed: `reset({seed?}) -> {observation, info}` and
 * `step(action) -> {observation, reward, terminated, truncated, info}`.
 *
 * MarketEnv is the single-agent view of a MarketSimulation: the action is an index into
 * the price ladder, rivals follow their strategies. It never truncates: `terminated` means
 * the market ended (sold out with no replenishment). TimeLimit, the one wrapper that owns
 * the horizon, sets `truncated` when the scenario's horizon is reached. `makeEnv` builds
 * both. `info` carries every reward term and the raw, unnormalised market state.
 */
import { protocolError } from '../core/errors.js';
import { MarketSimulation, type RewardTerms, type StepOutcome } from './market.js';

export type { RewardTerms };
import { buildMarketModel, type MarketModel } from './model.js';
import { ObservationWriter, buildObservationFeatures, type ObservationFeature } from './observation.js';
import { box, discrete, type BoxSpace, type DiscreteSpace } from './spaces.js';
import type { EpisodeKpis } from './kpis.js';
import type { Scenario } from '../scenarios/schema.js';

export interface StepInfo {
  day: number;
  price: number;
  /** Every firm's price today, ours first. */
  prices: number[];
  /** Reward terms: profit = revenue - refunds - costOfGoods + restockedValue - holdingCost - handlingCost - stockoutPenalty + salvage. */
  terms: RewardTerms;
  profit: number;
  market: {
    arrivals: number;
    demand: number;
    sold: number;
    lostSales: number;
    unitsReturned: number;
    unitsRestocked: number;
    unitsOrdered: number;
    unitsArrivedFromOrders: number;
    stockOnHand: number;
    stockOnOrder: number;
    customersLost: number;
    weather: string | null;
    temperature: number;
    eventDay: boolean;
    presaleDay: boolean;
    rivalUnits: number[];
    /** Our units by segment (scenario order): a return group's pooled units split by each segment's expected share. */
    segments: { name: string; demand: number; sold: number; lostSales: number }[];
  };
  /** Present on the step that ends the episode. */
  episode?: EpisodeKpis;
}

export interface ResetInfo {
  day: number;
  seed: string;
}

export interface ResetOptions {
  seed?: number | string;
}

export interface StepResult {
  observation: Float32Array;
  reward: number;
  terminated: boolean;
  truncated: boolean;
  info: StepInfo;
}

export interface Env {
  readonly actionSpace: DiscreteSpace;
  readonly observationSpace: BoxSpace;
  reset(options?: ResetOptions): { observation: Float32Array; info: ResetInfo };
  step(action: number): StepResult;
}

export class MarketEnv implements Env {
  readonly model: MarketModel;
  readonly market: MarketSimulation;
  readonly features: readonly ObservationFeature[];
  private readonly observationWriter: ObservationWriter;
  readonly actionSpace: DiscreteSpace;
  readonly observationSpace: BoxSpace;
  private baseSeed: number | string = 0;
  private episode = -1;
  private started = false;
  /**
   * Every observation returned is a fresh array (callers may keep them), cut as a view from
   * a block of OBSERVATIONS_PER_BLOCK: one backing store per block instead of one per step
   * (allocating a typed array's backing store was a sixth of a single-env step).
   */
  private observationBlock = new Float32Array(0);
  private observationsCut = OBSERVATIONS_PER_BLOCK;

  constructor(model: MarketModel) {
    this.model = model;
    this.market = new MarketSimulation(model);
    this.features = buildObservationFeatures(model);
    this.observationWriter = new ObservationWriter(model, this.features);
    this.actionSpace = discrete(model.ladder.length);
    this.observationSpace = box(
      this.features.map((feature) => feature.name),
      this.features.map((feature) => feature.low),
      this.features.map((feature) => feature.high),
      this.features.map((feature) => feature.scale),
    );
  }

  reset(options: ResetOptions = {}): { observation: Float32Array; info: ResetInfo } {
    if (options.seed !== undefined) {
      this.baseSeed = options.seed;
      this.episode = 0;
    } else this.episode++;
    const seed = this.episode === 0 ? String(this.baseSeed) : `${this.baseSeed}#${this.episode}`;
    this.market.reset(seed);
    this.started = true;
    return { observation: this.observe(), info: { day: 0, seed } };
  }

  step(action: number): StepResult {
    if (!this.started) throw protocolError('step() before reset(): call reset() first');
    if (this.market.ended) throw protocolError('the episode has ended (terminated or truncated): call reset() before step()');
    const outcome = this.market.stepIndex(action);
    const info = describeOutcome(outcome, this.model, this.market.segmentUnits());
    if (this.market.ended) info.episode = this.market.episodeKpis();
    return { observation: this.observe(), reward: outcome.reward, terminated: outcome.terminated, truncated: false, info };
  }

  /** The observation of the market's current day, in a new array. */
  observe(): Float32Array {
    const width = this.features.length;
    if (this.observationsCut === OBSERVATIONS_PER_BLOCK) {
      this.observationBlock = new Float32Array(width * OBSERVATIONS_PER_BLOCK);
      this.observationsCut = 0;
    }
    const start = width * this.observationsCut++;
    const observation = this.observationBlock.subarray(start, start + width);
    this.observationWriter.write(this.market, observation);
    return observation;
  }
}

/** Observations per backing store: a kept observation holds at most this many (about 100 bytes each) alive. */
const OBSERVATIONS_PER_BLOCK = 64;

/** The one wrapper that owns the time limit: truncated = true once maxSteps steps were taken. */
export class TimeLimit implements Env {
  readonly inner: MarketEnv;
  readonly maxSteps: number;
  private steps = 0;

  constructor(inner: MarketEnv, maxSteps: number) {
    this.inner = inner;
    this.maxSteps = maxSteps;
  }

  /** The wrapped env's market model, live market and observation features (for oracles, the dashboard and serving). */
  get model(): MarketModel {
    return this.inner.model;
  }

  get market(): MarketSimulation {
    return this.inner.market;
  }

  get features(): readonly ObservationFeature[] {
    return this.inner.features;
  }

  get actionSpace(): DiscreteSpace {
    return this.inner.actionSpace;
  }

  get observationSpace(): BoxSpace {
    return this.inner.observationSpace;
  }

  reset(options: ResetOptions = {}): { observation: Float32Array; info: ResetInfo } {
    this.steps = 0;
    return this.inner.reset(options);
  }

  step(action: number): StepResult {
    if (this.steps >= this.maxSteps) throw protocolError(`the episode was truncated after ${this.maxSteps} steps: call reset() before step()`);
    const result = this.inner.step(action);
    this.steps++;
    if (this.steps >= this.maxSteps && !result.terminated) result.truncated = true;
    return result;
  }
}

export interface MakeEnvOptions {
  /** Override the scenario's horizon (steps before truncation). */
  maxSteps?: number;
}

/** The standard env of a scenario: MarketEnv inside its TimeLimit. */
export function makeEnv(source: Scenario | MarketModel, options: MakeEnvOptions = {}): TimeLimit {
  const model = 'calendar' in source ? source : buildMarketModel(source);
  return new TimeLimit(new MarketEnv(model), Math.min(options.maxSteps ?? model.horizon, model.horizon));
}

export function describeOutcome(outcome: StepOutcome, model: MarketModel, segmentUnits: StepInfo['market']['segments'] = []): StepInfo {
  return {
    day: outcome.day,
    price: outcome.price,
    prices: toArray(outcome.prices, 0),
    terms: {
      revenue: outcome.revenue,
      refunds: outcome.refunds,
      costOfGoods: outcome.costOfGoods,
      restockedValue: outcome.restockedValue,
      holdingCost: outcome.holdingCost,
      handlingCost: outcome.handlingCost,
      stockoutPenalty: outcome.stockoutPenalty,
      salvage: outcome.salvage,
      churnPenalty: outcome.churnPenalty,
    },
    profit: outcome.profit,
    market: {
      arrivals: outcome.arrivals,
      demand: outcome.demand,
      sold: outcome.sold,
      lostSales: outcome.lostSales,
      unitsReturned: outcome.unitsReturned,
      unitsRestocked: outcome.unitsRestocked,
      unitsOrdered: outcome.unitsOrdered,
      unitsArrivedFromOrders: outcome.unitsArrivedFromOrders,
      stockOnHand: outcome.stockOnHand,
      stockOnOrder: outcome.stockOnOrder,
      customersLost: outcome.customersLost,
      weather: model.weather ? (model.weather.stateNames[outcome.weatherState] ?? null) : null,
      temperature: outcome.temperature,
      eventDay: outcome.eventDay,
      presaleDay: outcome.presaleDay,
      rivalUnits: toArray(outcome.firmDemand, 1),
      segments: segmentUnits,
    },
  };
}

/** A plain array copy of values[from..]: no typed-array view on the single env's per-step path. */
function toArray(values: Float64Array, from: number): number[] {
  const copy = new Array<number>(values.length - from);
  for (let index = from; index < values.length; index++) copy[index - from] = values[index]!;
  return copy;
}

/** Sums the reward terms the way the scenario's objective does (reward = this, always). */
export function rewardFromTerms(terms: RewardTerms, objective: Scenario['objective']['kind']): number {
  const profit = terms.revenue - terms.refunds - terms.costOfGoods + terms.restockedValue - terms.holdingCost - terms.handlingCost - terms.stockoutPenalty + terms.salvage;
  if (objective === 'revenue') return terms.revenue - terms.refunds;
  return profit - terms.churnPenalty;
}
