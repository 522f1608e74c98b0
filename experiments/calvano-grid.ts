/**
 * Running a Calvano grid (experiments/calvano-grid-file.ts): every session of the plan not
 * yet finished in the results store, in worker threads (piscina, one task per session,
 * workers = min(cores, sessions) by default), each finished session written by this
 * thread to the store as one run (one transaction), then the grid's cells read back from
 * the store: per grid point, the sessions' mean profit gain with its 95% t interval,
 * convergence and cost (`calvanoGridCells`).
 *
 * A stored session is a run: agent kind "calvano", the grid point's validated config, the
 * session's seed, and these metrics:
 *   market/profitGain              mean over firms of (limit-cycle profit - Nash) / (monopoly - Nash)
 *   market/averagePrice            mean price over firms and the limit cycle
 *   calvano/converged              1 when every strategy held for the convergence window, else 0
 *   calvano/periods                periods played, the window included
 *   calvano/periodsToConvergence   periods - window when converged (the paper's figure), else null
 *   time/sessionSeconds            the session's wall seconds in its worker
 *   market/limitCycle              JSON: the cycle's states, the final state, each firm's profit gain
 *
 * Resume: finished sessions are skipped; the others run again from scratch (a session is
 * sub-second to a few seconds, so it has no checkpoint). Without `resume`, a plan whose
 * sessions are already in the store is refused (exit 2), so nothing is silently mixed.
 * Stopping (an AbortSignal): no new session starts; sessions in flight finish and are
 * stored; the rest stay pending for `--resume`.
 *
 * Where sessions run is one function, `GridSessionRunner`: local worker threads by default.
 * A distributed queue plugs in there (a job per session: the resolved config and the seed,
 * the resolved config and the seed; the result is a CalvanoSessionResult), and this module
 * stores what comes back the same way. The metric names are those the queue's Calvano
 * sessions use (calvano/..., market/..., time/...).
 */
import { pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import { codeVersion } from '../agents/artifact.js';
import type { CalvanoSessionResult } from '../agents/calvano.js';
import { refuseStoredWithoutResume, requestedWorkers, type SweepCounts } from './sweep-start.js';
import { agentOf, type CalvanoGridPlan, type CalvanoGridSession } from './calvano-grid-file.js';
import type { CalvanoGridTask } from './calvano-grid-worker.js';
import { mean, sampleStandardDeviation } from './statistics/moments.js';
import { oneSampleTTest } from './statistics/t-tests.js';
import { storeLocation } from '../core/store-url.js';
import { openResultsStore } from './store-backend.js';
import type { MetricValue, RunDefinition } from './store.js';
import { resolveImport } from './worker-module.js';

/**
 * Runs sessions somewhere and reports each result (or failure) as it arrives; resolves when
 * every session has been reported or `signal` stopped the dispatch.
 */
export type GridSessionRunner = (
  sessions: readonly CalvanoGridSession[],
  report: { readonly started: (session: CalvanoGridSession) => void; readonly finished: (session: CalvanoGridSession, result: CalvanoSessionResult) => void; readonly failed: (session: CalvanoGridSession, error: string) => void },
  signal?: AbortSignal,
) => Promise<void>;

export interface CalvanoGridRunOptions {
  /** The pricelab home (results store). */
  readonly home: string;
  /** Worker threads of the default runner; default min(cores, sessions to run). */
  readonly workers?: number;
  /** Continue a grid whose sessions are already in the store: finished ones are skipped. */
  readonly resume?: boolean;
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: CalvanoGridEvent) => void;
  /** Where sessions run; default local worker threads (`workers` of them). */
  readonly runner?: GridSessionRunner;
}

export type CalvanoGridEvent =
  | { readonly type: 'planned'; readonly total: number; readonly toRun: number; readonly skipped: number; readonly workers: number }
  | { readonly type: 'session-finished'; readonly session: CalvanoGridSession; readonly result: CalvanoSessionResult; readonly done: number; readonly toRun: number }
  | { readonly type: 'session-failed'; readonly session: CalvanoGridSession; readonly error: string; readonly done: number; readonly toRun: number };

export type CalvanoGridRunResult = SweepCounts;

