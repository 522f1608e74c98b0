/**
 * `pricelab worker --queue redis://host:port[/db]`: a long-running worker that takes runs
 * from the queue (experiment runs, Calvano sessions) and returns their results
 * (experiments/queue/worker.ts). Start one per machine, or several; stop with SIGTERM
 * (running jobs finish within --grace seconds or are handed back) or Ctrl-C. Logs one line
 * per job on stderr; exits 3 when Redis cannot be reached or is lost for good.
 */
import type { Command } from 'commander';
import { PricelabError } from '../../core/errors.js';
import { startQueueWorker, type QueueWorkerEvent } from '../../experiments/queue/worker.js';
import { positiveInteger, run } from '../output.js';

interface WorkerOptions {
  queue: string;
  concurrency: number;
  lockSeconds: number;
  stalledSeconds: number;
  grace: number;
  connectTimeout: number;
  reconnectTimeout: number;
  name?: string;
}

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('take runs from a Redis queue (experiment runs, Calvano sessions) and return their results; SIGTERM finishes or hands back')
    .requiredOption('--queue <url>', 'the queue: redis://host:port[/db] (rediss:// for TLS)')
    .option('--concurrency <n>', 'runs at once, one worker thread each', positiveInteger, 1)
    .option('--lock-seconds <s>', "a job's lock lasts this long without renewal: a dead worker's job is taken over after it (plus a stall check)", positiveInteger, 30)
    .option('--stalled-seconds <s>', 'seconds between stall checks (jobs of dead workers put back in the queue)', positiveInteger, 30)
    .option('--grace <s>', 'after SIGTERM, seconds running jobs get to finish before they are handed back', positiveInteger, 30)
    .option('--connect-timeout <s>', 'seconds to wait for Redis at start', positiveInteger, 3)
    .option('--reconnect-timeout <s>', 'seconds to keep reconnecting after Redis is lost (a restart takes a few)', positiveInteger, 60)
    .option('--name <name>', 'this worker in `pricelab queue status` (default: hostname:pid)')
    .action(run((options: WorkerOptions) => workerCommand(options)));
}

async function workerCommand(options: WorkerOptions): Promise<number> {
  const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
  const handle = await startQueueWorker({
    url: options.queue,
    concurrency: options.concurrency,
    lockSeconds: options.lockSeconds,
    stalledSeconds: options.stalledSeconds,
    graceSeconds: options.grace,
    connectSeconds: options.connectTimeout,
    reconnectSeconds: options.reconnectTimeout,
    ...(options.name !== undefined ? { name: options.name } : {}),
    onEvent: (event) => log(describe(event)),
  });
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals === 1 && signal === 'SIGTERM') {
      log(`SIGTERM: taking no new job; running jobs get ${options.grace} s to finish, then are handed back`);
      handle.stop('finish');
    } else {
      log(`${signal}: handing running jobs back to the queue`);
      handle.stop('hand-back');
    }
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    const summary = await handle.closed;
    log(`stopped: ${summary.finished} finished, ${summary.failed} failed, ${summary.refused} refused, ${summary.handedBack} handed back`);
    if (summary.lost !== undefined) throw new PricelabError('not-found', summary.lost);
    return 0;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}

function describe(event: QueueWorkerEvent): string {
  switch (event.type) {
    case 'ready':
      return `worker ${event.name} ready, ${event.concurrency} at a time`;
    case 'job-started':
      return `started ${event.jobId} (${event.label})${event.attempt > 1 ? `, attempt ${event.attempt}` : ''}`;
    case 'job-finished':
      return `finished ${event.jobId} (${event.label}) in ${event.seconds.toFixed(1)} s`;
    case 'job-failed':
      return `failed ${event.jobId} (${event.label}): ${event.error}`;
    case 'job-refused':
      return `refused ${event.jobId}: ${event.reason}`;
    case 'job-handed-back':
      return `handed back ${event.jobId} (${event.label})`;
    case 'redis-error':
      return `redis: ${event.message}`;
  }
}
