/**
 * Calvano-grid experiment files: the Calvano et al. (2020) experiment (agents/calvano.ts)
 * over a grid of learning rates alpha x exploration decays beta, S sessions per grid point,
 * the paper's profit-gain heatmap. JSON with `"kind": "calvano-grid"`, validated by a zod
 * schema (a description on every field); a bad file is refused with every problem listed
 * by path before anything runs or is stored. Files without a kind are sweeps
 * (experiments/experiment-file.ts); `readExperimentKind` tells them apart.
 *
 * An axis is `{from, to, points}`: `points` evenly spaced values from `from` to `to`, both
 * included; with `"includeFrom": false` the axis is (from, to] instead, the values
 * from + (to - from) k / points for k = 1..points, which is how the paper's beta axis
 * (0, 2e-5] starts after 0. Values are rounded to 12 significant digits, so a file plans
 * the same values (and run keys) on every machine.
 *
 * Planning: one session per (alpha, beta, seed), alpha-major, then beta, then seed; every
 * grid point uses the same seeds (common random numbers across the grid). Each session is
 * stored as a run (experiments/store.ts) of agent kind "calvano" whose config is the
 * validated Calvano config of its grid point, with a deterministic run key (runKey of the
 * experiment name, scenario id + content hash, agent and seed; `sessionKeys`): the same file plans the
 * same keys, so `--resume` (and a queue's job ids) find the sessions already stored.
 *
 * Bounds: at most 100 points per axis (the paper's grid is 100 x 100), 10,000 seeds and
 * 1,000,000 sessions per file (split a larger grid by seed ranges under one name).
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { calvanoConfigSchema, parseCalvanoConfig, resolveCalvanoConfig, type CalvanoConfig, type ResolvedCalvanoConfig } from '../agents/calvano.js';
import { PricelabError, configError, type Problem } from '../core/errors.js';
import { canonicalJson, readJsonFile } from '../core/json-file.js';
import { loadScenario, type LoadedScenario } from '../scenarios/load.js';

export const calvanoGridKind = 'calvano-grid';

/** The largest grid a file may ask for. */
export const calvanoGridBounds = { pointsPerAxis: 100, seeds: 10_000, sessions: 1_000_000 } as const;

const axisSchema = z.strictObject({
  from: z.number().describe('first value of the axis (left out when includeFrom is false)'),
  to: z.number().describe('last value of the axis (always included)'),
  points: z
    .number()
    .int()
    .min(1)
    .max(calvanoGridBounds.pointsPerAxis, { error: (issue) => `expected at most ${calvanoGridBounds.pointsPerAxis} points per axis, found ${String(issue.input)}` })
    .describe('number of values on the axis, evenly spaced'),
  includeFrom: z.boolean().default(true).describe('true: [from, to] with both ends; false: (from, to], the values from + (to - from) k / points, k = 1..points'),
});

export type GridAxis = z.output<typeof axisSchema>;

export const calvanoGridFileSchema = z.strictObject({
  $schema: z.string().optional().describe('ignored; lets editors find a JSON schema'),
  kind: z.literal(calvanoGridKind).describe('"calvano-grid": this file is a Calvano alpha x beta grid, not a sweep of scenarios x agents'),
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/i, 'expected letters, digits, ".", "_" or "-"').describe('experiment name: part of every run key, shown by `pricelab runs list`'),
  description: z.string().optional().describe('what the experiment asks, for people'),
  alpha: axisSchema.describe('the learning-rate axis (paper: 0.025 to 0.25, 100 points)'),
  beta: axisSchema.describe('the exploration-decay axis (paper: (0, 2e-5], 100 points: includeFrom false)'),
  seeds: z
    .strictObject({
      from: z.number().int().describe('seed of the first session of every grid point'),
      count: z
        .number()
        .int()
        .min(1)
        .max(calvanoGridBounds.seeds, { error: (issue) => `expected at most ${calvanoGridBounds.seeds} seeds, found ${String(issue.input)}` })
        .describe('sessions per grid point'),
    })
    .describe('sessions per grid point: seeds from, from + 1, ..., from + count - 1, the same at every point'),
  calvano: z
    .record(z.string(), z.unknown())
    .default({})
    .describe('the rest of the Calvano config (docs/agents/calvano.md: scenario, delta, maxPeriods, convergenceWindow, ...), the same at every grid point; alpha and beta come from the axes'),
});

