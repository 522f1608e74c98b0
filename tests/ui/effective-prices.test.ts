/**
 * A dashboard arm's fairness figures (ui/server/effective-prices.ts): on a price-only market
 * they agree with the days the arm reports (units by segment at the day's price, what the
 * units chart draws); on a coupon scenario they are the coupon market stepped with the arm's
 * seed and played prices, with no coupon, by segment and stage.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CouponMarketEnv, type CouponStepInfo } from '../../env/coupons/coupon-market.js';
import { buildMarketModel } from '../../env/model.js';
import { cellsFromCouponSteps, fairnessReport } from '../../experiments/fairness.js';
import { loadScenario } from '../../scenarios/load.js';
import { Arm } from '../../ui/server/arm.js';
import { ruleDashboardPolicy } from '../../ui/server/policy-source.js';

async function armOn(scenario: string, spec: string, seed: number): Promise<Arm> {
  const arm = new Arm(buildMarketModel(loadScenario(scenario).scenario));
  const policy = await ruleDashboardPolicy(spec, arm.env, seed);
  arm.usePolicy(policy, policy.guardrails);
  arm.reset(seed);
  return arm;
}

describe("a dashboard arm's fairness figures", () => {
  it('on a price-only market: units by segment at the day\'s price, as the arm\'s days report them; a new episode starts afresh', async () => {
    const arm = await armOn('steady-state-v1', 'markdown', 3);
    expect(arm.currentFairness).toMatchObject({ market: 'posted prices', groupedBy: 'segment', units: 0, meanEffectivePrice: null, maxMinRatio: 1 });
    const units = new Map<string, number>();
    const paid = new Map<string, number>();
    const segments = arm.model.segments.map((segment) => segment.name);
    for (let day = 0; day < 60; day++) {
      const point = arm.step();
      point.soldBySegment.forEach((sold, index) => {
        const name = segments[index] ?? '';
        units.set(name, (units.get(name) ?? 0) + sold);
        paid.set(name, (paid.get(name) ?? 0) + sold * point.price);
      });
    }
    const figures = arm.currentFairness;
    expect(figures.byGroup.map((group) => group.label)).toEqual(segments);
    for (const group of figures.bySegment) {
      expect(group.units).toBeCloseTo(units.get(group.label) ?? Number.NaN, 9);
      expect(group.effectivePrice).toBeCloseTo((paid.get(group.label) ?? 0) / (units.get(group.label) ?? 1), 9);
    }
    const prices = figures.byGroup.map((group) => group.effectivePrice ?? Number.NaN);
    expect(figures.maxMinRatio).toBeCloseTo(Math.max(...prices) / Math.min(...prices), 12);
    expect(figures.maxMinRatio).toBeGreaterThan(1);
    expect(figures.byStage).toEqual([]);
    arm.reset(4);
    expect(arm.currentFairness.units).toBe(0);
    arm.dispose();
  });

  it('on a coupon scenario: the coupon market stepped with the same seed and prices, no coupon, by segment and stage', async () => {
    const file = join(import.meta.dirname, '..', '..', 'scenarios', 'coupons', 'targeted-coupon-v1.json');
    const seed = 5;
    const arm = await armOn(file, 'fixed:22', seed);
    for (let day = 0; day < 30; day++) arm.step();
    const env = new CouponMarketEnv(loadScenario(file).scenario);
    env.reset({ seed });
    const steps: CouponStepInfo[] = [];
    for (let day = 0; day < 30; day++) steps.push(env.step(env.actionIndex({ priceIndex: env.prices.indexOf(22), campaign: -1 })).info);
    const expected = fairnessReport(cellsFromCouponSteps(steps, { students: { incomeBand: 'low' }, professionals: { incomeBand: 'high' } }), { sensitiveAttributes: ['incomeBand'] });
    const figures = arm.currentFairness;
    expect(figures).toMatchObject({ market: 'coupon market', groupedBy: 'segment and stage', maxMinRatio: 1, highest: null, sensitive: [{ attribute: 'incomeBand', etaSquared: 0 }] });
    expect(figures.units).toBeGreaterThan(0);
    expect(figures.byGroup).toEqual(expected.byGroup.map((group) => ({ label: group.label, units: group.units, effectivePrice: group.effectivePrice })));
    expect(figures.byStage.map((stage) => stage.label)).toEqual(['new', 'hesitant', 'repeat', 'lapsed']);
    arm.dispose();
  });
});
