/**
 * `pricelab experiment run <file>`: every run of an experiment file (scenarios x agents x
 * seeds) in worker threads, with one overall progress bar and a line per finished run;
 * results go to the results store in PRICELAB_HOME. `--resume` skips finished runs and
 * restarts interrupted ones from their last checkpoint; `--resume --restart-failed` also
 * starts failed runs afresh, discarding their (damaged, say) checkpoints. Ctrl-C stops cleanly: running runs
 * checkpoint and are marked interrupted, and the command exits 130 saying how to resume.
 * `pricelab experiment check <file>`: validates a file and lists its runs, storing nothing.
 */
import type { Command } from 'commander';
import { benchSweep } from '../../experiments/bench-sweep.js';
import { loadExperimentFile } from '../../experiments/experiment-file.js';
import { calvanoGridPlanOf, calvanoGridRunCommand, gridCheckText, registerCalvanoGridCommands } from './calvano-grid.js';
import { resultsHome } from '../../experiments/store.js';
import { runSweep, type SweepEvent } from '../../experiments/sweep.js';
import { formatNumber, positiveInteger, printJson, run, table } from '../output.js';
import { progressBar, type Progress } from '../progress.js';

export const interruptedExitCode = 130;

interface ExperimentRunOptions {
  workers?: number;
  resume?: boolean;
  restartFailed?: boolean;
  json?: boolean;
  report?: string;
  queue?: string;
  attempts?: number;
  connectTimeout?: number;
}

export function registerExperiment(program: Command): void {
  const experiment = program.command('experiment').description('run experiment files: sweeps of scenarios x agents x seeds, results in the store');
  experiment
    .command('run')
    .description('run every run of an experiment file in worker threads; results in $PRICELAB_HOME/pricelab.db')
    .argument('<file>', 'experiment file (JSON; see docs/experiments.md and scenarios/experiments/)')
    .option('--workers <n>', 'worker threads (default: one per core, at most one per run)', positiveInteger)
    .option('--resume', 'continue the experiment: skip finished runs, restart interrupted ones from their last checkpoint')
    .option('--restart-failed', 'with --resume: start failed runs afresh, discarding their checkpoints (one that is damaged fails its run on every resume)')
    .option('--json', 'print the sweep summary and the finished runs as JSON (no progress)')
    .option('--report <folder>', 'Calvano grids: the heatmap report folder (default: $PRICELAB_HOME/reports/<name>)')
    .option('--queue <url>', 'run on the workers of a Redis queue (redis://host:port[/db]; see `pricelab worker`) instead of local threads')
    .option('--attempts <n>', 'with --queue: tries per run before it fails', positiveInteger, 3)
    .option('--connect-timeout <s>', 'with --queue: seconds to wait for Redis', positiveInteger, 3)
    .action(run(async (file: string, options: ExperimentRunOptions) => experimentRunCommand(file, options)));
  experiment
    .command('check')
    .description('validate an experiment file and list its runs (nothing runs, nothing is stored)')
    .argument('<file>', 'experiment file')
    .option('--json', 'print the planned runs as JSON')
    .action(
      run((file: string, options: { json?: boolean }) => {
        const grid = calvanoGridPlanOf(file);
        if (grid) return void (options.json ? printJson({ name: grid.file.name, kind: grid.file.kind, sessions: grid.sessions.length, alphas: grid.alphas, betas: grid.betas, seeds: grid.seeds }) : process.stdout.write(gridCheckText(grid)));
        const plan = loadExperimentFile(file);
        const runs = plan.runs.map((entry) => ({ id: entry.id, scenario: entry.scenario.id, agent: entry.agent.name, kind: entry.agent.kind, seed: entry.seed }));
        if (options.json) printJson({ name: plan.file.name, runs });
        else process.stdout.write(`${plan.file.name}: valid, ${runs.length} runs (${plan.scenarios.length} scenarios x ${plan.agents.length} agents x ${plan.seeds.length} seeds)\n`);
      }),
    );
  registerCalvanoGridCommands(experiment);
}

