/**
 * The fairness gate: a promotion gate that refuses a pricing or coupon policy when
 *
 *   - it declares a sensitive feature among the customer features it targets on
 *     (an income band, age, gender...: `sensitiveFeatures`);
 *   - it targets on a customer feature it did not declare (personalised prices are off by
 *     default: a policy that declares nothing may treat every customer alike only);
 *   - its fairness report (experiments/fairness.ts) shows an effective-price max/min ratio
 *     across (segment, stage) groups above `maxEffectivePriceRatio`, or a sensitive attribute
 *     explaining more than `maxSensitiveShare` of the effective price's variance (eta^2);
 *   - it declares targeting but brings no fairness report.
 *
 * In a promotion (serving/promotion-gates.ts, when the gates set `fairness`) the report is a
 * file `pricelab check-fairness --out` wrote (`checkFairnessEvidenceFile`): refused when it is
 * no fairness evidence, is about another version (its candidate.policySha256), or reports a
 * max/min ratio that does not follow from its own groups.
 *
 * The declaration lives in the policy's artifact (`targetingDeclarationOf`: policy.json's
 * `training.targeting`, {"features": ["stage"]}; absent: none). The gate is data like the
 * others of serving/promotion-gates.ts: it never throws on bad evidence, it names itself and
 * says why. `withFairnessGate` appends it to a decision of `checkPromotion`: after a refusal it
 * is reported as skipped, naming the gate that refused.
 *
 * Rules followed (docs/responsible-pricing.md): PIPL art. 24 and E-commerce Law
 * art. 18 (no unreasonable differential treatment in transaction prices by automated
 * decision; targeting must not rest on personal characteristics). An aid, not legal advice.
 */
import { z } from 'zod';
import { fairnessEvidenceFormat } from '../experiments/fairness-check.js';
import type { GateResult, PromotionDecision } from './promotion-gates.js';

export const fairnessGateName = 'fairness' as const;

/** Features no targeting may use, whatever a policy declares (compared case-insensitively). */
export const defaultSensitiveFeatures = ['incomeBand', 'income', 'gender', 'sex', 'age', 'ethnicity', 'race', 'religion', 'disability', 'health', 'nationality', 'maritalStatus', 'sexualOrientation', 'postcode', 'location'] as const;

export const fairnessBoundsSchema = z.strictObject({
  maxEffectivePriceRatio: z.number().min(1).default(1.25).describe('highest allowed ratio of the highest to the lowest effective price (after coupons) across (segment, stage) groups'),
  maxSensitiveShare: z.number().min(0).max(1).default(0.05).describe('highest allowed share of the effective price variance a sensitive attribute explains (eta^2)'),
  sensitiveFeatures: z.array(z.string().min(1)).default([...defaultSensitiveFeatures]).describe('features no policy may target on'),
});
export type FairnessBounds = z.output<typeof fairnessBoundsSchema>;

export const targetingDeclarationSchema = z.strictObject({
  features: z.array(z.string().min(1)).default([]).describe('the customer features the policy targets on (e.g. ["stage"]); empty: the same offer for every customer'),
});
export type TargetingDeclaration = z.output<typeof targetingDeclarationSchema>;

/** What the gate reads of a fairness report (experiments/fairness.ts `FairnessReport`). */
export interface FairnessEvidence {
  readonly source: string;
  readonly report: {
    readonly dispersion: { readonly maxMinRatio: number; readonly highest: string | null; readonly lowest: string | null };
    readonly sensitive: readonly { readonly attribute: string; readonly etaSquared: number }[];
  };
  /** The customer features the policy was seen to target on while the report was made. */
  readonly targetedFeatures: readonly string[];
}

/** The targeting a policy declares in its artifact: policy.json's training.targeting (absent: none); a malformed one is a list of problems. */
export function targetingDeclarationOf(manifest: { readonly training: Readonly<Record<string, unknown>> }): { declaration: TargetingDeclaration } | { problems: string[] } {
  const raw = Object.hasOwn(manifest.training, 'targeting') ? manifest.training.targeting : undefined;
  const parsed = targetingDeclarationSchema.safeParse(raw ?? {});
  if (parsed.success) return { declaration: parsed.data };
  return { problems: parsed.error.issues.map((issue) => `training.targeting${issue.path.length > 0 ? `.${issue.path.join('.')}` : ''}: ${issue.message}`) };
}

