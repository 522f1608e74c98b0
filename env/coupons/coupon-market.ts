/**
 * The coupon market: a small Gymnasium-style env (reset/step) over the coupon stages, so a
 * learner can choose a price and a coupon and be tested on it. One shop, no rivals, no
 * stock limit, no reference prices or returns: the coupon stages (coupon-day.ts) on the
 * scenario's logit demand (env/day/demand.ts `utility`), one market of a CouponState.
 *
 * Action: Discrete(prices x (campaigns + 1)); index = priceIndex x (campaigns + 1) + (campaign + 1),
 * campaign -1 being "no coupon" (`actionOf`, `actionIndex`). Prices: the scenario's ladder, or the
 * list given.
 * Observation (Box, named): the share of the base in each stage (stage:new, stage:hesitant,
 * stage:repeat, stage:lapsed), the share of the period's budget left (budgetLeft; 1 without a
 * budget) and the share of the budget period gone (periodPhase).
 * Reward: the day's profit, what customers paid after coupons - unitCost x units.
 * `terminated` is never set (nothing runs out); `truncated` at the scenario's horizon (or
 * `horizonDays` given): this small env owns its limit, as MarketEnv does with TimeLimit.
 * Info: the price, the campaign chosen (index and name), the day's coupon figures and the
 * effective price paid per (segment, stage) group, for the fairness report.
 * Randomness: the stream `coupons` of the reset seed; one uniform per group per day.
 */
import { RandomStream } from '../../core/random.js';
import { customerStages } from '../../scenarios/coupons.js';
import type { Scenario } from '../../scenarios/schema.js';
import { buildMarketModel } from '../model.js';
import { box, discrete, type BoxSpace, type DiscreteSpace } from '../spaces.js';
import { buildCouponModel, STAGE_COUNT, type CouponModel } from './coupon-model.js';
import { CouponDay, couponStreamName } from './coupon-day.js';
import { CouponState } from './coupon-state.js';

export interface CouponAction {
  readonly priceIndex: number;
  /** -1: no coupon. */
  readonly campaign: number;
}

export interface CouponGroupOutcome {
  readonly segment: string;
  readonly stage: (typeof customerStages)[number];
  readonly units: number;
  /** Units of orders that redeemed a coupon (part of units). */
  readonly couponUnits: number;
  /** What the group paid, after coupons. */
  readonly paid: number;
  readonly discount: number;
}

export interface CouponStepInfo {
  readonly day: number;
  readonly price: number;
  readonly campaign: number;
  readonly campaignName: string;
  readonly units: number;
  readonly revenue: number;
  readonly couponCost: number;
  readonly claims: number;
  readonly redeemed: number;
  readonly cannibalised: number;
  readonly incrementalUnits: number;
  readonly expired: number;
  readonly budgetSpent: number;
  readonly groups: readonly CouponGroupOutcome[];
}

export interface CouponStep {
  readonly observation: Float32Array;
  readonly reward: number;
  readonly terminated: boolean;
  readonly truncated: boolean;
  readonly info: CouponStepInfo;
}

export class CouponMarketEnv {
  readonly model: CouponModel;
  readonly prices: Float64Array;
  readonly observationSpace: BoxSpace;
  readonly actionSpace: DiscreteSpace;
  readonly horizon: number;
  readonly state: CouponState;
  private readonly day: CouponDay;
  private readonly stream = new RandomStream(0, couponStreamName);
  private readonly priceToday = new Float64Array(1);
  private readonly campaignToday = new Int32Array(1);

  /** `prices`: the prices the actions choose among (default: the scenario's ladder). */
  constructor(scenario: Scenario, options: { horizonDays?: number; prices?: readonly number[] } = {}) {
    const market = buildMarketModel(scenario);
    this.prices = Float64Array.from(options.prices ?? market.ladder);
    if (this.prices.length === 0 || !this.prices.every((price) => price > 0)) throw new RangeError('expected at least one price, every one above 0');
    this.model = buildCouponModel(scenario, market.segments, Math.max(...market.ladder, ...this.prices));
    this.horizon = options.horizonDays ?? scenario.horizonDays;
    this.state = new CouponState(this.model, 1);
    this.day = new CouponDay(this.state);
    const names = [...customerStages.map((stage) => `stage:${stage}`), 'budgetLeft', 'periodPhase'];
    this.observationSpace = box(names, names.map(() => 0), names.map(() => 1));
    this.actionSpace = discrete(this.prices.length * (this.model.campaignCount + 1));
  }

