/**
 * Experiment files: a sweep of scenarios x agents (with their configs) x seeds, a training
 * budget, evaluation seeds common to every agent, and the KPIs to report. JSON, validated by
 * a zod schema (a description on every field); a bad file is refused with every problem
 * listed by path (the schema's, each scenario that does not load, each agent config its
 * kind refuses), before anything runs or is stored.
 *
 * A coupon scenario (a `coupons` block; by path, or a built-in coupon id such as
 * targeted-coupon-v1, found in scenarios/coupons/) trains its runs in the coupon market
 * (experiments/sweep-worker.ts); agents that need the day kernel's model (oracles) are refused there.
 *
 * Planning turns a valid file into runs, one per (scenario, agent, seed), each with a
 * deterministic run key: sha256 of (experiment name, scenario id + content hash, agent
 * name, kind and validated config, seed, budget, evaluation). The same file plans the same
 * keys, so `--resume` finds its runs; changing anything a run depends on changes its key.
 *
 * Bounds (a careless file fails at once, exit 2, instead of planning for minutes): at most
 * 10,000 seeds, 100 scenarios, 100 agents and 100,000 runs in all; every check is linear in
 * the file's size (duplicates are found with sets).
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { agentDefinition, agentDefinitions } from '../agents/registry.js';
import { canonicalJson, readJsonFile } from '../core/json-file.js';
import { PricelabError, configError, type Problem } from '../core/errors.js';
import type { EpisodeKpis } from '../env/kpis.js';
import type { CouponKpis } from '../env/coupons/coupon-kpis.js';
import { loadScenario, type LoadedScenario } from '../scenarios/load.js';
import { couponScenarioPath } from './fairness-check.js';

/** Every KPI of an evaluation episode (a compile error here when env/kpis.ts gains one). */
const kpiFlags: Record<keyof EpisodeKpis, true> = {
  days: true,
  gmv: true,
  refunds: true,
  netRevenue: true,
  grossProfit: true,
  grossMarginRate: true,
  profit: true,
  totalReward: true,
  units: true,
  unitsReturned: true,
  returnRate: true,
  stockoutDays: true,
  lostSales: true,
  inventoryTurnover: true,
  averagePrice: true,
  priceIndex: true,
  priceChanges: true,
  customersLost: true,
  profitGain: true,
};
/** The coupon market's own KPIs (env/coupons/coupon-kpis.ts), in a coupon scenario's evaluation episodes (null elsewhere). */
const couponKpiFlags: Record<Exclude<keyof CouponKpis, keyof EpisodeKpis | 'revenue'>, true> = {
  couponCost: true,
  claims: true,
  redeemed: true,
  cannibalised: true,
  expired: true,
  redemptionRate: true,
  cannibalisationRate: true,
  incrementalUnits: true,
  incrementalUnitsPerCoupon: true,
  costPerIncrementalUnit: true,
};
/** A KPI an experiment may summarise: an EpisodeKpis field, or a coupon KPI. */
export type ExperimentKpi = keyof EpisodeKpis | keyof typeof couponKpiFlags;
export const kpiNames = [...Object.keys(kpiFlags), ...Object.keys(couponKpiFlags)] as ExperimentKpi[];

const agentEntrySchema = z.strictObject({
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]*$/i, 'expected letters, digits, ".", "_" or "-"')
    .optional()
    .describe('name of this arm in results (default: the kind); unique within the file'),
  kind: z.string().describe(`agent kind: ${[...agentDefinitions.keys()].join(', ')}`),
  config: z.unknown().optional().describe("the agent's config (docs/agents/); defaults for missing fields"),
});

/** The largest experiment a file may ask for. */
export const experimentBounds = { seeds: 10_000, scenarios: 100, agents: 100, runs: 100_000 } as const;

const countOf = (input: unknown) => (Array.isArray(input) ? input.length : String(input));

const seedsSchema = z.union([
  z
    .array(z.number().int())
    .min(1)
    .max(experimentBounds.seeds, { error: (issue) => `expected at most ${experimentBounds.seeds} seeds, found ${countOf(issue.input)}` })
    .describe('the training seeds, listed'),
  z.strictObject({ from: z.number().int().describe('first seed'), count: z.number().int().min(1).max(experimentBounds.seeds, { error: (issue) => `expected at most ${experimentBounds.seeds} seeds, found ${String(issue.input)}` }).describe('number of seeds') }).describe('seeds from, from + 1, ..., from + count - 1'),
]);

