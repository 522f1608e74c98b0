/**
 * The fairness gate in a promotion (issue 18): when the gates set `fairness`, `promote` reads
 * the version's declared targeting from its artifact (policy.json training.targeting) and the
 * fairness evidence `pricelab check-fairness --for <version> --out` writes, and refuses an
 * effective-price disparity above the bound, an undeclared targeted feature, or evidence about
 * another version; within the bounds it promotes. Every other gate passes (a genuinely better
 * policy against fixed:17.99, as in promotion.test.ts), so the refusals are the fairness gate's.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readArtifact } from '../../agents/artifact.js';
import { compare, type ComparisonSummary } from '../../experiments/compare.js';
import { checkFairnessOf } from '../../experiments/fairness-check.js';
import { ResultsStore } from '../../experiments/store.js';
import { promote, type PromotionRequest } from '../../serving/promotion.js';
import { PolicyRegistry } from '../../serving/registry.js';
import { trainedPolicyArtifact } from '../fixtures/policy-artifact.js';
import { postJson, startEndpoint, testToken } from '../fixtures/serving.js';

const scratch = mkdtempSync(join(tmpdir(), 'pricelab-promotion-fairness-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const clearanceConfig = { finaleDays: 3, base: { kind: 'fixed-price', config: { price: 17.99 } }, finale: { kind: 'fixed-price', config: { price: 14.99 } } };

let declaring: string; // v1: declares stage targeting
let silent: string; // v2: declares none
let declaringEvidence: ComparisonSummary;
let silentEvidence: ComparisonSummary;

const evidenceFor = async (candidate: string) =>
  (await compare({ scenario: 'steady-state-v1', arms: ['baseline=fixed:17.99', `candidate=${candidate}`], seeds: 8, evaluationEpisodes: 1, trainingSteps: 1, bootstrapResamples: 200 })).summary;

beforeAll(async () => {
  declaring = (await trainedPolicyArtifact(scratch, { name: 'coupons', kind: 'phased', config: clearanceConfig, steps: 1, seed: 1, training: { targeting: { features: ['stage'] } } })).folder;
  silent = (await trainedPolicyArtifact(scratch, { name: 'coupons', kind: 'phased', config: clearanceConfig, steps: 1, seed: 2 })).folder;
  declaringEvidence = await evidenceFor(declaring);
  silentEvidence = await evidenceFor(silent);
}, 180_000);

function registry() {
  const opened = PolicyRegistry.open(mkdtempSync(join(scratch, 'home-')));
  opened.register(declaring, { reason: 'v1' });
  opened.register(silent, { reason: 'v2' });
  const store = ResultsStore.open(opened.home);
  try {
    for (const summary of [declaringEvidence, silentEvidence]) store.recordComparison({ scenario: summary.scenario.id, arms: summary.arms.map((arm) => arm.name), baseline: summary.baseline, summary });
  } finally {
    store.close();
  }
  return opened;
}

const asFile = (json: unknown, source: string) => ({ source, json: JSON.parse(JSON.stringify(json)) as unknown });
/** The hesitant-only coupon of targeted-coupon-v1 (max/min effective-price ratio about 1.09, incomeBand eta^2 about 0.2), bound to `folder`'s version. */
const hesitantCouponFor = (folder: string) => {
  const artifact = readArtifact(folder);
  return asFile(checkFairnessOf({ scenario: 'targeted-coupon-v1', policy: 'coupon:1', seeds: [1, 2], days: 30, candidate: { name: artifact.manifest.name, policySha256: artifact.contentHash } }), 'fairness.json');
};
const toProduction = (version: number, summary: ComparisonSummary, extra: Partial<PromotionRequest>): PromotionRequest => ({ name: 'coupons', version, to: 'production', reason: 'test', evidence: [asFile(summary, 'compare.json')], ...extra });
const gateOf = (outcome: Awaited<ReturnType<typeof promote>>, gate: string) => outcome.decision?.gates.find((result) => result.gate === gate);

