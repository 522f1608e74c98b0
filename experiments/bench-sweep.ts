/**
 * The sweep benchmark behind `pricelab bench sweep`: one experiment (2 agents x 2
 * scenarios x 10 seeds by default) run with 1 worker thread, then with 2 (the reference
 * and the measurement in the same run), each into its own fresh results store. It reports
 * both wall times, the speed-up, and whether both sweeps stored identical evaluations
 * (they must: a run depends only on its definition, never on which worker ran it).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { planExperiment, type ExperimentPlan } from './experiment-file.js';
import { ResultsStore } from './store.js';
import { runSweep } from './sweep.js';

export interface SweepBenchOptions {
  readonly seeds?: number;
  /** Training episodes per run. */
  readonly episodes?: number;
  /** Worker counts to compare; the first is the reference. Default [1, 2]. */
  readonly workers?: readonly number[];
}

export interface SweepBenchResult {
  readonly runs: number;
  readonly experiment: unknown;
  readonly cores: number;
  readonly timings: { readonly workers: number; readonly wallSeconds: number; readonly runsPerSecond: number }[];
  /** Wall time of the reference (first worker count) over that of the last. */
  readonly speedup: number;
  /** Every run stored the same evaluation episodes in every sweep. */
  readonly identicalResults: boolean;
}

export function benchSweepExperiment(options: SweepBenchOptions = {}): unknown {
  return {
    name: 'bench-sweep',
    scenarios: ['steady-state-v1', 'calvano-duopoly-v1'],
    agents: [
      { name: 'q', kind: 'q-learning', config: { exploration: { kind: 'epsilon', start: 1, end: 0.05, decaySteps: 3000 } } },
      { kind: 'ucb1' },
    ],
    seeds: { from: 1, count: options.seeds ?? 10 },
    budget: { episodes: options.episodes ?? 400 },
    evaluation: { episodes: 5, seed: 1_000_000 },
    kpis: ['profit', 'averagePrice'],
    checkpointEvery: 5,
  };
}

export async function benchSweep(options: SweepBenchOptions = {}): Promise<SweepBenchResult> {
  const experiment = benchSweepExperiment(options);
  const plan = planExperiment(experiment, 'bench-sweep');
  const timings: SweepBenchResult['timings'] = [];
  const stored: string[] = [];
  for (const workers of options.workers ?? [1, 2]) {
    const home = mkdtempSync(join(tmpdir(), 'pricelab-bench-sweep-'));
    try {
      const result = await runSweep(plan, { home, workers });
      if (result.finished !== plan.runs.length) throw new Error(`expected ${plan.runs.length} finished runs with ${workers} workers, found ${result.finished} (${result.failed} failed)`);
      timings.push({ workers: result.workers, wallSeconds: result.wallSeconds, runsPerSecond: plan.runs.length / result.wallSeconds });
      stored.push(storedEvaluations(home, plan));
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }
  const first = timings[0]!;
  const last = timings.at(-1)!;
  return {
    runs: plan.runs.length,
    experiment,
    cores: availableParallelism(),
    timings,
    speedup: first.wallSeconds / last.wallSeconds,
    identicalResults: stored.every((entry) => entry === stored[0]),
  };
}

function storedEvaluations(home: string, plan: ExperimentPlan): string {
  const store = ResultsStore.open(home);
  try {
    return JSON.stringify(plan.runs.map((run) => store.evaluationsOf(run.id)));
  } finally {
    store.close();
  }
}
