/**
 * A local sweep keeps every finished run's trained policy (experiments/run-artifact.ts): the
 * folder `<home>/runs/<run id>/policy` loads with readArtifact, the run's manifest names it
 * (listRunsWithCurves, what `pricelab runs show` reads), and the restored agent acts as the
 * trained one did: its greedy evaluation on the experiment's evaluation seeds equals the
 * stored evaluation episodes. Same plan in one thread and in two: byte-identical artifacts.
 * The queue's transport checks (damaged files, the size cap) and the write's own checks.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readArtifact, sha256 } from '../../agents/artifact.js';
import { makeEnv } from '../../env/env.js';
import { evaluate } from '../../experiments/evaluate.js';
import { planExperiment } from '../../experiments/experiment-file.js';
import { buildMarketModel } from '../../env/model.js';
import type { Agent } from '../../agents/agent.js';
import { decodeArtifactFiles, encodeArtifactFiles, exportRunArtifact, keepRunArtifact, maxQueuedArtifactBytes, policyCreatedAt, runArtifactFolder, sweepCreatedAt, writeRunArtifact } from '../../experiments/run-artifact.js';
import { compare } from '../../experiments/compare.js';
import { promote } from '../../serving/promotion.js';
import { PolicyRegistry } from '../../serving/registry.js';
import { restoredAgentFor } from '../../experiments/setup.js';
import { ResultsStore } from '../../experiments/store.js';
import { runSweep } from '../../experiments/sweep.js';
import { loadScenario } from '../../scenarios/load.js';

const experiment = {
  name: 'artifact-sweep',
  scenarios: ['steady-state-v1'],
  agents: [{ name: 'q', kind: 'q-learning' }, { kind: 'thompson' }],
  seeds: [1, 2],
  budget: { episodes: 6 },
  evaluation: { episodes: 2, seed: 500 },
  kpis: ['profit'],
};

/** Every file's sha256 of every run's artifact folder, by run id. */
function artifactHashes(home: string): Record<string, Record<string, string>> {
  const runs = join(home, 'runs');
  return Object.fromEntries(
    readdirSync(runs).map((id) => {
      const folder = join(runs, id, 'policy');
      return [id, Object.fromEntries(readdirSync(folder).sort().map((name) => [name, sha256(readFileSync(join(folder, name)))]))];
    }),
  );
}

