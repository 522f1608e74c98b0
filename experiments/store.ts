/**
 * The results store: one embedded SQLite database (better-sqlite3) in the pricelab home
 * folder (`PRICELAB_HOME`, default `./.pricelab`), file `pricelab.db`.
 *
 * Tables (schema version in `PRAGMA user_version`, migrations applied in order on open):
 *   comparisons   one A/B comparison: scenario, arms, baseline, summary (JSON), report path
 *   runs          one training run of a sweep: its run key (the id), experiment, scenario
 *                 id + content hash, agent name/kind/config, seed, manifest (JSON), status
 *                 (pending, running, interrupted, finished, failed), times, error
 *   metrics       (run, key) -> a number or JSON, keys namespaced rollout/, train/, eval/, market/, time/
 *   evaluations   one greedy evaluation episode of a run: seed, total reward, KPIs (JSON)
 *   checkpoints   the last checkpoint of a run: episode boundary, steps, file path (relative
 *                 to the home, '/'-separated, since schema 2), sha256
 *
 * The database runs in WAL mode with foreign keys on. Every write that belongs together
 * happens in one transaction, so a killed process leaves no half-written run: a run is
 * either finished with all its metrics and evaluations, or not finished at all.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { PricelabError } from '../core/errors.js';

/** The pricelab home folder: PRICELAB_HOME, or ./.pricelab, as an absolute path. */
export function resultsHome(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.PRICELAB_HOME;
  return resolve(configured !== undefined && configured !== '' ? configured : '.pricelab');
}

export const databaseFileName = 'pricelab.db';

/** The database file of a home folder. */
/**
 * Opens the home's pricelab.db as the results store and the policy registry both do: the
 * folder made if needed, WAL, foreign keys, one busy timeout (10 s) for every process that
 * shares the file; `prepare` migrates and checks its own tables. A file SQLite cannot open
 * or write is exit 2 naming it, a damaged one exit 4 (storeFileError); later statements
 * are guarded the same way (guardAgainstDamage).
 */
export function openHomeDatabase(home: string, prepare: (database: Database.Database, file: string) => void): { folder: string; file: string; database: Database.Database } {
  const folder = resolve(home);
  ensureHomeFolder(folder);
  const file = databasePath(folder);
  let database: Database.Database | undefined;
  try {
    database = new Database(file);
    database.pragma('journal_mode = WAL');
    database.pragma('foreign_keys = ON');
    database.pragma('busy_timeout = 10000');
    prepare(database, file);
  } catch (error) {
    database?.close();
    throw storeFileError(error, file) ?? error;
  }
  guardAgainstDamage(database, file);
  return { folder, file, database };
}

export function databasePath(home: string): string {
  return join(home, databaseFileName);
}

/** Migrations by schema version: migrations[v] brings a database from version v to v + 1. */
const migrations: readonly ((database: Database.Database) => void)[] = [
  (database) => database.exec(`
  CREATE TABLE comparisons (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    scenario TEXT NOT NULL,
    arms TEXT NOT NULL,
    baseline TEXT NOT NULL,
    summary TEXT NOT NULL,
    report_path TEXT
  );
  CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    experiment TEXT NOT NULL,
    scenario_id TEXT NOT NULL,
    scenario_hash TEXT NOT NULL,
    agent_name TEXT NOT NULL,
    agent_kind TEXT NOT NULL,
    agent_config TEXT NOT NULL,
    seed INTEGER NOT NULL,
    manifest TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'interrupted', 'finished', 'failed')),
    created_at TEXT NOT NULL,
    started_at TEXT,
    ended_at TEXT,
    error TEXT
  );
  CREATE INDEX runs_by_experiment ON runs (experiment, status);
  CREATE TABLE metrics (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value REAL,
    json TEXT,
    PRIMARY KEY (run_id, key)
  );
  CREATE TABLE evaluations (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    episode INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    total_reward REAL NOT NULL,
    kpis TEXT NOT NULL,
    PRIMARY KEY (run_id, episode)
  );
  CREATE TABLE checkpoints (
    run_id TEXT PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    episodes INTEGER NOT NULL,
    steps INTEGER NOT NULL,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    written_at TEXT NOT NULL
  );
  `),
  // 2: checkpoint paths relative to the home (a copied home resumes from its own files).
  // Checkpoints always live at checkpoints/<run key>/<file name>: old absolute paths keep their file name.
  (database) => {
    const rows = database.prepare('SELECT run_id, path FROM checkpoints').all() as { run_id: string; path: string }[];
    const update = database.prepare('UPDATE checkpoints SET path = ? WHERE run_id = ?');
    for (const row of rows) update.run(`checkpoints/${row.run_id}/${basename(row.path)}`, row.run_id);
  },
];

