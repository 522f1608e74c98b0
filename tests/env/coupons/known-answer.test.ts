import { describe, expect, it } from 'vitest';
import { bestCouponDepth, dayProfitAtDepth } from '../../../env/coupons/depth-search.js';
import { optimalCouponDepth, redeemerOptimalPrice } from '../../../env/coupons/optimal-depth.js';
import { CANNIBALISED, ODDS_SIZE, orderOdds, purchaseProbability } from '../../../env/coupons/order-odds.js';
import { couponModelOf, couponScenario } from './fixtures.js';

const everyoneVisits = { new: 1, hesitant: 1, repeat: 1, lapsed: 1 };

function screeningMarket(options: { seekerSensitivity: number; regularSensitivity: number; listPrice: number; unitCost: number; quality: number; scale: number }) {
  return couponModelOf(
    couponScenario({
      deterministic: true,
      quality: options.quality,
      unitCost: options.unitCost,
      listPrice: options.listPrice,
      visitRate: everyoneVisits,
      segments: [
        { name: 'coupon-seekers', priceSensitivity: options.seekerSensitivity, scale: options.scale, population: 1000, claimRate: 1 },
        { name: 'regulars', priceSensitivity: options.regularSensitivity, scale: options.scale, population: 1000, claimRate: 0 },
      ],
      campaigns: [{ kind: 'threshold', name: 'amount off', spend: 0, save: 1, validityDays: 1 }],
    }),
  );
}

describe('the optimal coupon depth (closed form: docs/market-model.md, Coupons)', () => {
  const cases = [
    { seekerSensitivity: 1, regularSensitivity: 0.3, listPrice: 10, unitCost: 4, quality: 8, scale: 1 },
    { seekerSensitivity: 0.6, regularSensitivity: 0.2, listPrice: 14, unitCost: 5, quality: 6, scale: 0.7 },
    { seekerSensitivity: 2, regularSensitivity: 0.5, listPrice: 9, unitCost: 3, quality: 9, scale: 1.5 },
  ];
  it.each(cases)('the optimiser over the simulated day finds d* = p - c - (mu/b)(1 + W(e^((a - a0 - b c)/mu - 1))) for %o', (parameters) => {
    const model = screeningMarket(parameters);
    const closedForm = optimalCouponDepth({ listPrice: parameters.listPrice, unitCost: parameters.unitCost, quality: parameters.quality, outsideUtility: 0, priceSensitivity: parameters.seekerSensitivity, scale: parameters.scale });
    expect(closedForm).toBeGreaterThan(0);
    expect(closedForm).toBeLessThan(parameters.listPrice - parameters.unitCost);
    const found = bestCouponDepth(model, 0, parameters.listPrice);
    expect(found).toBeCloseTo(closedForm, 5);
    // The FOC of the redeemers' logit monopoly price holds at p - d*: m (b/mu) (1 - P) = 1.
    const paid = redeemerOptimalPrice({ listPrice: parameters.listPrice, unitCost: parameters.unitCost, quality: parameters.quality, outsideUtility: 0, priceSensitivity: parameters.seekerSensitivity, scale: parameters.scale });
    const share = purchaseProbability(model, 0, paid);
    expect((paid - parameters.unitCost) * (parameters.seekerSensitivity / parameters.scale) * (1 - share)).toBeCloseTo(1, 10);
    // And it is a maximum of the simulated profit.
    const best = dayProfitAtDepth(model, 0, parameters.listPrice, closedForm);
    for (const step of [-0.5, -0.05, 0.05, 0.5]) expect(dayProfitAtDepth(model, 0, parameters.listPrice, closedForm + step)).toBeLessThan(best);
  });

  it('a coupon nobody needs is cannibalised in the share P0 / P1', () => {
    const model = screeningMarket(cases[0]!);
    const odds = new Float64Array(ODDS_SIZE);
    orderOdds(model, 0, 0, 10, odds);
    expect(odds[CANNIBALISED]).toBeCloseTo(purchaseProbability(model, 0, 10) / purchaseProbability(model, 0, 9), 12);
  });
});
