/**
 * `pricelab train --envs N` with exploring starts, --keep-best and --population: the artifact
 * and the run manifest say which evaluation (and member) was kept; bad flags exit 2 naming the option.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResultsStore } from '../../experiments/store.js';
import { cliWith, ensureBuilt, type CliResult } from '../fixtures/cli.js';
import { linearMarket } from '../fixtures/linear-market.js';

let scratch = '';
let scenarioFile = '';
beforeAll(() => {
  ensureBuilt();
  scratch = mkdtempSync(join(tmpdir(), 'pricelab-train-vector-'));
  scenarioFile = join(scratch, 'linear.json');
  writeFileSync(scenarioFile, JSON.stringify(linearMarket('linear-cli-train-v1')));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The CLI with its results store (PRICELAB_HOME) in the scratch folder: training runs are recorded there. */
const home = () => join(scratch, 'home');
const cli = (...args: string[]): Promise<CliResult> => cliWith({ PRICELAB_HOME: home() }, ...args);

interface RunManifest {
  policy: string;
  metrics: Record<string, unknown>;
}
const manifestOf = (out: string) => JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as RunManifest;
const lastEvaluationOf = (out: string) => (JSON.parse(readFileSync(join(out, 'policy', 'policy.json'), 'utf8')) as { training: { lastEvaluation: number } }).training.lastEvaluation;

