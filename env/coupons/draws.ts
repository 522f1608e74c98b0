/**
 * The coupon stages' draws. Each (market, segment, stage) group takes ONE uniform a day from
 * the coupon stream (`coupons`), whatever the actions, so the stream stays aligned across
 * policies (common random numbers, core/random.ts); every draw of the group derives a uniform
 * from it by hashing (`derivedUniform`) at a fixed index (`DrawIndex`). Counts are
 * Binomial(trials, p) by inversion of that uniform (env/sampling.ts), or the expectation
 * trials x p in deterministic scenarios. The probabilities fixed by the model (visit rates per
 * stage, claim rates per segment, lapse and replacement) are tabulated once
 * (`CouponDrawTables`, env/sampling.ts `binomialTable`), the order probabilities once per price
 * (odds-cache.ts): the same draws to the bit (`tabledCount`), with each whole chunk of 1,000
 * trials read from the table instead of searched.
 */
import { derivedUniform } from '../../core/random.js';
import { binomialFromTable, binomialFromUniform, binomialTable, type BinomialTable } from '../sampling.js';
import type { CouponModel } from './coupon-model.js';

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
  // binomialFromUniform's own first test, before its default argument takes a logarithm.
  if (!(p > 0)) return 0;
  return binomialFromUniform(Math.round(trials), p, derivedUniform(key, index));
}

/** binomialCount with the probability's table (binomialTable of the probability in [0, 1]): the same count. */
export function tabledCount(deterministic: boolean, trials: number, table: BinomialTable, key: number, index: number): number {
  if (deterministic) return trials * table.probability;
  return binomialFromTable(Math.round(trials), table, derivedUniform(key, index));
}

/** The tables of a model's fixed probabilities. */
export class CouponDrawTables {
  /** Per stage. */
  readonly visit: readonly BinomialTable[];
  /** Per segment. */
  readonly claim: readonly BinomialTable[];
  readonly hesitantLapse: BinomialTable;
  readonly repeatLapse: BinomialTable;
  readonly replacement: BinomialTable;

  constructor(model: CouponModel) {
    const table = (probability: number) => binomialTable(probability < 0 ? 0 : probability > 1 ? 1 : probability);
    this.visit = Array.from(model.visitRate, table);
    this.claim = Array.from(model.claimRate, table);
    this.hesitantLapse = table(model.hesitantLapse);
    this.repeatLapse = table(model.repeatLapse);
    this.replacement = table(model.replacement);
  }
}