export async function runCalvanoGrid(plan: CalvanoGridPlan, options: CalvanoGridRunOptions): Promise<CalvanoGridRunResult> {
  const started = performance.now();
  const requested = requestedWorkers(options.workers, 'grid');
  const store = await openResultsStore(storeLocation({ home: options.home }));
  try {
    const stored = new Map((await store.listRuns({ experiment: plan.file.name })).map((row) => [row.id, row.status]));
    refuseStoredWithoutResume({
      experiment: plan.file.name,
      unit: 'sessions',
      total: plan.sessions.length,
      stored: plan.sessions.flatMap((session) => stored.get(session.id) ?? []),
      storePath: store.path,
      resume: options.resume,
    });
    await store.registerRuns(plan.sessions.filter((session) => !stored.has(session.id)).map((session) => definitionOf(plan, session)));
    const toRun = plan.sessions.filter((session) => stored.get(session.id) !== 'finished');
    const workers = Math.max(1, Math.min(requested, toRun.length));
    options.onEvent?.({ type: 'planned', total: plan.sessions.length, toRun: toRun.length, skipped: plan.sessions.length - toRun.length, workers: toRun.length === 0 ? 0 : workers });
    const counts = { finished: 0, failed: 0 };
    if (toRun.length > 0) {
      const runner = options.runner ?? localRunner(workers);
      const startedAt = new Map<string, string>();
      // The runner reports synchronously; the store's writes (awaited with PostgreSQL) go one after another, in report order.
      let writes: Promise<void> = Promise.resolve();
      const write = (change: () => unknown) => {
        writes = writes.then(async () => {
          await change();
        });
      };
      await runner(
        toRun,
        {
          started: (session) => {
            startedAt.set(session.id, new Date().toISOString());
            write(() => store.markRunning(session.id));
          },
          finished: (session, result) => {
            const endedAt = new Date().toISOString();
            write(() => store.finishRun(session.id, { manifest: manifestOf(plan, session, { startedAt: startedAt.get(session.id) ?? endedAt, endedAt }), metrics: metricsOf(result), evaluations: [] }));
            counts.finished++;
            options.onEvent?.({ type: 'session-finished', session, result, done: counts.finished + counts.failed, toRun: toRun.length });
          },
          failed: (session, error) => {
            write(() => store.markFailed(session.id, error));
            counts.failed++;
            options.onEvent?.({ type: 'session-failed', session, error, done: counts.finished + counts.failed, toRun: toRun.length });
          },
        },
        options.signal,
      );
      await writes;
    }
    const stopped = options.signal?.aborted === true && counts.finished + counts.failed < toRun.length;
    return { total: plan.sessions.length, ...counts, skipped: plan.sessions.length - toRun.length, workers: toRun.length === 0 ? 0 : workers, wallSeconds: (performance.now() - started) / 1000, stopped };
  } finally {
    await store.close();
  }
}

/** The metrics stored for a session (see the card). */
export function metricsOf(result: CalvanoSessionResult): Record<string, MetricValue> {
  return {
    'market/profitGain': result.profitGain,
    'market/averagePrice': result.averagePrice,
    'calvano/converged': result.converged ? 1 : 0,
    'calvano/periods': result.periods,
    'calvano/periodsToConvergence': result.periodsToConvergence,
    'time/sessionSeconds': result.seconds,
    'market/limitCycle': { json: { cycleStates: result.cycleStates, finalState: result.finalState, profitGains: result.profitGains } },
  };
}

function definitionOf(plan: CalvanoGridPlan, session: CalvanoGridSession): RunDefinition {
  return {
    id: session.id,
    experiment: plan.file.name,
    scenario: { id: plan.scenario.scenario.id, contentHash: plan.scenario.contentHash },
    agent: agentOf(session.config),
    seed: session.seed,
    manifest: manifestOf(plan, session),
  };
}

/** The run manifest (design.md "Run record"). */
function manifestOf(plan: CalvanoGridPlan, session: CalvanoGridSession, times?: { startedAt: string; endedAt: string }): unknown {
  return {
    experiment: plan.file.name,
    kind: 'calvano-grid',
    runKey: session.id,
    scenario: { id: plan.scenario.scenario.id, contentHash: plan.scenario.contentHash, source: plan.scenario.source },
    agent: agentOf(session.config),
    gridPoint: { alpha: session.alpha, beta: session.beta },
    seeds: { session: session.seed },
    codeVersion,
    ...(times ? { status: 'finished', ...times } : { status: 'pending' }),
  };
}

