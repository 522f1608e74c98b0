import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeArtifact } from '../../agents/artifact.js';
import type { Agent } from '../../agents/agent.js';
import type { TimeLimit } from '../../env/env.js';
import { trainedPolicyArtifact } from '../fixtures/policy-artifact.js';
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
      expect(decision.price).toBe(env.inner.model.ladder[expected]);
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
    served.dispose();
  });

  it('refuses a tampered artifact at load', async () => {
    const copy = writeArtifact(join(folder, 'tampered'), { manifest: JSON.parse(readFileSync(join(policyFolder, 'policy.json'), 'utf8')), files: { 'q-table.json': new Uint8Array(readFileSync(join(policyFolder, 'q-table.json'))) } });
    const bytes = readFileSync(join(copy, 'q-table.json'));
    bytes[20] = bytes[20] === 49 ? 50 : 49;
    writeFileSync(join(copy, 'q-table.json'), bytes);
    await expect(ServedPolicy.load(copy)).rejects.toThrow(/integrity check|changed after export/);
  });

  it('refuses a policy whose scenario changed since training', async () => {
    const manifest = JSON.parse(readFileSync(join(policyFolder, 'policy.json'), 'utf8'));
    manifest.scenario.contentHash = '0'.repeat(64);
    const copy = writeArtifact(join(folder, 'stale'), { manifest, files: { 'q-table.json': new Uint8Array(readFileSync(join(policyFolder, 'q-table.json'))) } });
    await expect(ServedPolicy.load(copy)).rejects.toThrow(/another version of steady-state-v1/);
  });
});
