/**
 * The results store's tables in PostgreSQL: the same tables and columns as the SQLite file
 * (experiments/store-schema.ts), JSON kept as text (read back through parseStoredJson, and
 * compared byte for byte by findComparisonBySummary), a `seq` column standing in for
 * SQLite's rowid in the orders rows are listed in. Migrations are numbered and recorded in
 * `pricelab_migrations` under the component "results-store" (core/postgres.ts): migrations[v]
 * brings the tables from version v to v + 1. Checkpoint paths are relative to the artifact
 * root from the first version on (SQLite's schema 2).
 */
export const resultsComponent = 'results-store';

export const resultsMigrations: readonly string[] = [
  `CREATE TABLE comparisons (
    seq BIGSERIAL NOT NULL UNIQUE,
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    scenario TEXT NOT NULL,
    arms TEXT NOT NULL,
    baseline TEXT NOT NULL,
    summary TEXT NOT NULL,
    report_path TEXT
  );
  CREATE INDEX comparisons_by_summary ON comparisons (md5(summary));
  CREATE TABLE runs (
    seq BIGSERIAL NOT NULL UNIQUE,
    id TEXT PRIMARY KEY,
    experiment TEXT NOT NULL,
    scenario_id TEXT NOT NULL,
    scenario_hash TEXT NOT NULL,
    agent_name TEXT NOT NULL,
    agent_kind TEXT NOT NULL,
    agent_config TEXT NOT NULL,
    seed BIGINT NOT NULL,
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
    value DOUBLE PRECISION,
    json TEXT,
    PRIMARY KEY (run_id, key)
  );
  CREATE INDEX metrics_by_key ON metrics (key);
  CREATE TABLE evaluations (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    episode INTEGER NOT NULL,
    seed BIGINT NOT NULL,
    total_reward DOUBLE PRECISION NOT NULL,
    kpis TEXT NOT NULL,
    PRIMARY KEY (run_id, episode)
  );
  CREATE TABLE checkpoints (
    run_id TEXT PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    episodes INTEGER NOT NULL,
    steps BIGINT NOT NULL,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    written_at TEXT NOT NULL
  );`,
];
