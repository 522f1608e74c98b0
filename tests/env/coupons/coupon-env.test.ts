/**
 * The coupon market behind the Env contract (env/coupons/coupon-env.ts): spaces, reward equal
 * to its terms, same seed same episode, truncation at the horizon and only there, stepping
 * after the end refused, the episode's KPIs with the coupon KPIs, and the action menu.
 */
import { describe, expect, it } from 'vitest';
import { CouponEnv } from '../../../env/coupons/coupon-env.js';
import { couponChoiceOf, couponTerms, targetedFeaturesOf } from '../../../env/coupons/coupon-menu.js';
import { rewardFromTerms } from '../../../env/env.js';
import { couponChoiceScenario } from '../../agents/coupon-choice-market.js';

function episode(env: CouponEnv, seed: number) {
  let { observation } = env.reset({ seed });
  const rewards: number[] = [];
  const observations = [observation];
  for (;;) {
    const step = env.step((rewards.length * 3) % env.actionSpace.n);
    expect(env.observationSpace.contains(step.observation)).toBe(true);
    expect(step.reward).toBeCloseTo(rewardFromTerms(step.info.terms, 'profit'), 6);
    expect(step.reward).toBeCloseTo(step.info.coupon.revenue - 4 * step.info.coupon.units, 6);
    rewards.push(step.reward);
    observation = step.observation;
    observations.push(observation);
    expect(step.terminated).toBe(false);
    if (step.truncated) return { rewards, observations, last: step };
  }
}

describe('CouponEnv', () => {
  it('keeps the Env contract', () => {
    const env = new CouponEnv(couponChoiceScenario());
    expect(env.actionSpace.n).toBe(2 * 4);
    expect(env.observationSpace.featureNames).toEqual(['stage:new', 'stage:hesitant', 'stage:repeat', 'stage:lapsed', 'budgetLeft', 'periodPhase']);
    expect(() => env.step(0)).toThrow(/reset/);
    const first = episode(env, 5);
    expect(first.rewards).toHaveLength(20);
    expect(() => env.step(0)).toThrow(/reset\(\) before step/);
    const again = episode(env, 5);
    expect(again.rewards).toEqual(first.rewards);
    expect(episode(env, 6).rewards).not.toEqual(first.rewards);
    const kpis = first.last.info.episode!;
    expect(kpis.days).toBe(20);
    expect(kpis.totalReward).toBeCloseTo(first.rewards.reduce((sum, value) => sum + value, 0), 6);
    expect(kpis.gmv - kpis.netRevenue).toBeCloseTo(kpis.couponCost, 6);
    expect(kpis.redeemed).toBeLessThanOrEqual(kpis.claims);
  });

  it('names each action by price and coupon', () => {
    const env = new CouponEnv(couponChoiceScenario());
    const seen = Array.from({ length: env.actionSpace.n }, (_, action) => {
      const choice = couponChoiceOf(env.menu, action);
      const market = env.market.actionOf(action);
      expect(choice.priceIndex).toBe(market.priceIndex);
      expect(choice.campaign).toBe(market.campaign);
      return `${env.prices[choice.priceIndex]}:${choice.coupon ? couponTerms(choice.coupon) : 'none'}`;
    });
    expect(seen).toEqual(['9:none', '9:1 off', '9:2.8 off', '9:5 off', '10:none', '10:1 off', '10:2.8 off', '10:5 off']);
    expect(targetedFeaturesOf(env.menu)).toEqual([]);
    expect(targetedFeaturesOf(new CouponEnv(couponChoiceScenario({ targeted: true })).menu)).toEqual(['stage']);
  });
});
