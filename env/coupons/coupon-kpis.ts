/**
 * Coupon KPIs of one market over an episode, accumulated day by day without allocation:
 *
 *   couponCost                   sum of the amounts coupons took off orders
 *   claims, redeemed, expired    coupons claimed, redeemed, expired
 *   redemptionRate               redeemed / claimed (0 with no claim)
 *   cannibalisationRate          cannibalised / redeemed: redemptions by customers who would have
 *                                bought anyway (0 with no redemption)
 *   incrementalUnitsPerCoupon    units the coupons created / coupons redeemed (0 with none)
 *   costPerIncrementalUnit       couponCost / incremental units (Infinity when coupons cost
 *                                something and created nothing; 0 with no cost)
 *   units, revenue, profit       all orders; revenue after coupons; revenue - unitCost x units
 *
 * Pure: `record` reads one market's outputs of a coupon day (env/coupons/coupon-state.ts) and adds.
 * `CouponEpisodeAccumulator` adds the price market's EpisodeKpis beside them (gmv = price x units
 * before coupons, netRevenue = what customers paid): what the coupon envs report at an episode's end.
 */
import type { EpisodeKpis } from '../kpis.js';
import { STAGE_COUNT } from './coupon-model.js';
import type { CouponState } from './coupon-state.js';

export interface CouponKpis {
  readonly couponCost: number;
  readonly claims: number;
  readonly redeemed: number;
  readonly cannibalised: number;
  readonly expired: number;
  readonly redemptionRate: number;
  readonly cannibalisationRate: number;
  readonly incrementalUnits: number;
  readonly incrementalUnitsPerCoupon: number;
  readonly costPerIncrementalUnit: number;
  readonly units: number;
  readonly revenue: number;
  readonly profit: number;
  readonly days: number;
}

export class CouponKpiAccumulator {
  private couponCost = 0;
  private claims = 0;
  private redeemed = 0;
  private cannibalised = 0;
  private expired = 0;
  private incrementalUnits = 0;
  private units = 0;
  private revenue = 0;
  private days = 0;

  constructor(private readonly unitCost: number) {}

  reset(): void {
    this.couponCost = this.claims = this.redeemed = this.cannibalised = this.expired = this.incrementalUnits = this.units = this.revenue = this.days = 0;
  }

  /** Adds market `market`'s outputs of the coupon day just simulated. */
  record(state: CouponState, market: number): void {
    const first = state.groupBase(market, 0);
    const last = first + state.model.segmentCount * STAGE_COUNT;
    for (let group = first; group < last; group++) {
      this.couponCost += state.discount[group] ?? 0;
      this.claims += state.claims[group] ?? 0;
      this.redeemed += state.redeemed[group] ?? 0;
      this.cannibalised += state.cannibalised[group] ?? 0;
      this.incrementalUnits += state.incrementalUnits[group] ?? 0;
      this.units += state.units[group] ?? 0;
      this.revenue += state.paid[group] ?? 0;
    }
    this.expired += state.expired[market] ?? 0;
    this.days++;
  }

  summary(): CouponKpis {
    const ratio = (numerator: number, denominator: number) => (denominator > 0 ? numerator / denominator : 0);
    return {
      couponCost: this.couponCost,
      claims: this.claims,
      redeemed: this.redeemed,
      cannibalised: this.cannibalised,
      expired: this.expired,
      redemptionRate: ratio(this.redeemed, this.claims),
      cannibalisationRate: ratio(this.cannibalised, this.redeemed),
      incrementalUnits: this.incrementalUnits,
      incrementalUnitsPerCoupon: ratio(this.incrementalUnits, this.redeemed),
      costPerIncrementalUnit: this.incrementalUnits > 0 ? this.couponCost / this.incrementalUnits : this.couponCost > 0 ? Number.POSITIVE_INFINITY : 0,
      units: this.units,
      revenue: this.revenue,
      profit: this.revenue - this.unitCost * this.units,
      days: this.days,
    };
  }
}

/** One market's episode: the coupon KPIs and the EpisodeKpis of the Env contract (no returns, stock or rivals: those terms 0). */
export class CouponEpisodeAccumulator {
  private readonly coupons: CouponKpiAccumulator;
  private days = 0;
  private gmv = 0;
  private priceSum = 0;
  private priceChanges = 0;
  private lastPrice = Number.NaN;

  constructor(unitCost: number) {
    this.coupons = new CouponKpiAccumulator(unitCost);
  }

  reset(): void {
    this.coupons.reset();
    this.days = this.gmv = this.priceSum = this.priceChanges = 0;
    this.lastPrice = Number.NaN;
  }

  /** Adds market `market`'s coupon day just simulated at `price`. */
  record(state: CouponState, market: number, price: number): void {
    this.coupons.record(state, market);
    const first = state.groupBase(market, 0);
    const last = first + state.model.segmentCount * STAGE_COUNT;
    let units = 0;
    for (let group = first; group < last; group++) units += state.units[group] ?? 0;
    this.days++;
    this.gmv += price * units;
    this.priceSum += price;
    if (this.days > 1 && price !== this.lastPrice) this.priceChanges++;
    this.lastPrice = price;
  }

  summary(): EpisodeKpis & CouponKpis {
    const coupons = this.coupons.summary();
    return {
      ...coupons,
      gmv: this.gmv,
      refunds: 0,
      netRevenue: coupons.revenue,
      grossProfit: coupons.profit,
      grossMarginRate: coupons.revenue > 0 ? coupons.profit / coupons.revenue : 0,
      totalReward: coupons.profit,
      unitsReturned: 0,
      returnRate: 0,
      stockoutDays: 0,
      lostSales: 0,
      inventoryTurnover: null,
      averagePrice: this.days > 0 ? this.priceSum / this.days : 0,
      priceIndex: null,
      priceChanges: this.priceChanges,
      customersLost: 0,
      profitGain: null,
    };
  }
}
