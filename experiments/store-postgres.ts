/**
 * The results store in a team's PostgreSQL database (`PRICELAB_STORE=postgres://...`): the
 * same rows and answers as the SQLite file of experiments/store.ts (the conformance suite,
 * tests/experiments/store-conformance.test.ts, holds the two together), for every machine
 * of the team at once. Tables: experiments/store-postgres-schema.ts (versioned migrations
 * applied on open). Checkpoint files stay on disk under the artifact root (`home`), their
 * paths recorded relative to it; writes that belong together are one transaction, so a
 * killed process leaves no half-written run.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { inTransaction, migratePostgres, openPostgres, type Queryable } from '../core/postgres.js';
import { describeLocation, type StoreLocation } from '../core/store-url.js';
import type { ResultsStoreBackend, RunFilter } from './store-backend.js';
import { resultsComponent, resultsMigrations } from './store-postgres-schema.js';
import { checkpointRowOf, comparisonOf, evaluationOf, metricsOfRows, runOf, runWithCurveOf, type CheckpointRow, type ComparisonRecord, type ComparisonRow, type EvaluationRow, type FinishedRun, type RawCheckpoint, type RawComparison, type RawEvaluation, type RawMetric, type RawRun, type RunDefinition, type RunRow, type RunStatus, type RunWithCurve } from './store-rows.js';
import { checkpointUpsert, comparisonColumns, comparisonValues, evaluationValues, metricValues, notStoredRun, runColumns, runFilterClause, runValues, statusAssignments, storedCheckpointPath, type CellValue, type StatusFields } from './store-statements.js';

const now = () => new Date().toISOString();

/** SQLite stores NaN as NULL: so does this store, for the same answers. */
const real = (value: number | null): number | null => (value === null || Number.isNaN(value) ? null : value);

/** PostgreSQL's placeholder: `$n`, the value kept in `values` at n - 1. */
const numbered = (values: CellValue[]) => (value: CellValue) => {
  values.push(value);
  return `$${values.length}`;
};
const dollars = (count: number, first = 1) => Array.from({ length: count }, (_, index) => `$${first + index}`);

export class PostgresResultsStore implements ResultsStoreBackend {
  readonly path: string;

  private constructor(
    readonly location: StoreLocation & { kind: 'postgres' },
    private readonly pool: Pool,
  ) {
    this.path = describeLocation(location);
  }

  get home(): string {
    return this.location.home;
  }

