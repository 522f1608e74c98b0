import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import fc from 'fast-check';
import { hostileFileNames } from '../fixtures/policy-artifact.js';
import { afterAll, describe, expect, it } from 'vitest';
import { artifactFileNameProblem, buildArtifact, embeddedScenarioOf, readArtifact, sha256, verifyArtifact, writeArtifact } from '../../agents/artifact.js';
import { PricelabError } from '../../core/errors.js';
import { makeEnv } from '../../env/env.js';
import { buildMarketModel } from '../../env/model.js';
import { buildObservationFeatures } from '../../env/observation.js';
import { agentFor, restoredAgentFor } from '../../experiments/setup.js';
import { train } from '../../experiments/train.js';
import { loadScenario } from '../../scenarios/load.js';

const folder = mkdtempSync(join(tmpdir(), 'pricelab-artifact-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

async function trainedArtifact() {
  const loaded = loadScenario('steady-state-v1');
  const model = buildMarketModel(loaded.scenario);
  const env = makeEnv(model);
  const agent = await agentFor(env, 'q-learning', {}, 3);
  await train(env, agent, { steps: 3000, seed: 3 });
  const exported = await agent.export();
  const artifact = buildArtifact(exported, {
    name: 'test-policy',
    scenario: embeddedScenarioOf(loaded),
    features: buildObservationFeatures(model),
    ladder: model.ladder,
    training: { steps: 3000 },
    seeds: [3],
  });
  return { env, agent, artifact };
}

describe('policy artifacts', () => {
  it('policy.json lists every weights file with its sha256; loading gives the same greedy actions', async () => {
    const { env, agent, artifact } = await trainedArtifact();
    const path = writeArtifact(join(folder, 'good'), artifact);
    const manifest = JSON.parse(readFileSync(join(path, 'policy.json'), 'utf8'));
    expect(manifest.files['q-table.json'].sha256).toBe(sha256(readFileSync(join(path, 'q-table.json'))));
    expect(manifest).toMatchObject({ formatVersion: 1, agentKind: 'q-learning', scenario: { id: 'steady-state-v1' }, seeds: [3] });
    expect(manifest.observation.features.length).toBe(env.observationSpace.shape[0]);
    const loaded = readArtifact(path);
    const restored = await restoredAgentFor(env, { kind: loaded.manifest.agentKind, config: loaded.manifest.agentConfig, files: loaded.files }, 3);
    let { observation } = env.reset({ seed: 77 });
    for (let step = 0; step < 200; step++) {
      const action = agent.act(observation, { explore: false });
      expect(restored.act(observation, { explore: false })).toBe(action);
      observation = env.step(action).observation;
    }
  });

  it('a tampered or missing weights file is refused with an integrity error naming it', async () => {
    const { artifact } = await trainedArtifact();
    const tampered = writeArtifact(join(folder, 'tampered'), artifact);
    const bytes = readFileSync(join(tampered, 'q-table.json'));
    bytes[10] = bytes[10] === 48 ? 49 : 48;
    writeFileSync(join(tampered, 'q-table.json'), bytes);
    expect(() => readArtifact(tampered)).toThrow(/q-table.json.*changed after export/s);
    try {
      readArtifact(tampered);
    } catch (error) {
      expect((error as PricelabError).kind).toBe('integrity');
    }
    const missing = writeArtifact(join(folder, 'missing'), artifact);
    rmSync(join(missing, 'q-table.json'));
    expect(() => readArtifact(missing)).toThrow(/found none/);
    writeFileSync(join(missing, 'policy.json'), '{ not json');
    expect(() => readArtifact(missing)).toThrow(PricelabError);
  });

  it('writing never leaves a half-written folder, and never overwrites one', async () => {
    const { artifact } = await trainedArtifact();
    const target = join(folder, 'atomic');
    writeArtifact(target, artifact);
    expect(() => writeArtifact(target, artifact)).toThrow(/does not exist yet/);
    const broken = { ...artifact, files: { ...artifact.files, 'bad/name.json': new Uint8Array(1) } };
    expect(() => buildArtifact({ kind: 'q-learning', config: {}, files: broken.files }, { name: 'x', scenario: embeddedScenarioOf(loadScenario('steady-state-v1')), features: [], ladder: [1], training: {}, seeds: [] })).toThrow(/cannot name/);
    expect(readdirSync(folder).filter((name) => name.includes('.partial-'))).toEqual([]);
    expect(existsSync(join(target, 'policy.json'))).toBe(true);
  });
});

describe('file names listed in policy.json', () => {
  it('only plain base names pass: whatever passes stays inside the folder (fast-check over any string)', () => {
    const parent = resolve('/artifact/folder');
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), hostileFileNames), (name) => {
        if (artifactFileNameProblem(name) !== undefined) return;
        expect(resolve(parent, name)).toBe(`${parent}${sep}${name}`);
        expect(name.startsWith('.') || name.includes('..') || name.includes('/') || name.includes('\\') || name.includes('\u0000')).toBe(false);
      }),
      { numRuns: 5000 },
    );
  });

  it('a hostile name is refused before anything is read or hashed: no oracle for files outside the artifact', () => {
    const root = mkdtempSync(join(folder, 'oracle-'));
    const secret = new TextEncoder().encode('sha256:secret-token-hash\n');
    mkdirSync(join(root, 'secret'));
    writeFileSync(join(root, 'secret', 'tokens'), secret);
    const exported = { kind: 'q-learning', config: {}, files: { 'q-table.json': new TextEncoder().encode('{}') } };
    const artifact = buildArtifact(exported, { name: 'x', scenario: embeddedScenarioOf(loadScenario('steady-state-v1')), features: [], ladder: [1], training: {}, seeds: [] });
    const target = writeArtifact(join(root, 'runs', 'policy'), artifact);
    const pristine = readFileSync(join(target, 'policy.json'), 'utf8');
    fc.assert(
      fc.property(fc.oneof(hostileFileNames, fc.constant(join(root, 'secret', 'tokens'))), (name) => {
        fc.pre(artifactFileNameProblem(name) !== undefined);
        const manifest = JSON.parse(pristine);
        // The listed hash is the outside file's true one: reading it would make an oracle.
        manifest.files[name] = { sha256: sha256(secret), bytes: secret.length };
        writeFileSync(join(target, 'policy.json'), JSON.stringify(manifest));
        let refusal: unknown;
        try {
          readArtifact(target);
        } catch (error) {
          refusal = error;
        }
        expect(refusal).toBeInstanceOf(PricelabError);
        const problems = (refusal as PricelabError).problems;
        expect((refusal as PricelabError).kind).toBe('integrity');
        expect(problems.some((problem) => problem.path[0] === 'files' && problem.path[1] === name)).toBe(true);
        for (const problem of problems) expect(problem.message).not.toMatch(/found none|changed after export|bytes, found/);
      }),
      { numRuns: 300 },
    );
    writeFileSync(join(target, 'policy.json'), pristine);
    expect(readArtifact(target).manifest.name).toBe('x');
  });
});

describe('a manifest that is not JSON', () => {
  it('is an integrity error whose problem names policy.json, what was expected and what was found', () => {
    const bytes = new TextEncoder().encode('{"format": ');
    let caught: unknown;
    try {
      verifyArtifact(bytes, () => undefined, 'somewhere');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(PricelabError);
    const error = caught as PricelabError;
    expect(error.kind).toBe('integrity');
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]?.path).toEqual(['policy.json']);
    expect(error.problems[0]?.message).toMatch(/^expected the manifest as UTF-8 JSON, found 11 bytes that do not parse: /);
  });
});
