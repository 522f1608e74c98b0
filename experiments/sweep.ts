/**
 * Sweeps: every run of an experiment plan in worker threads (piscina, one task per run,
 * workers = min(cores, runs) by default), results written by this thread to the results
 * store, one transaction per finished run.
 *
 * A finished run's trained policy is kept as an artifact in `<home>/runs/<run id>/policy`
 * (experiments/run-artifact.ts), written atomically before the row that names it.
 *
 * Lifecycle of a run in the store: pending (registered) -> running -> finished, or failed
 * (the error kept), or interrupted (stopped by the signal, or found 'running' by a resume
 * after a killed sweep). Checkpoints: the worker writes each file atomically, then this
 * thread points the run's row at it (one transaction) and removes the previous file.
 *
 * Resume: finished runs are skipped; the others start again, from their last checkpoint
 * when there is one (the run continues exactly: episode e uses seed + e), from scratch
 * otherwise (agents without checkpoints, or none written yet). A checkpoint that cannot be
 * read or restored fails its run with an integrity error naming the file; `restartFailed`
 * (`--resume --restart-failed`) discards the checkpoints of failed runs and starts them afresh. Without `resume`, a plan
 * whose runs are already in the store is refused (exit 2), so nothing is silently mixed.
 *
 * Stopping (an AbortSignal, e.g. Ctrl-C): no new run starts; running runs stop at their
 * next episode boundary with a checkpoint and are marked interrupted.
 */
import { pathToFileURL } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { codeVersion } from '../agents/artifact.js';
import { configError } from '../core/errors.js';
import { removeCheckpointFile, removeCheckpoints } from './checkpoint.js';
import { keepRunArtifact, type RunArtifactRecord } from './run-artifact.js';
import { resolveImport } from './worker-module.js';
import { refuseStoredWithoutResume, requestedWorkers, type SweepCounts } from './sweep-start.js';
import type { ExperimentPlan, PlannedRun } from './experiment-file.js';
import { storeLocation, type StoreLocation } from '../core/store-url.js';
import { openResultsStore } from './store-backend.js';
import type { CheckpointRow, RunDefinition, RunRow, RunStatus } from './store-rows.js';
import type { RunOutcome, RunOutcomeFinished, SweepMessage, SweepTask } from './sweep-worker.js';

export interface SweepOptions {
  /** The pricelab home (results store and checkpoints). */
  readonly home: string;
  /** Where the rows go (default: PRICELAB_STORE, else the SQLite file of `home`); checkpoints go under its folder. */
  readonly store?: StoreLocation;
  /** Worker threads; default min(cores, runs to do). */
  readonly workers?: number;
  /** Continue a sweep whose runs are already in the store. */
  readonly resume?: boolean;
  /** With resume: failed runs start afresh, their checkpoints (damaged, say) discarded. */
  readonly restartFailed?: boolean;
  /** Aborting stops the sweep cleanly (see the card). */
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: SweepEvent) => void;
}

export type SweepEvent =
  | { readonly type: 'planned'; readonly total: number; readonly toRun: number; readonly skipped: number; readonly workers: number; readonly totalSteps: number }
  | { readonly type: 'restart-from-scratch'; readonly run: PlannedRun; readonly reason: string }
  | { readonly type: 'resume-from-checkpoint'; readonly run: PlannedRun; readonly episodes: number; readonly steps: number }
  | { readonly type: 'progress'; readonly doneSteps: number; readonly totalSteps: number }
  | { readonly type: 'run-finished'; readonly run: PlannedRun; readonly metrics: RunOutcomeFinished['metrics']; readonly seconds: number }
  | { readonly type: 'run-failed'; readonly run: PlannedRun; readonly error: string }
  | { readonly type: 'run-interrupted'; readonly run: PlannedRun; readonly episodes: number; readonly checkpointed: boolean };

export interface SweepResult extends SweepCounts {
  readonly interrupted: number;
}

