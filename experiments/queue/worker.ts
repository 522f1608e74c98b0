/**
 * `pricelab worker`: a long-running BullMQ worker that takes runs from the queue, runs each
 * in a worker thread (experiments/queue/job-thread.ts: the same run function as a local
 * sweep), reports progress on the job, and returns the result (metrics, evaluation episodes;
 * a Calvano session's learned strategies) as the job's return value. It needs nothing from
 * the submitting machine: the job carries the run (experiments/queue/job-payload.ts).
 *
 * Faults, as BullMQ handles them:
 * - a malformed payload (zod, or a job id that is not the run's content hash) is refused at
 *   once (UnrecoverableError, no retry), its reason kept on the failed job;
 * - a run that throws is retried up to the job's attempts (set by the submitter), then fails
 *   with its error;
 * - a worker that dies stops renewing its job's lock: after `lockSeconds` the lock expires
 *   and the next stall check of any worker (every `stalledSeconds`) puts the job back in the
 *   queue (at most `maxStalledCount` times, then it fails), where another worker takes it;
 * - Redis lost: ioredis reconnects for `reconnectSeconds` (a restart with its append-only
 *   file is survived), then the worker stops with an error.
 *
 * Stopping (SIGTERM): no new job is taken; running jobs get `graceSeconds` to finish, then
 * are handed back (moved to the queue's waiting list, for another worker; an experiment run
 * stops at its next episode boundary). A second signal hands them back at once.
 */
import { hostname } from 'node:os';
import { pathToFileURL } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
import { createHash } from 'node:crypto';
import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import { Piscina } from 'piscina';
import { resolveImport } from '../worker-module.js';
import { PricelabError } from '../../core/errors.js';
import { encodeArtifactFiles } from '../run-artifact.js';
import type { PlannedRun } from '../experiment-file.js';
import type { SweepMessage, SweepTask } from '../sweep-worker.js';
import { checkRedisReachable, connectionOptions, queueName, queuePrefix, watchConnection, type QueueConnectionSettings } from './connection.js';
import { checkJobPayload, type QueueJob } from './job-payload.js';
import type { JobThreadOutcome, JobThreadTask } from './job-thread.js';

export interface QueueWorkerOptions extends QueueConnectionSettings {
  /** Jobs at once (one worker thread each); default 1. */
  readonly concurrency?: number;
  /** Seconds a job's lock lasts without renewal (BullMQ lockDuration); default 30. */
  readonly lockSeconds?: number;
  /** Seconds between stall checks (BullMQ stalledInterval); default 30. */
  readonly stalledSeconds?: number;
  /** Times a job may stall (its worker lost) before it fails; default 2. */
  readonly maxStalledCount?: number;
  /** Seconds running jobs get to finish after stop('finish'); default 30. */
  readonly graceSeconds?: number;
  /** This worker's name in `pricelab queue status`; default hostname:pid. */
  readonly name?: string;
  readonly onEvent?: (event: QueueWorkerEvent) => void;
}

export type QueueWorkerEvent =
  | { readonly type: 'ready'; readonly name: string; readonly concurrency: number }
  | { readonly type: 'job-started'; readonly jobId: string; readonly label: string; readonly attempt: number }
  | { readonly type: 'job-finished'; readonly jobId: string; readonly label: string; readonly seconds: number }
  | { readonly type: 'job-failed'; readonly jobId: string; readonly label: string; readonly error: string }
  | { readonly type: 'job-refused'; readonly jobId: string; readonly reason: string }
  | { readonly type: 'job-handed-back'; readonly jobId: string; readonly label: string }
  | { readonly type: 'redis-error'; readonly message: string };

export interface QueueWorkerSummary {
  readonly finished: number;
  readonly failed: number;
  readonly refused: number;
  readonly handedBack: number;
  /** Set when the worker stopped because Redis was lost. */
  readonly lost?: string;
}

export interface QueueWorkerHandle {
  readonly name: string;
  /** 'finish': take no new job, let running ones finish within graceSeconds, then hand back; 'hand-back': at once. */
  stop(mode: 'finish' | 'hand-back'): void;
  /** Resolves when the worker has stopped (by stop(), or Redis lost for good). */
  readonly closed: Promise<QueueWorkerSummary>;
}