/** The default runner: `workers` threads, one session at a time each, none started once stopped. */
function localRunner(workers: number): GridSessionRunner {
  return async (sessions, report, signal) => {
    const pool = new Piscina<CalvanoGridTask, CalvanoSessionResult>({ ...workerFile(), minThreads: workers, maxThreads: workers, idleTimeout: 1_000, concurrentTasksPerWorker: 1 });
    let next = 0;
    const lanes = Array.from({ length: workers }, async () => {
      while (signal?.aborted !== true && next < sessions.length) {
        const session = sessions[next++]!;
        report.started(session);
        let result: CalvanoSessionResult;
        try {
          result = await pool.run({ config: session.resolved, seed: session.seed });
        } catch (error) {
          report.failed(session, error instanceof Error ? error.message : String(error));
          continue;
        }
        report.finished(session, result);
      }
    });
    try {
      await Promise.all(lanes);
    } finally {
      await pool.destroy();
    }
  };
}

/** The worker module: dist's compiled calvano-grid-worker.js, or the .ts source through tsx when this module runs from source (tests). */
function workerFile(): { filename: string; execArgv?: string[] } {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return { filename: new URL('./calvano-grid-worker.js', here).href };
  return { filename: new URL('./calvano-grid-worker.ts', here).href, execArgv: ['--import', pathToFileURL(resolveImport(here, 'tsx', '.')).href] };
}

/** One grid point's figures, from its finished sessions in the store. */
export interface CalvanoGridCell {
  readonly alpha: number;
  readonly beta: number;
  /** Sessions planned at this point, and those finished in the store (the others are pending, running or failed). */
  readonly planned: number;
  readonly sessions: number;
  readonly converged: number;
  /** Mean profit gain over the finished sessions; null when none finished. */
  readonly profitGainMean: number | null;
  /** Sample standard deviation (n - 1); null below two sessions. */
  readonly profitGainSd: number | null;
  /** 95% t interval of the mean; null below two sessions. */
  readonly profitGainLow: number | null;
  readonly profitGainHigh: number | null;
  /** Mean over converged sessions of periods - window; null when none converged. */
  readonly meanPeriodsToConvergence: number | null;
  readonly averagePrice: number | null;
  /** Mean of one session's wall seconds in its worker thread (a loaded machine inflates it). */
  readonly secondsPerSession: number | null;
}

/** The grid's cells, alpha-major then beta, from the sessions of this plan that are finished in the store of `home`. */
export async function calvanoGridCells(plan: CalvanoGridPlan, home: string): Promise<CalvanoGridCell[]> {
  const store = await openResultsStore(storeLocation({ home }));
  try {
    const finished = new Set((await store.listRuns({ experiment: plan.file.name, status: 'finished' })).map((row) => row.id));
    const metric = (key: string) => store.metricOfRuns(key);
    const gains = await metric('market/profitGain');
    const converged = await metric('calvano/converged');
    const toConvergence = await metric('calvano/periodsToConvergence');
    const prices = await metric('market/averagePrice');
    const seconds = await metric('time/sessionSeconds');
    const byPoint = new Map<string, CalvanoGridSession[]>();
    for (const session of plan.sessions) {
      const key = `${session.alpha}|${session.beta}`;
      const list = byPoint.get(key) ?? [];
      list.push(session);
      byPoint.set(key, list);
    }
    const cells: CalvanoGridCell[] = [];
    for (const alpha of plan.alphas) {
      for (const beta of plan.betas) {
        const planned = byPoint.get(`${alpha}|${beta}`) ?? [];
        const done = planned.filter((session) => finished.has(session.id));
        const values = (source: Map<string, number | null>, among = done) => among.map((session) => source.get(session.id)).filter((value): value is number => typeof value === 'number');
        const gainValues = values(gains);
        const convergedSessions = done.filter((session) => converged.get(session.id) === 1);
        const interval = gainValues.length >= 2 ? oneSampleTTest(gainValues) : null;
        const orNull = (list: number[]) => (list.length === 0 ? null : mean(list));
        cells.push({
          alpha,
          beta,
          planned: planned.length,
          sessions: done.length,
          converged: convergedSessions.length,
          profitGainMean: orNull(gainValues),
          profitGainSd: gainValues.length >= 2 ? sampleStandardDeviation(gainValues) : null,
          profitGainLow: interval?.low ?? null,
          profitGainHigh: interval?.high ?? null,
          meanPeriodsToConvergence: orNull(values(toConvergence, convergedSessions)),
          averagePrice: orNull(values(prices)),
          secondsPerSession: orNull(values(seconds)),
        });
      }
    }
    return cells;
  } finally {
    await store.close();
  }
}
