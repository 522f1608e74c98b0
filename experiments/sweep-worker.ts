/**
 * One run of a sweep, in a worker thread (a piscina task; experiments/sweep.ts dispatches
 * them): build the scenario's market, create the agent (restored from its checkpoint when
 * resuming), train within the budget, then evaluate greedily on the experiment's
 * evaluation seeds. It posts progress and checkpoints to the main thread through the
 * task's port and returns the run's manifest parts, metrics, evaluation episodes and the
 * trained policy's artifact files (experiments/run-artifact.ts); the main thread writes the
 * artifact folder, then the rest to the store in one transaction. The worker never touches the
 * database.
 *
 * The same function runs a queue job (experiments/queue/job-thread.ts): the job carries the
 * scenario's bytes (checked against the planned content hash) instead of a path, and no home,
 * so it writes no checkpoint (a run taken over by another worker starts afresh, which gives
 * the same result: a run is a function of its seeds).
 *
 * A coupon scenario (a `coupons` block) trains and evaluates in the coupon market
 * (env/coupons/coupon-env.ts), as `pricelab train` does there (experiments/coupon-train-run.ts):
 * its evaluation episodes carry the coupon KPIs and its artifact is a coupon policy (campaign
 * menu, the coupon market's features, the targeting it may use).
 *
 * Stopping: the main thread sets the task's stop flag (shared memory, read at every
 * episode boundary, since training never yields to the event loop); the run saves a
 * checkpoint there (if the agent supports it) and returns 'stopped'.
 */
import type { MessagePort } from 'node:worker_threads';
import { canCheckpoint } from '../agents/agent.js';
import { makeEnv } from '../env/env.js';
import { CouponEnv } from '../env/coupons/coupon-env.js';
import { PricelabError } from '../core/errors.js';
import { buildMarketModel } from '../env/model.js';
import { createHash } from 'node:crypto';
import { loadScenario, parseScenario, type LoadedScenario } from '../scenarios/load.js';
import { readCheckpoint, writeCheckpoint } from './checkpoint.js';
import { profitGainAt } from './competition.js';
import type { PlannedRun } from './experiment-file.js';
import { exportRunArtifact, type RunArtifact } from './run-artifact.js';
import { agentFor } from './setup.js';
import type { MetricValue } from './store.js';
import { evaluate, train, type TrainBoundary } from './train.js';

export interface SweepTask {
  readonly run: PlannedRun;
  /** The pricelab home, where checkpoints are written; none (a queue job): no checkpoints. */
  readonly home?: string;
  /** The scenario file's bytes (a queue job); without them the run reads run.scenario.source. */
  readonly scenarioBytes?: Uint8Array;
  /** The checkpoint to resume from, as the store points at it. */
  readonly resumeFrom?: { readonly path: string; readonly sha256: string };
  /** Int32Array over it: [0] = 1 asks the run to stop at the next episode boundary. */
  readonly stopFlag: SharedArrayBuffer;
  readonly port: MessagePort;
}

export type SweepMessage =
  | { readonly type: 'progress'; readonly runId: string; readonly steps: number; readonly totalSteps: number }
  | { readonly type: 'checkpoint'; readonly runId: string; readonly episodes: number; readonly steps: number; readonly path: string; readonly sha256: string };

export interface RunOutcomeFinished {
  readonly status: 'finished';
  readonly runId: string;
  readonly metrics: Record<string, MetricValue>;
  readonly evaluations: { episode: number; seed: number; totalReward: number; kpis: Record<string, number | null> }[];
  /** Where training started: 0 episodes, or the checkpoint's boundary. */
  readonly resumedAt: { readonly episodes: number; readonly steps: number } | null;
  readonly checkpoints: boolean;
  /** The trained agent's policy artifact (experiments/run-artifact.ts), or why there is none. */
  readonly artifact: RunArtifact;
  readonly startedAt: string;
  readonly endedAt: string;
}

export interface RunOutcomeStopped {
  readonly status: 'stopped';
  readonly runId: string;
  readonly episodes: number;
  readonly steps: number;
  /** A checkpoint was saved at the stop (the agent supports checkpoints). */
  readonly checkpointed: boolean;
}

export type RunOutcome = RunOutcomeFinished | RunOutcomeStopped;

