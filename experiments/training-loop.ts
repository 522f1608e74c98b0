/**
 * The training loop, written once for every agent and every number of markets (after
 * Stable-Baselines3's off-policy loop, which always steps a vector env, one env being a vector
 * of one): each day the agent chooses exploring actions for every market (one `actBatch` call
 * when it offers one and there is more than one market, else one `act` per market), every
 * market steps, and each learning market's transition is observed in market order. A market
 * whose episode ended bootstraps from its final observation, not from the next episode's
 * first. Agents override only what differs (act, observe); the loop never branches on their kind.
 *
 * Everything else is a callback (training-callback.ts): greedy evaluations and keep-best
 * (evaluation-callback.ts), exploring starts (exploring-starts.ts), progress (progress-callback.ts),
 * the margin choice (margin-selection.ts), a caller's checkpoints and stops.
 *
 * Budget: `steps` counts observed (learning) steps summed over the markets, checked after
 * each day (so a vector run may pass it by up to count - 1); `episodes` counts whole episodes.
 * `episodeRewards` holds whole episodes only (learned from day 0); an episode that ends in
 * the middle of a day's markets is counted there, in market order.
 */
import type { Agent } from '../agents/agent.js';
import { CallbackList, type KeptPolicy, type TrainingCallback, type TrainingLoop, type TrainingMarkets } from './training-callback.js';

export interface TrainingLoopOptions {
  /** Stop after this many observed steps (or whole episodes, whichever is given first). */
  steps?: number | undefined;
  episodes?: number | undefined;
  callbacks?: readonly (TrainingCallback | undefined)[];
  /** Start at an episode boundary reached earlier: its steps and every episode's reward (the agent and markets restored to it). */
  resumeFrom?: { readonly steps: number; readonly episodeRewards: readonly number[] };
  /**
   * A step budget that ends mid-episode counts that episode (its reward so far) and reports its
   * end (onEpisodeEnd with `cut`), as the one-market loop always has; the vector loop's records
   * count whole episodes only.
   */
  countCutEpisode?: boolean;
}

export interface TrainingLoopResult {
  steps: number;
  episodes: number;
  episodeRewards: number[];
  seconds: number;
  /** A callback asked to stop before the budget was spent. */
  stopped?: boolean;
  /** With keep-best: the best evaluation and the agent's export at that moment. */
  best?: KeptPolicy;
}

class LoopState implements TrainingLoop {
  steps: number;
  readonly episodeRewards: number[];
  readonly day: Int32Array;
  readonly learning: Uint8Array;
  observations: Float32Array;
  best: KeptPolicy | undefined = undefined;
  stopped = false;

  constructor(
    readonly agent: Agent,
    readonly markets: TrainingMarkets,
    readonly budget: { readonly steps?: number | undefined; readonly episodes?: number | undefined },
    resumeFrom: TrainingLoopOptions['resumeFrom'],
  ) {
    this.steps = resumeFrom?.steps ?? 0;
    this.episodeRewards = [...(resumeFrom?.episodeRewards ?? [])];
    this.day = new Int32Array(markets.count);
    this.learning = new Uint8Array(markets.count).fill(1);
    this.observations = new Float32Array(0);
  }

  budgetLeft(): boolean {
    return (this.budget.steps === undefined || this.steps < this.budget.steps) && (this.budget.episodes === undefined || this.episodeRewards.length < this.budget.episodes);
  }
}

export async function runTrainingLoop(markets: TrainingMarkets, agent: Agent, options: TrainingLoopOptions): Promise<TrainingLoopResult> {
  if (options.steps === undefined && options.episodes === undefined) throw new Error('expected a budget: steps or episodes');
  const started = performance.now();
  const callbacks = new CallbackList(options.callbacks ?? []);
  const loop = new LoopState(agent, markets, { steps: options.steps, episodes: options.episodes }, options.resumeFrom);
  const count = markets.count;
  const features = markets.featureCount;
  const actions = new Int32Array(count);
  const running = new Float64Array(count);
  /** 1 once a day of the market's current episode was not learned from (a late hand-over). */
  const partial = new Uint8Array(count);
  const batched = agent.actBatch !== undefined && count > 1;
  const { day, learning } = loop;

  callbacks.onTrainingStart(loop);
  const fresh = markets.freshObservations === true;
  loop.observations = fresh ? markets.reset() : markets.reset().slice();
  for (let market = 0; market < count; market++) callbacks.onEpisodeStart(loop, market);
  let stopRequested = false;
  while (loop.budgetLeft()) {
    callbacks.onStepStart(loop);
    let learningMarkets = 0;
    for (let market = 0; market < count; market++) learningMarkets += learning[market]!;
    const observations = loop.observations;
    // A day no market learns from needs no exploring choice (late-start runs spend most days so).
    if (learningMarkets > 0) {
      if (batched) agent.actBatch!(observations, count, { explore: true }, actions);
      else if (count === 1) actions[0] = agent.act(observations, { explore: true });
      else for (let market = 0; market < count; market++) actions[market] = agent.act(observations.subarray(market * features, (market + 1) * features), { explore: true });
    }
    callbacks.onActions(loop, actions);
    markets.step(actions);
    // A fresh array each day: the agent may keep the rows it is handed (with one market, the whole array, as a single env hands it over).
    const nextObservations = fresh ? markets.observations : markets.observations.slice();
    for (let market = 0; market < count; market++) {
      const terminated = markets.terminated[market] === 1;
      const truncated = markets.truncated[market] === 1;
      const reward = markets.rewards[market] ?? 0;
      if (learning[market] === 1) {
        const from = market * features;
        const next = terminated || truncated ? markets.finalObservations.slice(from, from + features) : count === 1 ? nextObservations : nextObservations.slice(from, from + features);
        agent.observe({ observation: count === 1 ? observations : observations.slice(from, from + features), action: actions[market] ?? 0, reward, nextObservation: next, terminated, truncated });
        loop.steps++;
        running[market] = (running[market] ?? 0) + reward;
      } else partial[market] = 1;
      day[market] = (day[market] ?? 0) + 1;
      if (terminated || truncated) {
        const whole = partial[market] === 0;
        if (whole) loop.episodeRewards.push(running[market] ?? 0);
        if (callbacks.onEpisodeEnd(loop, market, { reward: running[market] ?? 0, whole, cut: false }) === 'stop' && loop.budgetLeft()) stopRequested = true;
        running[market] = 0;
        day[market] = 0;
        partial[market] = 0;
        callbacks.onEpisodeStart(loop, market);
      }
    }
    loop.observations = nextObservations;
    const outcome = callbacks.onStep(loop);
    if ((outcome instanceof Promise ? await outcome : outcome) === 'stop' && loop.budgetLeft()) stopRequested = true;
    if (stopRequested) {
      loop.stopped = true;
      break;
    }
  }
  if (options.countCutEpisode && !loop.stopped) {
    for (let market = 0; market < count; market++) {
      if ((day[market] ?? 0) === 0) continue;
      const whole = partial[market] === 0;
      if (whole) loop.episodeRewards.push(running[market] ?? 0);
      callbacks.onEpisodeEnd(loop, market, { reward: running[market] ?? 0, whole, cut: true });
    }
  }
  await callbacks.onTrainingEnd(loop);
  const { steps, episodeRewards, best, stopped } = loop;
  return { steps, episodes: episodeRewards.length, episodeRewards, seconds: (performance.now() - started) / 1000, ...(stopped ? { stopped } : {}), ...(best ? { best } : {}) };
}
