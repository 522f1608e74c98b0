/**
 * One arm of a dashboard session on a coupon scenario (a `coupons` block): a policy choosing a
 * price and a coupon each day in its own copy of the coupon market (env/coupons/coupon-env.ts),
 * as `pricelab evaluate` and `compare` play it. Both arms of an A vs B session reset with the
 * same seed (common random numbers). The same surface as the price arm (ui/server/arm.ts), so
 * the session drives either.
 *
 * Each day's point names the coupon chosen and what it cost; the KPIs add the coupon KPIs so far
 * (env/coupons/coupon-kpis.ts: coupon cost, redemption rate, incremental units per coupon); the
 * fairness figures are what each (segment, stage) group paid after the coupons the arm chose
 * (effective-prices.ts, `couponsChosen`). The guardrails bound the price part of each action
 * as serving bounds a coupon policy's price (agents/coupon-guardrails.ts: yesterday's played
 * price is the last price; the coupon stands as chosen); "why this price?" explains the action
 * over the coupon market's actions (the ladder is each action's price) and what the guardrails did.
 */
import type { MarketModel } from '../../env/model.js';
import { CouponEnv } from '../../env/coupons/coupon-env.js';
import { CouponKpiAccumulator } from '../../env/coupons/coupon-kpis.js';
import type { GuardedPrice, Guardrails } from '../../agents/guardrails.js';
import { CouponGuard } from '../../agents/coupon-guardrails.js';
import type { DayExplanation, DayPoint, FairnessFigures, Kpis } from '../shared/events.js';
import { EffectivePriceTally } from './effective-prices.js';
import type { DashboardPolicy } from './policy-source.js';
import { plainDecision } from './arm.js';

interface DayRecord {
  readonly observation: Float32Array<ArrayBufferLike>;
  /** The policy's action, before the guardrails. */
  readonly action: number;
  readonly guarded: GuardedPrice;
}

export class CouponArm {
  readonly env: CouponEnv;
  readonly model: MarketModel;
  private policy: DashboardPolicy | undefined;
  /** The guardrails on the price part of each action (none until usePolicy gives them). */
  guardrails: Guardrails = {};
  private guard: CouponGuard;
  private guardrailAdjustments = 0;
  private observation: Float32Array<ArrayBufferLike> = new Float32Array(0);
  private readonly history: DayRecord[] = [];
  private readonly kpis: CouponKpiAccumulator;
  private readonly effectivePrices: EffectivePriceTally;
  private priceSum = 0;
  private cumulativeRevenue = 0;
  private cumulativeProfit = 0;
  private cumulativeCouponCost = 0;
  ended = false;

  constructor(model: MarketModel) {
    this.model = model;
    this.env = new CouponEnv(model.scenario);
    this.kpis = new CouponKpiAccumulator(this.env.model.unitCost);
    this.effectivePrices = new EffectivePriceTally(model, { couponsChosen: true });
    this.guard = this.guardFor({});
  }

  /** The policy answers with coupon-market actions (coupon-policy-source.ts); the guardrails bound their price part. */
  usePolicy(policy: DashboardPolicy, guardrails: Guardrails = {}): void {
    this.policy = policy;
    this.guard = this.guardFor(guardrails);
    this.guardrails = guardrails;
  }

  private guardFor(guardrails: Guardrails): CouponGuard {
    return new CouponGuard(guardrails, this.env.menu, this.env.prices, this.env.model.unitCost);
  }

  get policySpec(): string {
    return this.policy?.spec ?? '';
  }

  get agentKind(): string {
    return this.policy?.agentKind ?? '';
  }

  reset(seed: number | string): void {
    this.observation = this.env.reset({ seed: typeof seed === 'number' ? seed : Number(seed) }).observation;
    this.history.length = 0;
    this.kpis.reset();
    this.effectivePrices.reset(seed);
    this.guard.reset();
    this.guardrailAdjustments = 0;
    this.priceSum = this.cumulativeRevenue = this.cumulativeProfit = this.cumulativeCouponCost = 0;
    this.ended = false;
  }

