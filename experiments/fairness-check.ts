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
 *
 * A learned coupon policy (a policy artifact trained on a coupon scenario, whose action spec
 * has the campaign menu: experiments/coupon-train-run.ts) plays too (`checkLearnedPolicyFairness`):
 * restored on the scenario's coupon market, it chooses each day's price and coupon greedily
 * from the observation; the evidence is bound to that artifact's hash. The caller reads and
 * verifies the artifact (the CLI resolves registry:name@version: experiments never import
 * serving).
 */
import { configError } from '../core/errors.js';
import { CouponMarketEnv } from '../env/coupons/coupon-market.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { builtInScenarioFolder, isBuiltInScenarioId, loadScenario } from '../scenarios/load.js';
import { couponPolicyFairness, type FairnessReport } from './fairness.js';
import type { PolicyArtifact } from '../agents/artifact.js';
import { restoredAgentFor } from './setup.js';
import { couponPolicyFitProblems } from './coupon-policy.js';
import { CouponEnv } from '../env/coupons/coupon-env.js';

export const fairnessEvidenceFormat = 'pricelab.fairness-evidence/1' as const;
export const couponPolicySpecs = ['none[@<price>]', 'coupon:<campaign index or name>[@<price>]'] as const;

/** Is `policy` a coupon policy spec (none..., coupon:...) rather than a policy artifact? */
export const isCouponPolicySpec = (policy: string): boolean => policy === 'none' || policy.startsWith('none@') || policy.startsWith('coupon:');

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

/**
 * A learned coupon policy's fairness evidence: the artifact restored on the scenario's coupon
 * market (its features, prices and campaign menu must be the scenario's), playing greedily
 * for `days` days on each seed; bound to the artifact's content hash.
 */
export async function checkLearnedPolicyFairness(options: {
  scenario: string;
  /** How the evidence names the policy (its folder or registry:name@version). */
  label: string;
  artifact: PolicyArtifact & { readonly contentHash: string };
  seeds: readonly number[];
  days?: number;
  minUnits?: number;
  now?: Date;
}): Promise<FairnessEvidenceDocument> {
  const loaded = loadScenario(couponScenarioPath(options.scenario));
  if (loaded.scenario.coupons === undefined) throw configError(`${options.scenario} has no coupons block`, [{ path: ['scenario'], message: 'expected a coupon scenario (e.g. festival-coupon-v1, targeted-coupon-v1)' }]);
  const env = new CouponEnv(loaded.scenario);
  const manifest = options.artifact.manifest;
  const problems = couponPolicyFitProblems(env, manifest);
  if (problems.length > 0) throw configError(`${options.label} does not fit the coupon market of ${loaded.scenario.id}`, problems);
  const agent = await restoredAgentFor(env, { kind: manifest.agentKind, config: manifest.agentConfig, files: options.artifact.files }, manifest.seeds[0] ?? 0);
  try {
    const days = options.days ?? env.maxSteps;
    // The coupon market itself (env.market): days past the horizon are played as the spec policies' are.
    const measured = couponPolicyFairness(env.market, (observation) => agent.act(observation, { explore: false }), { seeds: options.seeds, days, ...(options.minUnits === undefined ? {} : { minUnits: options.minUnits }) });
    return {
      format: fairnessEvidenceFormat,
      createdAt: (options.now ?? new Date()).toISOString(),
      scenario: { id: loaded.scenario.id, contentHash: loaded.contentHash },
      candidate: { spec: options.label, name: manifest.name, policySha256: options.artifact.contentHash },
      seeds: [...options.seeds],
      days,
      report: measured.report,
      targetedFeatures: measured.targetedFeatures,
      campaignDays: measured.campaignDays,
    };
  } finally {
    agent.dispose();
  }
}
