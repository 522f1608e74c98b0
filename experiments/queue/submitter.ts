/**
 * The submitting side of the queue: adds one job per run not yet stored, then follows them
 * until each is stored as finished or failed, reporting progress (queued, active, done,
 * failed, workers seen). Used by `pricelab experiment run --queue` and `pricelab reproduce
 * calvano --queue` (experiments/queue/submit-experiment.ts, submit-calvano.ts).
 *
 * - Job ids are the runs' content hashes: adding a job that exists (queued, running, done
 *   by an earlier submission) adds nothing, so a second submitter of the same file joins the
 *   first, and a resubmission collects what is already done. A job found failed from an
 *   earlier submission is retried once more (a new submission is a new try).
 * - Following is polling: every `pollSeconds`, the state of each job not yet stored
 *   (BullMQ getJobState), so nothing depends on an event that a Redis restart could lose;
 *   a job that has vanished (`pricelab queue clean`, a Redis that lost its data) is added again.
 * - Results are checked (zod) and stored by the caller's onFinished as they arrive; a result
 *   that fails the check is stored as the run's failure.
 * - Stopping (the signal, Ctrl-C): following ends, queued jobs stay queued; workers go on,
 *   and a later submission with --resume collects their results.
 */
import { Job, Queue } from 'bullmq';
import { PricelabError } from '../../core/errors.js';
import { checkRedisReachable, connectionOptions, queueName, queuePrefix, watchConnection, type QueueConnectionSettings } from './connection.js';
import type { QueueJob } from './job-payload.js';

export interface QueueItem {
  readonly jobId: string;
  readonly data: QueueJob;
  /** What progress counts for this item (steps of an experiment run, 1 for a session). */
  readonly weight: number;
}

export interface SubmitOptions<Item extends QueueItem> extends QueueConnectionSettings {
  readonly items: readonly Item[];
  /** Tries per job before it fails (BullMQ attempts); default 3. */
  readonly attempts?: number;
  /** Seconds between polls; default 0.5. */
  readonly pollSeconds?: number;
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: SubmitEvent<Item>) => void;
  /** Checks and stores a result; throwing stores the run as failed with that message. */
  readonly onFinished: (item: Item, result: unknown) => Promise<void>;
  readonly onFailed: (item: Item, reason: string) => Promise<void>;
}

/** What a submitter passes on to `submitAndFollow` from its own options. */
export type PassedSettings<Item extends QueueItem> = Pick<SubmitOptions<Item>, 'url' | 'connectSeconds' | 'reconnectSeconds' | 'attempts' | 'pollSeconds' | 'signal' | 'onEvent'>;

