/**
 * Distributed sweeps (issue 17): three `pricelab worker` processes from dist/ and submitters
 * (`pricelab experiment run --queue`, `pricelab reproduce calvano --queue`) on a Redis of the
 * test's own (tests/fixtures/redis-server.ts: a free port, a temporary folder, append-only
 * file on). Every sweep's stored results are compared with a local sweep of the same file
 * (worker threads, and one thread): evaluation episodes, every metric but time/, and the
 * sha256 of every file of the run's policy artifact (byte-identical, whoever trained it).
 *
 * Faults: a worker killed (SIGKILL) mid-run, its job taken over after stall detection; a run
 * that throws on every attempt, failed after --attempts with its error stored; a malformed
 * payload refused at once and stored as failed with its reason; Redis restarted mid-sweep;
 * a second submitter joining; an unreachable Redis (exit 3 within seconds, not a hang).
 * Budgets are tiny: the workers' lock is 2 s and their stall check every second.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readArtifact, sha256 } from '../../agents/artifact.js';
import { planExperiment } from '../../experiments/experiment-file.js';
import { queueName, queuePrefix } from '../../experiments/queue/connection.js';
import { experimentRunJob } from '../../experiments/queue/job-payload.js';
import { ResultsStore } from '../../experiments/store.js';
import { ensureBuilt, main, root, type CliResult } from '../fixtures/cli.js';
import { freePort, startRedis, type TestRedis } from '../fixtures/redis-server.js';

const common = { scenarios: ['steady-state-v1'], budget: { episodes: 16 }, evaluation: { episodes: 2, seed: 500 }, kpis: ['profit', 'units'] };
const q = { name: 'q', kind: 'q-learning' };
const thompson = { kind: 'thompson' };
/**
 * Every sweep is a part of a reference (the same agents, budget and seeds), so one local sweep
 * of each reference answers for all. The runs that a test interrupts are longer (a warm thread
 * trains 16 episodes in a few milliseconds): 400 episodes, about half a second warm.
 */
const slow = { ...common, budget: { episodes: 400 } };
const experiments = {
  reference: { name: 'queue-reference', agents: [q, thompson], seeds: [1, 2, 3], ...common },
  slowReference: { name: 'queue-slow-reference', agents: [q], seeds: [1, 2, 3], ...slow },
  kill: { name: 'queue-kill', agents: [q], seeds: [1, 2], ...slow },
  failing: { name: 'queue-failing', agents: [thompson], seeds: [1, 2, 3], ...common },
  join: { name: 'queue-join', agents: [thompson, q], seeds: [1, 2, 3], ...common },
  handback: { name: 'queue-handback', agents: [q], seeds: [3], ...slow },
  interrupted: { name: 'queue-interrupted', agents: [q], seeds: [1, 2, 3], ...slow },
  restart: { name: 'queue-restart', agents: [q, thompson], seeds: [1, 2, 3], ...common },
};
type ExperimentKey = keyof typeof experiments;

interface Spawned {
  readonly child: ChildProcess;
  output: string;
  readonly exited: Promise<number>;
  waitFor(pattern: RegExp, seconds?: number): Promise<RegExpMatchArray>;
}

function spawnCli(args: readonly string[], home?: string): Spawned {
  const child = spawn(process.execPath, [main, ...args], { cwd: root, env: { ...process.env, NO_COLOR: '1', ...(home ? { PRICELAB_HOME: home } : {}) }, stdio: ['ignore', 'pipe', 'pipe'] });
  const spawned: Spawned = {
    child,
    output: '',
    exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : -1)))),
    async waitFor(pattern, seconds = 90) {
      const deadline = Date.now() + seconds * 1000;
      for (;;) {
        const match = spawned.output.match(pattern);
        if (match) return match;
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no ${pattern} in the output of ${args.join(' ')}:\n${spawned.output}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
  };
  child.stdout!.on('data', (chunk: Buffer) => (spawned.output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (spawned.output += chunk.toString()));
  return spawned;
}

function cli(args: readonly string[], home?: string): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [main, ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', ...(home ? { PRICELAB_HOME: home } : {}) } }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr }),
    );
  });
}

