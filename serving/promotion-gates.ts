/**
 * Promotion gates: what a policy version must show before it becomes `production`.
 * Each gate is checked on the evidence (comparison summaries from `pricelab compare
 * --json`, schema in docs/compare.md) and named in the answer, so a refusal says which gate
 * failed and why:
 *
 *   evidence-valid       every evidence file is a comparison summary of a known schema version,
 *                        recorded in the results store byte for byte (after JSON parsing: a
 *                        hand-made or edited file matches no recorded comparison), with a valid
 *                        createdAt, whose reported comparisons follow from its per-seed data
 *                        (paired t intervals, p-values and Holm's correction recomputed here)
 *   identity             the evidence compares this exact version (policy.json sha256) against
 *                        the current production version (by hash), or against the declared
 *                        baseline when nothing is in production yet
 *   scenario-suite       the evidence covers every scenario of the declared suite, each at the
 *                        content hash the policy was trained on or the installed one
 *   primary-kpi          on every scenario, the primary KPI is better at the configured alpha
 *                        after Holm's correction (recomputed from the per-seed data)
 *   guardrail-kpis       every KPI with a margin is in the evidence and non-inferior: the worse
 *                        end of the paired 95% interval of (candidate - baseline) stays within
 *                        max(absolute, relative x |baseline mean|)
 *   guardrail-rules      the evidence was evaluated under the guardrails serving applies to this
 *                        policy (the serving configuration's, else the artifact's min/max)
 *   guardrail-violations the evaluation served no price that broke a guardrail
 *   fresh-evidence       the evidence is not older than the policy (its policy.json createdAt)
 *   collusion            only when the gates set `collusion`: the policy measured facing learning
 *                        rivals shows no reward-punishment signature (serving/collusion-gate.ts)
 *   fairness             only when the gates set `fairness`: the policy targets on no sensitive or
 *                        undeclared feature (its artifact's training.targeting) and its fairness
 *                        report stays within the bounds (serving/fairness-gate.ts)
 *
 * Gates after `identity` read the evidence that passed it: when `evidence-valid` or
 * `identity` fails, they are reported as skipped, naming the gate that failed.
 * Gates are data checked in order; the function never throws on bad evidence: a bad file
 * is a failed gate with the problem named.
 */
import { z } from 'zod';
import { guardrailsSchema, type Guardrails } from '../agents/guardrails.js';
import { charm } from '../env/ladder.js';
import { kpiDefinitions, type KpiName } from '../experiments/compare/kpis.js';
import { comparisonSummarySchema, type ComparisonSummary } from '../experiments/compare/summary-schema.js';
import { canonicalJson } from '../core/json-file.js';
import { holmAdjust, mean, pairedTTest, verdictOf } from '../experiments/statistics/index.js';
import { checkCollusionGate, collusionGateSchema } from './collusion-gate.js';
import { checkFairnessEvidenceFile, fairnessBoundsSchema, type targetingDeclarationOf } from './fairness-gate.js';

export const gateNames = ['evidence-valid', 'identity', 'scenario-suite', 'primary-kpi', 'guardrail-kpis', 'guardrail-rules', 'guardrail-violations', 'fresh-evidence'] as const;
/** 'collusion' and 'fairness' run only when the gates set them, after the others, in that order. */
export type GateName = (typeof gateNames)[number] | 'collusion' | 'fairness';

/** KPIs that are better one way: the only ones a gate can test. */
const testableKpis = kpiDefinitions.filter((definition) => definition.direction !== 'none').map((definition) => definition.name) as [KpiName, ...KpiName[]];

export const guardrailMarginSchema = z
  .strictObject(
    {
      absolute: z.number().min(0).optional().describe('in KPI units: how much worse the candidate may be (30: thirty more price changes a year)'),
      relative: z.number().min(0).optional().describe("as a share of the baseline's mean |mean| (0.05: 5% worse); 0 when the baseline's mean is 0"),
    },
    {
      error: (issue) =>
        issue.code === 'invalid_type'
          ? 'expected {"absolute": n}, {"relative": share} or both (a bare number was a share of the baseline\'s mean, which is 0 against a fixed price: write {"relative": n} or {"absolute": n})'
          : undefined,
    },
  )
  .refine((margin) => margin.absolute !== undefined || margin.relative !== undefined, { message: 'expected "absolute", "relative" or both' })
  .describe('allowed worsening = max(absolute, relative x |baseline mean|)');
