/**
 * The run manifest of a `pricelab train` run (run.json, and the run's record in the results
 * store): the command line's options (how it was trained), the scenario, the agent and its
 * config as written, the seeds, the code version, the times and the metrics (Stable-Baselines3's
 * namespaced keys: train/, time/, rollout/, eval/, population/).
 */
import { codeVersion } from '../agents/artifact.js';
import { oracleOf } from '../env/benchmarks.js';
import { PricelabError } from '../core/errors.js';
import type { LoadedScenario } from '../scenarios/load.js';
import type { Scenario } from '../scenarios/schema.js';
import { evaluationSeed } from '../core/seeds.js';
import type { TrainRunOutcome } from './train-run.js';

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

export function trainManifest(run: {
  loaded: LoadedScenario;
  /** The command line's options, as parsed. */
  options: { readonly agent: string; readonly seed: number };
  outcome: TrainRunOutcome;
  startedAt: string;
  endedAt: string;
}) {
  const { loaded, options, outcome } = run;
  const { result, written, marginSelection, population } = outcome;
  const best = result.best;
  const optimum = optimumOf(loaded.scenario);
  return {
    // The run's parameters: the command line's options, so the record says how it was trained.
    command: 'train',
    options: { ...options },
    scenario: { id: loaded.scenario.id, contentHash: loaded.contentHash },
    agent: { kind: options.agent, config: outcome.exported.config },
    seeds: { training: outcome.trainingSeed, evaluation: evaluationSeed(options.seed) },
    codeVersion,
    startedAt: run.startedAt,
    endedAt: run.endedAt,
    status: 'finished',
    policy: outcome.policyFolder,
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
}

export type TrainManifest = ReturnType<typeof trainManifest>;
