/** `pricelab oracle`: the exact optimal expected value of a finite-stock scenario by dynamic programming. */
import type { Command } from 'commander';
import { oracleOf } from '../../env/benchmarks.js';
import { loadScenario } from '../../scenarios/load.js';
import { positiveInteger, printJson, run } from '../output.js';

export function registerOracle(program: Command): void {
  program
    .command('oracle')
    .description("exact optimal expected value by dynamic programming over the scenario's price ladder (or continuous prices)")
    .argument('<scenario>', 'built-in scenario id or path to a finite-stock scenario file')
    .option('--continuous', 'optimise over continuous prices (exponential demand, at most one arrival per period)')
    .option('--periods <k>', "override the number of periods (default: the scenario's horizon)", positiveInteger)
    .option('--json', 'print {"optimalValue": number, "stock", "periods", "prices", "firstPrice", "continuousTimeValue"}')
    .action(
      run((name: string, options: { continuous?: boolean; periods?: number; json?: boolean }) => {
        const report = oracleOf(loadScenario(name).scenario, { ...(options.continuous ? { continuous: true } : {}), ...(options.periods ? { periods: options.periods } : {}) });
        if (options.json) {
          printJson(report);
          return;
        }
        const lines = [
          `optimal expected value: ${report.optimalValue.toFixed(6)}`,
          `stock ${report.stock}, periods ${report.periods}, prices: ${report.prices === 'continuous' ? 'continuous' : `ladder of ${report.prices.length}`}`,
          `optimal first price with full stock: ${report.firstPrice.toFixed(4)}`,
        ];
        if (report.continuousTimeValue !== undefined) lines.push(`continuous-time value J*(n, t) (Gallego & van Ryzin 1994): ${report.continuousTimeValue.toFixed(6)}`);
        process.stdout.write(`${lines.join('\n')}\n`);
      }),
    );
}
