/**
 * `pricelab check-fairness` end to end: one coupon for everyone passes (exit 0); the
 * hesitant-only coupon of targeted-coupon-v1 is refused (exit 1) as undeclared stage targeting,
 * and passes for a version that declares it (--for) under bounds it meets, its evidence written
 * with --out bound to that version's hash; a bad spec or a scenario without coupons is bad
 * input (exit 2).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readArtifact } from '../../agents/artifact.js';
import type { FairnessEvidenceDocument } from '../../experiments/fairness-check.js';
import { cli, ensureBuilt } from '../fixtures/cli.js';
import { trainedPolicyArtifact } from '../fixtures/policy-artifact.js';

let folder = '';
beforeAll(() => {
  ensureBuilt();
  folder = mkdtempSync(join(tmpdir(), 'pricelab-check-fairness-'));
});
afterAll(() => rmSync(folder, { recursive: true, force: true }));

interface Output {
  evidence: FairnessEvidenceDocument;
  declared: string[];
  gate: { passed: boolean; detail: string };
}

const short = ['--seeds', '2', '--days', '20'];

describe('check-fairness', () => {
  it('passes one coupon for everyone (exit 0)', async () => {
    const result = await cli('check-fairness', 'targeted-coupon-v1', '--policy', 'coupon:3 off 40 for everyone', ...short, '--json');
    expect(result.code).toBe(0);
    const output = JSON.parse(result.stdout) as Output;
    expect(output.evidence.targetedFeatures).toEqual([]);
    expect(output.evidence.campaignDays).toEqual({ '3 off 40 for everyone': 40 });
  });

  it('refuses undeclared stage targeting (exit 1); passes it declared by the version, bound to its hash', async () => {
    const refused = await cli('check-fairness', 'targeted-coupon-v1', '--policy', 'coupon:1', ...short);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/REFUSED fairness: .*targets on "stage", which it does not declare/);

    const declaring = await trainedPolicyArtifact(folder, { kind: 'fixed-price', config: { price: 17.99 }, steps: 1, name: 'coupons', training: { targeting: { features: ['stage'] } } });
    const out = join(folder, 'fairness.json');
    const passed = await cli('check-fairness', 'targeted-coupon-v1', '--policy', 'coupon:1', '--for', declaring.folder, '--max-sensitive-share', '0.5', ...short, '--out', out, '--json');
    expect(passed.code).toBe(0);
    const output = JSON.parse(passed.stdout) as Output;
    expect(output.declared).toEqual(['stage']);
    expect(output.evidence.candidate).toEqual({ spec: 'coupon:1', name: 'coupons', policySha256: readArtifact(declaring.folder).contentHash });
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(output.evidence);

    const tight = await cli('check-fairness', 'targeted-coupon-v1', '--policy', 'coupon:1', '--for', declaring.folder, '--max-sensitive-share', '0.5', '--max-ratio', '1.05', ...short);
    expect(tight.code).toBe(1);
    expect(tight.stdout).toMatch(/effective prices differ by a ratio of 1\.0\d\d .*allowed 1\.05/);
  });

  it('refuses a bad spec or a scenario without coupons (exit 2)', async () => {
    const spec = await cli('check-fairness', 'targeted-coupon-v1', '--policy', 'coupon:9', '--json');
    expect(spec.code).toBe(2);
    expect(JSON.parse(spec.stdout)).toMatchObject({ error: { kind: 'config', problems: [{ path: ['policy'] }] } });
    const scenario = await cli('check-fairness', 'steady-state-v1', '--policy', 'none', '--json');
    expect(scenario.code).toBe(2);
    expect(JSON.parse(scenario.stdout)).toMatchObject({ error: { problems: [{ path: ['scenario'] }] } });
  });
});
