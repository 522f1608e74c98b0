/**
 * The results store's tables (comparisons, runs, metrics, evaluations, checkpoints) and
 * their migrations: the schema version is `PRAGMA user_version`, and each migration runs
 * in its own IMMEDIATE transaction that re-reads it.
 */
import { basename } from 'node:path';
import type Database from 'better-sqlite3';
import { PricelabError } from '../core/errors.js';
import { firstResultsTables, sqliteTables } from './store-tables.js';

/** Migrations by schema version: migrations[v] brings a database from version v to v + 1. */
const migrations: readonly ((database: Database.Database) => void)[] = [
  (database) => database.exec(firstResultsTables(sqliteTables)),
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

