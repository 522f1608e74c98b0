/**
 * The commands of `pricelab`, each with the module that defines it, loaded only when needed:
 * `pricelab scenarios` imports what listing scenarios needs, not TensorFlow.js, vega and
 * mathjs. A run of one command loads that command's module; an unknown command (for "did
 * you mean") loads them all. `pricelab`, `--help`, `help` and `--version` load none: the
 * command list comes from the summaries below (loading every module took seconds, mostly
 * vega, express and zod). The order is the order of `--help`.
 * tests/cli/command-table.test.ts checks that each module registers exactly the names
 * listed, with exactly these summaries.
 */
import { Help, type Command } from 'commander';

/** A command as `pricelab --help` lists it. */
export interface CommandSummary {
  /** The left column: the name, `[options]` when it has any, its arguments. */
  readonly term: string;
  readonly description: string;
}

export interface CommandModule {
  /** The top-level command names the module registers. */
  readonly names: readonly string[];
  /** One per name, in order: what `pricelab --help` lists without loading the module. */
  readonly summaries: readonly CommandSummary[];
  readonly load: () => Promise<(program: Command) => void>;
}

/** A module of commands from its loader and, per command it registers, `[term, description]`; the names are the terms' first words. */
function lazyModule(load: CommandModule['load'], ...summaries: readonly (readonly [term: string, description: string])[]): CommandModule {
  return {
    names: summaries.map(([term]) => term.split(' ')[0] ?? term),
    summaries: summaries.map(([term, description]) => ({ term, description })),
    load,
  };
}