export type CalvanoGridFile = z.output<typeof calvanoGridFileSchema>;

/** One session of the grid: a grid point's config and a seed. */
export interface CalvanoGridSession {
  /** The run key. */
  readonly id: string;
  readonly alpha: number;
  readonly beta: number;
  readonly seed: number;
  /** The validated config (defaults filled in), as stored with the run. */
  readonly config: CalvanoConfig;
  /** The config with its scenario's game spelled out: what a worker needs, and nothing from this machine's disk. */
  readonly resolved: ResolvedCalvanoConfig;
}

export interface CalvanoGridPlan {
  readonly file: CalvanoGridFile;
  readonly scenario: LoadedScenario;
  readonly alphas: readonly number[];
  readonly betas: readonly number[];
  readonly seeds: readonly number[];
  /** Alpha-major, then beta, then seed. */
  readonly sessions: readonly CalvanoGridSession[];
}

/** The values of an axis, rounded to 12 significant digits. */
export function axisValues(axis: GridAxis): number[] {
  const round = (value: number) => Number(value.toPrecision(12));
  if (axis.includeFrom) {
    if (axis.points === 1) return [round(axis.from)];
    return Array.from({ length: axis.points }, (_, k) => round(axis.from + ((axis.to - axis.from) * k) / (axis.points - 1)));
  }
  return Array.from({ length: axis.points }, (_, k) => round(axis.from + ((axis.to - axis.from) * (k + 1)) / axis.points));
}

/** The `kind` of an experiment file's JSON: "sweep" when it names none. */
export function readExperimentKind(json: unknown): string {
  const kind = json !== null && typeof json === 'object' && !Array.isArray(json) ? (json as { kind?: unknown }).kind : undefined;
  return kind === undefined ? 'sweep' : typeof kind === 'string' ? kind : String(JSON.stringify(kind));
}

/** Reads, validates and plans a Calvano-grid file; every problem is listed in one error (kind config, exit 2). */
export function loadCalvanoGridFile(path: string): CalvanoGridPlan {
  return planCalvanoGrid(readJsonFile(path, 'experiment file'), path);
}

