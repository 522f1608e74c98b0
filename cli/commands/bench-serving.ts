/** `pricelab bench serving`: the pricing endpoint under autocannon load, against a bare express endpoint in the same run. */
import type { Command } from 'commander';
import { benchServing } from '../../serving/bench-serving.js';
import { exitCodes, formatNumber, positiveInteger, printJson, run, table } from '../output.js';

export function registerBenchServing(bench: Command): void {
  bench
    .command('serving')
    .description('requests/s and p50/p99 latency at 64 connections for a tabular and a DQN policy, against a bare express endpoint (same run); a promotion happens during the tabular run')
    .option('--seconds <s>', 'seconds of load per target', positiveInteger, 10)
    .option('--connections <n>', 'concurrent connections', positiveInteger, 64)
    .option('--json', 'print JSON')
    .option('--fail-below-goal', 'exit 1 when the tabular policy serves under 0.70 of the bare endpoint\'s requests/s or any request failed (for a pipeline that gates on speed; a busy machine misses it)')
    .action(
      run(async (options: { seconds: number; connections: number; json?: boolean; failBelowGoal?: boolean }) => {
        const result = await benchServing({ seconds: options.seconds, connections: options.connections, onLine: (line) => process.stderr.write(`${line}\n`) });
        if (options.json) printJson(result);
        else {
          const rows = [result.bare, result.tabular, result.dqn].map((entry) => [entry.target, formatNumber(entry.requestsPerSecond, 0), formatNumber(entry.latencyP50Ms, 1), formatNumber(entry.latencyP99Ms, 1), String(entry.errors + entry.non2xx + entry.timeouts)]);
          process.stdout.write(`${table([['target', 'requests/s', 'p50 ms', 'p99 ms', 'failed'], ...rows])}\n\ntabular / bare: ${result.tabular.ratioToBare.toFixed(2)} (goal >= 0.70: ${result.goal.met ? 'met' : 'missed'}), DQN / bare: ${result.dqn.ratioToBare.toFixed(2)}; ${result.tabular.promotionsDuringRun} promotions during the tabular run\n`);
        }
        return result.goal.met || options.failBelowGoal !== true ? exitCodes.ok : exitCodes.failed;
      }),
    );
}
