/**
 * Progress reports as a training callback: after the first day at or past each multiple of
 * `every` observed steps, and once at the end (after the last evaluation).
 */
import type { StepOutcome, TrainingCallback, TrainingEnd, TrainingLoop } from './training-callback.js';

export interface TrainProgress {
  steps: number;
  episodes: number;
  totalSteps: number | undefined;
  totalEpisodes: number | undefined;
  lastEpisodeReward: number | undefined;
}

export class ProgressCallback implements TrainingCallback {
  private readonly report: (progress: TrainProgress) => void;
  private readonly every: number;
  private readonly totals: { steps: number | undefined; episodes: number | undefined };
  private next = Number.POSITIVE_INFINITY;

  constructor(report: (progress: TrainProgress) => void, settings: { every: number; totalSteps?: number | undefined; totalEpisodes?: number | undefined }) {
    this.report = report;
    this.every = Math.max(1, settings.every);
    this.totals = { steps: settings.totalSteps, episodes: settings.totalEpisodes };
  }

  onTrainingStart(loop: TrainingLoop): void {
    this.next = this.every * (Math.floor(loop.steps / this.every) + 1);
  }

  onStep(loop: TrainingLoop): StepOutcome {
    if (loop.steps < this.next) return;
    this.next += this.every;
    this.reportAt(loop);
  }

  onTrainingEnd(end: TrainingEnd): void {
    this.reportAt(end);
  }

  private reportAt(state: TrainingEnd): void {
    this.report({ steps: state.steps, episodes: state.episodeRewards.length, totalSteps: this.totals.steps, totalEpisodes: this.totals.episodes, lastEpisodeReward: state.episodeRewards.at(-1) });
  }
}
