/**
 * Training and evaluation, written once for every agent (after Stable-Baselines3's
 * off-policy loop): the agent acts with exploration, observes each transition, and at
 * regular intervals a greedy evaluation on held-out seeds reports the mean episode reward.
 * One loop (training-loop.ts) serves both entry points: `train` runs it over one env seen as
 * a vector of one market (one-market.ts), `trainVector` over a VectorEnv; greedy evaluations
 * and keep-best, exploring starts and progress are callbacks (training-callback.ts).
 *
 * Seeds: training episode e of `train` uses seed `seed + e` (a VectorEnv derives its markets'
 * episode seeds itself); evaluation episodes use seeds from `evaluationSeed` upward, disjoint
 * from training seeds, the same for every evaluation and every agent (common random numbers).
 *
 * Resuming (`train`): every episode boundary is reported (onEpisodeEnd), where a caller may
 * save a checkpoint or stop; `resumeFrom` starts again at such a boundary. Since episode e
 * always uses seed `seed + e`, an agent restored to its state at that boundary continues
 * exactly as if it had never stopped.
 */
import type { Agent } from '../agents/agent.js';
import { configError } from '../core/errors.js';
import type { Env } from '../env/env.js';
import { EvaluationCallback, type EvaluationPoint } from './evaluation-callback.js';
import { ExploringStartsCallback, type ExploringStarts } from './exploring-starts.js';
import { OneMarket } from './one-market.js';
import { ProgressCallback, type TrainProgress } from './progress-callback.js';
import { evaluationSeed } from '../core/seeds.js';
import type { KeptPolicy, TrainingCallback, TrainingMarkets } from './training-callback.js';
import { runTrainingLoop } from './training-loop.js';

export { evaluate, type EvaluatedEpisode, type EvaluateOptions } from './evaluate.js';
export { EvaluationCallback, type EvaluationPoint } from './evaluation-callback.js';
export type { ExploringStarts } from './exploring-starts.js';
export type { TrainProgress } from './progress-callback.js';

export interface TrainOptions {
  /** Stop after this many environment steps (or episodes, whichever is given). */
  steps?: number;
  episodes?: number;
  seed: number;
  /** Evaluate greedily every this many steps (0: never during training). */
  evaluateEvery?: number;
  evaluationEpisodes?: number;
  /** First seed of the evaluation episodes (default evaluationSeed(seed), core/seeds.ts: disjoint from training). */
  evaluationSeed?: number;
  /** A second env of the same scenario for evaluations, so they never interrupt a training episode. */
  evaluationEnv?: Env;
  /**
   * Keep the export of the best greedy evaluation (as trainVector's evaluation.keepBest; the
   * same callback serves both). With evaluations, the loop also evaluates once at the end.
   */
  keepBest?: boolean;
  onProgress?: (progress: TrainProgress) => void;
  onEvaluation?: (evaluation: EvaluationPoint) => void;
  /** Called at every episode boundary, after the episode's reward is counted; return 'stop' to end training there. */
  onEpisodeEnd?: (boundary: TrainBoundary) => void | 'stop';
  /** Start at an episode boundary reached earlier (the agent restored to its state there). */
  resumeFrom?: TrainBoundary;
  /** More callbacks, after the ones the options above make (evaluations, progress). */
  callbacks?: readonly TrainingCallback[];
}

/** Where training stands between two episodes. */
export interface TrainBoundary {
  readonly steps: number;
  readonly episodes: number;
  /** The total reward of every episode so far, in order. */
  readonly episodeRewards: readonly number[];
}

export interface TrainResult {
  steps: number;
  episodes: number;
  episodeRewards: number[];
  evaluations: EvaluationPoint[];
  seconds: number;
  /** onEpisodeEnd asked to stop before the budget was spent. */
  stopped?: boolean;
  /** With keepBest: the best evaluation and the agent's export at that moment. */
  best?: KeptPolicy;
}

/**
 * One env, one market: episode e on seed `seed + e`. A step budget that ends mid-episode
 * counts that episode too (its reward so far), as this loop always has.
 */
