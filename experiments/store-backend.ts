/**
 * The results store as every caller sees it, whichever database holds it: the SQLite file
 * of the home (experiments/store.ts, the embedded default, answering at once) or a team's
 * PostgreSQL (experiments/store-postgres.ts, answering through promises). Callers await
 * every method; `openResultsStore` picks the backend from a StoreLocation
 * (core/store-url.ts: PRICELAB_STORE). One conformance suite (tests/experiments/
 * store-conformance.test.ts) holds both to the same answers.
 */
import type { Awaitable, StoreLocation } from '../core/store-url.js';
import type {
  CheckpointRow,
  ComparisonRecord,
  ComparisonRow,
  EvaluationRow,
  FinishedRun,
  RunDefinition,
  RunRow,
  RunStatus,
  RunWithCurve,
} from './store-rows.js';

export type RunFilter = { experiment?: string; idPrefix?: string; status?: RunStatus };

export interface ResultsStoreBackend {
  /** The folder of files (checkpoints): the home, or with PostgreSQL the artifact root. */
  readonly home: string;
  /** Where the rows live, for messages: the SQLite file, or the URL without its password. */
  readonly path: string;
  readonly location: StoreLocation;
  close(): Awaitable<void>;

  /** Stores a comparison; returns its new id. */
  recordComparison(record: ComparisonRecord): Awaitable<string>;
  /** Comparisons in the order they were recorded. */
  listComparisons(): Awaitable<ComparisonRow[]>;
  getComparison(id: string): Awaitable<ComparisonRow | undefined>;
  /** The first recorded comparison whose summary is exactly this JSON (JSON.stringify of it). */
  findComparisonBySummary(summary: unknown): Awaitable<ComparisonRow | undefined>;

  /** Registers runs not yet stored (as pending), in one transaction; stored runs are left as they are. */
  registerRuns(definitions: readonly RunDefinition[]): Awaitable<void>;
  getRun(id: string): Awaitable<RunRow | undefined>;
  /** Runs in the order they were registered, filtered. */
  listRuns(filter?: RunFilter): Awaitable<RunRow[]>;
  /** Runs with their numeric metrics, evaluation curve and artifact path (runs tables). */
  listRunsWithCurves(filter?: RunFilter): Awaitable<RunWithCurve[]>;
  markRunning(id: string): Awaitable<void>;
  /** Marks runs still running as interrupted. */
  markInterrupted(ids: readonly string[]): Awaitable<void>;
  markFailed(id: string, error: string): Awaitable<void>;
  /** Stores a finished run (status, manifest, metrics, evaluations; its checkpoint row dropped) in one transaction. */
  finishRun(id: string, finished: FinishedRun): Awaitable<void>;
  metricsOf(id: string): Awaitable<Record<string, number | null | unknown>>;
  /** One numeric metric of every run that has it: run id -> value. */
  metricOfRuns(key: string): Awaitable<Map<string, number | null>>;
  evaluationsOf(id: string): Awaitable<EvaluationRow[]>;

  /** Points a run at its newest checkpoint file (inside `home`; kept relative to it). */
  recordCheckpoint(checkpoint: Omit<CheckpointRow, 'writtenAt'>): Awaitable<void>;
  /** A run's checkpoint, its path absolute under `home`. */
  checkpointOf(runId: string): Awaitable<CheckpointRow | undefined>;
  discardCheckpoint(runId: string): Awaitable<void>;
}

/** Opens the results store at a location: the home's SQLite file, or PostgreSQL (its driver loaded only then). */
export async function openResultsStore(location: StoreLocation): Promise<ResultsStoreBackend> {
  if (location.kind === 'sqlite') {
    const { ResultsStore } = await import('./store.js');
    return ResultsStore.open(location.home);
  }
  const { PostgresResultsStore } = await import('./store-postgres.js');
  return PostgresResultsStore.open(location);
}

/** Opens the store, hands it to `use`, and closes it whatever happens. */
export async function usingResultsStore<T>(location: StoreLocation, use: (store: ResultsStoreBackend) => Awaitable<T>): Promise<T> {
  const store = await openResultsStore(location);
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}
