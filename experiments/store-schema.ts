/**
 * The results store's tables (comparisons, runs, metrics, evaluations, checkpoints) and
 * their migrations: the schema version is `PRAGMA user_version`, and each migration runs
 * in its own IMMEDIATE transaction that re-reads it.
 */
import { basename } from 'node:path';
import type Database from 'better-sqlite3';
import { PricelabError } from '../core/errors.js';

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

/**
 * Applies every migration past the database's user_version, each in its own IMMEDIATE
 * transaction that re-reads the version, so two processes opening a new store at once
 * (the test polling a sweep, two sweeps) never apply a migration twice.
 */
export function migrate(database: Database.Database): void {
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

