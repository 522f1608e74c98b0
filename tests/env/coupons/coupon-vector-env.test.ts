/**
 * The vector coupon env (env/coupons/coupon-vector-env.ts): market i equals a single
 * CouponMarketEnv reset with episodeSeed(seed, i, k) for its k-th episode, to the bit
 * (rewards, observations, final observations, truncation), across auto-resets; the episode
 * KPIs add up the single market's days; the typed-array contract refuses misuse.
 */
import { describe, expect, it } from 'vitest';
import { createStream } from '../../../core/random.js';
import { episodeSeed } from '../../../core/seeds.js';
import { CouponMarketEnv } from '../../../env/coupons/coupon-market.js';
import type { CouponKpis } from '../../../env/coupons/coupon-kpis.js';
import { CouponVectorEnv } from '../../../env/coupons/coupon-vector-env.js';
import type { EpisodeKpis } from '../../../env/kpis.js';
import { loadScenario } from '../../../scenarios/load.js';

const festival = loadScenario('scenarios/coupons/festival-coupon-v1.json').scenario;
const targeted = loadScenario('scenarios/coupons/targeted-coupon-v1.json').scenario;

describe('CouponVectorEnv', () => {
  for (const [name, scenario, horizonDays] of [['festival-coupon-v1', festival, undefined], ['targeted-coupon-v1', targeted, 12]] as const) {
    it(`market i is a CouponMarketEnv on episodeSeed(seed, i, k), to the bit, across auto-resets (${name})`, () => {
      const count = 3;
      const seed = 7;
      const ended: { market: number; kpis: EpisodeKpis & CouponKpis }[] = [];
      const vector = new CouponVectorEnv(scenario, { count, seed, ...(horizonDays === undefined ? {} : { horizonDays }), onEpisodeEnd: (market, kpis) => void ended.push({ market, kpis }) });
      const singles = Array.from({ length: count }, () => new CouponMarketEnv(scenario, horizonDays === undefined ? {} : { horizonDays }));
      const horizon = vector.horizon;
      expect(horizon).toBe(horizonDays ?? scenario.horizonDays);
      const first = vector.reset();
      const episodes = new Int32Array(count);
      const singleObservations = singles.map((single, market) => single.reset({ seed: episodeSeed(seed, market, 0) }).observation);
      for (let market = 0; market < count; market++) expect(Array.from(first.subarray(market * 6, market * 6 + 6))).toEqual(Array.from(singleObservations[market]!));
      const draw = createStream(11, 'test');
      const sums = singles.map(() => ({ claims: 0, redeemed: 0, units: 0, profit: 0 }));
      const days = Math.floor(horizon * 2.5);
      for (let day = 0; day < days; day++) {
        const actions = Int32Array.from({ length: count }, () => Math.floor(draw() * vector.actionSpace.n));
        vector.step(actions);
        for (let market = 0; market < count; market++) {
          const step = singles[market]!.step(actions[market]!);
          expect(vector.rewards[market]).toBe(step.reward);
          expect(vector.terminated[market]).toBe(0);
          expect(vector.truncated[market]).toBe(step.truncated ? 1 : 0);
          sums[market]!.claims += step.info.claims;
          sums[market]!.redeemed += step.info.redeemed;
          sums[market]!.units += step.info.units;
          sums[market]!.profit += step.reward;
          const row = (array: Float32Array) => Array.from(array.subarray(market * 6, market * 6 + 6));
          if (step.truncated) {
            expect(row(vector.finalObservations)).toEqual(Array.from(step.observation));
            const kpis = ended.filter((entry) => entry.market === market)[episodes[market]!]!.kpis;
            expect(kpis.days).toBe(horizon);
            expect(kpis.claims).toBe(sums[market]!.claims);
            expect(kpis.redeemed).toBe(sums[market]!.redeemed);
            expect(kpis.units).toBeCloseTo(sums[market]!.units, 6);
            expect(kpis.profit).toBeCloseTo(sums[market]!.profit, 6);
            sums[market] = { claims: 0, redeemed: 0, units: 0, profit: 0 };
            episodes[market]!++;
            expect(vector.episodesFinished[market]).toBe(episodes[market]);
            expect(row(vector.observations)).toEqual(Array.from(singles[market]!.reset({ seed: episodeSeed(seed, market, episodes[market]!) }).observation));
          } else expect(row(vector.observations)).toEqual(Array.from(step.observation));
        }
      }
      expect(Array.from(episodes)).toEqual([2, 2, 2]);
      expect(ended).toHaveLength(2 * count);
      // The markets see different customers: their rewards differ.
      expect(new Set(ended.map((entry) => entry.kpis.profit)).size).toBe(ended.length);
    });
  }

  it('refuses a step before reset, a wrong number of actions, an action off the menu and no markets', () => {
    const vector = new CouponVectorEnv(targeted, { count: 2 });
    expect(() => vector.step([0, 0])).toThrow(/reset/);
    vector.reset();
    expect(() => vector.step([0])).toThrow(/expected 2 actions/);
    expect(() => vector.step([0, vector.actionSpace.n])).toThrow(/market 1/);
    expect(() => new CouponVectorEnv(targeted, { count: 0 })).toThrow(/positive whole number/);
  });
});
