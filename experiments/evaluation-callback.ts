/**
 * Greedy evaluations during training, and keep-best (after Stable-Baselines3's EvalCallback):
 * every `every` observed steps, and once at the end of a run that was not stopped, the agent
 * plays `episodes` greedy episodes on seeds seed, seed + 1, ... of its own env (the same seeds
 * for every evaluation: common random numbers). Each evaluation is reported; with keepBest, the
 * agent's export is kept whenever the mean reward is the highest so far (the later one on a
 * tie): model selection on validation seeds. Use seeds disjoint from any a final comparison
 * reports on.
 */
import type { Env } from '../env/env.js';
import type { EpisodeKpis } from '../env/kpis.js';
import type { Agent } from '../agents/agent.js';
import { evaluate } from './evaluate.js';
import type { KeptPolicy, StepOutcome, TrainingCallback, TrainingEnd, TrainingLoop } from './training-callback.js';

export interface EvaluationPoint {
  steps: number;
  meanReward: number;
  rewards: number[];
  /** Each evaluation episode: its seed, total reward and KPIs (what a run record stores of the policy it keeps). */
  episodes: { seed: number; totalReward: number; kpis: EpisodeKpis }[];
}

export interface EvaluationSettings {
  /** Evaluate every this many observed steps (0: only once, at the end). */
  every: number;
  /** A single env of the scenario, apart from the training markets, so evaluations never interrupt an episode. */
  env: Env;
  episodes: number;
  /** The first evaluation episode's seed. */
  seed: number;
  /** Keep the export of the best evaluation. */
  keepBest?: boolean | undefined;
  onEvaluation?: ((evaluation: EvaluationPoint) => void) | undefined;
}

export class EvaluationCallback implements TrainingCallback {
  readonly evaluations: EvaluationPoint[] = [];
  best: KeptPolicy | undefined;
  private readonly settings: EvaluationSettings;
  private nextEvaluation = Number.POSITIVE_INFINITY;

  constructor(settings: EvaluationSettings) {
    this.settings = settings;
  }

  onTrainingStart(loop: TrainingLoop): void {
    const every = this.settings.every;
    // The first multiple of `every` after where the run starts (a resumed run starts past 0).
    this.nextEvaluation = every > 0 ? every * (Math.floor(loop.steps / every) + 1) : Number.POSITIVE_INFINITY;
  }

  onStep(loop: TrainingLoop): StepOutcome | Promise<StepOutcome> {
    if (loop.steps < this.nextEvaluation) return undefined;
    this.nextEvaluation += this.settings.every;
    return this.evaluateAt(loop.agent, loop.steps).then((kept) => {
      if (kept) loop.best = kept;
    });
  }

  /** Once more at the end, so the last policy is among the candidates (unless the last day was just evaluated, or the run was stopped). */
  async onTrainingEnd(end: TrainingEnd): Promise<void> {
    if (end.stopped || this.evaluations.at(-1)?.steps === end.steps) return;
    const kept = await this.evaluateAt(end.agent, end.steps);
    if (kept) end.best = kept;
  }

  /** Evaluates now; returns the kept policy when this evaluation is the best so far (with keepBest). */
  async evaluateAt(agent: Agent, steps: number): Promise<KeptPolicy | undefined> {
    const { env, episodes, seed } = this.settings;
    const evaluated = evaluate(env, agent, { episodes, seed }).map((episode) => ({ seed: episode.seed, totalReward: episode.totalReward, kpis: episode.kpis }));
    const rewards = evaluated.map((episode) => episode.totalReward);
    const point = { steps, meanReward: rewards.reduce((total, value) => total + value, 0) / Math.max(1, rewards.length), rewards, episodes: evaluated };
    this.evaluations.push(point);
    this.settings.onEvaluation?.(point);
    if (!this.settings.keepBest || (this.best && point.meanReward < this.best.point.meanReward)) return undefined;
    this.best = { point, exported: await agent.export() };
    return this.best;
  }
}
