/**
 * Training and evaluation, written once for every agent (after Stable-Baselines3's
 * off-policy loop): the agent acts with exploration, observes each transition, and at
 * regular intervals a greedy evaluation on held-out seeds reports the mean episode reward.
 * Agents override only what differs (act, observe); the loop never branches on their kind.
 *
 * Seeds: training episode e uses seed `seed + e`; evaluation episodes use seeds from
 * `evaluationSeed` upward, disjoint from training seeds, the same for every evaluation and
 * every agent (common random numbers).
 *
 * Resuming: every episode boundary is reported (onEpisodeEnd), where a caller may save a
 * checkpoint or stop; `resumeFrom` starts again at such a boundary. Since episode e always
 * uses seed `seed + e`, an agent restored to its state at that boundary continues exactly
 * as if it had never stopped.
 */
import type { Agent } from '../agents/agent.js';
import type { Env, StepInfo } from '../env/env.js';
import type { VectorEnv } from '../env/vector-env.js';
import type { EpisodeKpis } from '../env/kpis.js';

export interface TrainOptions {
  /** Stop after this many environment steps (or episodes, whichever is given). */
  steps?: number;
  episodes?: number;
  seed: number;
  /** Evaluate greedily every this many steps (0: never during training). */
  evaluateEvery?: number;
  evaluationEpisodes?: number;
  /** First seed of the evaluation episodes (default 1,000,000 + seed: disjoint from training). */
  evaluationSeed?: number;
  /** A second env of the same scenario for evaluations, so they never interrupt a training episode. */
  evaluationEnv?: Env;
  onProgress?: (progress: TrainProgress) => void;
  onEvaluation?: (evaluation: EvaluationPoint) => void;
  /** Called at every episode boundary, after the episode's reward is counted; return 'stop' to end training there. */
  onEpisodeEnd?: (boundary: TrainBoundary) => void | 'stop';
  /** Start at an episode boundary reached earlier (the agent restored to its state there). */
  resumeFrom?: TrainBoundary;
}

/** Where training stands between two episodes. */
export interface TrainBoundary {
  readonly steps: number;
  readonly episodes: number;
  /** The total reward of every episode so far, in order. */
  readonly episodeRewards: readonly number[];
}

export interface TrainProgress {
  steps: number;
  episodes: number;
  totalSteps: number | undefined;
  totalEpisodes: number | undefined;
  lastEpisodeReward: number | undefined;
}

export interface EvaluationPoint {
  steps: number;
  meanReward: number;
  rewards: number[];
}

export interface TrainResult {
  steps: number;
  episodes: number;
  episodeRewards: number[];
  evaluations: EvaluationPoint[];
  seconds: number;
  /** onEpisodeEnd asked to stop before the budget was spent. */
  stopped?: boolean;
}

export async function train(env: Env, agent: Agent, options: TrainOptions): Promise<TrainResult> {
  if (options.steps === undefined && options.episodes === undefined) throw new Error('expected a budget: steps or episodes');
  const started = performance.now();
  const evaluationSeed = options.evaluationSeed ?? 1_000_000 + options.seed;
  const evaluations: EvaluationPoint[] = [];
  const episodeRewards: number[] = [...(options.resumeFrom?.episodeRewards ?? [])];
  let steps = options.resumeFrom?.steps ?? 0;
  let episodes = options.resumeFrom?.episodes ?? 0;
  if (episodeRewards.length !== episodes) throw new Error(`expected one reward per episode done (${episodes}), found ${episodeRewards.length}`);
  const evaluateEvery = options.evaluateEvery && options.evaluateEvery > 0 ? options.evaluateEvery : 0;
  let nextEvaluation = evaluateEvery > 0 ? evaluateEvery * (Math.floor(steps / evaluateEvery) + 1) : Number.POSITIVE_INFINITY;
  let stopped = false;
  const budgetLeft = () => (options.steps === undefined || steps < options.steps) && (options.episodes === undefined || episodes < options.episodes);
  const progressEvery = Math.max(1, Math.floor((options.steps ?? 10_000) / 200));
  while (budgetLeft()) {
    let { observation } = env.reset({ seed: options.seed + episodes });
    let episodeReward = 0;
    for (;;) {
      const action = agent.act(observation, { explore: true });
      const result = env.step(action);
      agent.observe({ observation, action, reward: result.reward, nextObservation: result.observation, terminated: result.terminated, truncated: result.truncated });
      episodeReward += result.reward;
      observation = result.observation;
      steps++;
      if (steps % progressEvery === 0) options.onProgress?.({ steps, episodes, totalSteps: options.steps, totalEpisodes: options.episodes, lastEpisodeReward: episodeRewards.at(-1) });
      if (steps >= nextEvaluation && options.evaluationEnv) {
        nextEvaluation += options.evaluateEvery ?? 0;
        const point = evaluatePoint(options.evaluationEnv, agent, options.evaluationEpisodes ?? 5, evaluationSeed, steps);
        evaluations.push(point);
        options.onEvaluation?.(point);
      }
      if (result.terminated || result.truncated || !budgetLeft()) break;
    }
    episodes++;
    episodeRewards.push(episodeReward);
    if (options.onEpisodeEnd?.({ steps, episodes, episodeRewards }) === 'stop' && budgetLeft()) {
      stopped = true;
      break;
    }
  }
  options.onProgress?.({ steps, episodes, totalSteps: options.steps, totalEpisodes: options.episodes, lastEpisodeReward: episodeRewards.at(-1) });
  return { steps, episodes, episodeRewards, evaluations, seconds: (performance.now() - started) / 1000, ...(stopped ? { stopped } : {}) };
}

