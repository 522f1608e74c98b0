/**
 * A `pricelab train` run's record in the results store (experiment "train"): registered as
 * running when training starts; finished with its manifest, metrics (the evaluation curve as
 * JSON) and the written policy's evaluation episodes in one transaction, or marked failed with
 * the error.
 */
import { randomUUID } from 'node:crypto';
import type { EpisodeKpis } from '../env/kpis.js';
import type { LoadedScenario } from '../scenarios/load.js';
import { storeLocation } from '../core/store-url.js';
import { usingResultsStore, type ResultsStoreBackend } from './store-backend.js';
import { trainingExperiment, type MetricValue } from './store-rows.js';

export interface TrainRecord {
  readonly id: string;
  /** Stores the finished run; returns its id. */
  finish(manifest: { metrics: Record<string, unknown> }, episodes: readonly { seed: number; totalReward: number; kpis: EpisodeKpis }[]): Promise<string>;
  /** Marks the run failed (never throws: the run's own error is the one to report). */
  fail(error: unknown): Promise<void>;
}

export async function startTrainRecord(loaded: LoadedScenario, options: { readonly agent: string; readonly seed: number }, config: unknown, startedAt: string): Promise<TrainRecord> {
  const id = `train-${loaded.scenario.id}-${options.agent}-seed${options.seed}-${startedAt.replace(/[-:.TZ]/g, '').slice(0, 17)}-${randomUUID().slice(0, 4)}`;
  // The store PRICELAB_STORE names (PostgreSQL), else the SQLite file of PRICELAB_HOME.
  const location = storeLocation();
  const withStore = <T>(action: (store: ResultsStoreBackend) => T | Promise<T>): Promise<T> => usingResultsStore(location, action);
  await withStore(async (store) => {
    await store.registerRuns([
      {
        id,
        experiment: trainingExperiment,
        scenario: { id: loaded.scenario.id, contentHash: loaded.contentHash },
        agent: { name: options.agent, kind: options.agent, config },
        seed: options.seed,
        manifest: { command: 'train', options: { ...options } },
      },
    ]);
    await store.markRunning(id);
  });
  return {
    id,
    async finish(manifest, episodes) {
      const metrics: Record<string, MetricValue> = {};
      for (const [key, value] of Object.entries(manifest.metrics)) metrics[key] = typeof value === 'number' || value === null ? value : { json: value };
      await withStore((store) =>
        store.finishRun(id, {
          manifest,
          metrics,
          evaluations: episodes.map((episode, index) => ({ episode: index, seed: episode.seed, totalReward: episode.totalReward, kpis: { ...episode.kpis } as Record<string, number | null> })),
        }),
      );
      return id;
    },
    async fail(error) {
      try {
        await withStore((store) => store.markFailed(id, error instanceof Error ? error.message : String(error)));
      } catch {
        // The run's own error is the one to report.
      }
    },
  };
}
