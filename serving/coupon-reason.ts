/**
 * A served coupon and why: when the policy is a coupon policy (its actions are a ladder price
 * and a coupon: env/coupons/coupon-menu.ts), the pricing response carries the coupon chosen
 * (campaign name, kind, depth, terms, stages) and the reason in words, from the policy's own
 * explanation:
 *
 *   action values     the chosen action's value, and the value of every other coupon choice at
 *                     the same price (Q-learning, DQN)
 *   arm statistics    the chosen arm's mean reward and pulls, and the other coupons' at that price
 *   rule              the rule's description
 *   fallback          the model failed or timed out: the fallback priced without a coupon
 *
 * and, when the guardrails moved the price, that they did (the coupon stands as chosen: the
 * guardrails bound the price, not the coupon). The decision log keeps the same object.
 */
import type { z } from 'zod';
import type { Explanation } from '../agents/agent.js';
import { couponChoiceOf, couponTerms, type CouponMenu } from '../env/coupons/coupon-menu.js';
import type { PolicyDecision } from './served-policy.js';
import type { servedCouponSchema } from './request-schemas.js';

export type ServedCoupon = z.output<typeof servedCouponSchema>;

const amount = (value: number): string => (Number.isFinite(value) ? String(Math.round(value * 100) / 100) : String(value));

/** The coupon of a model's decision, with its reason; `served` is the price after the guardrails. */
export function modelCoupon(menu: CouponMenu, ladder: readonly number[], decision: PolicyDecision, reasons: Explanation, served: number): ServedCoupon {
  const action = decision.coupon?.action ?? decision.ladderIndex;
  const choice = couponChoiceOf(menu, action);
  const price = ladder[choice.priceIndex] ?? decision.price;
  const width = menu.campaigns.length + 1;
  const first = choice.priceIndex * width;
  const label = (candidate: number) => {
    const coupon = couponChoiceOf(menu, candidate).coupon;
    return coupon ? `"${coupon.name}"` : 'no coupon';
  };
  const others = Array.from({ length: width }, (_, offset) => first + offset).filter((candidate) => candidate !== action);
  let why: string;
  if (reasons.kind === 'action-values') {
    const value = reasons.values[action] ?? Number.NaN;
    why = `${label(action)} at ${price} has the highest value, ${amount(value)}, of the policy's ${reasons.values.length} price and coupon actions; at ${price}, ${others.map((candidate) => `${label(candidate)} ${amount(reasons.values[candidate] ?? Number.NaN)}`).join(', ')}`;
  } else if (reasons.kind === 'arm-statistics') {
    const arm = (index: number) => reasons.arms.find((entry) => entry.index === index);
    const chosen = arm(action);
    why = `${label(action)} at ${price}: mean reward ${amount(chosen?.meanReward ?? Number.NaN)} over ${chosen?.pulls ?? 0} pulls; at ${price}, ${others.map((candidate) => `${label(candidate)} ${amount(arm(candidate)?.meanReward ?? Number.NaN)} (${arm(candidate)?.pulls ?? 0} pulls)`).join(', ')}`;
  } else why = `the rule ${reasons.description} chose ${label(action)} at ${price}`;
  if (Math.abs(served - price) > 1e-9) why += `; the guardrails moved the price from ${price} to ${served}, the coupon stands as chosen`;
  const coupon = choice.coupon;
  return {
    offered: coupon !== null,
    campaign: coupon ? { index: choice.campaign, name: coupon.name, kind: coupon.kind, depth: coupon.depth, terms: couponTerms(coupon), stages: [...coupon.stages], validityDays: coupon.validityDays } : null,
    action,
    decidedBy: 'model',
    reason: why,
  };
}

/** No coupon: a fallback priced the request (`why`: the model's failure). */
export function fallbackCoupon(fallback: string, why: string): ServedCoupon {
  return { offered: false, campaign: null, action: null, decidedBy: 'fallback', reason: `${why}; the fallback (${fallback}) priced without a coupon` };
}
