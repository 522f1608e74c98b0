/**
 * The rows of the results store as callers see them (runs, comparisons, metrics,
 * evaluations, checkpoints), and how a stored row becomes one, for both backends: JSON
 * columns read through parseStoredJson, checkpoint paths kept relative to the home.
 */
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { z } from 'zod';
import { PricelabError } from '../core/errors.js';
import { parseStoredJson, type StoredCell } from '../core/stored-json.js';

export interface ComparisonRecord {
  readonly scenario: string;
  readonly arms: readonly string[];
  readonly baseline: string;
  readonly summary: unknown;
  readonly reportPath?: string;
}

export interface ComparisonRow {
  readonly id: string;
  readonly createdAt: string;
  readonly scenario: string;
  readonly arms: string[];
  readonly baseline: string;
  readonly summary: unknown;
  readonly reportPath: string | null;
}

export type RunStatus = 'pending' | 'running' | 'interrupted' | 'finished' | 'failed';

/** What identifies a run and what it was asked to do; the id is its run key. */
export interface RunDefinition {
  readonly id: string;
  readonly experiment: string;
  readonly scenario: { readonly id: string; readonly contentHash: string };
  readonly agent: { readonly name: string; readonly kind: string; readonly config: unknown };
  readonly seed: number;
  /** The run manifest (design.md "Run record"), as JSON. */
  readonly manifest: unknown;
}

/** A stored run: its definition, and where it stands. */
export interface RunRow extends RunDefinition {
  readonly status: RunStatus;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly endedAt: string | null;
  readonly error: string | null;
}

/** A metric: a number, or any JSON (curves, lists). */
export type MetricValue = number | null | { readonly json: unknown };

export interface EvaluationRow {
  readonly episode: number;
  readonly seed: number;
  readonly totalReward: number;
  readonly kpis: Record<string, number | null>;
}

export interface CheckpointRow {
  readonly runId: string;
  readonly episodes: number;
  readonly steps: number;
  readonly path: string;
  readonly sha256: string;
  readonly writtenAt: string;
}

/** One greedy evaluation of a training run: the observed steps so far and the mean episode reward. */
export interface EvaluationCurvePoint {
  readonly steps: number;
  readonly meanReward: number;
}

/** A run as a runs table shows it (ResultsStore.listRunsWithCurves). */
export interface RunWithCurve {
  readonly run: RunRow;
  /** The run's numeric metrics by key (JSON metrics other than the curve are left out). */
  readonly metrics: Readonly<Record<string, number | null>>;
  /** Greedy evaluations in training order (empty when the run stored none). */
  readonly curve: readonly EvaluationCurvePoint[];
  /** The policy artifact folder the run wrote (absolute), or null. */
  readonly artifactPath: string | null;
}

/** The experiment name of the runs `pricelab train` records. */
export const trainingExperiment = 'train';

export function curveOf(value: unknown): EvaluationCurvePoint[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((point: unknown) => {
    const candidate = point as { steps?: unknown; meanReward?: unknown } | null;
    return typeof candidate?.steps === 'number' && typeof candidate.meanReward === 'number' ? [{ steps: candidate.steps, meanReward: candidate.meanReward }] : [];
  });
}

/** Everything a finished run stores, written in one transaction. */
export interface FinishedRun {
  readonly manifest: unknown;
  readonly metrics: Readonly<Record<string, MetricValue>>;
  readonly evaluations: readonly EvaluationRow[];
}

export interface RawRun {
  id: string;
  experiment: string;
  scenario_id: string;
  scenario_hash: string;
  agent_name: string;
  agent_kind: string;
  agent_config: string;
  seed: number;
  manifest: string;
  status: RunStatus;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
  error: string | null;
}

export interface RawComparison {
  id: string;
  created_at: string;
  scenario: string;
  arms: string;
  baseline: string;
  summary: string;
  report_path: string | null;
}

export function comparisonOf(row: RawComparison, file: string): ComparisonRow {
  const cell = (column: string): StoredCell => ({ table: 'comparisons', row: `id=${row.id}`, column });
  return {
    id: row.id,
    createdAt: row.created_at,
    scenario: row.scenario,
    arms: parseStoredJson(row.arms, file, cell('arms'), armsSchema),
    baseline: row.baseline,
    summary: parseStoredJson(row.summary, file, cell('summary')),
    reportPath: row.report_path,
  };
}

