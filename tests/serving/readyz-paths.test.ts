/**
 * Issue 13.1 follow-up: /readyz is open to anyone, so a load failure it lists names the
 * version and paths relative to the pricelab home, never the home's absolute path.
 */
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { relativeToHome } from '../../serving/pricing-service.js';
import { readinessSchema } from '../../serving/request-schemas.js';
import { trainedPolicyArtifact } from '../fixtures/policy-artifact.js';
import { getJson, startEndpoint } from '../fixtures/serving.js';

const scratch = mkdtempSync(join(tmpdir(), 'pricelab-readyz-paths-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('/readyz load failures', () => {
  it('name the version and paths inside the home, not the home itself', async () => {
    const good = (await trainedPolicyArtifact(scratch, { name: 'everyday', kind: 'fixed-price', config: { price: 17.99 }, steps: 1, seed: 1 })).folder;
    const home = mkdtempSync(join(scratch, 'home-'));
    const setUp = await startEndpoint(home);
    for (const name of ['everyday', 'weekend', 'holiday']) {
      setUp.registry.register(good, { reason: 'v1', name });
      setUp.registry.moveAlias(name, 1, 'production', { reason: 'bootstrap' });
    }
    await setUp.close();
    // One version lost its policy.json, one a file it lists, one has a damaged file.
    rmSync(join(home, 'policies', 'everyday', '1', 'policy.json'));
    rmSync(join(home, 'policies', 'weekend', '1', 'scenario.json'));
    writeFileSync(join(home, 'policies', 'holiday', '1', 'scenario.json'), '{}');

    const endpoint = await startEndpoint(home, {}, { report: () => undefined });
    try {
      const ready = await getJson(`${endpoint.url}/readyz`);
      expect(ready.status).toBe(503);
      const body = JSON.stringify(ready.json);
      for (const absolute of new Set([home, realpathSync(home), scratch, tmpdir()])) expect(body).not.toContain(absolute);
      const errors = Object.fromEntries(readinessSchema.parse(ready.json).policies.map((policy) => [policy.name, policy.errors.map((error) => error.message).join(' | ')]));
      expect(errors.everyday).toMatch(/policies\/everyday\/1|everyday@1/);
      expect(errors.weekend).toMatch(/policies\/weekend\/1|weekend@1/);
      expect(errors.holiday).toMatch(/policies\/holiday\/1|holiday@1/);
      expect(errors.holiday).toMatch(/scenario\.json/);
    } finally {
      await endpoint.close();
    }
  });

  it('takes out the home only, not a sibling path it is a prefix of', () => {
    const home = mkdtempSync(join(scratch, 'home-'));
    expect(relativeToHome(`no policy at ${home}/policies/everyday/1: expected a folder`, home)).toBe('no policy at policies/everyday/1: expected a folder');
    expect(relativeToHome(`the registry in ${home} is damaged`, home)).toBe('the registry in the pricelab home is damaged');
    expect(relativeToHome(`see ${home}-old/x and ${home}.bak`, home)).toBe(`see ${home}-old/x and ${home}.bak`);
    expect(relativeToHome(`${realpathSync(home)}/pricelab.db`, home)).toBe('pricelab.db');
  });
});