  get currentKpis(): Kpis {
    const summary = this.kpis.summary();
    return {
      days: summary.days,
      revenue: summary.revenue,
      profit: summary.profit,
      sold: summary.units,
      lostSales: 0,
      fillRate: 1,
      unitsReturned: 0,
      refunds: 0,
      meanPrice: summary.days > 0 ? this.priceSum / summary.days : 0,
      guardrailAdjustments: this.guardrailAdjustments,
      couponCost: summary.couponCost,
      redemptionRate: summary.redemptionRate,
      incrementalUnitsPerCoupon: summary.incrementalUnitsPerCoupon,
    };
  }

  get currentFairness(): FairnessFigures {
    return this.effectivePrices.figures();
  }

  /** Simulates one day in the coupon market and describes it. */
  step(): DayPoint {
    const policy = this.requirePolicy();
    const observation = this.observation;
    const action = policy.act(observation);
    const guarded = this.guard.guard(action);
    if (guarded.action !== action) this.guardrailAdjustments += 1;
    const result = this.env.step(guarded.action);
    const coupon = result.info.coupon;
    this.history[coupon.day] = { observation, action, guarded: guarded.guarded };
    this.observation = result.observation;
    this.ended = result.terminated || result.truncated;
    this.kpis.record(this.env.market.state, 0);
    this.effectivePrices.recordCouponDay(coupon);
    this.priceSum += coupon.price;
    this.cumulativeRevenue += coupon.revenue;
    this.cumulativeProfit += result.reward;
    this.cumulativeCouponCost += coupon.couponCost;
    const soldBySegment = result.info.market.segments.map((segment) => segment.sold);
    return {
      day: coupon.day,
      days: 1,
      price: coupon.price,
      proposedPrice: guarded.guarded.proposed,
      rivalPrices: [],
      referencePrices: [],
      demand: coupon.units,
      sold: coupon.units,
      lostSales: 0,
      soldBySegment,
      lostBySegment: soldBySegment.map(() => 0),
      stockOnHand: 0,
      stockOnOrder: 0,
      unitsOrdered: 0,
      unitsReturned: 0,
      refunds: 0,
      revenue: coupon.revenue,
      profit: result.reward,
      cumulativeRevenue: this.cumulativeRevenue,
      cumulativeProfit: this.cumulativeProfit,
      eventDay: false,
      presaleDay: false,
      weather: null,
      coupon: coupon.campaignName,
      couponCost: coupon.couponCost,
      cumulativeCouponCost: this.cumulativeCouponCost,
    };
  }

  /** "Why this price and coupon?" for a day of the current episode, or undefined if it was not simulated. */
  explain(day: number): Omit<DayExplanation, 'arm' | 'episode'> | undefined {
    const record = this.history[day];
    const policy = this.requirePolicy();
    if (!record) return undefined;
    const space = this.env.observationSpace;
    const prices = Array.from(this.env.actionPrices());
    return {
      day,
      policy: policy.spec,
      ladder: prices,
      proposedPrice: record.guarded.proposed,
      price: record.guarded.price,
      features: space.featureNames.map((name, index) => {
        const scaled = record.observation[index] ?? 0;
        return { name, scaled, value: scaled * (space.scales[index] ?? 1) };
      }),
      decision: plainDecision(policy.explain(record.observation, record.action)),
      guardrails: { rules: { ...this.guardrails }, effects: record.guarded.effects.map((effect) => ({ ...effect })), violations: [...record.guarded.violations] },
    };
  }

  dispose(): void {
    this.policy?.dispose();
    this.policy = undefined;
  }

  private requirePolicy(): DashboardPolicy {
    if (!this.policy) throw new Error('the arm has no policy yet (usePolicy first)');
    return this.policy;
  }
}
