/**
 * The coupon and its reason in words (serving/coupon-reason.ts), on a hand-made menu: action
 * values, arm statistics, a rule, a fallback, and guardrails that move the price.
 */
import { describe, expect, it } from 'vitest';
import type { CouponMenu } from '../../env/coupons/coupon-menu.js';
import { fallbackCoupon, modelCoupon } from '../../serving/coupon-reason.js';

const everyone = ['new', 'hesitant', 'repeat', 'lapsed'] as const;
const menu: CouponMenu = {
  layout: 'price-major',
  campaigns: [
    { name: '50 off every 300', kind: 'threshold', depth: 50, spend: 300, stacking: 'every', cap: null, validityDays: 3, stages: [...everyone] },
    { name: '15% for hesitant visitors', kind: 'percentage', depth: 15, spend: null, stacking: null, cap: 6, validityDays: 3, stages: ['hesitant'] },
  ],
};
const ladder = [99, 119];
// Action 4 = price index 1 (119), campaign 0; width 3.
const decision = { ladderIndex: 1, price: 119, coupon: { action: 4, campaign: 0, description: menu.campaigns[0]! } };

describe('modelCoupon', () => {
  it('words action values: the chosen value against the other coupons at the price', () => {
    const coupon = modelCoupon(menu, ladder, decision, { kind: 'action-values', values: [1, 2, 3, 10, 12.345, 11], chosen: 4 }, 119);
    expect(coupon).toEqual({
      offered: true,
      campaign: { index: 0, name: '50 off every 300', kind: 'threshold', depth: 50, terms: '50 off every 300', stages: [...everyone], validityDays: 3 },
      action: 4,
      decidedBy: 'model',
      reason: '"50 off every 300" at 119 has the highest value, 12.35, of the policy\'s 6 price and coupon actions; at 119, no coupon 10, "15% for hesitant visitors" 11',
    });
  });

  it('words arm statistics and a rule, and says when the guardrails moved the price', () => {
    const arms = [3, 4, 5].map((index) => ({ index, pulls: index * 10, meanReward: index + 0.5 }));
    expect(modelCoupon(menu, ladder, decision, { kind: 'arm-statistics', arms, chosen: 4 }, 99).reason).toBe(
      '"50 off every 300" at 119: mean reward 4.5 over 40 pulls; at 119, no coupon 3.5 (30 pulls), "15% for hesitant visitors" 5.5 (50 pulls); the guardrails moved the price from 119 to 99, the coupon stands as chosen',
    );
    const none = modelCoupon(menu, ladder, { ladderIndex: 0, price: 99, coupon: { action: 0, campaign: -1, description: null } }, { kind: 'rule', description: 'fixed-price {"price":99}', chosen: 0 }, 99);
    expect(none).toMatchObject({ offered: false, campaign: null, action: 0, reason: 'the rule fixed-price {"price":99} chose no coupon at 99' });
    const targeted = modelCoupon(menu, ladder, { ladderIndex: 0, price: 99, coupon: { action: 2, campaign: 1, description: menu.campaigns[1]! } }, { kind: 'rule', description: 'r', chosen: 2 }, 99);
    expect(targeted.campaign).toMatchObject({ name: '15% for hesitant visitors', kind: 'percentage', depth: 15, terms: '15% off, up to 6', stages: ['hesitant'] });
  });
});

describe('fallbackCoupon', () => {
  it('offers no coupon and says why', () => {
    expect(fallbackCoupon('hold', 'the model ran past its time budget (60.0 ms > 50 ms)')).toEqual({
      offered: false,
      campaign: null,
      action: null,
      decidedBy: 'fallback',
      reason: 'the model ran past its time budget (60.0 ms > 50 ms); the fallback (hold) priced without a coupon',
    });
  });
});