export const commandModules: readonly CommandModule[] = [
  lazyModule(async () => (await import('./commands/scenarios.js')).registerScenarios, ['scenarios [options]', 'list the built-in scenarios with a one-line description']),
  lazyModule(async () => (await import('./commands/check.js')).registerCheck, ['check [options] [scenarios...]', 'run the env checker: spaces, reward terms, determinism, horizon, refusal after the end']),
  lazyModule(async () => (await import('./commands/check-prices.js')).registerCheckPrices, ['check-prices [options] [scenario]', 'reference ("was") prices of every promotion under the EU 30-day or China 7-day rule, and raise-then-discount flags; exit 1 on a finding']),
  lazyModule(async () => (await import('./commands/check-collusion.js')).registerCheckCollusion, ['check-collusion [options] <policy>', "the collusion gate's test: profit-gain index and the impulse response to a rival's price cut, facing a rival that learns against the policy; exit 1 when refused"]),
  lazyModule(async () => (await import('./commands/check-fairness.js')).registerCheckFairness, ['check-fairness [options] <scenario>', "the fairness gate's test: effective prices after coupons by segment and stage, their max/min ratio, sensitive attributes' share and targeted features; exit 1 when refused"]),
  lazyModule(async () => (await import('./commands/equilibrium.js')).registerEquilibrium, ['equilibrium [options] <scenario>', 'Bertrand-Nash and joint-monopoly prices and profits of the scenario\'s logit stage game (any number of firms)']),
  lazyModule(async () => (await import('./commands/oracle.js')).registerOracle, ['oracle [options] <scenario>', 'exact optimal expected value by dynamic programming over the scenario\'s price ladder (or continuous prices)']),
  lazyModule(async () => (await import('./commands/simulate.js')).registerSimulate, ['simulate [options] <scenario>', 'run a rule policy on a scenario and print its KPIs'], ['start', 'the default simulation: a year of singles-day-v1 under a festival-discount rule, with KPIs and a text chart']),
  lazyModule(async () => (await import('./commands/train.js')).registerTrain, ['train [options] <scenario>', 'train an agent on a scenario; writes a policy artifact and a run manifest'], ['evaluate [options] <scenario>', 'evaluate a policy artifact: KPIs with mean and 95% interval across episodes']),
  lazyModule(async () => (await import('./commands/compare.js')).registerCompare, ['compare [options] <scenario>', 'compare policies on common random numbers: paired differences, Holm-corrected verdicts, JSON summary and HTML report']),
  lazyModule(async () => (await import('./commands/bench.js')).registerBench, ['bench', 'benchmarks that print JSON, with a reference measured in the same run']),
  lazyModule(async () => (await import('./commands/reproduce.js')).registerReproduce, ['reproduce', 'reproduce a published experiment and print its figures beside the paper’s']),
  lazyModule(async () => (await import('./commands/online.js')).registerOnline, ['online [options] <scenario>', 'simulate an online experiment (switchback, product/region split, per-customer split) of policy B against A, with its bias against the truth']),
  lazyModule(async () => (await import('./commands/log.js')).registerLog, ['log [options] <scenario>', 'write a decision log (JSON Lines with propensities) from an epsilon-greedy logging policy around a rule']),
  lazyModule(async () => (await import('./commands/ope.js')).registerOpe, ['ope [options] <log>', 'off-policy evaluation of a target policy from a decision log: IPS, SNIPS, doubly robust, with intervals and the simulator truth']),
  lazyModule(async () => (await import('./commands/experiment.js')).registerExperiment, ['experiment', 'run experiment files: sweeps of scenarios x agents x seeds, results in the store']),
  lazyModule(async () => (await import('./commands/worker.js')).registerWorker, ['worker [options]', 'take runs from a Redis queue (experiment runs, Calvano sessions) and return their results; SIGTERM finishes or hands back']),
  lazyModule(async () => (await import('./commands/queue.js')).registerQueue, ['queue', 'operate the Redis queue of distributed sweeps: status, retry failed jobs, clean finished ones']),
  lazyModule(async () => (await import('./commands/runs.js')).registerRuns, ['runs', 'the runs in the results store ($PRICELAB_HOME/pricelab.db)']),
  lazyModule(async () => (await import('./commands/sample-size.js')).registerSampleSize, ['sample-size [options]', 'seeds needed to detect an effect (--effect), or the minimum detectable effect at a number of seeds (--n); two-sided t-test']),
  lazyModule(async () => (await import('./commands/policy.js')).registerPolicy, ['policy', 'the policy registry: versions, aliases (candidate, staging, production), promotion gates, audit log (PRICELAB_HOME)'], ['token', 'bearer tokens for the endpoint\'s mutating routes (only their sha256 is stored)']),
  lazyModule(async () => (await import('./commands/serve.js')).registerServe, ['serve [options]', 'serve prices over HTTP from the registry\'s production policies (POST /v1/policies/:name/price)']),
  lazyModule(async () => (await import('./commands/dashboard.js')).registerDashboard, ['dashboard [options]', 'serve the live simulation dashboard on http://<host>:<port> (default 127.0.0.1:3000)']),
  lazyModule(async () => (await import('./commands/calibrate.js')).registerCalibrate, ['calibrate [options] <sales>', 'fit a scenario to a sales history (CSV, CSV.gz or JSON Lines): demand, calendar, endogeneity, stockouts, returns, rivals, reference prices, segments and stores, each with a 95% interval; holdout and posterior-predictive checks']),
];

/** The modules a command line needs: the one defining its command, or every module. */
export function modulesFor(argv: readonly string[]): readonly CommandModule[] {
  const first = argv[0];
  const owner = first === undefined ? undefined : commandModules.find((module) => module.names.includes(first));
  return owner === undefined ? commandModules : [owner];
}

/** Command lines answered from the summaries alone: the command list (`pricelab`, `--help`, `help`) and `--version`. */
export function listsCommandsOnly(argv: readonly string[]): boolean {
  return argv.length === 0 || (argv.length === 1 && ['--help', '-h', 'help', '--version', '-V'].includes(argv[0] ?? ''));
}

/** Registers every command as its summary only (a name and a description, no options, no action), for the command list. */
export function registerCommandSummaries(program: Command): void {
  const terms = new Map<string, string>();
  for (const module of commandModules) {
    module.names.forEach((name, index) => {
      const summary = module.summaries[index];
      if (summary === undefined) return;
      terms.set(name, summary.term);
      program.command(name).description(summary.description);
    });
  }
  program.configureHelp({
    subcommandTerm(this: Help, command: Command): string {
      return terms.get(command.name()) ?? Help.prototype.subcommandTerm.call(this, command);
    },
  });
}