describe('the fairness gate in promote', () => {
  it('refuses an effective-price disparity above the bound, naming the evidence; promotes within the bounds', async () => {
    const opened = registry();
    const fairnessEvidence = hesitantCouponFor(declaring);
    const tight = await promote(opened, toProduction(1, declaringEvidence, { policy: { baseline: 'fixed:17.99', fairness: { maxEffectivePriceRatio: 1.05, maxSensitiveShare: 0.5 } }, fairnessEvidence }));
    expect(tight.promoted).toBe(false);
    expect(tight.decision?.failedGate).toBe('fairness');
    expect(tight.decision?.gates.filter((gate) => gate.status !== 'passed').map((gate) => gate.gate)).toEqual(['fairness']);
    expect(gateOf(tight, 'fairness')?.detail).toMatch(/^fairness\.json: effective prices differ by a ratio of 1\.0\d\d .*allowed 1\.05$/);

    const loose = await promote(opened, toProduction(1, declaringEvidence, { policy: { baseline: 'fixed:17.99', fairness: { maxEffectivePriceRatio: 1.25, maxSensitiveShare: 0.5 } }, fairnessEvidence }));
    expect(gateOf(loose, 'fairness')).toMatchObject({ status: 'passed', detail: expect.stringMatching(/^targets on stage; effective-price ratio 1\.0\d\d <= 1\.25; incomeBand eta\^2/) });
    expect(loose).toMatchObject({ promoted: true, to: 1 });
    expect(opened.auditLog('coupons').at(-1)).toMatchObject({ action: 'promote', version: 1, details: { evidence: { fairnessEvidence: 'fairness.json' } } });
    opened.close();
  });

  it('refuses a sensitive attribute explaining too much of the effective price', async () => {
    const opened = registry();
    const outcome = await promote(opened, toProduction(1, declaringEvidence, { policy: { baseline: 'fixed:17.99', fairness: {} }, fairnessEvidence: hesitantCouponFor(declaring) }));
    expect(outcome.decision?.failedGate).toBe('fairness');
    expect(gateOf(outcome, 'fairness')?.detail).toMatch(/incomeBand explains \d+\.\d% of the effective price's variance .*allowed 5\.0%/);
    opened.close();
  });

  it("refuses targeting the artifact does not declare, evidence about another version, and no evidence for a declaring policy", async () => {
    const opened = registry();
    const loose = { baseline: 'fixed:17.99', fairness: { maxEffectivePriceRatio: 1.25, maxSensitiveShare: 0.5 } };
    const undeclared = await promote(opened, toProduction(2, silentEvidence, { policy: loose, fairnessEvidence: hesitantCouponFor(silent) }));
    expect(undeclared.decision?.failedGate).toBe('fairness');
    expect(gateOf(undeclared, 'fairness')?.detail).toMatch(/targets on "stage", which it does not declare \(declared: none/);

    const other = await promote(opened, toProduction(1, declaringEvidence, { policy: loose, fairnessEvidence: hesitantCouponFor(silent) }));
    expect(gateOf(other, 'fairness')?.detail).toMatch(/^fairness\.json measured policy [0-9a-f]{12}…, not this version/);

    const forged = hesitantCouponFor(declaring);
    (forged.json as { report: { dispersion: { maxMinRatio: number } } }).report.dispersion.maxMinRatio = 1.01;
    expect(gateOf(await promote(opened, toProduction(1, declaringEvidence, { policy: loose, fairnessEvidence: forged })), 'fairness')?.detail).toMatch(/reports an effective-price ratio of 1\.01, its groups give 1\.0\d+/);

    const none = await promote(opened, toProduction(1, declaringEvidence, { policy: loose }));
    expect(gateOf(none, 'fairness')?.detail).toMatch(/targets on stage but no fairness report was given/);
    // Gates without `fairness` do not run it.
    const without = await promote(opened, toProduction(2, silentEvidence, { policy: { baseline: 'fixed:17.99' } }));
    expect(without.decision?.gates.map((gate) => gate.gate)).not.toContain('fairness');
    expect(without.promoted).toBe(true);
    opened.close();
  });

  it('over HTTP: takes fairnessEvidence (and collusionEvidence) beside evidence; 409 names the refusing gate', async () => {
    const opened = registry();
    const home = opened.home;
    opened.close();
    const endpoint = await startEndpoint(home, {});
    const auth = { authorization: `Bearer ${testToken}` };
    const evidence = [JSON.parse(JSON.stringify(declaringEvidence)) as unknown];
    const setGates = (gates: unknown) => endpoint.registry.setGates('coupons', gates, { reason: 'test', actor: 'ci' });
    try {
      setGates({ baseline: 'fixed:17.99', fairness: { maxEffectivePriceRatio: 1.05, maxSensitiveShare: 0.5 } });
      const refused = await postJson(`${endpoint.url}/v1/policies/coupons/promote`, { version: 1, to: 'production', reason: 'r', evidence, fairnessEvidence: hesitantCouponFor(declaring).json }, auth);
      expect(refused.status).toBe(409);
      expect(refused.json.error).toMatch(/^promotion refused by the fairness gate: fairnessEvidence: effective prices differ by a ratio of 1\.0\d\d/);
      setGates({ baseline: 'fixed:17.99', collusion: {} });
      const collusion = await postJson(`${endpoint.url}/v1/policies/coupons/promote`, { version: 1, to: 'production', reason: 'r', evidence, collusionEvidence: { format: 'not collusion evidence' } }, auth);
      expect(collusion.status).toBe(409);
      expect(collusion.json.error).toMatch(/^promotion refused by the collusion gate: collusionEvidence: not collusion evidence/);
      setGates({ baseline: 'fixed:17.99', fairness: { maxEffectivePriceRatio: 1.25, maxSensitiveShare: 0.5 } });
      const passed = await postJson(`${endpoint.url}/v1/policies/coupons/promote`, { version: 1, to: 'production', reason: 'r', evidence, fairnessEvidence: hesitantCouponFor(declaring).json }, auth);
      expect(passed.status).toBe(200);
      expect(passed.json).toMatchObject({ promoted: true, to: 1 });
    } finally {
      await endpoint.close();
    }
  });
});
