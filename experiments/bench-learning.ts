/**
 * `pricelab bench learning`: does the DQN finale over the best fixed price learn on
 * steady-state-v1, and how often? The protocol of docs/agents/dqn.md's sixth round, run over
 * several training seeds instead of one pinned in a unit test (a run is chaotic in its random
 * streams: one seed's pass or miss says little; the pass rate over seeds says what the protocol
 * does).
 *
 * Per run of the benchmark, the reference is measured once, in the same run: the best fixed
 * ladder price, chosen on selection seeds 5000.. (every ladder price evaluated) and evaluated on
 * held-out seeds 9000... Per training seed s: a phased agent (that fixed price until the last
 * `finaleDays` days, a DQN for those; agent and exploring starts seeded s, the vector env's
 * markets derived from s) is first checked untrained (the control: the check can fail), then
 * trained for `steps` finale steps with keep-best evaluations on the selection seeds; its change
 * margin is chosen on the selection seeds; its greedy policy is evaluated on the held-out seeds,
 * the same seeds as the fixed price (common random numbers), so the differences are paired. A
 * seed passes when the paired 95% t interval of (policy - fixed price) lies above zero.
 *
 * Across seeds: the pass rate with a 95% Wilson interval, and the mean paired difference (and
 * the policy's mean reward beside the fixed price's) with a 95% t interval over seeds.
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';
import { agentContextOf } from '../agents/agent.js';
import type { Agent } from '../agents/agent.js';
import type { PhasedConfig } from '../agents/phased.js';
import { createAgent, restoreAgent } from '../agents/registry.js';
import type { BackendChoice } from '../agents/tf-backend.js';
import { configError } from '../core/errors.js';
import { makeEnv } from '../env/env.js';
import { buildMarketModel } from '../env/model.js';
import { VectorEnv } from '../env/vector-env.js';
import { builtInScenarioFolder, loadScenario } from '../scenarios/load.js';
import { chooseChangeMargin } from './margin-selection.js';
import { agentFor } from './setup.js';
import { summarise } from './summary.js';
import type { IntervalSummary } from './summary.js';
import { evaluate, trainVector } from './train.js';

export const learningScenario = 'steady-state-v1';
/** The config shared with `pricelab train --agent phased --config` (README). */
export const learningAgentConfig = join(builtInScenarioFolder, 'agent-configs', 'phased-dqn-steady-state-v1.json');
const selectionSeed = 5000;
const heldOutSeed = 9000;
const margins = [0, 50, 100, 150, 200];

export interface LearningBenchOptions {
  /** Training seeds, one run each (default 1-6, the seeds docs/agents/dqn.md reports). */
  readonly seeds: readonly number[];
  /** Finale steps per run (default: the shared config's totalSteps, 400,000). */
  readonly steps?: number;
  /** Markets in the training vector env (default 16). */
  readonly markets?: number;
  /** Held-out episodes, and fixed-price selection episodes; keep-best and the margin use twice as many (default 20). */
  readonly episodes?: number;
  /** Finale steps between keep-best evaluations (default 20,000, at most `steps`). */
  readonly evaluateEvery?: number;
  /** TensorFlow.js backend (default 'wasm', the backend the figures in docs/agents/dqn.md were measured on). */
  readonly backend?: BackendChoice;
  /** Called as the work advances: finale steps done of the total over every seed, and what runs. */
  readonly onProgress?: (done: number, total: number, label: string) => void;
}

export interface LearningRun {
  seed: number;
  /** Finale steps trained. */
  steps: number;
  seconds: number;
  /** The step of the kept evaluation, and its mean reward on the selection seeds. */
  bestEvaluation: { steps: number; meanReward: number };
  margin: number;
  /** Mean reward of the trained greedy policy on the held-out seeds. */
  heldOutMean: number;
  /** Paired (policy - best fixed price) on the held-out seeds, with its 95% t interval. */
  difference: IntervalSummary;
  /** The same for the untrained agent: the control, which should not pass. */
  untrainedDifference: IntervalSummary;
  /** difference.low > 0. */
  passed: boolean;
}

export interface ProportionInterval {
  passes: number;
  runs: number;
  rate: number;
  low: number;
  high: number;
  level: number;
  method: 'wilson';
}

