import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RandomStream } from '../../../core/random.js';
import { CouponDay, couponStreamName } from '../../../env/coupons/coupon-day.js';
import { CouponKpiAccumulator } from '../../../env/coupons/coupon-kpis.js';
import { STAGE_COUNT } from '../../../env/coupons/coupon-model.js';
import { CouponState } from '../../../env/coupons/coupon-state.js';
import { couponModelOf, couponScenario } from './fixtures.js';

const share = fc.double({ min: 0, max: 1, noNaN: true });
const campaignArbitrary = fc.oneof(
  fc.record({
    kind: fc.constant('threshold'),
    name: fc.constant('threshold'),
    spend: fc.integer({ min: 0, max: 40 }),
    save: fc.integer({ min: 1, max: 8 }),
    stacking: fc.constantFrom('once', 'every'),
    validityDays: fc.integer({ min: 1, max: 6 }),
    stages: fc.subarray(['new', 'hesitant', 'repeat', 'lapsed'], { minLength: 1 }),
  }),
  fc.record({
    kind: fc.constant('percentage'),
    name: fc.constant('percentage'),
    percent: fc.integer({ min: 1, max: 60 }),
    cap: fc.integer({ min: 1, max: 10 }),
    validityDays: fc.integer({ min: 1, max: 6 }),
    stages: fc.subarray(['new', 'hesitant', 'repeat', 'lapsed'], { minLength: 1 }),
  }),
);
const marketArbitrary = fc.record({
  populations: fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 3 }),
  claimRate: share,
  basketUnits: fc.array(fc.double({ min: 0.01, max: 1, noNaN: true }), { minLength: 1, maxLength: 5 }),
  visitRate: fc.record({ new: share, hesitant: share, repeat: share, lapsed: share }),
  campaigns: fc.array(campaignArbitrary, { minLength: 1, maxLength: 3 }),
  budget: fc.option(fc.record({ amount: fc.integer({ min: 0, max: 2000 }), periodDays: fc.integer({ min: 1, max: 10 }) }), { nil: undefined }),
  seed: fc.integer({ min: 0, max: 1000 }),
  markets: fc.integer({ min: 1, max: 3 }),
  actions: fc.array(fc.record({ priceIndex: fc.integer({ min: 0, max: 4 }), campaign: fc.integer({ min: -1, max: 2 }) }), { minLength: 1, maxLength: 25 }),
});