export const schemaVersion = migrations.length;

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

export interface RunRow {
  readonly id: string;
  readonly experiment: string;
  readonly scenario: { readonly id: string; readonly contentHash: string };
  readonly agent: { readonly name: string; readonly kind: string; readonly config: unknown };
  readonly seed: number;
  readonly manifest: unknown;
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
  /** The policy artifact folder the run wrote, or null. */
  readonly artifactPath: string | null;
}

/** The experiment name of the runs `pricelab train` records. */
export const trainingExperiment = 'train';

function curveOf(value: unknown): EvaluationCurvePoint[] {
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

interface RawRun {
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

const now = () => new Date().toISOString();

export class ResultsStore {
  readonly home: string;
  readonly path: string;
  private readonly database: Database.Database;

  private constructor(home: string, database: Database.Database) {
    this.home = home;
    this.path = databasePath(home);
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
    this.database
      .prepare('INSERT INTO comparisons (id, created_at, scenario, arms, baseline, summary, report_path) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(id, now(), record.scenario, JSON.stringify(record.arms), record.baseline, JSON.stringify(record.summary ?? null), record.reportPath ?? null);
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
      `INSERT INTO runs (id, experiment, scenario_id, scenario_hash, agent_name, agent_kind, agent_config, seed, manifest, status, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?) ON CONFLICT (id) DO NOTHING`,
    );
    this.database.transaction(() => {
      const createdAt = now();
      for (const run of definitions) {
        insert.run(run.id, run.experiment, run.scenario.id, run.scenario.contentHash, run.agent.name, run.agent.kind, JSON.stringify(run.agent.config ?? null), run.seed, JSON.stringify(run.manifest ?? null), createdAt);
      }
    })();
  }

  getRun(id: string): RunRow | undefined {
    const row = this.database.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RawRun | undefined;
    return row ? runOf(row, this.path) : undefined;
  }

  /** Runs in the order they were registered; optionally one experiment's, or those whose id starts with a prefix. */
  listRuns(filter: { experiment?: string; idPrefix?: string; status?: RunStatus } = {}): RunRow[] {
    const clauses: string[] = [];
    const values: unknown[] = [];
    if (filter.experiment !== undefined) {
      clauses.push('experiment = ?');
      values.push(filter.experiment);
    }
    if (filter.idPrefix !== undefined) {
      clauses.push('substr(id, 1, ?) = ?');
      values.push(filter.idPrefix.length, filter.idPrefix);
    }
    if (filter.status !== undefined) {
      clauses.push('status = ?');
      values.push(filter.status);
    }
    const where = clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '';
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
    return runs.map((run) => {
      const rows = metricRows.all(run.id) as { run_id: string; key: string; value: number | null; json: string | null }[];
      const metrics: Record<string, number | null> = {};
      let curve: EvaluationCurvePoint[] = [];
      for (const row of rows) {
        if (row.key === 'eval/curve' && row.json !== null) curve = curveOf(parseStoredJson(row.json, this.path, metricCell(row.run_id, row.key)));
        else if (row.json === null) metrics[row.key] = row.value;
      }
      const manifest = run.manifest as { policy?: unknown } | null;
      return { run, metrics, curve, artifactPath: typeof manifest?.policy === 'string' ? manifest.policy : null };
    });
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
      if (changed.changes === 0) throw new PricelabError('not-found', `no run ${id} in the store`);
      database.prepare('DELETE FROM metrics WHERE run_id = ?').run(id);
      database.prepare('DELETE FROM evaluations WHERE run_id = ?').run(id);
      database.prepare('DELETE FROM checkpoints WHERE run_id = ?').run(id);
      const metric = database.prepare('INSERT INTO metrics (run_id, key, value, json) VALUES (?, ?, ?, ?)');
      for (const [key, value] of Object.entries(finished.metrics)) {
        if (value !== null && typeof value === 'object') metric.run(id, key, null, JSON.stringify(value.json));
        else metric.run(id, key, value, null);
      }
      const evaluation = database.prepare('INSERT INTO evaluations (run_id, episode, seed, total_reward, kpis) VALUES (?, ?, ?, ?, ?)');
      for (const episode of finished.evaluations) evaluation.run(id, episode.episode, episode.seed, episode.totalReward, JSON.stringify(episode.kpis));
    })();
  }

  /** A run's metrics by key: numbers as numbers, JSON metrics parsed. */
  metricsOf(id: string): Record<string, number | null | unknown> {
    const rows = this.database.prepare('SELECT key, value, json FROM metrics WHERE run_id = ? ORDER BY key').all(id) as { key: string; value: number | null; json: string | null }[];
    return Object.fromEntries(rows.map((row) => [row.key, row.json !== null ? parseStoredJson(row.json, this.path, metricCell(id, row.key)) : row.value]));
  }

  /** One numeric metric of many runs at once: run id -> value. */
  metricOfRuns(key: string): Map<string, number | null> {
    const rows = this.database.prepare('SELECT run_id, value FROM metrics WHERE key = ?').all(key) as { run_id: string; value: number | null }[];
    return new Map(rows.map((row) => [row.run_id, row.value]));
  }

  evaluationsOf(id: string): EvaluationRow[] {
    const rows = this.database.prepare('SELECT episode, seed, total_reward, kpis FROM evaluations WHERE run_id = ? ORDER BY episode').all(id) as { episode: number; seed: number; total_reward: number; kpis: string }[];
    return rows.map((row) => ({
      episode: row.episode,
      seed: row.seed,
      totalReward: row.total_reward,
      kpis: parseStoredJson(row.kpis, this.path, { table: 'evaluations', row: `run_id=${id}, episode=${row.episode}`, column: 'kpis' }, kpisSchema),
    }));
  }

  // Checkpoints -----------------------------------------------------------------------

  /**
   * Points a run at its newest checkpoint file (written atomically before this call), in one
   * transaction. The path (absolute, or relative to the home) must lie inside the home; the
   * row keeps it relative to the home, so a copied home resumes from its own files.
   */
  recordCheckpoint(checkpoint: Omit<CheckpointRow, 'writtenAt'>): void {
    const stored = homeRelative(this.home, checkpoint.path);
    if (stored === undefined) {
      throw new PricelabError('integrity', `the checkpoint ${checkpoint.path} of run ${checkpoint.runId} lies outside the pricelab home ${this.home}`, [
        { path: ['checkpoints', checkpoint.runId, 'path'], message: `expected a file under ${this.home}, found ${checkpoint.path}` },
      ]);
    }
    this.database
      .prepare(
        `INSERT INTO checkpoints (run_id, episodes, steps, path, sha256, written_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (run_id) DO UPDATE SET episodes = excluded.episodes, steps = excluded.steps, path = excluded.path, sha256 = excluded.sha256, written_at = excluded.written_at`,
      )
      .run(checkpoint.runId, checkpoint.episodes, checkpoint.steps, stored, checkpoint.sha256, now());
  }

  /** A run's checkpoint row, its path absolute (resolved against this home); a path leading outside the home is an integrity error. */
  checkpointOf(runId: string): CheckpointRow | undefined {
    const row = this.database.prepare('SELECT * FROM checkpoints WHERE run_id = ?').get(runId) as
      | { run_id: string; episodes: number; steps: number; path: string; sha256: string; written_at: string }
      | undefined;
    if (!row) return undefined;
    if (homeRelative(this.home, row.path) === undefined) {
      throw new PricelabError('integrity', `the results store ${this.path} is damaged: table checkpoints, row run_id=${runId}, column path`, [
        { path: ['checkpoints', `run_id=${runId}`, 'path'], message: `expected a path inside the pricelab home ${this.home}, found ${row.path}; discard the checkpoint with --resume --restart-failed after the run fails, or correct the row` },
      ]);
    }
    return { runId: row.run_id, episodes: row.episodes, steps: row.steps, path: resolve(this.home, row.path), sha256: row.sha256, writtenAt: row.written_at };
  }

  /** Forgets a run's checkpoint (`--restart-failed`): the run starts afresh; its files are removed by the caller after this. */
  discardCheckpoint(runId: string): void {
    this.database.prepare('DELETE FROM checkpoints WHERE run_id = ?').run(runId);
  }

  private updateStatus(id: string, status: RunStatus, fields: { startedAt?: string; endedAt?: string | null; error?: string | null }): void {
    const sets = ['status = ?'];
    const values: unknown[] = [status];
    if (fields.startedAt !== undefined) {
      sets.push('started_at = ?');
      values.push(fields.startedAt);
    }
    if (fields.endedAt !== undefined) {
      sets.push('ended_at = ?');
      values.push(fields.endedAt);
    }
    if (fields.error !== undefined) {
      sets.push('error = ?');
      values.push(fields.error);
    }
    const changed = this.database.prepare(`UPDATE runs SET ${sets.join(', ')} WHERE id = ?`).run(...values, id);
    if (changed.changes === 0) throw new PricelabError('not-found', `no run ${id} in the store`);
  }
}

