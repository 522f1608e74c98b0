/**
 * Guardrails on a coupon arm of the dashboard (ui/server/coupon-arm.ts): they bound the price
 * part of each action as serving does (agents/coupon-guardrails.ts) and the coupon stands as
 * chosen. Known answers on the coupon-choice market (tests/agents/coupon-choice-market.ts:
 * prices 9 and 10): coupon:1@10 under maxPrice 9.5 plays 9 with campaign 1 every day, and its
 * KPIs equal a coupon market stepped by hand at 9 with campaign 1 on the same seed; without
 * guardrails it plays 10, the KPIs of the market stepped at 10.
 */
import { describe, expect, it } from 'vitest';
import type { Guardrails } from '../../agents/guardrails.js';
import { CouponMarketEnv } from '../../env/coupons/coupon-market.js';
import { CouponKpiAccumulator } from '../../env/coupons/coupon-kpis.js';
import { buildMarketModel } from '../../env/model.js';
import { CouponArm } from '../../ui/server/coupon-arm.js';
import { couponRuleDashboardPolicy } from '../../ui/server/coupon-policy-source.js';
import { guardrailsOf } from '../../ui/server/session.js';
import { couponChoiceScenario } from '../agents/coupon-choice-market.js';

const seed = 3;

async function playedEpisode(spec: string, guardrails?: Guardrails): Promise<{ arm: CouponArm; points: ReturnType<CouponArm['step']>[] }> {
  const arm = new CouponArm(buildMarketModel(couponChoiceScenario()));
  const policy = await couponRuleDashboardPolicy(spec, arm.env, 1);
  if (guardrails === undefined) arm.usePolicy(policy);
  else arm.usePolicy(policy, guardrails);
  arm.reset(seed);
  const points = [];
  while (!arm.ended) points.push(arm.step());
  return { arm, points };
}

function byHand(price: number, campaign: number) {
  const env = new CouponMarketEnv(couponChoiceScenario());
  const kpis = new CouponKpiAccumulator(env.model.unitCost);
  env.reset({ seed });
  for (let day = 0; day < env.horizon; day++) {
    env.step(env.actionIndex({ priceIndex: env.prices.indexOf(price), campaign }));
    kpis.record(env.state, 0);
  }
  return kpis.summary();
}

function expectKpis(arm: CouponArm, price: number, campaign: number): void {
  const hand = byHand(price, campaign);
  const kpis = arm.currentKpis;
  expect(kpis.profit).toBeCloseTo(hand.profit, 6);
  expect(kpis.revenue).toBeCloseTo(hand.revenue, 6);
  expect(kpis.sold).toBeCloseTo(hand.units, 6);
  expect(kpis.couponCost).toBeCloseTo(hand.couponCost, 6);
  expect(kpis.redemptionRate).toBeCloseTo(hand.redemptionRate, 9);
  expect(kpis.incrementalUnitsPerCoupon).toBeCloseTo(hand.incrementalUnitsPerCoupon, 9);
}

describe('guardrails on a coupon arm', () => {
  it('bound the price and keep the coupon: the KPIs of the market stepped by hand at the bounded price', async () => {
    const { arm, points } = await playedEpisode('coupon:1@10', { maxPrice: 9.5 });
    const campaign = arm.env.model.campaignNames[1];
    expect(points.length).toBe(couponChoiceScenario().horizonDays);
    for (const point of points) expect(point).toMatchObject({ price: 9, proposedPrice: 10, coupon: campaign });
    expectKpis(arm, 9, 1);
    expect(arm.currentKpis.guardrailAdjustments).toBe(points.length);
    const why = arm.explain(2);
    expect(why).toMatchObject({ proposedPrice: 10, price: 9, guardrails: { rules: { maxPrice: 9.5 }, violations: [] } });
    expect(why?.guardrails.effects.find((effect) => effect.rule === 'min-max')).toMatchObject({ status: 'adjusted', before: 10 });
    arm.dispose();
  });

  it('change nothing without guardrails, or with the rule policy\'s own (the ladder\'s range)', async () => {
    const bare = await playedEpisode('coupon:1@10');
    for (const point of bare.points) expect(point).toMatchObject({ price: 10, proposedPrice: 10 });
    expectKpis(bare.arm, 10, 1);
    expect(bare.arm.currentKpis.guardrailAdjustments).toBe(0);
    bare.arm.dispose();
    const env = new CouponArm(buildMarketModel(couponChoiceScenario())).env;
    const own = (await couponRuleDashboardPolicy('coupon:1@10', env, 1)).guardrails;
    expect(own).toEqual({ minPrice: 9, maxPrice: 10 });
    const ruled = await playedEpisode('coupon:1@10', guardrailsOf('policy', own, 0));
    expectKpis(ruled.arm, 10, 1);
    expect(ruled.arm.currentKpis.guardrailAdjustments).toBe(0);
    ruled.arm.dispose();
  });
});
