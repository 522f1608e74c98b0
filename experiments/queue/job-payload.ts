/**
 * What travels through the queue: a job's payload (zod, checked by the worker before it runs
 * anything) and its result (checked by the submitter before it stores anything).
 *
 * A job carries everything its run needs, so a worker needs nothing from the submitting
 * machine's disk: the planned run (scenario id and content hash, agent kind and validated
 * config, seeds, budget, evaluation seeds, KPIs) and the scenario file's bytes (base64; the
 * worker checks their sha256 against the planned hash). A Calvano session carries its config
 * and its scenario's bytes the same way, and its seed. A comparison arm (one arm of
 * `pricelab compare` at one seed) carries the arm (rule or agent kind with its config, or a
 * policy artifact's kind, config and weights files with their sha256), the seed, the comparison's budget and guardrails, and
 * its scenario's bytes.
 *
 * The job id is the run's content hash (the run key of experiments/experiment-file.ts, or
 * calvanoSessionKey below): adding a job whose id exists is a no-op in BullMQ, so a
 * resubmission or a second submitter never runs a run twice. The worker recomputes the key
 * from the payload and refuses a job whose id does not match it.
 *
 * A payload that fails these checks is malformed: the worker refuses it at once (BullMQ's
 * UnrecoverableError, no retry) with every problem in the reason, which the submitter stores.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson } from '../../core/json-file.js';
import { kpiNames, runKey, type ExperimentKpi, type PlannedRun } from '../experiment-file.js';
import { maxQueuedArtifactBytes } from '../run-artifact.js';
import { guardrailsSchema } from '../../agents/guardrails.js';

export const jobFormat = 'pricelab/queue-job@1';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 hex digits (sha256)');
const scenarioBytes = z.base64().max(2 * 1024 * 1024, 'expected at most 1 MiB of scenario (base64)');

const plannedRunSchema = z.strictObject({
  id: z.string().regex(/^[0-9a-f]{16}$/, 'expected the 16-hex-digit run key'),
  experiment: z.string().min(1),
  scenario: z.strictObject({ id: z.string().min(1), contentHash: sha256Hex, source: z.string() }),
  agent: z.strictObject({ name: z.string().min(1), kind: z.string().min(1), config: z.unknown() }),
  seed: z.number().int(),
  budget: z.union([z.strictObject({ steps: z.number().int().min(1) }), z.strictObject({ episodes: z.number().int().min(1) })]),
  evaluation: z.strictObject({ episodes: z.number().int().min(1).max(10_000), seed: z.number().int() }),
  kpis: z.array(z.enum(kpiNames as [ExperimentKpi, ...ExperimentKpi[]])).min(1),
  checkpointEvery: z.number().int().min(1),
});

export const experimentRunJobSchema = z.strictObject({
  format: z.literal(jobFormat),
  kind: z.literal('experiment-run'),
  run: plannedRunSchema,
  scenarioBytes: scenarioBytes.describe("the scenario file's bytes, base64"),
});

export const calvanoSessionJobSchema = z.strictObject({
  format: z.literal(jobFormat),
  kind: z.literal('calvano-session'),
  /** The parsed Calvano config (agents/calvano-config.ts validates it again in the worker). */
  config: z.record(z.string(), z.unknown()),
  scenario: z.strictObject({ id: z.string().min(1), contentHash: sha256Hex, bytes: scenarioBytes }),
  seed: z.number().int(),
});

