/**
 * One conformance suite for every results-store backend (experiments/store-backend.ts):
 * the SQLite file of the home and PostgreSQL give the same answers to the same calls. Each
 * case opens a fresh store; the PostgreSQL server is the test's own (tests/fixtures/
 * postgres.ts), one for the file. A backend that cannot run says why (skip reason).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PricelabError } from '../../core/errors.js';
import { openResultsStore, type ResultsStoreBackend } from '../../experiments/store-backend.js';
import type { RunDefinition } from '../../experiments/store-rows.js';
import { postgresMissing, startPostgres, type PostgresServer } from '../fixtures/postgres.js';

const scratch = mkdtempSync(join(tmpdir(), 'pricelab-store-conformance-'));
let server: PostgresServer | undefined;

beforeAll(async () => {
  if (postgresMissing === undefined) server = await startPostgres();
}, 60_000);
afterAll(async () => {
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

interface Backend {
  readonly name: string;
  readonly skip: string | undefined;
  /** A fresh, empty store. */
  open(): Promise<ResultsStoreBackend>;
}

let homes = 0;
const backends: Backend[] = [
  { name: 'sqlite', skip: undefined, open: () => openResultsStore({ kind: 'sqlite', home: join(scratch, `sqlite-${++homes}`) }) },
  {
    name: 'postgres',
    skip: postgresMissing,
    open: async () => openResultsStore({ kind: 'postgres', url: await server!.database(), home: join(scratch, `artifacts-${++homes}`) }),
  },
];

const run = (id: string, experiment = 'grid', seed = 1): RunDefinition => ({
  id,
  experiment,
  scenario: { id: 'steady-state-v1', contentHash: 'a'.repeat(64) },
  agent: { name: 'q', kind: 'q-learning', config: { alpha: 0.1 } },
  seed,
  manifest: { seeds: [seed] },
});

/** The error a call throws or rejects with (SQLite throws at once, PostgreSQL rejects), or undefined. */
async function failureOf(call: () => unknown): Promise<unknown> {
  try {
    await call();
    return undefined;
  } catch (error) {
    return error;
  }
}

async function using<T>(backend: Backend, body: (store: ResultsStoreBackend) => Promise<T>): Promise<T> {
  const store = await backend.open();
  try {
    return await body(store);
  } finally {
    await store.close();
  }
}