describe('coupon stages: laws (fast-check)', () => {
  it('redemption never exceeds claims, cannibalised <= redeemed, the budget is never exceeded, stage counts are conserved', () => {
    fc.assert(
      fc.property(marketArbitrary, (input) => {
        const scenario = couponScenario({
          segments: input.populations.map((population, index) => ({ name: `s${index}`, priceSensitivity: 0.2 + 0.3 * index, population, claimRate: input.claimRate, basketUnits: input.basketUnits, initialStages: { new: 0.4, hesitant: 0.2, repeat: 0.3, lapsed: 0.1 } })),
          campaigns: input.campaigns,
          visitRate: input.visitRate,
          ...(input.budget ? { budget: input.budget } : {}),
        });
        const model = couponModelOf(scenario);
        const state = new CouponState(model, input.markets);
        const day = new CouponDay(state);
        const stream = new RandomStream(input.seed, couponStreamName);
        const kpis = Array.from({ length: input.markets }, () => new CouponKpiAccumulator(model.unitCost));
        const basePopulation = Float64Array.from(state.population);
        const claimedSoFar = new Float64Array(input.markets);
        const redeemedSoFar = new Float64Array(input.markets);
        const expiredSoFar = new Float64Array(input.markets);
        for (const action of input.actions) {
          const prices = Float64Array.from({ length: input.markets }, (_, market) => 6 + 2 * ((action.priceIndex + market) % 5));
          const campaigns = Int32Array.from({ length: input.markets }, (_, market) => (market === 0 ? Math.min(action.campaign, model.campaignCount - 1) : (action.campaign + market) % (model.campaignCount + 1) - 1));
          const periodStart = state.day % model.budgetPeriodDays === 0;
          const spentBefore = Float64Array.from(state.spent);
          day.advance(prices, campaigns, stream);
          for (let market = 0; market < input.markets; market++) {
            kpis[market]!.record(state, market);
            for (let segment = 0; segment < model.segmentCount; segment++) {
              const base = state.groupBase(market, segment);
              let before = 0;
              let after = 0;
              for (let stage = 0; stage < STAGE_COUNT; stage++) {
                const group = base + stage;
                before += basePopulation[group] ?? 0;
                after += state.population[group] ?? 0;
                expect(state.population[group]).toBeGreaterThanOrEqual(0);
                expect(Number.isInteger(state.population[group])).toBe(true);
                expect(state.redeemed[group]).toBeLessThanOrEqual(state.orders[group]!);
                expect(state.orders[group]).toBeLessThanOrEqual(state.visitors[group]!);
                expect(state.cannibalised[group]).toBeLessThanOrEqual(state.redeemed[group]!);
                expect(state.cannibalised[group]).toBeGreaterThanOrEqual(0);
                // Claims only in the stages today's campaign targets.
                const campaign = campaigns[market] ?? -1;
                if ((state.claims[group] ?? 0) > 0) expect(campaign >= 0 && ((model.stageMask[campaign] ?? 0) & (1 << stage)) !== 0).toBe(true);
                claimedSoFar[market]! += state.claims[group] ?? 0;
                redeemedSoFar[market]! += state.redeemed[group] ?? 0;
              }
              expect(after).toBe(before);
            }
            expiredSoFar[market]! += state.expired[market] ?? 0;
            // Coupons are conserved: claimed = redeemed + expired + still held.
            let held = 0;
            for (let segment = 0; segment < model.segmentCount; segment++) for (let campaign = 0; campaign < model.campaignCount; campaign++) held += state.held(market, segment, campaign);
            expect(redeemedSoFar[market]).toBeLessThanOrEqual(claimedSoFar[market]!);
            expect(Math.abs(claimedSoFar[market]! - redeemedSoFar[market]! - expiredSoFar[market]! - held)).toBeLessThan(1e-6);
            // The budget: this period's spending plus outstanding reservations never pass the amount.
            expect(state.spent[market]! + state.reserved[market]!).toBeLessThanOrEqual(model.budget + 1e-6);
            const periodSpending = periodStart ? state.spent[market]! : state.spent[market]! - spentBefore[market]!;
            expect(periodSpending).toBeGreaterThanOrEqual(-1e-9);
          }
        }
        for (const accumulator of kpis) {
          const summary = accumulator.summary();
          expect(summary.redemptionRate).toBeLessThanOrEqual(1);
          expect(summary.cannibalisationRate).toBeLessThanOrEqual(1);
          expect(summary.couponCost).toBeLessThanOrEqual(input.budget ? input.budget.amount * Math.ceil(input.actions.length / input.budget.periodDays) + 1e-6 : Number.POSITIVE_INFINITY);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('the same seed gives the same days; the coupon stream takes one uniform per group per day whatever the actions', () => {
    const scenario = couponScenario({
      segments: [{ name: 'a', priceSensitivity: 0.5, population: 2000, claimRate: 0.5 }, { name: 'b', priceSensitivity: 0.2, population: 1000, claimRate: 0.2 }],
      campaigns: [{ kind: 'percentage', name: 'ten', percent: 10, cap: 5 }],
    });
    const model = couponModelOf(scenario);
    const run = (campaign: number) => {
      const state = new CouponState(model, 1);
      const day = new CouponDay(state);
      const stream = new RandomStream(7, couponStreamName);
      for (let index = 0; index < 10; index++) day.advance(Float64Array.of(9), Int32Array.of(campaign), stream);
      return { population: Array.from(state.population), next: stream.next() };
    };
    expect(run(0)).toEqual(run(0));
    expect(run(0).next).toBe(run(-1).next);
  });

  it('a coupon budget of 0 stops every claim', () => {
    const scenario = couponScenario({ segments: [{ name: 'a', priceSensitivity: 0.5, population: 2000, claimRate: 1 }], campaigns: [{ kind: 'threshold', name: 'two off', spend: 0, save: 2 }], budget: { amount: 0, periodDays: 7 } });
    const state = new CouponState(couponModelOf(scenario), 1);
    const day = new CouponDay(state);
    const stream = new RandomStream(1, couponStreamName);
    for (let index = 0; index < 5; index++) day.advance(Float64Array.of(9), Int32Array.of(0), stream);
    expect(state.claims.reduce((sum, value) => sum + value, 0)).toBe(0);
  });
});