export const experimentFileSchema = z.strictObject({
  $schema: z.string().optional().describe('ignored; lets editors find a JSON schema'),
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/i, 'expected letters, digits, ".", "_" or "-"').describe('experiment name: part of every run key, shown by `pricelab runs list`'),
  description: z.string().optional().describe('what the experiment asks, for people'),
  scenarios: z
    .array(z.string().min(1))
    .min(1)
    .max(experimentBounds.scenarios, { error: (issue) => `expected at most ${experimentBounds.scenarios} scenarios, found ${countOf(issue.input)}` })
    .describe('built-in scenario ids or paths to scenario files (relative paths: from the working folder)'),
  agents: z
    .array(agentEntrySchema)
    .min(1)
    .max(experimentBounds.agents, { error: (issue) => `expected at most ${experimentBounds.agents} agents, found ${countOf(issue.input)}` })
    .describe('the arms: each agent kind with its config'),
  seeds: seedsSchema.describe('training seeds; run (scenario, agent, seed) trains from seed (episode e uses seed + e) and seeds the agent'),
  budget: z
    .union([
      z.strictObject({ steps: z.number().int().min(1).describe('environment steps per run') }),
      z.strictObject({ episodes: z.number().int().min(1).describe('episodes per run') }),
    ])
    .describe('training budget of every run: {"steps": n} or {"episodes": n}'),
  evaluation: z
    .strictObject({
      episodes: z.number().int().min(1).max(10_000).default(10).describe('greedy evaluation episodes after training'),
      seed: z.number().int().default(1_000_000).describe('seed of the first evaluation episode; the same for every run (common random numbers)'),
    })
    .default({ episodes: 10, seed: 1_000_000 })
    .describe('greedy evaluation after training, on seeds common to every agent and disjoint from training seeds'),
  kpis: z
    .array(z.enum(kpiNames as [ExperimentKpi, ...ExperimentKpi[]]))
    .min(1)
    .default(['profit', 'netRevenue', 'units', 'averagePrice'])
    .describe(`KPIs summarised as eval/<kpi> metrics (mean over evaluation episodes; null where the scenario has none, e.g. coupon KPIs off a coupon scenario); every KPI is stored per episode: ${kpiNames.join(', ')}`),
  checkpointEvery: z.number().int().min(1).default(1).describe('save a checkpoint every this many training episodes (agents that support it)'),
});

export type ExperimentFile = z.output<typeof experimentFileSchema>;

export interface PlannedAgent {
  readonly name: string;
  readonly kind: string;
  /** The config validated by the kind's schema, defaults filled in. */
  readonly config: unknown;
}

export interface PlannedRun {
  /** The run key: deterministic from everything the run depends on. */
  readonly id: string;
  readonly experiment: string;
  readonly scenario: { readonly id: string; readonly contentHash: string; readonly source: string };
  readonly agent: PlannedAgent;
  readonly seed: number;
  readonly budget: { readonly steps: number } | { readonly episodes: number };
  readonly evaluation: { readonly episodes: number; readonly seed: number };
  readonly kpis: readonly ExperimentKpi[];
  readonly checkpointEvery: number;
}

export interface ExperimentPlan {
  readonly file: ExperimentFile;
  readonly scenarios: readonly LoadedScenario[];
  readonly agents: readonly PlannedAgent[];
  readonly seeds: readonly number[];
  /** Scenario-major, then agent, then seed. */
  readonly runs: readonly PlannedRun[];
}

/** Reads, validates and plans an experiment file; every problem is listed in one error (kind config, exit 2). */
export function loadExperimentFile(path: string): ExperimentPlan {
  return planExperiment(readJsonFile(path, 'experiment file'), path);
}

