/**
 * `pricelab bench queue`: what the queue costs, with the in-process reference measured in
 * the same run. It starts a redis-server of its own (a free port, a temporary folder,
 * append-only file on, as in production) and `pricelab worker` processes from this build.
 *
 * - Overhead per job: in a sweep of J small runs (one at a time), the steady-state time per
 *   run is the time between the first and the last run stored, over J - 1 (start-up, which
 *   for local threads includes loading the simulator, drops out). Through the queue (one warm
 *   worker process) minus through local worker threads (one thread), with the mean time
 *   inside a run (train + evaluation, as stored) alongside: what the queue adds per job
 *   (payload, Redis round trips, polling, the result's trip back, its store write).
 *   Repeated, local and queue interleaved, the median kept.
 * - Runs per second with 1, 2 and 4 worker processes (one job each at a time), warm.
 * - A scaling model for N machines of c cores: runs/s = min(N c / job, the submitter's
 *   store-write rate), a job's time being the measured steady-state time per run through
 *   the queue (the run, its set-up, the queue's part), and the store write measured too.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, createConnection } from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PricelabError } from '../../core/errors.js';
import { planExperiment, type ExperimentPlan } from '../experiment-file.js';
import { runSweep } from '../sweep.js';
import { openResultsPort, type QueueResultsPort } from './results-port.js';
import { submitExperiment } from './submit-experiment.js';

export interface QueueBenchOptions {
  /** Runs per sweep. Default 60. */
  readonly runs?: number;
  /** Training episodes per run. Default 1 (small runs make the overhead visible). */
  readonly episodes?: number;
  /** Repetitions of the overhead measurement (the median is kept). Default 3. */
  readonly repetitions?: number;
  /** Worker process counts to measure. Default [1, 2, 4]. */
  readonly workerCounts?: readonly number[];
  /** The redis-server binary. Default: /usr/bin/redis-server, else on PATH. */
  readonly redisServer?: string;
  readonly onProgress?: (line: string) => void;
}

export interface QueueBenchResult {
  readonly runs: number;
  readonly cores: number;
  readonly loadAverage: readonly number[];
  /** Mean seconds inside a run (train + evaluation), over the local sweeps. */
  readonly runSeconds: number;
  /** Steady-state milliseconds per run (median): local threads (1 thread) and the queue (1 worker process). */
  readonly msPerRun: { readonly local: number; readonly queue: number };
  /** Each repetition's steady-state milliseconds per run. */
  readonly repetitions: readonly { readonly local: number; readonly queue: number }[];
  /** Median over repetitions of (queue - local) steady-state ms per run; negative when the queue was the faster (the model uses 0 then). */
  readonly overheadPerJobMs: number;
  /** Mean milliseconds the submitter spends storing one result. */
  readonly storeWriteMs: number;
  readonly throughput: { readonly workers: number; readonly wallSeconds: number; readonly runsPerSecond: number }[];
  readonly identicalResults: boolean;
  readonly scalingModel: {
    readonly formula: string;
    readonly runSeconds: number;
    readonly overheadSeconds: number;
    readonly jobSeconds: number;
    readonly submitterCeilingRunsPerSecond: number;
    readonly predicted: { readonly machines: number; readonly coresEach: number; readonly runsPerSecond: number }[];
  };
}

function experimentOf(name: string, runs: number, episodes: number): unknown {
  return { name, scenarios: ['steady-state-v1'], agents: [{ kind: 'thompson' }], seeds: { from: 1, count: runs }, budget: { episodes }, evaluation: { episodes: 1, seed: 1_000_000 }, kpis: ['profit'] };
}

