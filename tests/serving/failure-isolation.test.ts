/**
 * One unloadable version must not take serving down: the failing policy keeps its last
 * good version (or is not served), every other policy is served and refreshed, /readyz
 * says which policy is not served at its production version and why, and the failure is
 * reported once, not at every poll.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PolicyRegistry } from '../../serving/registry.js';
import { readinessSchema } from '../../serving/request-schemas.js';
import type { TimeLimit } from '../../env/env.js';
import { trainedPolicyArtifact } from '../fixtures/policy-artifact.js';
import { getJson, postJson, startEndpoint, testToken } from '../fixtures/serving.js';

const scratch = mkdtempSync(join(tmpdir(), 'pricelab-isolation-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let good: string;
let other: string;
let env: TimeLimit;

beforeAll(async () => {
  const trained = await trainedPolicyArtifact(scratch, { seed: 1, steps: 2000 });
  good = trained.folder;
  env = trained.env;
  other = (await trainedPolicyArtifact(scratch, { seed: 2, steps: 2000, kind: 'ucb1' })).folder;
});

function context(): { features: Record<string, number>; lastPrice: number } {
  const space = env.observationSpace;
  const { observation } = env.reset({ seed: 3 });
  return { features: Object.fromEntries(space.featureNames.map((name, index) => [name, (observation[index] ?? 0) * (space.scales[index] ?? 1)])), lastPrice: 17.99 };
}

/** Breaks a registered version's weights on disk (a tampered or damaged copy). */
function damage(registry: PolicyRegistry, name: string, version: number): void {
  const folder = registry.version(name, version).path;
  const weights = readdirSync(folder).find((file) => file !== 'policy.json' && file !== 'scenario.json' && file.endsWith('.json'));
  if (!weights) throw new Error(`no weights file in ${folder}`);
  writeFileSync(join(folder, weights), '{"damaged": true}');
}

/**
 * Edits a registered version consistently (the weights and their sha256 and size in
 * policy.json), as in the report: only the registry's recorded content hash can tell.
 */
