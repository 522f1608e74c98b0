/**
 * Dashboard policies on a coupon scenario's session (ui/server/coupon-arm.ts): each answers with
 * an action of the coupon market (env/coupons/coupon-env.ts: priceIndex x (campaigns + 1) +
 * campaign + 1), not a ladder index.
 *
 *   a coupon rule      none[@price], coupon:<campaign>[@price] (experiments/fairness-check.ts):
 *                      the same price and campaign every day
 *   a price rule       fixed:22, index:1, list, ...: its price with no coupon (rules that read
 *                      the day kernel's features, and oracles, are refused with the reason)
 *   a trained policy   registry:/artifact: a coupon policy (its artifact carries the campaign
 *                      menu), on exactly the scenario it was trained on; a price-only policy is refused
 *
 * Each policy carries its own guardrails as a price policy does (policy-source.ts: a rule, the
 * price range of the ladder; a trained policy, its artifact's): the coupon arm bounds the price
 * part of each action with them (agents/coupon-guardrails.ts).
 */
import { PricelabError } from '../../core/errors.js';
import type { Agent } from '../../agents/agent.js';
import { parsePolicySpec } from '../../agents/policy-spec.js';
import type { CouponEnv } from '../../env/coupons/coupon-env.js';
import { couponRuleAgent, couponRuleConfig } from '../../experiments/compare/coupon-arms.js';
import { isCouponPolicySpec } from '../../experiments/fairness-check.js';
import { agentFor } from '../../experiments/setup.js';
import type { ServedPolicy } from '../../serving/served-policy.js';
import { servedDashboardPolicy, type DashboardPolicy } from './policy-source.js';

/** A rule (coupon rule or price rule) built on a coupon arm's env; `act` gives the coupon market's action. */
export async function couponRuleDashboardPolicy(spec: string, env: CouponEnv, seed: number): Promise<DashboardPolicy> {
  let kind: string;
  let agent: Agent;
  let config: unknown;
  if (isCouponPolicySpec(spec)) {
    config = couponRuleConfig(spec, env);
    kind = 'coupon-rule';
    agent = couponRuleAgent(config, env);
  } else {
    const parsed = parsePolicySpec(spec, { listPrice: env.listPrice, ladder: env.prices });
    kind = parsed.kind;
    config = parsed.config;
    agent = await agentFor(env, kind, config, seed);
  }
  return {
    spec,
    agentKind: kind,
    guardrails: { minPrice: Math.min(...env.prices), maxPrice: Math.max(...env.prices) },
    act: (observation) => agent.act(observation, { explore: false }),
    explain: (observation, chosen) => agent.explain?.(observation) ?? { kind: 'rule', description: `${kind} ${JSON.stringify(config)}`, chosen },
    dispose: () => agent.dispose(),
  };
}

/** A trained coupon policy as a coupon arm's policy: refused unless it chooses coupons, and (servedDashboardPolicy) unless trained on this very scenario. */
export function couponServedDashboardPolicy(spec: string, served: ServedPolicy, scenario: { readonly id: string; readonly contentHash: string }): DashboardPolicy {
  if (served.couponMenu === undefined) {
    throw new PricelabError('config', `cannot run ${spec} in the coupon market of ${scenario.id}`, [{ path: ['policies'], message: 'expected a coupon policy (trained on a coupon scenario: its artifact has a campaign menu), found a price-only policy' }]);
  }
  const policy = servedDashboardPolicy(spec, served, scenario);
  return { ...policy, act: (observation) => served.decide(observation).coupon?.action ?? Number.NaN };
}