describe('pricelab train over a vector env', () => {
  it('--exploring-starts (one window with a greedy lead-in of its own) --lead-in random-price --keep-best writes the best evaluation\'s policy and says so', async () => {
    const out = join(scratch, 'run');
    const result = await cli('train', scenarioFile, '--agent', 'q-learning', '--steps', '4000', '--envs', '4', '--exploring-starts', '0.3:10,0.2:40:greedy', '--lead-in', 'random-price', '--first-action', 'uniform', '--keep-best', '--eval-every', '500', '--eval-episodes', '2', '--out', out, '--json');
    expect(result.stderr).not.toContain('Error');
    expect(result.code).toBe(0);
    const manifest = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as { metrics: Record<string, unknown> };
    const curve = manifest.metrics['eval/curve'] as { steps: number; meanReward: number }[];
    expect(curve).toHaveLength(8);
    const best = Math.max(...curve.map((point) => point.meanReward));
    expect(manifest.metrics['eval/bestMeanReward']).toBe(best);
    expect(curve.map((point) => point.steps)).toContain(manifest.metrics['eval/bestSteps']);
    expect(manifest.metrics['train/leadInSteps']).toBeGreaterThan(0);
    const policy = JSON.parse(readFileSync(join(out, 'policy', 'policy.json'), 'utf8')) as { training: { lastEvaluation: number } };
    expect(policy.training.lastEvaluation).toBe(best);
  }, 60_000);

  it('--population 3 --select-after trains three members, continues the best one and writes its policy', async () => {
    const out = join(scratch, 'population');
    const result = await cli('train', scenarioFile, '--agent', 'q-learning', '--steps', '3000', '--envs', '2', '--seed', '5', '--population', '3', '--select-after', '1000', '--eval-every', '500', '--eval-episodes', '2', '--out', out, '--json');
    expect(result.stderr).not.toContain('Error');
    expect(result.code).toBe(0);
    const manifest = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as { seeds: { training: number }; metrics: Record<string, unknown> };
    const trialBest = manifest.metrics['population/trialBestMeanReward'] as number[];
    expect(trialBest).toHaveLength(3);
    const winner = manifest.metrics['population/winner'] as number;
    expect(winner).toBe(trialBest.indexOf(Math.max(...trialBest)));
    expect(manifest.seeds.training).toBe(5 + winner);
    expect(manifest.metrics['population/totalSteps']).toBe(3 * 1000 + 2000);
    expect(manifest.metrics['train/steps']).toBe(3000);
    // The winner's curve: its trial (500, 1000), then its continuation counted on from the selection.
    const curve = manifest.metrics['eval/curve'] as { steps: number }[];
    expect(curve.map((point) => point.steps)).toEqual([500, 1000, 1500, 2000, 2500, 3000]);
    expect(manifest.metrics['eval/bestMeanReward']).toBeGreaterThanOrEqual(trialBest[winner]!);
  }, 60_000);

  it('--choose-margin picks the DQN change margin on the evaluation seeds and writes the policy with it', async () => {
    const out = join(scratch, 'margin');
    const configFile = join(scratch, 'dqn.json');
    writeFileSync(configFile, JSON.stringify({ backend: 'wasm', hiddenLayers: [8], learningStarts: 100, totalSteps: 400, changeMargin: 0 }));
    const result = await cli('train', scenarioFile, '--agent', 'dqn', '--config', configFile, '--steps', '400', '--envs', '2', '--eval-episodes', '2', '--choose-margin', '0,1e9', '--out', out, '--json');
    expect(result.stderr).not.toContain('Error');
    expect(result.code).toBe(0);
    const manifest = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as { agent: { config: { changeMargin: number } }; metrics: Record<string, unknown> };
    const candidates = manifest.metrics['eval/marginCandidates'] as { margin: number; meanReward: number }[];
    expect(candidates.map((candidate) => candidate.margin)).toEqual([0, 1e9]);
    const chosen = manifest.metrics['eval/changeMargin'] as number;
    expect(candidates.find((candidate) => candidate.margin === chosen)!.meanReward).toBe(Math.max(...candidates.map((candidate) => candidate.meanReward)));
    expect(manifest.agent.config.changeMargin).toBe(chosen);
    const dqnState = JSON.parse(readFileSync(join(out, 'policy', 'dqn.json'), 'utf8')) as { config: { changeMargin: number } };
    expect(dqnState.config.changeMargin).toBe(chosen);
  }, 60_000);

  it('trains a phased agent (fixed price, then a DQN finale) from the last days, chooses its margin, and the policy evaluates', async () => {
    const out = join(scratch, 'phased');
    const configFile = join(scratch, 'phased.json');
    const finale = { backend: 'wasm', hiddenLayers: [8], learningStarts: 100, totalSteps: 600, changeMargin: 0 };
    writeFileSync(configFile, JSON.stringify({ finaleDays: 10, base: { kind: 'fixed-price', config: { price: 10 } }, finale: { kind: 'dqn', config: finale } }));
    const trained = await cli('train', scenarioFile, '--agent', 'phased', '--config', configFile, '--steps', '600', '--envs', '2', '--exploring-starts', '1:10:greedy', '--keep-best', '--eval-every', '300', '--eval-episodes', '2', '--choose-margin', '0,1e9', '--out', out, '--json');
    expect(trained.stderr).not.toContain('Error');
    expect(trained.code).toBe(0);
    const manifest = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as { agent: { kind: string; config: { finale: { config: { changeMargin: number } } } }; metrics: Record<string, unknown> };
    expect(manifest.agent.kind).toBe('phased');
    expect(manifest.agent.config.finale.config.changeMargin).toBe(manifest.metrics['eval/changeMargin']);
    const dqnState = JSON.parse(readFileSync(join(out, 'policy', 'finale.dqn.json'), 'utf8')) as { config: { changeMargin: number } };
    expect(dqnState.config.changeMargin).toBe(manifest.metrics['eval/changeMargin']);
    const evaluated = await cli('evaluate', scenarioFile, '--policy', join(out, 'policy'), '--episodes', '2', '--json');
    expect(evaluated.code).toBe(0);
    // A phased agent whose finale has no change margin: --choose-margin exits 2, naming it.
    writeFileSync(configFile, JSON.stringify({ finaleDays: 10, base: { kind: 'fixed-price', config: { price: 10 } }, finale: { kind: 'fixed-price', config: { price: 9 } } }));
    const refused = await cli('train', scenarioFile, '--agent', 'phased', '--config', configFile, '--steps', '100', '--envs', '2', '--choose-margin', '0,50', '--out', join(scratch, 'never-phased'));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('choose-margin');
    expect(refused.stderr).toContain('a phased agent whose finale is "fixed-price"');
  }, 60_000);

  for (const [flags, named] of [
    [['--choose-margin', '50,100'], 'choose-margin'],
    [['--population', '2'], 'population'],
    [['--envs', '2', '--select-after', '50'], 'select-after'],
    [['--envs', '2', '--population', '2', '--select-after', '100'], 'select-after'],
  ] as const) {
    it(`${flags.join(' ')} exits 2, naming ${named}`, async () => {
      const result = await cli('train', scenarioFile, '--agent', 'q-learning', '--steps', '100', ...flags, '--out', join(scratch, 'never-population'));
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(named);
    });
  }

  it('--no-keep-best with --population exits 2, naming keep-best', async () => {
    const result = await cli('train', scenarioFile, '--agent', 'q-learning', '--steps', '400', '--envs', '2', '--population', '2', '--no-keep-best', '--out', join(scratch, 'never'));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('keep-best');
  });

  for (const [flag, value] of [['--exploring-starts', '0.5'], ['--exploring-starts', 'half:10'], ['--exploring-starts', '0.5:10:sometimes'], ['--choose-margin', '50,-1'], ['--lead-in', 'sometimes'], ['--first-action', 'random']] as const) {
    it(`${flag} ${value} exits non-zero, naming the option`, async () => {
      const result = await cli('train', scenarioFile, '--agent', 'q-learning', '--steps', '100', '--envs', '2', flag, value);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain(flag);
    });
  }

  it('--lead-in without --exploring-starts exits 2, naming both options', async () => {
    const result = await cli('train', scenarioFile, '--agent', 'q-learning', '--steps', '100', '--envs', '2', '--lead-in', 'random-price', '--out', join(scratch, 'never3'));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('lead-in');
    expect(result.stderr).toContain('--exploring-starts');
  });

  it('a window past the horizon is refused with the field and the horizon', async () => {
    const result = await cli('train', scenarioFile, '--agent', 'q-learning', '--steps', '100', '--envs', '2', '--exploring-starts', '0.5:80', '--out', join(scratch, 'never2'));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('exploringStarts.windows[0].lastDays');
    expect(result.stderr).toContain('horizon (50)');
    expect(result.stderr).toContain('found 80');
  });
});

