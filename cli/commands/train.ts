/**
 * `pricelab train`: train an agent on a scenario with a progress bar and periodic greedy
 * evaluations, then write its policy artifact and a run manifest.
 * `pricelab evaluate`: load a policy artifact (integrity-checked) and report its KPIs with
 * means and 95% intervals across evaluation episodes.
 */
import { join, resolve } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { readArtifact } from '../../agents/artifact.js';
import { agentDefinitions } from '../../agents/registry.js';
import { historicalKind } from '../../agents/historical.js';
import { historicalOptionsFor, historicalPrefix, readHistoricalPolicy } from '../../calibration/historical.js';
import { makeEnv } from '../../env/env.js';
import { configError } from '../../core/errors.js';
import { buildMarketModel } from '../../env/model.js';
import { agentFor, restoredAgentFor, type AgentEnv } from '../../experiments/setup.js';
import { CouponEnv, type CouponEnvStepInfo } from '../../env/coupons/coupon-env.js';
import { couponScenarioPath } from '../../experiments/fairness-check.js';
import { readJsonFile } from '../../core/json-file.js';
import { summariseKpis } from '../../experiments/summary.js';
import { evaluate, type ExploringStarts } from '../../experiments/train.js';
import { changeMarginProblems } from '../../experiments/margin-selection.js';
import { evaluationSeed } from '../../core/seeds.js';
import { prepareTrainRun } from '../../experiments/train-run.js';
import { optimumOf, trainManifest } from '../../experiments/train-manifest.js';
import { startTrainRecord } from '../../experiments/train-record.js';
import { loadScenario, type LoadedScenario } from '../../scenarios/load.js';
import type { Scenario } from '../../scenarios/schema.js';
import { registeredArtifactFor } from '../../serving/registered-artifact.js';
import { formatNumber, integer, positiveInteger, printJson, run, table, writeFileAtomically } from '../output.js';
import { progressBar } from '../progress.js';

interface TrainCommandOptions {
  agent: string;
  config?: string;
  steps?: number;
  episodes?: number;
  seed: number;
  out?: string;
  evalEvery?: number;
  evalEpisodes: number;
  envs: number;
  exploringStarts?: ExploringStarts['windows'];
  leadIn?: 'greedy' | 'random-price';
  firstAction?: 'policy' | 'uniform';
  keepBest?: boolean;
  store: boolean;
  population: number;
  selectAfter?: number;
  chooseMargin?: number[];
  json?: boolean;
}

/** "50,100,150": candidate change margins, each a number of 0 or more. */
function marginList(value: string): number[] {
  const margins = value.split(',').map(Number);
  if (value.trim() === '' || margins.some((margin) => !Number.isFinite(margin) || margin < 0)) {
    throw new InvalidArgumentError(`expected margins of 0 or more separated by commas (e.g. 50,100,150), found "${value}"`);
  }
  return margins;
}

const leadInChoices = ['greedy', 'random-price'] as const;

