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
import type { Agent, AgentExport } from '../agents/agent.js';
import { configError } from '../core/errors.js';
import { RandomStream } from '../core/random.js';
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
  /**
   * Keep the export of the best greedy evaluation (as trainVector's evaluation.keepBest; the
   * same callback serves both loops). With evaluations, the loop also evaluates once at the end.
   */
  keepBest?: boolean;
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
  /** Each evaluation episode: its seed, total reward and KPIs (what a run record stores of the policy it keeps). */
  episodes: { seed: number; totalReward: number; kpis: EpisodeKpis }[];
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
  best?: { point: EvaluationPoint; exported: AgentExport };
}

/**
 * The greedy evaluations of a training run, shared by both loops (after Stable-Baselines3's
 * EvalCallback): each evaluation runs `episodes` greedy episodes on seeds seed, seed + 1, ...
 * of its own env (common random numbers across evaluations), is reported, and, with keepBest,
 * the agent's export is kept when the mean reward is the highest so far (the later one on a tie).
 */
export class EvaluationCallback {
  readonly evaluations: EvaluationPoint[] = [];
  best: { point: EvaluationPoint; exported: AgentExport } | undefined;
  private readonly agent: Agent;
  private readonly settings: { env: Env; episodes: number; seed: number; keepBest: boolean };
  private readonly onEvaluation: ((evaluation: EvaluationPoint) => void) | undefined;

  constructor(agent: Agent, settings: { env: Env; episodes: number; seed: number; keepBest?: boolean }, onEvaluation?: (evaluation: EvaluationPoint) => void) {
    this.agent = agent;
    this.settings = { ...settings, keepBest: settings.keepBest === true };
    this.onEvaluation = onEvaluation;
  }

  /** The step of the last evaluation (undefined before the first). */
  get lastSteps(): number | undefined {
    return this.evaluations.at(-1)?.steps;
  }

  async evaluateAt(steps: number): Promise<EvaluationPoint> {
    const point = evaluatePoint(this.settings.env, this.agent, this.settings.episodes, this.settings.seed, steps);
    this.evaluations.push(point);
    this.onEvaluation?.(point);
    if (this.settings.keepBest && (!this.best || point.meanReward >= this.best.point.meanReward)) this.best = { point, exported: await this.agent.export() };
    return point;
  }
}