export default async function runSweepTask(task: SweepTask): Promise<RunOutcome> {
  const { run, port } = task;
  const stop = new Int32Array(task.stopFlag);
  const startedAt = new Date().toISOString();
  try {
    const loaded = scenarioOf(task);
    if (loaded.contentHash !== run.scenario.contentHash) throw new Error(`${run.scenario.source} changed since the sweep was planned (content hash ${loaded.contentHash}, planned ${run.scenario.contentHash})`);
    const model = buildMarketModel(loaded.scenario);
    const couponEnv = loaded.scenario.coupons === undefined ? undefined : new CouponEnv(loaded.scenario);
    const env = couponEnv ?? makeEnv(model);
    const agent = await agentFor(env, run.agent.kind, run.agent.config, run.seed);
    const checkpoints = canCheckpoint(agent) && task.home !== undefined;
    let resumeFrom: TrainBoundary | undefined;
    if (task.resumeFrom && canCheckpoint(agent)) {
      const { path, sha256 } = task.resumeFrom;
      try {
        const checkpoint = readCheckpoint(path, sha256);
        agent.restoreCheckpoint(checkpoint.agent);
        resumeFrom = checkpoint.boundary;
      } catch (error) {
        // Whatever refused it (the file, its hash, its shape, the agent), the error names the checkpoint and the way out.
        const reason = error instanceof Error ? error.message : String(error);
        const named = reason.includes(path) ? reason : `the checkpoint ${path} cannot be restored: ${reason}`;
        throw new PricelabError('integrity', `${named}\n  start this run afresh (its checkpoint discarded) with: pricelab experiment run <file> --resume --restart-failed`);
      }
    }
    const totalSteps = 'steps' in run.budget ? run.budget.steps : run.budget.episodes * model.horizon;
    let stopped: RunOutcomeStopped | undefined;
    const saveCheckpoint = (boundary: TrainBoundary) => {
      if (!canCheckpoint(agent) || task.home === undefined) return false;
      const written = writeCheckpoint(task.home, {
        format: 'pricelab/run-checkpoint@1',
        runId: run.id,
        boundary: { steps: boundary.steps, episodes: boundary.episodes, episodeRewards: [...boundary.episodeRewards] },
        agent: agent.saveCheckpoint(),
      });
      port.postMessage({ type: 'checkpoint', runId: run.id, episodes: boundary.episodes, steps: boundary.steps, ...written } satisfies SweepMessage);
      return true;
    };
    const budgetSpent = (boundary: TrainBoundary) => ('steps' in run.budget ? boundary.steps >= run.budget.steps : boundary.episodes >= run.budget.episodes);
    const trained = await train(env, agent, {
      ...run.budget,
      seed: run.seed,
      evaluateEvery: 0,
      ...(resumeFrom ? { resumeFrom } : {}),
      onProgress: (progress) => port.postMessage({ type: 'progress', runId: run.id, steps: progress.steps, totalSteps } satisfies SweepMessage),
      onEpisodeEnd: (boundary) => {
        if (budgetSpent(boundary)) return undefined;
        if (Atomics.load(stop, 0) === 1) {
          stopped = { status: 'stopped', runId: run.id, episodes: boundary.episodes, steps: boundary.steps, checkpointed: saveCheckpoint(boundary) };
          return 'stop';
        }
        if (boundary.episodes % run.checkpointEvery === 0) saveCheckpoint(boundary);
        return undefined;
      },
    });
    if (stopped) {
      agent.dispose();
      return stopped;
    }
    // The policy as trained (before evaluation, which only acts greedily).
    const artifact = await exportRunArtifact(agent, run, model, { id: loaded.scenario.id, contentHash: loaded.contentHash, bytes: loaded.bytes }, trained, couponEnv);
    const evaluationStarted = performance.now();
    const pricePeriods: number[][] = [];
    const episodes = evaluate(env, agent, {
      episodes: run.evaluation.episodes,
      seed: run.evaluation.seed,
      recordSteps: model.benchmarks !== undefined,
      onEpisode: (episode) => {
        for (const step of episode.steps) pricePeriods.push(step.prices);
        episode.steps.length = 0;
      },
    });
    const evaluationSeconds = (performance.now() - evaluationStarted) / 1000;
    agent.dispose();
    const evaluations = episodes.map((episode, index) => ({ episode: index, seed: episode.seed, totalReward: episode.totalReward, kpis: { ...episode.kpis } as Record<string, number | null> }));
    const metrics: Record<string, MetricValue> = {
      'train/steps': trained.steps,
      'train/episodes': trained.episodes,
      'rollout/meanEpisodeReward': mean(trained.episodeRewards),
      'rollout/lastEpisodeReward': trained.episodeRewards.at(-1) ?? null,
      'rollout/episodeRewards': { json: trained.episodeRewards },
      'eval/meanReward': mean(evaluations.map((episode) => episode.totalReward)),
      'eval/episodes': evaluations.length,
      'time/trainSeconds': trained.seconds,
      'time/evaluationSeconds': evaluationSeconds,
      'time/stepsPerSecond': (trained.steps - (resumeFrom?.steps ?? 0)) / Math.max(1e-9, trained.seconds),
    };
    for (const kpi of run.kpis) {
      // Finite values only (a coupon arm's cost per incremental unit is infinite when its coupons created nothing).
      const values = evaluations.map((episode) => episode.kpis[kpi]).filter((value): value is number => typeof value === 'number' && Number.isFinite(value));
      metrics[`eval/${kpi}`] = values.length > 0 ? mean(values) : null;
    }
    // The collusion monitor: only where the market has Nash and monopoly benchmarks.
    const gain = profitGainAt(model, pricePeriods);
    if (gain) {
      metrics['market/profitGain'] = gain.mean;
      metrics['market/profitGainPerFirm'] = { json: gain.perFirm };
    }
    return {
      status: 'finished',
      runId: run.id,
      metrics,
      evaluations,
      resumedAt: resumeFrom ? { episodes: resumeFrom.episodes, steps: resumeFrom.steps } : null,
      checkpoints,
      artifact,
      startedAt,
      endedAt: new Date().toISOString(),
    };
  } finally {
    port.close();
  }
}

/** The scenario from the task's bytes (a queue job), or read from its source path. */
function scenarioOf(task: SweepTask): Pick<LoadedScenario, 'scenario' | 'contentHash' | 'bytes'> {
  if (task.scenarioBytes === undefined) return loadScenario(task.run.scenario.source);
  const bytes = Buffer.from(task.scenarioBytes);
  return { scenario: parseScenario(bytes.toString('utf8'), `scenario ${task.run.scenario.id}`), contentHash: createHash('sha256').update(bytes).digest('hex'), bytes: new Uint8Array(bytes) };
}

function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : values.reduce((total, value) => total + value, 0) / values.length;
}
