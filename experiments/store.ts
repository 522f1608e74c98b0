/**
 * The results store: one embedded SQLite database (better-sqlite3) in the pricelab home
 * folder (`PRICELAB_HOME`, default `./.pricelab`), file `pricelab.db`.
 *
 * Tables (experiments/store-schema.ts; schema version in `PRAGMA user_version`, migrations
 * applied in order on open; rows as callers see them in experiments/store-rows.ts):
 *   comparisons   one A/B comparison: scenario, arms, baseline, summary (JSON), report path
 *   runs          one training run of a sweep: its run key (the id), experiment, scenario
 *                 id + content hash, agent name/kind/config, seed, manifest (JSON), status
 *                 (pending, running, interrupted, finished, failed), times, error
 *   metrics       (run, key) -> a number or JSON, keys namespaced rollout/, train/, eval/, market/, time/
 *   evaluations   one greedy evaluation episode of a run: seed, total reward, KPIs (JSON)
 *   checkpoints   the last checkpoint of a run: episode boundary, steps, file path (relative
 *                 to the home, '/'-separated, since schema 2), sha256
 *
 * The database runs in WAL mode with foreign keys on (core/home-database.ts). Every write that belongs together
 * happens in one transaction, so a killed process leaves no half-written run: a run is
 * either finished with all its metrics and evaluations, or not finished at all.
 */
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { databasePath, openHomeDatabase, resultsHome } from '../core/home-database.js';
import type { StoreLocation } from '../core/store-url.js';
import type { ResultsStoreBackend } from './store-backend.js';
import { migrate } from './store-schema.js';
import { comparisonOf, checkpointRowOf, evaluationOf, metricsOfRows, runOf, runWithCurveOf, type CheckpointRow, type ComparisonRecord, type ComparisonRow, type EvaluationRow, type FinishedRun, type RawCheckpoint, type RawComparison, type RawEvaluation, type RawMetric, type RawRun, type RunDefinition, type RunRow, type RunStatus, type RunWithCurve } from './store-rows.js';
import { checkpointUpsert, comparisonColumns, comparisonValues, evaluationValues, metricValues, notStoredRun, runColumns, runFilterClause, runValues, statusAssignments, storedCheckpointPath, type CellValue, type StatusFields } from './store-statements.js';

export { databaseFileName, databasePath, ensureHomeFolder, guardAgainstDamage, openHomeDatabase, resultsHome, storeFileError } from '../core/home-database.js';
export { parseStoredJson, type StoredCell } from '../core/stored-json.js';
export { schemaVersion } from './store-schema.js';
export { openResultsStore, usingResultsStore, type ResultsStoreBackend, type RunFilter } from './store-backend.js';
export { storeLocation, describeLocation, type StoreLocation } from '../core/store-url.js';
export {
  trainingExperiment,
  type CheckpointRow,
  type ComparisonRecord,
  type ComparisonRow,
  type EvaluationCurvePoint,
  type EvaluationRow,
  type FinishedRun,
  type MetricValue,
  type RunDefinition,
  type RunRow,
  type RunStatus,
  type RunWithCurve,
} from './store-rows.js';

const now = () => new Date().toISOString();

/** SQLite's placeholder: `?`, the value kept in `values`. */
const positional = (values: CellValue[]) => (value: CellValue) => {
  values.push(value);
  return '?';
};
const questionMarks = (count: number) => Array.from({ length: count }, () => '?').join(', ');

export class ResultsStore implements ResultsStoreBackend {
  readonly home: string;
  readonly path: string;
  readonly location: StoreLocation;
  private readonly database: Database.Database;

  private constructor(home: string, database: Database.Database) {
    this.home = home;
    this.path = databasePath(home);
    this.location = { kind: 'sqlite', home };
    this.database = database;
  }

  /** Opens (creating if needed) the store of a home folder: WAL, foreign keys, schema migrated. */
  static open(home: string = resultsHome()): ResultsStore {
    const { folder, database } = openHomeDatabase(home, (database) => {
      database.pragma('synchronous = NORMAL');
      migrate(database);
      // Reads the schema: a damaged header or schema page is found here, on open.
      database.prepare('SELECT count(*) FROM sqlite_master').get();
    });
    return new ResultsStore(folder, database);
  }

