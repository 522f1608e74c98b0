import { describe, expect, it } from 'vitest';
import { CouponMarketEnv } from '../../../env/coupons/coupon-market.js';
import { couponScenario } from './fixtures.js';

const scenario = couponScenario({
  segments: [
    { name: 'students', priceSensitivity: 0.6, population: 3000, claimRate: 0.5, basketUnits: [0.6, 0.3, 0.1], attributes: { incomeBand: 'low' } },
    { name: 'professionals', priceSensitivity: 0.2, population: 2000, claimRate: 0.2, basketUnits: [0.5, 0.5], attributes: { incomeBand: 'high' } },
  ],
  campaigns: [
    { kind: 'threshold', name: '5 off 20', spend: 20, save: 5, validityDays: 3 },
    { kind: 'percentage', name: '10% to hesitant', percent: 10, cap: 3, stages: ['hesitant'] },
  ],
  budget: { amount: 500, periodDays: 7 },
  sensitiveAttributes: ['incomeBand'],
});

describe('the coupon market (Gymnasium-style env)', () => {
  it('has a price x coupon action space, a stage-share observation in its box, and truncates at the horizon', () => {
    const env = new CouponMarketEnv(scenario, { horizonDays: 5 });
    expect(env.actionSpace.n).toBe(3 * 3);
    expect(env.actionOf(env.actionIndex({ priceIndex: 2, campaign: 1 }))).toEqual({ priceIndex: 2, campaign: 1 });
    const { observation } = env.reset({ seed: 3 });
    expect(env.observationSpace.contains(observation)).toBe(true);
    expect(observation[0]).toBe(1); // every customer starts new
    const truncated: boolean[] = [];
    for (let day = 0; day < 5; day++) {
      const step = env.step(env.actionIndex({ priceIndex: day % 3, campaign: (day % 3) - 1 }));
      expect(env.observationSpace.contains(step.observation)).toBe(true);
      expect(step.reward).toBeCloseTo(step.info.revenue - 4 * step.info.units, 9);
      expect(step.info.groups.reduce((sum, group) => sum + group.paid, 0)).toBeCloseTo(step.info.revenue, 9);
      expect(step.info.budgetSpent).toBeLessThanOrEqual(500);
      truncated.push(step.truncated);
    }
    expect(truncated).toEqual([false, false, false, false, true]);
    expect(() => env.step(99)).toThrow(/expected an action in 0\.\.8/);
  });

  it('replays the same episode from the same seed, and a coupon moves customers out of "new" faster', () => {
    const run = (campaign: number, seed: number) => {
      const env = new CouponMarketEnv(scenario);
      env.reset({ seed });
      const rewards: number[] = [];
      let observation: Float32Array = new Float32Array();
      for (let day = 0; day < 30; day++) {
        const step = env.step(env.actionIndex({ priceIndex: 2, campaign }));
        rewards.push(step.reward);
        observation = step.observation;
      }
      return { rewards, observation: Array.from(observation) };
    };
    expect(run(0, 11)).toEqual(run(0, 11));
    expect(run(0, 11).rewards).not.toEqual(run(0, 12).rewards);
    // Repeat share after 30 days: higher with a coupon than without, on the same customers.
    expect(run(0, 11).observation[2]!).toBeGreaterThan(run(-1, 11).observation[2]!);
  });
});
