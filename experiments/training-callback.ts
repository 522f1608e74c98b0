/**
 * What the training loop (training-loop.ts) tells its callbacks, after Stable-Baselines3's
 * BaseCallback and CallbackList: one small interface with a hook per moment of the loop, and
 * each concern (greedy evaluations and keep-best, exploring starts, progress, margin choice)
 * in its own module implementing the hooks it needs. The loop never knows which are attached.
 *
 * Order of hooks in a run:
 *
 *   onTrainingStart
 *   onEpisodeStart(market)           for every market, after the markets' first reset
 *   per day, while budget is left:
 *     onStepStart                    before the actions: a callback may clear `learning[market]`
 *     (the agent's exploring actions, unless no market is learning)
 *     onActions(actions)             may replace a market's action (lead-ins, a first action)
 *     (every market steps; learning markets' transitions are observed, in market order)
 *     onEpisodeEnd(market) and onEpisodeStart(market) for each market whose episode ended
 *     onStep                         after the day: evaluations, progress; may stop the run
 *   onTrainingEnd                    once; a last evaluation, the margin choice
 *
 * A CallbackList calls each hook of its callbacks in the order they were given.
 */
import type { Agent, AgentExport } from '../agents/agent.js';
import type { DiscreteSpace } from '../env/spaces.js';
import type { EvaluationPoint } from './evaluation-callback.js';

/**
 * The markets a training loop steps in lockstep: a VectorEnv, or one env seen as a vector of
 * one market (one-market.ts). After step(), a market whose episode ended has its next
 * episode's first observation in `observations` and its last one in `finalObservations`.
 */
export interface TrainingMarkets {
  readonly count: number;
  readonly featureCount: number;
  readonly actionSpace: DiscreteSpace;
  /** The horizon: days before an episode is truncated. */
  readonly model: { readonly horizon: number };
  /** count x featureCount, row-major. */
  readonly observations: Float32Array;
  readonly finalObservations: Float32Array;
  /** True when reset() and step() put new arrays in `observations` and `finalObservations` and never write them again, so the loop may keep them uncopied. */
  readonly freshObservations?: boolean;
  readonly rewards: ArrayLike<number>;
  readonly terminated: ArrayLike<number>;
  readonly truncated: ArrayLike<number>;
  reset(): Float32Array;
  step(actions: Int32Array): void;
}

/** A policy a callback chose to keep (keep-best): the evaluation that chose it and the agent's export then. */
export interface KeptPolicy {
  readonly point: EvaluationPoint;
  readonly exported: AgentExport;
}

/** How a run ended: what onTrainingEnd sees (a population's run-level callbacks see its winner). */
export interface TrainingEnd {
  readonly agent: Agent;
  /** Observed (learning) steps, summed over the markets. */
  readonly steps: number;
  /** The total reward of every whole episode, in order. */
  readonly episodeRewards: readonly number[];
  /** A callback asked to stop before the budget was spent. */
  readonly stopped: boolean;
  /** The policy keep-best kept, if any (keep-best sets it). */
  best: KeptPolicy | undefined;
}

/** The loop's state as its hooks see it. */
export interface TrainingLoop extends TrainingEnd {
  readonly markets: TrainingMarkets;
  readonly budget: { readonly steps?: number | undefined; readonly episodes?: number | undefined };
  /** Days each market has stepped in its current episode. */
  readonly day: Int32Array;
  /**
   * 1 where a market's next step is learned from (the agent observes it and it counts as a
   * step); 0 where it is not (a lead-in day). Every market starts at 1; onStepStart may change it.
   */
  readonly learning: Uint8Array;
  /** The observations the day's actions are chosen from (count x featureCount). */
  readonly observations: Float32Array;
}

/** An episode that ended in one market. */
export interface EpisodeEnd {
  /** The reward of the days learned from. */
  readonly reward: number;
  /** Learned from its first day (so counted in episodeRewards); false for a late hand-over. */
  readonly whole: boolean;
  /** The budget ran out mid-episode and the loop counts it all the same (TrainingLoopOptions.countCutEpisode). */
  readonly cut: boolean;
}

export type StepOutcome = void | 'stop';

