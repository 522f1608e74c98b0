/**
 * A team's store in PostgreSQL, end to end through the CLI: `pricelab policy` and `runs`
 * with PRICELAB_STORE, artifacts under PRICELAB_ARTIFACT_ROOT, and three `pricelab serve`
 * replicas (different ports, standing in for machines) on one registry. While a client
 * sends requests to every replica, a promotion and then a rollback (from another process)
 * are picked up by all three within their refresh interval, and no request fails. An
 * unreachable URL is exit 2 within seconds. The server is the test's own
 * (tests/fixtures/postgres.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TimeLimit } from '../../env/env.js';
import type { StoreLocation } from '../../core/store-url.js';
import { usingResultsStore } from '../../experiments/store-backend.js';
import { openPolicyRegistry } from '../../serving/registry-backend.js';
import { cliWith, ensureBuilt, main, root } from '../fixtures/cli.js';
import { freePort, postgresMissing, startPostgres, type PostgresServer } from '../fixtures/postgres.js';
import { trainedPolicyArtifact } from '../fixtures/policy-artifact.js';

const scratch = mkdtempSync(join(tmpdir(), 'pricelab-pg-replicas-'));
const artifactRoot = join(scratch, 'shared-artifacts');
const refreshMs = 250;
let server: PostgresServer | undefined;
let url: string;
let env: TimeLimit;
let first: string;
let second: string;
const replicas: ChildProcess[] = [];

beforeAll(async () => {
  if (postgresMissing !== undefined) return;
  ensureBuilt();
  server = await startPostgres();
  url = await server.database();
  const trained = await trainedPolicyArtifact(scratch, { seed: 1, steps: 1000 });
  env = trained.env;
  first = trained.folder;
  second = (await trainedPolicyArtifact(scratch, { seed: 2, steps: 1000 })).folder;
}, 120_000);

afterAll(async () => {
  for (const child of replicas) if (child.exitCode === null) child.kill('SIGTERM');
  await Promise.all(replicas.map((child) => (child.exitCode === null ? new Promise((resolve) => child.once('exit', resolve)) : undefined)));
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/** Each CLI call as if on another machine: its own PRICELAB_HOME, the shared store and artifact root. */
const teamEnv = () => ({ PRICELAB_STORE: url, PRICELAB_ARTIFACT_ROOT: artifactRoot, PRICELAB_HOME: mkdtempSync(join(scratch, 'machine-')) });
const pricelab = async (...args: string[]) => {
  const result = await cliWith(teamEnv(), ...args);
  expect(result.code, result.stderr).toBe(0);
  return result.stdout;
};

