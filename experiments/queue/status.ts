/**
 * What an operator (and the dashboard) asks of the queue: how many jobs are queued, active,
 * done and failed, which workers are connected, why jobs failed; failed jobs retried; done
 * (and optionally failed) jobs removed. `pricelab queue status|retry-failed|clean`.
 *
 * `queueStatus(url)` is the small API a dashboard polls: { workers, queued, active, done,
 * failed } plus the workers' names and the latest failures; `readQueueStatus(queue)` reads it
 * through a queue already open (the dashboard's poller, queue-poller.ts).
 */
import { Queue } from 'bullmq';
import { workerNameOf } from './submitter.js';
import { checkRedisReachable, connectionOptions, displayUrl, queueName, queuePrefix, type QueueConnectionSettings } from './connection.js';

export interface QueueCounts {
  /** Workers connected to the queue now. */
  readonly workers: number;
  /** Waiting to be taken (waiting, prioritized, delayed for a retry). */
  readonly queued: number;
  readonly active: number;
  /** Completed jobs still in Redis (their results; `pricelab queue clean` removes them). */
  readonly done: number;
  readonly failed: number;
}

export interface QueueStatus extends QueueCounts {
  readonly url: string;
  readonly queue: string;
  readonly workerNames: readonly string[];
  /** The most recent failures (at most 20): job id, kind, attempts made, reason. */
  readonly failures: readonly { readonly jobId: string; readonly kind: string; readonly attempts: number; readonly reason: string }[];
}

async function withQueue<Result>(settings: QueueConnectionSettings, action: (queue: Queue) => Promise<Result>): Promise<Result> {
  await checkRedisReachable(settings);
  const queue = new Queue(queueName, { connection: connectionOptions(settings), prefix: queuePrefix });
  queue.on('error', () => undefined);
  try {
    return await action(queue);
  } finally {
    await queue.close().catch(() => undefined);
  }
}

/** The queue's counts and workers: what `pricelab queue status` shows (one connection per call). */
export function queueStatus(settings: QueueConnectionSettings): Promise<QueueStatus> {
  return withQueue(settings, (queue) => readQueueStatus(queue, settings.url));
}

/** The status read through an open queue (the dashboard's poller keeps one open: queue-poller.ts). */
export async function readQueueStatus(queue: Queue, url: string): Promise<QueueStatus> {
  const counts = await queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed');
  const workers = await queue.getWorkers().catch(() => []);
  const failedJobs = await queue.getFailed(0, 19);
  return {
    url: displayUrl(url),
    queue: `${queuePrefix}:${queueName}`,
    workers: workers.length,
    queued: (counts['waiting'] ?? 0) + (counts['prioritized'] ?? 0) + (counts['delayed'] ?? 0),
    active: counts['active'] ?? 0,
    done: counts['completed'] ?? 0,
    failed: counts['failed'] ?? 0,
    workerNames: workers.map(workerNameOf).sort(),
    failures: failedJobs.filter((job) => job !== undefined).map((job) => ({ jobId: job.id ?? '?', kind: job.name, attempts: job.attemptsMade, reason: job.failedReason ?? '' })),
  };
}

/** Puts every failed job back in the queue, its attempts reset; returns how many. */
export function retryFailedJobs(settings: QueueConnectionSettings): Promise<number> {
  return withQueue(settings, async (queue) => {
    const failed = await queue.getJobCountByTypes('failed');
    await queue.retryJobs({ state: 'failed', count: 1000 });
    return failed;
  });
}

/**
 * Removes finished jobs older than graceSeconds: completed ones (their results, once the
 * submitter has stored them), and failed ones with `failed`. Returns how many of each.
 * A submitter still following a removed job adds it again (it cannot tell it was done).
 */
export function cleanQueue(settings: QueueConnectionSettings, options: { readonly failed?: boolean; readonly graceSeconds?: number } = {}): Promise<{ completed: number; failed: number }> {
  return withQueue(settings, async (queue) => {
    const grace = (options.graceSeconds ?? 0) * 1000;
    const completed = (await queue.clean(grace, 0, 'completed')).length;
    const failed = options.failed ? (await queue.clean(grace, 0, 'failed')).length : 0;
    return { completed, failed };
  });
}
