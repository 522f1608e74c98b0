/**
 * `pricelab bench startup`: how long pricelab takes to start, beside references measured
 * in the same run, round-robin, so a loaded machine slows them all alike:
 *
 *   process       `node -e ''`: bare Node start-up (the reference of `help`)
 *   help          `node dist/cli/main.js --help`, spawn to exit
 *   workerThread  a piscina pool's first task on a worker module that does nothing (the
 *                 reference of `sweepWorker`)
 *   sweepWorker   a piscina pool on experiments/sweep-worker.js, as a sweep makes it,
 *                 from creating the pool to its first run starting (the run is one whose
 *                 scenario does not exist, so it is refused at its first line and trains
 *                 nothing)
 *
 * Each is measured `runs` times; the report gives the median, the minimum and every
 * sample in milliseconds, with the load average before and after. `--baseline <dist>`
 * measures another build's `help` and `sweepWorker` in the same rounds (an older dist/, to
 * show a change). Benchmarks print JSON; they are not tests.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { PricelabError } from '../core/errors.js';
import type { BaselineOptions, BenchHead } from './bench-head.js';

export interface StartupOptions extends BaselineOptions {
  /** Measurements of each item (default 7). */
  readonly runs?: number;
}

export interface StartupTiming {
  readonly medianMs: number;
  readonly minMs: number;
  readonly samplesMs: readonly number[];
}

export interface StartupBench extends BenchHead<'startup'> {
  readonly runs: number;
  readonly reference: { readonly process: StartupTiming; readonly workerThread: StartupTiming };
  readonly builds: readonly {
    readonly dist: string;
    readonly help: StartupTiming;
    readonly sweepWorker: StartupTiming;
    /** help minus the bare process, and sweepWorker minus the bare worker thread (medians). */
    readonly helpOverProcessMs: number;
    readonly sweepWorkerOverWorkerThreadMs: number;
  }[];
}

/** This build's dist/ folder (the one holding cli/main.js beside this module's folder). */
export function currentDist(): string {
  return resolve(fileURLToPath(new URL('..', import.meta.url)));
}

export async function benchStartup(options: StartupOptions = {}): Promise<StartupBench> {
  const runs = options.runs ?? 7;
  const dists = [currentDist(), ...(options.baseline === undefined ? [] : [resolve(options.baseline)])];
  for (const dist of dists) {
    for (const file of ['cli/main.js', 'experiments/sweep-worker.js']) {
      if (!existsSync(join(dist, file))) {
        throw new PricelabError('config', `no ${file} in ${dist}`, [{ path: ['baseline'], message: `expected a built dist/ folder (npx tsc -p tsconfig.build.json), found no ${file} in ${dist}` }]);
      }
    }
  }
  const before = loadavg();
  const samples = {
    process: [] as number[],
    workerThread: [] as number[],
    help: dists.map(() => [] as number[]),
    sweepWorker: dists.map(() => [] as number[]),
  };
  for (let round = 0; round < runs; round++) {
    options.progress?.(`round ${round + 1}/${runs}`);
    samples.process.push(timeProcess(['-e', '']));
    samples.workerThread.push(await timeFirstTask(emptyWorkerModule, undefined));
    for (const [index, dist] of dists.entries()) {
      samples.help[index]!.push(timeProcess([join(dist, 'cli', 'main.js'), '--help']));
      samples.sweepWorker[index]!.push(await timeFirstTask(pathToFileURL(join(dist, 'experiments', 'sweep-worker.js')).href, refusedRun));
    }
  }
  const after = loadavg();
  const process = summarise(samples.process);
  const workerThread = summarise(samples.workerThread);
  return {
    benchmark: 'startup',
    node: globalThis.process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    runs,
    loadAverage: { before, after },
    reference: { process, workerThread },
    builds: dists.map((dist, index) => {
      const help = summarise(samples.help[index]!);
      const sweepWorker = summarise(samples.sweepWorker[index]!);
      return { dist, help, sweepWorker, helpOverProcessMs: round1(help.medianMs - process.medianMs), sweepWorkerOverWorkerThreadMs: round1(sweepWorker.medianMs - workerThread.medianMs) };
    }),
  };
}

/** A worker module whose task does nothing: what a worker thread costs by itself. */
const emptyWorkerModule = new URL('./bench-startup-worker.js', import.meta.url).href;

/** A sweep task refused at the run's first line (loadScenario of a file that does not exist). */
function refusedRun(): { task: unknown; transferList: MessagePort[] } {
  const { port1, port2 } = new MessageChannel();
  port1.close();
  const run = { id: 'bench-startup', scenario: { source: join(currentDist(), 'no-such-scenario.json'), contentHash: '' } };
  return { task: { run, home: currentDist(), stopFlag: new SharedArrayBuffer(4), port: port2 }, transferList: [port2] };
}

/** Milliseconds from spawning `node args` to its exit. */
function timeProcess(args: readonly string[]): number {
  const started = performance.now();
  const result = spawnSync(globalThis.process.execPath, args, { stdio: 'ignore' });
  const elapsed = performance.now() - started;
  if (result.status !== 0) throw new Error(`node ${args.join(' ')} exited with ${result.status ?? result.signal}`);
  return elapsed;
}

/**
 * Milliseconds from creating a one-thread piscina pool on `filename` to its first task
 * settling: the empty module's task resolving, or the sweep worker refusing the run for
 * its missing scenario (any other outcome, a module that failed to load say, is thrown).
 */
async function timeFirstTask(filename: string, makeTask: (() => { task: unknown; transferList: MessagePort[] }) | undefined): Promise<number> {
  const started = performance.now();
  const pool = new Piscina({ filename, minThreads: 1, maxThreads: 1 });
  try {
    const made = makeTask?.();
    const outcome = await pool.run(made?.task ?? null, made ? { transferList: made.transferList as never } : {}).then(
      () => 'resolved',
      (error: unknown) => (String((error as Error)?.message ?? error).includes('no-such-scenario') ? 'refused' : Promise.reject(error as Error)),
    );
    const elapsed = performance.now() - started;
    if (outcome !== (made ? 'refused' : 'resolved')) throw new Error(`expected the first task on ${filename} to be ${made ? 'refused' : 'resolved'}, found it ${outcome}`);
    return elapsed;
  } finally {
    await pool.destroy();
  }
}

function summarise(values: readonly number[]): StartupTiming {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { medianMs: round1(median), minMs: round1(sorted[0] ?? Number.NaN), samplesMs: values.map(round1) };
}

const round1 = (value: number): number => Math.round(value * 10) / 10;
