/**
 * A `pricelab train` run's record in the results store (experiment "train"): registered as
 * running when training starts; finished with its manifest, metrics (the evaluation curve as
 * JSON) and the written policy's evaluation episodes in one transaction, or marked failed with
 * the error.
 */
import { randomUUID } from 'node:crypto';
import type { EpisodeKpis } from '../env/kpis.js';
import type { LoadedScenario } from '../scenarios/load.js';
import { ResultsStore, trainingExperiment, type MetricValue } from './store.js';

export interface TrainRecord {
  readonly id: string;
  /** Stores the finished run; returns its id. */
  finish(manifest: { metrics: Record<string, unknown> }, episodes: readonly { seed: number; totalReward: number; kpis: EpisodeKpis }[]): string;
  /** Marks the run failed (never throws: the run's own error is the one to report). */
  fail(error: unknown): void;
}

export function startTrainRecord(loaded: LoadedScenario, options: { readonly agent: string; readonly seed: number }, config: unknown, startedAt: string): TrainRecord {
  const id = `train-${loaded.scenario.id}-${options.agent}-seed${options.seed}-${startedAt.replace(/[-:.TZ]/g, '').slice(0, 17)}-${randomUUID().slice(0, 4)}`;
  const withStore = <T>(action: (store: ResultsStore) => T): T => {
    const store = ResultsStore.open();
    try {
      return action(store);
    } finally {
      store.close();
    }
  };
  withStore((store) => {
    store.registerRuns([
      {
        id,
        experiment: trainingExperiment,
        scenario: { id: loaded.scenario.id, contentHash: loaded.contentHash },
        agent: { name: options.agent, kind: options.agent, config },
        seed: options.seed,
        manifest: { command: 'train', options: { ...options } },
      },
    ]);
    store.markRunning(id);
  });
  return {
    id,
    finish(manifest, episodes) {
      const metrics: Record<string, MetricValue> = {};
      for (const [key, value] of Object.entries(manifest.metrics)) metrics[key] = typeof value === 'number' || value === null ? value : { json: value };
      withStore((store) =>
        store.finishRun(id, {
          manifest,
          metrics,
          evaluations: episodes.map((episode, index) => ({ episode: index, seed: episode.seed, totalReward: episode.totalReward, kpis: { ...episode.kpis } as Record<string, number | null> })),
        }),
      );
      return id;
    },
    fail(error) {
      try {
        withStore((store) => store.markFailed(id, error instanceof Error ? error.message : String(error)));
      } catch {
        // The run's own error is the one to report.
      }
    },
  };
}