export type GuardrailMargin = z.output<typeof guardrailMarginSchema>;

/** The margins when a gates file names none; scenarios/gates/default.json holds the same (a test keeps them equal). */
export const defaultGuardrailMargins: Partial<Record<KpiName, GuardrailMargin>> = {
  returnRate: { relative: 0.05, absolute: 0.005 },
  stockoutDays: { relative: 0.1, absolute: 3 },
  priceChanges: { absolute: 30 },
  customersLost: { relative: 0.1, absolute: 10 },
};

export const promotionPolicySchema = z.strictObject({
  primaryKpi: z.enum(testableKpis).default('totalReward').describe('the KPI that must be better'),
  alpha: z.number().gt(0).lt(1).default(0.05).describe('family-wise level of the primary verdict (Holm across the comparison)'),
  /** Scenario ids the evidence must cover (default: the scenario the policy was trained on). */
  scenarios: z.array(z.string()).min(1).optional(),
  /**
   * The arm spec to beat when nothing is in production yet (a rule spec such as
   * "fixed:17.99"), or one per scenario id ({"steady-state-v1": "fixed:17.99"}).
   */
  baseline: z.union([z.string().min(1), z.record(z.string(), z.string().min(1))]).optional(),
  /** Non-inferiority margins per KPI: allowed worsening = max(absolute, relative x |baseline mean|). */
  guardrailMargins: z.partialRecord(z.enum(testableKpis), guardrailMarginSchema).default(defaultGuardrailMargins),
  /** When set, the collusion gate runs last, on the collusion evidence given with the promotion. */
  collusion: collusionGateSchema.optional(),
  /** When set, the fairness gate runs last, on the policy's declared targeting and the fairness evidence given. */
  fairness: fairnessBoundsSchema.optional(),
});
export type PromotionPolicy = z.output<typeof promotionPolicySchema>;

export interface CandidateVersion {
  readonly name: string;
  readonly version: number;
  readonly contentHash: string;
  /** policy.json's createdAt: evidence older than this cannot be about this policy. */
  readonly createdAt: string;
  readonly scenario: { readonly id: string; readonly contentHash: string };
  /** The price ladder of the policy (its action spec): min/max bounds outside it change nothing. */
  readonly ladder: readonly number[];
}

export interface GateResult {
  readonly gate: GateName;
  /** Skipped gates could not be checked because an earlier gate they read from failed. */
  readonly status: 'passed' | 'failed' | 'skipped';
  readonly passed: boolean;
  readonly detail: string;
}

export interface PromotionDecision {
  readonly allowed: boolean;
  readonly gates: readonly GateResult[];
  /** The first gate that failed, for the one-line refusal. */
  readonly failedGate: GateName | null;
}

export interface EvidenceFile {
  readonly source: string;
  readonly json: unknown;
}

/** A comparison recorded in the results store that an evidence file matches. */
export interface RecordedComparison {
  readonly id: string;
  /** sha256 of the summary's JSON text as recorded. */
  readonly contentHash: string;
}

/** The guardrails serving applies to this policy, and where they come from (for the messages). */
export interface ServingGuardrails {
  readonly rules: Guardrails;
  readonly source: string;
}

/** A paired comparison as recomputed from the per-seed data. */
interface Recomputed {
  readonly direction: 'higher' | 'lower';
  readonly estimate: number;
  readonly low: number;
  readonly high: number;
  readonly pValue: number;
  readonly adjustedPValue: number;
  readonly verdict: 'better' | 'worse' | 'no detectable difference';
}

interface Checked {
  readonly source: string;
  readonly summary: ComparisonSummary;
  readonly recorded: RecordedComparison;
  /** By arm, then KPI. */
  readonly comparisons: ReadonlyMap<string, ReadonlyMap<KpiName, Recomputed>>;
  /** Per arm and KPI, the mean over seeds (KPIs defined at every seed only). */
  readonly means: ReadonlyMap<string, ReadonlyMap<KpiName, number>>;
}