/** The connection, retry and polling settings of a submitter's options, the unset ones left out (exactOptionalPropertyTypes). */
export function passedSettings<Item extends QueueItem>(options: PassedSettings<Item>): PassedSettings<Item> {
  return {
    url: options.url,
    ...(options.connectSeconds !== undefined ? { connectSeconds: options.connectSeconds } : {}),
    ...(options.reconnectSeconds !== undefined ? { reconnectSeconds: options.reconnectSeconds } : {}),
    ...(options.attempts !== undefined ? { attempts: options.attempts } : {}),
    ...(options.pollSeconds !== undefined ? { pollSeconds: options.pollSeconds } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
  };
}

export interface QueueProgress {
  readonly total: number;
  readonly queued: number;
  readonly active: number;
  readonly done: number;
  readonly failed: number;
  /** Workers connected to the queue now, and every worker name seen during this submission. */
  readonly workers: number;
  readonly workersSeen: number;
  readonly doneWeight: number;
  readonly totalWeight: number;
}

export type SubmitEvent<Item> =
  | { readonly type: 'submitted'; readonly total: number; readonly added: number; readonly retried: number }
  | { readonly type: 'progress'; readonly progress: QueueProgress }
  | { readonly type: 'finished'; readonly item: Item; readonly worker: string | undefined }
  | { readonly type: 'failed'; readonly item: Item; readonly reason: string }
  | { readonly type: 're-added'; readonly item: Item };

export interface SubmitResult {
  readonly finished: number;
  readonly failed: number;
  /** Jobs left in the queue (stopped before they were done). */
  readonly left: number;
  readonly stopped: boolean;
  readonly workersSeen: readonly string[];
}

export async function submitAndFollow<Item extends QueueItem>(options: SubmitOptions<Item>): Promise<SubmitResult> {
  await checkRedisReachable(options);
  const queue = new Queue(queueName, { connection: connectionOptions(options), prefix: queuePrefix });
  let lost: string | undefined;
  const watcher = watchConnection(options, (message) => (lost = message));
  queue.on('error', () => undefined); // reconnections are bounded by connectionOptions; loss is reported by the watcher
  const emit = (event: SubmitEvent<Item>) => options.onEvent?.(event);
  const attempts = options.attempts ?? 3;
  const jobOptions = (item: Item) => ({ jobId: item.jobId, attempts, backoff: { type: 'fixed' as const, delay: 200 } });
  const outstanding = new Map(options.items.map((item) => [item.jobId, item]));
  const totalWeight = options.items.reduce((total, item) => total + item.weight, 0);
  const workersSeen = new Set<string>();
  const counts = { finished: 0, failed: 0 };
  let doneWeight = 0;
  try {
    const existing = await lostAsError(() => statesOf(queue, options.items.map((item) => item.jobId)));
    const toAdd = options.items.filter((item) => existing.get(item.jobId) === 'unknown');
    for (let start = 0; start < toAdd.length; start += 500) {
      await queue.addBulk(toAdd.slice(start, start + 500).map((item) => ({ name: item.data.kind, data: item.data, opts: jobOptions(item) })));
    }
    let retried = 0;
    for (const item of options.items) {
      if (existing.get(item.jobId) !== 'failed') continue;
      const job = await Job.fromId(queue, item.jobId);
      if (job) {
        await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
        retried++;
      }
    }
    emit({ type: 'submitted', total: options.items.length, added: toAdd.length, retried });

    const activeProgress = new Map<string, number>();
    while (outstanding.size > 0 && !options.signal?.aborted) {
      if (lost !== undefined) throw new PricelabError('not-found', lost);
      const states = await lostAsError(() => statesOf(queue, [...outstanding.keys()]));
      let active = 0;
      activeProgress.clear();
      for (const [jobId, state] of states) {
        const item = outstanding.get(jobId)!;
        if (state === 'completed') {
          const job = await Job.fromId(queue, jobId);
          if (!job) continue;
          outstanding.delete(jobId);
          const worker = (job.returnvalue as { worker?: unknown } | null)?.worker;
          try {
            await options.onFinished(item, job.returnvalue);
            counts.finished++;
            emit({ type: 'finished', item, worker: typeof worker === 'string' ? worker : undefined });
          } catch (error) {
            const reason = `the result returned by ${typeof worker === 'string' ? worker : 'a worker'} was refused: ${error instanceof Error ? error.message : String(error)}`;
            await options.onFailed(item, reason);
            counts.failed++;
            emit({ type: 'failed', item, reason });
          }
          doneWeight += item.weight;
        } else if (state === 'failed') {
          const job = await Job.fromId(queue, jobId);
          outstanding.delete(jobId);
          const reason = job?.failedReason || 'failed (no reason recorded)';
          await options.onFailed(item, reason);
          counts.failed++;
          doneWeight += item.weight;
          emit({ type: 'failed', item, reason });
        } else if (state === 'unknown') {
          await queue.add(item.data.kind, item.data, jobOptions(item));
          emit({ type: 're-added', item });
        } else if (state === 'active') {
          active++;
          const job = await Job.fromId(queue, jobId);
          const progress = job?.progress as { steps?: unknown } | undefined;
          if (typeof progress?.steps === 'number') activeProgress.set(jobId, Math.min(progress.steps, item.weight));
        }
      }
      const workers = await queue.getWorkers().catch(() => []);
      for (const worker of workers) workersSeen.add(workerNameOf(worker));
      const partial = [...activeProgress.values()].reduce((total, steps) => total + steps, 0);
      emit({
        type: 'progress',
        progress: {
          total: options.items.length,
          queued: outstanding.size - active,
          active,
          done: counts.finished,
          failed: counts.failed,
          workers: workers.length,
          workersSeen: workersSeen.size,
          doneWeight: doneWeight + partial,
          totalWeight,
        },
      });
      if (outstanding.size > 0) await sleep((options.pollSeconds ?? 0.5) * 1000, options.signal);
    }
    return { ...counts, left: outstanding.size, stopped: outstanding.size > 0, workersSeen: [...workersSeen].sort() };
  } finally {
    watcher.close();
    await queue.close().catch(() => undefined);
  }
}

/** Commands that fail because the connection is gone for good: a not-found error naming the URL (exit 3). */
async function lostAsError<Result>(action: () => Promise<Result>, url?: string): Promise<Result> {
  try {
    return await action();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/Connection is closed|ECONNREFUSED|ECONNRESET|Stream isn't writeable|Reached the max retries/i.test(message)) {
      throw new PricelabError('not-found', `lost Redis${url ? ` at ${url}` : ''}: ${message}`);
    }
    throw error;
  }
}

/** A worker's name from Redis's client list: BullMQ names the connection <prefix>:<queue, base64>:w:<worker name>. */
export function workerNameOf(client: Record<string, string>): string {
  const raw = client['rawname'] ?? '';
  const at = raw.indexOf(':w:');
  return at >= 0 ? raw.slice(at + 3) : (client['name'] ?? '?');
}

/** Each job's state, many at once (the calls are sent together over the one connection). */
async function statesOf(queue: Queue, jobIds: readonly string[]): Promise<Map<string, string>> {
  const states = new Map<string, string>();
  for (let start = 0; start < jobIds.length; start += 1000) {
    const chunk = jobIds.slice(start, start + 1000);
    const answers = await Promise.all(chunk.map((jobId) => queue.getJobState(jobId)));
    chunk.forEach((jobId, index) => states.set(jobId, answers[index]!));
  }
  return states;
}

function sleep(milliseconds: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, milliseconds);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