function evaluatePoint(env: Env, agent: Agent, episodes: number, seed: number, steps: number): EvaluationPoint {
  const rewards = evaluate(env, agent, { episodes, seed }).map((episode) => episode.totalReward);
  return { steps, meanReward: rewards.reduce((total, value) => total + value, 0) / Math.max(1, rewards.length), rewards };
}

export interface EvaluatedEpisode {
  seed: number;
  totalReward: number;
  kpis: EpisodeKpis;
  /** Every day's info, when asked for (CSV export, charts). */
  steps: StepInfo[];
}

export interface EvaluateOptions {
  episodes: number;
  seed: number;
  recordSteps?: boolean;
  onEpisode?: (episode: EvaluatedEpisode, index: number) => void;
}

/** Greedy episodes (no exploration, no learning) on seeds seed, seed + 1, ... */
export function evaluate(env: Env, agent: Pick<Agent, 'act'>, options: EvaluateOptions): EvaluatedEpisode[] {
  const results: EvaluatedEpisode[] = [];
  for (let episode = 0; episode < options.episodes; episode++) {
    const seed = options.seed + episode;
    let { observation } = env.reset({ seed });
    let totalReward = 0;
    const steps: StepInfo[] = [];
    for (;;) {
      const result = env.step(agent.act(observation, { explore: false }));
      totalReward += result.reward;
      if (options.recordSteps) steps.push(result.info);
      observation = result.observation;
      if (result.terminated || result.truncated) {
        if (!result.info.episode) throw new Error('the env ended an episode without its KPIs');
        const record = { seed, totalReward, kpis: result.info.episode, steps };
        results.push(record);
        options.onEpisode?.(record, episode);
        break;
      }
    }
  }
  return results;
}

export interface VectorTrainOptions {
  /** Stop after this many environment steps, summed over the markets. */
  steps: number;
  onProgress?: (progress: TrainProgress) => void;
}

/**
 * The same loop over a vector env: every market steps in lockstep, actions come from one
 * `actBatch` call when the agent offers it (one forward pass for all markets) or one `act`
 * per market, and each market's transition is observed in market order. A market whose
 * episode ended bootstraps from its final observation, not from the next episode's first.
 */
export function trainVector(env: VectorEnv, agent: Agent, options: VectorTrainOptions): TrainResult {
  const started = performance.now();
  const count = env.count;
  const features = env.featureCount;
  const actions = new Int32Array(count);
  const episodeRewards: number[] = [];
  const running = new Float64Array(count);
  let observations = Float32Array.from(env.reset());
  let steps = 0;
  const progressEvery = Math.max(count, Math.floor(options.steps / 200));
  while (steps < options.steps) {
    if (agent.actBatch) agent.actBatch(observations, count, { explore: true }, actions);
    else for (let market = 0; market < count; market++) actions[market] = agent.act(observations.subarray(market * features, (market + 1) * features), { explore: true });
    env.step(actions);
    for (let market = 0; market < count; market++) {
      const ended = env.terminated[market] === 1 || env.truncated[market] === 1;
      const next = (ended ? env.finalObservations : env.observations).slice(market * features, (market + 1) * features);
      const reward = env.rewards[market] ?? 0;
      agent.observe({
        observation: observations.slice(market * features, (market + 1) * features),
        action: actions[market] ?? 0,
        reward,
        nextObservation: next,
        terminated: env.terminated[market] === 1,
        truncated: env.truncated[market] === 1,
      });
      running[market] = (running[market] ?? 0) + reward;
      if (ended) {
        episodeRewards.push(running[market] ?? 0);
        running[market] = 0;
      }
    }
    observations = Float32Array.from(env.observations);
    steps += count;
    if (steps % progressEvery < count) options.onProgress?.({ steps, episodes: episodeRewards.length, totalSteps: options.steps, totalEpisodes: undefined, lastEpisodeReward: episodeRewards.at(-1) });
  }
  return { steps, episodes: episodeRewards.length, episodeRewards, evaluations: [], seconds: (performance.now() - started) / 1000 };
}
