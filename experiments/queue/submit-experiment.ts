/**
 * An experiment file's runs on the queue (`pricelab experiment run <file> --queue <url>`):
 * every run not finished in the store becomes a job (experiments/queue/job-payload.ts), and
 * each result is stored as it arrives, exactly as a local sweep stores it
 * (experiments/queue/results-port.ts). Same file, same seeds: the same stored results as a
 * local sweep with any number of worker threads.
 */
import type { ExperimentPlan, PlannedRun } from '../experiment-file.js';
import type { QueueConnectionSettings } from './connection.js';
import { experimentRunJob, experimentRunResultSchema, type ExperimentRunJob } from './job-payload.js';
import type { QueueResultsPort } from './results-port.js';
import { passedSettings, submitAndFollow, type QueueItem, type SubmitEvent, type SubmitResult } from './submitter.js';

export interface QueuedRunItem extends QueueItem {
  readonly run: PlannedRun;
  readonly data: ExperimentRunJob;
}

export interface SubmitExperimentOptions extends QueueConnectionSettings {
  readonly results: QueueResultsPort;
  /** Continue an experiment already in the store (finished runs are skipped). */
  readonly resume?: boolean;
  readonly attempts?: number;
  readonly pollSeconds?: number;
  readonly signal?: AbortSignal;
  readonly onPlanned?: (planned: { readonly total: number; readonly toRun: number; readonly skipped: number; readonly totalSteps: number }) => void;
  readonly onEvent?: (event: SubmitEvent<QueuedRunItem>) => void;
}

export interface SubmitExperimentResult extends SubmitResult {
  readonly total: number;
  readonly skipped: number;
  readonly wallSeconds: number;
}

export async function submitExperiment(plan: ExperimentPlan, options: SubmitExperimentOptions): Promise<SubmitExperimentResult> {
  const started = performance.now();
  const { toDo } = await options.results.runsToDo(plan.file.name, plan.runs, { resume: options.resume === true });
  const bytesByHash = new Map(plan.scenarios.map((loaded) => [loaded.contentHash, loaded.bytes]));
  const horizonByHash = new Map(plan.scenarios.map((loaded) => [loaded.contentHash, loaded.scenario.horizonDays ?? 365]));
  const items: QueuedRunItem[] = toDo.map((run) => ({
    jobId: run.id,
    run,
    data: experimentRunJob(run, bytesByHash.get(run.scenario.contentHash)!),
    weight: 'steps' in run.budget ? run.budget.steps : run.budget.episodes * (horizonByHash.get(run.scenario.contentHash) ?? 365),
  }));
  const skipped = plan.runs.length - toDo.length;
  options.onPlanned?.({ total: plan.runs.length, toRun: items.length, skipped, totalSteps: items.reduce((total, item) => total + item.weight, 0) });
  if (items.length === 0) return { total: plan.runs.length, skipped, finished: 0, failed: 0, left: 0, stopped: false, workersSeen: [], wallSeconds: 0 };
  const result = await submitAndFollow<QueuedRunItem>({
    ...passedSettings(options),
    items,
    onFinished: async (item, returned) => {
      const parsed = experimentRunResultSchema.safeParse(returned);
      if (!parsed.success) throw new Error(`expected a finished run's result, found: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ')}`);
      if (parsed.data.runId !== item.run.id) throw new Error(`expected the result of run ${item.run.id}, found run ${parsed.data.runId}`);
      await options.results.recordFinished(item.run, parsed.data);
    },
    onFailed: (item, reason) => options.results.recordFailed(item.run.id, reason),
  });
  return { ...result, total: plan.runs.length, skipped, wallSeconds: (performance.now() - started) / 1000 };
}
