/**
 * The measurements behind `pricelab bench env`: steps per second of the single env
 * (Gymnasium API, one step at a time) and of the vector env (N markets over typed arrays),
 * on both clocks (wall-clock, and this process's CPU time).
 *
 * Each (scenario, env kind) is measured in a worker thread of its own (a fresh V8 isolate),
 * as a training process that runs one scenario would see it: measured one after another in
 * one isolate, the JIT's type feedback from earlier scenarios (other rival strategies, other
 * scenario shapes) slows the later ones, which says something about the benchmark's order,
 * not about the simulator.
 */
import { Worker } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { makeEnv } from '../env/env.js';
import type { MarketModel } from '../env/model.js';
import { createStream } from '../core/random.js';
import { VectorEnv } from '../env/vector-env.js';
import { resolveImport } from './worker-module.js';

/** A measurement on both clocks: wall-clock time, and the process's CPU time (user + system). */
export interface StepRate {
  perSecond: number;
  perCpuSecond: number;
}

export interface IsolatedMeasurement {
  readonly scenario: string;
  readonly kind: 'single' | 'vector';
  readonly markets: number;
  readonly seconds: number;
}

/** Measures one (scenario, env kind) in a fresh worker thread. */
export function measureIsolated(task: IsolatedMeasurement): Promise<StepRate> {
  return new Promise((resolve, reject) => {
    const worker = workerFor(task);
    worker.once('message', (rate: StepRate) => {
      resolve(rate);
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`the benchmark worker exited with code ${code}`));
    });
  });
}

function workerFor(task: IsolatedMeasurement): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./bench-env-worker.js', here), { workerData: task });
  const tsxApi = pathToFileURL(resolveImport(here, 'tsx', './esm/api')).href;
  const source = new URL('./bench-env-worker.ts', here).href;
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((api) => { api.register(); return import(${JSON.stringify(source)}); });`;
  return new Worker(bootstrap, { eval: true, workerData: task });
}

/** Steps per second of the Gymnasium-style env, actions drawn from a seeded stream. */
export function measureSingle(model: MarketModel, seconds: number): StepRate {
  const env = makeEnv(model);
  const actions = createStream(1, 'bench');
  const n = env.actionSpace.n;
  let episode = 0;
  env.reset({ seed: episode });
  const loop = (budget: number) => {
    let steps = 0;
    const clock = startClocks();
    const deadline = clock.wall + budget * 1000;
    while (performance.now() < deadline) {
      for (let batch = 0; batch < 1000; batch++) {
        const result = env.step(Math.floor(actions() * n));
        if (result.terminated || result.truncated) env.reset({ seed: ++episode });
      }
      steps += 1000;
    }
    return rateSince(clock, steps);
  };
  return medianOfThree(loop, seconds);
}

function startClocks(): { wall: number; cpu: NodeJS.CpuUsage } {
  return { wall: performance.now(), cpu: process.cpuUsage() };
}

function rateSince(clock: { wall: number; cpu: NodeJS.CpuUsage }, steps: number): StepRate {
  const cpu = process.cpuUsage(clock.cpu);
  return { perSecond: steps / ((performance.now() - clock.wall) / 1000), perCpuSecond: steps / ((cpu.user + cpu.system) / 1e6) };
}

/**
 * Warm up (JIT tiers, GC heuristics), then the median of three timed runs on each clock: one-off
 * pauses do not decide the figure. CPU time counts only this process's time on the core, so
 * other jobs on a shared machine do not lower it (it does include V8's background threads).
 */
function medianOfThree(loop: (seconds: number) => StepRate, seconds: number): StepRate {
  loop(Math.max(0.5, seconds / 2));
  const runs = [loop(seconds / 3), loop(seconds / 3), loop(seconds / 3)];
  const median = (values: number[]) => values.sort((a, b) => a - b)[1]!;
  return { perSecond: median(runs.map((run) => run.perSecond)), perCpuSecond: median(runs.map((run) => run.perCpuSecond)) };
}

export function measureVector(model: MarketModel, markets: number, seconds: number): StepRate {
  const env = new VectorEnv(model, { count: markets, seed: 1 });
  env.reset();
  const actionStream = createStream(2, 'bench');
  const n = env.actionSpace.n;
  const actionSets = Array.from({ length: 64 }, () => Int32Array.from({ length: markets }, () => Math.floor(actionStream() * n)));
  const loop = (budget: number) => {
    let steps = 0;
    const clock = startClocks();
    const deadline = clock.wall + budget * 1000;
    let round = 0;
    while (performance.now() < deadline) {
      for (let batch = 0; batch < 16; batch++) env.step(actionSets[round++ & 63]!);
      steps += 16 * markets;
    }
    return rateSince(clock, steps);
  };
  return medianOfThree(loop, seconds);
}

