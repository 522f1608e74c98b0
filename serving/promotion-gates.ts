/**
 * Promotion gates: what a policy version must show before it becomes `production`.
 * Each gate is checked on the evidence (comparison summaries from `pricelab compare
 * --json`, schema in docs/compare.md) and named in the answer, passed or not, so a refusal
 * says which gate failed and why:
 *
 *   evidence-valid      every evidence file is a comparison summary of a known schema version
 *   identity            the evidence compares this exact version (policy.json sha256) against
 *                       the current production version (by hash), or against the declared
 *                       baseline when nothing is in production yet
 *   scenario-suite      the evidence covers every scenario of the declared suite, each at the
 *                       content hash the policy was trained on or the installed one
 *   primary-kpi         on every scenario, the primary KPI is 'better' at the configured alpha
 *                       after Holm's correction (as the comparison computed it)
 *   guardrail-kpis      return rate, stockout days, price changes, customers lost are
 *                       non-inferior: the upper end of the paired 95% interval of (candidate -
 *                       baseline) stays within the margin (a share of the baseline's mean)
 *   guardrail-violations the evaluation served no price that broke a guardrail
 *   fresh-evidence      the evidence is not older than the policy (its policy.json createdAt)
 *
 * Gates are data checked in order; the function never throws on bad evidence: a bad file
 * is a failed gate with the problem named.
 */
import { z } from 'zod';
import { comparisonSummarySchema, type ComparisonSummary, type PairedComparison } from '../experiments/compare/summary-schema.js';

export const gateNames = ['evidence-valid', 'identity', 'scenario-suite', 'primary-kpi', 'guardrail-kpis', 'guardrail-violations', 'fresh-evidence'] as const;
export type GateName = (typeof gateNames)[number];

export const promotionPolicySchema = z.strictObject({
  primaryKpi: z.string().default('totalReward'),
  alpha: z.number().gt(0).lt(1).default(0.05),
  /** Scenario ids the evidence must cover (default: the scenario the policy was trained on). */
  scenarios: z.array(z.string()).min(1).optional(),
  /** The arm spec to beat when nothing is in production yet (a rule spec such as "fixed:17.99"). */
  baseline: z.string().optional(),
  /** Non-inferiority margins, as shares of the baseline's mean (0.05: at most 5% worse). */
  guardrailMargins: z.record(z.string(), z.number().min(0)).default({ returnRate: 0.05, stockoutDays: 0.1, priceChanges: 0.25, customersLost: 0.1 }),
});
export type PromotionPolicy = z.output<typeof promotionPolicySchema>;

export interface CandidateVersion {
  readonly name: string;
  readonly version: number;
  readonly contentHash: string;
  /** policy.json's createdAt: evidence older than this cannot be about this policy. */
  readonly createdAt: string;
  readonly scenario: { readonly id: string; readonly contentHash: string };
}

export interface GateResult {
  readonly gate: GateName;
  readonly passed: boolean;
  readonly detail: string;
}

export interface PromotionDecision {
  readonly allowed: boolean;
  readonly gates: readonly GateResult[];
  /** The first gate that failed, for the one-line refusal. */
  readonly failedGate: GateName | null;
}

interface EvidenceFile {
  readonly source: string;
  readonly json: unknown;
}

interface Located {
  readonly source: string;
  readonly summary: ComparisonSummary;
  readonly candidateArm: string;
  readonly baselineArm: string;
}

