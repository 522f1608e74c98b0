/**
 * The results store's tables in PostgreSQL: the same tables and columns as the SQLite file
 * (experiments/store-schema.ts), JSON kept as text (read back through parseStoredJson, and
 * compared byte for byte by findComparisonBySummary), a `seq` column standing in for
 * SQLite's rowid in the orders rows are listed in. Migrations are numbered and recorded in
 * `pricelab_migrations` under the component "results-store" (core/postgres.ts): migrations[v]
 * brings the tables from version v to v + 1. Checkpoint paths are relative to the artifact
 * root from the first version on (SQLite's schema 2).
 */
import { firstResultsTables, postgresTables } from './store-tables.js';

export const resultsComponent = 'results-store';

export const resultsMigrations: readonly string[] = [
  `${firstResultsTables(postgresTables)}
  CREATE INDEX comparisons_by_summary ON comparisons (md5(summary));
  CREATE INDEX metrics_by_key ON metrics (key);`,
];