interface Located extends Checked {
  readonly candidateArm: string;
  readonly baselineArm: string;
}

/** The baseline the policy declares for a scenario, when nothing is in production. */
export function declaredBaseline(policy: PromotionPolicy, scenarioId: string): string | undefined {
  if (policy.baseline === undefined || typeof policy.baseline === 'string') return policy.baseline;
  return Object.hasOwn(policy.baseline, scenarioId) ? policy.baseline[scenarioId] : undefined;
}

export function checkPromotion(options: {
  candidate: CandidateVersion;
  production: { readonly version: number; readonly contentHash: string } | undefined;
  evidence: readonly EvidenceFile[];
  policy: PromotionPolicy;
  /** The comparison recorded in the results store whose summary is exactly this JSON, if any. */
  findRecorded: (json: unknown) => RecordedComparison | undefined;
  servingGuardrails: ServingGuardrails;
  installedScenarioHashes?: Readonly<Record<string, string>>;
  /** The policy measured facing learning rivals (experiments/collusion.ts), read by the collusion gate. */
  collusionEvidence?: EvidenceFile | undefined;
  /** The policy's fairness report (`pricelab check-fairness --out`), read by the fairness gate. */
  fairnessEvidence?: EvidenceFile | undefined;
  /** The targeting the policy declares in its artifact (targetingDeclarationOf); absent: none. */
  targeting?: ReturnType<typeof targetingDeclarationOf> | undefined;
}): PromotionDecision {
  const { candidate, production, policy } = options;
  const gates: GateResult[] = [];
  const gate = (name: GateName, passed: boolean, detail: string) => gates.push({ gate: name, status: passed ? 'passed' : 'failed', passed, detail });

  // 1. Every file is a recorded, self-consistent comparison summary.
  const checked: Checked[] = [];
  const invalid: string[] = [];
  if (options.evidence.length === 0) invalid.push('no evidence given (expected --evidence <compare.json>)');
  for (const file of options.evidence) {
    const parsed = comparisonSummarySchema.safeParse(file.json);
    if (!parsed.success) {
      invalid.push(`${file.source}: ${parsed.error.issues.slice(0, 3).map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ')}`);
      continue;
    }
    const summary = parsed.data;
    const problems: string[] = [];
    const recorded = options.findRecorded(file.json);
    if (!recorded) problems.push('matches no comparison recorded in the results store (pass the file `pricelab compare --json` wrote, unchanged, from a comparison run with the store on)');
    if (!isTime(summary.createdAt)) problems.push(`createdAt: expected an ISO 8601 time, found ${JSON.stringify(summary.createdAt)}`);
    const recomputed = recompute(summary);
    problems.push(...recomputed.problems);
    if (problems.length > 0 || !recorded) invalid.push(`${file.source}: ${problems.join('; ')}`);
    else checked.push({ source: file.source, summary, recorded, comparisons: recomputed.comparisons, means: recomputed.means });
  }
  gate('evidence-valid', invalid.length === 0, invalid.length === 0 ? checked.map((entry) => `${entry.source} is recorded comparison ${entry.recorded.id} (sha256 ${entry.recorded.contentHash.slice(0, 12)}…)`).join('; ') : invalid.join('; '));

  // 2. Identity: the candidate by content hash, against production (by hash) or the declared baseline.
  const located: Located[] = [];
  if (invalid.length === 0) {
    const identityProblems: string[] = [];
    for (const entry of checked) {
      const { summary, source } = entry;
      const candidateArm = summary.arms.find((arm) => arm.artifact?.policySha256 === candidate.contentHash);
      if (!candidateArm) {
        identityProblems.push(`${source} has no arm with this version's content hash ${candidate.contentHash.slice(0, 12)}…`);
        continue;
      }
      const baseline = summary.arms.find((arm) => arm.name === summary.baseline);
      const declared = declaredBaseline(policy, summary.scenario.id);
      const expected = production ? `production v${production.version} (${production.contentHash.slice(0, 12)}…)` : declared !== undefined ? `the declared baseline ${declared}` : `a baseline (nothing is in production and the gates declare no baseline for ${summary.scenario.id})`;
      const baselineMatches = production ? baseline?.artifact?.policySha256 === production.contentHash : declared !== undefined && baseline?.spec === declared;
      if (!baselineMatches) {
        identityProblems.push(`${source} compares against ${baseline ? `${baseline.name} (${baseline.spec})` : 'no baseline'}, expected ${expected}`);
        continue;
      }
      located.push({ ...entry, candidateArm: candidateArm.name, baselineArm: summary.baseline });
    }
    gate('identity', identityProblems.length === 0, identityProblems.length === 0 ? `v${candidate.version} against ${production ? `production v${production.version}` : located.map((entry) => declaredBaseline(policy, entry.summary.scenario.id)).join(', ')}` : identityProblems.join('; '));
  }

  const failedSoFar = gates.find((result) => !result.passed);
  if (failedSoFar) {
    for (const name of gateNames.slice(gates.length)) gates.push({ gate: name, status: 'skipped', passed: false, detail: `not checked: it reads the evidence that the ${failedSoFar.gate} gate refused` });
    if (policy.collusion) gates.push({ gate: 'collusion', status: 'skipped', passed: false, detail: `not checked: the ${failedSoFar.gate} gate refused` });
    if (policy.fairness) gates.push({ gate: 'fairness', status: 'skipped', passed: false, detail: `not checked: the ${failedSoFar.gate} gate refused` });
    return { allowed: false, gates, failedGate: failedSoFar.gate };
  }

  // 3. The declared scenario suite, each at a known content hash.
  const suite = policy.scenarios ?? [candidate.scenario.id];
  const missing: string[] = [];
  for (const id of suite) {
    const acceptable = new Set([options.installedScenarioHashes?.[id], id === candidate.scenario.id ? candidate.scenario.contentHash : undefined].filter((hash): hash is string => hash !== undefined));
    const found = located.find((entry) => entry.summary.scenario.id === id && (acceptable.size === 0 || acceptable.has(entry.summary.scenario.contentHash)));
    if (!found) missing.push(located.some((entry) => entry.summary.scenario.id === id) ? `${id} (evidence at another version of the scenario)` : id);
  }
  gate('scenario-suite', missing.length === 0, missing.length === 0 ? `covers ${suite.join(', ')}` : `no valid evidence for ${missing.join(', ')}`);

  // 4. The primary KPI, better after correction, on every scenario.
  const primaryProblems: string[] = [];
  for (const entry of located) {
    const comparison = entry.comparisons.get(entry.candidateArm)?.get(policy.primaryKpi);
    if (!comparison) primaryProblems.push(`${entry.summary.scenario.id}: ${policy.primaryKpi} is not in ${entry.source} (no per-seed values for every arm and seed)`);
    else {
      const verdict = verdictOf({ estimate: comparison.estimate, adjustedP: comparison.adjustedPValue, alpha: policy.alpha, higherIsBetter: comparison.direction === 'higher' });
      if (verdict !== 'better') primaryProblems.push(`${entry.summary.scenario.id}: ${policy.primaryKpi} ${verdict} (difference ${comparison.estimate.toFixed(2)}, 95% interval ${comparison.low.toFixed(2)} .. ${comparison.high.toFixed(2)}, Holm-adjusted p ${comparison.adjustedPValue.toPrecision(3)}, alpha ${policy.alpha})`);
    }
  }
  gate('primary-kpi', primaryProblems.length === 0, primaryProblems.length === 0 ? `${policy.primaryKpi} better on ${located.map((entry) => entry.summary.scenario.id).join(', ')}` : primaryProblems.join('; '));

  // 5. Guardrail KPIs present and non-inferior within their margins.
  const inferior: string[] = [];
  const within: string[] = [];
  for (const entry of located) {
    for (const [kpi, margin] of Object.entries(policy.guardrailMargins) as [KpiName, GuardrailMargin][]) {
      const comparison = entry.comparisons.get(entry.candidateArm)?.get(kpi);
      const baselineMean = entry.means.get(entry.baselineArm)?.get(kpi);
      if (!comparison || baselineMean === undefined) {
        inferior.push(`${entry.summary.scenario.id}: ${kpi} is not in ${entry.source} (a gate with a margin for it needs its per-seed values)`);
        continue;
      }
      const allowed = allowedWorsening(margin, baselineMean);
      // Worse means higher for lower-is-better KPIs, lower for higher-is-better ones.
      const worstCase = comparison.direction === 'higher' ? -comparison.low : comparison.high;
      const rule = marginRule(margin, baselineMean);
      if (worstCase > allowed + 1e-12) inferior.push(`${entry.summary.scenario.id}: ${kpi} may be worse by up to ${worstCase.toPrecision(3)} (95% interval), allowed ${rule}`);
      else within.push(`${kpi} ${worstCase.toPrecision(3)} <= ${allowed.toPrecision(3)}`);
    }
  }
  gate('guardrail-kpis', inferior.length === 0, inferior.length === 0 ? (within.length === 0 ? 'no guardrail KPI margins declared' : `non-inferior: ${within.join(', ')}`) : inferior.join('; '));

  // 6. The evidence was evaluated under the rules serving applies.
  const mismatched: string[] = [];
  const expected = effectiveGuardrails(options.servingGuardrails.rules, candidate.ladder);
  for (const entry of located) {
    const parsed = guardrailsSchema.safeParse(entry.summary.guardrails.rules);
    const found = parsed.success ? effectiveGuardrails(parsed.data, candidate.ladder) : undefined;
    if (found === undefined || canonicalJson(found) !== canonicalJson(expected)) {
      mismatched.push(`${entry.source} was evaluated under ${JSON.stringify(entry.summary.guardrails.rules)}, serving applies ${JSON.stringify(options.servingGuardrails.rules)} (${options.servingGuardrails.source}); rerun the comparison with --guardrails set to those rules`);
    }
  }
  gate('guardrail-rules', mismatched.length === 0, mismatched.length === 0 ? `evaluated under the rules serving applies (${options.servingGuardrails.source})` : mismatched.join('; '));

  // 7. No guardrail violation in the evaluation.
  const violations: string[] = [];
  for (const entry of located) {
    const record = entry.summary.guardrails.byArm.find((arm) => arm.arm === entry.candidateArm);
    if (!record) violations.push(`${entry.source} does not report guardrails for the candidate`);
    else if (record.violations > 0) violations.push(`${entry.summary.scenario.id}: ${record.violations} served price(s) broke a guardrail in evaluation`);
  }
  gate('guardrail-violations', violations.length === 0, violations.length === 0 ? 'no served price broke a guardrail in evaluation' : violations.join('; '));

  // 8. Evidence at least as new as the policy.
  if (!isTime(candidate.createdAt)) gate('fresh-evidence', false, `the policy's createdAt ${JSON.stringify(candidate.createdAt)} is not an ISO 8601 time, so no evidence can be shown to be newer`);
  else {
    const stale = located.filter((entry) => Date.parse(entry.summary.createdAt) < Date.parse(candidate.createdAt));
    gate('fresh-evidence', stale.length === 0, stale.length === 0 ? `evidence made after the policy (${candidate.createdAt})` : stale.map((entry) => `${entry.source} was made ${entry.summary.createdAt}, before the policy (${candidate.createdAt})`).join('; '));
  }

  // 9. Optional: no reward-punishment collusion facing learning rivals.
  if (policy.collusion) gates.push(checkCollusionGate(options.collusionEvidence, policy.collusion, candidate.contentHash));

  // 10. Optional: no sensitive or undeclared targeting, effective prices within the bounds.
  if (policy.fairness) {
    gates.push(checkFairnessEvidenceFile({ file: options.fairnessEvidence, declaration: options.targeting ?? { declaration: { features: [] } }, bounds: policy.fairness, candidateSha256: candidate.contentHash }));
  }

  const failed = gates.find((result) => !result.passed);
  return { allowed: failed === undefined, gates, failedGate: failed?.gate ?? null };
}

