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
import { resolve } from 'node:path';
import type { Pool } from 'pg';
import { PricelabError } from '../core/errors.js';
import { inTransaction, migratePostgres, openPostgres, type Queryable } from '../core/postgres.js';
import { parseStoredJson } from '../core/stored-json.js';
import { describeLocation, type StoreLocation } from '../core/store-url.js';
import type { ResultsStoreBackend, RunFilter } from './store-backend.js';
import { resultsComponent, resultsMigrations } from './store-postgres-schema.js';
import {
  comparisonOf,
  curveOf,
  homeRelative,
  kpisSchema,
  metricCell,
  runOf,
  type CheckpointRow,
  type ComparisonRecord,
  type ComparisonRow,
  type EvaluationCurvePoint,
  type EvaluationRow,
  type FinishedRun,
  type RawComparison,
  type RawRun,
  type RunDefinition,
  type RunRow,
  type RunStatus,
  type RunWithCurve,
} from './store-rows.js';

const now = () => new Date().toISOString();

/** SQLite stores NaN as NULL: so does this store, for the same answers. */
const real = (value: number | null): number | null => (value === null || Number.isNaN(value) ? null : value);

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
    await this.pool.query('INSERT INTO comparisons (id, created_at, scenario, arms, baseline, summary, report_path) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
      id,
      now(),
      record.scenario,
      JSON.stringify(record.arms),
      record.baseline,
      JSON.stringify(record.summary ?? null),
      record.reportPath ?? null,
    ]);
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
    await inTransaction(this.pool, async (client) => {
      const createdAt = now();
      for (let start = 0; start < definitions.length; start += 1000) {
        const chunk = definitions.slice(start, start + 1000);
        const column = (value: (run: RunDefinition) => unknown) => chunk.map(value);
        await client.query(
          `INSERT INTO runs (id, experiment, scenario_id, scenario_hash, agent_name, agent_kind, agent_config, seed, manifest, status, created_at)
           SELECT id, experiment, scenario_id, scenario_hash, agent_name, agent_kind, agent_config, seed, manifest, 'pending', $10
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::text[])
             WITH ORDINALITY AS given (id, experiment, scenario_id, scenario_hash, agent_name, agent_kind, agent_config, seed, manifest, position)
           ORDER BY position
           ON CONFLICT (id) DO NOTHING`,
          [
            column((run) => run.id),
            column((run) => run.experiment),
            column((run) => run.scenario.id),
            column((run) => run.scenario.contentHash),
            column((run) => run.agent.name),
            column((run) => run.agent.kind),
            column((run) => JSON.stringify(run.agent.config ?? null)),
            column((run) => run.seed),
            column((run) => JSON.stringify(run.manifest ?? null)),
            createdAt,
          ],
        );
      }
    });
  }

  async getRun(id: string): Promise<RunRow | undefined> {
    const row = (await this.pool.query<RawRun>('SELECT * FROM runs WHERE id = $1', [id])).rows[0];
    return row ? runOf(row, this.path) : undefined;
  }

  async listRuns(filter: RunFilter = {}): Promise<RunRow[]> {
    const clauses: string[] = [];
    const values: unknown[] = [];
    const parameter = (value: unknown) => {
      values.push(value);
      return `$${values.length}`;
    };
    if (filter.experiment !== undefined) clauses.push(`experiment = ${parameter(filter.experiment)}`);
    if (filter.idPrefix !== undefined) clauses.push(`substr(id, 1, ${parameter(filter.idPrefix.length)}) = ${parameter(filter.idPrefix)}`);
    if (filter.status !== undefined) clauses.push(`status = ${parameter(filter.status)}`);
    const where = clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '';
    const { rows } = await this.pool.query<RawRun>(`SELECT * FROM runs ${where} ORDER BY created_at, seq`, values);
    return rows.map((row) => runOf(row, this.path));
  }

  async listRunsWithCurves(filter: RunFilter = {}): Promise<RunWithCurve[]> {
    const runs = await this.listRuns(filter);
    const result: RunWithCurve[] = [];
    for (const run of runs) {
      const { rows } = await this.pool.query<{ run_id: string; key: string; value: number | null; json: string | null }>('SELECT run_id, key, value, json FROM metrics WHERE run_id = $1 ORDER BY key', [run.id]);
      const metrics: Record<string, number | null> = {};
      let curve: EvaluationCurvePoint[] = [];
      for (const row of rows) {
        if (row.key === 'eval/curve' && row.json !== null) curve = curveOf(parseStoredJson(row.json, this.path, metricCell(row.run_id, row.key)));
        else if (row.json === null) metrics[row.key] = row.value;
      }
      const manifest = run.manifest as { policy?: unknown } | null;
      result.push({ run, metrics, curve, artifactPath: typeof manifest?.policy === 'string' ? manifest.policy : null });
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
      if (changed.rowCount === 0) throw new PricelabError('not-found', `no run ${id} in the store`);
      await client.query('WITH m AS (DELETE FROM metrics WHERE run_id = $1), e AS (DELETE FROM evaluations WHERE run_id = $1) DELETE FROM checkpoints WHERE run_id = $1', [id]);
      const entries = Object.entries(finished.metrics);
      if (entries.length > 0) {
        await client.query('INSERT INTO metrics (run_id, key, value, json) SELECT $1, * FROM unnest($2::text[], $3::float8[], $4::text[])', [
          id,
          entries.map(([key]) => key),
          entries.map(([, value]) => (value !== null && typeof value === 'object' ? null : real(value))),
          entries.map(([, value]) => (value !== null && typeof value === 'object' ? JSON.stringify(value.json) : null)),
        ]);
      }
      if (finished.evaluations.length > 0) {
        const episodes = finished.evaluations;
        await client.query('INSERT INTO evaluations (run_id, episode, seed, total_reward, kpis) SELECT $1, * FROM unnest($2::integer[], $3::bigint[], $4::float8[], $5::text[])', [
          id,
          episodes.map((episode) => episode.episode),
          episodes.map((episode) => episode.seed),
          episodes.map((episode) => real(episode.totalReward)),
          episodes.map((episode) => JSON.stringify(episode.kpis)),
        ]);
      }
    });
  }

  async metricsOf(id: string): Promise<Record<string, number | null | unknown>> {
    const { rows } = await this.pool.query<{ key: string; value: number | null; json: string | null }>('SELECT key, value, json FROM metrics WHERE run_id = $1 ORDER BY key', [id]);
    return Object.fromEntries(rows.map((row) => [row.key, row.json !== null ? parseStoredJson(row.json, this.path, metricCell(id, row.key)) : row.value]));
  }

  async metricOfRuns(key: string): Promise<Map<string, number | null>> {
    const { rows } = await this.pool.query<{ run_id: string; value: number | null }>('SELECT run_id, value FROM metrics WHERE key = $1', [key]);
    return new Map(rows.map((row) => [row.run_id, row.value]));
  }

  async evaluationsOf(id: string): Promise<EvaluationRow[]> {
    const { rows } = await this.pool.query<{ episode: number; seed: number; total_reward: number; kpis: string }>('SELECT episode, seed, total_reward, kpis FROM evaluations WHERE run_id = $1 ORDER BY episode', [id]);
    return rows.map((row) => ({
      episode: row.episode,
      seed: row.seed,
      totalReward: row.total_reward,
      kpis: parseStoredJson(row.kpis, this.path, { table: 'evaluations', row: `run_id=${id}, episode=${row.episode}`, column: 'kpis' }, kpisSchema),
    }));
  }

  // Checkpoints -----------------------------------------------------------------------

  async recordCheckpoint(checkpoint: Omit<CheckpointRow, 'writtenAt'>): Promise<void> {
    const stored = homeRelative(this.home, checkpoint.path);
    if (stored === undefined) {
      throw new PricelabError('integrity', `the checkpoint ${checkpoint.path} of run ${checkpoint.runId} lies outside the pricelab home ${this.home}`, [
        { path: ['checkpoints', checkpoint.runId, 'path'], message: `expected a file under ${this.home}, found ${checkpoint.path}` },
      ]);
    }
    await this.pool.query(
      `INSERT INTO checkpoints (run_id, episodes, steps, path, sha256, written_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (run_id) DO UPDATE SET episodes = excluded.episodes, steps = excluded.steps, path = excluded.path, sha256 = excluded.sha256, written_at = excluded.written_at`,
      [checkpoint.runId, checkpoint.episodes, checkpoint.steps, stored, checkpoint.sha256, now()],
    );
  }

  async checkpointOf(runId: string): Promise<CheckpointRow | undefined> {
    const row = (await this.pool.query<{ run_id: string; episodes: number; steps: number; path: string; sha256: string; written_at: string }>('SELECT * FROM checkpoints WHERE run_id = $1', [runId])).rows[0];
    if (!row) return undefined;
    if (homeRelative(this.home, row.path) === undefined) {
      throw new PricelabError('integrity', `the results store ${this.path} is damaged: table checkpoints, row run_id=${runId}, column path`, [
        { path: ['checkpoints', `run_id=${runId}`, 'path'], message: `expected a path inside the pricelab home ${this.home}, found ${row.path}; discard the checkpoint with --resume --restart-failed after the run fails, or correct the row` },
      ]);
    }
    return { runId: row.run_id, episodes: row.episodes, steps: row.steps, path: resolve(this.home, row.path), sha256: row.sha256, writtenAt: row.written_at };
  }

  async discardCheckpoint(runId: string): Promise<void> {
    await this.pool.query('DELETE FROM checkpoints WHERE run_id = $1', [runId]);
  }

  private async updateStatus(client: Queryable, id: string, status: RunStatus, fields: { startedAt?: string; endedAt?: string | null; error?: string | null }): Promise<void> {
    const sets = ['status = $1'];
    const values: unknown[] = [status];
    const set = (column: string, value: unknown) => {
      values.push(value);
      sets.push(`${column} = $${values.length}`);
    };
    if (fields.startedAt !== undefined) set('started_at', fields.startedAt);
    if (fields.endedAt !== undefined) set('ended_at', fields.endedAt);
    if (fields.error !== undefined) set('error', fields.error);
    values.push(id);
    const changed = await client.query(`UPDATE runs SET ${sets.join(', ')} WHERE id = $${values.length}`, values);
    if (changed.rowCount === 0) throw new PricelabError('not-found', `no run ${id} in the store`);
  }
}
