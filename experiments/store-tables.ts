/**
 * The results store's tables as first created (schema version 1 of either backend): one
 * column list for SQLite (experiments/store-schema.ts) and PostgreSQL
 * (experiments/store-postgres-schema.ts), the dialect only in what differs: the column that
 * keeps insertion order (SQLite has its rowid; PostgreSQL gets `seq`), 64-bit integers and
 * floating-point numbers. A first migration is never edited: a later change is a new
 * migration in each backend.
 */

/** How a dialect writes what differs between the two. */
export interface TableDialect {
  /** The column, with its trailing comma and line break, that orders rows by insertion ('' when the engine has one). */
  readonly insertionOrder: string;
  /** A whole number that may pass 2^31 (seeds, steps). */
  readonly wholeNumber64: string;
  /** A floating-point number. */
  readonly real: string;
}

export const sqliteTables: TableDialect = { insertionOrder: '', wholeNumber64: 'INTEGER', real: 'REAL' };
export const postgresTables: TableDialect = { insertionOrder: '\n    seq BIGSERIAL NOT NULL UNIQUE,', wholeNumber64: 'BIGINT', real: 'DOUBLE PRECISION' };

/** comparisons, runs, metrics, evaluations and checkpoints, as schema version 1 created them. */
export function firstResultsTables(dialect: TableDialect): string {
  const { insertionOrder, wholeNumber64, real } = dialect;
  return `
  CREATE TABLE comparisons (${insertionOrder}
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    scenario TEXT NOT NULL,
    arms TEXT NOT NULL,
    baseline TEXT NOT NULL,
    summary TEXT NOT NULL,
    report_path TEXT
  );
  CREATE TABLE runs (${insertionOrder}
    id TEXT PRIMARY KEY,
    experiment TEXT NOT NULL,
    scenario_id TEXT NOT NULL,
    scenario_hash TEXT NOT NULL,
    agent_name TEXT NOT NULL,
    agent_kind TEXT NOT NULL,
    agent_config TEXT NOT NULL,
    seed ${wholeNumber64} NOT NULL,
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
    value ${real},
    json TEXT,
    PRIMARY KEY (run_id, key)
  );
  CREATE TABLE evaluations (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    episode INTEGER NOT NULL,
    seed ${wholeNumber64} NOT NULL,
    total_reward ${real} NOT NULL,
    kpis TEXT NOT NULL,
    PRIMARY KEY (run_id, episode)
  );
  CREATE TABLE checkpoints (
    run_id TEXT PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    episodes INTEGER NOT NULL,
    steps ${wholeNumber64} NOT NULL,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    written_at TEXT NOT NULL
  );
  `;
}