export function checkPromotion(options: {
  candidate: CandidateVersion;
  production: { readonly version: number; readonly contentHash: string } | undefined;
  evidence: readonly EvidenceFile[];
  policy: PromotionPolicy;
  installedScenarioHashes?: Readonly<Record<string, string>>;
}): PromotionDecision {
  const { candidate, production, policy } = options;
  const gates: GateResult[] = [];
  const gate = (name: GateName, passed: boolean, detail: string) => gates.push({ gate: name, passed, detail });

  // 1. Every file is a comparison summary.
  const summaries: { source: string; summary: ComparisonSummary }[] = [];
  const invalid: string[] = [];
  if (options.evidence.length === 0) invalid.push('no evidence given (expected --evidence <compare.json>)');
  for (const file of options.evidence) {
    const parsed = comparisonSummarySchema.safeParse(file.json);
    if (parsed.success) summaries.push({ source: file.source, summary: parsed.data });
    else invalid.push(`${file.source}: ${parsed.error.issues.slice(0, 3).map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ')}`);
  }
  gate('evidence-valid', invalid.length === 0, invalid.length === 0 ? `${summaries.length} comparison summar${summaries.length === 1 ? 'y' : 'ies'}` : invalid.join('; '));

  // 2. Identity: the candidate by content hash, against production (by hash) or the declared baseline.
  const located: Located[] = [];
  const identityProblems: string[] = [];
  for (const { source, summary } of summaries) {
    const candidateArm = summary.arms.find((arm) => arm.artifact?.policySha256 === candidate.contentHash);
    if (!candidateArm) {
      identityProblems.push(`${source} has no arm with this version's content hash ${candidate.contentHash.slice(0, 12)}…`);
      continue;
    }
    const baseline = summary.arms.find((arm) => arm.name === summary.baseline);
    const expected = production ? `production v${production.version} (${production.contentHash.slice(0, 12)}…)` : policy.baseline !== undefined ? `the declared baseline ${policy.baseline}` : 'a baseline (nothing is in production and no baseline is declared)';
    const baselineMatches = production ? baseline?.artifact?.policySha256 === production.contentHash : policy.baseline !== undefined && baseline?.spec === policy.baseline;
    if (!baselineMatches) {
      identityProblems.push(`${source} compares against ${baseline ? `${baseline.name} (${baseline.spec})` : 'no baseline'}, expected ${expected}`);
      continue;
    }
    located.push({ source, summary, candidateArm: candidateArm.name, baselineArm: summary.baseline });
  }
  gate('identity', summaries.length > 0 && identityProblems.length === 0, identityProblems.length === 0 ? `v${candidate.version} against ${production ? `production v${production.version}` : policy.baseline ?? '?'}` : identityProblems.join('; '));

  // 3. The declared scenario suite, each at a known content hash.
  const suite = policy.scenarios ?? [candidate.scenario.id];
  const missing: string[] = [];
  for (const id of suite) {
    const acceptable = new Set([options.installedScenarioHashes?.[id], id === candidate.scenario.id ? candidate.scenario.contentHash : undefined].filter((hash): hash is string => hash !== undefined));
    const found = located.find((entry) => entry.summary.scenario.id === id && (acceptable.size === 0 || acceptable.has(entry.summary.scenario.contentHash)));
    if (!found) missing.push(located.some((entry) => entry.summary.scenario.id === id) ? `${id} (evidence at another version of the scenario)` : id);
  }
  gate('scenario-suite', located.length > 0 && missing.length === 0, missing.length === 0 ? `covers ${suite.join(', ')}` : `no valid evidence for ${missing.join(', ')}`);

  // 4. The primary KPI, better after correction, on every scenario.
  const primaryProblems: string[] = [];
  for (const entry of located) {
    const comparison = comparisonOf(entry, policy.primaryKpi);
    if (!comparison) primaryProblems.push(`${entry.summary.scenario.id}: no comparison of ${policy.primaryKpi}`);
    else if (comparison.verdict !== 'better' || comparison.adjustedPValue >= policy.alpha) {
      primaryProblems.push(`${entry.summary.scenario.id}: ${policy.primaryKpi} ${comparison.verdict} (difference ${comparison.estimate.toFixed(2)}, Holm-adjusted p ${comparison.adjustedPValue.toPrecision(3)}, alpha ${policy.alpha})`);
    }
  }
  gate('primary-kpi', located.length > 0 && primaryProblems.length === 0, primaryProblems.length === 0 ? `${policy.primaryKpi} better on ${located.map((entry) => entry.summary.scenario.id).join(', ')}` : primaryProblems.join('; '));

  // 5. Guardrail KPIs non-inferior within their margins.
  const inferior: string[] = [];
  for (const entry of located) {
    for (const [kpi, margin] of Object.entries(policy.guardrailMargins)) {
      const comparison = comparisonOf(entry, kpi);
      if (!comparison) continue; // a KPI the scenario does not define (no returns, no stock limits)
      const baselineMean = baselineMeanOf(entry, kpi);
      const allowed = margin * Math.abs(baselineMean ?? 0);
      // Worse means higher for lower-is-better KPIs, lower for higher-is-better ones.
      const worstCase = comparison.direction === 'higher' ? -comparison.t.low : comparison.t.high;
      if (worstCase > allowed + 1e-12) inferior.push(`${entry.summary.scenario.id}: ${kpi} may be worse by up to ${worstCase.toPrecision(3)} (95% interval), margin ${allowed.toPrecision(3)} (${margin * 100}% of the baseline's ${(baselineMean ?? 0).toPrecision(3)})`);
    }
  }
  gate('guardrail-kpis', located.length > 0 && inferior.length === 0, inferior.length === 0 ? `non-inferior within margins ${JSON.stringify(policy.guardrailMargins)}` : inferior.join('; '));

  // 6. No guardrail violation in the evaluation.
  const violations: string[] = [];
  for (const entry of located) {
    const record = entry.summary.guardrails.byArm.find((arm) => arm.arm === entry.candidateArm);
    if (!record) violations.push(`${entry.source} does not report guardrails for the candidate`);
    else if (record.violations > 0) violations.push(`${entry.summary.scenario.id}: ${record.violations} served price(s) broke a guardrail in evaluation`);
  }
  gate('guardrail-violations', located.length > 0 && violations.length === 0, violations.length === 0 ? 'no served price broke a guardrail in evaluation' : violations.join('; '));

  // 7. Evidence at least as new as the policy.
  const stale = located.filter((entry) => Date.parse(entry.summary.createdAt) < Date.parse(candidate.createdAt));
  gate('fresh-evidence', located.length > 0 && stale.length === 0, stale.length === 0 ? `evidence made after the policy (${candidate.createdAt})` : stale.map((entry) => `${entry.source} was made ${entry.summary.createdAt}, before the policy (${candidate.createdAt})`).join('; '));

  const failed = gates.find((result) => !result.passed);
  return { allowed: failed === undefined, gates, failedGate: failed?.gate ?? null };
}

function comparisonOf(entry: Located, kpi: string): PairedComparison | undefined {
  return entry.summary.comparisons.find((comparison) => comparison.arm === entry.candidateArm && comparison.kpi === kpi);
}

function baselineMeanOf(entry: Located, kpi: string): number | undefined {
  return entry.summary.kpis.find((summary) => summary.name === kpi)?.byArm.find((arm) => arm.arm === entry.baselineArm)?.mean;
}

