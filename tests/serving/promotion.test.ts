import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compare, type ComparisonSummary } from '../../experiments/compare.js';
import { promote } from '../../serving/promotion.js';
import { PolicyRegistry } from '../../serving/registry.js';
import { trainedPolicyArtifact } from '../fixtures/policy-artifact.js';

const scratch = mkdtempSync(join(tmpdir(), 'pricelab-promotion-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let good: string; // the best fixed price, exported as a policy
let bad: string; // a price far too high
let goodEvidence: ComparisonSummary;
let badEvidence: ComparisonSummary;

const evidenceFor = async (candidate: string, baseline: string, guardrails = {}) =>
  (await compare({ scenario: 'steady-state-v1', arms: [`baseline=${baseline}`, `candidate=${candidate}`], seeds: 4, evaluationEpisodes: 1, trainingSteps: 1, bootstrapResamples: 200, guardrails })).summary;

beforeAll(async () => {
  good = (await trainedPolicyArtifact(scratch, { name: 'everyday', kind: 'fixed-price', config: { price: 17.99 }, steps: 1, seed: 1 })).folder;
  bad = (await trainedPolicyArtifact(scratch, { name: 'everyday', kind: 'fixed-price', config: { price: 29.99 }, steps: 1, seed: 2 })).folder;
  goodEvidence = await evidenceFor(good, 'fixed:29.99');
  badEvidence = await evidenceFor(bad, 'fixed:17.99');
}, 120_000);

// The lower price sells more and so sees more returns (about 1.4 points): a 50% margin on the return rate admits it.
const gates = { baseline: 'fixed:29.99', guardrailMargins: { returnRate: 0.5, priceChanges: 0, customersLost: 0.1 } };

function registryWithBoth() {
  const registry = PolicyRegistry.open(mkdtempSync(join(scratch, 'home-')));
  registry.register(good, { reason: 'v1' });
  registry.register(bad, { reason: 'v2' });
  return registry;
}

describe('promotion to production', () => {
  it('passes every gate with fresh evidence that this exact version beats the declared baseline', () => {
    const registry = registryWithBoth();
    const outcome = promote(registry, { name: 'everyday', version: 1, to: 'production', reason: 'beats fixed:29.99', evidence: [{ source: 'compare.json', json: goodEvidence }], policy: gates });
    expect(outcome.decision?.gates.filter((gate) => !gate.passed)).toEqual([]);
    expect(outcome).toMatchObject({ promoted: true, from: null, to: 1 });
    expect(registry.resolve('everyday@production').version).toBe(1);
    expect(registry.auditLog('everyday').at(-1)).toMatchObject({ action: 'promote', alias: 'production', version: 1 });
    registry.close();
  });

  it.each([
    ['no evidence', () => [], 'evidence-valid'],
    ['a file that is not a comparison', () => [{ source: 'x.json', json: { hello: 1 } }], 'evidence-valid'],
    ['evidence about another version', () => [{ source: 'bad.json', json: badEvidence }], 'identity'],
    ['stale evidence', () => [{ source: 'old.json', json: { ...goodEvidence, createdAt: '2001-01-01T00:00:00.000Z' } }], 'fresh-evidence'],
  ] as const)('refuses %s, naming the gate', (_label, evidence, gate) => {
    const registry = registryWithBoth();
    const outcome = promote(registry, { name: 'everyday', version: 1, to: 'production', reason: 'x', evidence: evidence(), policy: gates });
    expect(outcome.promoted).toBe(false);
    expect(outcome.decision?.failedGate).toBe(gate);
    expect(registry.aliases('everyday').production).toBeUndefined();
    expect(registry.auditLog('everyday').map((entry) => entry.action)).toEqual(['register', 'register']);
    registry.close();
  });

  it('refuses evidence that fails: the worse version against production is not better on the primary KPI', async () => {
    const registry = registryWithBoth();
    promote(registry, { name: 'everyday', version: 1, to: 'production', reason: 'first', evidence: [{ source: 'good.json', json: goodEvidence }], policy: gates });
    // v2 (29.99) against production v1 (17.99), by content hash: it loses.
    const evidence = await evidenceFor(bad, good);
    const outcome = promote(registry, { name: 'everyday', version: 2, to: 'production', reason: 'try', evidence: [{ source: 'v2.json', json: evidence }], policy: gates });
    expect(outcome.promoted).toBe(false);
    expect(outcome.decision?.failedGate).toBe('primary-kpi');
    expect(outcome.decision?.gates.find((gate) => gate.gate === 'primary-kpi')?.detail).toMatch(/totalReward worse/);
    // Evidence against the declared baseline is no longer enough once something is in production.
    const wrongBaseline = promote(registry, { name: 'everyday', version: 2, to: 'production', reason: 'try', evidence: [{ source: 'b.json', json: badEvidence }], policy: gates });
    expect(wrongBaseline.decision?.failedGate).toBe('identity');
    expect(registry.resolve('everyday@production').version).toBe(1);
    registry.close();
  }, 60_000);

  it('refuses a policy whose evaluation broke a guardrail, and one that is inferior on a guardrail KPI', async () => {
    const registry = registryWithBoth();
    // Conflicting rules (max 15 but a margin floor above it) make the played price break one.
    const conflicted = await evidenceFor(good, 'fixed:29.99', { maxPrice: 15, marginFloor: 0.9 });
    const outcome = promote(registry, { name: 'everyday', version: 1, to: 'production', reason: 'x', evidence: [{ source: 'c.json', json: conflicted }], policy: { ...gates, primaryKpi: 'units' } });
    expect(outcome.decision?.gates.find((gate) => gate.gate === 'guardrail-violations')?.passed).toBe(false);
    // With no margin on returns, selling more at the lower price (and so seeing more returns) is inferior.
    const strict = promote(registry, { name: 'everyday', version: 1, to: 'production', reason: 'x', evidence: [{ source: 'g.json', json: goodEvidence }], policy: { ...gates, guardrailMargins: { returnRate: 0, unitsReturned: 0 } } });
    const guardrailGate = strict.decision?.gates.find((gate) => gate.gate === 'guardrail-kpis');
    expect(guardrailGate?.passed).toBe(false);
    expect(guardrailGate?.detail).toMatch(/unitsReturned|returnRate/);
    registry.close();
  }, 60_000);
});