  close(): void {
    if (this.database.open) this.database.close();
  }

  // Comparisons -----------------------------------------------------------------------

  recordComparison(record: ComparisonRecord): string {
    const id = randomUUID();
    this.database.prepare(`INSERT INTO comparisons (${comparisonColumns.join(', ')}) VALUES (${questionMarks(comparisonColumns.length)})`).run(...comparisonValues(id, now(), record));
    return id;
  }

  listComparisons(): ComparisonRow[] {
    const rows = this.database.prepare('SELECT * FROM comparisons ORDER BY created_at, rowid').all() as RawComparison[];
    return rows.map((row) => comparisonOf(row, this.path));
  }

  getComparison(id: string): ComparisonRow | undefined {
    const row = this.database.prepare('SELECT * FROM comparisons WHERE id = ?').get(id) as RawComparison | undefined;
    return row ? comparisonOf(row, this.path) : undefined;
  }

  /**
   * The first recorded comparison whose summary is exactly this JSON (as `recordComparison`
   * wrote it: JSON.stringify of the summary, so a --json file parsed back matches it), if any.
   */
  findComparisonBySummary(summary: unknown): ComparisonRow | undefined {
    const row = this.database.prepare('SELECT * FROM comparisons WHERE summary = ? ORDER BY created_at, rowid LIMIT 1').get(JSON.stringify(summary ?? null)) as RawComparison | undefined;
    return row ? comparisonOf(row, this.path) : undefined;
  }

  // Runs ------------------------------------------------------------------------------

  /** Registers runs not yet stored (as pending), in one transaction; runs already stored are left as they are. */
  registerRuns(definitions: readonly RunDefinition[]): void {
    const insert = this.database.prepare(
      `INSERT INTO runs (${runColumns.map(([column]) => column).join(', ')}, status, created_at)
       VALUES (${questionMarks(runColumns.length)}, 'pending', ?) ON CONFLICT (id) DO NOTHING`,
    );
    this.database.transaction(() => {
      const createdAt = now();
      for (const run of definitions) insert.run(...runValues(run), createdAt);
    })();
  }

  getRun(id: string): RunRow | undefined {
    const row = this.database.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RawRun | undefined;
    return row ? runOf(row, this.path) : undefined;
  }

  /** Runs in the order they were registered; optionally one experiment's, or those whose id starts with a prefix. */
  listRuns(filter: { experiment?: string; idPrefix?: string; status?: RunStatus } = {}): RunRow[] {
    const values: CellValue[] = [];
    const where = runFilterClause(filter, positional(values));
    const rows = this.database.prepare(`SELECT * FROM runs ${where} ORDER BY created_at, rowid`).all(...values) as RawRun[];
    return rows.map((row) => runOf(row, this.path));
  }

  /**
   * Runs with what a runs table shows (the dashboard's, `pricelab runs list`): each run, its
   * numeric metrics, its evaluation curve (metric `eval/curve`: greedy evaluations over training
   * steps, empty when none was stored) and the policy artifact it wrote (manifest `policy`, null
   * when none). The same filter as listRuns; `pricelab train` runs have experiment "train".
   */
  listRunsWithCurves(filter: { experiment?: string; idPrefix?: string; status?: RunStatus } = {}): RunWithCurve[] {
    const runs = this.listRuns(filter);
    const metricRows = this.database.prepare('SELECT run_id, key, value, json FROM metrics WHERE run_id = ? ORDER BY key');
    return runs.map((run) => runWithCurveOf(run, metricRows.all(run.id) as RawMetric[], this.path, this.home));
  }

  /** Marks a run as running (clearing an earlier error). */
  markRunning(id: string): void {
    this.updateStatus(id, 'running', { startedAt: now(), endedAt: null, error: null });
  }

  /** Marks runs as interrupted (a stopped or killed sweep); only those still running. */
  markInterrupted(ids: readonly string[]): void {
    const update = this.database.prepare(`UPDATE runs SET status = 'interrupted' WHERE id = ? AND status = 'running'`);
    this.database.transaction(() => {
      for (const id of ids) update.run(id);
    })();
  }

