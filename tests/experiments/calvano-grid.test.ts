/**
 * Calvano-grid experiment files (experiments/calvano-grid-file.ts), their runner
 * (experiments/calvano-grid.ts), heatmap report (experiments/report/calvano-heatmap.ts) and
 * cost estimate (experiments/calvano-grid-cost.ts): the shipped grid validates as the
 * paper's axes; bad files are refused with every problem by path; a tiny grid (2 x 2 points
 * x 2 sessions, small budgets) runs end to end in worker threads, through the CLI too, and
 * its heatmap cells are the stored sessions' mean profit gains.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCalvanoSession } from '../../agents/calvano.js';
import { PricelabError } from '../../core/errors.js';
import { agentOf, axisValues, calvanoGridFileSchema, loadCalvanoGridFile, planCalvanoGrid } from '../../experiments/calvano-grid-file.js';
import { runKey } from '../../experiments/experiment-file.js';
import { estimateGridCost } from '../../experiments/calvano-grid-cost.js';
import { calvanoGridCells, runCalvanoGrid } from '../../experiments/calvano-grid.js';
import { axisText, calvanoGridReport, gridPattern, writeCalvanoGridReport, type CalvanoGridReport } from '../../experiments/report/calvano-heatmap.js';
import { ResultsStore } from '../../experiments/store.js';
import { calvanoGridRunCommand } from '../../cli/commands/calvano-grid.js';
import { cliWith, ensureBuilt, root } from '../fixtures/cli.js';

const tiny = {
  kind: 'calvano-grid',
  name: 'tiny-grid',
  alpha: { from: 0.1, to: 0.2, points: 2 },
  beta: { from: 0, to: 1e-4, points: 2, includeFrom: false },
  seeds: { from: 1, count: 2 },
  calvano: { convergenceWindow: 2000, maxPeriods: 200_000 },
};

const folders: string[] = [];
const temporary = (prefix: string) => {
  const folder = mkdtempSync(join(tmpdir(), prefix));
  folders.push(folder);
  return folder;
};
afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

function problemsOf(json: unknown): { path: string; message: string }[] {
  try {
    planCalvanoGrid(json);
  } catch (error) {
    expect(error).toBeInstanceOf(PricelabError);
    expect((error as PricelabError).kind).toBe('config');
    return (error as PricelabError).problems.map((problem) => ({ path: problem.path.join('.'), message: problem.message }));
  }
  throw new Error('expected the grid to be refused');
}

/** Mean profit gain per grid point, read straight from the store's rows (not through calvanoGridCells). */
function storedMeans(home: string, experiment: string): Map<string, { mean: number; count: number }> {
  const store = ResultsStore.open(home);
  try {
    const sums = new Map<string, { sum: number; count: number }>();
    for (const run of store.listRuns({ experiment, status: 'finished' })) {
      const config = run.agent.config as { alpha: number; beta: number };
      const gain = store.metricsOf(run.id)['market/profitGain'] as number;
      const key = `${config.alpha}|${config.beta}`;
      const entry = sums.get(key) ?? { sum: 0, count: 0 };
      sums.set(key, { sum: entry.sum + gain, count: entry.count + 1 });
    }
    return new Map([...sums].map(([key, entry]) => [key, { mean: entry.sum / entry.count, count: entry.count }]));
  } finally {
    store.close();
  }
}

