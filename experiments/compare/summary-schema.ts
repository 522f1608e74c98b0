/**
 * The JSON summary of a comparison (`pricelab compare --json`), version 3: a stable,
 * documented schema (docs/compare.md lists every field; a test holds the two together).
 * Strict objects: a field added here without a version bump and a doc line fails the tests.
 *
 * Versioning: any change to a field (added, renamed, removed, or a new meaning) bumps
 * `schemaVersion` here and in docs/compare.md. Consumers check `schemaVersion` first.
 * Version 2 added `fairness` (optional, so version 1 summaries in a store still read).
 * Version 3: on a coupon scenario the arms play the coupon market and choose coupons, so the
 * coupon KPIs appear in `kpis`, `fairness.market` "coupon market" means the arm's own coupon
 * choices (in version 2: its prices replayed with no coupon), and `coupons` (optional) says
 * which campaign each arm chose how often. Versions 1 and 2 still read.
 */
import { z } from 'zod';

export const comparisonSchemaVersion = 3;
/** Versions this schema reads: 1 is 2 without `fairness` (summaries stored before it); 2 is 3 without `coupons`. */
export const readableSchemaVersions = [1, 2, 3] as const;

const verdictSchema = z.enum(['better', 'worse', 'no detectable difference']).describe('better or worse when the Holm-adjusted p-value is below alpha, in the direction the KPI prefers');
const directionSchema = z.enum(['higher', 'lower', 'none']).describe('which way is better for the shop; none for descriptive KPIs (no test)');

export const armIdentitySchema = z.strictObject({
  name: z.string().describe('unique name of the arm (the spec, or the name of name=spec)'),
  spec: z.string().describe('the spec as written: a rule spec, an agent kind or a policy folder'),
  source: z.enum(['rule', 'agent', 'artifact']).describe('rule spec, agent kind (created per seed) or policy artifact (loaded, verified)'),
  kind: z.string().describe('agent kind behind the arm'),
  config: z.unknown().describe("the agent's config as given"),
  configFile: z.string().nullable().describe('absolute path of the --config file, or null'),
  learns: z.boolean().describe('true if the arm was trained per seed'),
  artifact: z
    .strictObject({
      path: z.string().describe('absolute path of the policy folder'),
      policySha256: z.string().regex(/^[0-9a-f]{64}$/).describe('sha256 of policy.json, which lists the sha256 of every weights file'),
      name: z.string().describe('policy name from policy.json'),
      version: z.string().describe('policy version from policy.json'),
      trainedOn: z.strictObject({ id: z.string(), contentHash: z.string() }).describe('scenario the policy was trained on'),
    })
    .nullable()
    .describe('identity of a policy artifact arm, null for other arms'),
});

const armStatisticsSchema = z.strictObject({
  arm: z.string(),
  mean: z.number().describe('mean over seeds of the per-seed KPI'),
  sd: z.number().describe('standard deviation across seeds'),
  low: z.number().describe('95% Student-t interval of the mean, low end'),
  high: z.number().describe('95% Student-t interval of the mean, high end'),
  iqm: z.number().describe('interquartile mean across seeds'),
  n: z.number().int().describe('number of seeds'),
});

export const kpiSummarySchema = z.strictObject({
  name: z.string().describe('EpisodeKpis field (env/kpis.ts)'),
  label: z.string(),
  direction: directionSchema,
  byArm: z.array(armStatisticsSchema),
});

export const pairedComparisonSchema = z.strictObject({
  arm: z.string().describe('the arm compared with the baseline'),
  kpi: z.string(),
  direction: directionSchema,
  estimate: z.number().describe('mean over seeds of (arm - baseline), in KPI units'),
  relativeEstimate: z.number().nullable().describe('estimate / |baseline mean|, null when the baseline mean is 0'),
  sdOfDifferences: z.number().describe('standard deviation of the paired per-seed differences'),
  t: z.strictObject({ low: z.number(), high: z.number(), statistic: z.number().nullable().describe('t statistic; null when every difference is equal (infinite t)'), df: z.number(), standardError: z.number() }).describe('paired t interval (95%) of the mean difference'),
  bootstrap: z.strictObject({ low: z.number(), high: z.number(), resamples: z.number().int() }).describe('BCa bootstrap interval (95%) of the mean difference'),
  pValue: z.number().describe('two-sided paired t-test p-value'),
  adjustedPValue: z.number().describe('Holm-adjusted across every (arm, KPI) comparison'),
  probabilityOfImprovement: z.number().describe('P(arm improves on baseline) over seeds, in the direction the KPI prefers (ties count one half)'),
  minimumDetectableEffect: z.number().describe('smallest |difference| detected with 80% power by the paired t-test at alpha / comparisons, at the seeds used'),
  verdict: verdictSchema,
});

