/**
 * `pricelab compare --queue` (issue 17, comparison arms on the queue): two `pricelab worker`
 * processes from dist/ on a Redis of the test's own (tests/fixtures/redis-server.ts) run one
 * job per (arm, seed); the summary JSON is identical to a local `pricelab compare` with the
 * same arguments but for createdAt. A second submission joins the jobs already done; a
 * policy folder arm's weights travel with its jobs (the local summary again), and a job whose
 * weights do not match their sha256 is refused at once; an unreachable Redis exits 3.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { Job, Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueName, queuePrefix } from '../../experiments/queue/connection.js';
import { comparisonArmKey, jobFormat, type ComparisonArmJob } from '../../experiments/queue/job-payload.js';
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

  it('ships a policy folder arm\'s weights with its jobs: the local summary again', async () => {
    const policy = await trainedPolicyArtifact(folder, { steps: 300 });
    const args = ['compare', 'steady-state-v1', '--agents', `fixed:17.99,mine=${policy.folder}`, '--seeds', '2', '--episodes', '2', '--resamples', '200', '--no-store'];
    const [local, queued] = await Promise.all([cliWith(env(), ...args, '--json', join(folder, 'policy-local.json')), cliWith(env(), ...args, '--json', join(folder, 'policy-queued.json'), '--queue', redis!.url)]);
    expect(local.code, local.stderr).toBe(0);
    expect(queued.code, queued.stderr).toBe(0);
    expect(queued.stderr).toMatch(/done 4, failed 0/);
    expect(withoutTiming(join(folder, 'policy-queued.json'))).toEqual(withoutTiming(join(folder, 'policy-local.json')));
  }, 30_000);

  it('refuses at once a job whose weights file does not match its sha256', async () => {
    const files = { 'q.json': { sha256: createHash('sha256').update('{}').digest('hex'), bytes: Buffer.from('{"tampered":1}').toString('base64') } };
    const job: ComparisonArmJob = {
      format: jobFormat,
      kind: 'comparison-arm',
      scenario: { id: 'x', contentHash: '0'.repeat(64), bytes: Buffer.from('{}').toString('base64') },
      arm: { name: 'mine', spec: 'policies/mine', source: 'artifact', kind: 'q-learning', config: {}, files },
      seed: 1,
      learns: false,
      recordTrajectory: false,
      plan: { evaluationEpisodes: 1, trainingSteps: 10, curvePoints: 1, curveEpisodes: 1, guardrails: {} },
    };
    const queue = new Queue(queueName, { connection: { host: '127.0.0.1', port: redis!.port }, prefix: queuePrefix });
    try {
      const jobId = comparisonArmKey(job);
      await queue.add('comparison-arm', job, { jobId, attempts: 3 });
      let state = '';
      for (let tries = 0; tries < 200 && state !== 'failed'; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        state = await queue.getJobState(jobId);
      }
      const failed = await Job.fromId(queue, jobId);
      expect(state).toBe('failed');
      expect(failed?.attemptsMade).toBe(1);
      expect(failed?.failedReason).toMatch(/malformed job payload.*arm\.files\.q\.json\.bytes: expected bytes with sha256/);
    } finally {
      await queue.close();
    }
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