export async function runSweep(plan: ExperimentPlan, options: SweepOptions): Promise<SweepResult> {
  const started = performance.now();
  const requested = requestedWorkers(options.workers, 'sweep');
  if (options.restartFailed && !options.resume) {
    throw configError('--restart-failed continues an experiment', [{ path: ['restartFailed'], message: 'expected --resume with --restart-failed, found --restart-failed alone' }]);
  }
  const store = await openResultsStore(options.store ?? storeLocation({ home: options.home }));
  try {
    const existing: RunRow[] = [];
    for (const run of plan.runs) {
      const row = await store.getRun(run.id);
      if (row !== undefined) existing.push(row);
    }
    refuseStoredWithoutResume({ experiment: plan.file.name, unit: 'runs', total: plan.runs.length, stored: existing.map((row) => row.status), storePath: store.path, resume: options.resume });
    await store.registerRuns(plan.runs.map(definitionOf));
    const statuses = new Map<string, RunStatus | undefined>();
    for (const run of plan.runs) statuses.set(run.id, (await store.getRun(run.id))?.status);
    // Runs left 'running' belong to a sweep that was killed: they are interrupted.
    await store.markInterrupted(plan.runs.filter((run) => statuses.get(run.id) === 'running').map((run) => run.id));
    // --restart-failed: the store forgets a failed run's checkpoint first, then its files go,
    // so a kill in between leaves stray files, never a row pointing at a missing file.
    const restartedAfresh = new Set<string>();
    if (options.restartFailed) {
      for (const run of plan.runs) {
        if (statuses.get(run.id) !== 'failed') continue;
        await store.discardCheckpoint(run.id);
        removeCheckpoints(store.home, run.id);
        restartedAfresh.add(run.id);
      }
    }
    const toRun = plan.runs.filter((run) => statuses.get(run.id) !== 'finished');
    const workers = Math.max(1, Math.min(requested, toRun.length));
    const stepsOf = (run: PlannedRun) => ('steps' in run.budget ? run.budget.steps : run.budget.episodes * horizonOf(plan, run));
    const totalSteps = toRun.reduce((total, run) => total + stepsOf(run), 0);
    options.onEvent?.({ type: 'planned', total: plan.runs.length, toRun: toRun.length, skipped: plan.runs.length - toRun.length, workers, totalSteps });
    if (toRun.length === 0) return { total: plan.runs.length, finished: 0, failed: 0, interrupted: 0, skipped: plan.runs.length, workers: 0, wallSeconds: 0, stopped: false };

    const pool = new Piscina<SweepTask, RunOutcome>({ ...workerFile(), minThreads: workers, maxThreads: workers, idleTimeout: 1_000, concurrentTasksPerWorker: 1 });
    const progressByRun = new Map<string, number>();
    let doneSteps = 0;
    const stopFlags = new Map<string, Int32Array>();
    let stopped = false;
    const stopAll = () => {
      stopped = true;
      for (const flag of stopFlags.values()) Atomics.store(flag, 0, 1);
    };
    if (options.signal?.aborted) stopAll();
    options.signal?.addEventListener('abort', stopAll, { once: true });
    const counts = { finished: 0, failed: 0, interrupted: 0 };

    const runOne = async (run: PlannedRun): Promise<void> => {
      // Only agents with the checkpoint capability ever write one. A row that cannot be
      // trusted (a path outside the home) fails this run only: --restart-failed discards it.
      let checkpoint: CheckpointRow | undefined;
      try {
        checkpoint = await store.checkpointOf(run.id);
      } catch (error) {
        const message = `${error instanceof Error ? error.message : String(error)}\n  start this run afresh (its checkpoint discarded) with: pricelab experiment run <file> --resume --restart-failed`;
        await store.markFailed(run.id, message);
        counts.failed++;
        options.onEvent?.({ type: 'run-failed', run, error: message });
        doneSteps += stepsOf(run);
        return;
      }
      if (statuses.get(run.id) !== 'pending') {
        if (checkpoint) options.onEvent?.({ type: 'resume-from-checkpoint', run, episodes: checkpoint.episodes, steps: checkpoint.steps });
        else if (restartedAfresh.has(run.id)) options.onEvent?.({ type: 'restart-from-scratch', run, reason: 'it failed before, and --restart-failed discarded its checkpoint' });
        else options.onEvent?.({ type: 'restart-from-scratch', run, reason: `no checkpoint in the store (${run.agent.kind} has no checkpoint capability, or it stopped before its first)` });
      }
      await store.markRunning(run.id);
      const flagMemory = new SharedArrayBuffer(4);
      const flag = new Int32Array(flagMemory);
      stopFlags.set(run.id, flag);
      if (stopped) Atomics.store(flag, 0, 1);
      const channel = new MessageChannel();
      let lastCheckpointPath = checkpoint?.path;
      // Checkpoint rows are written in the order the worker reports them; the run's end waits for them.
      let checkpointWrites: Promise<void> = Promise.resolve();
      let checkpointError: unknown;
      channel.port1.on('message', (message: SweepMessage) => {
        if (message.type === 'progress') {
          const before = progressByRun.get(run.id) ?? 0;
          progressByRun.set(run.id, message.steps);
          doneSteps += message.steps - before;
          options.onEvent?.({ type: 'progress', doneSteps, totalSteps });
        } else {
          checkpointWrites = checkpointWrites.then(async () => {
            if (checkpointError !== undefined) return;
            try {
              await store.recordCheckpoint({ runId: run.id, episodes: message.episodes, steps: message.steps, path: message.path, sha256: message.sha256 });
            } catch (error) {
              checkpointError = error;
              return;
            }
            if (lastCheckpointPath !== undefined && lastCheckpointPath !== message.path) removeCheckpointFile(lastCheckpointPath);
            lastCheckpointPath = message.path;
          });
        }
      });
      const task: SweepTask = {
        run,
        home: store.home,
        ...(checkpoint ? { resumeFrom: { path: checkpoint.path, sha256: checkpoint.sha256 } } : {}),
        stopFlag: flagMemory,
        port: channel.port2,
      };
      const runStarted = performance.now();
      try {
        const outcome = await pool.run(task, { transferList: [channel.port2] });
        // Messages posted before the task returned may still be queued: let them land first.
        await new Promise((resolve) => setImmediate(resolve));
        await checkpointWrites;
        if (checkpointError !== undefined) throw checkpointError;
        if (outcome.status === 'stopped') {
          await store.markInterrupted([run.id]);
          counts.interrupted++;
          options.onEvent?.({ type: 'run-interrupted', run, episodes: outcome.episodes, checkpointed: outcome.checkpointed });
          return;
        }
        // The artifact folder first, then the row that names it (a kill in between leaves a stray folder, never a row pointing at nothing).
        const kept = keepRunArtifact(store.home, run.id, outcome.artifact);
        await store.finishRun(run.id, { manifest: manifestOf(run, outcome, kept), metrics: outcome.metrics, evaluations: outcome.evaluations });
        removeCheckpoints(store.home, run.id);
        counts.finished++;
        options.onEvent?.({ type: 'run-finished', run, metrics: outcome.metrics, seconds: (performance.now() - runStarted) / 1000 });
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        await checkpointWrites;
        await store.markFailed(run.id, message);
        counts.failed++;
        options.onEvent?.({ type: 'run-failed', run, error: message });
      } finally {
        channel.port1.close();
        stopFlags.delete(run.id);
        const total = stepsOf(run);
        doneSteps += total - (progressByRun.get(run.id) ?? 0);
        progressByRun.set(run.id, total);
      }
    };

    // Dispatch: at most `workers` runs in flight, none started once stopped.
    let next = 0;
    const lanes = Array.from({ length: workers }, async () => {
      while (!stopped && next < toRun.length) await runOne(toRun[next++]!);
    });
    try {
      await Promise.all(lanes);
    } finally {
      options.signal?.removeEventListener('abort', stopAll);
      await pool.destroy();
    }
    return { total: plan.runs.length, ...counts, skipped: plan.runs.length - toRun.length, workers, wallSeconds: (performance.now() - started) / 1000, stopped };
  } finally {
    await store.close();
  }
}

