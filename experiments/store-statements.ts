/**
 * What both results-store backends (experiments/store.ts on SQLite, experiments/store-postgres.ts
 * on PostgreSQL) write and ask, as column lists and values: a backend adds only its dialect
 * (placeholders `?` or `$n`, row by row or as arrays through unnest). Stored rows become what
 * callers see in experiments/store-rows.ts.
 */
import { PricelabError } from '../core/errors.js';
import { homeRelative, type CheckpointRow, type ComparisonRecord, type FinishedRun, type RunDefinition, type RunStatus } from './store-rows.js';

/** A value as the store keeps it in one column. */
export type CellValue = string | number | null;

export const comparisonColumns = ['id', 'created_at', 'scenario', 'arms', 'baseline', 'summary', 'report_path'] as const;

/** A new comparison's row, in `comparisonColumns` order. */
export function comparisonValues(id: string, createdAt: string, record: ComparisonRecord): CellValue[] {
  return [id, createdAt, record.scenario, JSON.stringify(record.arms), record.baseline, JSON.stringify(record.summary ?? null), record.reportPath ?? null];
}

/** A registered run's columns beside status and created_at, with the type of each (PostgreSQL's arrays need it). */
export const runColumns = [
  ['id', 'text'],
  ['experiment', 'text'],
  ['scenario_id', 'text'],
  ['scenario_hash', 'text'],
  ['agent_name', 'text'],
  ['agent_kind', 'text'],
  ['agent_config', 'text'],
  ['seed', 'bigint'],
  ['manifest', 'text'],
] as const;

/** A run's definition as a row, in `runColumns` order. */
export function runValues(run: RunDefinition): CellValue[] {
  return [run.id, run.experiment, run.scenario.id, run.scenario.contentHash, run.agent.name, run.agent.kind, JSON.stringify(run.agent.config ?? null), run.seed, JSON.stringify(run.manifest ?? null)];
}

/**
 * The WHERE clause of a run listing (empty when the filter is), its values through
 * `parameter`, which keeps the value and returns the dialect's placeholder for it.
 */
export function runFilterClause(filter: { experiment?: string; idPrefix?: string; status?: RunStatus }, parameter: (value: CellValue) => string): string {
  const clauses: string[] = [];
  if (filter.experiment !== undefined) clauses.push(`experiment = ${parameter(filter.experiment)}`);
  if (filter.idPrefix !== undefined) clauses.push(`substr(id, 1, ${parameter(filter.idPrefix.length)}) = ${parameter(filter.idPrefix)}`);
  if (filter.status !== undefined) clauses.push(`status = ${parameter(filter.status)}`);
  return clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '';
}

/** The fields a status change sets beside the status (undefined: left as it is; null: cleared). */
export interface StatusFields {
  readonly startedAt?: string;
  readonly endedAt?: string | null;
  readonly error?: string | null;
}

/** The SET list of a status change, values through `parameter` as in runFilterClause. */
export function statusAssignments(status: RunStatus, fields: StatusFields, parameter: (value: CellValue) => string): string {
  const sets = [`status = ${parameter(status)}`];
  if (fields.startedAt !== undefined) sets.push(`started_at = ${parameter(fields.startedAt)}`);
  if (fields.endedAt !== undefined) sets.push(`ended_at = ${parameter(fields.endedAt)}`);
  if (fields.error !== undefined) sets.push(`error = ${parameter(fields.error)}`);
  return sets.join(', ');
}

export const notStoredRun = (id: string) => new PricelabError('not-found', `no run ${id} in the store`);

/** A finished run's metrics as rows of (key, value, json): a number in value, any other JSON in json. */
export function metricValues(finished: FinishedRun): [key: string, value: number | null, json: string | null][] {
  return Object.entries(finished.metrics).map(([key, value]) => (value !== null && typeof value === 'object' ? [key, null, JSON.stringify(value.json)] : [key, value, null]));
}

/** A finished run's evaluation episodes as rows of (episode, seed, total_reward, kpis). */
export function evaluationValues(finished: FinishedRun): [episode: number, seed: number, totalReward: number, kpis: string][] {
  return finished.evaluations.map((episode) => [episode.episode, episode.seed, episode.totalReward, JSON.stringify(episode.kpis)]);
}

/**
 * A checkpoint's path as the store keeps it: relative to the home ('/'-separated), so a
 * copied home resumes from its own files; a file outside the home is refused.
 */
export function storedCheckpointPath(home: string, checkpoint: Omit<CheckpointRow, 'writtenAt'>): string {
  const stored = homeRelative(home, checkpoint.path);
  if (stored === undefined) {
    throw new PricelabError('integrity', `the checkpoint ${checkpoint.path} of run ${checkpoint.runId} lies outside the pricelab home ${home}`, [
      { path: ['checkpoints', checkpoint.runId, 'path'], message: `expected a file under ${home}, found ${checkpoint.path}` },
    ]);
  }
  return stored;
}

export const checkpointUpsert = (placeholders: readonly string[]) =>
  `INSERT INTO checkpoints (run_id, episodes, steps, path, sha256, written_at) VALUES (${placeholders.join(', ')})
         ON CONFLICT (run_id) DO UPDATE SET episodes = excluded.episodes, steps = excluded.steps, path = excluded.path, sha256 = excluded.sha256, written_at = excluded.written_at`;
