/**
 * One `pricelab train` run, apart from its flags and its printing: train an agent on a
 * scenario (one market, a vector of markets, or a population of them), with greedy
 * evaluations on the evaluation seeds, keep-best, exploring starts and the margin choice as
 * training callbacks; then write the policy artifact. The command (cli/commands/train.ts)
 * parses flags, formats the events below, writes the manifest (train-manifest.ts) and prints.
 *
 * Seeds: the agent and the first training episode have `seed`; evaluations run on
 * evaluationSeed(seed) upward (core/seeds.ts). A vector run's markets have seed `seed`; population
 * member i trains with seed + i on markets seeded seed + i, and the winner continues on markets
 * seeded seed + i + members.
 */
import { join } from 'node:path';
import type { Agent, AgentExport } from '../agents/agent.js';
import { buildArtifact, embeddedScenarioOf, writeArtifact } from '../agents/artifact.js';
import { makeEnv, type TimeLimit } from '../env/env.js';
import { buildMarketModel, type MarketModel } from '../env/model.js';
import type { CouponModel } from '../env/coupons/coupon-model.js';
import { buildObservationFeatures } from '../env/observation.js';
import { VectorEnv } from '../env/vector-env.js';
import type { LoadedScenario } from '../scenarios/load.js';
import type { EvaluationPoint } from './evaluation-callback.js';
import type { ExploringStarts } from './exploring-starts.js';
import { MarginChoiceCallback, type MarginSelection } from './margin-selection.js';
import { mergedPopulationRun, trainPopulation } from './population.js';
import { evaluationSeed } from '../core/seeds.js';
import { agentFor } from './setup.js';
import { prepareCouponTrainRun } from './coupon-train-run.js';
import { train, trainVector, type TrainResult, type VectorTrainOptions, type VectorTrainResult } from './train.js';
import { CallbackList, type KeptPolicy, type TrainingCallback } from './training-callback.js';

export interface TrainRunSettings {
  agent: string;
  config: unknown;
  seed: number;
  steps?: number | undefined;
  episodes?: number | undefined;
  /** Greedy evaluation every this many steps (default: 10 evaluations per run). */
  evalEvery?: number | undefined;
  evalEpisodes: number;
  /** Markets in lockstep; 1 trains on a single env. */
  envs: number;
  exploringStarts?: ExploringStarts['windows'] | undefined;
  leadIn?: 'greedy' | 'random-price' | undefined;
  firstAction?: 'policy' | 'uniform' | undefined;
  keepBest: boolean;
  population: number;
  selectAfter?: number | undefined;
  chooseMargin?: readonly number[] | undefined;
}

/** What a run reports while it trains; a member's evaluation steps count in the member's whole run. */
export interface TrainRunEvents {
  progress?(done: number, lastEpisodeReward: number | undefined): void;
  evaluation?(point: EvaluationPoint, at: { steps: number; member?: number; continued?: boolean }): void;
  memberStarted?(member: { index: number; members: number; seed: number; steps: number }): void;
  selected?(selection: { winner: number; seed: number; trialBest: readonly number[] }): void;
  /** The policy keep-best kept, before any margin choice. */
  kept?(best: KeptPolicy): void;
  marginChosen?(selection: MarginSelection): void;
}

export type TrainRunResult = TrainResult & Partial<Pick<VectorTrainResult, 'leadInSteps' | 'lateStartEpisodes'>>;

export interface TrainRunOutcome {
  /** The day kernel's model, or the coupon market's on a coupon scenario (coupon-train-run.ts). */
  model: MarketModel | CouponModel;
  result: TrainRunResult;
  /** The seed of the agent written (a population's winner's). */
  trainingSeed: number;
  population?: { winner: number; trialBest: number[]; totalSteps: number };
  marginSelection?: MarginSelection;
  /** The export written: keep-best's (else the last), with the chosen margin. */
  exported: AgentExport;
  /** The evaluation of the policy written (the best kept, else the last), before any margin choice. */
  written: EvaluationPoint | undefined;
  /** The policy artifact's folder. */
  policyFolder: string;
}

/** A run ready to train: its market model, its agent (the config checked), its budget. */
export interface PreparedTrainRun {
  readonly model: MarketModel | CouponModel;
  /** The budget in observed steps (episodes x horizon for an episode budget). */
  readonly totalSteps: number;
  /** With a population: the steps each member trains before the selection. */
  readonly selectAfter: number;
  /** The steps a progress bar counts: with a population, every member's trial and the winner's continuation. */
  readonly progressSteps: number;
  /** Trains, chooses, writes the policy artifact under `out`/policy; disposes of the agent. */
  run(out: string, events?: TrainRunEvents): Promise<TrainRunOutcome>;
}

/** Builds the market and the agent (refusing a bad config before anything is recorded); a coupon scenario trains in the coupon market. */
export async function prepareTrainRun(loaded: LoadedScenario, settings: TrainRunSettings): Promise<PreparedTrainRun> {
  if (loaded.scenario.coupons !== undefined) return prepareCouponTrainRun(loaded, settings);
  const model = buildMarketModel(loaded.scenario);
  const env = makeEnv(model);
  const evaluationEnv = makeEnv(model);
  const agent = await agentFor(env, settings.agent, settings.config, settings.seed);
  const totalSteps = settings.steps ?? settings.episodes! * model.horizon;
  const selectAfter = settings.selectAfter ?? Math.max(1, Math.floor(totalSteps / 5));
  const progressSteps = settings.population > 1 ? settings.population * selectAfter + totalSteps - selectAfter : totalSteps;
  return { model, totalSteps, selectAfter, progressSteps, run: (out, events = {}) => trainRun({ loaded, settings, model, env, evaluationEnv, agent, totalSteps, selectAfter }, out, events) };
}

