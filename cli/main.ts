#!/usr/bin/env node
/**
 * The `pricelab` command: thin. It parses arguments and calls env/, scenarios/,
 * agents/ and experiments/; each command lives in cli/commands/.
 */
import { Command, type ErrorOptions } from 'commander';
import { nearestNames } from '../core/suggest.js';
import { exitCodes, printJsonError, wantsJson } from './output.js';
import { listsCommandsOnly, modulesFor, registerCommandSummaries } from './command-table.js';

/**
 * Commander checks required options before unknown ones, so `--agnet dqn` said only that
 * `--agent` was missing. This command reports the unknown option first, with the nearest
 * known one ("did you mean"); every subcommand is one too (createCommand).
 */
class PricelabCommand extends Command {
  override createCommand(name?: string): Command {
    return new PricelabCommand(name);
  }

  override error(message: string, errorOptions?: ErrorOptions): never {
    if (errorOptions?.code === 'commander.missingMandatoryOptionValue') {
      const unknown = this.firstUnknownOption();
      if (unknown !== undefined) {
        const known = this.knownLongFlags();
        const nearest = nearestNames(unknown, known, 1)[0];
        return super.error(`error: unknown option '${unknown}'${nearest === undefined ? '' : `\n(Did you mean ${nearest}?)`}`, { code: 'commander.unknownOption', exitCode: 1 });
      }
    }
    return super.error(message, errorOptions);
  }

  /** The options of this command and its ancestors (--help, --version). */
  private knownLongFlags(): string[] {
    const flags = this.options.flatMap((option) => (option.long ? [option.long] : []));
    for (let command = this.parent; command; command = command.parent) {
      for (const option of command.options) if (option.long) flags.push(option.long);
    }
    return [...flags, '--help'];
  }

  /** The first argument left over by the parser that looks like an option (commander keeps them in `args`). */
  private firstUnknownOption(): string | undefined {
    const known = new Set(this.knownLongFlags());
    for (const argument of this.args) {
      if (argument === '--') return undefined;
      const flag = argument.split('=', 1)[0] ?? argument;
      if (/^--[A-Za-z]/.test(flag) && !known.has(flag)) return flag;
    }
    return undefined;
  }
}

const program = new PricelabCommand('pricelab')
  .description('pricelab: a workbench for reinforcement-learning pricing: a seeded market simulator, agents, training, experiments and A/B statistics, a policy registry and pricing endpoint, a live dashboard, known answers and benchmarks')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  // A team's store: before or after the command, it stands for PRICELAB_STORE (core/store-url.ts).
  .option('--store <url>', 'the results store and policy registry: a postgres:// URL (default: PRICELAB_STORE, else pricelab.db in PRICELAB_HOME)')
  .hook('preAction', (command) => {
    const store = (command.opts() as { store?: unknown }).store;
    if (typeof store === 'string') process.env.PRICELAB_STORE = store;
  })
  .showSuggestionAfterError(true)
  // With --json, a usage error is also one JSON object on stdout (cli/output.ts).
  .configureOutput({
    outputError: (text, write) => {
      write(text);
      if (wantsJson(process.argv.slice(2))) printJsonError({ kind: 'usage', message: text.replace(/^error: /, '').trim().replace(/\s*\n\s*/g, ' '), problems: [] });
    },
  })
  // Usage errors (unknown option, bad option value, missing argument) are bad input: exit 2.
  .exitOverride((error) => {
    process.exit(error.exitCode === 0 ? 0 : exitCodes.badInput);
  });

const argv = process.argv.slice(2);
if (listsCommandsOnly(argv)) registerCommandSummaries(program);
else for (const module of modulesFor(argv)) (await module.load())(program);

await program.parseAsync(process.argv);