describe('a local sweep keeps each run\'s policy artifact', () => {
  let folder: string;
  const plan = planExperiment(experiment);
  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), 'pricelab-sweep-artifact-'));
    const [one, two] = await Promise.all([runSweep(plan, { home: join(folder, 'one'), workers: 1 }), runSweep(plan, { home: join(folder, 'two'), workers: 2 })]);
    expect(one.finished).toBe(4);
    expect(two.finished).toBe(4);
  }, 120_000);
  afterAll(() => {
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  it('the manifest names the folder; it loads, embeds the scenario, and the restored agent evaluates as the stored run', async () => {
    const home = join(folder, 'one');
    const store = ResultsStore.open(home);
    try {
      const listed = store.listRunsWithCurves({ experiment: experiment.name });
      expect(listed).toHaveLength(4);
      const loaded = loadScenario('steady-state-v1');
      for (const { run, artifactPath } of listed) {
        expect(artifactPath).toBe(runArtifactFolder(home, run.id));
        const artifact = readArtifact(artifactPath!);
        expect(artifact.manifest).toMatchObject({ agentKind: run.agent.kind, seeds: [run.seed], scenario: { id: 'steady-state-v1', contentHash: loaded.contentHash }, training: { episodes: 6, budget: { episodes: 6 } }, createdAt: sweepCreatedAt });
        expect(sha256(artifact.scenarioFile!)).toBe(loaded.contentHash);
        const env = makeEnv(loaded.scenario);
        const agent = await restoredAgentFor(env, { kind: artifact.manifest.agentKind, config: artifact.manifest.agentConfig, files: artifact.files }, run.seed);
        const episodes = evaluate(env, agent, { episodes: experiment.evaluation.episodes, seed: experiment.evaluation.seed });
        agent.dispose();
        expect(episodes.map((episode) => episode.totalReward)).toEqual(store.evaluationsOf(run.id).map((episode) => episode.totalReward));
      }
    } finally {
      store.close();
    }
  });

  it('the manifest keeps the folder relative to the home, with its content hash; a copied home lists its own artifacts', () => {
    const copy = join(folder, 'copied');
    cpSync(join(folder, 'one'), copy, { recursive: true });
    const store = ResultsStore.open(copy);
    try {
      const listed = store.listRunsWithCurves({ experiment: experiment.name });
      expect(listed).toHaveLength(4);
      for (const { run, artifactPath } of listed) {
        const manifest = run.manifest as { policy: unknown; policySha256: unknown };
        expect(manifest.policy).toBe(`runs/${run.id}/policy`);
        expect(artifactPath).toBe(runArtifactFolder(copy, run.id));
        const artifact = readArtifact(artifactPath!);
        expect(manifest.policySha256).toBe(artifact.contentHash);
      }
    } finally {
      store.close();
    }
  });

  it("a sweep artifact's time is its finished run's endedAt, when the run named is the one that made it", async () => {
    const store = ResultsStore.open(join(folder, 'one'));
    try {
      const [first, second] = store.listRunsWithCurves({ experiment: experiment.name });
      const policy = { contentHash: readArtifact(first!.artifactPath!).contentHash, createdAt: sweepCreatedAt };
      expect(first!.run.endedAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
      expect(await policyCreatedAt(store, { ...policy, trainingRun: first!.run.id })).toBe(first!.run.endedAt);
      // Another run's artifact, no run, an unknown run: policy.json's text stays (the gate refuses it).
      expect(await policyCreatedAt(store, { ...policy, trainingRun: second!.run.id })).toBe(sweepCreatedAt);
      expect(await policyCreatedAt(store, policy)).toBe(sweepCreatedAt);
      expect(await policyCreatedAt(store, { ...policy, trainingRun: 'no-such-run' })).toBe(sweepCreatedAt);
      // A time in policy.json (pricelab train) is the policy's own.
      expect(await policyCreatedAt(store, { ...policy, createdAt: '2026-01-02T03:04:05.000Z', trainingRun: first!.run.id })).toBe('2026-01-02T03:04:05.000Z');
    } finally {
      store.close();
    }
    // A run stored before manifests carried policySha256: its folder's policy.json says which policy it made.
    const older = ResultsStore.open(join(folder, 'older'));
    try {
      const run = plan.runs[0]!;
      const artifactFolder = runArtifactFolder(join(folder, 'one'), run.id);
      older.registerRuns([{ id: 'old-run', experiment: 'old', scenario: run.scenario, agent: { name: 'q', kind: 'q-learning', config: null }, seed: 1, manifest: null }]);
      older.finishRun('old-run', { manifest: { policy: artifactFolder }, metrics: {}, evaluations: [] });
      expect(await policyCreatedAt(older, { contentHash: readArtifact(artifactFolder).contentHash, createdAt: sweepCreatedAt, trainingRun: 'old-run' })).toBe(older.getRun('old-run')!.endedAt);
    } finally {
      older.close();
    }
  });

  it("the promotion gate's fresh-evidence check passes a sweep artifact registered with its training run, and refuses it without", async () => {
    const home = join(folder, 'one');
    const store = ResultsStore.open(home);
    const run = store.listRunsWithCurves({ experiment: experiment.name }).find((entry) => entry.run.agent.kind === 'q-learning')!;
    store.close();
    const { summary } = await compare({ scenario: 'steady-state-v1', arms: ['baseline=fixed:17.99', `candidate=${run.artifactPath!}`], seeds: 2, evaluationEpisodes: 1, trainingSteps: 1, bootstrapResamples: 200 });
    const registry = PolicyRegistry.open(home);
    try {
      const recorded = ResultsStore.open(home);
      recorded.recordComparison({ scenario: summary.scenario.id, arms: summary.arms.map((arm) => arm.name), baseline: summary.baseline, summary });
      recorded.close();
      const evidence = [{ source: 'compare.json', json: JSON.parse(JSON.stringify(summary)) as unknown }];
      const freshness = async (name: string, trainingRun?: string) => {
        const { version } = registry.register(run.artifactPath!, { name, reason: 'test', lineage: { trainingRun } });
        const outcome = await promote(registry, { name, version: version.version, to: 'production', reason: 'test', evidence });
        expect(outcome.decision?.gates.find((gate) => gate.gate === 'identity')?.passed).toBe(true);
        return outcome.decision?.gates.find((gate) => gate.gate === 'fresh-evidence');
      };
      expect(await freshness('swept', run.run.id)).toMatchObject({ passed: true, detail: `evidence made after the policy (${run.run.endedAt})` });
      expect(await freshness('swept-unnamed')).toMatchObject({ passed: false, detail: expect.stringMatching(/is not an ISO 8601 time/) });
    } finally {
      registry.close();
    }
  }, 60_000);

  it('one thread and two threads write byte-identical artifacts', () => {
    const one = artifactHashes(join(folder, 'one'));
    expect(Object.keys(one).sort()).toEqual(plan.runs.map((run) => run.id).sort());
    for (const files of Object.values(one)) expect(Object.keys(files)).toEqual(expect.arrayContaining(['policy.json', 'scenario.json']));
    expect(artifactHashes(join(folder, 'two'))).toEqual(one);
  });

  it('queue transport and writing refuse damaged files, and a too-large artifact is a clear error', () => {
    const run = plan.runs[0]!;
    const source = runArtifactFolder(join(folder, 'one'), run.id);
    const files = Object.fromEntries(readdirSync(source).map((name) => [name, new Uint8Array(readFileSync(join(source, name)))]));
    const encoded = encodeArtifactFiles(run.id, files);
    expect(decodeArtifactFiles(run.id, encoded)).toEqual(files);
    const damaged = { ...encoded, 'policy.json': { ...encoded['policy.json']!, bytes: Buffer.from('{}').toString('base64') } };
    expect(() => decodeArtifactFiles(run.id, damaged)).toThrow(/arrived damaged/);
    // Consistent transport, but a weights file that is not the one policy.json lists: refused before any folder is written.
    const weights = Object.keys(files).find((name) => name !== 'policy.json' && name !== 'scenario.json')!;
    const home = join(folder, 'tampered');
    expect(() => writeRunArtifact(home, run.id, { ...files, [weights]: new TextEncoder().encode('[]') })).toThrow(/failed its integrity check/);
    expect(() => readdirSync(join(home, 'runs', run.id))).toThrow();
    expect(() => encodeArtifactFiles(run.id, { 'policy.json': new Uint8Array(maxQueuedArtifactBytes + 1) })).toThrow(/more than a queue result carries/);
  });

  it('an agent whose export fails gets no artifact, and the reason is what its manifest records', async () => {
    const run = plan.runs[0]!;
    const loaded = loadScenario('steady-state-v1');
    const failing = { export: () => Promise.reject(new Error('no weights to export')) } as unknown as Agent;
    const artifact = await exportRunArtifact(failing, run, buildMarketModel(loaded.scenario), { id: loaded.scenario.id, contentHash: loaded.contentHash, bytes: loaded.bytes }, { steps: 1, episodes: 1 });
    expect(artifact).toEqual({ unavailable: `the ${run.agent.kind} agent's export failed: no weights to export` });
    const home = join(folder, 'unavailable');
    expect(keepRunArtifact(home, run.id, artifact)).toEqual({ policy: null, policyUnavailable: expect.stringContaining('no weights to export') });
    expect(() => readdirSync(home)).toThrow();
  });
});
