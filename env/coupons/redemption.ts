/**
 * Step 3 of the coupon day: orders, redemption and cannibalisation, at each market's price.
 *
 * Per group: visitors holding no coupon order with P0 (order-odds.ts); holders of campaign c
 * order with P1_c, and an order redeems when its basket qualifies:
 *   orders_c ~ Binomial(holders_c, BUY_c), redeemed_c ~ Binomial(orders_c, REDEEM_c),
 *   cannibalised_c ~ Binomial(redeemed_c, CANNIBALISED_c)
 * so redeemed <= orders <= holders and cannibalised <= redeemed by construction. Units are the
 * orders times their expected basket (given whether they redeem); what customers pay is
 * price x units less the coupons' savings. A redeemed coupon leaves the wallet oldest claim
 * first (the one closest to expiry) and its reservation becomes budget spending.
 */
import { STAGE_COUNT } from './coupon-model.js';
import type { CouponState } from './coupon-state.js';
import { spendRedemptions } from './budget.js';
import { DrawIndex, tabledCount } from './draws.js';
import { DISCOUNT, ODDS_SIZE, UNITS_INCREMENTAL, UNITS_PLAIN, UNITS_REDEEMING } from './order-odds.js';

export function placeOrders(state: CouponState, prices: Float64Array): void {
  const model = state.model;
  const campaigns = model.campaignCount;
  const deterministic = model.deterministic;
  const width = campaigns + 1;
  for (let market = 0; market < state.marketCount; market++) {
    const price = prices[market] ?? 0;
    // The odds depend on the price only: computed once per price (odds-cache.ts).
    const { odds, buy, redeem, cannibalised: cannibalisedTables } = state.oddsCache.at(price);
    for (let segment = 0; segment < model.segmentCount; segment++) {
      const entryBase = segment * width;
      const oddsBase = entryBase * ODDS_SIZE;
      const base = state.groupBase(market, segment);
      for (let stage = 0; stage < STAGE_COUNT; stage++) {
        const group = base + stage;
        const key = state.groupKey[group] ?? 0;
        let holding = 0;
        for (let campaign = 0; campaign < campaigns; campaign++) holding += state.holdingVisitors[group * campaigns + campaign] ?? 0;
        const plainVisitors = Math.max(0, (state.visitors[group] ?? 0) - holding);
        const plainOrders = tabledCount(deterministic, plainVisitors, buy[entryBase]!, key, DrawIndex.plainOrders(campaigns));
        let orders = plainOrders;
        let units = plainOrders * (odds[oddsBase + UNITS_PLAIN] ?? 0);
        let couponUnits = 0;
        let redeemed = 0;
        let cannibalised = 0;
        let incremental = 0;
        let discount = 0;
        for (let campaign = 0; campaign < campaigns; campaign++) {
          const holders = state.holdingVisitors[group * campaigns + campaign] ?? 0;
          if (!(holders > 0)) continue;
          const entry = entryBase + campaign + 1;
          const at = entry * ODDS_SIZE;
          const campaignOrders = tabledCount(deterministic, holders, buy[entry]!, key, DrawIndex.holderOrders(campaigns, campaign));
          const campaignRedeemed = tabledCount(deterministic, campaignOrders, redeem[entry]!, key, DrawIndex.redemptions(campaigns, campaign));
          const campaignCannibalised = tabledCount(deterministic, campaignRedeemed, cannibalisedTables[entry]!, key, DrawIndex.cannibalised(campaigns, campaign));
          const cost = campaignRedeemed * (odds[at + DISCOUNT] ?? 0);
          orders += campaignOrders;
          const redeemingUnits = campaignRedeemed * (odds[at + UNITS_REDEEMING] ?? 0);
          units += redeemingUnits + (campaignOrders - campaignRedeemed) * (odds[at + UNITS_PLAIN] ?? 0);
          couponUnits += redeemingUnits;
          redeemed += campaignRedeemed;
          cannibalised += campaignCannibalised;
          incremental += (campaignRedeemed - campaignCannibalised) * (odds[at + UNITS_INCREMENTAL] ?? 0);
          discount += cost;
          if (campaignRedeemed > 0) {
            takeFromWallet(state, market, segment, campaign, campaignRedeemed);
            spendRedemptions(state, market, campaign, campaignRedeemed, cost);
          }
        }
        state.orders[group] = orders;
        state.units[group] = units;
        state.couponUnits[group] = couponUnits;
        state.redeemed[group] = redeemed;
        state.cannibalised[group] = cannibalised;
        state.incrementalUnits[group] = incremental;
        state.discount[group] = discount;
        state.paid[group] = price * units - discount;
      }
    }
  }
}

/** Removes `count` coupons of `campaign` from (market, segment)'s wallet, the oldest claim day first. */
function takeFromWallet(state: CouponState, market: number, segment: number, campaign: number, count: number): void {
  const model = state.model;
  const ring = model.maxValidityDays;
  const base = state.walletBase(market, segment, campaign);
  const validity = model.validityDays[campaign] ?? 1;
  let left = count;
  for (let claimDay = Math.max(0, state.day - validity + 1); claimDay <= state.day && left > 0; claimDay++) {
    const slot = base + (claimDay % ring);
    const taken = Math.min(left, state.wallet[slot] ?? 0);
    state.wallet[slot]! -= taken;
    left -= taken;
  }
}
