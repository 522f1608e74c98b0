/**
 * `pricelab log`: write a decision log (JSON Lines, one decision a line, with its context,
 * action, propensity and reward: experiments/off-policy/log-record.ts) from a logging policy
 * that explores epsilon-greedily around a rule. The input of `pricelab ope`.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { buildMarketModel } from '../../env/model.js';
import { makeEnv } from '../../env/env.js';
import { policySpecs } from '../../agents/policy-spec.js';
import { banditScenario, collectLog, epsilonMixture, formatDecisionLog, rulePolicy } from '../../experiments/off-policy/index.js';
import { loadScenario } from '../../scenarios/load.js';
import { integer, positiveInteger, printJson, run, writeFileAtomically } from '../output.js';

interface LogOptions {
  policy: string;
  epsilon: number;
  days: number;
  seed: number;
  out: string;
  bandit?: boolean;
  json?: boolean;
}

export function probability(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0 || parsed > 1) throw new InvalidArgumentError(`expected a number from 0 to 1, found "${value}"`);
  return parsed;
}

export function registerLog(program: Command): void {
  program
    .command('log')
    .description('write a decision log (JSON Lines with propensities) from an epsilon-greedy logging policy around a rule')
    .argument('<scenario>', 'built-in scenario id or path to a scenario file')
    .requiredOption('--policy <rule>', `base rule of the logging policy: ${policySpecs.join(', ')}`)
    .option('--epsilon <e>', 'share of decisions drawn uniformly over the ladder', probability, 0.2)
    .option('--days <n>', 'decisions to log (episodes follow each other, episode e on seed + e)', positiveInteger, 365)
    .option('--seed <n>', 'seed of the first episode and of the exploration', integer, 1)
    .option('--bandit', 'use the bandit version of the scenario (no reference prices, churn, stock, returns or reacting rivals)')
    .requiredOption('--out <file>', 'the log file to write (JSON Lines)')
    .option('--json', 'print {scenario, policy, decisions, out}')
    .action(run(async (scenario: string, options: LogOptions) => writeLog(scenario, options)));
}

async function writeLog(name: string, options: LogOptions): Promise<void> {
  const loaded = loadScenario(name).scenario;
  const model = buildMarketModel(options.bandit ? banditScenario(loaded) : loaded);
  const logging = epsilonMixture(await rulePolicy(makeEnv(model), options.policy, options.seed), options.epsilon);
  const records = collectLog(model, logging, { days: options.days, seed: options.seed });
  writeFileAtomically(options.out, formatDecisionLog(records));
  const summary = { scenario: model.scenario.id, policy: logging.name, decisions: records.length, out: options.out };
  if (options.json) printJson(summary);
  else process.stdout.write(`wrote ${records.length} decisions of ${model.scenario.id} under ${logging.name} to ${options.out}\n`);
}
