/**
 * `pricelab bench queue` (experiments/queue/bench-queue.ts), registered by cli/commands/bench.ts;
 * BullMQ is loaded only when it runs.
 */
import type { Command } from 'commander';
import { positiveInteger, printJson, run, table } from '../output.js';

/** `pricelab bench queue`, registered by cli/commands/bench.ts: the queue's overhead per job against local threads, runs/s with 1, 2, 4 worker processes, a scaling model. */
export function registerBenchQueue(bench: Command): void {
  bench
    .command('queue')
    .description('queue overhead per job against local worker threads, runs/s with 1, 2 and 4 worker processes, and a scaling model (starts its own redis-server)')
    .option('--json', 'print JSON')
    .option('--runs <n>', 'runs per sweep', positiveInteger, 60)
    .option('--episodes <n>', 'training episodes per run', positiveInteger, 1)
    .option('--repetitions <n>', 'repetitions of the overhead measurement (the median is kept)', positiveInteger, 3)
    .option('--redis-server <path>', 'the redis-server binary (default /usr/bin/redis-server, else on PATH)')
    .action(
      run(async (options: { json?: boolean; runs: number; episodes: number; repetitions: number; redisServer?: string }) => {
        const { benchQueue } = await import('../../experiments/queue/bench-queue.js');
        const result = await benchQueue({ runs: options.runs, episodes: options.episodes, repetitions: options.repetitions, ...(options.redisServer ? { redisServer: options.redisServer } : {}), onProgress: (line) => !options.json && process.stderr.write(`${line}...\n`) });
        if (options.json) {
          printJson(result);
          return result.identicalResults ? 0 : 1;
        }
        const rows = [['worker processes', 'wall s', 'runs/s'], ...result.throughput.map((entry) => [String(entry.workers), entry.wallSeconds.toFixed(2), entry.runsPerSecond.toFixed(2)])];
        process.stdout.write(
          [
            `per run: ${(1000 * result.runSeconds).toFixed(1)} ms inside the run; ${result.msPerRun.local.toFixed(1)} ms per run with a local thread, ${result.msPerRun.queue.toFixed(1)} ms through the queue: overhead ${result.overheadPerJobMs.toFixed(1)} ms per job (store write ${result.storeWriteMs.toFixed(2)} ms)`,
            table(rows),
            `scaling model: ${result.scalingModel.formula}`,
            ...result.scalingModel.predicted.map((entry) => `  ${entry.machines} machines x ${entry.coresEach} cores: ${entry.runsPerSecond.toFixed(1)} runs/s`),
            `identical results: ${result.identicalResults ? 'yes' : 'NO'}; ${result.cores} cores, load average ${result.loadAverage.map((value) => value.toFixed(2)).join(' ')}`,
          ].join('\n') + '\n',
        );
        return result.identicalResults ? 0 : 1;
      }),
    );
}
