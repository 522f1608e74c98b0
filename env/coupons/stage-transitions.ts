/**
 * Step 5 of the coupon day: behaviour stages move with purchases, visits and time.
 *
 *   new       a buyer becomes repeat; a visitor who did not buy becomes hesitant
 *   hesitant  a buyer becomes repeat; a non-visitor lapses with probability 1/hesitantLapseDays
 *   repeat    a non-visitor lapses with probability 1/repeatLapseDays
 *   lapsed    a buyer becomes repeat; a non-buyer is replaced by a new customer with
 *             probability 1/replacementDays (the base keeps its size)
 *
 * Coupons move customers through the purchases they cause (a redeemed coupon is a purchase).
 * Every move takes customers from one stage of a (market, segment) to another: the base's
 * size never changes (a property test holds it).
 */
import { STAGE_COUNT, STAGE_HESITANT, STAGE_LAPSED, STAGE_NEW, STAGE_REPEAT } from './coupon-model.js';
import type { CouponState } from './coupon-state.js';
import { DrawIndex, tabledCount } from './draws.js';

export function moveStages(state: CouponState): void {
  const model = state.model;
  const campaigns = model.campaignCount;
  const deterministic = model.deterministic;
  const population = state.population;
  const tables = state.drawTables;
  for (let market = 0; market < state.marketCount; market++) {
    for (let segment = 0; segment < model.segmentCount; segment++) {
      const base = state.groupBase(market, segment);
      const newGroup = base + STAGE_NEW;
      const hesitantGroup = base + STAGE_HESITANT;
      const repeatGroup = base + STAGE_REPEAT;
      const lapsedGroup = base + STAGE_LAPSED;
      const newVisitors = state.visitors[newGroup] ?? 0;
      const newBuyers = state.orders[newGroup] ?? 0;
      const hesitantBuyers = state.orders[hesitantGroup] ?? 0;
      const hesitantIdle = (population[hesitantGroup] ?? 0) - (state.visitors[hesitantGroup] ?? 0);
      const hesitantLapsing = tabledCount(deterministic, hesitantIdle, tables.hesitantLapse, state.groupKey[hesitantGroup] ?? 0, DrawIndex.lapse(campaigns));
      const repeatIdle = (population[repeatGroup] ?? 0) - (state.visitors[repeatGroup] ?? 0);
      const repeatLapsing = tabledCount(deterministic, repeatIdle, tables.repeatLapse, state.groupKey[repeatGroup] ?? 0, DrawIndex.lapse(campaigns));
      const lapsedBuyers = state.orders[lapsedGroup] ?? 0;
      const replaced = tabledCount(deterministic, (population[lapsedGroup] ?? 0) - lapsedBuyers, tables.replacement, state.groupKey[lapsedGroup] ?? 0, DrawIndex.replacement(campaigns));
      population[newGroup] = (population[newGroup] ?? 0) - newVisitors + replaced;
      population[hesitantGroup] = (population[hesitantGroup] ?? 0) + (newVisitors - newBuyers) - hesitantBuyers - hesitantLapsing;
      population[repeatGroup] = (population[repeatGroup] ?? 0) + newBuyers + hesitantBuyers + lapsedBuyers - repeatLapsing;
      population[lapsedGroup] = (population[lapsedGroup] ?? 0) + hesitantLapsing + repeatLapsing - lapsedBuyers - replaced;
      for (let stage = 0; stage < STAGE_COUNT; stage++) if (Math.abs(population[base + stage] ?? 0) < 1e-9) population[base + stage] = 0;
    }
  }
}
