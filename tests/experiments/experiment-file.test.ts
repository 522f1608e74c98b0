import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PricelabError } from '../../core/errors.js';
import { experimentBounds, loadExperimentFile, planExperiment } from '../../experiments/experiment-file.js';
import { execFile } from 'node:child_process';
import { ensureBuilt, main, root, type CliResult } from '../fixtures/cli.js';

/** The compiled CLI with PRICELAB_HOME set. */
function cli(home: string, ...args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [main, ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, PRICELAB_HOME: home, NO_COLOR: '1' } }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr }),
    );
  });
}

const valid = {
  name: 'demo',
  scenarios: ['steady-state-v1'],
  agents: [{ kind: 'ucb1' }, { name: 'q', kind: 'q-learning', config: { alpha: 0.2 } }],
  seeds: { from: 3, count: 2 },
  budget: { episodes: 2 },
};

const bad = {
  name: 'has spaces',
  scenarios: ['steady-state-v1', 'no-such-scenario-v9'],
  agents: [{ kind: 'nope' }, { kind: 'q-learning', config: { alpha: 2, gamma: -1 } }, { kind: 'ucb1', colour: 'red' }],
  seeds: [],
  budget: { steps: 0 },
  kpis: ['profit', 'happiness'],
};

function problemsOf(json: unknown): { path: string; message: string }[] {
  try {
    planExperiment(json);
  } catch (error) {
    if (!(error instanceof PricelabError)) throw error;
    expect(error.kind).toBe('config');
    return error.problems.map((problem) => ({ path: problem.path.join('.'), message: problem.message }));
  }
  throw new Error('expected the experiment to be refused');
}