type Stored = Record<string, { status: string; error: string | null; evaluations: unknown; metrics: unknown; artifact: Record<string, string> | null }>;

/** The sha256 of every file of the policy artifact a run's manifest names (null: none), after readArtifact checked them. */
function artifactHashes(path: string | null): Record<string, string> | null {
  if (path === null) return null;
  const artifact = readArtifact(path);
  return Object.fromEntries(readdirSync(path).sort().map((name) => [name, sha256(readFileSync(join(path, name)))]).concat([['(content hash)', artifact.contentHash]]));
}

/** Every run's status, error, evaluation episodes, metrics but time/ (seconds differ) and artifact files' hashes, by "<agent> seed <seed>". */
function storedResults(home: string, experiment: string): Stored {
  const store = ResultsStore.open(home);
  try {
    return Object.fromEntries(
      store.listRunsWithCurves({ experiment }).map(({ run, artifactPath }) => [
        `${run.agent.name} seed ${run.seed}`,
        { status: run.status, error: run.error, evaluations: store.evaluationsOf(run.id), metrics: Object.entries(store.metricsOf(run.id)).filter(([key]) => !key.startsWith('time/')), artifact: artifactHashes(artifactPath) },
      ]),
    );
  } finally {
    store.close();
  }
}

describe('sweeps on a queue: three workers, faults', () => {
  let folder: string;
  let redis: TestRedis;
  const workers: Spawned[] = [];
  const files = {} as Record<ExperimentKey, string>;
  /** The references' stored results: local worker threads (2) and one thread; the slow one in one thread. */
  let reference: { threads: Stored; oneThread: Stored; slowOneThread: Stored };
  /** The reference's results of the runs of an experiment. */
  const expected = (key: ExperimentKey, only?: (label: string) => boolean) => {
    const labels = experiments[key].agents.flatMap((agent) => experiments[key].seeds.map((seed) => `${'name' in agent ? agent.name : agent.kind} seed ${seed}`)).filter((label) => only?.(label) ?? true);
    const source = experiments[key].budget.episodes === slow.budget.episodes ? reference.slowOneThread : reference.threads;
    return Object.fromEntries(labels.map((label) => [label, source[label]]));
  };
  const workerArgs = (name: string) => ['worker', '--queue', redis.url, '--lock-seconds', '2', '--stalled-seconds', '1', '--grace', '5', '--name', name];
  const startWorker = async (name: string) => {
    const worker = spawnCli(workerArgs(name));
    workers.push(worker);
    await worker.waitFor(/ready/);
    return worker;
  };
  const localResults = async (key: 'reference' | 'slowReference', threads: number) => {
    const home = join(folder, `local-${key}-${threads}`);
    const result = await cli(['experiment', 'run', files[key], '--workers', String(threads), '--json'], home);
    expect(result.code, result.stderr).toBe(0);
    return storedResults(home, experiments[key].name);
  };

  beforeAll(async () => {
    ensureBuilt();
    folder = mkdtempSync(join(tmpdir(), 'pricelab-queue-'));
    for (const key of Object.keys(experiments) as ExperimentKey[]) {
      files[key] = join(folder, `${key}.json`);
      writeFileSync(files[key], JSON.stringify(experiments[key]));
    }
    redis = await startRedis();
    const [threads, oneThread, slowOneThread] = await Promise.all([
      localResults('reference', 2),
      localResults('reference', 1),
      localResults('slowReference', 1),
      ...['w1', 'w2', 'w3'].map((name) => startWorker(name)),
    ]);
    reference = { threads: threads as Stored, oneThread: oneThread as Stored, slowOneThread: slowOneThread as Stored };
  }, 180_000);

  afterAll(async () => {
    for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
    await redis?.stop();
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  it('a worker killed mid-run: its job is taken over, and the results equal a local sweep and one thread', async () => {
    const home = join(folder, 'queue-kill');
    const submitter = spawnCli(['experiment', 'run', files.kill, '--queue', redis.url], home);
    // Kill the first worker to start a run (400 episodes, on a cold thread: it is still running).
    const started = await Promise.race(workers.map((worker) => worker.waitFor(/started (\w+) \(queue-kill: steady-state-v1 q /).then((match) => ({ worker, jobId: match[1]! }))));
    started.worker.child.kill('SIGKILL');
    expect(await submitter.exited, submitter.output).toBe(0);
    const survivors = workers.filter((worker) => worker !== started.worker);
    expect(survivors.some((worker) => worker.output.includes(`finished ${started.jobId}`))).toBe(true);
    const queued = storedResults(home, experiments.kill.name);
    expect(Object.values(queued).map((run) => run.status)).toEqual(['finished', 'finished']);
    expect(Object.values(queued).every((run) => run.artifact !== null && 'policy.json' in run.artifact)).toBe(true);
    expect(reference.threads).toEqual(reference.oneThread);
    expect(queued).toEqual(expected('kill'));
    workers.splice(workers.indexOf(started.worker), 1);
    await startWorker('w4'); // three workers again for the next tests
  }, 180_000);

  it('a worker stopped (SIGTERM, then again) mid-run hands its job back; another worker runs it', async () => {
    const home = join(folder, 'queue-handback');
    const submitter = spawnCli(['experiment', 'run', files.handback, '--queue', redis.url], home);
    const started = await Promise.race(workers.map((worker) => worker.waitFor(/started (\w+) \(queue-handback:/).then((match) => ({ worker, jobId: match[1]! }))));
    started.worker.child.kill('SIGTERM'); // take no new job, let the running one finish within --grace...
    await started.worker.waitFor(/SIGTERM: taking no new job/);
    started.worker.child.kill('SIGTERM'); // ...or hand it back at once
    expect(await started.worker.exited, started.worker.output).toBe(0);
    expect(started.worker.output).toContain(`handed back ${started.jobId}`);
    expect(await submitter.exited, submitter.output).toBe(0);
    const others = workers.filter((worker) => worker !== started.worker);
    expect(others.some((worker) => worker.output.includes(`finished ${started.jobId}`))).toBe(true);
    expect(storedResults(home, experiments.handback.name)).toEqual(expected('handback'));
    workers.splice(workers.indexOf(started.worker), 1);
    await startWorker('w5');
  }, 180_000);

  it('a run that throws every time fails after --attempts with its error; a malformed payload is refused and stored as failed; the rest completes', async () => {
    const plan = planExperiment(experiments.failing);
    const [throwing, malformed] = plan.runs;
    const scenario = plan.scenarios[0]!;
    // Put the two bad jobs in the queue first, under the runs' own ids: the submitter then joins them.
    const queue = new Queue(queueName, { connection: { host: '127.0.0.1', port: redis.port }, prefix: queuePrefix });
    try {
      const tampered = new TextEncoder().encode(`${new TextDecoder().decode(scenario.bytes)} `); // bytes that are not the planned content hash's
      await queue.add('experiment-run', experimentRunJob(throwing!, tampered), { jobId: throwing!.id, attempts: 2, backoff: { type: 'fixed', delay: 100 } });
      await queue.add('experiment-run', { format: 'pricelab/queue-job@1', kind: 'experiment-run', run: { id: malformed!.id, seed: 'one' } }, { jobId: malformed!.id, attempts: 2 });
    } finally {
      await queue.close();
    }
    const home = join(folder, 'queue-failing');
    const result = await cli(['experiment', 'run', files.failing, '--queue', redis.url, '--attempts', '2', '--json'], home);
    expect(result.code, result.stderr).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ finished: 1, failed: 2, left: 0 });
    const stored = storedResults(home, experiments.failing.name);
    expect(stored['thompson seed 1']).toMatchObject({ status: 'failed', error: expect.stringContaining('changed since the sweep was planned') });
    expect(stored['thompson seed 2']).toMatchObject({ status: 'failed', error: expect.stringMatching(/^malformed job payload \(\d+ problems?\): .*run\.seed/) });
    expect(stored['thompson seed 3']).toEqual(expected('failing', (label) => label === 'thompson seed 3')['thompson seed 3']);
    const status = JSON.parse((await cli(['queue', 'status', '--queue', redis.url, '--json'])).stdout) as { failures: { jobId: string; attempts: number }[]; workers: number };
    expect(status.workers).toBe(3);
    expect(status.failures.find((failure) => failure.jobId === throwing!.id)?.attempts).toBe(2);
    expect(status.failures.find((failure) => failure.jobId === malformed!.id)?.attempts).toBe(1);
    // The operator's two other commands: failed jobs back in the queue, finished ones removed.
    expect(JSON.parse((await cli(['queue', 'retry-failed', '--queue', redis.url, '--json'])).stdout)).toEqual({ retried: 2 });
    const cleaned = JSON.parse((await cli(['queue', 'clean', '--queue', redis.url, '--json'])).stdout) as { removed: { completed: number; failed: number } };
    expect(cleaned.removed.completed).toBe(4); // the killed sweep's 2, the handed-back 1, this sweep's 1
    expect(cleaned.removed.failed).toBe(0);
  }, 180_000);

  it('a second submitter of the same file joins the first: every run runs once', async () => {
    const home = join(folder, 'queue-join');
    const first = spawnCli(['experiment', 'run', files.join, '--queue', redis.url], home);
    await first.waitFor(/queued 6 new jobs/);
    const second = spawnCli(['experiment', 'run', files.join, '--queue', redis.url, '--resume'], home);
    expect(await first.exited, first.output).toBe(0);
    expect(await second.exited, second.output).toBe(0);
    expect(second.output).toMatch(/queued 0 new jobs, \d+ already in the queue \(joined\)|0 to run/);
    const starts = workers.flatMap((worker) => [...worker.output.matchAll(/started (\w+) \(queue-join:/g)].map((match) => match[1]));
    expect(starts).toHaveLength(6);
    expect(new Set(starts).size).toBe(6);
    expect(storedResults(home, experiments.join.name)).toEqual(expected('join'));
  }, 180_000);

  it('Ctrl-C stops the submitter and leaves its jobs to the workers; --resume collects their results', async () => {
    const home = join(folder, 'queue-interrupted');
    const submitter = spawnCli(['experiment', 'run', files.interrupted, '--queue', redis.url], home);
    await submitter.waitFor(/queued 3 new jobs/);
    submitter.child.kill('SIGINT');
    expect(await submitter.exited, submitter.output).toBe(130);
    expect(submitter.output).toMatch(/stays? in the queue\. Collect their results with: pricelab experiment run .* --resume/);
    const resumed = await cli(['experiment', 'run', files.interrupted, '--queue', redis.url, '--resume', '--json'], home);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ finished: 3, failed: 0, left: 0 });
    expect(storedResults(home, experiments.interrupted.name)).toEqual(expected('interrupted'));
    const starts = workers.flatMap((worker) => [...worker.output.matchAll(/started (\w+) \(queue-interrupted:/g)].map((match) => match[1]));
    expect(new Set(starts).size).toBe(starts.length); // none ran twice
  }, 180_000);

  it('Redis restarted mid-sweep (append-only file): nothing lost, each run stored once, the results of a local sweep', async () => {
    const home = join(folder, 'queue-restart');
    const submitter = spawnCli(['experiment', 'run', files.restart, '--queue', redis.url], home);
    await submitter.waitFor(/finished \w+ steady-state-v1/);
    await redis.restart(700);
    expect(await submitter.exited, submitter.output).toBe(0);
    const storedLines = [...submitter.output.matchAll(/^finished (\w+) /gm)].map((match) => match[1]);
    expect(storedLines).toHaveLength(6);
    expect(new Set(storedLines).size).toBe(6);
    expect(storedResults(home, experiments.restart.name)).toEqual(expected('restart'));
    expect(workers.every((worker) => worker.child.exitCode === null)).toBe(true);
  }, 180_000);

  it('reproduce calvano --queue gives the figures of the threads, and stored sessions are not run again', async () => {
    const home = join(folder, 'queue-calvano');
    const args = ['reproduce', 'calvano', '--sessions', '3', '--window', '2000', '--max-periods', '100000', '--json'];
    const queued = await cli([...args, '--queue', redis.url], home);
    expect(queued.code, queued.stderr).toBe(0);
    const local = await cli([...args, '--workers', '0']);
    const withoutSeconds = (text: string) => ({ ...(JSON.parse(text) as Record<string, unknown>), secondsPerSession: 'differs' });
    expect(withoutSeconds(queued.stdout)).toEqual(withoutSeconds(local.stdout));
    const again = await cli([...args.filter((arg) => arg !== '--json'), '--queue', redis.url], home);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/3 sessions, 3 already stored, 0 to run/);
  }, 120_000);

  it('a Calvano grid on the queue stores every session, and its heatmap equals the local threads\' one', async () => {
    const grid = {
      kind: 'calvano-grid',
      name: 'queue-grid',
      alpha: { from: 0.1, to: 0.2, points: 2 },
      beta: { from: 0, to: 1e-4, points: 2, includeFrom: false },
      seeds: { from: 1, count: 2 },
      calvano: { convergenceWindow: 2000, maxPeriods: 200_000 },
    };
    const file = join(folder, 'queue-grid.json');
    writeFileSync(file, JSON.stringify(grid));
    const cellsOf = (report: string) =>
      JSON.parse(readFileSync(join(report, 'calvano-grid.json'), 'utf8')) as { cells: unknown[]; sessions: unknown };
    const queued = await cli(['experiment', 'run', file, '--queue', redis.url, '--report', join(folder, 'grid-queue-report')], join(folder, 'grid-queue'));
    expect(queued.code, queued.stderr).toBe(0);
    const local = await cli(['experiment', 'run', file, '--workers', '1', '--report', join(folder, 'grid-local-report')], join(folder, 'grid-local'));
    expect(local.code, local.stderr).toBe(0);
    const fromQueue = cellsOf(join(folder, 'grid-queue-report'));
    expect(fromQueue.sessions).toMatchObject({ planned: 8, finished: 8 });
    // Every figure but the time a session took.
    const withoutSeconds = (cells: unknown[]) => cells.map((cell) => ({ ...(cell as Record<string, unknown>), secondsPerSession: 'differs' }));
    expect(withoutSeconds(fromQueue.cells)).toEqual(withoutSeconds(cellsOf(join(folder, 'grid-local-report')).cells));
  }, 120_000);
});

describe('bad queue input', () => {
  it('an unreachable Redis is a clear error within seconds (exit 3), for the submitter and the worker', async () => {
    const port = await freePort();
    const folder = mkdtempSync(join(tmpdir(), 'pricelab-queue-bad-'));
    try {
      const file = join(folder, 'x.json');
      writeFileSync(file, JSON.stringify(experiments.failing));
      const started = performance.now();
      const [submitted, worker, status] = await Promise.all([
        cli(['experiment', 'run', file, '--queue', `redis://127.0.0.1:${port}`], join(folder, 'home')),
        cli(['worker', '--queue', `redis://127.0.0.1:${port}`]),
        cli(['queue', 'status', '--queue', `redis://127.0.0.1:${port}`, '--json']),
      ]);
      // Each gives up after its 3 s connect timeout; the rest is three node processes starting (seconds on a loaded machine). A hang would be forever.
      expect((performance.now() - started) / 1000).toBeLessThan(25);
      for (const result of [submitted, worker, status]) {
        expect(result.code, result.stderr).toBe(3);
        expect(result.stderr).toContain(`no Redis answering at redis://127.0.0.1:${port}`);
        expect(result.stderr).toContain('connection refused');
      }
      expect(JSON.parse(status.stdout)).toMatchObject({ error: { kind: 'not-found' } });
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  }, 60_000);

  it('a URL that is not a Redis URL is refused (exit 2)', async () => {
    const result = await cli(['queue', 'status', '--queue', 'http://127.0.0.1:6379']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('expected redis://host:port[/db]');
  });
});
