/** `pricelab equilibrium`: Bertrand-Nash and joint-monopoly prices and profits of a scenario's logit stage game. */
import type { Command } from 'commander';
import { equilibriumOf } from '../../env/benchmarks.js';
import { loadScenario } from '../../scenarios/load.js';
import { printJson, run, table } from '../output.js';

export function registerEquilibrium(program: Command): void {
  program
    .command('equilibrium')
    .description("Bertrand-Nash and joint-monopoly prices and profits of the scenario's logit stage game (any number of firms)")
    .argument('<scenario>', 'built-in scenario id or path to a scenario file')
    .option('--json', 'print {"nash":{"prices":[...],"profits":[...]},"monopoly":{...},"firms":[...]}')
    .action(
      run((name: string, options: { json?: boolean }) => {
        const report = equilibriumOf(loadScenario(name).scenario);
        if (options.json) {
          printJson(report);
          return;
        }
        const rows = [['firm', 'Nash price', 'Nash profit', 'monopoly price', 'monopoly profit']];
        report.firms.forEach((firm, index) => {
          rows.push([firm, fixed(report.nash.prices[index]), fixed(report.nash.profits[index]), fixed(report.monopoly.prices[index]), fixed(report.monopoly.profits[index])]);
        });
        process.stdout.write(`${table(rows)}\n(stage game at the segments' base arrival rates; reference prices at their steady state)\n`);
      }),
    );
}

const fixed = (value: number | undefined) => (value === undefined ? '-' : value.toFixed(10));