export async function train(env: Env, agent: Agent, options: TrainOptions): Promise<TrainResult> {
  if (options.steps === undefined && options.episodes === undefined) throw new Error('expected a budget: steps or episodes');
  const started = performance.now();
  const evaluationSeed = options.evaluationSeed ?? 1_000_000 + options.seed;
  const callback = options.evaluationEnv
    ? new EvaluationCallback(agent, { env: options.evaluationEnv, episodes: options.evaluationEpisodes ?? 5, seed: evaluationSeed, keepBest: options.keepBest === true }, options.onEvaluation)
    : undefined;
  if (options.keepBest && !callback) throw configError('keep-best without evaluations', [{ path: ['evaluationEnv'], message: 'expected an evaluation env beside keepBest, found none' }]);
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
      if (steps >= nextEvaluation && callback) {
        nextEvaluation += evaluateEvery;
        await callback.evaluateAt(steps);
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
  // Once more at the end (as trainVector), so the last policy is among the candidates.
  if (callback && evaluateEvery > 0 && !stopped && callback.lastSteps !== steps) await callback.evaluateAt(steps);
  options.onProgress?.({ steps, episodes, totalSteps: options.steps, totalEpisodes: options.episodes, lastEpisodeReward: episodeRewards.at(-1) });
  const best = callback?.best;
  return { steps, episodes, episodeRewards, evaluations: callback?.evaluations ?? [], seconds: (performance.now() - started) / 1000, ...(stopped ? { stopped } : {}), ...(best ? { best } : {}) };
}

function evaluatePoint(env: Env, agent: Agent, episodes: number, seed: number, steps: number): EvaluationPoint {
  const evaluated = evaluate(env, agent, { episodes, seed }).map((episode) => ({ seed: episode.seed, totalReward: episode.totalReward, kpis: episode.kpis }));
  const rewards = evaluated.map((episode) => episode.totalReward);
  return { steps, meanReward: rewards.reduce((total, value) => total + value, 0) / Math.max(1, rewards.length), rewards, episodes: evaluated };
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
  /** Stop after this many observed (learning) steps, summed over the markets. */
  steps: number;
  /**
   * Exploring starts (Sutton & Barto's Monte Carlo ES, for a finite horizon): this share of
   * episodes hands over to learning only on a late day, drawn uniformly from the last
   * `lastDays` days of the horizon. The days before (the lead-in) are priced by the agent's
   * greedy policy or one random ladder price (`leadIn`) and not observed, so they cost
   * environment steps but no budget. Gives the learner the end-of-horizon data
   * (clearance before the salvage, the last reorders) that full episodes hold in a sliver.
   */
  exploringStarts?: ExploringStarts;
  /** Greedy evaluations every so many steps; with keepBest, the best one's export is returned. */
  evaluation?: VectorEvaluation;
  onProgress?: (progress: TrainProgress) => void;
  onEvaluation?: (evaluation: EvaluationPoint) => void;
}

export interface ExploringStarts {
  /**
   * Late-start windows: with probability `share`, an episode hands over to learning on a day
   * drawn uniformly from the horizon's last `lastDays` days. Shares add up to at most 1; the
   * other episodes are learned from their first day. A window's own `leadIn` overrides the one below
   * for its episodes (e.g. random-price lead-ins for hand-overs over the whole year, to show every
   * price level, and greedy ones for the last days, to reach the end in the states the policy reaches).
   */
  windows: readonly { share: number; lastDays: number; leadIn?: 'greedy' | 'random-price' }[];
  /**
   * Who prices the lead-in days: 'greedy' (default), the agent's greedy policy; 'random-price', one
   * ladder price drawn uniformly per episode and held, so hand-overs happen in settled markets at
   * every price level (the steady states a learner stuck at one level never sees).
   */
  leadIn?: 'greedy' | 'random-price';
  /**
   * The hand-over day's action: 'policy' (default), the agent's own exploring choice; 'uniform', a
   * ladder price drawn uniformly (exploring starts in state and action, as Monte Carlo ES has
   * them), so every price is tried in the late states however greedy the agent has become.
   */
  firstAction?: 'policy' | 'uniform';
  /** Seed of the loop's own stream: which episodes start late, on which day, the lead-in price and the first action. */
  seed: number;
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
 * The same loop over a vector env: every market steps in lockstep, actions come from one
 * `actBatch` call when the agent offers it (one forward pass for all markets) or one `act`
 * per market, and each market's transition is observed in market order. A market whose
 * episode ended bootstraps from its final observation, not from the next episode's first.
 * With exploring starts, a market still in its lead-in takes the greedy action (a second
 * `actBatch`, explore off, run only while some market has a greedy lead-in) or its lead-in
 * price, and its steps are not observed. The exploring `actBatch` runs over every market,
 * lead-ins included (one batched forward pass serves them all), except on days when every
 * market is in a lead-in: runs whose hand-overs come late spend most days there.
 */
export async function trainVector(env: VectorEnv, agent: Agent, options: VectorTrainOptions): Promise<VectorTrainResult> {
  const started = performance.now();
  const count = env.count;
  const features = env.featureCount;
  const horizon = env.model.horizon;
  const actions = new Int32Array(count);
  const greedyActions = new Int32Array(count);
  const episodeRewards: number[] = [];
  const running = new Float64Array(count);
  const day = new Int32Array(count);
  const firstLearningDay = new Int32Array(count);
  const leadInPrice = new Int32Array(count);
  const firstActionOf = new Int32Array(count);
  const prices = env.actionSpace.n;
  const starts = options.exploringStarts;
  if (starts) {
    const problems = starts.windows.flatMap((window, index) => [
      ...(window.share >= 0 && window.share <= 1 ? [] : [{ path: ['exploringStarts', 'windows', index, 'share'], message: `expected a share from 0 to 1, found ${window.share}` }]),
      ...(Number.isInteger(window.lastDays) && window.lastDays >= 1 && window.lastDays <= horizon
        ? []
        : [{ path: ['exploringStarts', 'windows', index, 'lastDays'], message: `expected a whole number of days from 1 to the horizon (${horizon}), found ${window.lastDays}` }]),
    ]);
    const totalShare = starts.windows.reduce((total, window) => total + window.share, 0);
    if (totalShare > 1 + 1e-9) problems.push({ path: ['exploringStarts', 'windows'], message: `expected shares adding up to at most 1, found ${totalShare}` });
    if (problems.length > 0) throw configError('bad exploring starts', problems);
  }
  const startStream = starts ? new RandomStream(starts.seed, 'exploring-starts') : undefined;
  const defaultLeadIn = starts?.leadIn ?? 'greedy';
  const greedyLeadIn = new Uint8Array(count);
  const drawEpisodeStart = (market: number) => {
    firstLearningDay[market] = 0;
    greedyLeadIn[market] = 0;
    if (starts && startStream) {
      let pick = startStream.next();
      const position = startStream.next();
      for (const window of starts.windows) {
        if (pick < window.share) {
          firstLearningDay[market] = horizon - 1 - Math.floor(position * window.lastDays);
          greedyLeadIn[market] = (window.leadIn ?? defaultLeadIn) === 'greedy' ? 1 : 0;
          break;
        }
        pick -= window.share;
      }
    }
    leadInPrice[market] = startStream ? Math.floor(startStream.next() * prices) : 0;
    firstActionOf[market] = startStream ? Math.floor(startStream.next() * prices) : 0;
  };
  const uniformFirstAction = starts?.firstAction === 'uniform';
  for (let market = 0; market < count; market++) drawEpisodeStart(market);
  const evaluation = options.evaluation;
  const callback = evaluation ? new EvaluationCallback(agent, evaluation, options.onEvaluation) : undefined;
  const evaluateNow = async (steps: number) => {
    await callback?.evaluateAt(steps);
  };
  let nextEvaluation = evaluation && evaluation.every > 0 ? evaluation.every : Number.POSITIVE_INFINITY;
  let observations = Float32Array.from(env.reset());
  let steps = 0;
  let leadInSteps = 0;
  let lateStartEpisodes = 0;
  const progressEvery = Math.max(count, Math.floor(options.steps / 200));
  let nextProgress = progressEvery;
  const inLeadIn = (market: number) => (day[market] ?? 0) < (firstLearningDay[market] ?? 0);
  while (steps < options.steps) {
    let randomPriceLeadIns = 0;
    let greedyLeadIns = 0;
    for (let market = 0; market < count; market++) {
      if (inLeadIn(market)) {
        if (greedyLeadIn[market] === 1) greedyLeadIns++;
        else randomPriceLeadIns++;
      }
    }
    if (randomPriceLeadIns + greedyLeadIns === count) {
      // Every market is in a lead-in: no exploring choice is used (late-start runs spend most days here).
    } else if (agent.actBatch) agent.actBatch(observations, count, { explore: true }, actions);
    else for (let market = 0; market < count; market++) actions[market] = agent.act(observations.subarray(market * features, (market + 1) * features), { explore: true });
    if (greedyLeadIns > 0) {
      if (agent.actBatch) agent.actBatch(observations, count, { explore: false }, greedyActions);
      else for (let market = 0; market < count; market++) greedyActions[market] = agent.act(observations.subarray(market * features, (market + 1) * features), { explore: false });
    }
    if (greedyLeadIns + randomPriceLeadIns > 0) {
      for (let market = 0; market < count; market++) {
        if (inLeadIn(market)) actions[market] = greedyLeadIn[market] === 1 ? (greedyActions[market] ?? 0) : (leadInPrice[market] ?? 0);
      }
    }
    if (uniformFirstAction) {
      for (let market = 0; market < count; market++) {
        if ((firstLearningDay[market] ?? 0) > 0 && day[market] === firstLearningDay[market]) actions[market] = firstActionOf[market] ?? 0;
      }
    }
    env.step(actions);
    for (let market = 0; market < count; market++) {
      const ended = env.terminated[market] === 1 || env.truncated[market] === 1;
      const reward = env.rewards[market] ?? 0;
      if (!inLeadIn(market)) {
        const next = (ended ? env.finalObservations : env.observations).slice(market * features, (market + 1) * features);
        agent.observe({
          observation: observations.slice(market * features, (market + 1) * features),
          action: actions[market] ?? 0,
          reward,
          nextObservation: next,
          terminated: env.terminated[market] === 1,
          truncated: env.truncated[market] === 1,
        });
        steps++;
        running[market] = (running[market] ?? 0) + reward;
      } else leadInSteps++;
      day[market] = (day[market] ?? 0) + 1;
      if (ended) {
        if ((firstLearningDay[market] ?? 0) === 0) episodeRewards.push(running[market] ?? 0);
        else lateStartEpisodes++;
        running[market] = 0;
        day[market] = 0;
        drawEpisodeStart(market);
      }
    }
    observations = Float32Array.from(env.observations);
    if (steps >= nextProgress) {
      nextProgress += progressEvery;
      options.onProgress?.({ steps, episodes: episodeRewards.length, totalSteps: options.steps, totalEpisodes: undefined, lastEpisodeReward: episodeRewards.at(-1) });
    }
    if (steps >= nextEvaluation && steps < options.steps) {
      nextEvaluation += evaluation?.every ?? 0;
      await evaluateNow(steps);
    }
  }
  await evaluateNow(steps);
  options.onProgress?.({ steps, episodes: episodeRewards.length, totalSteps: options.steps, totalEpisodes: undefined, lastEpisodeReward: episodeRewards.at(-1) });
  const best = callback?.best;
  return { steps, episodes: episodeRewards.length, episodeRewards, evaluations: callback?.evaluations ?? [], seconds: (performance.now() - started) / 1000, leadInSteps, lateStartEpisodes, ...(best ? { best } : {}) };
}
