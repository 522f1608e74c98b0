/** The lazy command table (cli/command-table.ts) names and summarises exactly what each module registers. */
import { Command, Help } from 'commander';
import { describe, expect, it } from 'vitest';
import { commandModules, listsCommandsOnly, modulesFor, registerCommandSummaries } from '../../cli/command-table.js';

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

  it.each(commandModules.map((module) => [module.names.join(', '), module] as const))('%s: the summaries are what the module registers', async (_names, module) => {
    const program = new Command('pricelab');
    (await module.load())(program);
    const help = new Help();
    expect(program.commands.map((command) => ({ term: help.subcommandTerm(command), description: command.description() }))).toEqual(module.summaries);
  });

  it('lists the commands from the summaries exactly as from the modules', async () => {
    const loaded = new Command('pricelab').description('d').version('0');
    for (const module of commandModules) (await module.load())(loaded);
    const summarised = new Command('pricelab').description('d').version('0');
    registerCommandSummaries(summarised);
    expect(summarised.helpInformation()).toBe(loaded.helpInformation());
  });

  it('answers only the command list and --version from the summaries', () => {
    for (const argv of [[], ['--help'], ['-h'], ['help'], ['--version'], ['-V']]) expect(listsCommandsOnly(argv)).toBe(true);
    for (const argv of [['train'], ['help', 'train'], ['trian'], ['train', '--help'], ['--help', '--json']]) expect(listsCommandsOnly(argv)).toBe(false);
  });

  it('no two modules claim the same name', () => {
    const names = commandModules.flatMap((module) => module.names);
    expect(new Set(names).size).toBe(names.length);
  });
});