/** "share:lastDays[:leadIn][,...]", e.g. "0.4:365,0.3:5:greedy" (validated again, with the horizon, by trainVector). */
function exploringStartWindows(value: string): ExploringStarts['windows'] {
  return value.split(',').map((part) => {
    const [share, lastDays, leadIn, ...rest] = part.split(':');
    const parsed = { share: Number(share), lastDays: Number(lastDays) };
    const windowLeadIn = leadInChoices.find((choice) => choice === leadIn);
    if (rest.length > 0 || share === undefined || lastDays === undefined || !Number.isFinite(parsed.share) || !Number.isInteger(parsed.lastDays) || (leadIn !== undefined && !windowLeadIn)) {
      throw new InvalidArgumentError(`expected share:lastDays pairs separated by commas, each with an optional :greedy or :random-price lead-in of its own (e.g. 0.3:365,0.6:8:greedy), found "${part}"`);
    }
    return windowLeadIn ? { ...parsed, leadIn: windowLeadIn } : parsed;
  });
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train an agent on a scenario; writes a policy artifact and a run manifest')
    .argument('<scenario>', 'built-in scenario id or path to a scenario file; a coupon scenario (festival-coupon-v1, targeted-coupon-v1 or a file with a coupons block) runs in the coupon market')
    .requiredOption('--agent <kind>', `agent kind: ${[...agentDefinitions.keys()].join(', ')}`)
    .option('--config <file>', "JSON file with the agent's config (every field documented in docs/agents/)")
    .option('--steps <n>', 'training budget in environment steps', positiveInteger)
    .option('--episodes <n>', 'training budget in episodes', positiveInteger)
    .option('--seed <n>', 'seed of the first training episode and of the agent', integer, 1)
    .option('--out <dir>', 'output folder (default $PRICELAB_HOME/runs/<scenario>-<agent>-seed<seed>-<time>)')
    .option('--eval-every <n>', 'greedy evaluation every n steps (default: 10 evaluations per run)', positiveInteger)
    .option('--eval-episodes <n>', 'episodes per evaluation', positiveInteger, 5)
    .option('--envs <n>', 'train over a vector env of n markets (batched actions where the agent has them)', positiveInteger, 1)
    .option('--exploring-starts <windows>', 'with --envs: share:lastDays pairs (e.g. 0.4:365,0.3:5:greedy): that share of episodes is learned only from a day drawn in the horizon\'s last lastDays days; a third field sets that window\'s own lead-in (greedy or random-price, else --lead-in\'s)', exploringStartWindows)
    .addOption(new Option('--lead-in <who>', 'with --exploring-starts: who prices the days before the hand-over, greedy (the agent) or random-price (one ladder price per episode)').choices(leadInChoices))
    .addOption(new Option('--first-action <who>', "with --exploring-starts: the hand-over day's action, policy (the agent's exploring choice) or uniform (a ladder price drawn uniformly)").choices(['policy', 'uniform']))
    .option('--keep-best', 'write the policy of the best greedy evaluation (model selection on the evaluation seeds), not the last; this is the default')
    .option('--no-keep-best', 'write the last policy, whatever its evaluations')
    .option('--population <k>', 'with --envs: train k members (seeds seed .. seed + k - 1) for --select-after steps each, continue the one with the best evaluation to the full budget (successive halving); implies --keep-best', positiveInteger, 1)
    .option('--select-after <n>', 'with --population: steps each member trains before the selection (default: a fifth of the budget)', positiveInteger)
    .option('--choose-margin <margins>', "with --agent dqn (or phased with a dqn finale): after training, choose the change margin among these (reward units, e.g. 50,100,150,200,300) on the evaluation seeds; the policy is written with it", marginList)
    .option('--no-store', 'do not record the run in the results store ($PRICELAB_HOME or ./.pricelab)')
    .option('--json', 'print the run manifest as JSON')
    .action(run(async (scenarioName: string, options: TrainCommandOptions) => trainCommand(scenarioName, options)));

  program
    .command('evaluate')
    .description('evaluate a policy artifact: KPIs with mean and 95% interval across episodes')
    .argument('<scenario>', 'built-in scenario id or path to a scenario file; a coupon scenario (festival-coupon-v1, targeted-coupon-v1 or a file with a coupons block) runs in the coupon market')
    .requiredOption('--policy <dir>', 'policy artifact folder (with policy.json), a registered version registry:name@version|alias (checked against the content hash recorded at registration, as is a folder inside $PRICELAB_HOME/policies), or historical:<sales file>[#<map.json>] (the shop\'s own prices replayed; docs/calibration.md)')
    .option('--episodes <n>', 'evaluation episodes', positiveInteger, 20)
    .option('--seed <n>', 'seed of the first evaluation episode', integer, evaluationSeed(1))
    .option('--json', 'print {scenario, policy, episodes, seeds, kpis: {name: {mean, sd, low, high, n}}, optimum?: {name, value, meanReward, share}, actionDays?: {"<price> + <coupon>": days}} (optimum where the scenario has a known one; actionDays for a coupon policy)')
    .action(run(async (scenarioName: string, options: { policy: string; episodes: number; seed: number; json?: boolean }) => evaluateCommand(scenarioName, options)));
}