interface RawComparison {
  id: string;
  created_at: string;
  scenario: string;
  arms: string;
  baseline: string;
  summary: string;
  report_path: string | null;
}

function comparisonOf(row: RawComparison, file: string): ComparisonRow {
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

function runOf(row: RawRun, file: string): RunRow {
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

/** A path (absolute, or relative to the home) as the store keeps it: relative to the home, '/'-separated; undefined when it lies outside the home. */
function homeRelative(home: string, path: string): string | undefined {
  const inside = relative(home, resolve(home, path));
  if (inside === '' || inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) return undefined;
  return inside.split(sep).join('/');
}

/** Where a JSON value sits in the store: table, the row's key (as column=value pairs) and column. */
export interface StoredCell {
  readonly table: string;
  readonly row: string;
  readonly column: string;
}

const metricCell = (runId: string, key: string): StoredCell => ({ table: 'metrics', row: `run_id=${runId}, key=${key}`, column: 'json' });
const armsSchema = z.array(z.string());
const kpisSchema = z.record(z.string(), z.number().nullable());

/**
 * The one way the store reads a JSON column: the parsed value, checked against a shape when
 * the store knows it; text that is not JSON (or not of the shape) is an integrity error
 * (exit 4) naming the file, the table, the row and the column, never a SyntaxError.
 */
export function parseStoredJson(text: string, file: string, cell: StoredCell): unknown;
export function parseStoredJson<T>(text: string, file: string, cell: StoredCell, schema: z.ZodType<T>): T;
export function parseStoredJson(text: string, file: string, cell: StoredCell, schema?: z.ZodType): unknown {
  const damaged = (found: string) =>
    new PricelabError('integrity', `the results store ${file} is damaged: table ${cell.table}, row ${cell.row}, column ${cell.column}`, [
      { path: [cell.table, cell.row, cell.column], message: `${found}; restore the file from a backup, or correct the row` },
    ]);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw damaged(`expected JSON, found ${text.length} characters that are not (${(error as Error).message})`);
  }
  if (schema === undefined) return value;
  const checked = schema.safeParse(value);
  if (checked.success) return checked.data;
  const issue = checked.error.issues[0]!;
  throw damaged(`expected JSON of the column's shape, found at ${issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)'}: ${issue.message}`);
}

/**
 * Applies every migration past the database's user_version, each in its own IMMEDIATE
 * transaction that re-reads the version, so two processes opening a new store at once
 * (the test polling a sweep, two sweeps) never apply a migration twice.
 */
function migrate(database: Database.Database): void {
  const version = () => database.pragma('user_version', { simple: true }) as number;
  const initial = version();
  if (initial > migrations.length) {
    throw new PricelabError('integrity', `the results store has schema version ${initial}, newer than this pricelab knows (${migrations.length}); upgrade pricelab`);
  }
  for (let step = initial; step < migrations.length; step++) {
    database
      .transaction(() => {
        const current = version();
        if (current !== step) return; // another process applied it meanwhile
        migrations[step]!(database);
        database.pragma(`user_version = ${step + 1}`);
      })
      .immediate();
  }
}

/** Creates the pricelab home folder if needed; a path that cannot be one (a file, say) is a config error (exit 2) naming it. */
export function ensureHomeFolder(folder: string): void {
  try {
    mkdirSync(folder, { recursive: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new PricelabError('config', `the pricelab home ${folder} cannot be created`, [
      { path: ['PRICELAB_HOME'], message: `expected a folder (or a path where one can be made), found ${whatIsAt(folder)} (${code}); set PRICELAB_HOME to a folder` },
    ]);
  }
}

/**
 * SQLite's result codes (https://sqlite.org/rescode.html, extended codes included) by what
 * they say about the store's file. Damage (exit 4): not a database (NOTADB), damaged pages
 * (CORRUPT), a file the disk cannot read back (IOERR). The user's set-up (exit 2): a path
 * SQLite cannot open (CANTOPEN: a folder, a missing or unwritable folder), a file or folder
 * it may not write (READONLY, PERM, AUTH), a full disk (FULL). Nothing stored is damaged
 * then: fixing the path or the permissions is enough.
 */
const damageCodes = /^SQLITE_(NOTADB|CORRUPT|IOERR)/;
const setupCodes = /^SQLITE_(CANTOPEN|READONLY|PERM|AUTH|FULL)/;

/** What is at a path, in words, for a message: "a folder", "a file of 12 bytes", "nothing". */
function whatIsAt(path: string): string {
  try {
    const found = statSync(path);
    if (found.isDirectory()) return 'a folder';
    if (found.isFile()) return `a file of ${found.size} bytes`;
    return 'something that is neither a file nor a folder';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOTDIR' ? 'a path through a file (where a folder should be)' : 'nothing (or nothing pricelab may look at)';
  }
}

/**
 * The error naming the store's file for SQLite's damage and set-up codes (see above):
 * integrity (exit 4) for a damaged file, config (exit 2) for one that cannot be opened or
 * written; undefined for any other error. The policy registry, in the same file, uses it too.
 */
export function storeFileError(error: unknown, file: string): PricelabError | undefined {
  if (!(error instanceof Database.SqliteError)) return undefined;
  const found = `${error.code} (${error.message})`;
  if (damageCodes.test(error.code)) {
    return new PricelabError('integrity', `the results store ${file} is damaged`, [
      { path: [], message: `expected a SQLite database, found ${found}; restore the file from a backup, or move it aside to start an empty store` },
    ]);
  }
  if (!setupCodes.test(error.code)) return undefined;
  const atPath = whatIsAt(file);
  const advice = atPath === 'a folder'
    ? 'move the folder aside, or set PRICELAB_HOME to another folder'
    : `check that the file and its folder ${dirname(file)} exist and may be read and written by this user (SQLite writes ${basename(file)}-wal and ${basename(file)}-shm beside it), and that the disk has space`;
  return new PricelabError('config', `the results store ${file} cannot be opened`, [
    { path: [], message: `expected a SQLite database file pricelab may read and write, found ${atPath}: ${found}; ${advice}` },
  ]);
}

/**
 * Damage inside a page shows only when the page is read: every statement the store
 * prepares (now or in a later method) turns SQLite's damage codes into the integrity
 * error naming the file, instead of an internal error with a stack trace. The policy
 * registry, in the same file, opens its connection the same way.
 */
export function guardAgainstDamage(database: Database.Database, file: string): void {
  const guarded = <Arguments extends unknown[], Result>(call: (...args: Arguments) => Result) => (...args: Arguments): Result => {
    try {
      return call(...args);
    } catch (error) {
      throw storeFileError(error, file) ?? error;
    }
  };
  const prepare = database.prepare.bind(database);
  database.prepare = ((source: string) => {
    const statement = prepare(source) as Database.Statement<unknown[], unknown>;
    statement.run = guarded(statement.run.bind(statement));
    statement.get = guarded(statement.get.bind(statement));
    statement.all = guarded(statement.all.bind(statement));
    return statement;
  }) as typeof database.prepare;
  database.exec = guarded(database.exec.bind(database));
  database.pragma = guarded(database.pragma.bind(database)) as typeof database.pragma;
}
