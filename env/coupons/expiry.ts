/**
 * Step 4 of the coupon day: expiry. A coupon of campaign c claimed on day e can be redeemed
 * through day e + validity_c - 1; at the end of that day the ones left in the wallet expire
 * (counted per market in `expired`) and their budget reservation is released.
 */
import type { CouponState } from './coupon-state.js';
import { releaseExpired } from './budget.js';

export function expireCoupons(state: CouponState): void {
  const model = state.model;
  for (let campaign = 0; campaign < model.campaignCount; campaign++) {
    const claimDay = state.day - (model.validityDays[campaign] ?? 1) + 1;
    if (claimDay < 0) continue;
    const slot = claimDay % model.maxValidityDays;
    for (let market = 0; market < state.marketCount; market++) {
      for (let segment = 0; segment < model.segmentCount; segment++) {
        const at = state.walletBase(market, segment, campaign) + slot;
        const left = state.wallet[at] ?? 0;
        if (!(left > 0)) continue;
        state.wallet[at] = 0;
        state.expired[market]! += left;
        releaseExpired(state, market, campaign, left);
      }
    }
  }
}
