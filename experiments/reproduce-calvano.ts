/**
 * The Calvano et al. (2020) experiment: S independent sessions (seeds firstSeed ..
 * firstSeed + S - 1) of agents/calvano.ts, spread over worker threads (one per core by
 * default), then the paper's summary: sessions converged, mean and sd of the profit gain,
 * mean periods to convergence, mean limit-cycle price, and the mean impulse response.
 *
 * Each session depends only on (config, seed), and results are ordered by seed, so the
 * summary is the same whatever the number of workers (seconds aside). Workers take seeds
 * from a queue one at a time, so a long session does not hold the others back.
 * The worker file is resolved next to this module: experiments/calvano-worker.js in dist/,
 * or the .ts source (run through tsx) when this module itself runs from source.
 */
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  buildCalvanoGame,
  impulseResponse,
  parseCalvanoConfig,
  resolveCalvanoConfig,
  runCalvanoSession,
  type CalvanoConfigInput,
  type CalvanoSessionResult,
  type ResolvedCalvanoConfig,
} from '../agents/calvano.js';
import { configError, type Problem } from '../core/errors.js';
import { loadScenario } from '../scenarios/load.js';
import { resolveImport } from './worker-module.js';
import type { CalvanoWorkerData, CalvanoWorkerRequest } from './calvano-worker.js';

export interface ReproduceCalvanoOptions {
  /** Number of sessions S (the paper runs 1,000). */
  readonly sessions: number;
  /** Seed of the first session; session k (0-based) uses firstSeed + k. Default 1. */
  readonly firstSeed?: number;
  /** Worker threads; default one per core; 0 runs every session in this thread. */
  readonly workers?: number;
  /** The experiment's parameters (agents/calvano.ts calvanoConfigSchema); default the paper's baseline. */
  readonly config?: CalvanoConfigInput;
  /** The impulse response averaged over converged sessions. Default firm 0, 15 periods. */
  readonly impulse?: { readonly deviatingFirm?: number; readonly periods?: number };
  /** Called as each session finishes (in finishing order, not seed order). */
  readonly onSession?: (result: CalvanoSessionResult, finished: number, total: number) => void;
}

export interface CalvanoImpulseSummary {
  readonly deviatingFirm: number;
  /** Periods after the deviation; prices[i] has periods + 1 entries, index 0 the period before it. */
  readonly periods: number;
  /** Sessions averaged (the converged ones, or every session if none converged). */
  readonly sessions: number;
  /** Of those, sessions whose play came back to the pre-deviation cycle. */
  readonly returnedToCycle: number;
  /** Mean price of each firm in each period: prices[firm][k]. */
  readonly prices: number[][];
}

export interface CalvanoSummary {
  readonly sessions: number;
  readonly converged: number;
  readonly profitGainMean: number;
  /** Sample standard deviation across sessions (n - 1). */
  readonly profitGainSd: number;
  /** Mean over converged sessions of periods - window (the paper's measure); null if none converged. */
  readonly meanPeriodsToConvergence: number | null;
  /** Mean over sessions of the mean limit-cycle price. */
  readonly averagePrice: number;
  /** Mean over sessions of one session's seconds on one core. */
  readonly secondsPerSession: number;
  readonly impulseResponse: CalvanoImpulseSummary;
  readonly config: ResolvedCalvanoConfig;
}

export interface CalvanoReproduction {
  readonly summary: CalvanoSummary;
  /** One result per session, in seed order. */
  readonly results: readonly CalvanoSessionResult[];
  readonly workers: number;
  readonly wallSeconds: number;
}

export async function reproduceCalvano(options: ReproduceCalvanoOptions): Promise<CalvanoReproduction> {
  const problems: Problem[] = [];
  const firstSeed = options.firstSeed ?? 1;
  if (!Number.isInteger(options.sessions) || options.sessions < 1) problems.push({ path: ['sessions'], message: `expected a positive whole number, found ${options.sessions}` });
  if (!Number.isInteger(firstSeed)) problems.push({ path: ['firstSeed'], message: `expected a whole number, found ${firstSeed}` });
  const requestedWorkers = options.workers ?? availableParallelism();
  if (!Number.isInteger(requestedWorkers) || requestedWorkers < 0) problems.push({ path: ['workers'], message: `expected a whole number >= 0, found ${requestedWorkers}` });
  if (problems.length > 0) throw configError('invalid reproduction options', problems);

  const config = loadCalvanoConfig(options.config ?? {});
  buildCalvanoGame(config); // fail here, in this thread, on a config the game refuses
  const seeds = Array.from({ length: options.sessions }, (_, index) => firstSeed + index);
  const workers = Math.min(requestedWorkers, seeds.length);
  const start = performance.now();
  const bySeed = new Map<number, CalvanoSessionResult>();
  const record = (result: CalvanoSessionResult) => {
    bySeed.set(result.seed, result);
    options.onSession?.(result, bySeed.size, seeds.length);
  };
  if (workers === 0) for (const seed of seeds) record(runCalvanoSession(config, seed));
  else await runInWorkers(config, seeds, workers, record);
  const results = seeds.map((seed) => bySeed.get(seed)!);
  return { summary: summariseCalvano(results, config, options.impulse ?? {}), results, workers, wallSeconds: (performance.now() - start) / 1000 };
}