export async function benchQueue(options: QueueBenchOptions = {}): Promise<QueueBenchResult> {
  const runs = options.runs ?? 60;
  const episodes = options.episodes ?? 1;
  const say = options.onProgress ?? (() => undefined);
  const folder = mkdtempSync(join(tmpdir(), 'pricelab-bench-queue-'));
  const redis = await startRedisServer(options.redisServer ?? (existsSync('/usr/bin/redis-server') ? '/usr/bin/redis-server' : 'redis-server'), folder);
  const workers: ChildProcess[] = [];
  let storeWrites = 0;
  let storeSeconds = 0;
  const timedPort = async (home: string): Promise<QueueResultsPort> => {
    const port = await openResultsPort(home);
    return {
      ...port,
      recordFinished: async (run, result) => {
        const started = performance.now();
        await port.recordFinished(run, result);
        storeSeconds += (performance.now() - started) / 1000;
        storeWrites++;
      },
    };
  };
  let sweeps = 0;
  const onQueue = async (plan: ExperimentPlan): Promise<Sweep> => {
    const home = join(folder, `queue-${sweeps++}`);
    const results = await timedPort(home);
    try {
      const started = performance.now();
      const stored: number[] = [];
      const result = await submitExperiment(plan, { url: redis.url, results, pollSeconds: 0.02, onEvent: (event) => event.type === 'finished' && stored.push(performance.now()) });
      if (result.finished !== plan.runs.length) throw new Error(`expected ${plan.runs.length} finished runs on the queue, found ${result.finished} (${result.failed} failed)`);
      const wallSeconds = (performance.now() - started) / 1000;
      return { wallSeconds, home, runSeconds: await runSecondsOf(home, plan), steadyMsPerRun: steadyMsPerRun(stored) };
    } finally {
      await results.close();
    }
  };
  const local = async (plan: ExperimentPlan): Promise<Sweep> => {
    const home = join(folder, `local-${sweeps++}`);
    const started = performance.now();
    const stored: number[] = [];
    const result = await runSweep(plan, { home, workers: 1, onEvent: (event) => event.type === 'run-finished' && stored.push(performance.now()) });
    if (result.finished !== plan.runs.length) throw new Error(`expected ${plan.runs.length} finished local runs, found ${result.finished}`);
    return { wallSeconds: (performance.now() - started) / 1000, home, runSeconds: await runSecondsOf(home, plan), steadyMsPerRun: steadyMsPerRun(stored) };
  };
  const startWorkers = async (count: number) => {
    const started = await Promise.all(Array.from({ length: count }, (_, index) => startWorker(redis.url, `bench-${index + 1}`)));
    workers.push(...started);
    // Warm-up: each worker thread loads its modules on its first job.
    await onQueue(planExperiment(experimentOf(`bench-queue-warm-${count}`, count * 2, 1)));
  };
  const stopWorkers = async () => {
    await Promise.all(workers.splice(0).map((worker) => stopProcess(worker)));
  };
  try {
    // Repetitions, local and queue interleaved so that a change of load hits both; medians kept.
    const repetitions: { local: number; queue: number }[] = [];
    const runTimes: number[] = [];
    let identicalResults = true;
    let queueWall = 0;
    await startWorkers(1);
    for (let repetition = 1; repetition <= (options.repetitions ?? 3); repetition++) {
      say(`repetition ${repetition}: ${runs} runs in a local thread, then on 1 worker process`);
      const plan = planExperiment(experimentOf(`bench-queue-${repetition}`, runs, episodes));
      const onThreads = await local(plan);
      const queued = await onQueue(plan);
      identicalResults &&= await sameEvaluations(queued.home, onThreads.home, plan);
      repetitions.push({ local: onThreads.steadyMsPerRun, queue: queued.steadyMsPerRun });
      runTimes.push((1000 * onThreads.runSeconds) / runs);
      queueWall = queued.wallSeconds;
    }
    await stopWorkers();
    const throughput: QueueBenchResult['throughput'][number][] = [{ workers: 1, wallSeconds: queueWall, runsPerSecond: runs / queueWall }];
    for (const count of (options.workerCounts ?? [1, 2, 4]).filter((count) => count !== 1)) {
      say(`queue, ${count} worker processes`);
      await startWorkers(count);
      const plan = planExperiment(experimentOf(`bench-queue-${count}-processes`, runs, episodes));
      const measured = await onQueue(plan);
      throughput.push({ workers: count, wallSeconds: measured.wallSeconds, runsPerSecond: runs / measured.wallSeconds });
      await stopWorkers();
    }
    const msPerRun = { local: median(repetitions.map((entry) => entry.local)), queue: median(repetitions.map((entry) => entry.queue)) };
    const overheadMs = median(repetitions.map((entry) => entry.queue - entry.local));
    const overheadSeconds = Math.max(0, overheadMs) / 1000;
    const runSeconds = median(runTimes) / 1000;
    const storeWriteMs = storeWrites > 0 ? (1000 * storeSeconds) / storeWrites : 0;
    const ceiling = storeWriteMs > 0 ? 1000 / storeWriteMs : Number.POSITIVE_INFINITY;
    // A job's time on a worker: the queue's steady-state time per run (the run, its set-up, the queue's part).
    const jobSeconds = Math.max(msPerRun.queue, 1000 * (runSeconds + overheadSeconds)) / 1000;
    const predicted = [1, 2, 4, 8, 16, 32].map((machines) => ({ machines, coresEach: 2, runsPerSecond: Math.min((machines * 2) / jobSeconds, ceiling) }));
    return {
      runs,
      cores: availableParallelism(),
      loadAverage: loadavg(),
      runSeconds,
      msPerRun,
      repetitions,
      overheadPerJobMs: overheadMs,
      storeWriteMs,
      throughput,
      identicalResults,
      scalingModel: {
        formula: 'runs/s = min(machines x cores / job, 1 / storeWrite), job = the steady-state time per run through the queue',
        runSeconds,
        overheadSeconds,
        jobSeconds,
        submitterCeilingRunsPerSecond: ceiling,
        predicted,
      },
    };
  } finally {
    await stopWorkers();
    await redis.stop();
    rmSync(folder, { recursive: true, force: true });
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

interface Sweep {
  readonly wallSeconds: number;
  readonly home: string;
  /** Sum over runs of their stored time/trainSeconds + time/evaluationSeconds. */
  readonly runSeconds: number;
  readonly steadyMsPerRun: number;
}

/** Milliseconds per run between the first and the last run stored. */
function steadyMsPerRun(storedAt: readonly number[]): number {
  return storedAt.length < 2 ? Number.NaN : (storedAt.at(-1)! - storedAt[0]!) / (storedAt.length - 1);
}

async function runSecondsOf(home: string, plan: ExperimentPlan): Promise<number> {
  const port = await openResultsPort(home);
  try {
    return await port.secondsInsideRuns(plan.runs.map((run) => run.id));
  } finally {
    await port.close();
  }
}

async function sameEvaluations(homeA: string, homeB: string, plan: ExperimentPlan): Promise<boolean> {
  return (await evaluationsJson(homeA, plan)) === (await evaluationsJson(homeB, plan));
}

async function evaluationsJson(home: string, plan: ExperimentPlan): Promise<string> {
  const port = await openResultsPort(home);
  try {
    return JSON.stringify(await port.evaluationsOf(plan.runs.map((run) => run.id)));
  } finally {
    await port.close();
  }
}

/** `pricelab worker` of this build, ready when it says so. */
function startWorker(url: string, name: string): Promise<ChildProcess> {
  const main = fileURLToPath(new URL('../../cli/main.js', import.meta.url));
  const child = spawn(process.execPath, [main, 'worker', '--queue', url, '--name', name], { stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let output = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(' ready')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`a worker exited with code ${code} before it was ready:\n${output}`)));
  });
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

async function startRedisServer(binary: string, folder: string): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
  const child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--dir', folder, '--appendonly', 'yes', '--save', ''], { stdio: 'ignore' });
  let spawnError: Error | undefined;
  child.once('error', (error) => (spawnError = error));
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ port, host: '127.0.0.1' });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (up) break;
    if (spawnError || child.exitCode !== null || Date.now() > deadline) {
      throw new PricelabError('not-found', `redis-server (${binary}) did not start on port ${port}${spawnError ? `: ${spawnError.message}` : ''}`, [
        { path: ['--redis-server'], message: 'expected a redis-server binary (Debian: apt-get install redis-server)' },
      ]);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { url: `redis://127.0.0.1:${port}`, stop: () => stopProcess(child) };
}