interface ActiveJob {
  readonly job: Job;
  readonly token: string | undefined;
  readonly label: string;
  readonly stopFlag: Int32Array | undefined;
  handedBack: boolean;
}

export async function startQueueWorker(options: QueueWorkerOptions): Promise<QueueWorkerHandle> {
  await checkRedisReachable(options);
  const name = options.name ?? `${hostname()}:${process.pid}`;
  const concurrency = options.concurrency ?? 1;
  const emit = (event: QueueWorkerEvent) => options.onEvent?.(event);
  const pool = new Piscina<JobThreadTask, JobThreadOutcome>({ ...threadFile(), minThreads: concurrency, maxThreads: concurrency, idleTimeout: 60_000, concurrentTasksPerWorker: 1 });
  const active = new Set<ActiveJob>();
  const counts = { finished: 0, failed: 0, refused: 0, handedBack: 0 };

  const processor = async (job: Job, token?: string): Promise<unknown> => {
    const checked = checkJobPayload(job.id, job.data);
    if (!checked.ok) {
      counts.refused++;
      emit({ type: 'job-refused', jobId: job.id ?? '(none)', reason: checked.reason });
      throw new UnrecoverableError(checked.reason);
    }
    const payload = checked.job;
    const label = labelOf(payload);
    const started = performance.now();
    emit({ type: 'job-started', jobId: job.id!, label, attempt: job.attemptsMade + 1 });
    const stopMemory = payload.kind === 'experiment-run' ? new SharedArrayBuffer(4) : undefined;
    const entry: ActiveJob = { job, token, label, stopFlag: stopMemory ? new Int32Array(stopMemory) : undefined, handedBack: false };
    active.add(entry);
    const channel = new MessageChannel();
    let lastProgressAt = 0;
    channel.port1.on('message', (message: SweepMessage) => {
      if (message.type !== 'progress') return;
      const now = performance.now();
      if (now - lastProgressAt < 1000 && message.steps < message.totalSteps) return;
      lastProgressAt = now;
      job.updateProgress({ steps: message.steps, totalSteps: message.totalSteps }).catch(() => undefined);
    });
    try {
      let outcome: JobThreadOutcome;
      if (payload.kind === 'experiment-run') {
        const task: SweepTask = { run: payload.run as PlannedRun, scenarioBytes: new Uint8Array(Buffer.from(payload.scenarioBytes, 'base64')), stopFlag: stopMemory!, port: channel.port2 };
        outcome = await pool.run({ kind: 'experiment-run', task }, { transferList: [channel.port2] });
      } else {
        const hash = createHash('sha256').update(Buffer.from(payload.scenario.bytes, 'base64')).digest('hex');
        if (hash !== payload.scenario.contentHash) throw new Error(`the scenario ${payload.scenario.id} carried by the job has sha256 ${hash}, expected ${payload.scenario.contentHash}`);
        outcome =
          payload.kind === 'calvano-session'
            ? await pool.run({ kind: 'calvano-session', job: payload })
            : await pool.run({ kind: 'comparison-arm', job: payload, port: channel.port2 }, { transferList: [channel.port2] });
      }
      if (entry.handedBack || (outcome.kind === 'experiment-run' && outcome.outcome.status === 'stopped')) throw new HandBack();
      let returned: object;
      if (outcome.kind === 'experiment-run' && outcome.outcome.status === 'finished') {
        // The trained policy's files travel with the result (base64, sha256 each); too large: no retry helps.
        const { artifact } = outcome.outcome;
        let encoded: { files: ReturnType<typeof encodeArtifactFiles> } | { unavailable: string };
        try {
          encoded = 'files' in artifact ? { files: encodeArtifactFiles(outcome.outcome.runId, artifact.files) } : artifact;
        } catch (error) {
          throw new UnrecoverableError(error instanceof PricelabError ? [error.message, ...error.problems.map((problem) => problem.message)].join(': ') : String(error));
        }
        returned = { ...outcome.outcome, artifact: encoded, worker: name };
      } else returned = outcome.kind === 'experiment-run' ? { ...outcome.outcome, worker: name } : { ...outcome.result, worker: name };
      counts.finished++;
      emit({ type: 'job-finished', jobId: job.id!, label, seconds: (performance.now() - started) / 1000 });
      return returned;
    } catch (error) {
      if (entry.handedBack || error instanceof HandBack) {
        if (!entry.handedBack) await handBack(entry);
        throw new WaitingError();
      }
      counts.failed++;
      emit({ type: 'job-failed', jobId: job.id!, label, error: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
      active.delete(entry);
      channel.port1.close();
    }
  };

  const handBack = async (entry: ActiveJob) => {
    if (entry.handedBack) return;
    entry.handedBack = true;
    if (entry.stopFlag) Atomics.store(entry.stopFlag, 0, 1);
    try {
      await entry.job.moveToWait(entry.token);
      counts.handedBack++;
      emit({ type: 'job-handed-back', jobId: entry.job.id!, label: entry.label });
    } catch (error) {
      emit({ type: 'redis-error', message: `could not hand back ${entry.job.id}: ${error instanceof Error ? error.message : String(error)} (its lock expires and a stall check requeues it)` });
    }
  };

  const worker = new Worker(queueName, processor, {
    connection: connectionOptions(options),
    prefix: queuePrefix,
    name,
    concurrency,
    lockDuration: (options.lockSeconds ?? 30) * 1000,
    stalledInterval: (options.stalledSeconds ?? 30) * 1000,
    maxStalledCount: options.maxStalledCount ?? 2,
  });
  let lastErrorAt = 0;
  worker.on('error', (error) => {
    const now = Date.now();
    if (now - lastErrorAt < 2000) return;
    lastErrorAt = now;
    emit({ type: 'redis-error', message: error.message });
  });

  let resolveClosed: (summary: QueueWorkerSummary) => void = () => undefined;
  const closed = new Promise<QueueWorkerSummary>((resolve) => (resolveClosed = resolve));
  let stopping: Promise<void> | undefined;
  let lost: string | undefined;
  const watcher = watchConnection(options, (message) => {
    lost = message;
    stop('hand-back');
  });

  const handBackAll = () => Promise.all([...active].map((entry) => handBack(entry)));
  const stop = (mode: 'finish' | 'hand-back') => {
    if (mode === 'hand-back') void handBackAll();
    if (stopping) return;
    stopping = (async () => {
      const closing = worker.close();
      if (mode === 'finish') {
        let timer: NodeJS.Timeout | undefined;
        const grace = new Promise<'grace'>((resolve) => (timer = setTimeout(() => resolve('grace'), (options.graceSeconds ?? 30) * 1000)));
        if ((await Promise.race([closing.then(() => 'closed' as const), grace])) === 'grace') await handBackAll();
        clearTimeout(timer);
      }
      // With Redis gone for good, closing cannot tell Redis anything: do not wait for it long.
      await Promise.race([closing.catch(() => undefined), ...(lost !== undefined ? [new Promise((resolve) => setTimeout(resolve, 5000))] : [])]);
      watcher.close();
      await pool.destroy();
      resolveClosed({ ...counts, ...(lost !== undefined ? { lost } : {}) });
    })();
  };

  await worker.waitUntilReady();
  emit({ type: 'ready', name, concurrency });
  return { name, stop, closed };
}

class HandBack extends Error {}

function labelOf(job: QueueJob): string {
  if (job.kind === 'calvano-session') return `calvano ${job.scenario.id} seed ${job.seed}`;
  if (job.kind === 'comparison-arm') return `compare ${job.scenario.id} ${job.arm.name} seed ${job.seed}`;
  return `${job.run.experiment}: ${job.run.scenario.id} ${job.run.agent.name} seed ${job.run.seed}`;
}

/** The thread module: dist's compiled job-thread.js, or the .ts source through tsx when this module runs from source (tests). */
function threadFile(): { filename: string; execArgv?: string[] } {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return { filename: new URL('./job-thread.js', here).href };
  return { filename: new URL('./job-thread.ts', here).href, execArgv: ['--import', pathToFileURL(resolveImport(here, 'tsx', '.')).href] };
}