describe.each(backends)('results store conformance: $name', (backend) => {
  const test = backend.skip === undefined ? it : it.skip;
  if (backend.skip !== undefined) it.skip(`skipped: ${backend.skip}`, () => undefined);

  test('records comparisons, lists them in order, finds one by its exact summary', () =>
    using(backend, async (store) => {
      const first = await store.recordComparison({ scenario: 's1', arms: ['a', 'b'], baseline: 'a', summary: { verdict: 'better', values: [1, 2.5] } });
      const second = await store.recordComparison({ scenario: 's2', arms: ['c', 'd'], baseline: 'c', summary: { verdict: 'worse' }, reportPath: '/tmp/report.html' });
      const listed = await store.listComparisons();
      expect(listed.map((row) => row.id)).toEqual([first, second]);
      expect(listed[1]).toMatchObject({ scenario: 's2', arms: ['c', 'd'], baseline: 'c', summary: { verdict: 'worse' }, reportPath: '/tmp/report.html' });
      expect((await store.getComparison(first))?.summary).toEqual({ verdict: 'better', values: [1, 2.5] });
      expect(await store.getComparison('nope')).toBeUndefined();
      expect((await store.findComparisonBySummary({ verdict: 'better', values: [1, 2.5] }))?.id).toBe(first);
      // Byte for byte: the same values in another key order is another summary.
      expect(await store.findComparisonBySummary({ values: [1, 2.5], verdict: 'better' })).toBeUndefined();
    }));

  test('registers runs once, filters them, and keeps their status', () =>
    using(backend, async (store) => {
      await store.registerRuns([run('grid-a-1'), run('grid-a-2', 'grid', 2), run('other-1', 'other')]);
      await store.markRunning('grid-a-1');
      await store.registerRuns([{ ...run('grid-a-1'), manifest: { replaced: true } }]);
      const again = await store.getRun('grid-a-1');
      expect(again).toMatchObject({ status: 'running', manifest: { seeds: [1] }, agent: { config: { alpha: 0.1 } }, seed: 1 });
      expect(again?.startedAt).not.toBeNull();
      expect((await store.listRuns()).map((row) => row.id)).toEqual(['grid-a-1', 'grid-a-2', 'other-1']);
      expect((await store.listRuns({ experiment: 'grid' })).map((row) => row.id)).toEqual(['grid-a-1', 'grid-a-2']);
      expect((await store.listRuns({ idPrefix: 'grid-a-' })).map((row) => row.id)).toEqual(['grid-a-1', 'grid-a-2']);
      expect((await store.listRuns({ status: 'running' })).map((row) => row.id)).toEqual(['grid-a-1']);
      await store.markInterrupted(['grid-a-1', 'grid-a-2']);
      expect((await store.getRun('grid-a-1'))?.status).toBe('interrupted');
      expect((await store.getRun('grid-a-2'))?.status).toBe('pending'); // only running runs are interrupted
      await store.markFailed('grid-a-2', 'boom');
      expect(await store.getRun('grid-a-2')).toMatchObject({ status: 'failed', error: 'boom' });
      await store.markRunning('grid-a-2');
      expect(await store.getRun('grid-a-2')).toMatchObject({ status: 'running', error: null, endedAt: null });
      expect(await failureOf(() => store.markRunning('missing'))).toMatchObject({ kind: 'not-found' });
    }));

  test('finishes a run in one transaction, replacing an earlier attempt, and reads its metrics back', () =>
    using(backend, async (store) => {
      await store.registerRuns([run('r1'), run('r2', 'grid', 2)]);
      const checkpoint = join(store.home, 'checkpoints', 'r1', 'episode-1.json');
      await store.recordCheckpoint({ runId: 'r1', episodes: 1, steps: 365, path: checkpoint, sha256: 'b'.repeat(64) });
      await store.finishRun('r1', { manifest: { first: true }, metrics: { 'eval/meanReward': 1, stale: 2 }, evaluations: [{ episode: 0, seed: 9, totalReward: 1, kpis: { profit: 1 } }] });
      await store.finishRun('r1', {
        manifest: { policy: '/policies/q' },
        metrics: { 'eval/meanReward': 12.5, 'market/profitGain': 0.75, 'eval/curve': { json: [{ steps: 100, meanReward: 3 }, { steps: 200, meanReward: 4 }] }, missing: null, notANumber: Number.NaN },
        evaluations: [
          { episode: 0, seed: 11, totalReward: 10, kpis: { profit: 10, units: null } },
          { episode: 1, seed: 12, totalReward: 15, kpis: { profit: 15, units: 3 } },
        ],
      });
      await store.finishRun('r2', { manifest: {}, metrics: { 'eval/meanReward': -1 }, evaluations: [] });
      expect(await store.getRun('r1')).toMatchObject({ status: 'finished', manifest: { policy: '/policies/q' }, error: null });
      expect(await store.metricsOf('r1')).toEqual({ 'eval/curve': [{ steps: 100, meanReward: 3 }, { steps: 200, meanReward: 4 }], 'eval/meanReward': 12.5, 'market/profitGain': 0.75, missing: null, notANumber: null });
      expect(await store.metricOfRuns('eval/meanReward')).toEqual(new Map([['r1', 12.5], ['r2', -1]]));
      expect(await store.evaluationsOf('r1')).toEqual([
        { episode: 0, seed: 11, totalReward: 10, kpis: { profit: 10, units: null } },
        { episode: 1, seed: 12, totalReward: 15, kpis: { profit: 15, units: 3 } },
      ]);
      expect(await store.checkpointOf('r1')).toBeUndefined(); // dropped with the finish
      const [withCurve] = await store.listRunsWithCurves({ idPrefix: 'r1' });
      expect(withCurve).toMatchObject({ metrics: { 'eval/meanReward': 12.5, 'market/profitGain': 0.75, missing: null, notANumber: null }, curve: [{ steps: 100, meanReward: 3 }, { steps: 200, meanReward: 4 }], artifactPath: '/policies/q' });
    }));

  test('rolls a failed finish back: no half-written run', () =>
    using(backend, async (store) => {
      await store.registerRuns([run('r1')]);
      await store.markRunning('r1');
      const refused = await failureOf(() => store.finishRun('r1', { manifest: {}, metrics: { ok: 1 }, evaluations: [{ episode: 0, seed: 1, totalReward: 1, kpis: { profit: 1 } }, { episode: 0, seed: 2, totalReward: 2, kpis: { profit: 2 } }] }));
      expect(refused).toBeInstanceOf(Error);
      expect((await store.getRun('r1'))?.status).toBe('running');
      expect(await store.metricsOf('r1')).toEqual({});
      expect(await store.evaluationsOf('r1')).toEqual([]);
      expect(await failureOf(() => store.finishRun('missing', { manifest: {}, metrics: {}, evaluations: [] }))).toMatchObject({ kind: 'not-found' });
    }));

  test('keeps checkpoint paths relative to its folder and refuses one outside it', () =>
    using(backend, async (store) => {
      await store.registerRuns([run('r1')]);
      const path = join(store.home, 'checkpoints', 'r1', 'episode-3.json');
      await store.recordCheckpoint({ runId: 'r1', episodes: 3, steps: 1095, path, sha256: 'c'.repeat(64) });
      expect(await store.checkpointOf('r1')).toMatchObject({ runId: 'r1', episodes: 3, steps: 1095, path, sha256: 'c'.repeat(64) });
      const outside = await failureOf(() => store.recordCheckpoint({ runId: 'r1', episodes: 4, steps: 1460, path: join(scratch, 'elsewhere.json'), sha256: 'd'.repeat(64) }));
      expect(outside).toBeInstanceOf(PricelabError);
      expect((outside as PricelabError).kind).toBe('integrity');
      expect((await store.checkpointOf('r1'))?.episodes).toBe(3);
      await store.discardCheckpoint('r1');
      expect(await store.checkpointOf('r1')).toBeUndefined();
    }));

  test('names where it lives in store.path and its files folder in store.home', () =>
    using(backend, async (store) => {
      expect(store.location.kind).toBe(backend.name);
      expect(store.home).toBe(store.location.home);
      if (store.location.kind === 'postgres') expect(store.path).toMatch(/^postgres:\/\//);
      else expect(store.path).toBe(join(store.home, 'pricelab.db'));
    }));
});

describe('PostgreSQL migrations', () => {
  const test = postgresMissing === undefined ? it : it.skip;

  test('are recorded by number, applied once however many open at once, and a newer schema is refused', async () => {
    const url = await server!.database();
    const location = { kind: 'postgres' as const, url, home: join(scratch, 'migrations') };
    const stores = await Promise.all([openResultsStore(location), openResultsStore(location), openResultsStore(location)]);
    await Promise.all(stores.map((store) => store.close()));
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ version: number }>("SELECT version FROM pricelab_migrations WHERE component = 'results-store' ORDER BY version");
      expect(rows.map((row) => row.version)).toEqual([1]);
      await client.query("INSERT INTO pricelab_migrations (component, version, applied_at) VALUES ('results-store', 99, 'later')");
    } finally {
      await client.end();
    }
    const refused = await openResultsStore(location).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(PricelabError);
    expect((refused as PricelabError).kind).toBe('integrity');
    expect((refused as PricelabError).message).toMatch(/schema version 99, newer than this pricelab knows \(1\)/);
  });
});
