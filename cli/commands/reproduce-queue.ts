/**
 * `pricelab reproduce calvano --queue <url>`: the sessions run on the workers of a Redis
 * queue (experiments/queue/submit-calvano.ts), each stored in the results store as it
 * arrives (sessions already stored are not run again); the summary is the one the threads
 * give for the same seeds. Ctrl-C leaves the queued sessions in the queue (exit 130); the
 * same command collects them later.
 */
import type { CalvanoConfigInput } from '../../agents/calvano.js';
import type { CalvanoSummary } from '../../experiments/reproduce-calvano.js';
import { displayUrl } from '../../experiments/queue/connection.js';
import { openResultsPort } from '../../experiments/queue/results-port.js';
import { submitCalvano } from '../../experiments/queue/submit-calvano.js';
import { resultsHome } from '../../experiments/store.js';
import { progressBar, type Progress } from '../progress.js';

export interface ReproduceQueueOptions {
  readonly queue: string;
  readonly sessions: number;
  readonly seed: number;
  readonly attempts?: number;
  readonly connectTimeout?: number;
  readonly json?: boolean;
}

/** Runs the sessions on the queue; the summary (null when stopped early), the workers seen, the exit code. */
export async function reproduceCalvanoOnQueue(
  options: ReproduceQueueOptions,
  config: CalvanoConfigInput,
): Promise<{ summary: CalvanoSummary | null; workers: number; wallSeconds: number; code: number }> {
  const home = resultsHome();
  const results = await openResultsPort(home);
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write('\nstopping: queued sessions stay in the queue for the workers (Ctrl-C again to quit now)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  let progress: Progress | undefined;
  try {
    const reproduction = await submitCalvano({
      url: options.queue,
      results,
      sessions: options.sessions,
      firstSeed: options.seed,
      config,
      ...(options.attempts !== undefined ? { attempts: options.attempts } : {}),
      ...(options.connectTimeout !== undefined ? { connectSeconds: options.connectTimeout } : {}),
      signal: controller.signal,
      onPlanned: (planned) => {
        if (!options.json) process.stderr.write(`${planned.experiment}: ${planned.total} sessions, ${planned.stored} already stored, ${planned.toRun} to run on the queue ${displayUrl(options.queue)}; results in ${home}\n`);
        progress = progressBar(planned.toRun, 'sessions', options.json === true);
      },
      onEvent: (event) => {
        if (event.type === 'progress') {
          const { queued, active, done, failed, workers } = event.progress;
          progress?.update(done + failed, `queued ${queued}, active ${active}, done ${done}, failed ${failed}, workers ${workers}`);
        } else if (event.type === 'failed') progress?.log(`failed: seed ${event.item.session.seed}: ${event.reason}`);
      },
    });
    progress?.stop();
    if (reproduction.stopped) process.stderr.write(`stopped following; the remaining sessions stay in the queue. Collect them with the same command.\n`);
    else if (reproduction.failed > 0) process.stderr.write(`${reproduction.failed} session${reproduction.failed === 1 ? '' : 's'} failed (see \`pricelab queue status\`); run the same command to try them again\n`);
    const code = reproduction.stopped ? 130 : reproduction.failed > 0 ? 1 : 0;
    return { summary: reproduction.summary, workers: reproduction.workersSeen.length, wallSeconds: reproduction.wallSeconds, code };
  } finally {
    progress?.stop();
    process.off('SIGINT', onSigint);
    await results.close();
  }
}
