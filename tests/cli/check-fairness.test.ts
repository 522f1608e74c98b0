/**
 * `pricelab check-fairness` end to end: one coupon for everyone passes (exit 0); the
 * hesitant-only coupon of targeted-coupon-v1 is refused (exit 1) as undeclared stage targeting,
 * and passes for a version that declares it (--for) under bounds it meets, its evidence written
 * with --out bound to that version's hash; a bad spec or a scenario without coupons is bad
 * input (exit 2). `policy promote --fairness-evidence` exits 1 naming the fairness gate over
 * the gates' bound and 0 within it.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readArtifact } from '../../agents/artifact.js';
import { compare } from '../../experiments/compare.js';
import type { FairnessEvidenceDocument } from '../../experiments/fairness-check.js';
import { ResultsStore } from '../../experiments/store.js';
import { cli, cliWith, ensureBuilt } from '../fixtures/cli.js';
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

  it('policy promote --fairness-evidence: exit 1 naming the fairness gate over the bound, 0 within it', async () => {
    const home = join(folder, 'home');
    const pricelab = (...args: string[]) => cliWith({ PRICELAB_HOME: home }, ...args);
    const declaring = (await trainedPolicyArtifact(folder, { kind: 'fixed-price', config: { price: 17.99 }, steps: 1, seed: 7, name: 'coupons', training: { targeting: { features: ['stage'] } } })).folder;
    expect((await pricelab('policy', 'register', declaring, '--reason', 'v1')).code).toBe(0);
    const { summary } = await compare({ scenario: 'steady-state-v1', arms: ['baseline=fixed:29.99', `candidate=${declaring}`], seeds: 4, evaluationEpisodes: 1, trainingSteps: 1, bootstrapResamples: 200 });
    const evidence = join(folder, 'compare.json');
    writeFileSync(evidence, JSON.stringify(summary));
    const store = ResultsStore.open(home);
    store.recordComparison({ scenario: summary.scenario.id, arms: summary.arms.map((arm) => arm.name), baseline: summary.baseline, summary });
    store.close();
    const fairness = join(folder, 'promote-fairness.json');
    expect((await pricelab('check-fairness', 'targeted-coupon-v1', '--policy', 'coupon:1', '--for', 'registry:coupons@1', '--max-sensitive-share', '0.5', ...short, '--out', fairness)).code).toBe(0);
    const gates = (maxEffectivePriceRatio: number) => {
      const path = join(folder, `gates-${maxEffectivePriceRatio}.json`);
      writeFileSync(path, JSON.stringify({ baseline: 'fixed:29.99', guardrailMargins: { returnRate: { relative: 0.5 }, priceChanges: { absolute: 0 }, customersLost: { relative: 0.1 } }, fairness: { maxEffectivePriceRatio, maxSensitiveShare: 0.5 } }));
      return path;
    };
    const promoteWith = (path: string) => pricelab('policy', 'promote', 'coupons@1', '--to', 'production', '--evidence', evidence, '--gates', path, '--fairness-evidence', fairness, '--reason', 'r');
    const refused = await promoteWith(gates(1.05));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/refused by the fairness gate: .*promote-fairness\.json: effective prices differ by a ratio of 1\.0\d\d .*allowed 1\.05/);
    const promoted = await promoteWith(gates(1.25));
    expect(promoted.code).toBe(0);
    expect(promoted.stdout).toMatch(/^pass +fairness: targets on stage/m);
  }, 120_000);
});