async function experimentRunCommand(file: string, options: ExperimentRunOptions): Promise<number> {
  const grid = calvanoGridPlanOf(file);
  if (grid) {
    if (options.queue === undefined) return calvanoGridRunCommand(file, grid, options);
    // The queue's modules (bullmq, ioredis) load only when a queue is asked for.
    const { queueGridRunner } = await import('../../experiments/queue/calvano-grid-runner.js');
    const settings = { url: options.queue, ...(options.attempts !== undefined ? { attempts: options.attempts } : {}), ...(options.connectTimeout !== undefined ? { connectSeconds: options.connectTimeout } : {}) };
    return calvanoGridRunCommand(file, grid, options, queueGridRunner(grid, settings));
  }
  const plan = loadExperimentFile(file);
  const home = resultsHome();
  if (options.queue !== undefined) return (await import('./experiment-queue.js')).experimentRunOnQueue(file, plan, home, { ...options, queue: options.queue }, interruptedExitCode);
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) process.exit(interruptedExitCode); // a second Ctrl-C: the runs left 'running' resume as interrupted
    process.stderr.write('\nstopping: running runs save a checkpoint at their next episode boundary (Ctrl-C again to quit now)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  let progress: Progress | undefined;
  const finishedRuns: { id: string; scenario: string; agent: string; seed: number; metrics: Record<string, unknown> }[] = [];
  const onEvent = (event: SweepEvent) => {
    switch (event.type) {
      case 'planned':
        if (!options.json) process.stderr.write(`${plan.file.name}: ${event.total} runs, ${event.skipped} already finished, ${event.toRun} to run on ${event.workers} worker${event.workers === 1 ? '' : 's'}; results in ${home}\n`);
        progress = progressBar(event.totalSteps, 'steps', options.json === true);
        break;
      case 'progress':
        progress?.update(event.doneSteps);
        break;
      case 'resume-from-checkpoint':
        progress?.log(`resuming ${event.run.id} (${describe(event.run)}) from its checkpoint after episode ${event.episodes} (${event.steps} steps)`);
        break;
      case 'restart-from-scratch':
        progress?.log(`restarting ${event.run.id} (${describe(event.run)}) from scratch: ${event.reason}`);
        break;
      case 'run-finished': {
        finishedRuns.push({ id: event.run.id, scenario: event.run.scenario.id, agent: event.run.agent.name, seed: event.run.seed, metrics: event.metrics });
        const gain = event.metrics['market/profitGain'];
        progress?.log(
          `finished ${event.run.id} ${describe(event.run)}: eval/meanReward ${formatNumber(event.metrics['eval/meanReward'] as number | null)}${typeof gain === 'number' ? `, market/profitGain ${formatNumber(gain, 3)}` : ''} (${event.seconds.toFixed(1)} s)`,
        );
        break;
      }
      case 'run-failed':
        progress?.log(`failed ${event.run.id} ${describe(event.run)}: ${event.error}`);
        break;
      case 'run-interrupted':
        progress?.log(`interrupted ${event.run.id} ${describe(event.run)} after episode ${event.episodes}${event.checkpointed ? ', checkpoint saved' : ' (no checkpoint: it restarts from scratch)'}`);
        break;
    }
  };
  try {
    const result = await runSweep(plan, { home, ...(options.workers === undefined ? {} : { workers: options.workers }), resume: options.resume === true, restartFailed: options.restartFailed === true, signal: controller.signal, onEvent });
    progress?.stop();
    if (options.json) printJson({ experiment: plan.file.name, home, ...result, runs: finishedRuns });
    else process.stdout.write(`${plan.file.name}: ${result.finished} finished, ${result.failed} failed, ${result.interrupted} interrupted, ${result.skipped} skipped, in ${result.wallSeconds.toFixed(1)} s on ${result.workers} worker${result.workers === 1 ? '' : 's'}\n`);
    if (result.stopped) {
      process.stderr.write(`stopped. Continue with: pricelab experiment run ${file} --resume\n`);
      return interruptedExitCode;
    }
    if (result.failed > 0) process.stderr.write(`${result.failed} run${result.failed === 1 ? '' : 's'} failed (errors above and in \`pricelab runs list\`). Start them afresh with: pricelab experiment run ${file} --resume --restart-failed\n`);
    return result.failed > 0 ? 1 : 0;
  } finally {
    progress?.stop();
    process.off('SIGINT', onSigint);
  }
}

function describe(entry: { scenario: { id: string }; agent: { name: string }; seed: number }): string {
  return `${entry.scenario.id} ${entry.agent.name} seed ${entry.seed}`;
}

/** `pricelab bench sweep`, registered by cli/commands/bench.ts: the sweep speed-up, 1 worker against 2, measured in the same run. */
export function registerBenchSweep(bench: Command): void {
  bench
    .command('sweep')
    .description('a sweep of 2 agents x 2 scenarios x 10 seeds with 1 worker, then 2: wall times and the speed-up')
    .option('--json', 'print JSON')
    .option('--seeds <n>', 'seeds per (scenario, agent)', positiveInteger, 10)
    .option('--episodes <n>', 'training episodes per run', positiveInteger, 400)
    .action(
      run(async (options: { json?: boolean; seeds: number; episodes: number }) => {
        if (!options.json) process.stderr.write(`sweep of ${4 * options.seeds} runs, 1 worker then 2 (takes a minute)...\n`);
        const result = await benchSweep({ seeds: options.seeds, episodes: options.episodes });
        if (options.json) {
          printJson(result);
          return result.identicalResults ? 0 : 1;
        }
        const rows = [['workers', 'wall s', 'runs/s'], ...result.timings.map((timing) => [String(timing.workers), timing.wallSeconds.toFixed(2), timing.runsPerSecond.toFixed(2)])];
        process.stdout.write(`${table(rows)}\nspeed-up ${result.speedup.toFixed(2)}x on ${result.cores} cores; identical results: ${result.identicalResults ? 'yes' : 'NO'}\n`);
        return result.identicalResults ? 0 : 1;
      }),
    );
}
