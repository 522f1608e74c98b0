/**
 * `pricelab compare --queue` (issue 17, comparison arms on the queue): two `pricelab worker`
 * processes from dist/ on a Redis of the test's own (tests/fixtures/redis-server.ts) run one
 * job per (arm, seed); the summary JSON is identical to a local `pricelab compare` with the
 * same arguments but for createdAt. A second submission joins the jobs already done; a
 * policy folder arm is refused (exit 2, naming the arm); an unreachable Redis exits 3.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliWith, ensureBuilt, main, root } from '../fixtures/cli.js';
import { trainedPolicyArtifact } from '../fixtures/policy-artifact.js';
import { freePort, startRedis, type TestRedis } from '../fixtures/redis-server.js';

const compareArgs = ['compare', 'steady-state-v1', '--agents', 'fixed:17.99,q=q-learning,thompson', '--seeds', '3', '--steps', '1500', '--episodes', '2', '--resamples', '200', '--no-store'];

function withoutTiming(file: string): unknown {
  const summary = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  delete summary.createdAt;
  return summary;
}

describe('pricelab compare --queue', () => {
  let redis: TestRedis | undefined;
  let folder = '';
  const workers: ChildProcess[] = [];
  const env = () => ({ PRICELAB_HOME: join(folder, 'home') });

  beforeAll(async () => {
    ensureBuilt();
    folder = mkdtempSync(join(tmpdir(), 'pricelab-compare-queue-'));
    redis = await startRedis();
    for (const name of ['c1', 'c2']) {
      const child = spawn(process.execPath, [main, 'worker', '--queue', redis.url, '--name', name], { cwd: root, env: { ...process.env, NO_COLOR: '1', ...env() }, stdio: 'ignore' });
      workers.push(child);
    }
  }, 60_000);

  afterAll(async () => {
    for (const worker of workers) if (worker.exitCode === null) worker.kill('SIGTERM');
    await Promise.all(workers.map((worker) => (worker.exitCode === null ? new Promise((resolve) => worker.once('exit', resolve)) : undefined)));
    await redis?.stop();
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  it('gives the summary of a local run, and a resubmission joins the finished jobs', async () => {
    const [local, queued] = await Promise.all([
      cliWith(env(), ...compareArgs, '--json', join(folder, 'local.json')),
      cliWith(env(), ...compareArgs, '--json', join(folder, 'queued.json'), '--queue', redis!.url),
    ]);
    expect(local.code, local.stderr).toBe(0);
    expect(queued.code, queued.stderr).toBe(0);
    expect(queued.stderr).toMatch(/9 comparison jobs \(arm x seed\) on the queue .*: 9 queued/);
    expect(queued.stderr).toMatch(/done 9, failed 0/);
    expect(queued.stderr).toMatch(/ on c[12]\n/);
    expect(withoutTiming(join(folder, 'queued.json'))).toEqual(withoutTiming(join(folder, 'local.json')));

    const again = await cliWith(env(), ...compareArgs, '--json', join(folder, 'again.json'), '--queue', redis!.url);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/0 queued, 9 already there \(joined\)/);
    expect(withoutTiming(join(folder, 'again.json'))).toEqual(withoutTiming(join(folder, 'local.json')));
  }, 40_000);

  it('refuses a policy folder arm with --queue, naming it (exit 2)', async () => {
    const policy = await trainedPolicyArtifact(folder, { steps: 200 });
    const result = await cliWith(env(), 'compare', 'steady-state-v1', '--agents', `fixed:17.99,mine=${policy.folder}`, '--seeds', '2', '--no-store', '--queue', redis!.url);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/cannot run arm mine on the queue/);
    expect(result.stderr).toMatch(/agents\[1\]: expected a rule spec or an agent kind with --queue/);
  }, 20_000);

  it('exits 3 within seconds when Redis does not answer', async () => {
    const port = await freePort();
    const started = Date.now();
    const result = await cliWith(env(), 'compare', 'steady-state-v1', '--agents', 'fixed:17.99,list', '--seeds', '2', '--no-store', '--queue', `redis://127.0.0.1:${port}`, '--connect-timeout', '1');
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toMatch(/no Redis answering/);
    expect(Date.now() - started).toBeLessThan(10_000);
  }, 20_000);
});