export function runOf(row: RawRun, file: string): RunRow {
  const cell = (column: string): StoredCell => ({ table: 'runs', row: `id=${row.id}`, column });
  return {
    id: row.id,
    experiment: row.experiment,
    scenario: { id: row.scenario_id, contentHash: row.scenario_hash },
    agent: { name: row.agent_name, kind: row.agent_kind, config: parseStoredJson(row.agent_config, file, cell('agent_config')) },
    seed: row.seed,
    manifest: parseStoredJson(row.manifest, file, cell('manifest')),
    status: row.status,
    createdAt: row.created_at,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    error: row.error,
  };
}

export interface RawCheckpoint {
  run_id: string;
  episodes: number;
  steps: number;
  path: string;
  sha256: string;
  written_at: string;
}

/** A checkpoint row, its path absolute (resolved against the home); a path leading outside the home is an integrity error. */
export function checkpointRowOf(row: RawCheckpoint, home: string, file: string): CheckpointRow {
  if (homeRelative(home, row.path) === undefined) {
    throw new PricelabError('integrity', `the results store ${file} is damaged: table checkpoints, row run_id=${row.run_id}, column path`, [
      { path: ['checkpoints', `run_id=${row.run_id}`, 'path'], message: `expected a path inside the pricelab home ${home}, found ${row.path}; discard the checkpoint with --resume --restart-failed after the run fails, or correct the row` },
    ]);
  }
  return { runId: row.run_id, episodes: row.episodes, steps: row.steps, path: resolve(home, row.path), sha256: row.sha256, writtenAt: row.written_at };
}

/** A stored metric: a number in value, or JSON text in json. */
export interface RawMetric {
  run_id: string;
  key: string;
  value: number | null;
  json: string | null;
}

/** A run's metrics by key: numbers as numbers, JSON metrics parsed. */
export function metricsOfRows(rows: readonly Omit<RawMetric, 'run_id'>[], runId: string, file: string): Record<string, number | null | unknown> {
  return Object.fromEntries(rows.map((row) => [row.key, row.json !== null ? parseStoredJson(row.json, file, metricCell(runId, row.key)) : row.value]));
}

/**
 * The policy artifact folder a run's manifest names (`policy`), absolute: a sweep run's is kept
 * relative to the home (artifact root), like checkpoint paths, so a copied home finds its own
 * files; `pricelab train`'s (its --out folder) and older stores' are absolute. Null when none.
 */
export function runArtifactPath(run: RunRow, home: string): string | null {
  const manifest = run.manifest as { policy?: unknown } | null;
  return typeof manifest?.policy === 'string' ? resolve(home, manifest.policy) : null;
}

/** A run as a runs table shows it, from its metric rows: numeric metrics, the evaluation curve (metric `eval/curve`), the policy artifact its manifest names. */
export function runWithCurveOf(run: RunRow, rows: readonly RawMetric[], file: string, home: string): RunWithCurve {
  const metrics: Record<string, number | null> = {};
  let curve: EvaluationCurvePoint[] = [];
  for (const row of rows) {
    if (row.key === 'eval/curve' && row.json !== null) curve = curveOf(parseStoredJson(row.json, file, metricCell(row.run_id, row.key)));
    else if (row.json === null) metrics[row.key] = row.value;
  }
  return { run, metrics, curve, artifactPath: runArtifactPath(run, home) };
}

export interface RawEvaluation {
  episode: number;
  seed: number;
  total_reward: number;
  kpis: string;
}

export function evaluationOf(row: RawEvaluation, runId: string, file: string): EvaluationRow {
  return {
    episode: row.episode,
    seed: row.seed,
    totalReward: row.total_reward,
    kpis: parseStoredJson(row.kpis, file, { table: 'evaluations', row: `run_id=${runId}, episode=${row.episode}`, column: 'kpis' }, kpisSchema),
  };
}

/** A path (absolute, or relative to the home) as the store keeps it: relative to the home, '/'-separated; undefined when it lies outside the home. */
export function homeRelative(home: string, path: string): string | undefined {
  const inside = relative(home, resolve(home, path));
  if (inside === '' || inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) return undefined;
  return inside.split(sep).join('/');
}

export const metricCell = (runId: string, key: string): StoredCell => ({ table: 'metrics', row: `run_id=${runId}, key=${key}`, column: 'json' });
const armsSchema = z.array(z.string());
export const kpisSchema = z.record(z.string(), z.number().nullable());