export const comparisonArmJobSchema = z.strictObject({
  format: z.literal(jobFormat),
  kind: z.literal('comparison-arm'),
  scenario: z.strictObject({ id: z.string().min(1), contentHash: sha256Hex, bytes: scenarioBytes }),
  /**
   * A rule, an agent kind with its config, or a policy artifact with its weights files
   * (experiments/compare/arms.ts Arm): each file's bytes (base64) beside their sha256, which
   * the worker checks before it runs anything (a mismatch is a malformed payload).
   */
  arm: z.strictObject({
    name: z.string().min(1),
    spec: z.string().min(1),
    source: z.enum(['rule', 'agent', 'artifact']),
    kind: z.string().min(1),
    config: z.unknown(),
    files: z.record(z.string().min(1), z.strictObject({ sha256: sha256Hex, bytes: z.base64().max(64 * 1024 * 1024, 'expected at most 48 MiB per weights file (base64)') })).optional(),
  }).superRefine((arm, context) => {
    if ((arm.source === 'artifact') !== (arm.files !== undefined)) context.addIssue({ code: 'custom', path: ['files'], message: arm.source === 'artifact' ? 'expected the weights files of a policy artifact arm' : `expected no weights files for a ${arm.source} arm` });
    for (const [name, file] of Object.entries(arm.files ?? {})) {
      const found = createHash('sha256').update(Buffer.from(file.bytes, 'base64')).digest('hex');
      if (found !== file.sha256) context.addIssue({ code: 'custom', path: ['files', name, 'bytes'], message: `expected bytes with sha256 ${file.sha256}, found ${found}` });
    }
  }),
  seed: z.number().int().min(0),
  /** Whether the arm is trained (the submitter asked its agent; the worker checks). */
  learns: z.boolean(),
  /** Keep the first evaluation episode day by day (the comparison's first seed). */
  recordTrajectory: z.boolean(),
  plan: z.strictObject({
    evaluationEpisodes: z.number().int().min(1).max(10_000),
    trainingSteps: z.number().int().min(1),
    curvePoints: z.number().int().min(1),
    curveEpisodes: z.number().int().min(1),
    guardrails: guardrailsSchema,
  }),
});

export const queueJobSchema = z.discriminatedUnion('kind', [experimentRunJobSchema, calvanoSessionJobSchema, comparisonArmJobSchema]);
export type QueueJob = z.output<typeof queueJobSchema>;
export type ExperimentRunJob = z.output<typeof experimentRunJobSchema>;
export type CalvanoSessionJob = z.output<typeof calvanoSessionJobSchema>;
export type ComparisonArmJob = z.output<typeof comparisonArmJobSchema>;

/** The BullMQ job name of each kind (shown by `pricelab queue status`). */
export const jobNames = { 'experiment-run': 'experiment-run', 'calvano-session': 'calvano-session', 'comparison-arm': 'comparison-arm' } as const;

/** The content hash of a comparison arm at one seed: sha256 of everything its job carries but the scenario's bytes (their hash instead), 16 hex digits. */
export function comparisonArmKey(job: Omit<ComparisonArmJob, 'format' | 'kind' | 'scenario'> & { readonly scenario: { readonly contentHash: string } }): string {
  const { seed, learns, recordTrajectory, plan } = job;
  // Weights files count by their sha256 (the worker checks the bytes against it).
  const files = job.arm.files === undefined ? undefined : Object.fromEntries(Object.entries(job.arm.files).map(([name, file]) => [name, file.sha256]));
  const arm = { ...job.arm, files };
  return createHash('sha256').update(canonicalJson({ comparisonArm: { arm, seed, learns, recordTrajectory, plan }, scenario: job.scenario.contentHash })).digest('hex').slice(0, 16);
}

export function experimentRunJob(run: PlannedRun, bytes: Uint8Array): ExperimentRunJob {
  return { format: jobFormat, kind: 'experiment-run', run: { ...run, kpis: [...run.kpis] }, scenarioBytes: Buffer.from(bytes).toString('base64') };
}

/** The content hash of a Calvano session: sha256 of (config, scenario hash, seed), 16 hex digits. */
export function calvanoSessionKey(config: unknown, scenarioHash: string, seed: number): string {
  return createHash('sha256').update(canonicalJson({ calvano: config, scenario: scenarioHash, seed })).digest('hex').slice(0, 16);
}

/** The job id a payload must have: its run's content hash. */
export function jobIdOf(job: QueueJob): string {
  if (job.kind === 'calvano-session') return calvanoSessionKey(job.config, job.scenario.contentHash, job.seed);
  if (job.kind === 'comparison-arm') return comparisonArmKey(job);
  const { run } = job;
  return runKey({ experiment: run.experiment, scenario: { id: run.scenario.id, contentHash: run.scenario.contentHash }, agent: run.agent, seed: run.seed, budget: run.budget, evaluation: run.evaluation });
}