describe('Calvano-grid files', () => {
  it('the shipped grid spans the paper’s axes: alpha 0.025..0.25, beta (0, 2e-5], 15 x 15 points x 20 sessions', () => {
    const plan = loadCalvanoGridFile(join(root, 'scenarios/experiments/calvano-grid.json'));
    expect(plan.alphas).toHaveLength(15);
    expect(plan.alphas[0]).toBe(0.025);
    expect(plan.alphas.at(-1)).toBe(0.25);
    expect(plan.betas).toHaveLength(15);
    expect(plan.betas[0]).toBeGreaterThan(0);
    expect(plan.betas[0]).toBeCloseTo(2e-5 / 15, 15);
    expect(plan.betas.at(-1)).toBe(2e-5);
    expect(plan.sessions).toHaveLength(15 * 15 * 20);
    expect(new Set(plan.sessions.map((session) => session.id)).size).toBe(plan.sessions.length);
    // The same file plans the same run keys (resume and queue job ids rely on it).
    const again = loadCalvanoGridFile(join(root, 'scenarios/experiments/calvano-grid.json'));
    expect(again.sessions.map((session) => session.id)).toEqual(plan.sessions.map((session) => session.id));
    // A session's key is the experiment file's run key of what it depends on.
    for (const session of [plan.sessions[0]!, plan.sessions[4321]!]) {
      expect(session.id).toBe(runKey({ experiment: 'calvano-grid', scenario: { id: plan.scenario.scenario.id, contentHash: plan.scenario.contentHash }, agent: agentOf(session.config), seed: session.seed }));
    }
    expect(plan.sessions[0]!.config).toMatchObject({ alpha: 0.025, beta: plan.betas[0], delta: 0.95, maxPeriods: 1e9, convergenceWindow: 100_000 });
  });

  it('the full grid is the paper’s 100 x 100 points (beta 2e-7 .. 2e-5) x 100 sessions, within the bounds', () => {
    // Its schema and axes only: planning its million sessions takes seconds.
    const file = calvanoGridFileSchema.parse(JSON.parse(readFileSync(join(root, 'scenarios/experiments/calvano-grid-full.json'), 'utf8')));
    const alphas = axisValues(file.alpha);
    const betas = axisValues(file.beta);
    expect([alphas.length, alphas[0], alphas.at(-1)]).toEqual([100, 0.025, 0.25]);
    expect([betas.length, betas[0], betas[1], betas.at(-1)]).toEqual([100, 2e-7, 4e-7, 2e-5]);
    expect(alphas.length * betas.length * file.seeds.count).toBe(1_000_000);
  });

  it('axes: [from, to] with both ends, or (from, to] with includeFrom false', () => {
    expect(axisValues({ from: 1, to: 2, points: 3, includeFrom: true })).toEqual([1, 1.5, 2]);
    expect(axisValues({ from: 0, to: 3, points: 3, includeFrom: false })).toEqual([1, 2, 3]);
    expect(axisValues({ from: 0.5, to: 0.5, points: 1, includeFrom: true })).toEqual([0.5]);
  });

  it('refuses a bad grid with every problem named by path', () => {
    const problems = problemsOf({
      kind: 'calvano-grid',
      name: 'bad',
      alpha: { from: 0, to: 0.3, points: 3 },
      beta: { from: 0, to: 1e-5, points: 4 },
      seeds: { from: 1, count: 2 },
      calvano: { beta: 1, delta: 2, colour: 'red' },
    });
    const paths = problems.map((problem) => problem.path);
    expect(paths).toEqual(['alpha', 'beta.includeFrom', 'calvano.beta', 'calvano.delta', 'calvano']);
    expect(problems[1]!.message).toMatch(/never stops exploring.*"includeFrom": false/);
    expect(problems[4]!.message).toMatch(/unknown key "colour"/);
    expect(problemsOf({ ...tiny, alpha: { from: 0.2, to: 0.1, points: 2 } })).toEqual([{ path: 'alpha.to', message: 'expected to > from (0.2), found 0.1' }]);
    expect(problemsOf({ ...tiny, alpha: { from: 0.01, to: 0.2, points: 101 } })[0]).toEqual({ path: 'alpha.points', message: 'expected at most 100 points per axis, found 101' });
    expect(problemsOf({ ...tiny, kind: 'calvano' })[0]!.path).toBe('kind');
    expect(problemsOf({ ...tiny, alpha: { from: 0.01, to: 0.2, points: 100 }, beta: { from: 0, to: 1e-5, points: 100, includeFrom: false }, seeds: { from: 1, count: 101 } })).toEqual([
      { path: 'seeds.count', message: 'expected at most 1,000,000 sessions (alpha points x beta points x seeds), found 1,010,000 (100 x 100 x 101); split the seeds over files with the same name' },
    ]);
  });
});