/** Validates an experiment (already parsed JSON) and plans its runs. */
export function planExperiment(json: unknown, origin = 'experiment'): ExperimentPlan {
  const parsed = experimentFileSchema.safeParse(json);
  const problems: Problem[] = parsed.success ? [] : parsed.error.issues.flatMap((issue) => problemsOfIssue(issue));
  // Check what the schema cannot, wherever the parts are readable, so every problem is listed at once.
  const raw = (json !== null && typeof json === 'object' ? json : {}) as { scenarios?: unknown; agents?: unknown };
  const scenarios: LoadedScenario[] = [];
  if (Array.isArray(raw.scenarios) && raw.scenarios.length <= experimentBounds.scenarios) {
    raw.scenarios.forEach((scenario, index) => {
      if (typeof scenario !== 'string' || scenario.length === 0) return;
      try {
        scenarios.push(loadScenario(couponScenarioPath(scenario)));
      } catch (error) {
        if (!(error instanceof PricelabError)) throw error;
        const head = error.message.split('\n')[0] ?? '';
        if (error.problems.length === 0) problems.push({ path: ['scenarios', index], message: head });
        for (const problem of error.problems) problems.push({ path: ['scenarios', index, ...problem.path], message: `${problem.message} (in ${scenario})` });
      }
    });
    for (const id of duplicates(scenarios.map((loaded) => loaded.scenario.id))) problems.push({ path: ['scenarios'], message: `expected each scenario once, found ${id} twice` });
  }
  const agents: PlannedAgent[] = [];
  if (Array.isArray(raw.agents) && raw.agents.length <= experimentBounds.agents) {
    raw.agents.forEach((entry: unknown, index) => {
      if (entry === null || typeof entry !== 'object') return;
      const { kind, config, name } = entry as { kind?: unknown; config?: unknown; name?: unknown };
      if (typeof kind !== 'string') return;
      if (!agentDefinitions.has(kind)) {
        problems.push({ path: ['agents', index, 'kind'], message: `expected one of ${[...agentDefinitions.keys()].join(', ')}, found "${kind}"` });
        return;
      }
      // A coupon scenario trains in the coupon market (experiments/sweep-worker.ts), which has no day-kernel model for an oracle.
      const coupons = scenarios.find((loaded) => loaded.scenario.coupons !== undefined);
      if (coupons && agentDefinition(kind).needsModel) {
        problems.push({ path: ['agents', index, 'kind'], message: `expected an agent that reads only the observation on the coupon scenario ${coupons.scenario.id}, found ${kind}, which needs the day kernel's market model (the coupon market has none)` });
        return;
      }
      const checked = agentDefinition(kind).configSchema.safeParse(config ?? {});
      if (!checked.success) {
        for (const issue of checked.error.issues) problems.push({ path: ['agents', index, 'config', ...issue.path.map((part) => (typeof part === 'symbol' ? String(part) : part))], message: issue.message });
        return;
      }
      agents.push({ name: typeof name === 'string' ? name : kind, kind, config: checked.data });
    });
    for (const name of duplicates(agents.map((agent) => agent.name))) problems.push({ path: ['agents'], message: `expected unique agent names, found "${name}" twice (give each arm a "name")` });
  }
  if (problems.length > 0 || !parsed.success) {
    throw configError(`${origin} is not a valid experiment (${problems.length} problem${problems.length === 1 ? '' : 's'})`, problems);
  }
  const file = parsed.data;
  const seeds = Array.isArray(file.seeds) ? file.seeds : Array.from({ length: file.seeds.count }, (_, index) => (file.seeds as { from: number }).from + index);
  const [duplicateSeed] = duplicates(seeds);
  if (duplicateSeed !== undefined) throw configError(`${origin} is not a valid experiment (1 problem)`, [{ path: ['seeds'], message: `expected each seed once, found ${duplicateSeed} twice` }]);
  const runCount = scenarios.length * agents.length * seeds.length;
  if (runCount > experimentBounds.runs) {
    throw configError(`${origin} is not a valid experiment (1 problem)`, [
      { path: ['seeds'], message: `expected at most ${experimentBounds.runs} runs (scenarios x agents x seeds), found ${runCount} (${scenarios.length} x ${agents.length} x ${seeds.length}); split the experiment` },
    ]);
  }
  const runs: PlannedRun[] = [];
  for (const loaded of scenarios) {
    for (const agent of agents) {
      for (const seed of seeds) {
        const identity = {
          experiment: file.name,
          scenario: { id: loaded.scenario.id, contentHash: loaded.contentHash },
          agent,
          seed,
          budget: file.budget,
          evaluation: file.evaluation,
        };
        runs.push({
          id: runKey(identity),
          experiment: file.name,
          scenario: { id: loaded.scenario.id, contentHash: loaded.contentHash, source: loaded.source },
          agent,
          seed,
          budget: file.budget,
          evaluation: file.evaluation,
          kpis: file.kpis,
          checkpointEvery: file.checkpointEvery,
        });
      }
    }
  }
  return { file, scenarios, agents, seeds, runs };
}

/**
 * A zod issue as problems. A union (seeds: a list or {from, count}) fails as "Invalid input"
 * with each option's issues inside; when only one option has the input's type, its issues
 * say what is wrong (too many seeds), so they are listed instead.
 */
function problemsOfIssue(issue: z.core.$ZodIssue, prefix: readonly PropertyKey[] = []): Problem[] {
  const path = [...prefix, ...issue.path].map((part) => (typeof part === 'symbol' ? String(part) : part));
  if (issue.code === 'invalid_union') {
    const ofTheRightType = issue.errors.filter((branch) => !branch.some((inner) => inner.code === 'invalid_type' && inner.path.length === 0));
    if (ofTheRightType.length === 1) return ofTheRightType[0]!.flatMap((inner) => problemsOfIssue(inner, path));
  }
  return [{ path, message: issue.message }];
}

/** Each value found more than once, in the order of its second appearance (linear: a set, not indexOf). */
function duplicates<Value>(values: readonly Value[]): Value[] {
  const seen = new Set<Value>();
  const repeated: Value[] = [];
  for (const value of values) {
    if (seen.has(value)) repeated.push(value);
    else seen.add(value);
  }
  return repeated;
}

/** sha256 of the canonical JSON (keys sorted) of what a run depends on, 16 hex digits. */
export function runKey(identity: unknown): string {
  return createHash('sha256').update(canonicalJson(identity)).digest('hex').slice(0, 16);
}