  actionOf(index: number): CouponAction {
    const width = this.model.campaignCount + 1;
    return { priceIndex: Math.floor(index / width), campaign: (index % width) - 1 };
  }

  actionIndex(action: CouponAction): number {
    return action.priceIndex * (this.model.campaignCount + 1) + action.campaign + 1;
  }

  /** The price of each action index (what an agent's context calls its ladder). */
  actionPrices(): Float64Array {
    return Float64Array.from({ length: this.actionSpace.n }, (_, index) => this.prices[this.actionOf(index).priceIndex] ?? 0);
  }

  /** `seed`: a number, or a string such as a vector env's episode seed (core/seeds.ts `episodeSeed`). */
  reset(options: { seed?: number | string } = {}): { observation: Float32Array; info: Record<string, never> } {
    this.stream.reseed(options.seed ?? 0, couponStreamName);
    this.state.reset();
    return { observation: this.observe(), info: {} };
  }

  step(actionIndex: number): CouponStep {
    if (!this.actionSpace.contains(actionIndex)) throw new RangeError(`expected an action in 0..${this.actionSpace.n - 1}, found ${actionIndex}`);
    const action = this.actionOf(actionIndex);
    const state = this.state;
    const model = this.model;
    const price = this.prices[action.priceIndex] ?? 0;
    const today = state.day;
    this.priceToday[0] = price;
    this.campaignToday[0] = action.campaign;
    this.day.advance(this.priceToday, this.campaignToday, this.stream);
    let units = 0;
    let revenue = 0;
    let couponCost = 0;
    let claims = 0;
    let redeemed = 0;
    let cannibalised = 0;
    let incrementalUnits = 0;
    const groups: CouponGroupOutcome[] = [];
    for (let segment = 0; segment < model.segmentCount; segment++) {
      for (let stage = 0; stage < STAGE_COUNT; stage++) {
        const group = state.groupBase(0, segment) + stage;
        units += state.units[group] ?? 0;
        revenue += state.paid[group] ?? 0;
        couponCost += state.discount[group] ?? 0;
        claims += state.claims[group] ?? 0;
        redeemed += state.redeemed[group] ?? 0;
        cannibalised += state.cannibalised[group] ?? 0;
        incrementalUnits += state.incrementalUnits[group] ?? 0;
        groups.push({ segment: model.segmentNames[segment] ?? `segment ${segment}`, stage: customerStages[stage]!, units: state.units[group] ?? 0, couponUnits: state.couponUnits[group] ?? 0, paid: state.paid[group] ?? 0, discount: state.discount[group] ?? 0 });
      }
    }
    const info: CouponStepInfo = {
      day: today,
      price,
      campaign: action.campaign,
      campaignName: action.campaign < 0 ? 'no coupon' : (model.campaignNames[action.campaign] ?? `campaign ${action.campaign}`),
      units,
      revenue,
      couponCost,
      claims,
      redeemed,
      cannibalised,
      incrementalUnits,
      expired: state.expired[0] ?? 0,
      budgetSpent: state.spent[0] ?? 0,
      groups,
    };
    return { observation: this.observe(), reward: revenue - model.unitCost * units, terminated: false, truncated: state.day >= this.horizon, info };
  }

  private observe(): Float32Array {
    const observation = new Float32Array(this.observationSpace.shape[0]);
    writeCouponObservation(this.state, 0, observation, 0);
    return observation;
  }
}

/** Writes market `market`'s observation (the stage shares, budgetLeft, periodPhase) into out[offset .. offset + 6). */
export function writeCouponObservation(state: CouponState, market: number, out: Float32Array, offset: number): void {
  const model = state.model;
  let total = 0;
  for (let stage = 0; stage < STAGE_COUNT; stage++) out[offset + stage] = 0;
  for (let segment = 0; segment < model.segmentCount; segment++) {
    for (let stage = 0; stage < STAGE_COUNT; stage++) {
      const count = state.population[state.groupBase(market, segment) + stage] ?? 0;
      out[offset + stage]! += count;
      total += count;
    }
  }
  for (let stage = 0; stage < STAGE_COUNT; stage++) out[offset + stage] = total > 0 ? out[offset + stage]! / total : 0;
  const budget = model.budget;
  out[offset + STAGE_COUNT] = budget === Number.POSITIVE_INFINITY ? 1 : budget > 0 ? Math.max(0, Math.min(1, (budget - (state.spent[market] ?? 0) - (state.reserved[market] ?? 0)) / budget)) : 0;
  out[offset + STAGE_COUNT + 1] = (state.day % model.budgetPeriodDays) / model.budgetPeriodDays;
}