export interface LearningBenchResult {
  benchmark: 'learning';
  node: string;
  cpu: string;
  protocol: {
    scenario: string;
    agent: string;
    finaleDays: number;
    steps: number;
    markets: number;
    episodes: number;
    evaluateEvery: number;
    selectionSeeds: [number, number];
    heldOutSeeds: [number, number];
    margins: number[];
    backend: BackendChoice;
  };
  /** The best fixed ladder price, measured in this run. */
  reference: { kind: 'best fixed price'; price: number; selectionMean: number; heldOutMean: number };
  runs: LearningRun[];
  /** Seeds whose paired interval lies above zero, with a 95% Wilson interval of the rate. */
  passRate: ProportionInterval;
  /** Untrained controls whose interval lies above zero (expected 0). */
  untrainedPasses: number;
  /** The per-seed mean paired difference, summarised over seeds (95% t interval). */
  difference: IntervalSummary;
  /** The per-seed held-out mean of the policy over seeds, beside the reference's held-out mean. */
  policyReward: IntervalSummary;
  seconds: number;
}

/**
 * The Wilson score interval of a proportion (Wilson 1927): unlike the normal (Wald) interval it
 * stays inside [0, 1] and does not collapse to a point at 0 or n passes.
 */
export function wilsonInterval(passes: number, runs: number, level = 0.95): ProportionInterval {
  if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(passes) || passes < 0 || passes > runs) {
    throw configError('bad proportion', [{ path: ['passes'], message: `expected whole numbers with 0 <= passes <= runs and runs >= 1, found ${passes} of ${runs}` }]);
  }
  const z = normalQuantile(1 - (1 - level) / 2, 0, 1);
  const rate = passes / runs;
  const denominator = 1 + (z * z) / runs;
  const centre = (rate + (z * z) / (2 * runs)) / denominator;
  const half = (z / denominator) * Math.sqrt((rate * (1 - rate)) / runs + (z * z) / (4 * runs * runs));
  // At 0 or n passes a bound is exactly 0 or 1; the formula gets there only up to rounding.
  const low = passes === 0 ? 0 : Math.max(0, centre - half);
  const high = passes === runs ? 1 : Math.min(1, centre + half);
  return { passes, runs, rate, low, high, level, method: 'wilson' };
}

/** Pass rate and across-seed summaries of finished runs (pure: the arithmetic the fast test checks). */
export function summariseRuns(runs: readonly LearningRun[]): Pick<LearningBenchResult, 'passRate' | 'untrainedPasses' | 'difference' | 'policyReward'> {
  return {
    passRate: wilsonInterval(runs.filter((run) => run.passed).length, runs.length),
    untrainedPasses: runs.filter((run) => run.untrainedDifference.low > 0).length,
    difference: summarise(runs.map((run) => run.difference.mean)),
    policyReward: summarise(runs.map((run) => run.heldOutMean)),
  };
}

