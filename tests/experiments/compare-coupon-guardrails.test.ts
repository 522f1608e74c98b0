/**
 * Guardrails in the coupon market (agents/coupon-guardrails.ts): `compare --guardrails` on a
 * coupon scenario bounds the price part of every coupon action, as serving bounds a coupon
 * policy's price, and keeps the chosen coupon. Known answers on the coupon-choice market
 * (tests/agents/coupon-choice-market.ts: prices 9 and 10, campaigns 1, 2.8 and 5 off):
 *
 *   coupon:1@10 under maxPrice 9.5   plays 9 with 2.8 off: its KPIs equal a coupon market
 *                                    stepped by hand at 9 with campaign 1, every day moved
 *   coupon:1@10 under maxPrice 10    nothing moves: the KPIs of 10 with 2.8 off, as without guardrails
 *   maxChange on day 1               skipped (no price yet), as a serving request without lastPrice
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CouponGuard, guardCouponAction } from '../../agents/coupon-guardrails.js';
import { CouponEnv } from '../../env/coupons/coupon-env.js';
import { CouponMarketEnv } from '../../env/coupons/coupon-market.js';
import { CouponKpiAccumulator } from '../../env/coupons/coupon-kpis.js';
import { compare, evaluationSeedOf, type ComparisonOutcome } from '../../experiments/compare.js';
import { couponChoiceScenario, writeCouponChoiceMarket } from '../agents/coupon-choice-market.js';

const scratch = mkdtempSync(join(tmpdir(), 'pricelab-coupon-guardrails-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const scenarioFile = writeCouponChoiceMarket(scratch);

/** Each seed's evaluation episode of a CouponMarketEnv stepped by hand at (price, campaign) every day. */
function byHand(price: number, campaign: number, seeds: readonly number[]) {
  const env = new CouponMarketEnv(couponChoiceScenario());
  const kpis = new CouponKpiAccumulator(env.model.unitCost);
  return seeds.map((seed) => {
    env.reset({ seed: evaluationSeedOf(seed, 0) });
    kpis.reset();
    for (let day = 0; day < env.horizon; day++) {
      env.step(env.actionIndex({ priceIndex: env.prices.indexOf(price), campaign }));
      kpis.record(env.state, 0);
    }
    return kpis.summary();
  });
}

const seedKpis = (outcome: ComparisonOutcome, arm: string) => outcome.summary.perSeed.filter((row) => row.arm === arm).sort((a, b) => a.seed - b.seed).map((row) => row.kpis);

function expectKpisOf(outcome: ComparisonOutcome, arm: string, price: number, campaign: number): void {
  const expected = byHand(price, campaign, outcome.summary.seeds);
  const found = seedKpis(outcome, arm);
  expect(found).toHaveLength(expected.length);
  found.forEach((kpis, index) => {
    const hand = expected[index]!;
    expect(kpis.profit).toBeCloseTo(hand.profit, 6);
    expect(kpis.netRevenue).toBeCloseTo(hand.revenue, 6);
    expect(kpis.units).toBeCloseTo(hand.units, 6);
    expect(kpis.couponCost).toBeCloseTo(hand.couponCost, 6);
    expect(kpis.redemptionRate).toBeCloseTo(hand.redemptionRate, 9);
    expect(kpis.incrementalUnitsPerCoupon).toBeCloseTo(hand.incrementalUnitsPerCoupon, 9);
  });
}

let bounded: ComparisonOutcome;
let loose: ComparisonOutcome;
beforeAll(async () => {
  const arms = ['none=none@10', 'deep=coupon:1@10'];
  bounded = await compare({ scenario: scenarioFile, arms, seeds: 3, evaluationEpisodes: 1, trainingSteps: 1, bootstrapResamples: 200, guardrails: { maxPrice: 9.5 } });
  loose = await compare({ scenario: scenarioFile, arms, seeds: 3, evaluationEpisodes: 1, trainingSteps: 1, bootstrapResamples: 200, guardrails: { maxPrice: 10 } });
}, 120_000);

describe('compare --guardrails on a coupon scenario', () => {
  it('bounds the price and keeps the coupon: the KPIs of a coupon market stepped by hand at the bounded price with the chosen coupon', () => {
    expectKpisOf(bounded, 'deep', 9, 1);
    expectKpisOf(bounded, 'none', 9, -1);
    const days = couponChoiceScenario().horizonDays * bounded.summary.seeds.length;
    const deep = bounded.summary.guardrails.byArm.find((entry) => entry.arm === 'deep');
    expect(deep).toMatchObject({ decisions: days, adjustments: days, violations: 0 });
    expect(bounded.summary.guardrails.rules).toEqual({ maxPrice: 9.5 });
    // The coupon stands as chosen: every day of the deep arm offered campaign 1.
    const campaign = new CouponEnv(couponChoiceScenario()).model.campaignNames[1]!;
    expect(bounded.summary.coupons?.byArm.find((entry) => entry.arm === 'deep')?.campaignDays).toEqual({ [campaign]: days });
  });

  it('changes nothing when no bound binds: the KPIs of the chosen price and coupon, no adjustment', () => {
    expectKpisOf(loose, 'deep', 10, 1);
    expectKpisOf(loose, 'none', 10, -1);
    for (const entry of loose.summary.guardrails.byArm) expect(entry).toMatchObject({ adjustments: 0, violations: 0 });
  });
});

describe('guardCouponAction and CouponGuard', () => {
  const env = new CouponEnv(couponChoiceScenario());
  const at = (price: number, campaign: number) => env.market.actionIndex({ priceIndex: env.prices.indexOf(price), campaign });

  it('moves the price part to the bounded ladder price and keeps the campaign', () => {
    const result = guardCouponAction(at(10, 2), env.menu, env.prices, { maxPrice: 9.5 }, { unitCost: env.model.unitCost });
    expect(result).toMatchObject({ action: at(9, 2), proposed: at(10, 2), campaign: 2 });
    expect(result.guarded.effects.find((effect) => effect.rule === 'min-max')?.status).toBe('adjusted');
  });

  it('leaves every action as it is without guardrails', () => {
    for (let action = 0; action < env.actionSpace.n; action++) expect(guardCouponAction(action, env.menu, env.prices, {}, { unitCost: env.model.unitCost }).action).toBe(action);
  });

  it("takes yesterday's played price as the last price, none after a reset", () => {
    const guard = new CouponGuard({ maxChange: 0.05 }, env.menu, env.prices, env.model.unitCost);
    guard.reset();
    // Day 1: no last price, so max-change is skipped and 9 stands; day 2: 10 is 11% above 9, so it is held at 9.
    expect(guard.guard(at(9, 0)).action).toBe(at(9, 0));
    const second = guard.guard(at(10, 0));
    expect(second.action).toBe(at(9, 0));
    expect(second.guarded.effects.find((effect) => effect.rule === 'max-change')?.status).toBe('adjusted');
    guard.reset();
    expect(guard.guard(at(10, 0)).action).toBe(at(10, 0));
    expect(guard.tally).toMatchObject({ decisions: 3, adjustments: 1 });
  });
});
