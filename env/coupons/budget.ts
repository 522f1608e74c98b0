/**
 * The coupon budget, per market and period: `spent` (coupon cost this period) plus `reserved`
 * (the face value of every claimed coupon not yet redeemed or expired) never exceeds the
 * period's amount. A claim is allowed only when its face value fits (`claimHeadroom`); a
 * redemption turns at most its face value of reservation into spending; an expiry releases
 * it. Spending restarts at 0 on the first day of each period (day % periodDays === 0);
 * outstanding reservations carry over, so the law holds in every period.
 */
import type { CouponState } from './coupon-state.js';

/** Step 0 of the coupon day: a new budget period starts spending at 0. */
export function startBudgetPeriod(state: CouponState): void {
  if (state.day % state.model.budgetPeriodDays === 0) state.spent.fill(0);
}

/** How many coupons of `campaign` market `market` may still hand out (fractional when deterministic). */
export function claimHeadroom(state: CouponState, market: number, campaign: number): number {
  const model = state.model;
  const face = model.faceValue[campaign] ?? 0;
  if (!(face > 0) || model.budget === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY;
  const left = Math.max(0, model.budget - (state.spent[market] ?? 0) - (state.reserved[market] ?? 0));
  // A small tolerance so that float sums never refuse the coupon that exactly fits.
  const count = left / face + 1e-9;
  return model.deterministic ? Math.max(0, count - 1e-9) : Math.floor(count);
}

/** Books `count` claims of `campaign`: their face value is reserved. */
export function reserveClaims(state: CouponState, market: number, campaign: number, count: number): void {
  state.reserved[market]! += count * (state.model.faceValue[campaign] ?? 0);
}

/** Books `count` redemptions costing `cost` in all: the reservation becomes spending. */
export function spendRedemptions(state: CouponState, market: number, campaign: number, count: number, cost: number): void {
  state.spent[market]! += cost;
  state.reserved[market] = Math.max(0, (state.reserved[market] ?? 0) - count * (state.model.faceValue[campaign] ?? 0));
}

/** Releases the reservation of `count` expired coupons of `campaign`. */
export function releaseExpired(state: CouponState, market: number, campaign: number, count: number): void {
  state.reserved[market] = Math.max(0, (state.reserved[market] ?? 0) - count * (state.model.faceValue[campaign] ?? 0));
}
