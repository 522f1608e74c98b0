import { describe, expect, it } from 'vitest';
import { CouponMarketEnv } from '../../env/coupons/coupon-market.js';
import { couponPolicyFairness, fairnessReport, sensitiveShare, type PriceCell } from '../../experiments/fairness.js';
import { couponScenario } from '../env/coupons/fixtures.js';

const low = { incomeBand: 'low' };
const high = { incomeBand: 'high' };

describe('fairness metrics on hand-worked cases', () => {
  it('two segments at 8 and 10: mean 9, sd 1, max/min 1.25, the income band explains all of it', () => {
    const cells: PriceCell[] = [
      { segment: 'students', stage: 'new', attributes: low, units: 10, paid: 80 },
      { segment: 'professionals', stage: 'new', attributes: high, units: 10, paid: 100 },
    ];
    const report = fairnessReport(cells, { sensitiveAttributes: ['incomeBand'] });
    expect(report.meanEffectivePrice).toBe(9);
    expect(report.dispersion.standardDeviation).toBeCloseTo(1, 12);
    expect(report.dispersion.coefficientOfVariation).toBeCloseTo(1 / 9, 12);
    expect(report.dispersion.maxMinRatio).toBeCloseTo(1.25, 12);
    expect(report.dispersion.highest).toBe('professionals/new');
    expect(report.dispersion.lowest).toBe('students/new');
    expect(report.sensitive[0]?.etaSquared).toBeCloseTo(1, 12);
    expect(report.byStage.map((stage) => [stage.label, stage.effectivePrice])).toEqual([['new', 9], ['hesitant', null], ['repeat', null], ['lapsed', null]]);
  });

  it('half the low-income units on a coupon: eta^2 = SS_between / SS_total = 5 / 15', () => {
    // low: 5 units at 8 (coupon) and 5 at 10; high: 10 at 10. Mean 9.5.
    // SS_total = 5 (8 - 9.5)^2 + 15 (10 - 9.5)^2 = 11.25 + 3.75 = 15; level means 9 and 10: SS_between = 10 (0.5)^2 + 10 (0.5)^2 = 5.
    const cells: PriceCell[] = [
      { segment: 'students', stage: 'hesitant', attributes: low, units: 5, paid: 40 },
      { segment: 'students', stage: 'hesitant', attributes: low, units: 5, paid: 50 },
      { segment: 'professionals', stage: 'repeat', attributes: high, units: 10, paid: 100 },
    ];
    const share = sensitiveShare(cells, 'incomeBand');
    expect(share.etaSquared).toBeCloseTo(1 / 3, 12);
    expect(share.byLevel).toEqual([
      { label: 'low', units: 10, effectivePrice: 9 },
      { label: 'high', units: 10, effectivePrice: 10 },
    ]);
    const report = fairnessReport(cells);
    expect(report.meanEffectivePrice).toBe(9.5);
    expect(report.dispersion.maxMinRatio).toBeCloseTo(10 / 9, 12);
  });

  it('one price for all: eta^2 0, ratio 1; an attribute that is not there is one level', () => {
    const cells: PriceCell[] = [
      { segment: 'a', stage: 'new', attributes: low, units: 3, paid: 30 },
      { segment: 'b', stage: 'new', attributes: high, units: 7, paid: 70 },
    ];
    const report = fairnessReport(cells, { sensitiveAttributes: ['incomeBand', 'age'] });
    expect(report.sensitive.map((share) => share.etaSquared)).toEqual([0, 0]);
    expect(report.dispersion.maxMinRatio).toBeCloseTo(1, 12);
    expect(report.sensitive[1]?.byLevel).toEqual([{ label: '(none)', units: 10, effectivePrice: 10 }]);
  });

  it('minUnits leaves thin groups out of the dispersion', () => {
    const cells: PriceCell[] = [
      { segment: 'a', stage: 'new', attributes: {}, units: 100, paid: 1000 },
      { segment: 'b', stage: 'new', attributes: {}, units: 1, paid: 2 },
    ];
    expect(fairnessReport(cells, { minUnits: 1 }).dispersion.maxMinRatio).toBe(5);
    expect(fairnessReport(cells, { minUnits: 10 }).dispersion).toMatchObject({ groups: 1, maxMinRatio: 1, highest: null });
  });
});

describe('the fairness of a coupon policy in the coupon market', () => {
  const scenario = couponScenario({
    segments: [
      { name: 'students', priceSensitivity: 0.6, population: 3000, claimRate: 0.6, attributes: low },
      { name: 'professionals', priceSensitivity: 0.2, population: 3000, claimRate: 0.1, attributes: high },
    ],
    campaigns: [
      { kind: 'threshold', name: '3 off for everyone', spend: 0, save: 3 },
      { kind: 'threshold', name: '3 off to hesitant', spend: 0, save: 3, stages: ['hesitant'] },
    ],
    visitRate: { new: 0.2, hesitant: 0.2, repeat: 0.2, lapsed: 0.05 },
    sensitiveAttributes: ['incomeBand'],
  });

  it('no coupon: one price for all; a coupon claimed more by low incomes: the band explains part of the price; targeting by stage is reported', () => {
    const env = new CouponMarketEnv(scenario);
    const options = { seeds: [1, 2], days: 20 };
    const none = couponPolicyFairness(env, () => env.actionIndex({ priceIndex: 2, campaign: -1 }), options);
    expect(none.report.dispersion.maxMinRatio).toBeCloseTo(1, 9);
    expect(none.report.sensitive[0]?.etaSquared).toBe(0);
    expect(none.targetedFeatures).toEqual([]);
    const festival = couponPolicyFairness(env, () => env.actionIndex({ priceIndex: 2, campaign: 0 }), options);
    const levels = Object.fromEntries(festival.report.sensitive[0]!.byLevel.map((level) => [level.label, level.effectivePrice ?? 0]));
    expect(levels.low!).toBeLessThan(levels.high!);
    expect(festival.report.sensitive[0]!.etaSquared).toBeGreaterThan(0);
    expect(festival.targetedFeatures).toEqual([]);
    const targeted = couponPolicyFairness(env, () => env.actionIndex({ priceIndex: 2, campaign: 1 }), options);
    expect(targeted.targetedFeatures).toEqual(['stage']);
    expect(targeted.campaignDays).toEqual({ '3 off to hesitant': 40 });
  });
});