export function checkFairnessGate(input: { declaration: TargetingDeclaration; evidence: FairnessEvidence | undefined; bounds: FairnessBounds }): GateResult {
  const { declaration, evidence, bounds } = input;
  const problems: string[] = [];
  const sensitive = new Set(bounds.sensitiveFeatures.map((feature) => feature.toLowerCase()));
  const isSensitive = (feature: string) => sensitive.has(feature.toLowerCase());
  for (const feature of declaration.features) if (isSensitive(feature)) problems.push(`the policy declares the sensitive feature "${feature}" for targeting (never allowed)`);
  const declared = new Set(declaration.features);
  if (evidence) {
    for (const feature of evidence.targetedFeatures) {
      if (isSensitive(feature)) problems.push(`${evidence.source}: the policy targets on the sensitive feature "${feature}"`);
      else if (!declared.has(feature)) problems.push(`${evidence.source}: the policy targets on "${feature}", which it does not declare (declared: ${declaration.features.length > 0 ? declaration.features.join(', ') : 'none, so the same offer for everyone'})`);
    }
    const { maxMinRatio, highest, lowest } = evidence.report.dispersion;
    if (!(maxMinRatio <= bounds.maxEffectivePriceRatio)) problems.push(`${evidence.source}: effective prices differ by a ratio of ${maxMinRatio.toFixed(3)} (${highest ?? '?'} over ${lowest ?? '?'}), allowed ${bounds.maxEffectivePriceRatio}`);
    for (const share of evidence.report.sensitive) {
      if (!(share.etaSquared <= bounds.maxSensitiveShare)) problems.push(`${evidence.source}: ${share.attribute} explains ${(share.etaSquared * 100).toFixed(1)}% of the effective price's variance (eta^2 ${share.etaSquared.toFixed(3)}), allowed ${(bounds.maxSensitiveShare * 100).toFixed(1)}%`);
    }
  } else if (declaration.features.length > 0) {
    problems.push(`the policy targets on ${declaration.features.join(', ')} but no fairness report was given (make one with the policy on its scenario)`);
  }
  if (problems.length > 0) return { gate: fairnessGateName, status: 'failed', passed: false, detail: problems.join('; ') };
  const detail = evidence
    ? `targets on ${declaration.features.length > 0 ? declaration.features.join(', ') : 'nothing (one offer for all)'}; effective-price ratio ${evidence.report.dispersion.maxMinRatio.toFixed(3)} <= ${bounds.maxEffectivePriceRatio}${evidence.report.sensitive.map((share) => `; ${share.attribute} eta^2 ${share.etaSquared.toFixed(3)} <= ${bounds.maxSensitiveShare}`).join('')}`
    : 'declares no targeting (personalised prices off) and no fairness report was given';
  return { gate: fairnessGateName, status: 'passed', passed: true, detail };
}

/** `decision` with the fairness gate appended (skipped after a refusal); allowed only when every gate passed. */
export function withFairnessGate(decision: PromotionDecision, input: Parameters<typeof checkFairnessGate>[0]): PromotionDecision {
  if (!decision.allowed) {
    const refused = decision.failedGate ?? 'an earlier';
    return { ...decision, gates: [...decision.gates, { gate: fairnessGateName, status: 'skipped', passed: false, detail: `not checked: the ${refused} gate refused the promotion` }] };
  }
  const result = checkFairnessGate(input);
  return { allowed: result.passed, gates: [...decision.gates, result], failedGate: result.passed ? null : fairnessGateName };
}

const pricedGroup = z.object({ label: z.string(), units: z.number().min(0), effectivePrice: z.number().nullable() });
const evidenceFileSchema = z.object({
  format: z.literal(fairnessEvidenceFormat),
  scenario: z.object({ id: z.string().min(1) }),
  candidate: z.object({ spec: z.string(), policySha256: z.string().optional() }),
  report: z.object({
    byGroup: z.array(pricedGroup),
    dispersion: z.object({ minUnits: z.number().min(0), maxMinRatio: z.number(), highest: z.string().nullable(), lowest: z.string().nullable() }),
    sensitive: z.array(z.object({ attribute: z.string(), etaSquared: z.number().min(0).max(1) })),
  }),
  targetedFeatures: z.array(z.string()),
});

/**
 * The fairness gate on an evidence file (JSON as read, from `pricelab check-fairness --out`) for a
 * candidate version: the file must be fairness evidence about this version (its policy.json
 * sha256) whose max/min ratio follows from its groups; then `checkFairnessGate`.
 */
export function checkFairnessEvidenceFile(input: {
  file: { readonly source: string; readonly json: unknown } | undefined;
  declaration: ReturnType<typeof targetingDeclarationOf>;
  bounds: FairnessBounds;
  candidateSha256: string;
}): GateResult {
  const refuse = (detail: string): GateResult => ({ gate: fairnessGateName, status: 'failed', passed: false, detail });
  if ('problems' in input.declaration) return refuse(`the policy's targeting declaration is not valid: ${input.declaration.problems.join('; ')}`);
  const declaration = input.declaration.declaration;
  if (input.file === undefined) return checkFairnessGate({ declaration, evidence: undefined, bounds: input.bounds });
  const { source, json } = input.file;
  const parsed = evidenceFileSchema.safeParse(json);
  if (!parsed.success) return refuse(`${source}: not fairness evidence (${parsed.error.issues.slice(0, 3).map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ')}); write it with pricelab check-fairness --out`);
  const found = parsed.data;
  if (found.candidate.policySha256 !== input.candidateSha256) {
    return refuse(`${source} measured ${found.candidate.policySha256 === undefined ? `"${found.candidate.spec}" for no policy version (pass --for <this version> to check-fairness)` : `policy ${found.candidate.policySha256.slice(0, 12)}…`}, not this version (${input.candidateSha256.slice(0, 12)}…)`);
  }
  const counted = found.report.byGroup.flatMap((group) => (group.effectivePrice !== null && group.units >= found.report.dispersion.minUnits ? [group.effectivePrice] : []));
  const ratio = counted.length >= 2 && Math.min(...counted) > 0 ? Math.max(...counted) / Math.min(...counted) : 1;
  if (Math.abs(ratio - found.report.dispersion.maxMinRatio) > 1e-9 * Math.max(1, ratio)) return refuse(`${source}: reports an effective-price ratio of ${found.report.dispersion.maxMinRatio}, its groups give ${ratio}`);
  return checkFairnessGate({ declaration, evidence: { source, report: found.report, targetedFeatures: found.targetedFeatures }, bounds: input.bounds });
}
