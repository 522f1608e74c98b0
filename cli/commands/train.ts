/**
 * `pricelab train`: train an agent on a scenario with a progress bar and periodic greedy
 * evaluations, then write its policy artifact and a run manifest.
 * `pricelab evaluate`: load a policy artifact (integrity-checked) and report its KPIs with
 * means and 95% intervals across evaluation episodes.
 */
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { buildArtifact, codeVersion, embeddedScenarioOf, readArtifact, writeArtifact } from '../../agents/artifact.js';
import { agentDefinitions } from '../../agents/registry.js';
import { historicalKind } from '../../agents/historical.js';
import { historicalOptionsFor, historicalPrefix, readHistoricalPolicy } from '../../calibration/historical.js';
import { makeEnv } from '../../env/env.js';
import { configError } from '../../core/errors.js';
import { buildMarketModel } from '../../env/model.js';
import { buildObservationFeatures } from '../../env/observation.js';
import { agentFor, restoredAgentFor } from '../../experiments/setup.js';
import { readJsonFile } from '../../core/json-file.js';
import { summariseKpis } from '../../experiments/summary.js';
import { evaluate, train, trainVector, type ExploringStarts, type TrainResult, type VectorTrainResult } from '../../experiments/train.js';
import { VectorEnv } from '../../env/vector-env.js';
import { trainPopulation } from '../../experiments/population.js';
import { changeMarginProblems, chooseChangeMargin, type MarginSelection } from '../../experiments/margin-selection.js';
import { loadScenario, type LoadedScenario } from '../../scenarios/load.js';
import type { Scenario } from '../../scenarios/schema.js';
import { oracleOf } from '../../env/benchmarks.js';
import { PricelabError } from '../../core/errors.js';
import { ResultsStore, trainingExperiment, type MetricValue } from '../../experiments/store.js';
import { registeredArtifactFor } from '../../serving/registered-artifact.js';
import type { EpisodeKpis } from '../../env/kpis.js';
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
    .argument('<scenario>', 'built-in scenario id or path to a scenario file')
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
    .argument('<scenario>', 'built-in scenario id or path to a scenario file')
    .requiredOption('--policy <dir>', 'policy artifact folder (with policy.json), a registered version registry:name@version|alias (checked against the content hash recorded at registration, as is a folder inside $PRICELAB_HOME/policies), or historical:<sales file>[#<map.json>] (the shop\'s own prices replayed; docs/calibration.md)')
    .option('--episodes <n>', 'evaluation episodes', positiveInteger, 20)
    .option('--seed <n>', 'seed of the first evaluation episode', integer, 1_000_001)
    .option('--json', 'print {scenario, policy, episodes, seeds, kpis: {name: {mean, sd, low, high, n}}, optimum?: {name, value, meanReward, share}} (optimum where the scenario has a known one)')
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
  const loaded = loadScenario(scenarioName);
  const model = buildMarketModel(loaded.scenario);
  const env = makeEnv(model);
  const evaluationEnv = makeEnv(model);
  let agent = await agentFor(env, options.agent, config, options.seed);
  let trainingSeed = options.seed;
  let population: { winner: number; trialBest: number[]; totalSteps: number } | undefined;
  const startedAt = new Date().toISOString();
  const totalSteps = options.steps ?? options.episodes! * model.horizon;
  const evaluateEvery = options.evalEvery ?? Math.max(1, Math.floor(totalSteps / 10));
  const selectAfter = options.selectAfter ?? Math.max(1, Math.floor(totalSteps / 5));
  if (options.population > 1 && selectAfter >= totalSteps) {
    throw configError('bad population', [{ path: ['select-after'], message: `expected fewer steps than the budget (${totalSteps}), found ${selectAfter}` }]);
  }
  // With a population, the bar counts every member's trial, then the winner's continuation.
  const progressSteps = options.population > 1 ? options.population * selectAfter + totalSteps - selectAfter : totalSteps;
  const recorder = options.store ? startRunRecord(loaded, options, config, startedAt) : undefined;
  try {
    const progress = progressBar(progressSteps, 'steps', options.json === true);
    const result: TrainResult & Partial<Pick<VectorTrainResult, 'leadInSteps' | 'lateStartEpisodes'>> = options.envs > 1 ? await trainOverVector() : await train(env, agent, {
      ...(options.steps === undefined ? {} : { steps: options.steps }),
      ...(options.episodes === undefined ? {} : { episodes: options.episodes }),
      seed: options.seed,
      evaluateEvery,
      evaluationEpisodes: options.evalEpisodes,
      evaluationEnv,
      keepBest,
      onProgress: (state) => progress.update(Math.min(totalSteps, state.steps), state.lastEpisodeReward === undefined ? '' : `last episode reward ${formatNumber(state.lastEpisodeReward)}`),
      onEvaluation: (point) => progress.log(`step ${point.steps}: greedy evaluation, mean reward ${formatNumber(point.meanReward)} over ${point.rewards.length} episodes`),
    });
    /** The vector loop's options; `stepsDone` places its progress on the bar, `label` and `runOffset` its evaluations in the member's run. */
    function vectorOptions(seed: number, keepBest: boolean, stepsDone = 0, label = '', runOffset = 0) {
      return {
        ...(options.exploringStarts ? { exploringStarts: { windows: options.exploringStarts, leadIn: options.leadIn ?? 'greedy', firstAction: options.firstAction ?? 'policy', seed } } : {}),
        evaluation: { every: evaluateEvery, env: evaluationEnv, episodes: options.evalEpisodes, seed: 1_000_000 + options.seed, keepBest },
        onProgress: (state: { steps: number; lastEpisodeReward: number | undefined }) =>
          progress.update(Math.min(progressSteps, stepsDone + state.steps), state.lastEpisodeReward === undefined ? '' : `last episode reward ${formatNumber(state.lastEpisodeReward)}`),
        onEvaluation: (point: { steps: number; meanReward: number; rewards: readonly number[] }) =>
          progress.log(`${label}step ${runOffset + point.steps}: greedy evaluation, mean reward ${formatNumber(point.meanReward)} over ${point.rewards.length} episodes`),
      };
    }
    async function trainOverVector() {
      if (options.population === 1) return trainVector(new VectorEnv(model, { count: options.envs, seed: options.seed }), agent, { steps: totalSteps, ...vectorOptions(options.seed, keepBest) });
      const members = options.population;
      const memberAgents: typeof agent[] = [];
      const result = await trainPopulation({
        members,
        selectAfter,
        steps: totalSteps,
        createMember: async (index) => {
          const memberAgent = index === 0 ? agent : await agentFor(env, options.agent, config, options.seed + index);
          memberAgents.push(memberAgent);
          progress.log(`population member ${index + 1} of ${members} (seed ${options.seed + index}): ${selectAfter} steps`);
          return { agent: memberAgent, env: new VectorEnv(model, { count: options.envs, seed: options.seed + index }) };
        },
        continuationEnv: (index) => new VectorEnv(model, { count: options.envs, seed: options.seed + index + members }),
        training: (index, phase) => (phase === 'trial' ? vectorOptions(options.seed + index, true, index * selectAfter, `member ${index + 1}, `) : vectorOptions(options.seed + index + members, true, members * selectAfter, `member ${index + 1} continued, `, selectAfter)),
        onSelection: ({ winner, trialBest }) =>
          progress.log(`selected member ${winner + 1} (seed ${options.seed + winner}): best evaluations ${trialBest.map((value) => formatNumber(value)).join(', ')}`),
      });
      population = { winner: result.winner, trialBest: result.trials.map((trial) => trial.best?.point.meanReward ?? Number.NaN), totalSteps: result.totalSteps };
      trainingSeed = options.seed + result.winner;
      agent = memberAgents[result.winner]!;
      const trial = result.trials[result.winner]!;
      const continuation = result.continuation;
      return {
        steps: trial.steps + continuation.steps,
        episodes: trial.episodes + continuation.episodes,
        episodeRewards: [...trial.episodeRewards, ...continuation.episodeRewards],
        evaluations: [...trial.evaluations, ...continuation.evaluations.map((point) => ({ ...point, steps: point.steps + selectAfter }))],
        seconds: result.trials.reduce((total, run) => total + run.seconds, 0) + continuation.seconds,
        leadInSteps: trial.leadInSteps + continuation.leadInSteps,
        lateStartEpisodes: trial.lateStartEpisodes + continuation.lateStartEpisodes,
        best: result.best === continuation.best ? { ...result.best, point: { ...result.best.point, steps: result.best.point.steps + selectAfter } } : result.best,
      };
    }
    progress.stop();
    const out = resolve(options.out ?? join(process.env.PRICELAB_HOME ?? '.pricelab', 'runs', `${loaded.scenario.id}-${options.agent}-seed${options.seed}-${startedAt.replace(/[:.]/g, '-')}`));
    const best = result.best;
    if (best) progress.log(`kept the best greedy evaluation: step ${best.point.steps}, mean reward ${formatNumber(best.point.meanReward)}`);
    /** The evaluation of the policy written (the best kept, else the last), before any margin choice. */
    const written = best?.point ?? result.evaluations.at(-1);
    const optimum = optimumOf(loaded.scenario);
    let exported = best ? best.exported : await agent.export();
    let marginSelection: MarginSelection | undefined;
    if (options.chooseMargin) {
      marginSelection = await chooseChangeMargin({ exported, env: evaluationEnv, episodes: options.evalEpisodes, seed: 1_000_000 + options.seed, margins: options.chooseMargin });
      exported = marginSelection.exported;
      progress.log(`chose change margin ${marginSelection.margin} on the evaluation seeds: ${marginSelection.candidates.map((candidate) => `${candidate.margin} -> ${formatNumber(candidate.meanReward)}`).join(', ')}`);
    }
    const features = buildObservationFeatures(model);
    const artifact = buildArtifact(exported, {
      name: `${loaded.scenario.id}-${options.agent}`,
      scenario: embeddedScenarioOf(loaded),
      features,
      ladder: model.ladder,
      training: { steps: result.steps, episodes: result.episodes, seconds: result.seconds, lastEvaluation: (best?.point ?? result.evaluations.at(-1))?.meanReward ?? null },
      seeds: [trainingSeed],
    });
    const policyFolder = writeArtifact(join(out, 'policy'), artifact);
    agent.dispose();
    const manifest = {
      // The run's parameters: the command line's options, so the record says how it was trained.
      command: 'train',
      options: { ...options },
      scenario: { id: loaded.scenario.id, contentHash: loaded.contentHash },
      agent: { kind: options.agent, config: exported.config },
      seeds: { training: trainingSeed, evaluation: 1_000_000 + options.seed },
      codeVersion,
      startedAt,
      endedAt: new Date().toISOString(),
      status: 'finished',
      policy: policyFolder,
      metrics: {
        'train/steps': result.steps,
        'train/episodes': result.episodes,
        'time/seconds': result.seconds,
        'time/stepsPerSecond': result.steps / Math.max(1e-9, result.seconds),
        'rollout/lastEpisodeReward': result.episodeRewards.at(-1) ?? null,
        'eval/meanReward': written?.meanReward ?? null,
        'eval/lastMeanReward': result.evaluations.at(-1)?.meanReward ?? null,
        ...(optimum === undefined || written === undefined ? {} : { 'eval/optimalValue': optimum.value, 'eval/shareOfOptimum': written.meanReward / optimum.value }),
        'eval/curve': result.evaluations.map((point) => ({ steps: point.steps, meanReward: point.meanReward })),
        ...(best ? { 'eval/bestSteps': best.point.steps, 'eval/bestMeanReward': best.point.meanReward } : {}),
        ...(result.leadInSteps === undefined ? {} : { 'train/leadInSteps': result.leadInSteps }),
        ...(result.lateStartEpisodes === undefined ? {} : { 'train/lateStartEpisodes': result.lateStartEpisodes }),
        ...(marginSelection ? { 'eval/changeMargin': marginSelection.margin, 'eval/marginCandidates': marginSelection.candidates } : {}),
        ...(population ? { 'population/winner': population.winner, 'population/trialBestMeanReward': population.trialBest, 'population/totalSteps': population.totalSteps } : {}),
      },
    };
    writeFileAtomically(join(out, 'run.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    const runId = recorder?.finish(manifest, written?.episodes ?? []);
    if (options.json) printJson(runId === undefined ? manifest : { ...manifest, runId });
    else {
      const lines = [`trained ${options.agent} on ${loaded.scenario.id}: ${trainingCounts(result)} in ${result.seconds.toFixed(1)} s`];
      if (written) {
        const share = optimum === undefined ? '' : ` (${formatNumber(100 * (written.meanReward / optimum.value), 1)}% of the ${optimum.name} ${formatNumber(optimum.value, 4)})`;
        lines.push(`${best ? `kept the best evaluation (step ${formatNumber(best.point.steps)} of ${formatNumber(result.steps)})` : 'wrote the last policy'}: mean reward ${formatNumber(written.meanReward)} over ${written.rewards.length} evaluation episodes${share}`);
      }
      lines.push(`policy: ${policyFolder}`, `run manifest: ${join(out, 'run.json')}`);
      if (runId !== undefined) lines.push(`run: ${runId} (pricelab runs show ${runId})`);
      process.stdout.write(`${lines.join('\n')}\n`);
    }
  } catch (error) {
    recorder?.fail(error);
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

/** The scenario's known optimum, when it has one: the DP optimum of a finite-stock scenario (env/benchmarks.ts). */
export function optimumOf(scenario: Scenario): { name: string; value: number } | undefined {
  try {
    const value = oracleOf(scenario).optimalValue;
    return Number.isFinite(value) && value > 0 ? { name: 'DP optimum', value } : undefined;
  } catch (error) {
    if (error instanceof PricelabError && error.kind === 'config') return undefined;
    throw error;
  }
}

/**
 * The run's record in the results store (experiment "train"): registered as running when
 * training starts; finished with its manifest, metrics (the evaluation curve as JSON) and the
 * written policy's evaluation episodes in one transaction, or marked failed with the error.
 */
function startRunRecord(loaded: LoadedScenario, options: TrainCommandOptions, config: unknown, startedAt: string) {
  const id = `train-${loaded.scenario.id}-${options.agent}-seed${options.seed}-${startedAt.replace(/[-:.TZ]/g, '').slice(0, 17)}-${randomUUID().slice(0, 4)}`;
  const withStore = <T>(action: (store: ResultsStore) => T): T => {
    const store = ResultsStore.open();
    try {
      return action(store);
    } finally {
      store.close();
    }
  };
  withStore((store) => {
    store.registerRuns([
      {
        id,
        experiment: trainingExperiment,
        scenario: { id: loaded.scenario.id, contentHash: loaded.contentHash },
        agent: { name: options.agent, kind: options.agent, config },
        seed: options.seed,
        manifest: { command: 'train', options: { ...options } },
      },
    ]);
    store.markRunning(id);
  });
  return {
    id,
    finish(manifest: { metrics: Record<string, unknown> }, episodes: readonly { seed: number; totalReward: number; kpis: EpisodeKpis }[]): string {
      const metrics: Record<string, MetricValue> = {};
      for (const [key, value] of Object.entries(manifest.metrics)) metrics[key] = typeof value === 'number' || value === null ? value : { json: value };
      withStore((store) =>
        store.finishRun(id, {
          manifest,
          metrics,
          evaluations: episodes.map((episode, index) => ({ episode: index, seed: episode.seed, totalReward: episode.totalReward, kpis: { ...episode.kpis } as Record<string, number | null> })),
        }),
      );
      return id;
    },
    fail(error: unknown): void {
      try {
        withStore((store) => store.markFailed(id, error instanceof Error ? error.message : String(error)));
      } catch {
        // The run's own error is the one to report.
      }
    },
  };
}

async function evaluateCommand(scenarioName: string, options: { policy: string; episodes: number; seed: number; json?: boolean }): Promise<void> {
  const loaded = loadScenario(scenarioName);
  const model = buildMarketModel(loaded.scenario);
  const env = makeEnv(model);
  const { agent, identity } = options.policy.startsWith(historicalPrefix)
    ? await historicalPolicyFor(env, loaded.scenario, options.policy, options.seed)
    : await artifactPolicyFor(env, loaded, model.ladder.length, options.policy, options.seed);
  const episodes = evaluate(env, agent, { episodes: options.episodes, seed: options.seed });
  agent.dispose();
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
    });
    return;
  }
  const rows = [['KPI', 'mean', '95% interval', 'sd']];
  for (const [key, value] of Object.entries(summary)) if (value) rows.push([key, formatNumber(value.mean), `${formatNumber(value.low)} .. ${formatNumber(value.high)}`, formatNumber(value.sd)]);
  const optimumLine = ofOptimum ? `\nmean total reward ${formatNumber(meanReward, 4)}: ${formatNumber(100 * ofOptimum.share, 1)}% of the ${ofOptimum.name} ${formatNumber(ofOptimum.value, 4)}\n` : '';
  process.stdout.write(`${identity.name} (${identity.agentKind}) on ${loaded.scenario.id}, ${episodes.length} episodes from seed ${options.seed}\n\n${table(rows)}\n${optimumLine}`);
}

