/**
 * `pricelab ope`: off-policy evaluation of a target policy from a decision log: IPS,
 * self-normalised IPS and doubly robust estimates of its mean daily reward, each with a 95%
 * interval, overlap diagnostics, and, when the log replays in the scenario's simulator (a
 * contextual bandit), the truth: the target's expected value on the logged contexts.
 * A log with bad lines is refused with every problem and its line number (exit 2).
 * docs/off-policy-evaluation.md.
 */
import { readFileSync, existsSync } from 'node:fs';
import type { Command } from 'commander';
import { PricelabError } from '../../core/errors.js';
import { buildMarketModel } from '../../env/model.js';
import { makeEnv } from '../../env/env.js';
import { policySpecs } from '../../agents/policy-spec.js';
import { carryOverMechanisms } from '../../experiments/online/index.js';
import {
  banditScenario,
  contextVector,
  epsilonMixture,
  estimatePolicyValue,
  expectedValueOnContexts,
  parseDecisionLog,
  replayExpectedRewards,
  rulePolicy,
  simulateOnPolicy,
} from '../../experiments/off-policy/index.js';
import { loadScenario } from '../../scenarios/load.js';
import { formatNumber, printJson, run, table } from '../output.js';
import { probability } from './log.js';

interface OpeOptions {
  target: string;
  targetEpsilon: number;
  scenario: string;
  bandit?: boolean;
  json?: boolean;
}

export function registerOpe(program: Command): void {
  program
    .command('ope')
    .description('off-policy evaluation of a target policy from a decision log: IPS, SNIPS, doubly robust, with intervals and the simulator truth')
    .argument('<log>', 'decision log (JSON Lines, as written by `pricelab log`)')
    .requiredOption('--target <policy>', `target rule: ${policySpecs.filter((spec) => spec !== 'myopic-oracle' && spec !== 'dp-optimal').join(', ')}`)
    .option('--target-epsilon <e>', 'evaluate the target mixed with uniform exploration (a stochastic target)', probability, 0)
    .requiredOption('--scenario <id>', 'the scenario the log was taken in (its ladder and features; the truth when the log replays)')
    .option('--bandit', 'the log was taken in the bandit version of the scenario (`pricelab log --bandit`)')
    .option('--json', 'print {target, estimates: {ips, snips, dr}, diagnostics, truth, warnings}')
    .action(run(async (log: string, options: OpeOptions) => ope(log, options)));
}

async function ope(logPath: string, options: OpeOptions): Promise<void> {
  if (!existsSync(logPath)) throw new PricelabError('not-found', `no decision log at ${logPath}`, [{ path: ['log'], message: `expected a JSON Lines file, found nothing at "${logPath}"` }]);
  const loaded = loadScenario(options.scenario).scenario;
  const model = buildMarketModel(options.bandit ? banditScenario(loaded) : loaded);
  const env = makeEnv(model);
  const featureNames = env.observationSpace.featureNames;
  const records = parseDecisionLog(readFileSync(logPath, 'utf8'), { featureNames, ladder: model.ladder });
  const base = await rulePolicy(env, options.target);
  const target = epsilonMixture(base, options.targetEpsilon);
  const estimates = estimatePolicyValue(
    target,
    records.map((record) => ({ context: contextVector(record, featureNames), action: record.action, propensity: record.propensity, reward: record.reward })),
  );
  const replay = replayExpectedRewards(model, records);
  const truth = replay.available
    ? { available: true, expectedValueOnContexts: expectedValueOnContexts(target, records, replay.expectedRewards, featureNames), simulatedOnPolicy: simulateOnPolicy(model, target, records) }
    : { available: false, reason: replay.reason };
  const carryOver = carryOverMechanisms(model);
  const warnings = [
    ...(carryOver.length > 0 ? [`the scenario has carry-over (${carryOver.join(', ')}): daily rewards depend on past prices, so these estimates of the mean daily reward are biased for a target that prices differently over time`] : []),
    ...(estimates.diagnostics.effectiveSampleSize < 30 ? [`poor overlap: effective sample size ${formatNumber(estimates.diagnostics.effectiveSampleSize)} (log more exploration or a target closer to the logging policy)`] : []),
  ];
  const result = { scenario: model.scenario.id, target: target.name, decisions: records.length, estimates: { ips: estimates.ips, snips: estimates.snips, dr: estimates.dr }, diagnostics: estimates.diagnostics, truth, warnings };
  if (options.json) {
    printJson(result);
    return;
  }
  const row = (name: string, estimate: typeof estimates.ips) => [name, formatNumber(estimate.estimate), formatNumber(estimate.standardError), `${formatNumber(estimate.low)} .. ${formatNumber(estimate.high)}`];
  const lines = [
    `${model.scenario.id}: value of ${target.name} (mean daily reward) from ${records.length} logged decisions`,
    '',
    table([['estimator', 'estimate', 'se', '95% interval'], row('IPS', estimates.ips), row('SNIPS', estimates.snips), row('doubly robust', estimates.dr)]),
    '',
    `mean weight ${formatNumber(estimates.diagnostics.meanWeight, 3)} (near 1 if the propensities are right), effective sample size ${formatNumber(estimates.diagnostics.effectiveSampleSize)}`,
    truth.available
      ? `truth: expected value on the logged contexts ${formatNumber(truth.expectedValueOnContexts)}; the target simulated on the same seeds ${formatNumber(truth.simulatedOnPolicy)}`
      : `truth: not available (${truth.reason})`,
    ...warnings.map((warning) => `warning: ${warning}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