export const learningCurvePointSchema = z.strictObject({
  arm: z.string(),
  steps: z.number().int().describe('training steps so far (0: before training)'),
  mean: z.number().describe('mean over seeds of the greedy mean episode reward'),
  low: z.number().describe('95% t interval across seeds, low end'),
  high: z.number().describe('95% t interval across seeds, high end'),
  n: z.number().int(),
});

const pricedGroupSchema = z.strictObject({
  label: z.string().describe('the group: a segment, a stage, "segment/stage", or a level of a sensitive attribute'),
  units: z.number().describe('units bought, over every seed and evaluation episode'),
  effectivePrice: z.number().nullable().describe('paid / units, after coupons; null when no unit was bought'),
});

export const comparisonFairnessSchema = z
  .strictObject({
    market: z.enum(['posted prices', 'coupon market']).describe("posted prices: units by segment at the day's price; coupon market: what each (segment, stage) group paid after the coupons the arm chose in the coupon market (version 2: the arm's prices replayed there with no coupon)"),
    groupedBy: z.enum(['segment', 'segment and stage']).describe('the groups the dispersion is taken across'),
    sensitiveAttributes: z.array(z.string()).describe("the scenario's sensitive attributes (coupons.sensitiveAttributes), [] when it declares none"),
    byArm: z.array(
      z.strictObject({
        arm: z.string(),
        units: z.number().describe('units bought in every evaluation episode of every seed'),
        meanEffectivePrice: z.number().nullable().describe('paid / units over all of them'),
        bySegment: z.array(pricedGroupSchema).describe('effective price per segment'),
        byStage: z.array(pricedGroupSchema).describe('effective price per behaviour stage ([] without a coupons block)'),
        byGroup: z.array(pricedGroupSchema).describe('effective price per group the dispersion is taken across'),
        dispersion: z
          .strictObject({
            groups: z.number().int().describe('groups with at least minUnits units'),
            minUnits: z.number().describe('smaller groups are left out of the dispersion'),
            standardDeviation: z.number().describe('units-weighted standard deviation of the group prices'),
            coefficientOfVariation: z.number().describe('standardDeviation / units-weighted mean'),
            maxMinRatio: z.number().describe('highest over lowest group price (1 with fewer than two groups)'),
            highest: z.string().nullable().describe('the group of the highest price (null with fewer than two groups)'),
            lowest: z.string().nullable().describe('the group of the lowest price'),
          })
          .describe('spread of the effective price across groups'),
        sensitive: z
          .array(
            z.strictObject({
              attribute: z.string(),
              etaSquared: z.number().describe("share of the effective price's variance across units the attribute explains (eta^2, 0..1)"),
              byLevel: z.array(pricedGroupSchema).describe('effective price per level of the attribute'),
            }),
          )
          .describe('per sensitive attribute of the scenario'),
      }),
    ),
  })
  .describe('who paid what: experiments/fairness.ts on each arm\'s evaluation episodes (experiments/compare/fairness.ts)');

export const comparisonCouponsSchema = z
  .strictObject({
    campaigns: z.array(z.string()).describe("the scenario's campaign menu (coupons.campaigns, by name), in action order"),
    byArm: z.array(
      z.strictObject({
        arm: z.string(),
        campaignDays: z.record(z.string(), z.number().int()).describe('evaluation days each campaign was chosen ("no coupon" for none), over every seed and episode'),
      }),
    ),
  })
  .describe('what the arms chose in the coupon market (experiments/compare/run.ts)');

