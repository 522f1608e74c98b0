/**
 * `pricelab bench learning` (experiments/bench-learning.ts), its mechanics only: the Wilson
 * interval against published values, the pass-rate and across-seed arithmetic on made-up runs,
 * and the command end to end on a tiny budget (2 seeds, 2,000 finale steps: no learning
 * happens, nothing here says whether the DQN learns; that is the benchmark's job, see
 * docs/performance.md).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { summariseRuns, wilsonInterval, type LearningBenchResult, type LearningRun } from '../../experiments/bench-learning.js';
import { summarise } from '../../experiments/summary.js';
import { buildMarketModel } from '../../env/model.js';
import { loadScenario } from '../../scenarios/load.js';
import { cli, ensureBuilt } from '../fixtures/cli.js';

describe('wilsonInterval', () => {
  it('matches Newcombe (1998, Stat Med 17:857, table I, method 3) to four places', () => {
    for (const [passes, runs, low, high] of [
      [81, 263, 0.2553, 0.3662],
      [15, 148, 0.0624, 0.1605],
      [0, 20, 0, 0.1611],
      [1, 29, 0.0061, 0.1718],
    ] as const) {
      const interval = wilsonInterval(passes, runs);
      expect(interval.low).toBeCloseTo(low, 4);
      expect(interval.high).toBeCloseTo(high, 4);
      expect(interval.rate).toBe(passes / runs);
    }
  });

  it('is exactly 0 or 1 at the edges, and refuses impossible counts', () => {
    expect(wilsonInterval(0, 2).low).toBe(0);
    expect(wilsonInterval(2, 2).high).toBe(1);
    expect(() => wilsonInterval(3, 2)).toThrow(/passes <= runs/);
    expect(() => wilsonInterval(0, 0)).toThrow(/runs >= 1/);
  });
});

const interval = (mean: number, halfWidth: number) => ({ mean, sd: 1, low: mean - halfWidth, high: mean + halfWidth, n: 20 });
const runOf = (seed: number, difference: number, halfWidth: number, untrainedLow = -1): LearningRun => ({
  seed,
  steps: 100,
  seconds: 1,
  bestEvaluation: { steps: 100, meanReward: 0 },
  margin: 0,
  heldOutMean: 80_000 + difference,
  difference: interval(difference, halfWidth),
  untrainedDifference: { ...interval(0, 1), low: untrainedLow },
  passed: difference - halfWidth > 0,
});

describe('summariseRuns', () => {
  it('counts the runs whose interval lies above zero and summarises the per-seed means over seeds', () => {
    const runs = [runOf(1, 511, 386), runOf(2, 308, 348), runOf(3, 781, 340), runOf(4, 631, 408, 0.5)];
    const summary = summariseRuns(runs);
    expect(summary.passRate).toEqual(wilsonInterval(3, 4));
    expect(summary.passRate.rate).toBe(0.75);
    expect(summary.untrainedPasses).toBe(1);
    expect(summary.difference).toEqual(summarise([511, 308, 781, 631]));
    expect(summary.difference.mean).toBeCloseTo(557.75, 10);
    expect(summary.policyReward.mean).toBeCloseTo(80_557.75, 6);
  });
});

describe('pricelab bench learning --json, on a tiny budget', () => {
  let result: LearningBenchResult;
  let stderr = '';
  beforeAll(async () => {
    ensureBuilt();
    const ran = await cli('bench', 'learning', '--json', '--seeds', '2', '--first-seed', '3', '--steps', '2000', '--episodes', '2', '--markets', '4');
    expect(ran.stderr).not.toMatch(/Error/);
    expect(ran.code).toBe(0);
    result = JSON.parse(ran.stdout) as LearningBenchResult;
    stderr = ran.stderr;
  }, 600_000);

  it('prints the protocol, the reference measured in the run, one row per seed and the summaries', () => {
    expect(result.benchmark).toBe('learning');
    expect(result.protocol).toMatchObject({ scenario: 'steady-state-v1', steps: 2000, markets: 4, episodes: 2, evaluateEvery: 2000, heldOutSeeds: [9000, 9001], selectionSeeds: [5000, 5003] });
    expect(buildMarketModel(loadScenario('steady-state-v1').scenario).ladder).toContain(result.reference.price);
    expect(Number.isFinite(result.reference.heldOutMean)).toBe(true);
    expect(result.runs.map((run) => run.seed)).toEqual([3, 4]);
    for (const run of result.runs) {
      expect(run.steps).toBeGreaterThanOrEqual(2000);
      expect(run.difference.n).toBe(2);
      expect(run.passed).toBe(run.difference.low > 0);
      expect(run.heldOutMean - result.reference.heldOutMean).toBeCloseTo(run.difference.mean, 6);
      expect([0, 50, 100, 150, 200]).toContain(run.margin);
    }
  });

  it('reports the pass rate and the across-seed figures computed from its rows', () => {
    expect(result.passRate).toEqual(wilsonInterval(result.runs.filter((run) => run.passed).length, 2));
    expect(result).toMatchObject(JSON.parse(JSON.stringify(summariseRuns(result.runs))) as object);
    expect(result.difference.n).toBe(2);
  });

  it('shows progress on stderr, never on stdout', () => {
    expect(stderr).toMatch(/100% \(4000\/4000 finale steps\)/);
  });
});