export interface TrainingCallback {
  /** Once, before the markets' first reset (validate settings here). */
  onTrainingStart?(loop: TrainingLoop): void;
  /** A market's episode starts: after the first reset, and after each episode end. */
  onEpisodeStart?(loop: TrainingLoop, market: number): void;
  /** Before the day's actions are chosen: may mark markets whose step is not learned from. */
  onStepStart?(loop: TrainingLoop): void;
  /** The day's actions, after the agent's exploring choice and before the markets step: may replace any. */
  onActions?(loop: TrainingLoop, actions: Int32Array): void;
  /** A market's episode ended; 'stop' ends training after this day (when budget is left). */
  onEpisodeEnd?(loop: TrainingLoop, market: number, episode: EpisodeEnd): StepOutcome;
  /** After each day (every market stepped and observed); 'stop' ends training. Return a promise only when there is work to wait for. */
  onStep?(loop: TrainingLoop): StepOutcome | Promise<StepOutcome>;
  /** Once, after the last day (or the stop). */
  onTrainingEnd?(end: TrainingEnd): void | Promise<void>;
}

/** Callbacks called in the order given, hook by hook (Stable-Baselines3's CallbackList). */
export class CallbackList implements Required<TrainingCallback> {
  private readonly callbacks: readonly TrainingCallback[];
  private readonly stepStarts: TrainingCallback[];
  private readonly actionHooks: TrainingCallback[];
  private readonly episodeStarts: TrainingCallback[];
  private readonly episodeEnds: TrainingCallback[];
  private readonly steps: TrainingCallback[];

  constructor(callbacks: readonly (TrainingCallback | undefined)[]) {
    this.callbacks = callbacks.filter((callback): callback is TrainingCallback => callback !== undefined);
    // The per-day hooks are looked up once: most callbacks have few of them.
    this.stepStarts = this.callbacks.filter((callback) => callback.onStepStart);
    this.actionHooks = this.callbacks.filter((callback) => callback.onActions);
    this.episodeStarts = this.callbacks.filter((callback) => callback.onEpisodeStart);
    this.episodeEnds = this.callbacks.filter((callback) => callback.onEpisodeEnd);
    this.steps = this.callbacks.filter((callback) => callback.onStep);
  }

  onTrainingStart(loop: TrainingLoop): void {
    for (const callback of this.callbacks) callback.onTrainingStart?.(loop);
  }

  onEpisodeStart(loop: TrainingLoop, market: number): void {
    for (const callback of this.episodeStarts) callback.onEpisodeStart!(loop, market);
  }

  onStepStart(loop: TrainingLoop): void {
    for (const callback of this.stepStarts) callback.onStepStart!(loop);
  }

  onActions(loop: TrainingLoop, actions: Int32Array): void {
    for (const callback of this.actionHooks) callback.onActions!(loop, actions);
  }

  /** 'stop' when any callback asked (every callback still hears of the episode). */
  onEpisodeEnd(loop: TrainingLoop, market: number, episode: EpisodeEnd): StepOutcome {
    let outcome: StepOutcome = undefined;
    for (const callback of this.episodeEnds) if (callback.onEpisodeEnd!(loop, market, episode) === 'stop') outcome = 'stop';
    return outcome;
  }

  /** Synchronous until a callback returns a promise; the ones after it wait for it. */
  onStep(loop: TrainingLoop): StepOutcome | Promise<StepOutcome> {
    let outcome: StepOutcome = undefined;
    for (let index = 0; index < this.steps.length; index++) {
      const result = this.steps[index]!.onStep!(loop);
      if (result instanceof Promise) return this.finishStep(loop, result, index + 1, outcome);
      if (result === 'stop') outcome = 'stop';
    }
    return outcome;
  }

  async onTrainingEnd(end: TrainingEnd): Promise<void> {
    for (const callback of this.callbacks) await callback.onTrainingEnd?.(end);
  }

  private async finishStep(loop: TrainingLoop, pending: Promise<StepOutcome>, next: number, outcome: StepOutcome): Promise<StepOutcome> {
    let result = outcome;
    if ((await pending) === 'stop') result = 'stop';
    for (let index = next; index < this.steps.length; index++) if ((await this.steps[index]!.onStep!(loop)) === 'stop') result = 'stop';
    return result;
  }
}
