/**
 * The coupon market's state as structure of arrays, for N markets stepped in lockstep (the
 * layout the day kernel and the vector env use): one slot per (market, segment, stage) group,
 * group = (market * segments + segment) * 4 + stage; one wallet ring per (market, segment,
 * campaign) with one slot per claim day; one budget per market.
 *
 * State that lives across days: `population` (customers per group), `wallet` (unexpired
 * claimed coupons by claim day), `spent` (coupon cost this budget period), `reserved` (the
 * face value of outstanding coupons). Everything else is today's outputs, written by the
 * stages of env/coupons/coupon-day.ts and read by the KPIs, the fairness report and the env.
 */
import { STAGE_COUNT, type CouponModel } from './coupon-model.js';
import { OrderOddsCache } from './odds-cache.js';
import { CouponDrawTables } from './draws.js';

export class CouponState {
  readonly model: CouponModel;
  readonly marketCount: number;
  readonly groupCount: number;
  /** The day being simulated (markets move in lockstep). */
  day = 0;
  readonly population: Float64Array;
  /** wallet[((market * segments + segment) * campaigns + campaign) * maxValidityDays + claimDay % maxValidityDays]. */
  readonly wallet: Float64Array;
  readonly spent: Float64Array;
  readonly reserved: Float64Array;

  // Today's outputs, per group.
  readonly visitors: Float64Array;
  readonly claims: Float64Array;
  readonly orders: Float64Array;
  readonly redeemed: Float64Array;
  readonly cannibalised: Float64Array;
  readonly units: Float64Array;
  /** Units of the orders that redeemed a coupon (part of `units`). */
  readonly couponUnits: Float64Array;
  readonly incrementalUnits: Float64Array;
  /** Coupon cost: the amount taken off orders. */
  readonly discount: Float64Array;
  /** What customers paid, after coupons. */
  readonly paid: Float64Array;
  // Today's outputs, per market.
  readonly expired: Float64Array;

  /** Scratch: holding visitors per (group, campaign) today. */
  readonly holdingVisitors: Float64Array;
  /** Scratch: today's 32-bit key per group (its one stream uniform), from which the group's draws derive. */
  readonly groupKey: Uint32Array;
  /** The order odds and their binomial tables per price, shared by the markets (odds-cache.ts). */
  readonly oddsCache: OrderOddsCache;
  /** The binomial tables of the model's fixed probabilities (draws.ts). */
  readonly drawTables: CouponDrawTables;

  constructor(model: CouponModel, marketCount: number) {
    this.model = model;
    this.marketCount = marketCount;
    this.groupCount = marketCount * model.segmentCount * STAGE_COUNT;
    const groups = this.groupCount;
    this.population = new Float64Array(groups);
    this.wallet = new Float64Array(marketCount * model.segmentCount * model.campaignCount * model.maxValidityDays);
    this.spent = new Float64Array(marketCount);
    this.reserved = new Float64Array(marketCount);
    this.visitors = new Float64Array(groups);
    this.claims = new Float64Array(groups);
    this.orders = new Float64Array(groups);
    this.redeemed = new Float64Array(groups);
    this.cannibalised = new Float64Array(groups);
    this.units = new Float64Array(groups);
    this.couponUnits = new Float64Array(groups);
    this.incrementalUnits = new Float64Array(groups);
    this.discount = new Float64Array(groups);
    this.paid = new Float64Array(groups);
    this.expired = new Float64Array(marketCount);
    this.holdingVisitors = new Float64Array(groups * model.campaignCount);
    this.groupKey = new Uint32Array(groups);
    this.oddsCache = new OrderOddsCache(model);
    this.drawTables = new CouponDrawTables(model);
    this.reset();
  }

  /** Day 0: the initial stage split (whole customers unless deterministic; rounding goes to the largest share), empty wallets, fresh budgets. */
  reset(): void {
    const model = this.model;
    this.day = 0;
    for (let market = 0; market < this.marketCount; market++) {
      for (let segment = 0; segment < model.segmentCount; segment++) {
        const population = model.population[segment] ?? 0;
        const base = (market * model.segmentCount + segment) * STAGE_COUNT;
        let assigned = 0;
        let largest = 0;
        for (let stage = 0; stage < STAGE_COUNT; stage++) {
          const share = model.initialStageShare[segment * STAGE_COUNT + stage] ?? 0;
          const count = model.deterministic ? population * share : Math.floor(population * share);
          this.population[base + stage] = count;
          assigned += count;
          if (share > (model.initialStageShare[segment * STAGE_COUNT + largest] ?? 0)) largest = stage;
        }
        this.population[base + largest]! += population - assigned;
      }
    }
    this.wallet.fill(0);
    this.spent.fill(0);
    this.reserved.fill(0);
    this.clearToday();
  }

  clearToday(): void {
    for (const array of [this.visitors, this.claims, this.orders, this.redeemed, this.cannibalised, this.units, this.couponUnits, this.incrementalUnits, this.discount, this.paid, this.expired, this.holdingVisitors]) array.fill(0);
  }

  /** Index of the first stage group of (market, segment). */
  groupBase(market: number, segment: number): number {
    return (market * this.model.segmentCount + segment) * STAGE_COUNT;
  }

  /** Index of the first wallet slot of (market, segment, campaign). */
  walletBase(market: number, segment: number, campaign: number): number {
    return ((market * this.model.segmentCount + segment) * this.model.campaignCount + campaign) * this.model.maxValidityDays;
  }

  /** Unexpired coupons of `campaign` held in (market, segment). */
  held(market: number, segment: number, campaign: number): number {
    const base = this.walletBase(market, segment, campaign);
    let total = 0;
    for (let slot = 0; slot < this.model.maxValidityDays; slot++) total += this.wallet[base + slot] ?? 0;
    return total;
  }
}