/** How much worse than the baseline a KPI may be: max(absolute, relative x |baseline mean|). */
/**
 * How a KPI's allowed worsening was reached, in the forms the gate file gives: "absolute 30",
 * "5% of |baseline mean 0.062| = 0.0031", or "max(absolute 0.005, 5% of |baseline mean 0.062| = 0.0031) = 0.005".
 */
export function marginRule(margin: GuardrailMargin, baselineMean: number): string {
  const short = (value: number) => String(Number(value.toPrecision(3)));
  const absolute = margin.absolute === undefined ? undefined : `absolute ${short(margin.absolute)}`;
  const relative = margin.relative === undefined ? undefined : `${short(margin.relative * 100)}% of |baseline mean ${short(baselineMean)}| = ${short(margin.relative * Math.abs(baselineMean))}`;
  if (absolute !== undefined && relative !== undefined) return `max(${absolute}, ${relative}) = ${short(allowedWorsening(margin, baselineMean))}`;
  return absolute ?? relative ?? 'none (0)';
}

export function allowedWorsening(margin: GuardrailMargin, baselineMean: number): number {
  return Math.max(margin.absolute ?? 0, (margin.relative ?? 0) * Math.abs(baselineMean));
}

const isoTime = z.iso.datetime({ offset: true });
function isTime(value: string): boolean {
  return isoTime.safeParse(value).success && Number.isFinite(Date.parse(value));
}

