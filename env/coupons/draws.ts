/**
 * The coupon stages' draws. Each (market, segment, stage) group takes ONE uniform a day from
 * the coupon stream (`coupons`), whatever the actions, so the stream stays aligned across
 * policies (common random numbers, core/random.ts); every draw of the group derives a uniform
 * from it by hashing (`derivedUniform`) at a fixed index (`DrawIndex`). Counts are
 * Binomial(trials, p) by inversion of that uniform (env/sampling.ts), or the expectation
 * trials x p in deterministic scenarios.
 */
import { derivedUniform } from '../../core/random.js';
import { binomialFromUniform } from '../sampling.js';

/** Derived-uniform indices of one group's draws on one day (C = the number of campaigns). */
export const DrawIndex = {
  visitors: 0,
  holding: (campaign: number) => 1 + campaign,
  claims: (campaigns: number) => 1 + campaigns,
  plainOrders: (campaigns: number) => 2 + campaigns,
  holderOrders: (campaigns: number, campaign: number) => 3 + campaigns + 3 * campaign,
  redemptions: (campaigns: number, campaign: number) => 4 + campaigns + 3 * campaign,
  cannibalised: (campaigns: number, campaign: number) => 5 + campaigns + 3 * campaign,
  lapse: (campaigns: number) => 3 + 4 * campaigns,
  replacement: (campaigns: number) => 4 + 4 * campaigns,
} as const;

/** Binomial(trials, probability) from the group's key at `index`, or trials x probability when deterministic. */
export function binomialCount(deterministic: boolean, trials: number, probability: number, key: number, index: number): number {
  const p = probability < 0 ? 0 : probability > 1 ? 1 : probability;
  if (deterministic) return trials * p;
  return binomialFromUniform(Math.round(trials), p, derivedUniform(key, index));
}
