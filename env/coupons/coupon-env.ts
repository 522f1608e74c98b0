/**
 * The coupon market behind the Env contract (env/env.ts), so every agent, the one training loop
 * (experiments/training-loop.ts through experiments/one-market.ts), greedy evaluation and
 * serving run on it as on MarketEnv. It wraps CouponMarketEnv (env/coupons/coupon-market.ts)
 * and adds nothing to its dynamics.
 *
 * Spaces: Discrete(prices x (campaigns + 1)), action = priceIndex x (campaigns + 1) +
 * (campaign + 1), campaign -1 = no coupon (`menu`, env/coupons/coupon-menu.ts); Box of six named
 * features in [0, 1] (stage:new, stage:hesitant, stage:repeat, stage:lapsed, budgetLeft,
 * periodPhase), each at scale 1.
 * Reward: the day's profit, what customers paid after coupons - unitCost x units.
 * Episode: `truncated` at the horizon (`maxSteps`); never `terminated`. Stepping before reset
 * or after the end is a protocol error, as with TimeLimit.
 * Info: a StepInfo whose terms are revenue (paid after coupons) and cost of goods (every other
 * term 0: no returns, stock or rivals), `market.sold` the units, `market.arrivals` the visitors,
 * plus `coupon`: the coupon market's own info (campaign, coupon figures, effective price per
 * group). On the last step `episode` holds the EpisodeKpis (gmv = price x units before coupons,
 * netRevenue = what customers paid, so gmv - netRevenue is the coupon cost) and the coupon KPIs
 * (env/coupons/coupon-kpis.ts) beside them.
 * Seeds: reset({seed}) with a number (a string of digits is read as one).
 */
import { protocolError } from '../../core/errors.js';
import type { Scenario } from '../../scenarios/schema.js';
import type { Env, ResetInfo, ResetOptions, StepInfo, StepResult } from '../env.js';
import type { EpisodeKpis } from '../kpis.js';
import type { BoxSpace, DiscreteSpace } from '../spaces.js';
import { CouponEpisodeAccumulator, type CouponKpis } from './coupon-kpis.js';
import { CouponMarketEnv, type CouponStepInfo } from './coupon-market.js';
import { couponMenuOf, type CouponMenu } from './coupon-menu.js';
import type { CouponModel } from './coupon-model.js';

export interface CouponEnvStepInfo extends StepInfo {
  readonly coupon: CouponStepInfo;
  episode?: EpisodeKpis & CouponKpis;
}

export interface CouponEnvStepResult extends StepResult {
  info: CouponEnvStepInfo;
}

export class CouponEnv implements Env {
  readonly market: CouponMarketEnv;
  readonly menu: CouponMenu;
  /** Steps before truncation: what the one-market loop counts back from. */
  readonly maxSteps: number;
  readonly listPrice: number;
  private readonly kpis: CouponEpisodeAccumulator;
  private started = false;
  private ended = false;
  private days = 0;

  constructor(scenario: Scenario, options: { horizonDays?: number; prices?: readonly number[] } = {}) {
    this.market = new CouponMarketEnv(scenario, options);
    this.menu = couponMenuOf(this.market.model);
    this.maxSteps = this.market.horizon;
    this.listPrice = scenario.listPrice;
    this.kpis = new CouponEpisodeAccumulator(this.market.model.unitCost);
  }

  get model(): CouponModel {
    return this.market.model;
  }

  get actionSpace(): DiscreteSpace {
    return this.market.actionSpace;
  }

  get observationSpace(): BoxSpace {
    return this.market.observationSpace;
  }

  /** The prices the actions choose among (the artifact's ladder). */
  get prices(): Float64Array {
    return this.market.prices;
  }

  /** The price of each action index (what an agent's context calls its ladder). */
  actionPrices(): Float64Array {
    return this.market.actionPrices();
  }

  reset(options: ResetOptions = {}): { observation: Float32Array; info: ResetInfo } {
    const seed = typeof options.seed === 'string' ? Number(options.seed) : (options.seed ?? 0);
    if (!Number.isInteger(seed)) throw protocolError(`expected an integer seed for the coupon market, found ${String(options.seed)}`);
    const { observation } = this.market.reset({ seed });
    this.kpis.reset();
    this.days = 0;
    this.started = true;
    this.ended = false;
    return { observation, info: { day: 0, seed: String(seed) } };
  }

  step(action: number): CouponEnvStepResult {
    if (!this.started) throw protocolError('step() before reset(): call reset() first');
    if (this.ended) throw protocolError(`the episode was truncated after ${this.maxSteps} steps: call reset() before step()`);
    const step = this.market.step(action);
    const coupon = step.info;
    this.kpis.record(this.market.state, 0, coupon.price);
    this.days++;
    const costOfGoods = this.model.unitCost * coupon.units;
    const segments = this.model.segmentNames.map((name) => {
      const sold = coupon.groups.reduce((sum, group) => (group.segment === name ? sum + group.units : sum), 0);
      return { name, demand: sold, sold, lostSales: 0 };
    });
    const info: CouponEnvStepInfo = {
      day: coupon.day,
      price: coupon.price,
      prices: [coupon.price],
      terms: { revenue: coupon.revenue, refunds: 0, costOfGoods, restockedValue: 0, holdingCost: 0, handlingCost: 0, stockoutPenalty: 0, salvage: 0, churnPenalty: 0 },
      profit: step.reward,
      market: {
        arrivals: this.visitorsToday(),
        demand: coupon.units,
        sold: coupon.units,
        lostSales: 0,
        unitsReturned: 0,
        unitsRestocked: 0,
        unitsOrdered: 0,
        unitsArrivedFromOrders: 0,
        stockOnHand: 0,
        stockOnOrder: 0,
        customersLost: 0,
        weather: null,
        temperature: 0,
        eventDay: false,
        presaleDay: false,
        rivalUnits: [],
        segments,
      },
      coupon,
    };
    const truncated = this.days >= this.maxSteps;
    if (truncated) {
      this.ended = true;
      info.episode = this.kpis.summary();
    }
    return { observation: step.observation, reward: step.reward, terminated: false, truncated, info };
  }

  private visitorsToday(): number {
    let visitors = 0;
    for (const value of this.market.state.visitors) visitors += value;
    return visitors;
  }
}