/** Checks a payload: the job, or every problem as one reason ("run.seed: expected number, ..."). */
export function checkJobPayload(jobId: string | undefined, data: unknown): { ok: true; job: QueueJob } | { ok: false; reason: string } {
  const parsed = queueJobSchema.safeParse(data);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`);
    return { ok: false, reason: `malformed job payload (${problems.length} problem${problems.length === 1 ? '' : 's'}): ${problems.join('; ')}` };
  }
  const expected = jobIdOf(parsed.data);
  if (jobId !== expected) return { ok: false, reason: `malformed job payload: the job id ${jobId ?? '(none)'} is not the content hash of its run (${expected})` };
  return { ok: true, job: parsed.data };
}

// Results ---------------------------------------------------------------------------------

const metricValue = z.union([z.number(), z.null(), z.strictObject({ json: z.unknown() })]);

export const experimentRunResultSchema = z.strictObject({
  status: z.literal('finished'),
  runId: z.string(),
  metrics: z.record(z.string(), metricValue),
  evaluations: z.array(z.strictObject({ episode: z.number().int(), seed: z.number().int(), totalReward: z.number(), kpis: z.record(z.string(), z.number().nullable()) })),
  resumedAt: z.strictObject({ episodes: z.number(), steps: z.number() }).nullable(),
  checkpoints: z.boolean(),
  /**
   * The trained policy's artifact files (experiments/run-artifact.ts): base64 beside their
   * sha256, which the submitter checks before writing the folder; or why there is none.
   */
  artifact: z.union([
    z.strictObject({ files: z.record(z.string().min(1), z.strictObject({ sha256: sha256Hex, bytes: z.base64().max(Math.ceil(maxQueuedArtifactBytes / 3) * 4 + 4, `expected at most ${maxQueuedArtifactBytes / 1024 / 1024} MiB per artifact file`) })) }),
    z.strictObject({ unavailable: z.string() }),
  ]),
  startedAt: z.string(),
  endedAt: z.string(),
  /** Which worker ran it (hostname:pid). */
  worker: z.string().optional(),
});
export type ExperimentRunResult = z.output<typeof experimentRunResultSchema>;

/** A Calvano session's result as JSON (agents/calvano.ts CalvanoSessionResult, typed arrays as arrays). */
export const calvanoSessionResultSchema = z.strictObject({
  seed: z.number().int(),
  converged: z.boolean(),
  periods: z.number(),
  periodsToConvergence: z.number().nullable(),
  profitGain: z.number(),
  profitGains: z.array(z.number()),
  averagePrice: z.number(),
  finalState: z.number().int(),
  cycleStates: z.array(z.number().int()),
  finalStrategies: z.array(z.array(z.number().int())),
  seconds: z.number(),
  worker: z.string().optional(),
});
export type CalvanoSessionJson = z.output<typeof calvanoSessionResultSchema>;

/** A comparison arm's result at one seed (experiments/compare/run.ts ArmSeedOutcome as JSON). */
export const comparisonArmResultSchema = z.strictObject({
  result: z.strictObject({ arm: z.string(), seed: z.number().int(), kpis: z.record(z.string(), z.number().nullable()), trainedSteps: z.number(), trainingSeconds: z.number() }),
  curves: z.array(z.strictObject({ arm: z.string(), seed: z.number().int(), steps: z.number(), meanReward: z.number() })),
  trajectory: z.array(
    z.strictObject({ arm: z.string(), day: z.number(), price: z.number(), rivalPrices: z.record(z.string(), z.number()), sold: z.number(), stockOnHand: z.number().nullable(), unitsReturned: z.number(), coupon: z.string().optional() }),
  ),
  tally: z.strictObject({ decisions: z.number(), adjustments: z.number(), violations: z.number(), byRule: z.record(z.string(), z.strictObject({ adjusted: z.number(), violated: z.number() })) }),
  /** Units and what they paid, by group (experiments/compare/fairness.ts); absent from workers older than it. */
  priceCells: z.array(z.strictObject({ segment: z.string(), stage: z.string(), units: z.number(), paid: z.number() })).optional(),
  /** On a coupon scenario: the days each campaign was chosen (experiments/compare/run.ts CouponChoices); absent elsewhere and from older workers. */
  coupons: z.strictObject({ campaignDays: z.record(z.string(), z.number()) }).optional(),
  worker: z.string().optional(),
});
export type ComparisonArmJson = z.output<typeof comparisonArmResultSchema>;
