#!/usr/bin/env node
/**
 * The `pricelab` command: thin. It parses arguments and calls env/, scenarios/,
 * agents/ and experiments/; each command lives in cli/commands/.
 */
import { Command } from 'commander';
import { exitCodes } from './output.js';
import { registerBench } from './commands/bench.js';
import { registerCheck } from './commands/check.js';
import { registerCompare } from './commands/compare.js';
import { registerEquilibrium } from './commands/equilibrium.js';
import { registerExperiment } from './commands/experiment.js';
import { registerOracle } from './commands/oracle.js';
import { registerScenarios } from './commands/scenarios.js';
import { registerSimulate } from './commands/simulate.js';
import { registerReproduce } from './commands/reproduce.js';
import { registerRuns } from './commands/runs.js';
import { registerSampleSize } from './commands/sample-size.js';
import { registerTrain } from './commands/train.js';
import { registerOnline } from './commands/online.js';
import { registerLog } from './commands/log.js';
import { registerOpe } from './commands/ope.js';
import { registerPolicy } from './commands/policy.js';
import { registerServe } from './commands/serve.js';
import { registerDashboard } from './commands/dashboard.js';
import { registerCalibrate } from './commands/calibrate.js';

const program = new Command('pricelab')
  .description('pricelab: a workbench for reinforcement-learning pricing: a seeded market simulator, agents, training, experiments and A/B statistics, a policy registry and pricing endpoint, a live dashboard, known answers and benchmarks')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  // Usage errors (unknown option, bad option value, missing argument) are bad input: exit 2.
  .exitOverride((error) => {
    process.exit(error.exitCode === 0 ? 0 : exitCodes.badInput);
  });

registerScenarios(program);
registerCheck(program);
registerEquilibrium(program);
registerOracle(program);
registerSimulate(program);
registerTrain(program);
registerCompare(program);
registerBench(program);
registerReproduce(program);
registerOnline(program);
registerLog(program);
registerOpe(program);
registerExperiment(program);
registerRuns(program);
registerSampleSize(program);
registerPolicy(program);
registerServe(program);
registerDashboard(program);
registerCalibrate(program);

await program.parseAsync(process.argv);