/** A policy artifact folder or registered version, checked against the scenario (features, ladder), as an agent. */
async function artifactPolicyFor(env: ReturnType<typeof makeEnv>, loaded: LoadedScenario, ladderLength: number, policy: string, seed: number) {
  // A registered version (registry:name@version, or its folder in the home) must still have the content hash its registry row records.
  const registered = registeredArtifactFor(policy);
  const artifact = registered ? readArtifact(registered.folder, registered.expected) : readArtifact(policy);
  const expected = env.observationSpace.featureNames;
  const found = artifact.manifest.observation.features.map((feature) => feature.name);
  if (expected.join('\n') !== found.join('\n')) {
    throw configError(`the policy was trained on ${artifact.manifest.scenario.id} and does not fit ${loaded.scenario.id}`, [
      { path: ['observation', 'features'], message: `expected ${expected.length} features (${expected.join(', ')}), found ${found.length} (${found.join(', ')})` },
    ]);
  }
  if (artifact.manifest.action.ladder.length !== ladderLength) {
    throw configError('the policy has another price ladder', [{ path: ['action', 'ladder'], message: `expected ${ladderLength} prices, found ${artifact.manifest.action.ladder.length}` }]);
  }
  const agent = await restoredAgentFor(env, { kind: artifact.manifest.agentKind, config: artifact.manifest.agentConfig, files: artifact.files }, seed);
  return { agent, identity: { name: artifact.manifest.name, version: artifact.manifest.version, agentKind: artifact.manifest.agentKind } };
}

/** `historical:<sales file>[#<map.json>]`: the shop's own prices replayed (calibration/historical.ts); its version is the file's sha256. */
async function historicalPolicyFor(env: ReturnType<typeof makeEnv>, scenario: Scenario, policy: string, seed: number) {
  const config = await readHistoricalPolicy(policy, historicalOptionsFor(scenario));
  const agent = await agentFor(env, historicalKind, config, seed);
  return { agent, identity: { name: policy, version: `sha256:${config.source.sha256}`, agentKind: historicalKind } };
}

