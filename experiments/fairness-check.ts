/**
 * The fairness gate's measurement (`pricelab check-fairness`): a coupon policy played on a
 * coupon scenario (env/coupons/coupon-market.ts), its fairness report (experiments/fairness.ts)
 * and the customer features it was seen to target on, as one evidence document that
 * `pricelab policy promote --fairness-evidence` reads (serving/fairness-gate.ts).
 *
 * The scenario: a built-in coupon scenario id (scenarios/coupons/, e.g. targeted-coupon-v1) or a path.
 * Coupon policy specs: `none[@<price>]` (no coupon) and `coupon:<campaign>[@<price>]`, the
 * campaign by its index in the scenario's `coupons.campaigns` (from 0) or its name; the price
 * one of the ladder's (default: the ladder price nearest the list price), every day the same.
 * The evidence can be bound to a policy version (`candidate.policySha256`, its policy.json
 * sha256): the gate refuses evidence about another version.
 */
import { configError } from '../core/errors.js';
import { CouponMarketEnv } from '../env/coupons/coupon-market.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { builtInScenarioFolder, isBuiltInScenarioId, loadScenario } from '../scenarios/load.js';
import { couponPolicyFairness, type FairnessReport } from './fairness.js';

export const fairnessEvidenceFormat = 'pricelab.fairness-evidence/1' as const;
export const couponPolicySpecs = ['none[@<price>]', 'coupon:<campaign index or name>[@<price>]'] as const;

export interface FairnessEvidenceDocument {
  readonly format: typeof fairnessEvidenceFormat;
  readonly createdAt: string;
  readonly scenario: { readonly id: string; readonly contentHash: string };
  readonly candidate: { readonly spec: string; readonly name?: string; readonly policySha256?: string };
  readonly seeds: readonly number[];
  readonly days: number;
  readonly report: FairnessReport;
  readonly targetedFeatures: readonly string[];
  readonly campaignDays: Readonly<Record<string, number>>;
}

/** The daily action a coupon policy spec names on `env`. */
export function parseCouponPolicySpec(spec: string, env: CouponMarketEnv, listPrice: number): { priceIndex: number; campaign: number } {
  const refuse = (why: string) => configError(`cannot use coupon policy "${spec}": ${why}`, [{ path: ['policy'], message: `expected ${couponPolicySpecs.join(' or ')}, found "${spec}"` }]);
  const at = spec.lastIndexOf('@');
  const head = at >= 0 ? spec.slice(0, at) : spec;
  const priceText = at >= 0 ? spec.slice(at + 1) : undefined;
  let priceIndex = 0;
  if (priceText === undefined) {
    env.prices.forEach((price, index) => {
      if (Math.abs(price - listPrice) < Math.abs((env.prices[priceIndex] ?? 0) - listPrice)) priceIndex = index;
    });
  } else {
    const price = Number(priceText);
    const index = env.prices.findIndex((candidate) => Math.abs(candidate - price) < 1e-9);
    if (priceText === '' || !Number.isFinite(price) || index < 0) throw refuse(`the price must be one of the ladder's (${[...env.prices].join(', ')})`);
    priceIndex = index;
  }
  if (head === 'none') return { priceIndex, campaign: -1 };
  if (!head.startsWith('coupon:')) throw refuse('unknown kind');
  const named = head.slice('coupon:'.length);
  const names = env.model.campaignNames;
  const byIndex = /^\d+$/.test(named) ? Number(named) : -1;
  const campaign = byIndex >= 0 && byIndex < names.length ? byIndex : names.indexOf(named);
  if (campaign < 0) throw refuse(`no campaign "${named}" (the scenario's: ${names.map((name, index) => `${index} "${name}"`).join(', ')})`);
  return { priceIndex, campaign };
}

/** A built-in scenario id, a built-in coupon scenario id (scenarios/coupons/<id>.json) or a path. */
export function couponScenarioPath(idOrPath: string): string {
  const coupon = join(builtInScenarioFolder, 'coupons', `${idOrPath}.json`);
  return !isBuiltInScenarioId(idOrPath) && /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(idOrPath) && !idOrPath.endsWith('.json') && existsSync(coupon) ? coupon : idOrPath;
}

/** Plays the spec on the coupon scenario for `days` days on each seed and returns the evidence. */
export function checkFairnessOf(options: {
  scenario: string;
  policy: string;
  seeds: readonly number[];
  days?: number;
  minUnits?: number;
  candidate?: { readonly name: string; readonly policySha256: string };
  now?: Date;
}): FairnessEvidenceDocument {
  const loaded = loadScenario(couponScenarioPath(options.scenario));
  if (loaded.scenario.coupons === undefined) throw configError(`${options.scenario} has no coupons block`, [{ path: ['scenario'], message: 'expected a coupon scenario (e.g. festival-coupon-v1, targeted-coupon-v1)' }]);
  const env = new CouponMarketEnv(loaded.scenario);
  const action = env.actionIndex(parseCouponPolicySpec(options.policy, env, loaded.scenario.listPrice));
  const days = options.days ?? env.horizon;
  const measured = couponPolicyFairness(env, () => action, { seeds: options.seeds, days, ...(options.minUnits === undefined ? {} : { minUnits: options.minUnits }) });
  return {
    format: fairnessEvidenceFormat,
    createdAt: (options.now ?? new Date()).toISOString(),
    scenario: { id: loaded.scenario.id, contentHash: loaded.contentHash },
    candidate: { spec: options.policy, ...(options.candidate ? { name: options.candidate.name, policySha256: options.candidate.policySha256 } : {}) },
    seeds: [...options.seeds],
    days,
    report: measured.report,
    targetedFeatures: measured.targetedFeatures,
    campaignDays: measured.campaignDays,
  };
}
