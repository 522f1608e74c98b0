/**
 * A known-answer coupon market for the learners' tests (Q-learning, DQN, serving): two prices
 * (9, 10; unit cost 4), coupon seekers (b = 1, claim every coupon offered) and regulars
 * (b = 0.3, never claim), 1,000 each, who visit on 20% of days whatever their stage (so the
 * market is stationary and a coupon acts on its one day of validity: the best policy is
 * myopic). The menu: no coupon, or 1, 2.8 or 5 off, for everyone; a second file variant
 * offers the 2.8 to new customers only (a targeted menu). The expected daily profit of every
 * action comes from the deterministic coupon day; price 10 with 2.8 off is clearly best
 * (1,634 a day against 1,461 for the next, 10 with 1 off): the closed-form depth is 2.79
 * (env/coupons/optimal-depth.ts).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateScenario } from '../../scenarios/load.js';
import type { Scenario } from '../../scenarios/schema.js';
import { CouponEnv } from '../../env/coupons/coupon-env.js';
import { knownAnswerCouponEconomics } from '../../experiments/bench-coupons.js';

export function couponChoiceMarket(options: { deterministic?: boolean; targeted?: boolean; horizonDays?: number } = {}): Record<string, unknown> {
  return {
    id: options.targeted ? 'coupon-choice-targeted-v1' : 'coupon-choice-known-answer-v1',
    version: 1,
    description: 'two prices, coupon seekers and regulars: which price and coupon pay best',
    card: { models: 'a stationary coupon market whose best action is known', purpose: 'learner tests' },
    horizonDays: options.horizonDays ?? 20,
    deterministic: options.deterministic ?? false,
    ...knownAnswerCouponEconomics,
    coupons: {
      customers: { 'coupon-seekers': { population: 1000, claimRate: 1, attributes: { incomeBand: 'low' } }, regulars: { population: 1000, claimRate: 0, attributes: { incomeBand: 'high' } } },
      visitRate: { new: 0.2, hesitant: 0.2, repeat: 0.2, lapsed: 0.2 },
      campaigns: [1, 2.8, 5].map((depth) => ({ kind: 'threshold', name: `${depth} off`, spend: 0, save: depth, validityDays: 1, ...(options.targeted && depth === 2.8 ? { stages: ['new'] } : {}) })),
      sensitiveAttributes: ['incomeBand'],
    },
  };
}

export const couponChoiceScenario = (options: Parameters<typeof couponChoiceMarket>[0] = {}): Scenario => validateScenario(couponChoiceMarket(options));

/** Writes the market as a scenario file in `folder`; returns its path. */
export function writeCouponChoiceMarket(folder: string, options: Parameters<typeof couponChoiceMarket>[0] = {}): string {
  const path = join(folder, `${options.targeted ? 'coupon-choice-targeted' : 'coupon-choice'}.json`);
  writeFileSync(path, `${JSON.stringify(couponChoiceMarket(options), null, 2)}\n`);
  return path;
}

/** The expected daily profit of every action (from the deterministic day; the market is stationary). */
export function expectedActionValues(): number[] {
  const env = new CouponEnv(couponChoiceScenario({ deterministic: true }));
  return Array.from({ length: env.actionSpace.n }, (_, action) => {
    env.reset({ seed: 0 });
    return env.step(action).reward;
  });
}