describe('a tiny Calvano grid, end to end', () => {
  it('runs in worker threads into the store; the heatmap’s cells are the stored sessions’ mean profit gains', async () => {
    const plan = planCalvanoGrid(tiny);
    const home = temporary('pricelab-grid-');
    const result = await runCalvanoGrid(plan, { home, workers: 2 });
    expect(result).toMatchObject({ total: 8, finished: 8, failed: 0, skipped: 0, workers: 2, stopped: false });

    // A stored session is the session a single thread computes from (config, seed).
    const first = plan.sessions[0]!;
    const store = ResultsStore.open(home);
    try {
      expect(store.metricsOf(first.id)['market/profitGain']).toBe(runCalvanoSession(first.resolved, first.seed).profitGain);
      expect(store.getRun(first.id)).toMatchObject({ status: 'finished', seed: first.seed, agent: { kind: 'calvano' } });
    } finally {
      store.close();
    }

    const written = await writeCalvanoGridReport(join(home, 'report'), calvanoGridReport(plan, await calvanoGridCells(plan, home)));
    expect(written.warnings).toEqual([]);
    expect(readFileSync(written.png).subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const spec = JSON.parse(readFileSync(written.spec, 'utf8')) as { $schema: string; data: { values: { alpha: number; beta: number; profitGain: number }[] } };
    expect(spec.$schema).toMatch(/vega-lite/);
    expect(readFileSync(written.html, 'utf8')).toContain('<svg');
    const report = JSON.parse(readFileSync(written.json, 'utf8')) as CalvanoGridReport;
    expect(report.sessions).toMatchObject({ planned: 8, finished: 8 });
    const means = storedMeans(home, 'tiny-grid');
    expect(report.cells).toHaveLength(4);
    for (const cell of report.cells) {
      const stored = means.get(`${cell.alpha}|${cell.beta}`)!;
      expect(cell.sessions).toBe(stored.count);
      expect(cell.profitGainMean).toBeCloseTo(stored.mean, 12);
      const drawn = spec.data.values.find((value) => value.alpha === cell.alpha && value.beta === cell.beta)!;
      expect(drawn.profitGain).toBeCloseTo(stored.mean, 12);
    }

    // Run again: refused without --resume; with it, every session is skipped.
    await expect(runCalvanoGrid(plan, { home, workers: 2 })).rejects.toThrow(/already has 8 of its 8 sessions/);
    expect(await runCalvanoGrid(plan, { home, workers: 2, resume: true })).toMatchObject({ finished: 0, skipped: 8 });
  });

  it('stores what another runner (a queue) reports; a failed session is kept with its error and runs again on resume', async () => {
    const plan = planCalvanoGrid(tiny);
    const home = temporary('pricelab-grid-runner-');
    const doomed = plan.sessions[3]!;
    const first = await runCalvanoGrid(plan, {
      home,
      runner: async (sessions, report) => {
        for (const session of sessions) {
          report.started(session);
          if (session.id === doomed.id) report.failed(session, 'worker lost');
          else report.finished(session, runCalvanoSession(session.resolved, session.seed));
        }
      },
    });
    expect(first).toMatchObject({ finished: 7, failed: 1 });
    const store = ResultsStore.open(home);
    try {
      expect(store.getRun(doomed.id)).toMatchObject({ status: 'failed', error: 'worker lost' });
    } finally {
      store.close();
    }
    const cell = (await calvanoGridCells(plan, home)).find((entry) => entry.alpha === doomed.alpha && entry.beta === doomed.beta)!;
    expect(cell).toMatchObject({ planned: 2, sessions: 1 });
    const handedOut: string[] = [];
    const second = await runCalvanoGrid(plan, {
      home,
      resume: true,
      runner: async (sessions, report) => {
        for (const session of sessions) {
          handedOut.push(session.id);
          report.started(session);
          report.finished(session, runCalvanoSession(session.resolved, session.seed));
        }
      },
    });
    expect(handedOut).toEqual([doomed.id]);
    expect(second).toMatchObject({ finished: 1, failed: 0, skipped: 7 });
    expect((await calvanoGridCells(plan, home)).every((entry) => entry.sessions === 2)).toBe(true);
  });

  it('refuses --queue without a runner for it, instead of running the grid locally', async () => {
    await expect(calvanoGridRunCommand('tiny.json', planCalvanoGrid(tiny), { queue: 'redis://127.0.0.1:1' })).rejects.toMatchObject({ kind: 'config', problems: [{ path: ['--queue'] }] });
  });

  it('the CLI runs a grid file and rewrites its report from the store', async () => {
    ensureBuilt();
    const home = temporary('pricelab-grid-cli-');
    const file = join(home, 'tiny.json');
    await import('node:fs').then((fs) => fs.writeFileSync(file, JSON.stringify(tiny)));
    const env = { PRICELAB_HOME: home, NO_COLOR: '1' };
    const ran = await cliWith(env, 'experiment', 'run', file, '--workers', '2', '--json');
    expect(ran.code, ran.stderr).toBe(0);
    const summary = JSON.parse(ran.stdout) as { finished: number; report: { png: string; json: string } };
    expect(summary.finished).toBe(8);
    expect(existsSync(summary.report.png)).toBe(true);
    const out = join(home, 'again');
    const reported = await cliWith(env, 'experiment', 'report', file, '--out', out);
    expect(reported.code, reported.stderr).toBe(0);
    expect(reported.stdout).toMatch(/8 of 8 sessions in the store/);
    expect(JSON.parse(readFileSync(join(out, 'calvano-grid.json'), 'utf8')).cells).toEqual(JSON.parse(readFileSync(summary.report.json, 'utf8')).cells);
  });
});

describe('the paper’s pattern and the cost estimate', () => {
  const cell = (alpha: number, beta: number, profitGainMean: number) => ({ alpha, beta, planned: 1, sessions: 1, converged: 1, profitGainMean, profitGainSd: null, profitGainLow: null, profitGainHigh: null, meanPeriodsToConvergence: null, averagePrice: null, secondsPerSession: null });

  it('reads longer exploration against shorter, the peak alpha and the point nearest the baseline off the cells', () => {
    const alphas = [0.025, 0.1, 0.25];
    const betas = [2e-6, 1e-5, 2e-5];
    // Gain falls with beta; along alpha it peaks at 0.1.
    const cells = alphas.flatMap((alpha) => betas.map((beta) => cell(alpha, beta, 0.9 - beta * 1e4 - (alpha === 0.1 ? 0 : 0.1))));
    const pattern = gridPattern({ alphas, betas }, cells);
    expect(pattern.longerExploration.holds).toBe(true);
    expect(pattern.longerExploration.smallerBetaMean).toBeCloseTo((0.88 + 0.78 + 0.78) / 3, 12);
    expect(pattern.peakAlpha).toMatchObject({ alpha: 0.1, holds: true });
    expect(pattern.baseline.cell).toMatchObject({ alpha: 0.1, beta: 2e-6 });
    expect(pattern.baseline.statement).toMatch(/^grid point alpha 0\.1, beta 2e-6 \(nearest/);
    expect([1.33333333333e-6, 4e-6, 0.153571428571, 0.25].map(axisText)).toEqual(['1.333e-6', '4e-6', '0.1536', '0.25']);
    const flipped = gridPattern({ alphas, betas }, cells.map((entry) => ({ ...entry, profitGainMean: 1 - entry.profitGainMean })));
    expect(flipped.longerExploration.holds).toBe(false);
    expect(flipped.peakAlpha.holds).toBe(false);
  });

  it('fits cost = a + b / beta through two sampled betas exactly and scales it to the grid', () => {
    const plan = planCalvanoGrid(tiny);
    const estimate = estimateGridCost(plan, { alphaPoints: 1, betaPoints: 2 });
    expect(estimate.samples.map((sample) => [sample.alpha, sample.beta])).toEqual([[0.1, 5e-5], [0.1, 1e-4]]);
    for (const sample of estimate.samples) expect(estimate.model.a + estimate.model.b / sample.beta).toBeCloseTo(sample.cpuSeconds, 9);
    // Every beta of the grid was sampled: the model's mean over them is the samples' mean.
    expect(estimate.secondsPerSession).toBeCloseTo(estimate.sampleMeanSeconds, 9);
    expect(estimate.cpuSeconds).toBeCloseTo(estimate.secondsPerSession * 8, 9);
  });
});