/** Validates a Calvano grid (already parsed JSON) and plans its sessions. */
export function planCalvanoGrid(json: unknown, origin = 'experiment'): CalvanoGridPlan {
  const refuse = (problems: readonly Problem[]) => configError(`${origin} is not a valid Calvano grid (${problems.length} problem${problems.length === 1 ? '' : 's'})`, [...problems]);
  const parsed = calvanoGridFileSchema.safeParse(json);
  if (!parsed.success) throw refuse(parsed.error.issues.map(problemOfIssue));
  const file = parsed.data;
  const problems: Problem[] = [];
  for (const name of ['alpha', 'beta'] as const) {
    const axis = file[name];
    if (axis.points > 1 || !axis.includeFrom) {
      if (!(axis.to > axis.from)) problems.push({ path: [name, 'to'], message: `expected to > from (${axis.from}), found ${axis.to}` });
    }
  }
  const alphas = axisValues(file.alpha);
  const betas = axisValues(file.beta);
  const lowestAlpha = Math.min(...alphas);
  const highestAlpha = Math.max(...alphas);
  if (lowestAlpha <= 0 || highestAlpha > 1) problems.push({ path: ['alpha'], message: `expected every alpha in (0, 1] (a learning rate), found values from ${lowestAlpha} to ${highestAlpha}` });
  const lowestBeta = Math.min(...betas);
  if (lowestBeta < 0) problems.push({ path: ['beta', 'from'], message: `expected every beta >= 0, found ${lowestBeta}` });
  else if (lowestBeta === 0) {
    problems.push({
      path: ['beta', 'includeFrom'],
      message: 'expected every beta > 0, found beta = 0 on the axis: a session at beta 0 never stops exploring and runs to maxPeriods (one billion periods by default, over a minute each); set "includeFrom": false to span (from, to] as the paper does',
    });
  }
  for (const field of ['alpha', 'beta'] as const) {
    if (field in file.calvano) problems.push({ path: ['calvano', field], message: `expected no ${field} here: ${field} comes from the grid's ${field} axis` });
  }
  const sessionCount = alphas.length * betas.length * file.seeds.count;
  if (sessionCount > calvanoGridBounds.sessions) {
    problems.push({
      path: ['seeds', 'count'],
      message: `expected at most ${calvanoGridBounds.sessions.toLocaleString('en-US')} sessions (alpha points x beta points x seeds), found ${sessionCount.toLocaleString('en-US')} (${alphas.length} x ${betas.length} x ${file.seeds.count}); split the seeds over files with the same name`,
    });
  }
  // The shared part of the config, checked with the paper's alpha and beta standing in for
  // the axes' (whose problems are listed above): its problems name the file's `calvano` fields.
  let baseConfig: CalvanoConfig | undefined;
  let scenario: LoadedScenario | undefined;
  const shared = Object.fromEntries(Object.entries(file.calvano).filter(([field]) => field !== 'alpha' && field !== 'beta'));
  try {
    baseConfig = parseCalvanoConfig({ ...shared, alpha: 0.15, beta: 4e-6 });
    scenario = loadScenario(baseConfig.scenario);
    resolveCalvanoConfig(baseConfig, scenario.scenario);
  } catch (error) {
    if (!(error instanceof PricelabError)) throw error;
    if (error.problems.length === 0) problems.push({ path: ['calvano'], message: error.message.split('\n')[0] ?? error.message });
    for (const problem of error.problems) problems.push({ path: ['calvano', ...problem.path], message: problem.message });
  }
  if (problems.length > 0 || baseConfig === undefined || scenario === undefined) throw refuse(problems);
  const seeds = Array.from({ length: file.seeds.count }, (_, index) => file.seeds.from + index);
  const sessions: CalvanoGridSession[] = [];
  const loaded = scenario;
  for (const alpha of alphas) {
    for (const beta of betas) {
      const config = parseCalvanoConfig({ ...file.calvano, alpha, beta });
      const resolved = resolveCalvanoConfig(config, loaded.scenario);
      const keyOf = sessionKeys(file.name, loaded, agentOf(config));
      for (const seed of seeds) sessions.push({ id: keyOf(seed), alpha, beta, seed, config, resolved });
    }
  }
  return { file, scenario: loaded, alphas, betas, seeds, sessions };
}

/**
 * The run keys of one grid point's sessions: runKey({experiment, scenario, agent, seed}),
 * with the canonical JSON of everything but the seed written once per point (a million
 * sessions plan in a few seconds). canonicalJson sorts keys, and "seed" comes last.
 */
export function sessionKeys(experiment: string, scenario: LoadedScenario, agent: ReturnType<typeof agentOf>): (seed: number) => string {
  const identity = canonicalJson({ agent, experiment, scenario: { id: scenario.scenario.id, contentHash: scenario.contentHash } });
  const prefix = `${identity.slice(0, -1)},"seed":`;
  return (seed) => createHash('sha256').update(`${prefix}${JSON.stringify(seed)}}`).digest('hex').slice(0, 16);
}

/** The agent a grid session is stored as: kind "calvano", named by its grid point, with its validated config. */
export function agentOf(config: CalvanoConfig): { readonly name: string; readonly kind: 'calvano'; readonly config: CalvanoConfig } {
  return { name: `calvano-a${config.alpha}-b${config.beta}`, kind: 'calvano', config };
}

function problemOfIssue(issue: z.core.$ZodIssue): Problem {
  const path = issue.path.map((part) => (typeof part === 'symbol' ? String(part) : part));
  if (issue.code === 'unrecognized_keys') return { path, message: `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => `"${key}"`).join(', ')}: expected only the documented fields` };
  if (issue.code === 'invalid_value' && path.length === 1 && path[0] === 'kind') return { path, message: `expected "${calvanoGridKind}", found ${JSON.stringify(issue.input)}` };
  return { path, message: issue.message };
}

/** calvanoConfigSchema's fields a grid file may set under `calvano` (for docs and help). */
export const calvanoGridConfigFields = Object.keys(calvanoConfigSchema.shape).filter((field) => field !== 'alpha' && field !== 'beta');