export const comparisonSummarySchema = z.strictObject({
  schemaVersion: z.union([z.literal(readableSchemaVersions[0]), z.literal(readableSchemaVersions[1]), z.literal(readableSchemaVersions[2])]).describe('3; 2 in summaries made before `coupons`, 1 before `fairness`'),
  codeVersion: z.string().describe('pricelab version that ran the comparison'),
  scenario: z.strictObject({ id: z.string(), contentHash: z.string().describe('sha256 of the scenario file') }),
  createdAt: z.string().describe('ISO 8601 time the summary was made'),
  seeds: z.array(z.number().int()).describe('analysis seeds: the unit of analysis'),
  evaluationEpisodes: z.number().int().describe('greedy evaluation episodes per seed and arm'),
  evaluationSeeds: z.string().describe('how evaluation episode seeds derive from the analysis seed'),
  trainingSteps: z.number().int().describe('training budget per learning arm and seed (environment steps)'),
  baseline: z.string().describe('name of the baseline arm'),
  primaryKpi: z.string().describe('the KPI of the top-level verdict and of --fail-unless-better'),
  alpha: z.number().describe('family-wise significance level'),
  confidenceLevel: z.number().describe('level of every interval'),
  correction: z.literal('holm').describe('multiple-comparison correction across arms and KPIs'),
  arms: z.array(armIdentitySchema),
  kpis: z.array(kpiSummarySchema).describe('KPIs defined for this scenario, per arm'),
  comparisons: z.array(pairedComparisonSchema).describe('every non-baseline arm against the baseline, for every KPI with a direction'),
  verdict: z.strictObject({
    kpi: z.string().describe('the primary KPI'),
    everyArmBetter: z.boolean().describe('true if every non-baseline arm is better on the primary KPI (what --fail-unless-better checks)'),
    byArm: z.array(
      z.strictObject({
        arm: z.string(),
        verdict: verdictSchema,
        estimate: z.number(),
        low: z.number().describe('paired t interval, low end'),
        high: z.number().describe('paired t interval, high end'),
        adjustedPValue: z.number(),
        minimumDetectableEffect: z.number(),
      }),
    ),
  }),
  learningCurves: z.array(learningCurvePointSchema).describe('greedy evaluations during training, across seeds; flat for rules and artifacts'),
  perSeed: z
    .array(z.strictObject({ arm: z.string(), seed: z.number().int(), kpis: z.record(z.string(), z.number().nullable()) }))
    .describe('the raw data: each arm at each seed, KPI means over its evaluation episodes'),
  guardrails: z
    .strictObject({
      rules: z.record(z.string(), z.unknown()).describe('the guardrails every arm was evaluated under (agents/guardrails.ts; {} for none)'),
      byArm: z.array(
        z.strictObject({
          arm: z.string(),
          decisions: z.number().int().describe('evaluation decisions, over every seed and episode'),
          adjustments: z.number().int().describe('decisions where a guardrail moved the policy\'s price'),
          violations: z.number().int().describe('played prices that broke a guardrail (only when rules conflict); a promotion gate requires 0'),
          byRule: z.record(z.string(), z.strictObject({ adjusted: z.number().int(), violated: z.number().int() })).describe('the same, per rule'),
        }),
      ),
    })
    .describe('what the guardrails did to each arm in evaluation, applied exactly as the serving endpoint applies them'),
  fairness: comparisonFairnessSchema.optional().describe('the effective price paid by group per arm; absent in version 1 summaries'),
  coupons: comparisonCouponsSchema.optional().describe('on a coupon scenario: the campaign menu and how often each arm chose each campaign; absent elsewhere and in versions 1 and 2'),
});

export type ComparisonSummary = z.infer<typeof comparisonSummarySchema>;
export type ArmIdentity = z.infer<typeof armIdentitySchema>;
export type PairedComparison = z.infer<typeof pairedComparisonSchema>;
export type KpiSummary = z.infer<typeof kpiSummarySchema>;
export type LearningCurvePoint = z.infer<typeof learningCurvePointSchema>;
export type ComparisonFairness = z.infer<typeof comparisonFairnessSchema>;
export type ComparisonCoupons = z.infer<typeof comparisonCouponsSchema>;
