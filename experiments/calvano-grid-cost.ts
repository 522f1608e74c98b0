/**
 * What a Calvano grid will cost before it runs: a sample of its sessions run one after
 * the other in this thread, each timed in CPU seconds (process.cpuUsage, user + system),
 * then the grid's mean cost per session, its CPU-seconds in all, and the wall time on
 * M machines x C workers each.
 *
 * A session's cost is its periods, and its periods grow as exploration lasts longer: the
 * exploration probability exp(-beta t) has to fall before strategies can settle, so the
 * periods to convergence go roughly as 1 / beta. The grid's cost is dominated by its
 * smallest betas, and a plain mean over a few sampled points misjudges it; so the
 * estimate fits cost = a + b / beta to the samples (least squares in 1 / beta, every
 * sampled alpha alike) and averages that over every beta of the grid. The plain sample
 * mean is reported beside it.
 *
 * The sample: `betaPoints` betas and `alphaPoints` alphas, evenly spaced over the grid's
 * indices with both ends included, the first `seedsPerPoint` seeds of the plan at each.
 */
import { cpuUsage } from 'node:process';
import { runCalvanoSession } from '../agents/calvano.js';
import { configError, type Problem } from '../core/errors.js';
import type { CalvanoGridPlan } from './calvano-grid-file.js';

export interface GridCostOptions {
  /** Alphas sampled; default 3. */
  readonly alphaPoints?: number;
  /** Betas sampled; default 8. */
  readonly betaPoints?: number;
  /** Seeds per sampled point; default 1. */
  readonly seedsPerPoint?: number;
  /** Called after each sampled session. */
  readonly onSample?: (sample: GridCostSample, done: number, total: number) => void;
}

export interface GridCostSample {
  readonly alpha: number;
  readonly beta: number;
  readonly seed: number;
  readonly converged: boolean;
  readonly periods: number;
  /** CPU seconds of the session in this thread (user + system). */
  readonly cpuSeconds: number;
  readonly wallSeconds: number;
}

export interface GridCostEstimate {
  readonly experiment: string;
  readonly sessions: number;
  readonly samples: readonly GridCostSample[];
  /** Mean CPU seconds of the sampled sessions. */
  readonly sampleMeanSeconds: number;
  /** cost = a + b / beta, fitted to the samples (seconds, and seconds x beta). */
  readonly model: { readonly a: number; readonly b: number };
  /** The model averaged over every beta of the grid: the expected CPU seconds of one of its sessions. */
  readonly secondsPerSession: number;
  /** secondsPerSession x sessions. */
  readonly cpuSeconds: number;
}

/** Evenly spaced indices 0..length-1, both ends included, `count` of them at most. */
function spread(length: number, count: number): number[] {
  if (count >= length) return Array.from({ length }, (_, index) => index);
  if (count === 1) return [0];
  return [...new Set(Array.from({ length: count }, (_, k) => Math.round((k * (length - 1)) / (count - 1))))];
}

export function estimateGridCost(plan: CalvanoGridPlan, options: GridCostOptions = {}): GridCostEstimate {
  const alphaPoints = options.alphaPoints ?? 3;
  const betaPoints = options.betaPoints ?? 8;
  const seedsPerPoint = options.seedsPerPoint ?? 1;
  const problems: Problem[] = [];
  for (const [name, value] of [['alphaPoints', alphaPoints], ['betaPoints', betaPoints], ['seedsPerPoint', seedsPerPoint]] as const) {
    if (!Number.isInteger(value) || value < 1) problems.push({ path: [name], message: `expected a positive whole number, found ${value}` });
  }
  if (problems.length > 0) throw configError('invalid cost options', problems);
  const alphas = spread(plan.alphas.length, alphaPoints).map((index) => plan.alphas[index]!);
  const betas = spread(plan.betas.length, betaPoints).map((index) => plan.betas[index]!);
  const seeds = plan.seeds.slice(0, seedsPerPoint);
  const configs = new Map(plan.sessions.map((session) => [`${session.alpha}|${session.beta}`, session.resolved]));
  const total = alphas.length * betas.length * seeds.length;
  const samples: GridCostSample[] = [];
  for (const alpha of alphas) {
    for (const beta of betas) {
      const config = configs.get(`${alpha}|${beta}`)!;
      for (const seed of seeds) {
        const cpuBefore = cpuUsage();
        const wallBefore = performance.now();
        const result = runCalvanoSession(config, seed);
        const cpu = cpuUsage(cpuBefore);
        const sample = { alpha, beta, seed, converged: result.converged, periods: result.periods, cpuSeconds: (cpu.user + cpu.system) / 1e6, wallSeconds: (performance.now() - wallBefore) / 1000 };
        samples.push(sample);
        options.onSample?.(sample, samples.length, total);
      }
    }
  }
  const model = fitInverse(samples.map((sample) => 1 / sample.beta), samples.map((sample) => sample.cpuSeconds));
  const inverseBetaMean = plan.betas.reduce((sum, beta) => sum + 1 / beta, 0) / plan.betas.length;
  const secondsPerSession = model.a + model.b * inverseBetaMean;
  return {
    experiment: plan.file.name,
    sessions: plan.sessions.length,
    samples,
    sampleMeanSeconds: samples.reduce((sum, sample) => sum + sample.cpuSeconds, 0) / samples.length,
    model,
    secondsPerSession,
    cpuSeconds: secondsPerSession * plan.sessions.length,
  };
}

/** Least squares of y = a + b x; with a single distinct x (one beta sampled), y = b x through the sample mean. */
function fitInverse(xs: readonly number[], ys: readonly number[]): { a: number; b: number } {
  const n = xs.length;
  const meanX = xs.reduce((sum, x) => sum + x, 0) / n;
  const meanY = ys.reduce((sum, y) => sum + y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (let index = 0; index < n; index++) {
    sxx += (xs[index]! - meanX) ** 2;
    sxy += (xs[index]! - meanX) * (ys[index]! - meanY);
  }
  if (sxx === 0) return { a: 0, b: meanY / meanX };
  const b = sxy / sxx;
  return { a: meanY - b * meanX, b };
}

/** Wall seconds of `cpuSeconds` of sessions on `machines` machines with `concurrency` workers each, every worker busy on its own core. */
export function wallSecondsOn(cpuSeconds: number, machines: number, concurrency: number): number {
  return cpuSeconds / (machines * concurrency);
}