export async function benchLearning(options: LearningBenchOptions): Promise<LearningBenchResult> {
  const started = performance.now();
  const shared = JSON.parse(readFileSync(learningAgentConfig, 'utf8')) as PhasedConfig;
  const sharedFinale = shared.finale.config as Record<string, unknown>;
  const steps = options.steps ?? (sharedFinale['totalSteps'] as number);
  const markets = options.markets ?? 16;
  const episodes = options.episodes ?? 20;
  const evaluateEvery = Math.min(options.evaluateEvery ?? 20_000, steps);
  const backend = options.backend ?? 'wasm';
  const problems = [
    ...(options.seeds.length > 0 ? [] : [{ path: ['seeds'], message: 'expected at least one training seed, found none' }]),
    ...options.seeds.flatMap((seed, index) => (Number.isInteger(seed) && seed >= 0 ? [] : [{ path: ['seeds', index], message: `expected a whole seed of 0 or more, found ${seed}` }])),
    ...(new Set(options.seeds).size === options.seeds.length ? [] : [{ path: ['seeds'], message: `expected distinct seeds, found ${options.seeds.join(', ')}` }]),
    ...([steps, markets, episodes, evaluateEvery].every((value) => Number.isInteger(value) && value >= 1)
      ? []
      : [{ path: ['steps'], message: `expected whole steps, markets, episodes and evaluateEvery of 1 or more, found ${steps}, ${markets}, ${episodes}, ${evaluateEvery}` }]),
  ];
  if (problems.length > 0) throw configError('bad learning benchmark', problems);
  // totalSteps sets the exploration and learning-rate schedules: they follow the budget.
  const finaleConfig: Record<string, unknown> = { ...sharedFinale, backend, totalSteps: steps };
  const model = buildMarketModel(loadScenario(learningScenario).scenario);
  const total = steps * options.seeds.length;
  const progress = (done: number, label: string) => options.onProgress?.(done, total, label);
  const heldOutRewards = (agent: Pick<Agent, 'act'>) => evaluate(makeEnv(model), agent, { episodes, seed: heldOutSeed }).map((episode) => episode.totalReward);
  const paired = (rewards: readonly number[], baseline: readonly number[]) => summarise(rewards.map((reward, index) => reward - baseline[index]!));
  const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

  progress(0, 'choosing the best fixed price');
  const env = makeEnv(model);
  let best = { price: Number.NaN, mean: Number.NEGATIVE_INFINITY };
  for (const price of model.ladder) {
    const selection = mean(evaluate(env, await agentFor(env, 'fixed-price', { price }, 1), { episodes, seed: selectionSeed }).map((episode) => episode.totalReward));
    if (selection > best.mean) best = { price, mean: selection };
  }
  const fixedHeldOut = heldOutRewards(await agentFor(env, 'fixed-price', { price: best.price }, 1));
  const config: PhasedConfig = { ...shared, base: { kind: 'fixed-price', config: { price: best.price } }, finale: { kind: 'dqn', config: finaleConfig } };

  const runs: LearningRun[] = [];
  for (const [position, seed] of options.seeds.entries()) {
    const runStarted = performance.now();
    const before = position * steps;
    const label = `seed ${seed} (${position + 1}/${options.seeds.length})`;
    const context = agentContextOf(model, env.observationSpace, env.actionSpace, seed);
    const agent = await createAgent('phased', config, context);
    let trained;
    let untrainedDifference: IntervalSummary;
    try {
      untrainedDifference = paired(heldOutRewards(agent), fixedHeldOut);
      trained = await trainVector(new VectorEnv(model, { count: markets, seed }), agent, {
        steps,
        exploringStarts: { windows: [{ share: 1, lastDays: config.finaleDays }], leadIn: 'greedy', firstAction: 'uniform', seed },
        evaluation: { every: evaluateEvery, env: makeEnv(model), episodes: 2 * episodes, seed: selectionSeed, keepBest: true },
        onProgress: (event) => progress(before + Math.min(event.steps, steps), `${label}: training`),
      });
    } finally {
      agent.dispose();
    }
    const kept = trained.best;
    if (!kept) throw new Error('expected a kept evaluation after training with keepBest');
    progress(before + steps, `${label}: choosing the change margin`);
    const margin = await chooseChangeMargin({ exported: kept.exported, env: makeEnv(model), episodes: 2 * episodes, seed: selectionSeed, margins });
    const policy = await restoreAgent(margin.exported, context);
    let rewards: number[];
    try {
      rewards = heldOutRewards(policy);
    } finally {
      policy.dispose();
    }
    const difference = paired(rewards, fixedHeldOut);
    runs.push({
      seed,
      steps: trained.steps,
      seconds: (performance.now() - runStarted) / 1000,
      bestEvaluation: { steps: kept.point.steps, meanReward: kept.point.meanReward },
      margin: margin.margin,
      heldOutMean: mean(rewards),
      difference,
      untrainedDifference,
      passed: difference.low > 0,
    });
    progress(before + steps, `${label}: ${difference.low > 0 ? 'passed' : 'missed'}`);
  }
  return {
    benchmark: 'learning',
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    protocol: {
      scenario: learningScenario,
      agent: `phased: best fixed price, a dqn for the last ${config.finaleDays} days`,
      finaleDays: config.finaleDays,
      steps,
      markets,
      episodes,
      evaluateEvery,
      selectionSeeds: [selectionSeed, selectionSeed + 2 * episodes - 1],
      heldOutSeeds: [heldOutSeed, heldOutSeed + episodes - 1],
      margins,
      backend,
    },
    reference: { kind: 'best fixed price', price: best.price, selectionMean: best.mean, heldOutMean: mean(fixedHeldOut) },
    runs,
    ...summariseRuns(runs),
    seconds: (performance.now() - started) / 1000,
  };
}
