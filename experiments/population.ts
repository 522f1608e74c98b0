/**
 * Population training: successive halving with one rung (Jamieson & Talwalkar 2016, the inner
 * loop of Hyperband, Li et al. 2018), over training seeds.
 *
 * Where a learner's outcome depends on its seed more than on its budget (on steady-state-v1,
 * a DQN settles early on one price level, and one seed in three or four finds the best one:
 * docs/agents/dqn.md), training one seed longer does not help, and training several to the end
 * costs several budgets. Instead:
 *
 *   1. every member (its own agent seed and markets) trains `selectAfter` steps, with greedy
 *      evaluations on the validation seeds (trainVector's evaluation, keepBest);
 *   2. the member whose best evaluation is highest (the first on a tie) continues, on fresh
 *      markets, for the rest of the budget; the others are disposed of;
 *   3. the result's `best` is the best evaluation of the winner over both phases.
 *
 * The budget is members x selectAfter + (steps - selectAfter) observed steps. Selection reads
 * only the validation seeds; a final comparison must report on others.
 */
import type { Agent, AgentExport } from '../agents/agent.js';
import { configError } from '../core/errors.js';
import type { VectorEnv } from '../env/vector-env.js';
import { type EvaluationPoint, trainVector, type VectorTrainOptions, type VectorTrainResult } from './train.js';

export interface PopulationMember {
  readonly agent: Agent;
  readonly env: VectorEnv;
}

export interface PopulationOptions {
  members: number;
  /** Observed steps each member trains before the selection. */
  selectAfter: number;
  /** The winner's whole budget in observed steps (selectAfter included). */
  steps: number;
  /** Member `index`'s agent and markets (the caller seeds them: a different seed per member). */
  createMember: (index: number) => Promise<PopulationMember>;
  /** The winner's markets after the selection: fresh episodes, so a seed of their own. */
  continuationEnv: (index: number) => VectorEnv;
  /** The loop's options for a member's trial and for the winner's continuation (the steps are set here); evaluation.keepBest is required. */
  training: (index: number, phase: 'trial' | 'continuation') => Omit<VectorTrainOptions, 'steps'>;
  onSelection?: (selection: { winner: number; trialBest: readonly number[] }) => void;
}

export interface PopulationResult {
  winner: number;
  /** Each member's trial, in member order. */
  trials: VectorTrainResult[];
  /** The winner's continuation; its evaluations' steps count from the selection (add selectAfter for the winner's whole run). */
  continuation: VectorTrainResult;
  /** The winner's best evaluation over its trial and continuation, and its export. */
  best: { point: EvaluationPoint; exported: AgentExport };
  /** Observed steps over every member and phase. */
  totalSteps: number;
}

export async function trainPopulation(options: PopulationOptions): Promise<PopulationResult> {
  const problems = [
    ...(Number.isInteger(options.members) && options.members >= 1 ? [] : [{ path: ['population', 'members'], message: `expected a whole number of members, 1 or more, found ${options.members}` }]),
    ...(Number.isInteger(options.selectAfter) && options.selectAfter >= 1 && options.selectAfter < options.steps
      ? []
      : [{ path: ['population', 'selectAfter'], message: `expected a whole number of steps from 1 to below the budget (${options.steps}), found ${options.selectAfter}` }]),
  ];
  if (problems.length > 0) throw configError('bad population', problems);

  const trials: VectorTrainResult[] = [];
  const agents: Agent[] = [];
  for (let index = 0; index < options.members; index++) {
    const member = await options.createMember(index);
    const training = options.training(index, 'trial');
    if (!training.evaluation?.keepBest) throw configError('bad population', [{ path: ['population', 'training', 'evaluation', 'keepBest'], message: 'expected greedy evaluations with keepBest: the selection compares the members\' best evaluations, found none' }]);
    trials.push(await trainVector(member.env, member.agent, { ...training, steps: options.selectAfter }));
    agents.push(member.agent);
  }
  const trialBest = trials.map((trial) => trial.best?.point.meanReward ?? Number.NEGATIVE_INFINITY);
  const winner = trialBest.indexOf(Math.max(...trialBest));
  options.onSelection?.({ winner, trialBest });
  agents.forEach((agent, index) => {
    if (index !== winner) agent.dispose();
  });

  const continuation = await trainVector(options.continuationEnv(winner), agents[winner]!, { ...options.training(winner, 'continuation'), steps: options.steps - options.selectAfter });
  const trialOfWinner = trials[winner]!.best!;
  // The later evaluation on a tie, as trainVector's keepBest.
  const best = continuation.best && continuation.best.point.meanReward >= trialOfWinner.point.meanReward ? continuation.best : trialOfWinner;
  return { winner, trials, continuation, best, totalSteps: trials.reduce((total, trial) => total + trial.steps, 0) + continuation.steps };
}

/**
 * The winner's whole run as one training result: its trial, then its continuation with the
 * continuation's evaluation steps counted from the start of the trial (selectAfter added), and
 * every member's training time. `best` keeps its steps the same way.
 */
export function mergedPopulationRun(run: PopulationResult, selectAfter: number): VectorTrainResult {
  const trial = run.trials[run.winner]!;
  const continuation = run.continuation;
  return {
    steps: trial.steps + continuation.steps,
    episodes: trial.episodes + continuation.episodes,
    episodeRewards: [...trial.episodeRewards, ...continuation.episodeRewards],
    evaluations: [...trial.evaluations, ...continuation.evaluations.map((point) => ({ ...point, steps: point.steps + selectAfter }))],
    seconds: run.trials.reduce((total, member) => total + member.seconds, 0) + continuation.seconds,
    leadInSteps: trial.leadInSteps + continuation.leadInSteps,
    lateStartEpisodes: trial.lateStartEpisodes + continuation.lateStartEpisodes,
    best: run.best === continuation.best ? { ...run.best, point: { ...run.best.point, steps: run.best.point.steps + selectAfter } } : run.best,
  };
}
