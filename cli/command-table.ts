/**
 * The commands of `pricelab`, each with the module that defines it, loaded only when needed:
 * `pricelab scenarios` imports what listing scenarios needs, not TensorFlow.js, vega and
 * mathjs. A run of one command loads that command's module; `--help`, `--version` and an
 * unknown command (for "did you mean") load them all. The order is the order of `--help`.
 * tests/cli/command-table.test.ts checks that each module registers exactly the names listed.
 */
import type { Command } from 'commander';

export interface CommandModule {
  /** The top-level command names the module registers. */
  readonly names: readonly string[];
  readonly load: () => Promise<(program: Command) => void>;
}

export const commandModules: readonly CommandModule[] = [
  { names: ['scenarios'], load: async () => (await import('./commands/scenarios.js')).registerScenarios },
  { names: ['check'], load: async () => (await import('./commands/check.js')).registerCheck },
  { names: ['equilibrium'], load: async () => (await import('./commands/equilibrium.js')).registerEquilibrium },
  { names: ['oracle'], load: async () => (await import('./commands/oracle.js')).registerOracle },
  { names: ['simulate', 'start'], load: async () => (await import('./commands/simulate.js')).registerSimulate },
  { names: ['train', 'evaluate'], load: async () => (await import('./commands/train.js')).registerTrain },
  { names: ['compare'], load: async () => (await import('./commands/compare.js')).registerCompare },
  { names: ['bench'], load: async () => (await import('./commands/bench.js')).registerBench },
  { names: ['reproduce'], load: async () => (await import('./commands/reproduce.js')).registerReproduce },
  { names: ['online'], load: async () => (await import('./commands/online.js')).registerOnline },
  { names: ['log'], load: async () => (await import('./commands/log.js')).registerLog },
  { names: ['ope'], load: async () => (await import('./commands/ope.js')).registerOpe },
  { names: ['experiment'], load: async () => (await import('./commands/experiment.js')).registerExperiment },
  { names: ['runs'], load: async () => (await import('./commands/runs.js')).registerRuns },
  { names: ['sample-size'], load: async () => (await import('./commands/sample-size.js')).registerSampleSize },
  { names: ['policy', 'token'], load: async () => (await import('./commands/policy.js')).registerPolicy },
  { names: ['serve'], load: async () => (await import('./commands/serve.js')).registerServe },
  { names: ['dashboard'], load: async () => (await import('./commands/dashboard.js')).registerDashboard },
  { names: ['calibrate'], load: async () => (await import('./commands/calibrate.js')).registerCalibrate },
];

/** The modules a command line needs: the one defining its command, or every module. */
export function modulesFor(argv: readonly string[]): readonly CommandModule[] {
  const first = argv[0];
  const owner = first === undefined ? undefined : commandModules.find((module) => module.names.includes(first));
  return owner === undefined ? commandModules : [owner];
}
