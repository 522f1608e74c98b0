/** The lazy command table (cli/command-table.ts) names exactly what each module registers. */
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { commandModules, modulesFor } from '../../cli/command-table.js';

describe('the command table', () => {
  it.each(commandModules.map((module) => [module.names.join(', '), module] as const))('%s: the module registers exactly these names', async (_names, module) => {
    const program = new Command('pricelab');
    (await module.load())(program);
    expect(program.commands.map((command) => command.name())).toEqual(module.names);
  });

  it('loads one module for a known command and all of them otherwise', () => {
    expect(modulesFor(['evaluate', 'x']).map((module) => module.names)).toEqual([['train', 'evaluate']]);
    expect(modulesFor(['--help'])).toHaveLength(commandModules.length);
    expect(modulesFor(['trian'])).toHaveLength(commandModules.length);
    expect(modulesFor([])).toHaveLength(commandModules.length);
  });

  it('no two modules claim the same name', () => {
    const names = commandModules.flatMap((module) => module.names);
    expect(new Set(names).size).toBe(names.length);
  });
});
