/** `pricelab scenarios`: the built-in scenarios, an id and a line each. */
import type { Command } from 'commander';
import { builtInScenarioIds, loadScenario } from '../../scenarios/load.js';
import { printJson, run } from '../output.js';

export function registerScenarios(program: Command): void {
  program
    .command('scenarios')
    .description('list the built-in scenarios with a one-line description')
    .option('--json', 'print JSON: [{id, version, description, horizonDays, card}]')
    .action(
      run((options: { json?: boolean }) => {
        const scenarios = builtInScenarioIds().map((id) => loadScenario(id).scenario);
        if (options.json) {
          printJson(scenarios.map(({ id, version, description, horizonDays, card }) => ({ id, version, description, horizonDays, card })));
          return;
        }
        // Text, not numbers: the descriptions start in one column (table() right-aligns).
        const width = Math.max(...scenarios.map((scenario) => scenario.id.length));
        process.stdout.write(`${scenarios.map((scenario) => `${scenario.id.padEnd(width)}  ${scenario.description}`).join('\n')}\n`);
      }),
    );
}
