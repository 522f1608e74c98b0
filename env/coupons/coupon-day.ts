/**
 * One coupon day for N markets in lockstep: the order of events of the coupon stages.
 *
 *   0. budget     a new budget period starts spending at 0            (budget.ts)
 *   1. visits     visitors per stage group; which coupon each holds   (visits.ts)
 *   2. claims     today's campaign, to targeted non-holding visitors  (claim.ts)
 *   3. orders     logit choice on the price paid; redemption;
 *                 cannibalisation; wallet and budget updated          (redemption.ts)
 *   4. expiry     coupons whose last valid day was today               (expiry.ts)
 *   5. stages     purchases, visits and time move customers           (stage-transitions.ts)
 *
 * Inputs per market: today's unit price and campaign index (-1: no coupon). Randomness: one
 * uniform per group per day from the stream `coupons` (draws.ts): one stream the markets draw
 * from in turn, or one stream per market (the vector coupon env's, each market on its own
 * episode seed, so market i draws what a single market on that seed draws). When the day kernel adopts
 * coupons, it calls `advanceCouponDay` at its step 4 (demand) with its own prices.
 */
import type { RandomStream } from '../../core/random.js';
import type { CouponState } from './coupon-state.js';
import { startBudgetPeriod } from './budget.js';
import { drawVisits } from './visits.js';
import { claimCoupons } from './claim.js';
import { placeOrders } from './redemption.js';
import { expireCoupons } from './expiry.js';
import { moveStages } from './stage-transitions.js';

export const couponStreamName = 'coupons';

export class CouponDay {
  private readonly heldScratch: Float64Array;
  private readonly availableScratch: Float64Array;

  constructor(readonly state: CouponState) {
    this.heldScratch = new Float64Array(state.model.campaignCount);
    this.availableScratch = new Float64Array(state.model.campaignCount);
  }

  /**
   * Simulates day `state.day` and moves to the next. Today's outputs stay in the state until the
   * next call. `streams`: one stream for every market in turn, or one per market.
   */
  advance(prices: Float64Array, campaigns: Int32Array, streams: RandomStream | readonly RandomStream[]): void {
    const state = this.state;
    if (Array.isArray(streams) && streams.length !== state.marketCount) throw new RangeError(`expected one stream per market (${state.marketCount}), found ${streams.length}`);
    state.clearToday();
    startBudgetPeriod(state);
    drawVisits(state, streams, this.heldScratch, this.availableScratch);
    claimCoupons(state, campaigns);
    placeOrders(state, prices);
    expireCoupons(state);
    moveStages(state);
    state.day++;
  }
}
