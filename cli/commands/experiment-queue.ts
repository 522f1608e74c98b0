/**
 * `pricelab experiment run <file> --queue <url>`: the runs go to a Redis queue instead of
 * local worker threads (experiments/queue/submit-experiment.ts); workers started anywhere
 * with `pricelab worker --queue <url>` run them. Progress on stderr: a bar over the runs'
 * steps labelled with queued, active, done and failed runs and the workers connected, and
 * a line per finished or failed run. Results go into the store as they arrive. Ctrl-C stops
 * following and leaves the queued runs in the queue (exit 130): workers go on, and the same
 * command with --resume collects their results.
 */
import { displayUrl } from '../../experiments/queue/connection.js';
import { openResultsPort } from '../../experiments/queue/results-port.js';
import { submitExperiment } from '../../experiments/queue/submit-experiment.js';
import type { ExperimentPlan } from '../../experiments/experiment-file.js';
import { formatNumber, printJson } from '../output.js';
import { progressBar, type Progress } from '../progress.js';

export interface ExperimentQueueOptions {
  readonly queue: string;
  readonly resume?: boolean;
  readonly attempts?: number;
  readonly connectTimeout?: number;
  readonly json?: boolean;
}

export async function experimentRunOnQueue(file: string, plan: ExperimentPlan, home: string, options: ExperimentQueueOptions, interruptedExitCode: number): Promise<number> {
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(interruptedExitCode);
    process.stderr.write('\nstopping: queued runs stay in the queue for the workers (Ctrl-C again to quit now)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  const results = await openResultsPort(home);
  let progress: Progress | undefined;
  const finishedRuns: { id: string; scenario: string; agent: string; seed: number; worker: string | null }[] = [];
  try {
    const result = await submitExperiment(plan, {
      url: options.queue,
      results,
      resume: options.resume === true,
      ...(options.attempts !== undefined ? { attempts: options.attempts } : {}),
      ...(options.connectTimeout !== undefined ? { connectSeconds: options.connectTimeout } : {}),
      signal: controller.signal,
      onPlanned: (planned) => {
        if (!options.json) process.stderr.write(`${plan.file.name}: ${planned.total} runs, ${planned.skipped} already finished, ${planned.toRun} to run on the queue ${displayUrl(options.queue)}; results in ${home}\n`);
        progress = progressBar(planned.totalSteps, 'steps', options.json === true);
      },
      onEvent: (event) => {
        switch (event.type) {
          case 'submitted':
            progress?.log(`queued ${event.added} new job${event.added === 1 ? '' : 's'}, ${event.total - event.added} already in the queue (joined)${event.retried > 0 ? `, ${event.retried} failed before and retried` : ''}`);
            break;
          case 'progress': {
            const { queued, active, done, failed, workers } = event.progress;
            progress?.update(event.progress.doneWeight, `queued ${queued}, active ${active}, done ${done}, failed ${failed}, workers ${workers}`);
            break;
          }
          case 'finished': {
            const { run } = event.item;
            finishedRuns.push({ id: run.id, scenario: run.scenario.id, agent: run.agent.name, seed: run.seed, worker: event.worker ?? null });
            progress?.log(`finished ${run.id} ${run.scenario.id} ${run.agent.name} seed ${run.seed}${event.worker ? ` on ${event.worker}` : ''}`);
            break;
          }
          case 'failed':
            progress?.log(`failed ${event.item.run.id} ${event.item.run.scenario.id} ${event.item.run.agent.name} seed ${event.item.run.seed}: ${event.reason}`);
            break;
          case 're-added':
            progress?.log(`the job of ${event.item.run.id} had left the queue before its result was stored: queued again`);
            break;
        }
      },
    });
    progress?.stop();
    if (options.json) printJson({ experiment: plan.file.name, home, queue: displayUrl(options.queue), ...result, runs: finishedRuns });
    else
      process.stdout.write(
        `${plan.file.name}: ${result.finished} finished, ${result.failed} failed, ${result.left} left in the queue, ${result.skipped} skipped, in ${formatNumber(result.wallSeconds, 1)} s on ${result.workersSeen.length} worker${result.workersSeen.length === 1 ? '' : 's'}\n`,
      );
    if (result.stopped) {
      process.stderr.write(`stopped following; ${result.left} run${result.left === 1 ? ' stays' : 's stay'} in the queue. Collect their results with: pricelab experiment run ${file} --queue ${displayUrl(options.queue)} --resume\n`);
      return interruptedExitCode;
    }
    if (result.failed > 0) process.stderr.write(`${result.failed} run${result.failed === 1 ? '' : 's'} failed (errors above, in \`pricelab runs list\` and \`pricelab queue status\`). Run them again with: pricelab experiment run ${file} --queue ${displayUrl(options.queue)} --resume\n`);
    return result.failed > 0 ? 1 : 0;
  } finally {
    progress?.stop();
    process.off('SIGINT', onSigint);
    await results.close();
  }
}
