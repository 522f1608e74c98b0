/**
 * The kill test of issue 4: a sweep killed (SIGKILL) mid-run, after one run finished and
 * another saved a checkpoint, resumes with --resume and ends with exactly the evaluations
 * of an uninterrupted sweep (run with another worker count, in another PRICELAB_HOME).
 * The resume runs in a copy of the killed sweep's home, the original removed: the store keeps
 * checkpoint paths relative to the home, so the copy resumes from its own files.
 * A damaged checkpoint fails its run, naming the file, until --resume --restart-failed.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planExperiment } from '../../experiments/experiment-file.js';
import { databasePath, ResultsStore } from '../../experiments/store.js';
import { ensureBuilt, main, root, type CliResult } from '../fixtures/cli.js';

const experiment = {
  name: 'kill-test',
  scenarios: ['steady-state-v1'],
  agents: [
    { name: 'q', kind: 'q-learning', config: { exploration: { kind: 'epsilon', start: 1, end: 0.05, decaySteps: 4000 } } },
    { kind: 'thompson' },
  ],
  seeds: [1, 2],
  budget: { episodes: 25 },
  evaluation: { episodes: 3, seed: 500 },
  kpis: ['profit', 'units'],
};

function cli(home: string, ...args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [main, ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, PRICELAB_HOME: home, NO_COLOR: '1' } }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr }),
    );
  });
}

/** Every run's stored evaluation episodes and eval/ metrics, by run key. */
function storedResults(home: string) {
  const store = ResultsStore.open(home);
  try {
    return Object.fromEntries(
      store.listRuns().map((run) => [run.id, { status: run.status, evaluations: store.evaluationsOf(run.id), eval: Object.entries(store.metricsOf(run.id)).filter(([key]) => key.startsWith('eval/') || key.startsWith('train/') || key.startsWith('rollout/')) }]),
    );
  } finally {
    store.close();
  }
}