describe('pricelab train on one market: keep-best by default, the run in the store', () => {
  // Q-learning's greedy reward on this market moves up and down while epsilon decays: the best evaluation is rarely the last.
  const training = ['--agent', 'q-learning', '--steps', '3000', '--eval-every', '300', '--eval-episodes', '2', '--seed', '3'];

  it('keeps the best evaluation without being asked, says so, and records the run with its curve, metrics, evaluation episodes and policy', async () => {
    const out = join(scratch, 'single');
    const result = await cli('train', scenarioFile, ...training, '--out', out);
    expect(result.code).toBe(0);
    const manifest = manifestOf(out);
    const curve = manifest.metrics['eval/curve'] as { steps: number; meanReward: number }[];
    expect(curve.map((point) => point.steps)).toEqual([300, 600, 900, 1200, 1500, 1800, 2100, 2400, 2700, 3000]);
    const best = Math.max(...curve.map((point) => point.meanReward));
    expect(manifest.metrics['eval/bestMeanReward']).toBe(best);
    expect(manifest.metrics['eval/meanReward']).toBe(best);
    expect(lastEvaluationOf(out)).toBe(best);
    expect(result.stdout).toContain(`kept the best evaluation (step ${(manifest.metrics['eval/bestSteps'] as number).toLocaleString('en-US')} of 3,000)`);

    const runId = /^run: (\S+)/m.exec(result.stdout)?.[1];
    expect(runId).toBeDefined();
    const listed = await cli('runs', 'list', '--json');
    expect(listed.code).toBe(0);
    const row = (JSON.parse(listed.stdout) as { id: string; experiment: string; status: string; kind: string; seed: number; 'eval/meanReward': number }[]).find((entry) => entry.id === runId);
    expect(row).toMatchObject({ experiment: 'train', status: 'finished', kind: 'q-learning', seed: 3, 'eval/meanReward': best });
    const shown = await cli('runs', 'show', runId!, '--json');
    expect(shown.code).toBe(0);
    const record = JSON.parse(shown.stdout) as { manifest: { command?: string; options?: Record<string, unknown> }; metrics: Record<string, unknown>; evaluations: { seed: number; totalReward: number; kpis: Record<string, number> }[] };
    expect(record.metrics['eval/curve']).toEqual(curve);
    // The run's parameters stay with it once finished (the command line's options), in the store and in run.json.
    for (const recorded of [record.manifest, manifest as unknown as typeof record.manifest]) {
      expect(recorded.command).toBe('train');
      expect(recorded.options).toMatchObject({ agent: 'q-learning', steps: 3000, evalEvery: 300, evalEpisodes: 2, seed: 3 });
    }
    // The kept policy's evaluation episodes, on the evaluation seeds 1,000,000 + seed upward.
    expect(record.evaluations.map((episode) => episode.seed)).toEqual([1_000_003, 1_000_004]);
    expect((record.evaluations[0]!.totalReward + record.evaluations[1]!.totalReward) / 2).toBeCloseTo(best, 9);
    expect(record.evaluations[0]!.kpis).toHaveProperty('profit');
    const text = await cli('runs', 'show', runId!);
    expect(text.stdout).toContain('eval/bestMeanReward');

    // The store's API for runs tables (the dashboard): each run with its curve and artifact.
    const store = ResultsStore.open(home());
    try {
      const runs = store.listRunsWithCurves({ experiment: 'train' });
      const listedRun = runs.find((entry) => entry.run.id === runId)!;
      expect(listedRun.curve).toEqual(curve);
      expect(listedRun.artifactPath).toBe(manifest.policy);
      expect(listedRun.metrics['eval/bestMeanReward']).toBe(best);
    } finally {
      store.close();
    }
  }, 60_000);

  it('--no-keep-best writes the last policy; --no-store records nothing', async () => {
    const out = join(scratch, 'single-last');
    const result = await cli('train', scenarioFile, ...training, '--no-keep-best', '--no-store', '--out', out, '--json');
    expect(result.code).toBe(0);
    const manifest = manifestOf(out);
    const curve = manifest.metrics['eval/curve'] as { steps: number; meanReward: number }[];
    expect(manifest.metrics).not.toHaveProperty('eval/bestSteps');
    expect(lastEvaluationOf(out)).toBe(curve.at(-1)!.meanReward);
    expect(JSON.parse(result.stdout)).not.toHaveProperty('runId');
    // The same seed as the run above: the best evaluation there was not the last, so keep-best made a difference.
    expect(Math.max(...curve.map((point) => point.meanReward))).toBeGreaterThan(curve.at(-1)!.meanReward);
  }, 60_000);

  it('late hand-overs: says what it counted instead of "0 episodes"', async () => {
    const out = join(scratch, 'late');
    const result = await cli('train', scenarioFile, '--agent', 'q-learning', '--steps', '600', '--envs', '2', '--exploring-starts', '1:10', '--eval-episodes', '1', '--no-store', '--out', out);
    expect(result.code).toBe(0);
    expect(result.stdout).not.toMatch(/\b0 episodes\b/);
    expect(result.stdout).toMatch(/[\d,]+ steps learned from: 0 whole episodes \(from day 0\), [\d,]+ late hand-overs \(episodes learned from a late day on; their [\d,]+ lead-in days priced, not learned from\)/);
    expect(manifestOf(out).metrics['train/lateStartEpisodes']).toBeGreaterThan(0);
  }, 60_000);
});