  markFailed(id: string, error: string): void {
    this.updateStatus(id, 'failed', { endedAt: now(), error });
  }

  /**
   * Stores a finished run in one transaction: status, final manifest, every metric and
   * every evaluation episode (replacing any from an earlier attempt), and drops its checkpoint row.
   */
  finishRun(id: string, finished: FinishedRun): void {
    const database = this.database;
    database.transaction(() => {
      const changed = database.prepare(`UPDATE runs SET status = 'finished', manifest = ?, ended_at = ?, error = NULL WHERE id = ?`).run(JSON.stringify(finished.manifest ?? null), now(), id);
      if (changed.changes === 0) throw notStoredRun(id);
      database.prepare('DELETE FROM metrics WHERE run_id = ?').run(id);
      database.prepare('DELETE FROM evaluations WHERE run_id = ?').run(id);
      database.prepare('DELETE FROM checkpoints WHERE run_id = ?').run(id);
      const metric = database.prepare('INSERT INTO metrics (run_id, key, value, json) VALUES (?, ?, ?, ?)');
      for (const values of metricValues(finished)) metric.run(id, ...values);
      const evaluation = database.prepare('INSERT INTO evaluations (run_id, episode, seed, total_reward, kpis) VALUES (?, ?, ?, ?, ?)');
      for (const values of evaluationValues(finished)) evaluation.run(id, ...values);
    })();
  }

  /** A run's metrics by key: numbers as numbers, JSON metrics parsed. */
  metricsOf(id: string): Record<string, number | null | unknown> {
    return metricsOfRows(this.database.prepare('SELECT key, value, json FROM metrics WHERE run_id = ? ORDER BY key').all(id) as Omit<RawMetric, 'run_id'>[], id, this.path);
  }

  /** One numeric metric of many runs at once: run id -> value. */
  metricOfRuns(key: string): Map<string, number | null> {
    const rows = this.database.prepare('SELECT run_id, value FROM metrics WHERE key = ?').all(key) as { run_id: string; value: number | null }[];
    return new Map(rows.map((row) => [row.run_id, row.value]));
  }

  evaluationsOf(id: string): EvaluationRow[] {
    const rows = this.database.prepare('SELECT episode, seed, total_reward, kpis FROM evaluations WHERE run_id = ? ORDER BY episode').all(id) as RawEvaluation[];
    return rows.map((row) => evaluationOf(row, id, this.path));
  }

  // Checkpoints -----------------------------------------------------------------------

  /**
   * Points a run at its newest checkpoint file (written atomically before this call), in one
   * transaction. The path (absolute, or relative to the home) must lie inside the home; the
   * row keeps it relative to the home, so a copied home resumes from its own files.
   */
  recordCheckpoint(checkpoint: Omit<CheckpointRow, 'writtenAt'>): void {
    const stored = storedCheckpointPath(this.home, checkpoint);
    this.database.prepare(checkpointUpsert(['?', '?', '?', '?', '?', '?'])).run(checkpoint.runId, checkpoint.episodes, checkpoint.steps, stored, checkpoint.sha256, now());
  }

  /** A run's checkpoint row, its path absolute (resolved against this home); a path leading outside the home is an integrity error. */
  checkpointOf(runId: string): CheckpointRow | undefined {
    const row = this.database.prepare('SELECT * FROM checkpoints WHERE run_id = ?').get(runId) as RawCheckpoint | undefined;
    return row ? checkpointRowOf(row, this.home, this.path) : undefined;
  }

  /** Forgets a run's checkpoint (`--restart-failed`): the run starts afresh; its files are removed by the caller after this. */
  discardCheckpoint(runId: string): void {
    this.database.prepare('DELETE FROM checkpoints WHERE run_id = ?').run(runId);
  }

  private updateStatus(id: string, status: RunStatus, fields: StatusFields): void {
    const values: CellValue[] = [];
    const sets = statusAssignments(status, fields, positional(values));
    const changed = this.database.prepare(`UPDATE runs SET ${sets} WHERE id = ?`).run(...values, id);
    if (changed.changes === 0) throw notStoredRun(id);
  }
}