function forge(registry: PolicyRegistry, name: string, version: number): void {
  const folder = registry.version(name, version).path;
  const manifest = JSON.parse(readFileSync(join(folder, 'policy.json'), 'utf8')) as { files: Record<string, { sha256: string; bytes: number }> };
  const weights = Object.keys(manifest.files).find((file) => file !== 'scenario.json');
  if (!weights) throw new Error(`no weights file in ${folder}`);
  const edited = Buffer.from(`${readFileSync(join(folder, weights), 'utf8')} `);
  writeFileSync(join(folder, weights), edited);
  manifest.files[weights] = { sha256: createHash('sha256').update(edited).digest('hex'), bytes: edited.length };
  writeFileSync(join(folder, 'policy.json'), JSON.stringify(manifest, null, 2));
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a version that cannot be loaded', () => {
  it('at start-up: the other policies are served, /readyz names the failed one (503)', async () => {
    const home = mkdtempSync(join(scratch, 'home-'));
    const reports: string[] = [];
    const setUp = await startEndpoint(home, {}, { report: (line) => reports.push(line) });
    setUp.registry.register(good, { reason: 'v1', name: 'everyday' });
    setUp.registry.register(other, { reason: 'w1', name: 'weekend' });
    setUp.registry.moveAlias('everyday', 1, 'production', { reason: 'bootstrap' });
    setUp.registry.moveAlias('weekend', 1, 'production', { reason: 'bootstrap' });
    damage(setUp.registry, 'everyday', 1);
    await setUp.close();

    const endpoint = await startEndpoint(home, { refreshMs: 20 }, { report: (line) => reports.push(line) });
    try {
      expect((await postJson(`${endpoint.url}/v1/policies/weekend/price`, context())).status).toBe(200);
      const refused = await postJson(`${endpoint.url}/v1/policies/everyday/price`, context());
      expect(refused.status).toBe(404);
      expect(refused.json.error).toMatch(/everyday.*cannot be served/);
      const ready = await getJson(`${endpoint.url}/readyz`);
      expect(ready.status).toBe(503);
      const readiness = readinessSchema.parse(ready.json);
      expect(readiness.policies.map(({ name, state, production, serving }) => ({ name, state, production, serving }))).toEqual([
        { name: 'everyday', state: 'failed', production: 1, serving: null },
        { name: 'weekend', state: 'serving', production: 1, serving: 1 },
      ]);
      expect(readiness.policies[0]?.errors[0]).toMatchObject({ alias: 'production', version: 1, kind: 'integrity' });
      // Polled 20 times a second with other changes in the registry: reported once.
      endpoint.registry.register(good, { reason: 'w2', name: 'weekend' });
      await wait(300);
      expect(reports.filter((line) => line.includes('everyday@1')).length).toBe(1);
      // One clean line: the integrity problems in brackets, not the multi-line message joined with ";   - ".
      const [line] = reports.filter((report) => report.includes('everyday@1'));
      expect(line).toMatch(/^cannot load everyday@1 \(production\): [^\n]+ \([^\n]*: [^\n]*\); "everyday" is not served$/);
      expect(line).not.toMatch(/;\s+-\s|\n/);
      expect(readiness.policies[0]?.errors[0]?.message).not.toMatch(/;\s+-\s|\n/);
    } finally {
      await endpoint.close();
    }
  });

  it('at run time: the last good version keeps serving, other promotions are picked up, a rollback recovers', async () => {
    const reports: string[] = [];
    const endpoint = await startEndpoint(mkdtempSync(join(scratch, 'home-')), { refreshMs: 20 }, { report: (line) => reports.push(line) });
    try {
      const { registry } = endpoint;
      registry.register(good, { reason: 'v1', name: 'everyday' });
      registry.register(other, { reason: 'v2', name: 'everyday' });
      registry.moveAlias('everyday', 1, 'production', { reason: 'bootstrap' });
      await endpoint.service.refresh();
      expect((await getJson(`${endpoint.url}/readyz`)).status).toBe(200);

      damage(registry, 'everyday', 2);
      registry.moveAlias('everyday', 2, 'production', { reason: 'a bad promotion' });
      await endpoint.service.refresh();
      const served = await postJson(`${endpoint.url}/v1/policies/everyday/price`, context());
      expect(served.status).toBe(200);
      expect(served.json.policy).toMatchObject({ name: 'everyday', version: 1, servedBy: 'production' });
      const stale = await getJson(`${endpoint.url}/readyz`);
      expect(stale.status).toBe(503);
      expect(readinessSchema.parse(stale.json).policies[0]).toMatchObject({ name: 'everyday', state: 'stale', production: 2, serving: 1, errors: [{ alias: 'production', version: 2, kind: 'integrity' }] });

      // Another policy promoted afterwards is served (a failed refresh used to stop them all).
      registry.register(other, { reason: 'w1', name: 'weekend' });
      registry.moveAlias('weekend', 1, 'production', { reason: 'new policy' });
      await wait(200);
      expect((await postJson(`${endpoint.url}/v1/policies/weekend/price`, context())).status).toBe(200);
      expect(reports.filter((line) => line.includes('everyday@2')).length).toBe(1);
      expect(reports.find((line) => line.includes('everyday@2'))).toMatch(/everyday@1 keeps serving/);
      const metrics = await fetch(`${endpoint.url}/metrics`).then((response) => response.text());
      expect(metrics).toMatch(/pricelab_policy_ready\{policy="everyday"\} 0/);
      expect(metrics).toMatch(/pricelab_policy_ready\{policy="weekend"\} 1/);
      expect(metrics).toMatch(/pricelab_policy_load_failures_total\{policy="everyday",alias="production"\} 1/);

      const rolledBack = await postJson(`${endpoint.url}/v1/policies/everyday/rollback`, { alias: 'production', reason: 'v2 does not load' }, { authorization: `Bearer ${testToken}` });
      expect(rolledBack.status).toBe(200);
      const ready = await getJson(`${endpoint.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(readinessSchema.parse(ready.json).policies.every((policy) => policy.state === 'serving' && policy.errors.length === 0)).toBe(true);
      expect(reports.at(-1)).toMatch(/everyday@1 loaded/);
    } finally {
      await endpoint.close();
    }
  });

  it('a fallback or canary that cannot be loaded is left out; production still serves', async () => {
    const reports: string[] = [];
    const config = { policies: { everyday: { fallback: 'registry:missing@production', canary: { alias: 'candidate', share: 0.5 } } } };
    const endpoint = await startEndpoint(mkdtempSync(join(scratch, 'home-')), config, { report: (line) => reports.push(line) });
    try {
      const { registry } = endpoint;
      registry.register(good, { reason: 'v1', name: 'everyday' });
      registry.register(other, { reason: 'v2', name: 'everyday' });
      damage(registry, 'everyday', 2);
      registry.moveAlias('everyday', 2, 'candidate', { reason: 'canary' });
      registry.moveAlias('everyday', 1, 'production', { reason: 'bootstrap' });
      await endpoint.service.refresh();
      for (let key = 0; key < 10; key++) {
        const { status, json } = await postJson(`${endpoint.url}/v1/policies/everyday/price`, { ...context(), key: `k${key}` });
        expect(status).toBe(200);
        expect(json.policy).toMatchObject({ version: 1, servedBy: 'production' });
      }
      const ready = await getJson(`${endpoint.url}/readyz`);
      expect(ready.status).toBe(200); // production is served at its version
      const status = readinessSchema.parse(ready.json).policies[0];
      expect(status?.errors.map((error) => error.alias).sort()).toEqual(['candidate', 'fallback']);
      expect(reports.some((line) => /fallback of "everyday".*hold stands in/.test(line))).toBe(true);
    } finally {
      await endpoint.close();
    }
  });

  it('an edited version is refused at every load (start and refresh), by its recorded content hash', async () => {
    const home = mkdtempSync(join(scratch, 'home-'));
    const endpoint = await startEndpoint(home, {}, { report: () => undefined });
    try {
      const { registry } = endpoint;
      registry.register(good, { reason: 'v1', name: 'everyday' });
      registry.register(other, { reason: 'v2', name: 'everyday' });
      registry.moveAlias('everyday', 1, 'production', { reason: 'bootstrap' });
      await endpoint.service.refresh();
      forge(registry, 'everyday', 2);
      registry.moveAlias('everyday', 2, 'production', { reason: 'promote an edited version' });
      await endpoint.service.refresh();
      const status = readinessSchema.parse((await getJson(`${endpoint.url}/readyz`)).json).policies[0];
      expect(status).toMatchObject({ state: 'stale', serving: 1, errors: [{ alias: 'production', version: 2, kind: 'integrity' }] });
      expect(status?.errors[0]?.message).toMatch(/everyday@2/);
    } finally {
      await endpoint.close();
    }
    const restarted = await startEndpoint(home, {}, { report: () => undefined });
    try {
      expect((await postJson(`${restarted.url}/v1/policies/everyday/price`, context())).status).toBe(404);
      expect(readinessSchema.parse((await getJson(`${restarted.url}/readyz`)).json).policies[0]).toMatchObject({ state: 'failed', errors: [{ version: 2, kind: 'integrity' }] });
    } finally {
      await restarted.close();
    }
  });
});