/** Validates a config and loads its scenario (built-in id or path): the config a session runs with. */
export function loadCalvanoConfig(input: CalvanoConfigInput = {}): ResolvedCalvanoConfig {
  const config = parseCalvanoConfig(input);
  return resolveCalvanoConfig(config, loadScenario(config.scenario).scenario);
}

/** The paper's figures from a set of session results. */
export function summariseCalvano(
  results: readonly CalvanoSessionResult[],
  config: ResolvedCalvanoConfig,
  impulse: { readonly deviatingFirm?: number; readonly periods?: number } = {},
): CalvanoSummary {
  const converged = results.filter((result) => result.converged);
  const gains = results.map((result) => result.profitGain);
  const profitGainMean = mean(gains);
  const profitGainSd = gains.length > 1 ? Math.sqrt(gains.reduce((total, gain) => total + (gain - profitGainMean) ** 2, 0) / (gains.length - 1)) : 0;
  const deviatingFirm = impulse.deviatingFirm ?? 0;
  const periods = impulse.periods ?? 15;
  const averaged = converged.length > 0 ? converged : results;
  const responses = averaged.map((result) => impulseResponse(result, { deviatingFirm, periods }));
  const prices = Array.from({ length: config.firms }, (_, firm) => Array.from({ length: periods + 1 }, (_, period) => mean(responses.map((response) => response.prices[firm]![period]!))));
  return {
    sessions: results.length,
    converged: converged.length,
    profitGainMean,
    profitGainSd,
    meanPeriodsToConvergence: converged.length > 0 ? mean(converged.map((result) => result.periodsToConvergence ?? 0)) : null,
    averagePrice: mean(results.map((result) => result.averagePrice)),
    secondsPerSession: mean(results.map((result) => result.seconds)),
    impulseResponse: { deviatingFirm, periods, sessions: responses.length, returnedToCycle: responses.filter((response) => response.returnedToCycle).length, prices },
    config,
  };
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((total, value) => total + value, 0) / values.length;
}

/** The worker: dist's compiled calvano-worker.js, or, when this module runs from source (tests, tsx), the .ts one loaded through tsx. */
function startWorker(workerData: CalvanoWorkerData): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./calvano-worker.js', here), { workerData });
  // tsx registers its ESM hooks only in the main thread on Node 20: register them in the worker through its API.
  const tsxApi = pathToFileURL(resolveImport(here, 'tsx', './esm/api')).href;
  const source = new URL('./calvano-worker.ts', here).href;
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((api) => { api.register(); return import(${JSON.stringify(source)}); });`;
  return new Worker(bootstrap, { eval: true, workerData });
}


function runInWorkers(config: ResolvedCalvanoConfig, seeds: readonly number[], count: number, record: (result: CalvanoSessionResult) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const pool: Worker[] = [];
    let nextSeed = 0;
    let finished = 0;
    let failed = false;
    const fail = (error: unknown) => {
      if (failed) return;
      failed = true;
      for (const worker of pool) void worker.terminate();
      reject(error instanceof Error ? error : new Error(String(error)));
    };
    const feed = (worker: Worker) => {
      const seed = seeds[nextSeed++];
      const request: CalvanoWorkerRequest = seed === undefined ? { type: 'stop' } : { type: 'run', seed };
      worker.postMessage(request);
    };
    for (let index = 0; index < count; index++) {
      const worker = startWorker({ config });
      pool.push(worker);
      worker.on('message', (message: { type: 'result'; result: CalvanoSessionResult }) => {
        if (failed) return;
        try {
          record(message.result);
        } catch (error) {
          fail(error);
          return;
        }
        finished++;
        if (finished === seeds.length) {
          for (const member of pool) member.postMessage({ type: 'stop' } satisfies CalvanoWorkerRequest);
          resolve();
        } else feed(worker);
      });
      worker.on('error', fail);
      worker.on('exit', (code) => {
        if (code !== 0 && finished < seeds.length) fail(new Error(`a Calvano worker exited with code ${code} before the sessions finished`));
      });
      feed(worker);
    }
  });
}
