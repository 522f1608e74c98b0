import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readArtifact, sha256, writeArtifact } from '../../agents/artifact.js';
import { PricelabError } from '../../core/errors.js';
import type { Agent } from '../../agents/agent.js';
import type { TimeLimit } from '../../env/env.js';
import { trainedPolicyArtifact } from '../fixtures/policy-artifact.js';
import { loadScenario } from '../../scenarios/load.js';
import { PolicyRegistry } from '../../serving/registry.js';
import { ServedPolicy } from '../../serving/served-policy.js';

const folder = mkdtempSync(join(tmpdir(), 'pricelab-served-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

let env: TimeLimit;
let agent: Agent;
let policyFolder: string;

beforeAll(async () => {
  ({ env, agent, folder: policyFolder } = await trainedPolicyArtifact(folder));
});

describe('a served policy', () => {
  it('prices raw, named features exactly as the agent acts on the env\'s observation', async () => {
    const served = await ServedPolicy.load(policyFolder);
    expect(served.name).toBe('everyday');
    expect(served.contentHash).toMatch(/^[0-9a-f]{64}$/);
    const scales = env.observationSpace.scales;
    let { observation } = env.reset({ seed: 123 });
    for (let day = 0; day < 300; day++) {
      const raw = Object.fromEntries(served.featureNames.map((name, index) => [name, (observation[index] ?? 0) * (scales[index] ?? 1)]));
      const scaled = served.observationOf(raw);
      if (!(scaled instanceof Float32Array)) throw new Error(JSON.stringify(scaled));
      const expected = agent.act(observation, { explore: false });
      const decision = served.decide(scaled);
      expect(decision.ladderIndex).toBe(expected);
      expect(decision.price).toBe(env.model.ladder[expected]);
      observation = env.step(expected).observation;
    }
    served.dispose();
  });

  it('names every missing, unknown or non-finite feature', async () => {
    const served = await ServedPolicy.load(policyFolder);
    const [first, second] = served.featureNames;
    const problems = served.observationOf({ [first ?? '']: Number.NaN, surprise: 1 });
    if (problems instanceof Float32Array) throw new Error('expected problems, found an observation');
    const paths = problems.map((problem) => problem.path.join('.'));
    expect(paths).toContain(`features.${first}`);
    expect(paths).toContain(`features.${second}`);
    expect(paths).toContain('features.surprise');
    // An unknown key is named once: its problem does not repeat every feature name.
    const unknown = problems.find((problem) => problem.path.join('.') === 'features.surprise');
    expect(unknown?.message).not.toContain(second ?? '');
    expect(unknown?.message.length).toBeLessThan(80);
    served.dispose();
  });

  it('refuses a tampered artifact at load', async () => {
    const copy = writeArtifact(join(folder, 'tampered'), readArtifact(policyFolder));
    const bytes = readFileSync(join(copy, 'q-table.json'));
    bytes[20] = bytes[20] === 49 ? 50 : 49;
    writeFileSync(join(copy, 'q-table.json'), bytes);
    await expect(ServedPolicy.load(copy)).rejects.toThrow(/integrity check|changed after export/);
  });

  it('refuses an artifact without scenario.json (made before it) whose built-in scenario changed since training', async () => {
    const manifest = JSON.parse(readFileSync(join(policyFolder, 'policy.json'), 'utf8'));
    delete manifest.files['scenario.json'];
    const legacy = writeArtifact(join(folder, 'legacy'), { manifest, files: { 'q-table.json': new Uint8Array(readFileSync(join(policyFolder, 'q-table.json'))) } });
    const served = await ServedPolicy.load(legacy); // falls back to the built-in scenario of that id, same hash
    expect(served.trainedOn.scenario.id).toBe('steady-state-v1');
    served.dispose();
    manifest.scenario.contentHash = '0'.repeat(64);
    const stale = writeArtifact(join(folder, 'stale'), { manifest, files: { 'q-table.json': new Uint8Array(readFileSync(join(policyFolder, 'q-table.json'))) } });
    await expect(ServedPolicy.load(stale)).rejects.toThrow(/another version of steady-state-v1/);
  });

  it('with an expected content hash, checks sha256(policy.json) before reading anything else, naming the version', async () => {
    const served = await ServedPolicy.load(policyFolder);
    const expected = { contentHash: served.contentHash, label: 'everyday@1' };
    served.dispose();
    const edited = writeArtifact(join(folder, 'edited'), readArtifact(policyFolder));
    // Edit as an attacker would: new weights, their sha256 and size updated in policy.json.
    const table = JSON.parse(readFileSync(join(edited, 'q-table.json'), 'utf8')) as { actions: number; values: number[] };
    table.values = table.values.map((_, index) => (index % table.actions === 0 ? 1 : 0));
    const bytes = new TextEncoder().encode(JSON.stringify(table));
    writeFileSync(join(edited, 'q-table.json'), bytes);
    const manifest = JSON.parse(readFileSync(join(edited, 'policy.json'), 'utf8'));
    manifest.files['q-table.json'] = { sha256: sha256(bytes), bytes: bytes.length };
    writeFileSync(join(edited, 'policy.json'), JSON.stringify(manifest));
    // Consistent on its own (loads without the registry's hash), refused with it.
    (await ServedPolicy.load(edited)).dispose();
    const refusal = await ServedPolicy.load(edited, expected).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(PricelabError);
    expect((refusal as PricelabError).kind).toBe('integrity');
    expect((refusal as PricelabError).message).toMatch(/everyday@1 was changed after it was registered/);
    // Checked first: even a policy.json that is not JSON gives the content-hash refusal.
    writeFileSync(join(edited, 'policy.json'), '{ not json');
    await expect(ServedPolicy.load(edited, expected)).rejects.toThrow(/everyday@1 was changed after it was registered/);
  });

  it("carries the scenario it was trained on: a policy trained on the user's own scenario file serves after the file is gone", async () => {
    // The user's own scenario: steady-state-v1 with another id and a higher unit cost, in a temp folder.
    const scenarioFolder = mkdtempSync(join(folder, 'scenarios-'));
    const scenarioFile = join(scenarioFolder, 'my-coffee-v1.json');
    const json = JSON.parse(readFileSync(loadScenario('steady-state-v1').source, 'utf8'));
    json.id = 'my-coffee-v1';
    writeFileSync(scenarioFile, `${JSON.stringify(json, null, 2)}\n`);
    const trained = await trainedPolicyArtifact(folder, { name: 'coffee', seed: 7, steps: 2000, scenario: scenarioFile });
    const manifest = JSON.parse(readFileSync(join(trained.folder, 'policy.json'), 'utf8'));
    expect(manifest.scenario).toEqual({ id: 'my-coffee-v1', contentHash: sha256(readFileSync(scenarioFile)) });
    expect(manifest.files['scenario.json']).toEqual({ sha256: sha256(readFileSync(scenarioFile)), bytes: readFileSync(scenarioFile).length });
    expect(readFileSync(join(trained.folder, 'scenario.json'))).toEqual(readFileSync(scenarioFile));

    const registry = PolicyRegistry.open(mkdtempSync(join(folder, 'home-')));
    const { version } = registry.register(trained.folder, { reason: 'own scenario' });
    expect(version.lineage.scenario).toEqual(manifest.scenario);
    registry.moveAlias('coffee', 1, 'production', { reason: 'launch' });
    rmSync(scenarioFolder, { recursive: true, force: true });
    rmSync(trained.folder, { recursive: true, force: true });

    const served = await registry.loadVersion('coffee', 'production');
    expect(served.trainedOn.scenario.id).toBe('my-coffee-v1');
    // Price a request exactly as the trained agent acts.
    const scales = trained.env.observationSpace.scales;
    const { observation } = trained.env.reset({ seed: 11 });
    const raw = Object.fromEntries(served.featureNames.map((name, index) => [name, (observation[index] ?? 0) * (scales[index] ?? 1)]));
    const scaled = served.observationOf(raw);
    if (!(scaled instanceof Float32Array)) throw new Error(JSON.stringify(scaled));
    const decision = served.decide(scaled);
    expect(decision.ladderIndex).toBe(trained.agent.act(observation, { explore: false }));
    expect(decision.price).toBe(trained.env.model.ladder[decision.ladderIndex]);
    // A rule fallback prices on the same embedded scenario.
    const fallback = await ServedPolicy.fromRule(served.trainedOn, 'fixed:17.99');
    expect(fallback.manifest.scenario).toEqual(manifest.scenario);
    expect(fallback.decide(scaled).price).toBe(17.99);
    fallback.dispose();
    served.dispose();
    registry.close();
  });
});
