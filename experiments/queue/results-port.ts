/**
 * Every access of the queue's submitters to the results store, behind one async interface,
 * so that the store's backend (SQLite today, PostgreSQL for a team) changes here only.
 *
 * Experiment runs are stored exactly as a local sweep stores them (experiments/sweep.ts:
 * the same run definition, manifest, metrics and evaluation episodes), plus the worker that
 * ran them in the manifest. A Calvano session is stored as a run too: experiment
 * `calvano-<8 hex digits of the config and scenario>`, agent kind `calvano`, its seed, the
 * session's key as id, metrics market/profitGain, market/averagePrice, calvano/converged,
 * calvano/periods, calvano/periodsToConvergence, time/sessionSeconds, and the whole session
 * (limit cycle, learned strategies) as the JSON metric calvano/session.
 */
import type { PlannedRun } from '../experiment-file.js';
import { storeLocation } from '../../core/store-url.js';
import { openResultsStore } from '../store-backend.js';
import { decodeArtifactFiles, keepRunArtifact } from '../run-artifact.js';
import { definitionOf, manifestOf } from '../sweep.js';
import { refuseStoredWithoutResume } from '../sweep-start.js';
import { calvanoSessionResultSchema, type CalvanoSessionJson, type ExperimentRunResult } from './job-payload.js';

/** A Calvano session to store: its key, the experiment it belongs to, what it ran. */
export interface CalvanoSessionPlan {
  readonly id: string;
  readonly experiment: string;
  readonly scenario: { readonly id: string; readonly contentHash: string };
  readonly config: unknown;
  readonly seed: number;
}

export interface QueueResultsPort {
  /** Where the results go (shown to the user). */
  readonly location: string;
  /**
   * Registers the runs not yet stored (pending) and returns those not finished. Runs already
   * stored without `resume` are refused (exit 2), as a local sweep refuses them.
   */
  runsToDo(experiment: string, runs: readonly PlannedRun[], options: { readonly resume: boolean }): Promise<{ readonly toDo: readonly PlannedRun[]; readonly finished: number }>;
  /** Writes a finished run's artifact folder (hashes checked), then stores the run in one transaction (metrics, evaluation episodes, manifest). */
  recordFinished(run: PlannedRun, result: ExperimentRunResult): Promise<void>;
  /** Stores a run's failure and its reason. */
  recordFailed(runId: string, error: string): Promise<void>;
  /** Registers the sessions not yet stored; returns those to run and the results already stored. */
  sessionsToDo(sessions: readonly CalvanoSessionPlan[]): Promise<{ readonly toDo: readonly CalvanoSessionPlan[]; readonly stored: readonly CalvanoSessionJson[] }>;
  recordSession(session: CalvanoSessionPlan, result: CalvanoSessionJson): Promise<void>;
  /** The stored evaluation episodes of runs, in the order given (`pricelab bench queue` compares sweeps with them). */
  evaluationsOf(runIds: readonly string[]): Promise<unknown[]>;
  /** The sum over runs of their stored time/trainSeconds + time/evaluationSeconds. */
  secondsInsideRuns(runIds: readonly string[]): Promise<number>;
  close(): Promise<void>;
}

/** The port over the results store of a pricelab home: its SQLite file, or the PostgreSQL of PRICELAB_STORE. */
export async function openResultsPort(home: string): Promise<QueueResultsPort> {
  const store = await openResultsStore(storeLocation({ home }));
  return {
    location: store.path,
    async runsToDo(experiment, runs, options) {
      const existing = [];
      for (const run of runs) {
        const row = await store.getRun(run.id);
        if (row !== undefined) existing.push(row);
      }
      const finished = existing.filter((row) => row.status === 'finished').length;
      refuseStoredWithoutResume({
        experiment,
        unit: 'runs',
        total: runs.length,
        stored: existing.map((row) => row.status),
        storePath: store.path,
        resume: options.resume,
        resumeNote: 'queued ones are joined, not added twice',
      });
      await store.registerRuns(runs.map(definitionOf));
      const toDo: PlannedRun[] = [];
      for (const run of runs) if ((await store.getRun(run.id))?.status !== 'finished') toDo.push(run);
      return { toDo, finished };
    },
    async recordFinished(run, result) {
      const { worker, artifact, ...outcome } = result;
      // Every file checked against the sha256 sent beside it and against policy.json, then written as a local sweep writes it.
      const kept = keepRunArtifact(store.home, run.id, 'files' in artifact ? { files: decodeArtifactFiles(run.id, artifact.files) } : artifact);
      const manifest = manifestOf(run, outcome, kept);
      await store.finishRun(run.id, { manifest: { ...(manifest as object), queue: { worker: worker ?? null } }, metrics: outcome.metrics, evaluations: outcome.evaluations });
    },
    async recordFailed(runId, error) {
      if ((await store.getRun(runId))?.status === 'finished') return; // a late failure report never undoes a stored result
      await store.markFailed(runId, error);
    },
    async sessionsToDo(sessions) {
      await store.registerRuns(
        sessions.map((session) => ({
          id: session.id,
          experiment: session.experiment,
          scenario: session.scenario,
          agent: { name: 'calvano', kind: 'calvano', config: session.config },
          seed: session.seed,
          manifest: { experiment: session.experiment, runKey: session.id, scenario: session.scenario, calvano: session.config, seed: session.seed, status: 'pending' },
        })),
      );
      const toDo: CalvanoSessionPlan[] = [];
      const stored: CalvanoSessionJson[] = [];
      for (const session of sessions) {
        if ((await store.getRun(session.id))?.status !== 'finished') {
          toDo.push(session);
          continue;
        }
        const parsed = calvanoSessionResultSchema.safeParse((await store.metricsOf(session.id))['calvano/session']);
        if (parsed.success) stored.push(parsed.data);
        else toDo.push(session);
      }
      return { toDo, stored };
    },
    async recordSession(session, result) {
      await store.finishRun(session.id, {
        manifest: { experiment: session.experiment, runKey: session.id, scenario: session.scenario, calvano: session.config, seed: session.seed, status: 'finished', queue: { worker: result.worker ?? null } },
        metrics: {
          'market/profitGain': result.profitGain,
          'market/averagePrice': result.averagePrice,
          'calvano/converged': result.converged ? 1 : 0,
          'calvano/periods': result.periods,
          'calvano/periodsToConvergence': result.periodsToConvergence,
          'time/sessionSeconds': result.seconds,
          'calvano/session': { json: result },
        },
        evaluations: [],
      });
    },
    async evaluationsOf(runIds) {
      const evaluations: unknown[] = [];
      for (const id of runIds) evaluations.push(await store.evaluationsOf(id));
      return evaluations;
    },
    async secondsInsideRuns(runIds) {
      const train = await store.metricOfRuns('time/trainSeconds');
      const evaluation = await store.metricOfRuns('time/evaluationSeconds');
      return runIds.reduce((total, id) => total + (train.get(id) ?? 0) + (evaluation.get(id) ?? 0), 0);
    },
    async close() {
      await store.close();
    },
  };
}
