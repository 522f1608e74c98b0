/**
 * Step 1 of the coupon day: who visits, and which coupon each visitor holds.
 *
 * Each group takes its one uniform of the day from the coupon stream (its key: draws.ts).
 * Visitors of stage k: Binomial(customers in the group, visitRate_k). Holders are not tracked
 * one by one: a (market, segment)'s unexpired coupons of campaign c are spread over its
 * stages in proportion to their size, so a visitor holds c with probability held_c / customers
 * (conditionally on holding none of the earlier campaigns), and no group ever gets more
 * holding visitors than coupons of c remain unassigned today. A customer holds at most one
 * coupon: only visitors holding none may claim (claim.ts).
 */
import { uniformToKey, type RandomStream } from '../../core/random.js';
import { STAGE_COUNT } from './coupon-model.js';
import type { CouponState } from './coupon-state.js';
import { binomialCount, DrawIndex, tabledCount } from './draws.js';

/** `streams`: one stream the markets draw from in turn, or one per market. */
export function drawVisits(state: CouponState, streams: RandomStream | readonly RandomStream[], heldScratch: Float64Array, availableScratch: Float64Array): void {
  const model = state.model;
  const campaigns = model.campaignCount;
  const deterministic = model.deterministic;
  const visitTables = state.drawTables.visit;
  for (let market = 0; market < state.marketCount; market++) {
    const stream: RandomStream = Array.isArray(streams) ? (streams as readonly RandomStream[])[market]! : (streams as RandomStream);
    for (let segment = 0; segment < model.segmentCount; segment++) {
      const base = state.groupBase(market, segment);
      let customersLeft = 0;
      for (let stage = 0; stage < STAGE_COUNT; stage++) customersLeft += state.population[base + stage] ?? 0;
      for (let campaign = 0; campaign < campaigns; campaign++) {
        const held = state.held(market, segment, campaign);
        heldScratch[campaign] = held;
        availableScratch[campaign] = held;
      }
      for (let stage = 0; stage < STAGE_COUNT; stage++) {
        const group = base + stage;
        const key = uniformToKey(stream.next());
        state.groupKey[group] = key;
        const customers = state.population[group] ?? 0;
        const visitors = tabledCount(deterministic, customers, visitTables[stage]!, key, DrawIndex.visitors);
        state.visitors[group] = visitors;
        let visitorsLeft = visitors;
        let shareLeft = 1;
        for (let campaign = 0; campaign < campaigns; campaign++) {
          const held = heldScratch[campaign] ?? 0;
          const share = customersLeft > 0 ? Math.min(1, held / customersLeft) : 0;
          const conditional = shareLeft > 0 ? Math.min(1, share / shareLeft) : 0;
          const holding = Math.min(availableScratch[campaign] ?? 0, binomialCount(deterministic, visitorsLeft, conditional, key, DrawIndex.holding(campaign)));
          state.holdingVisitors[group * campaigns + campaign] = holding;
          availableScratch[campaign]! -= holding;
          visitorsLeft -= holding;
          shareLeft -= share;
        }
        // The group's expected share of each campaign's coupons leaves the pool the next stages draw from.
        for (let campaign = 0; campaign < campaigns; campaign++) {
          const held = heldScratch[campaign] ?? 0;
          heldScratch[campaign] = customersLeft > 0 ? held * (1 - customers / customersLeft) : 0;
        }
        customersLeft -= customers;
      }
    }
  }
}
