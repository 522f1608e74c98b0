import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CouponMarketEnv } from '../../env/coupons/coupon-market.js';
import { CouponKpiAccumulator } from '../../env/coupons/coupon-kpis.js';
import { couponPolicyFairness } from '../../experiments/fairness.js';
import { builtInScenarioFolder, loadScenario, validateScenario } from '../../scenarios/load.js';

const couponFile = (id: string) => join(builtInScenarioFolder, 'coupons', `${id}.json`);

describe('the coupon scenarios', () => {
  it.each(['festival-coupon-v1', 'targeted-coupon-v1'])('%s validates and runs in the coupon market: claims, redemptions, budget kept', (id) => {
    const loaded = loadScenario(couponFile(id));
    expect(loaded.scenario.id).toBe(id);
    expect(loaded.scenario.coupons?.campaigns.length).toBeGreaterThan(0);
    const env = new CouponMarketEnv(loaded.scenario);
    const kpis = new CouponKpiAccumulator(loaded.scenario.unitCost);
    env.reset({ seed: 1 });
    const listIndex = env.prices.indexOf(loaded.scenario.listPrice);
    for (let day = 0; day < 21; day++) {
      env.step(env.actionIndex({ priceIndex: Math.max(0, listIndex), campaign: day % env.model.campaignCount }));
      kpis.record(env.state, 0);
      expect(env.state.spent[0]! + env.state.reserved[0]!).toBeLessThanOrEqual(env.model.budget + 1e-6);
    }
    const summary = kpis.summary();
    expect(summary.claims).toBeGreaterThan(0);
    expect(summary.redeemed).toBeGreaterThan(0);
    expect(summary.redemptionRate).toBeLessThanOrEqual(1);
    expect(summary.incrementalUnitsPerCoupon).toBeGreaterThan(0);
    const fairness = couponPolicyFairness(env, () => env.actionIndex({ priceIndex: Math.max(0, listIndex), campaign: 0 }), { seeds: [1], days: 14 });
    expect(fairness.report.sensitive.map((share) => share.attribute)).toEqual(['incomeBand']);
  });

  it('refuses a coupons block that names an unknown segment, or sensitive attributes nobody declares, listing every problem', () => {
    const base = loadScenario(couponFile('targeted-coupon-v1')).scenario as unknown as Record<string, unknown>;
    const coupons = base.coupons as Record<string, unknown>;
    const customers = coupons.customers as Record<string, unknown>;
    const broken = { ...base, coupons: { ...coupons, customers: { students: customers.students, retirees: customers.professionals }, sensitiveAttributes: ['incomeBand', 'age'] } };
    expect(() => validateScenario(broken, 'broken.json')).toThrow(/coupons\.customers\.retirees: expected a demand segment \(students, professionals\), found "retirees"[\s\S]*coupons\.customers: expected an entry for demand segment "professionals"[\s\S]*coupons\.sensitiveAttributes\[1\]: expected an attribute some segment declares \(incomeBand\), found "age"/);
    const wrongKind = { ...base, coupons: { ...coupons, campaigns: [{ kind: 'bogof', name: 'x' }] } };
    expect(() => validateScenario(wrongKind, 'kind.json')).toThrow(/coupons\.campaigns\[0\]\.kind: expected a campaign with kind "threshold" or "percentage"/);
  });
});