describe('a killed sweep, resumed', () => {
  let folder: string;
  let file: string;
  beforeAll(() => {
    ensureBuilt();
    folder = mkdtempSync(join(tmpdir(), 'pricelab-sweep-resume-'));
    file = join(folder, 'kill-test.json');
    writeFileSync(file, JSON.stringify(experiment));
  });
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it('ends with the same results as an uninterrupted sweep', async () => {
    const killedHome = join(folder, 'killed');
    const child = spawn(process.execPath, [main, 'experiment', 'run', file, '--workers', '1'], { cwd: root, env: { ...process.env, PRICELAB_HOME: killedHome }, stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    // Poll the store until one run finished and another has a checkpoint, then kill the process outright.
    let killedAt: { finished: number; checkpointed: string } | undefined;
    const deadline = Date.now() + 40_000;
    while (!killedAt && Date.now() < deadline && child.exitCode === null) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (!existsSync(databasePath(killedHome))) continue;
      const store = ResultsStore.open(killedHome);
      try {
        const runs = store.listRuns();
        const finished = runs.filter((run) => run.status === 'finished').length;
        const checkpointed = runs.find((run) => run.status === 'running' && (store.checkpointOf(run.id)?.episodes ?? 0) >= 1);
        if (finished >= 1 && checkpointed) {
          child.kill('SIGKILL');
          killedAt = { finished, checkpointed: checkpointed.id };
        }
      } finally {
        store.close();
      }
    }
    await exited;
    expect(killedAt, 'the sweep was killed after a finished run and a checkpoint').toBeDefined();
    const afterKill = storedResults(killedHome);
    expect(Object.values(afterKill).filter((run) => run.status === 'finished').length).toBeLessThan(4);
    // The killed run left no half-written results.
    expect(afterKill[killedAt!.checkpointed]).toMatchObject({ status: 'running', evaluations: [], eval: [] });

    // Resume in a copy of the home, the original gone: nothing may read the original's files.
    const copiedHome = join(folder, 'copied');
    cpSync(killedHome, copiedHome, { recursive: true });
    rmSync(killedHome, { recursive: true, force: true });
    const [resumed, uninterrupted] = await Promise.all([cli(copiedHome, 'experiment', 'run', file, '--resume', '--workers', '1'), cli(join(folder, 'clean'), 'experiment', 'run', file, '--workers', '2')]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(uninterrupted.code, uninterrupted.stderr).toBe(0);
    expect(resumed.stderr).toContain(`resuming ${killedAt!.checkpointed}`);
    expect(resumed.stdout).toMatch(new RegExp(`${4 - killedAt!.finished} finished, 0 failed, 0 interrupted, ${killedAt!.finished} skipped`));

    const expected = storedResults(join(folder, 'clean'));
    expect(Object.keys(expected)).toHaveLength(4);
    expect(Object.values(expected).every((run) => run.status === 'finished' && run.evaluations.length === 3)).toBe(true);
    expect(storedResults(copiedHome)).toEqual(expected);
    // Checkpoints of finished runs are cleaned up.
    expect(existsSync(join(copiedHome, 'checkpoints', killedAt!.checkpointed))).toBe(false);
    expect(existsSync(killedHome)).toBe(false);
  });

  it('refuses to run an experiment already in the store without --resume (exit 2)', async () => {
    const result = await cli(join(folder, 'clean'), 'experiment', 'run', file);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/already has 4 of its 4 runs.*\n.*--resume/);
  });
});

describe('a damaged checkpoint', () => {
  let folder: string;
  let file: string;
  const small = {
    name: 'damaged-checkpoint',
    scenarios: ['steady-state-v1'],
    agents: [{ name: 'q', kind: 'q-learning' }],
    seeds: [1, 2],
    budget: { episodes: 3 },
    evaluation: { episodes: 2, seed: 500 },
    kpis: ['profit'],
  };
  beforeAll(() => {
    ensureBuilt();
    folder = mkdtempSync(join(tmpdir(), 'pricelab-damaged-checkpoint-'));
    file = join(folder, 'damaged.json');
    writeFileSync(file, JSON.stringify(small));
  });
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it('fails its run naming the checkpoint on every --resume, until --restart-failed starts it afresh', async () => {
    const home = join(folder, 'damaged');
    const plan = planExperiment(small, file);
    const [garbled, misshapen] = plan.runs;
    // Two interrupted runs, each pointing at a checkpoint: one with bytes that do not match
    // their hash, one whose bytes match but whose agent state the agent refuses.
    const store = ResultsStore.open(home);
    try {
      store.registerRuns(plan.runs.map((run) => ({ id: run.id, experiment: run.experiment, scenario: run.scenario, agent: run.agent, seed: run.seed, manifest: {} })));
      const garbledPath = join(home, 'checkpoints', garbled!.id, 'episode-1.json');
      mkdirSync(dirname(garbledPath), { recursive: true });
      writeFileSync(garbledPath, '{"format": "pricelab/run-checkp\u0000\u0001garbage');
      store.recordCheckpoint({ runId: garbled!.id, episodes: 1, steps: 365, path: garbledPath, sha256: '0'.repeat(64) });
      const misshapenPath = join(home, 'checkpoints', misshapen!.id, 'episode-1.json');
      mkdirSync(dirname(misshapenPath), { recursive: true });
      const bytes = JSON.stringify({ format: 'pricelab/run-checkpoint@1', runId: misshapen!.id, boundary: { steps: 365, episodes: 1, episodeRewards: [1] }, agent: { kind: 'q-learning', state: { table: 'not a table' } } });
      writeFileSync(misshapenPath, bytes);
      store.recordCheckpoint({ runId: misshapen!.id, episodes: 1, steps: 365, path: misshapenPath, sha256: createHash('sha256').update(bytes).digest('hex') });
      for (const run of plan.runs) store.markRunning(run.id);
      store.markInterrupted(plan.runs.map((run) => run.id));
    } finally {
      store.close();
    }

    for (let attempt = 0; attempt < 2; attempt++) {
      const resumed = await cli(home, 'experiment', 'run', file, '--resume', '--workers', '1');
      expect(resumed.code, resumed.stderr).toBe(1);
      expect(resumed.stdout).toMatch(/0 finished, 2 failed/);
      expect(resumed.stderr).toContain(`the checkpoint ${join(home, 'checkpoints', garbled!.id, 'episode-1.json')} is damaged`);
      expect(resumed.stderr).toContain(join(home, 'checkpoints', misshapen!.id, 'episode-1.json'));
      expect(resumed.stderr).toContain('--resume --restart-failed');
    }
    expect(Object.values(storedResults(home)).map((run) => run.status)).toEqual(['failed', 'failed']);

    const alone = await cli(home, 'experiment', 'run', file, '--restart-failed');
    expect(alone.code).toBe(2);
    expect(alone.stderr).toMatch(/expected --resume with --restart-failed/);

    const [restarted, clean] = await Promise.all([cli(home, 'experiment', 'run', file, '--resume', '--restart-failed', '--workers', '1'), cli(join(folder, 'clean'), 'experiment', 'run', file, '--workers', '1')]);
    expect(restarted.code, restarted.stderr).toBe(0);
    expect(clean.code, clean.stderr).toBe(0);
    expect(restarted.stdout).toMatch(/2 finished, 0 failed, 0 interrupted, 0 skipped/);
    expect(restarted.stderr).toContain(`restarting ${garbled!.id}`);
    expect(restarted.stderr).toContain('--restart-failed discarded its checkpoint');
    // Started afresh: exactly the results of a sweep that never had a checkpoint.
    expect(storedResults(home)).toEqual(storedResults(join(folder, 'clean')));
    expect(existsSync(join(home, 'checkpoints', garbled!.id))).toBe(false);
  });

  it('a checkpoint row pointing outside the home fails its run without reading the file, until --restart-failed', async () => {
    const home = join(folder, 'outside');
    const one = { ...small, name: 'outside-checkpoint', seeds: [1] };
    const oneFile = join(folder, 'outside.json');
    writeFileSync(oneFile, JSON.stringify(one));
    const [only] = planExperiment(one, oneFile).runs;
    const store = ResultsStore.open(home);
    try {
      store.registerRuns([{ id: only!.id, experiment: only!.experiment, scenario: only!.scenario, agent: only!.agent, seed: only!.seed, manifest: {} }]);
      store.markRunning(only!.id);
      store.markInterrupted([only!.id]);
    } finally {
      store.close();
    }
    const raw = new Database(databasePath(home));
    raw.prepare("INSERT INTO checkpoints (run_id, episodes, steps, path, sha256, written_at) VALUES (?, 1, 365, '../../../etc/passwd', ?, 'then')").run(only!.id, '0'.repeat(64));
    raw.close();

    const resumed = await cli(home, 'experiment', 'run', oneFile, '--resume', '--workers', '1');
    expect(resumed.code, resumed.stderr).toBe(1);
    expect(resumed.stdout).toMatch(/0 finished, 1 failed/);
    expect(resumed.stderr).toContain(`table checkpoints, row run_id=${only!.id}, column path`);
    expect(resumed.stderr).toContain('--resume --restart-failed');
    const restarted = await cli(home, 'experiment', 'run', oneFile, '--resume', '--restart-failed', '--workers', '1');
    expect(restarted.code, restarted.stderr).toBe(0);
    expect(restarted.stdout).toMatch(/1 finished, 0 failed/);
  });
});