async function trainRun(
  prepared: { loaded: LoadedScenario; settings: TrainRunSettings; model: MarketModel; env: TimeLimit; evaluationEnv: TimeLimit; agent: Agent; totalSteps: number; selectAfter: number },
  out: string,
  events: TrainRunEvents,
): Promise<TrainRunOutcome> {
  const { loaded, settings, model, env, evaluationEnv, totalSteps, selectAfter } = prepared;
  const evaluateEvery = settings.evalEvery ?? Math.max(1, Math.floor(totalSteps / 10));
  const seeds = { evaluation: evaluationSeed(settings.seed) };
  // After training (and after the last evaluation): report the policy kept, then choose its margin.
  const kept: TrainingCallback = { onTrainingEnd: (end) => void (end.best && events.kept?.(end.best)) };
  const margin = settings.chooseMargin
    ? new MarginChoiceCallback({ env: evaluationEnv, episodes: settings.evalEpisodes, seed: seeds.evaluation, margins: settings.chooseMargin }, (selection) => events.marginChosen?.(selection))
    : undefined;
  const endOfRun = [kept, margin];

  let agent = prepared.agent;
  let trainingSeed = settings.seed;
  let population: TrainRunOutcome['population'];
  let result: TrainRunResult;
  try {
    if (settings.envs === 1) {
      result = await train(env, agent, {
        ...(settings.steps === undefined ? {} : { steps: settings.steps }),
        ...(settings.episodes === undefined ? {} : { episodes: settings.episodes }),
        seed: settings.seed,
        evaluateEvery,
        evaluationEpisodes: settings.evalEpisodes,
        evaluationEnv,
        keepBest: settings.keepBest,
        onProgress: (state) => events.progress?.(state.steps, state.lastEpisodeReward),
        onEvaluation: (point) => events.evaluation?.(point, { steps: point.steps }),
        callbacks: endOfRun.filter((callback) => callback !== undefined),
      });
    } else if (settings.population === 1) {
      result = await trainVector(new VectorEnv(model, { count: settings.envs, seed: settings.seed }), agent, {
        steps: totalSteps,
        ...vectorOptions(settings.seed, settings.keepBest),
        callbacks: endOfRun.filter((callback) => callback !== undefined),
      });
    } else {
      const members = settings.population;
      const memberAgents: Agent[] = [];
      const run = await trainPopulation({
        members,
        selectAfter,
        steps: totalSteps,
        createMember: async (index) => {
          const memberAgent = index === 0 ? agent : await agentFor(env, settings.agent, settings.config, settings.seed + index);
          memberAgents.push(memberAgent);
          events.memberStarted?.({ index, members, seed: settings.seed + index, steps: selectAfter });
          return { agent: memberAgent, env: new VectorEnv(model, { count: settings.envs, seed: settings.seed + index }) };
        },
        continuationEnv: (index) => new VectorEnv(model, { count: settings.envs, seed: settings.seed + index + members }),
        training: (index, phase) =>
          phase === 'trial' ? vectorOptions(settings.seed + index, true, index * selectAfter, { member: index }) : vectorOptions(settings.seed + index + members, true, members * selectAfter, { member: index, continued: true }, selectAfter),
        onSelection: ({ winner, trialBest }) => events.selected?.({ winner, seed: settings.seed + winner, trialBest }),
      });
      population = { winner: run.winner, trialBest: run.trials.map((trial) => trial.best?.point.meanReward ?? Number.NaN), totalSteps: run.totalSteps };
      trainingSeed = settings.seed + run.winner;
      agent = memberAgents[run.winner]!;
      result = mergedPopulationRun(run, selectAfter);
      // The run-level end: the winner, with the best over both its phases.
      await new CallbackList(endOfRun).onTrainingEnd({ agent, steps: result.steps, episodeRewards: result.episodeRewards, stopped: false, best: result.best });
    }

    const best = result.best;
    const exported = margin?.selection?.exported ?? (best ? best.exported : await agent.export());
    const artifact = buildArtifact(exported, {
      name: `${loaded.scenario.id}-${settings.agent}`,
      scenario: embeddedScenarioOf(loaded),
      features: buildObservationFeatures(model),
      ladder: model.ladder,
      training: { steps: result.steps, episodes: result.episodes, seconds: result.seconds, lastEvaluation: (best?.point ?? result.evaluations.at(-1))?.meanReward ?? null },
      seeds: [trainingSeed],
    });
    const policyFolder = writeArtifact(join(out, 'policy'), artifact);
    return {
      model,
      result,
      trainingSeed,
      ...(population ? { population } : {}),
      ...(margin?.selection ? { marginSelection: margin.selection } : {}),
      exported,
      written: best?.point ?? result.evaluations.at(-1),
      policyFolder,
    };
  } finally {
    agent.dispose();
  }

  /** The vector loop's options; `stepsDone` places its progress in the run, `member` and `runOffset` its evaluations in the member's run. */
  function vectorOptions(seed: number, keepBest: boolean, stepsDone = 0, member: { member?: number; continued?: boolean } = {}, runOffset = 0): Omit<VectorTrainOptions, 'steps'> {
    return {
      ...(settings.exploringStarts ? { exploringStarts: { windows: settings.exploringStarts, leadIn: settings.leadIn ?? 'greedy', firstAction: settings.firstAction ?? 'policy', seed } } : {}),
      evaluation: { every: evaluateEvery, env: evaluationEnv, episodes: settings.evalEpisodes, seed: seeds.evaluation, keepBest },
      onProgress: (state) => events.progress?.(stepsDone + state.steps, state.lastEpisodeReward),
      onEvaluation: (point) => events.evaluation?.(point, { ...member, steps: runOffset + point.steps }),
    };
  }
}