/**
 * The statistics of a summary recomputed from its per-seed table, as the comparison computes
 * them (experiments/compare/analyse.ts): per non-baseline arm and testable KPI defined at every
 * seed, the paired t interval and p-value, Holm-adjusted over all of them; and each reported
 * comparison checked against its recomputation.
 */
function recompute(summary: ComparisonSummary): { comparisons: Map<string, Map<KpiName, Recomputed>>; means: Map<string, Map<KpiName, number>>; problems: string[] } {
  const problems: string[] = [];
  const comparisons = new Map<string, Map<KpiName, Recomputed>>();
  const means = new Map<string, Map<KpiName, number>>();
  const armNames = summary.arms.map((arm) => arm.name);
  if (!armNames.includes(summary.baseline)) return { comparisons, means, problems: [`baseline: expected one of the arms (${armNames.join(', ')}), found "${summary.baseline}"`] };
  // values[arm][kpi]: per seed, in the order of summary.seeds.
  const values = new Map<string, Map<KpiName, (number | null)[]>>();
  for (const arm of armNames) {
    const rows = summary.seeds.map((seed) => summary.perSeed.filter((row) => row.arm === arm && row.seed === seed));
    const bad = summary.seeds.filter((_seed, index) => rows[index]?.length !== 1);
    if (bad.length > 0) problems.push(`perSeed: expected one row of ${arm} at each seed, found ${bad.map((seed) => `${rows[summary.seeds.indexOf(seed)]?.length ?? 0} at seed ${seed}`).join(', ')}`);
    values.set(arm, new Map(kpiDefinitions.map((definition) => [definition.name, rows.map((row) => { const value = row[0]?.kpis[definition.name]; return typeof value === 'number' && Number.isFinite(value) ? value : null; })])));
  }
  if (summary.perSeed.length !== armNames.length * summary.seeds.length) problems.push(`perSeed: expected ${armNames.length * summary.seeds.length} rows (${armNames.length} arms x ${summary.seeds.length} seeds), found ${summary.perSeed.length}`);
  if (summary.seeds.length < 2) problems.push(`seeds: expected at least 2, found ${summary.seeds.length}`);
  if (problems.length > 0) return { comparisons, means, problems };

  const numbers = (arm: string, kpi: KpiName): number[] | undefined => {
    const series = values.get(arm)?.get(kpi);
    return series?.every((value): value is number => value !== null) ? series : undefined;
  };
  const defined = kpiDefinitions.filter((definition) => armNames.every((arm) => numbers(arm, definition.name) !== undefined));
  for (const arm of armNames) means.set(arm, new Map(defined.map((definition) => [definition.name, mean(numbers(arm, definition.name) ?? [])])));
  const pairs = armNames.filter((arm) => arm !== summary.baseline).flatMap((arm) => defined.filter((definition) => definition.direction !== 'none').map((definition) => ({ arm, definition })));
  const tests = pairs.map(({ arm, definition }) => pairedTTest(numbers(arm, definition.name) ?? [], numbers(summary.baseline, definition.name) ?? [], summary.confidenceLevel));
  const adjusted = tests.length > 0 ? holmAdjust(tests.map((test) => test.pValue)) : [];
  const missingRows: string[] = [];
  pairs.forEach(({ arm, definition }, index) => {
    const test = tests[index]!;
    const adjustedPValue = adjusted[index] ?? 1;
    const higherIsBetter = definition.direction === 'higher';
    const recomputed: Recomputed = { direction: higherIsBetter ? 'higher' : 'lower', estimate: test.estimate, low: test.low, high: test.high, pValue: test.pValue, adjustedPValue, verdict: verdictOf({ estimate: test.estimate, adjustedP: adjustedPValue, alpha: summary.alpha, higherIsBetter }) };
    if (!comparisons.has(arm)) comparisons.set(arm, new Map());
    comparisons.get(arm)?.set(definition.name, recomputed);
    const reported = summary.comparisons.find((comparison) => comparison.arm === arm && comparison.kpi === definition.name);
    if (!reported) {
      missingRows.push(`${arm} on ${definition.name}`);
      return;
    }
    const differing = (
      [
        ['verdict', reported.verdict, recomputed.verdict],
        ['estimate', reported.estimate, recomputed.estimate],
        ['t.low', reported.t.low, recomputed.low],
        ['t.high', reported.t.high, recomputed.high],
        ['pValue', reported.pValue, recomputed.pValue],
        ['adjustedPValue', reported.adjustedPValue, recomputed.adjustedPValue],
      ] as const
    ).filter(([, found, expected]) => (typeof found === 'number' && typeof expected === 'number' ? !close(found, expected) : found !== expected));
    if (differing.length > 0) {
      const show = (value: string | number) => (typeof value === 'number' ? value.toPrecision(4) : JSON.stringify(value));
      problems.push(`comparisons: ${arm} on ${definition.name} reports ${differing.map(([field, found]) => `${field} ${show(found)}`).join(', ')}; the per-seed data give ${differing.map(([field, , expected]) => `${field} ${show(expected)}`).join(', ')}`);
    }
  });
  if (missingRows.length > 0) problems.push(`comparisons: no row for ${missingRows.join(', ')}, which the per-seed data define`);
  const extra = summary.comparisons.filter((comparison) => !pairs.some((pair) => pair.arm === comparison.arm && pair.definition.name === comparison.kpi));
  if (extra.length > 0) problems.push(`comparisons: rows the per-seed data do not define: ${extra.map((comparison) => `${comparison.arm} on ${comparison.kpi}`).join(', ')}`);
  return { comparisons, means, problems: problems.slice(0, 10).concat(problems.length > 10 ? [`and ${problems.length - 10} more`] : []) };
}

function close(found: number, expected: number): boolean {
  if (!Number.isFinite(expected) || !Number.isFinite(found)) return found === expected;
  return Math.abs(found - expected) <= 1e-9 * Math.max(1, Math.abs(found), Math.abs(expected));
}

/**
 * The rules as they act on a policy of this ladder: a min (max) price at or below (above)
 * every price the ladder can serve bounds nothing, so it is dropped; what remains is what
 * two rule sets must share to serve the same prices.
 */
function effectiveGuardrails(rules: Guardrails, ladder: readonly number[]): Guardrails {
  const prices = rules.charmEnding === undefined ? ladder : ladder.map((price) => charm(price, rules.charmEnding ?? 0));
  const lowest = Math.min(...prices);
  const highest = Math.max(...prices);
  const { minPrice, maxPrice, ...rest } = rules;
  return { ...rest, ...(minPrice !== undefined && minPrice > lowest ? { minPrice } : {}), ...(maxPrice !== undefined && maxPrice < highest ? { maxPrice } : {}) };
}