  /** Connects (a config error within seconds when the server cannot be reached) and migrates. */
  static async open(location: StoreLocation & { kind: 'postgres' }): Promise<PostgresResultsStore> {
    const pool = await openPostgres(location.url);
    try {
      await migratePostgres(pool, resultsComponent, resultsMigrations, describeLocation(location));
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw error;
    }
    return new PostgresResultsStore(location, pool);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  // Comparisons -----------------------------------------------------------------------

  async recordComparison(record: ComparisonRecord): Promise<string> {
    const id = randomUUID();
    await this.pool.query(`INSERT INTO comparisons (${comparisonColumns.join(', ')}) VALUES (${dollars(comparisonColumns.length).join(', ')})`, comparisonValues(id, now(), record));
    return id;
  }

  async listComparisons(): Promise<ComparisonRow[]> {
    const { rows } = await this.pool.query<RawComparison>('SELECT * FROM comparisons ORDER BY created_at, seq');
    return rows.map((row) => comparisonOf(row, this.path));
  }

  async getComparison(id: string): Promise<ComparisonRow | undefined> {
    const row = (await this.pool.query<RawComparison>('SELECT * FROM comparisons WHERE id = $1', [id])).rows[0];
    return row ? comparisonOf(row, this.path) : undefined;
  }

  async findComparisonBySummary(summary: unknown): Promise<ComparisonRow | undefined> {
    const row = (await this.pool.query<RawComparison>('SELECT * FROM comparisons WHERE md5(summary) = md5($1) AND summary = $1 ORDER BY created_at, seq LIMIT 1', [JSON.stringify(summary ?? null)])).rows[0];
    return row ? comparisonOf(row, this.path) : undefined;
  }

  // Runs ------------------------------------------------------------------------------

  async registerRuns(definitions: readonly RunDefinition[]): Promise<void> {
    // One statement per 1,000 runs (a 10,000-point grid is ten round trips), in one transaction;
    // WITH ORDINALITY keeps the given order in seq, which orders listRuns.
    const names = runColumns.map(([column]) => column).join(', ');
    const arrays = runColumns.map(([, type], index) => `$${index + 1}::${type}[]`).join(', ');
    await inTransaction(this.pool, async (client) => {
      const createdAt = now();
      for (let start = 0; start < definitions.length; start += 1000) {
        const rows = definitions.slice(start, start + 1000).map(runValues);
        await client.query(
          `INSERT INTO runs (${names}, status, created_at)
           SELECT ${names}, 'pending', $${runColumns.length + 1}
           FROM unnest(${arrays}) WITH ORDINALITY AS given (${names}, position)
           ORDER BY position
           ON CONFLICT (id) DO NOTHING`,
          [...runColumns.map((_, index) => rows.map((row) => row[index])), createdAt],
        );
      }
    });
  }

  async getRun(id: string): Promise<RunRow | undefined> {
    const row = (await this.pool.query<RawRun>('SELECT * FROM runs WHERE id = $1', [id])).rows[0];
    return row ? runOf(row, this.path) : undefined;
  }

  async listRuns(filter: RunFilter = {}): Promise<RunRow[]> {
    const values: CellValue[] = [];
    const where = runFilterClause(filter, numbered(values));
    const { rows } = await this.pool.query<RawRun>(`SELECT * FROM runs ${where} ORDER BY created_at, seq`, values);
    return rows.map((row) => runOf(row, this.path));
  }

  async listRunsWithCurves(filter: RunFilter = {}): Promise<RunWithCurve[]> {
    const runs = await this.listRuns(filter);
    const result: RunWithCurve[] = [];
    for (const run of runs) {
      const { rows } = await this.pool.query<RawMetric>('SELECT run_id, key, value, json FROM metrics WHERE run_id = $1 ORDER BY key', [run.id]);
      result.push(runWithCurveOf(run, rows, this.path, this.home));
    }
    return result;
  }

  async markRunning(id: string): Promise<void> {
    await this.updateStatus(this.pool, id, 'running', { startedAt: now(), endedAt: null, error: null });
  }

  async markInterrupted(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.pool.query(`UPDATE runs SET status = 'interrupted' WHERE id = ANY($1::text[]) AND status = 'running'`, [ids]);
  }

  async markFailed(id: string, error: string): Promise<void> {
    await this.updateStatus(this.pool, id, 'failed', { endedAt: now(), error });
  }

  async finishRun(id: string, finished: FinishedRun): Promise<void> {
    await inTransaction(this.pool, async (client) => {
      const changed = await client.query(`UPDATE runs SET status = 'finished', manifest = $1, ended_at = $2, error = NULL WHERE id = $3`, [JSON.stringify(finished.manifest ?? null), now(), id]);
      if (changed.rowCount === 0) throw notStoredRun(id);
      await client.query('WITH m AS (DELETE FROM metrics WHERE run_id = $1), e AS (DELETE FROM evaluations WHERE run_id = $1) DELETE FROM checkpoints WHERE run_id = $1', [id]);
      const metrics = metricValues(finished);
      if (metrics.length > 0) {
        await client.query('INSERT INTO metrics (run_id, key, value, json) SELECT $1, * FROM unnest($2::text[], $3::float8[], $4::text[])', [
          id,
          metrics.map(([key]) => key),
          metrics.map(([, value]) => real(value)),
          metrics.map(([, , json]) => json),
        ]);
      }
      const evaluations = evaluationValues(finished);
      if (evaluations.length > 0) {
        await client.query('INSERT INTO evaluations (run_id, episode, seed, total_reward, kpis) SELECT $1, * FROM unnest($2::integer[], $3::bigint[], $4::float8[], $5::text[])', [
          id,
          evaluations.map(([episode]) => episode),
          evaluations.map(([, seed]) => seed),
          evaluations.map(([, , totalReward]) => real(totalReward)),
          evaluations.map(([, , , kpis]) => kpis),
        ]);
      }
    });
  }

  async metricsOf(id: string): Promise<Record<string, number | null | unknown>> {
    const { rows } = await this.pool.query<Omit<RawMetric, 'run_id'>>('SELECT key, value, json FROM metrics WHERE run_id = $1 ORDER BY key', [id]);
    return metricsOfRows(rows, id, this.path);
  }

  async metricOfRuns(key: string): Promise<Map<string, number | null>> {
    const { rows } = await this.pool.query<{ run_id: string; value: number | null }>('SELECT run_id, value FROM metrics WHERE key = $1', [key]);
    return new Map(rows.map((row) => [row.run_id, row.value]));
  }

  async evaluationsOf(id: string): Promise<EvaluationRow[]> {
    const { rows } = await this.pool.query<RawEvaluation>('SELECT episode, seed, total_reward, kpis FROM evaluations WHERE run_id = $1 ORDER BY episode', [id]);
    return rows.map((row) => evaluationOf(row, id, this.path));
  }

  // Checkpoints -----------------------------------------------------------------------

  async recordCheckpoint(checkpoint: Omit<CheckpointRow, 'writtenAt'>): Promise<void> {
    const stored = storedCheckpointPath(this.home, checkpoint);
    await this.pool.query(checkpointUpsert(dollars(6)), [checkpoint.runId, checkpoint.episodes, checkpoint.steps, stored, checkpoint.sha256, now()]);
  }

  async checkpointOf(runId: string): Promise<CheckpointRow | undefined> {
    const row = (await this.pool.query<RawCheckpoint>('SELECT * FROM checkpoints WHERE run_id = $1', [runId])).rows[0];
    return row ? checkpointRowOf(row, this.home, this.path) : undefined;
  }

  async discardCheckpoint(runId: string): Promise<void> {
    await this.pool.query('DELETE FROM checkpoints WHERE run_id = $1', [runId]);
  }

  private async updateStatus(client: Queryable, id: string, status: RunStatus, fields: StatusFields): Promise<void> {
    const values: CellValue[] = [];
    const parameter = numbered(values);
    const sets = statusAssignments(status, fields, parameter);
    const changed = await client.query(`UPDATE runs SET ${sets} WHERE id = ${parameter(id)}`, values);
    if (changed.rowCount === 0) throw notStoredRun(id);
  }
}