/** What the store registers for a planned run (also the queue's submitter: experiments/queue/results-port.ts). */
export function definitionOf(run: PlannedRun): RunDefinition {
  return {
    id: run.id,
    experiment: run.experiment,
    scenario: { id: run.scenario.id, contentHash: run.scenario.contentHash },
    agent: run.agent,
    seed: run.seed,
    manifest: manifestOf(run),
  };
}

/**
 * The run manifest (design.md "Run record"); finished runs add their times, where they resumed
 * and their policy artifact's folder (`policy`, null with `policyUnavailable` when the agent's export failed).
 */
export function manifestOf(run: PlannedRun, outcome?: Pick<RunOutcomeFinished, 'startedAt' | 'endedAt' | 'checkpoints' | 'resumedAt'>, artifact?: RunArtifactRecord): unknown {
  return {
    experiment: run.experiment,
    runKey: run.id,
    scenario: run.scenario,
    agent: run.agent,
    seeds: { training: run.seed, trainingEpisodes: 'episode e uses seed + e', agent: run.seed, evaluation: { first: run.evaluation.seed, episodes: run.evaluation.episodes } },
    budget: run.budget,
    kpis: run.kpis,
    codeVersion,
    ...(outcome
      ? { status: 'finished', startedAt: outcome.startedAt, endedAt: outcome.endedAt, checkpoints: outcome.checkpoints, resumedAt: outcome.resumedAt, ...(artifact ?? {}) }
      : { status: 'pending' }),
  };
}

const horizons = new Map<string, number>();
function horizonOf(plan: ExperimentPlan, run: PlannedRun): number {
  const cached = horizons.get(run.scenario.contentHash);
  if (cached !== undefined) return cached;
  const loaded = plan.scenarios.find((scenario) => scenario.contentHash === run.scenario.contentHash);
  const horizon = loaded?.scenario.horizonDays ?? 365;
  horizons.set(run.scenario.contentHash, horizon);
  return horizon;
}

/** The worker module: dist's compiled sweep-worker.js, or the .ts source through tsx when this module runs from source (tests). */
function workerFile(): { filename: string; execArgv?: string[] } {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return { filename: new URL('./sweep-worker.js', here).href };
  return { filename: new URL('./sweep-worker.ts', here).href, execArgv: ['--import', pathToFileURL(resolveImport(here, 'tsx', '.')).href] };
}