function startReplica(config: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [main, 'serve', '--port', '0', '--config', config], { cwd: root, env: { ...process.env, ...teamEnv(), NO_COLOR: '1' } });
  replicas.push(child);
  return new Promise((resolve, reject) => {
    let output = '';
    let errors = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const found = /pricelab serving on (http:\/\/\S+)/.exec(output);
      if (found?.[1]) resolve({ child, url: found[1] });
    });
    child.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${errors}`)));
  });
}

describe('a team store in PostgreSQL', () => {
  const test = postgresMissing === undefined ? it : it.skip;
  if (postgresMissing !== undefined) it.skip(`skipped: ${postgresMissing}`, () => undefined);

  test('the CLI keeps the registry in PostgreSQL and the artifacts under the artifact root', async () => {
    expect(await pricelab('policy', 'register', first, '--name', 'everyday', '--reason', 'v1', '--actor', 'ana')).toMatch(/registered everyday@1/);
    expect(await pricelab('policy', 'register', second, '--name', 'everyday', '--reason', 'v2', '--actor', 'ben')).toMatch(/registered everyday@2/);
    expect(existsSync(join(artifactRoot, 'policies', 'everyday', '2', 'policy.json'))).toBe(true);
    const listed = JSON.parse(await pricelab('policy', 'list', '--json')) as { policies: { name: string; versions: number }[] };
    expect(listed.policies).toEqual([{ name: 'everyday', versions: 2, aliases: {}, retired: false }]);
    expect(await pricelab('policy', 'audit', '--verify')).toMatch(/audit log verified: 2 entries/);
    expect(JSON.parse(await pricelab('runs', 'list', '--json'))).toEqual([]);
  });

  test('three serve replicas pick up a promotion and a rollback within their refresh interval; no request fails', async () => {
    const registry = await openPolicyRegistry({ kind: 'postgres', url, home: artifactRoot });
    try {
      await registry.moveAlias('everyday', 1, 'production', { reason: 'first release', actor: 'ana' });
      const config = join(scratch, 'serving.json');
      writeFileSync(config, JSON.stringify({ refreshMs }));
      const endpoints = await Promise.all([startReplica(config), startReplica(config), startReplica(config)]);
      expect(new Set(endpoints.map((endpoint) => endpoint.url)).size).toBe(3);

      const space = env.observationSpace;
      const { observation } = env.reset({ seed: 3 });
      const features = Object.fromEntries(space.featureNames.map((name, index) => [name, (observation[index] ?? 0) * (space.scales[index] ?? 1)]));
      const body = JSON.stringify({ features, lastPrice: features.lastPrice ?? 17.99 });
      // The version each replica served last, and every answer that was not a price.
      const lastVersion = endpoints.map(() => 0);
      const failures: string[] = [];
      let requests = 0;
      let sending = true;
      const client = (async () => {
        while (sending) {
          await Promise.all(
            endpoints.map(async (endpoint, index) => {
              try {
                const response = await fetch(`${endpoint.url}/v1/policies/everyday/price`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
                const answer = (await response.json()) as { policy?: { version?: number } };
                requests++;
                if (response.status !== 200 || answer.policy?.version === undefined) failures.push(`${endpoint.url}: ${response.status} ${JSON.stringify(answer)}`);
                else lastVersion[index] = answer.policy.version;
              } catch (error) {
                failures.push(`${endpoint.url}: ${(error as Error).message}`);
              }
            }),
          );
        }
      })();
      /** Milliseconds until every replica serves `version` (fails after 20 s). */
      const converged = async (version: number) => {
        const started = performance.now();
        while (!lastVersion.every((served) => served === version)) {
          if (performance.now() - started > 20_000) throw new Error(`replicas serve ${lastVersion.join(', ')}, expected ${version} everywhere`);
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        return performance.now() - started;
      };
      try {
        await converged(1);
        await registry.moveAlias('everyday', 2, 'production', { reason: 'better', actor: 'ana' });
        const promotion = await converged(2);
        const rollback = await (async () => {
          // The rollback from another process (another machine's CLI).
          const moved = await cliWith(teamEnv(), 'policy', 'rollback', 'everyday', '--reason', 'worse live', '--json');
          expect(moved.code, moved.stderr).toBe(0);
          expect(JSON.parse(moved.stdout)).toMatchObject({ from: 2, to: 1 });
          return converged(1);
        })();
        // Within the refresh interval, with slack for a loaded machine (request round trips, a poll in flight).
        expect(promotion).toBeLessThan(refreshMs + 4_000);
        expect(rollback).toBeLessThan(refreshMs + 4_000);
      } finally {
        sending = false;
        await client;
      }
      expect(failures).toEqual([]);
      expect(requests).toBeGreaterThan(30);
      for (const endpoint of endpoints) {
        const listed = (await (await fetch(`${endpoint.url}/v1/policies`)).json()) as { policies: { name: string; aliases: Record<string, number>; served: { version: number } | null }[] };
        expect(listed.policies).toEqual([expect.objectContaining({ name: 'everyday', aliases: { production: 1 }, served: expect.objectContaining({ version: 1 }) })]);
      }
      expect((await registry.verifyAudit()).ok).toBe(true);
    } finally {
      await registry.close();
    }
  }, 120_000);

  test('a sweep stores in PostgreSQL exactly what it stores in SQLite, and --resume skips what is there', async () => {
    const experiment = join(scratch, 'tiny.json');
    writeFileSync(experiment, JSON.stringify({ name: 'tiny', scenarios: ['steady-state-v1'], agents: [{ name: 'q', kind: 'q-learning' }], seeds: [1, 2], budget: { episodes: 2 }, evaluation: { episodes: 2, seed: 500 }, kpis: ['profit'] }));
    const sqliteHome = mkdtempSync(join(scratch, 'sqlite-'));
    const [onPostgres, onSqlite] = await Promise.all([cliWith(teamEnv(), 'experiment', 'run', experiment, '--workers', '1'), cliWith({ PRICELAB_HOME: sqliteHome }, 'experiment', 'run', experiment, '--workers', '1')]);
    expect(onPostgres.code, onPostgres.stderr).toBe(0);
    expect(onSqlite.code, onSqlite.stderr).toBe(0);
    const stored = async (location: StoreLocation) =>
      usingResultsStore(location, async (store) => {
        const runs = await store.listRuns({ experiment: 'tiny' });
        return Promise.all(runs.map(async (run) => ({ id: run.id, status: run.status, evaluations: await store.evaluationsOf(run.id), metrics: Object.entries(await store.metricsOf(run.id)).filter(([key]) => !key.startsWith('time/')) })));
      });
    const fromPostgres = await stored({ kind: 'postgres', url, home: artifactRoot });
    expect(fromPostgres).toHaveLength(2);
    expect(fromPostgres.every((run) => run.status === 'finished' && run.evaluations.length === 2)).toBe(true);
    expect(fromPostgres).toEqual(await stored({ kind: 'sqlite', home: sqliteHome }));
    const resumed = await cliWith(teamEnv(), 'experiment', 'run', experiment, '--resume');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/2 skipped/);
    const listed = JSON.parse(await pricelab('runs', 'list', '--experiment', 'tiny', '--json')) as { status: string }[];
    expect(listed.map((run) => run.status)).toEqual(['finished', 'finished']);
  }, 120_000);

  test('an unreachable PostgreSQL URL is exit 2 within seconds, naming it without its password', async () => {
    const port = await freePort();
    const started = performance.now();
    const result = await cliWith({ PRICELAB_STORE: `postgres://ana:secret@127.0.0.1:${port}/team` }, 'policy', 'list');
    expect(performance.now() - started).toBeLessThan(15_000);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`error: the PostgreSQL store postgres://ana:***@127.0.0.1:${port}/team cannot be reached`);
    expect(result.stderr).not.toContain('secret');
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
    const flag = await cliWith({}, '--store', `postgres://ana:secret@127.0.0.1:${port}/team`, 'runs', 'list');
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain(`postgres://ana:***@127.0.0.1:${port}/team cannot be reached`);
    const notAUrl = await cliWith({ PRICELAB_STORE: 'mysql://somewhere' }, 'runs', 'list');
    expect(notAUrl.code).toBe(2);
    expect(notAUrl.stderr).toMatch(/PRICELAB_STORE: expected a PostgreSQL URL/);
  });
});
