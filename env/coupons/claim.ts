/**
 * Step 2 of the coupon day: claims. When market m runs campaign a today (campaigns[m] >= 0)
 * and it targets the group's stage, each visitor holding no coupon claims it with the
 * segment's claim rate: Binomial(non-holding visitors, claimRate_s), cut to the budget's
 * headroom (budget.ts). A claim goes into the wallet under today's claim day, reserves its
 * face value, and its holder can redeem it on this very visit (placeOrders).
 */
import type { CouponState } from './coupon-state.js';
import { STAGE_COUNT } from './coupon-model.js';
import { claimHeadroom, reserveClaims } from './budget.js';
import { DrawIndex, tabledCount } from './draws.js';

export function claimCoupons(state: CouponState, campaignsByMarket: Int32Array): void {
  const model = state.model;
  const campaigns = model.campaignCount;
  const slot = state.day % model.maxValidityDays;
  for (let market = 0; market < state.marketCount; market++) {
    const campaign = campaignsByMarket[market] ?? -1;
    if (campaign < 0 || campaign >= campaigns) continue;
    const mask = model.stageMask[campaign] ?? 0;
    for (let segment = 0; segment < model.segmentCount; segment++) {
      const base = state.groupBase(market, segment);
      const walletSlot = state.walletBase(market, segment, campaign) + slot;
      for (let stage = 0; stage < STAGE_COUNT; stage++) {
        if ((mask & (1 << stage)) === 0) continue;
        const group = base + stage;
        let holding = 0;
        for (let held = 0; held < campaigns; held++) holding += state.holdingVisitors[group * campaigns + held] ?? 0;
        const offered = Math.max(0, (state.visitors[group] ?? 0) - holding);
        const wanted = tabledCount(model.deterministic, offered, state.drawTables.claim[segment]!, state.groupKey[group] ?? 0, DrawIndex.claims(campaigns));
        const claims = Math.min(wanted, claimHeadroom(state, market, campaign));
        if (!(claims > 0)) continue;
        state.claims[group] = claims;
        state.wallet[walletSlot]! += claims;
        state.holdingVisitors[group * campaigns + campaign]! += claims;
        reserveClaims(state, market, campaign, claims);
      }
    }
  }
}
