/**
 * The arms of a comparison on a coupon scenario (a `coupons` block): every arm plays the coupon
 * market (env/coupons/coupon-env.ts), choosing each day a price and a coupon campaign.
 *
 *   a coupon rule, as `check-fairness` names it    none, none@22, coupon:0, coupon:"4 off a first order"@24
 *     (experiments/fairness-check.ts): the same price and campaign every day
 *   a price rule (fixed:22, index:1, list, ...)    its price every day, with no coupon
 *   an agent kind (q-learning, ucb1, dqn, ...)      trained per seed in the coupon market
 *   a coupon policy artifact (artifact folder or    its features, prices and campaign menu must be
 *     registry:name@version)                        the scenario's (experiments/coupon-policy.ts)
 *
 * A coupon rule is an arm of kind `coupon-rule` whose config names the action
 * (env/coupons/coupon-market.ts: priceIndex x (campaigns + 1) + campaign + 1); it is played by
 * a rule agent (agents/rule-agent.ts) and travels to a queue worker as any rule's config does.
 */
import { z } from 'zod';
import type { Agent } from '../../agents/agent.js';
import { ruleAgent } from '../../agents/rule-agent.js';
import { PricelabError, configError } from '../../core/errors.js';
import { CouponEnv } from '../../env/coupons/coupon-env.js';
import type { Scenario } from '../../scenarios/schema.js';
import { couponPolicySpecs, parseCouponPolicySpec } from '../fairness-check.js';

export const couponRuleKind = 'coupon-rule';

export const couponRuleConfigSchema = z.strictObject({
  action: z.number().int().min(0).describe("the coupon market's action played every day"),
  price: z.number().positive().describe('the price of that action'),
  campaign: z.number().int().min(-1).describe('the campaign of that action (-1: no coupon)'),
  campaignName: z.string().describe('the campaign\'s name, "no coupon" for -1'),
});

export type CouponRuleConfig = z.output<typeof couponRuleConfigSchema>;

/** The coupon market a coupon scenario's arms play (the scenario's horizon and ladder). */
export function couponEnvOf(scenario: Scenario): CouponEnv {
  return new CouponEnv(scenario);
}

/** The config of a coupon rule spec (`none[@price]`, `coupon:<campaign>[@price]`) on `env`. */
export function couponRuleConfig(spec: string, env: CouponEnv): CouponRuleConfig {
  let choice: { priceIndex: number; campaign: number };
  try {
    choice = parseCouponPolicySpec(spec, env.market, env.listPrice);
  } catch (error) {
    // The reason (which campaign or price is missing, and what the scenario offers) is in the message: keep it in the problem.
    if (!(error instanceof PricelabError) || error.kind !== 'config') throw error;
    throw configError(error.message, [{ path: ['policy'], message: `${error.message}; expected ${couponPolicySpecs.join(' or ')}` }]);
  }
  const action = env.market.actionIndex(choice);
  const campaignName = choice.campaign < 0 ? 'no coupon' : (env.model.campaignNames[choice.campaign] ?? `campaign ${choice.campaign}`);
  return { action, price: env.prices[choice.priceIndex] ?? 0, campaign: choice.campaign, campaignName };
}

/** The agent of a coupon rule arm: its action, every day. */
export function couponRuleAgent(config: unknown, env: { readonly actionSpace: { readonly n: number } }): Agent {
  const parsed = couponRuleConfigSchema.parse(config);
  if (parsed.action >= env.actionSpace.n) throw configError('the coupon rule does not fit this market', [{ path: ['config', 'action'], message: `expected an action below ${env.actionSpace.n}, found ${parsed.action}` }]);
  return ruleAgent(couponRuleKind, parsed, () => parsed.action);
}
