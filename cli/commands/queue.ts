/**
 * `pricelab queue status|retry-failed|clean --queue <url>`: what an operator of distributed
 * sweeps needs (experiments/queue/status.ts). Each prints a line of text, or JSON with --json.
 */
import type { Command } from 'commander';
import { cleanQueue, queueStatus, retryFailedJobs } from '../../experiments/queue/status.js';
import { nonNegativeInteger, positiveInteger, printJson, run, table } from '../output.js';

interface QueueOptions {
  queue: string;
  json?: boolean;
  connectTimeout: number;
}

const queueOption = (command: Command) =>
  command
    .requiredOption('--queue <url>', 'the queue: redis://host:port[/db]')
    .option('--connect-timeout <s>', 'seconds to wait for Redis', positiveInteger, 3)
    .option('--json', 'print JSON');

export function registerQueue(program: Command): void {
  const queue = program.command('queue').description('operate the Redis queue of distributed sweeps: status, retry failed jobs, clean finished ones');
  queueOption(queue.command('status').description('jobs queued, active, done and failed; the workers connected; the latest failures with their reasons')).action(
    run(async (options: QueueOptions) => {
      const status = await queueStatus({ url: options.queue, connectSeconds: options.connectTimeout });
      if (options.json) {
        printJson(status);
        return;
      }
      const rows = [
        ['queued', 'active', 'done', 'failed', 'workers'],
        [String(status.queued), String(status.active), String(status.done), String(status.failed), String(status.workers)],
      ];
      const lines = [`${status.queue} on ${status.url}`, table(rows)];
      if (status.workerNames.length > 0) lines.push(`workers: ${status.workerNames.join(', ')}`);
      if (status.failures.length > 0) lines.push('latest failures:', ...status.failures.map((failure) => `  ${failure.jobId} ${failure.kind} (${failure.attempts} attempt${failure.attempts === 1 ? '' : 's'}): ${failure.reason}`));
      process.stdout.write(`${lines.join('\n')}\n`);
    }),
  );
  queueOption(queue.command('retry-failed').description('put every failed job back in the queue, its attempts reset')).action(
    run(async (options: QueueOptions) => {
      const retried = await retryFailedJobs({ url: options.queue, connectSeconds: options.connectTimeout });
      if (options.json) printJson({ retried });
      else process.stdout.write(`${retried} failed job${retried === 1 ? '' : 's'} back in the queue\n`);
    }),
  );
  queueOption(queue.command('clean').description('remove done jobs (their results, once stored by the submitter) and, with --failed, failed ones'))
    .option('--failed', 'remove failed jobs too')
    .option('--grace <s>', 'only jobs finished at least this many seconds ago', nonNegativeInteger, 0)
    .action(
      run(async (options: QueueOptions & { failed?: boolean; grace: number }) => {
        const removed = await cleanQueue({ url: options.queue, connectSeconds: options.connectTimeout }, { failed: options.failed === true, graceSeconds: options.grace });
        if (options.json) printJson({ removed });
        else process.stdout.write(`removed ${removed.completed} done and ${removed.failed} failed job${removed.failed === 1 ? '' : 's'}\n`);
      }),
    );
}