export async function train(env: Env, agent: Agent, options: TrainOptions): Promise<TrainResult> {
  if (options.steps === undefined && options.episodes === undefined) throw new Error('expected a budget: steps or episodes');
  if (options.keepBest && !options.evaluationEnv) throw configError('keep-best without evaluations', [{ path: ['evaluationEnv'], message: 'expected an evaluation env beside keepBest, found none' }]);
  const resumeFrom = options.resumeFrom;
  if (resumeFrom && resumeFrom.episodeRewards.length !== resumeFrom.episodes) throw new Error(`expected one reward per episode done (${resumeFrom.episodes}), found ${resumeFrom.episodeRewards.length}`);
  const evaluateEvery = options.evaluateEvery && options.evaluateEvery > 0 ? options.evaluateEvery : 0;
  const evaluation =
    options.evaluationEnv && evaluateEvery > 0
      ? new EvaluationCallback({
          every: evaluateEvery,
          env: options.evaluationEnv,
          episodes: options.evaluationEpisodes ?? 5,
          seed: options.evaluationSeed ?? evaluationSeed(options.seed),
          keepBest: options.keepBest,
          onEvaluation: options.onEvaluation,
        })
      : undefined;
  const onEpisodeEnd = options.onEpisodeEnd;
  const boundaries: TrainingCallback | undefined = onEpisodeEnd && {
    onEpisodeEnd: (loop) => onEpisodeEnd({ steps: loop.steps, episodes: loop.episodeRewards.length, episodeRewards: loop.episodeRewards }),
  };
  const progress = options.onProgress && new ProgressCallback(options.onProgress, { every: Math.floor((options.steps ?? 10_000) / 200), totalSteps: options.steps, totalEpisodes: options.episodes });
  const result = await runTrainingLoop(new OneMarket(env, { seed: options.seed, firstEpisode: resumeFrom?.episodes ?? 0 }), agent, {
    steps: options.steps,
    episodes: options.episodes,
    ...(resumeFrom ? { resumeFrom } : {}),
    countCutEpisode: true,
    callbacks: [evaluation, boundaries, progress, ...(options.callbacks ?? [])],
  });
  return { ...result, evaluations: evaluation?.evaluations ?? [] };
}

export interface VectorTrainOptions {
  /** Stop after this many observed (learning) steps, summed over the markets. */
  steps: number;
  /**
   * Exploring starts (Sutton & Barto's Monte Carlo ES, for a finite horizon): this share of
   * episodes hands over to learning only on a late day (exploring-starts.ts). The days before
   * (the lead-in) cost environment steps but no budget.
   */
  exploringStarts?: ExploringStarts;
  /** Greedy evaluations every so many steps; with keepBest, the best one's export is returned. */
  evaluation?: VectorEvaluation;
  onProgress?: (progress: TrainProgress) => void;
  onEvaluation?: (evaluation: EvaluationPoint) => void;
  /** More callbacks, after the ones the options above make. */
  callbacks?: readonly TrainingCallback[];
}

export interface VectorEvaluation {
  /** Evaluate greedily every this many observed steps (and once at the end). */
  every: number;
  /** A single env of the same scenario; episodes run on seeds seed, seed + 1, ... (common random numbers across evaluations). */
  env: Env;
  episodes: number;
  seed: number;
  /**
   * Keep the export of the best evaluation (highest mean reward; the later one on a tie):
   * model selection on validation seeds, as Stable-Baselines3's EvalCallback saves its best
   * model. Use seeds disjoint from any seeds a final comparison reports on.
   */
  keepBest?: boolean;
}

/** `episodes` and `episodeRewards` count whole episodes only (learned from day 0); late-start episodes are not among them. */
export interface VectorTrainResult extends TrainResult {
  /** Episodes that handed over to learning after day 0 (exploring starts), counted apart from `episodes`. */
  lateStartEpisodes: number;
  /** Environment steps of the lead-ins (greedy or random-price) before late episodes handed over; not in `steps`. */
  leadInSteps: number;
}

/**
 * The loop over a vector env (the price market's VectorEnv, or the coupon market's
 * CouponVectorEnv: any TrainingMarkets): every market steps in lockstep, actions come from one
 * `actBatch` call when the agent offers it (one forward pass for all markets). With exploring
 * starts, a market still in its lead-in takes the greedy action or its lead-in price, and its
 * steps are not observed; the exploring `actBatch` is skipped on days when every market is in
 * a lead-in.
 */
export async function trainVector(env: TrainingMarkets, agent: Agent, options: VectorTrainOptions): Promise<VectorTrainResult> {
  const starts = options.exploringStarts ? new ExploringStartsCallback(options.exploringStarts) : undefined;
  const evaluation = options.evaluation ? new EvaluationCallback({ ...options.evaluation, onEvaluation: options.onEvaluation }) : undefined;
  const progress = options.onProgress && new ProgressCallback(options.onProgress, { every: Math.max(env.count, Math.floor(options.steps / 200)), totalSteps: options.steps });
  const result = await runTrainingLoop(env, agent, { steps: options.steps, callbacks: [starts, evaluation, progress, ...(options.callbacks ?? [])] });
  return { ...result, evaluations: evaluation?.evaluations ?? [], leadInSteps: starts?.leadInSteps ?? 0, lateStartEpisodes: starts?.lateStartEpisodes ?? 0 };
}