async function trainCommand(scenarioName: string, options: TrainCommandOptions): Promise<void> {
  if (options.steps === undefined && options.episodes === undefined) {
    throw configError('no training budget', [{ path: ['steps'], message: 'expected --steps <n> or --episodes <n>, found neither' }]);
  }
  if (options.envs === 1 && (options.exploringStarts || options.population > 1)) {
    throw configError('vector-env options without a vector env', [
      { path: [options.exploringStarts ? 'exploring-starts' : 'population'], message: 'expected --envs <n> with n above 1 (the vector training loop offers it), found --envs 1' },
    ]);
  }
  // Keep-best is the default: a user expects the policy the evaluations showed best, not whatever the last step left.
  const keepBest = options.keepBest !== false;
  if (!keepBest && options.population > 1) {
    throw configError('--no-keep-best with a population', [{ path: ['keep-best'], message: "expected keep-best with --population (the selection compares the members' best evaluations), found --no-keep-best" }]);
  }
  if (options.population === 1 && options.selectAfter !== undefined) {
    throw configError('--select-after without a population', [{ path: ['select-after'], message: 'expected --population <k> with k above 1 beside it, found --population 1' }]);
  }
  if (!options.exploringStarts && (options.leadIn || options.firstAction)) {
    throw configError('exploring-start options without exploring starts', [
      { path: [options.leadIn ? 'lead-in' : 'first-action'], message: 'expected --exploring-starts <windows> beside it, found none' },
    ]);
  }
  const config = options.config ? readJsonFile(options.config, 'agent config') : {};
  const marginProblems = options.chooseMargin ? changeMarginProblems(options.agent, config, ['choose-margin']) : [];
  if (marginProblems.length > 0) throw configError('--choose-margin for an agent without a change margin', marginProblems);
  const loaded = loadScenario(couponScenarioPath(scenarioName));
  const prepared = await prepareTrainRun(loaded, { ...options, config, keepBest });
  const startedAt = new Date().toISOString();
  if (options.population > 1 && prepared.selectAfter >= prepared.totalSteps) {
    throw configError('bad population', [{ path: ['select-after'], message: `expected fewer steps than the budget (${prepared.totalSteps}), found ${prepared.selectAfter}` }]);
  }
  const recorder = options.store ? await startTrainRecord(loaded, options, config, startedAt) : undefined;
  try {
    const progress = progressBar(prepared.progressSteps, 'steps', options.json === true);
    const out = resolve(options.out ?? join(process.env.PRICELAB_HOME ?? '.pricelab', 'runs', `${loaded.scenario.id}-${options.agent}-seed${options.seed}-${startedAt.replace(/[:.]/g, '-')}`));
    const outcome = await prepared.run(out, {
      progress: (done, lastEpisodeReward) => progress.update(Math.min(prepared.progressSteps, done), lastEpisodeReward === undefined ? '' : `last episode reward ${formatNumber(lastEpisodeReward)}`),
      evaluation: (point, at) =>
        progress.log(`${at.member === undefined ? '' : `member ${at.member + 1}${at.continued ? ' continued' : ''}, `}step ${at.steps}: greedy evaluation, mean reward ${formatNumber(point.meanReward)} over ${point.rewards.length} episodes`),
      memberStarted: (member) => progress.log(`population member ${member.index + 1} of ${member.members} (seed ${member.seed}): ${member.steps} steps`),
      selected: ({ winner, seed, trialBest }) => progress.log(`selected member ${winner + 1} (seed ${seed}): best evaluations ${trialBest.map((value) => formatNumber(value)).join(', ')}`),
      kept: (best) => {
        progress.stop();
        progress.log(`kept the best greedy evaluation: step ${best.point.steps}, mean reward ${formatNumber(best.point.meanReward)}`);
      },
      marginChosen: (selection) => progress.log(`chose change margin ${selection.margin} on the evaluation seeds: ${selection.candidates.map((candidate) => `${candidate.margin} -> ${formatNumber(candidate.meanReward)}`).join(', ')}`),
    });
    progress.stop();
    const { result, written } = outcome;
    const best = result.best;
    const manifest = trainManifest({ loaded, options, outcome, startedAt, endedAt: new Date().toISOString() });
    writeFileAtomically(join(out, 'run.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    const runId = await recorder?.finish(manifest, written?.episodes ?? []);
    if (options.json) printJson(runId === undefined ? manifest : { ...manifest, runId });
    else {
      const optimum = optimumOf(loaded.scenario);
      const lines = [`trained ${options.agent} on ${loaded.scenario.id}: ${trainingCounts(result)} in ${result.seconds.toFixed(1)} s`];
      if (written) {
        const share = optimum === undefined ? '' : ` (${formatNumber(100 * (written.meanReward / optimum.value), 1)}% of the ${optimum.name} ${formatNumber(optimum.value, 4)})`;
        lines.push(`${best ? `kept the best evaluation (step ${formatNumber(best.point.steps)} of ${formatNumber(result.steps)})` : 'wrote the last policy'}: mean reward ${formatNumber(written.meanReward)} over ${written.rewards.length} evaluation episodes${share}`);
      }
      lines.push(`policy: ${outcome.policyFolder}`, `run manifest: ${join(out, 'run.json')}`);
      if (runId !== undefined) lines.push(`run: ${runId} (pricelab runs show ${runId})`);
      process.stdout.write(`${lines.join('\n')}\n`);
    }
  } catch (error) {
    await recorder?.fail(error);
    throw error;
  }
}

/** What the loop counted: steps learned from, whole episodes and, with exploring starts, the late hand-overs and their lead-in days. */
export function trainingCounts(result: { steps: number; episodes: number; leadInSteps?: number | undefined; lateStartEpisodes?: number | undefined }): string {
  const plural = (count: number, word: string) => `${formatNumber(count)} ${word}${count === 1 ? '' : 's'}`;
  if (result.lateStartEpisodes === undefined || (result.lateStartEpisodes === 0 && (result.leadInSteps ?? 0) === 0)) return `${plural(result.steps, 'step')}, ${plural(result.episodes, 'episode')}`;
  return [
    `${plural(result.steps, 'step')} learned from: ${plural(result.episodes, 'whole episode')} (from day 0)`,
    `${plural(result.lateStartEpisodes, 'late hand-over')} (episodes learned from a late day on; their ${plural(result.leadInSteps ?? 0, 'lead-in day')} priced, not learned from)`,
  ].join(', ');
}

async function evaluateCommand(scenarioName: string, options: { policy: string; episodes: number; seed: number; json?: boolean }): Promise<void> {
  const loaded = loadScenario(couponScenarioPath(scenarioName));
  // A coupon scenario plays in the coupon market (env/coupons/coupon-env.ts), the others in the day kernel.
  const env: AgentEnv = loaded.scenario.coupons !== undefined ? new CouponEnv(loaded.scenario) : makeEnv(buildMarketModel(loaded.scenario));
  const { agent, identity } = options.policy.startsWith(historicalPrefix)
    ? await historicalPolicyFor(env, loaded.scenario, options.policy, options.seed)
    : await artifactPolicyFor(env, loaded, options.policy, options.seed);
  const coupons = env instanceof CouponEnv;
  const episodes = evaluate(env, agent, { episodes: options.episodes, seed: options.seed, recordSteps: coupons });
  agent.dispose();
  // A coupon policy's greedy actions by name: days at each price and coupon, over every episode.
  const actionDays: Record<string, number> = {};
  for (const episode of coupons ? episodes : []) {
    for (const step of episode.steps as CouponEnvStepInfo[]) {
      const name = `${step.price} + ${step.coupon.campaignName}`;
      actionDays[name] = (actionDays[name] ?? 0) + 1;
    }
  }
  const summary = summariseKpis(episodes.map((episode) => episode.kpis));
  const optimum = optimumOf(loaded.scenario);
  const meanReward = episodes.reduce((total, episode) => total + episode.totalReward, 0) / Math.max(1, episodes.length);
  const ofOptimum = optimum === undefined ? undefined : { name: optimum.name, value: optimum.value, meanReward, share: meanReward / optimum.value };
  if (options.json) {
    printJson({
      scenario: loaded.scenario.id,
      policy: identity,
      episodes: episodes.length,
      seeds: episodes.map((episode) => episode.seed),
      kpis: summary,
      ...(ofOptimum ? { optimum: ofOptimum } : {}),
      ...(coupons ? { actionDays } : {}),
    });
    return;
  }
  const rows = [['KPI', 'mean', '95% interval', 'sd']];
  for (const [key, value] of Object.entries(summary)) if (value) rows.push([key, formatNumber(value.mean), `${formatNumber(value.low)} .. ${formatNumber(value.high)}`, formatNumber(value.sd)]);
  const optimumLine = ofOptimum ? `\nmean total reward ${formatNumber(meanReward, 4)}: ${formatNumber(100 * ofOptimum.share, 1)}% of the ${ofOptimum.name} ${formatNumber(ofOptimum.value, 4)}\n` : '';
  const actionLine = coupons ? `\ngreedy price + coupon, days: ${Object.entries(actionDays).map(([name, days]) => `${name}: ${days}`).join(', ')}\n` : '';
  process.stdout.write(`${identity.name} (${identity.agentKind}) on ${loaded.scenario.id}, ${episodes.length} episodes from seed ${options.seed}\n\n${table(rows)}\n${optimumLine}${actionLine}`);
}

/** A policy artifact folder or registered version, checked against the scenario (features, ladder), as an agent. */
async function artifactPolicyFor(env: AgentEnv, loaded: LoadedScenario, policy: string, seed: number) {
  // A registered version (registry:name@version, or its folder in the home) must still have the content hash its registry row records.
  const registered = await registeredArtifactFor(policy);
  const artifact = registered ? readArtifact(registered.folder, registered.expected) : readArtifact(policy);
  const expected = env.observationSpace.featureNames;
  const found = artifact.manifest.observation.features.map((feature) => feature.name);
  if (expected.join('\n') !== found.join('\n')) {
    throw configError(`the policy was trained on ${artifact.manifest.scenario.id} and does not fit ${loaded.scenario.id}`, [
      { path: ['observation', 'features'], message: `expected ${expected.length} features (${expected.join(', ')}), found ${found.length} (${found.join(', ')})` },
    ]);
  }
  const ladderLength = env instanceof CouponEnv ? env.prices.length : env.model.ladder.length;
  if (artifact.manifest.action.ladder.length !== ladderLength) {
    throw configError('the policy has another price ladder', [{ path: ['action', 'ladder'], message: `expected ${ladderLength} prices, found ${artifact.manifest.action.ladder.length}` }]);
  }
  const campaigns = env instanceof CouponEnv ? env.menu.campaigns.map((campaign) => campaign.name) : [];
  const declared = artifact.manifest.action.coupons?.campaigns.map((campaign) => campaign.name) ?? [];
  if (campaigns.join('\n') !== declared.join('\n')) {
    throw configError(`the policy's coupon menu does not fit ${loaded.scenario.id}`, [
      { path: ['action', 'coupons'], message: `expected ${campaigns.length > 0 ? `the campaigns ${campaigns.join(', ')}` : 'no coupons (the scenario has none)'}, found ${declared.length > 0 ? declared.join(', ') : 'none'}` },
    ]);
  }
  const agent = await restoredAgentFor(env, { kind: artifact.manifest.agentKind, config: artifact.manifest.agentConfig, files: artifact.files }, seed);
  return { agent, identity: { name: artifact.manifest.name, version: artifact.manifest.version, agentKind: artifact.manifest.agentKind } };
}

/** `historical:<sales file>[#<map.json>]`: the shop's own prices replayed (calibration/historical.ts); its version is the file's sha256. */
async function historicalPolicyFor(env: AgentEnv, scenario: Scenario, policy: string, seed: number) {
  const config = await readHistoricalPolicy(policy, historicalOptionsFor(scenario));
  const agent = await agentFor(env, historicalKind, config, seed);
  return { agent, identity: { name: policy, version: `sha256:${config.source.sha256}`, agentKind: historicalKind } };
}