describe('experiment files', () => {
  it('plan scenarios x agents x seeds, with validated configs and deterministic run keys', () => {
    const plan = planExperiment(valid);
    expect(plan.runs.map((run) => [run.scenario.id, run.agent.name, run.seed])).toEqual([
      ['steady-state-v1', 'ucb1', 3],
      ['steady-state-v1', 'ucb1', 4],
      ['steady-state-v1', 'q', 3],
      ['steady-state-v1', 'q', 4],
    ]);
    expect(plan.runs[2]?.agent.config).toMatchObject({ alpha: 0.2, gamma: 0.99 });
    expect(plan.runs[0]?.evaluation).toEqual({ episodes: 10, seed: 1_000_000 });
    expect(new Set(plan.runs.map((run) => run.id)).size).toBe(4);
    expect(planExperiment(structuredClone(valid)).runs.map((run) => run.id)).toEqual(plan.runs.map((run) => run.id));
    // Anything a run depends on changes its key.
    const longer = planExperiment({ ...valid, budget: { episodes: 3 } });
    expect(longer.runs.map((run) => run.id).some((id) => plan.runs.some((run) => run.id === id))).toBe(false);
    const otherConfig = planExperiment({ ...valid, agents: [{ kind: 'ucb1', config: { exploration: 0.5 } }] });
    expect(otherConfig.runs[0]?.id).not.toBe(plan.runs[0]?.id);
  });

  it('list every problem of a bad file by path', () => {
    const problems = problemsOf(bad);
    const paths = problems.map((problem) => problem.path);
    for (const expected of ['name', 'agents.2', 'seeds', 'budget', 'kpis.1', 'scenarios.1', 'agents.0.kind', 'agents.1.config.alpha', 'agents.1.config.gamma']) {
      expect(paths, `a problem at ${expected}`).toContainEqual(expect.stringMatching(new RegExp(`^${expected.replace(/\./g, '\\.')}`)));
    }
    expect(problems.find((problem) => problem.path === 'agents.0.kind')?.message).toMatch(/expected one of .*q-learning.*found "nope"/);
  });

  it('refuse duplicate agent names and seeds', () => {
    expect(problemsOf({ ...valid, agents: [{ kind: 'ucb1' }, { kind: 'ucb1' }] }).map((problem) => problem.path)).toEqual(['agents']);
    expect(problemsOf({ ...valid, seeds: [1, 1] }).map((problem) => problem.path)).toEqual(['seeds']);
  });

  it('bounds the seeds, scenarios, agents and runs, naming what was found', () => {
    expect(problemsOf({ ...valid, seeds: Array.from({ length: 200_000 }, (_, index) => index) })).toEqual([{ path: 'seeds', message: `expected at most ${experimentBounds.seeds} seeds, found 200000` }]);
    expect(problemsOf({ ...valid, seeds: { from: 0, count: 1e9 } })).toEqual([{ path: 'seeds.count', message: `expected at most ${experimentBounds.seeds} seeds, found 1000000000` }]);
    expect(problemsOf({ ...valid, scenarios: Array.from({ length: 101 }, () => 'steady-state-v1') }).map((problem) => problem.message)).toEqual([`expected at most ${experimentBounds.scenarios} scenarios, found 101`]);
    expect(problemsOf({ ...valid, agents: Array.from({ length: 101 }, (_, index) => ({ name: `a${index}`, kind: 'ucb1' })) }).map((problem) => problem.message)).toEqual([`expected at most ${experimentBounds.agents} agents, found 101`]);
    const tooMany = { ...valid, agents: Array.from({ length: 11 }, (_, index) => ({ name: `a${index}`, kind: 'ucb1' })), seeds: { from: 0, count: 10_000 } };
    expect(problemsOf(tooMany)).toEqual([{ path: 'seeds', message: `expected at most ${experimentBounds.runs} runs (scenarios x agents x seeds), found 110000 (1 x 11 x 10000); split the experiment` }]);
  });

  it('checks in linear time: 10,000 listed seeds with a duplicate at the end are found at once (indexOf was quadratic)', () => {
    const seeds = [...Array.from({ length: 10_000 }, (_, index) => index), 9_999].slice(1);
    const started = performance.now();
    expect(problemsOf({ ...valid, seeds })).toEqual([{ path: 'seeds', message: 'expected each seed once, found 9999 twice' }]);
    const plan = planExperiment({ ...valid, seeds: Array.from({ length: 10_000 }, (_, index) => index) });
    expect(plan.runs).toHaveLength(20_000);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('every example in scenarios/experiments/ is valid', () => {
    expect(loadExperimentFile('scenarios/experiments/quick-sweep.json').runs.length).toBe(12);
  });
});

describe('pricelab experiment run with a bad file', () => {
  let folder: string;
  beforeAll(() => {
    ensureBuilt();
    folder = mkdtempSync(join(tmpdir(), 'pricelab-experiment-file-'));
  });
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it('exits 2, lists every problem, and stores nothing', async () => {
    const file = join(folder, 'bad.json');
    writeFileSync(file, JSON.stringify(bad));
    const home = join(folder, 'home');
    const result = await cli(home, 'experiment', 'run', file);
    expect(result.code).toBe(2);
    for (const path of ['name', 'seeds', 'budget', 'kpis[1]', 'scenarios[1]', 'agents[0].kind', 'agents[1].config.alpha', 'agents[1].config.gamma']) expect(result.stderr).toContain(`- ${path}`);
    expect(existsSync(home)).toBe(false);
  });

  it('experiment check refuses 200,000 seeds with exit 2 in seconds', async () => {
    const file = join(folder, 'many-seeds.json');
    writeFileSync(file, JSON.stringify({ ...valid, seeds: Array.from({ length: 200_000 }, (_, index) => index) }));
    const started = performance.now();
    const result = await cli(join(folder, 'home'), 'experiment', 'check', file);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain(`- seeds: expected at most ${experimentBounds.seeds} seeds, found 200000`);
    expect((performance.now() - started) / 1000).toBeLessThan(20);
  });

  it('exits 3 for a missing file, and runs show exits 3 without a store', async () => {
    const home = join(folder, 'home');
    expect((await cli(home, 'experiment', 'run', join(folder, 'missing.json'))).code).toBe(3);
    expect((await cli(home, 'runs', 'show', 'abc')).code).toBe(3);
    expect(existsSync(home)).toBe(false);
  });
});
