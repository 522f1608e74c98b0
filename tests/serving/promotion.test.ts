import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compare, type ComparisonSummary } from '../../experiments/compare.js';
import { ResultsStore } from '../../experiments/store.js';
import { allowedWorsening, defaultGuardrailMargins } from '../../serving/promotion-gates.js';
import { defaultGatesFile, parsePromotionPolicy, promote, type PromotionRequest } from '../../serving/promotion.js';
import { PolicyRegistry } from '../../serving/registry.js';
import { parseServingConfig } from '../../serving/serving-config.js';
import { PricelabError } from '../../core/errors.js';
import { trainedPolicyArtifact } from '../fixtures/policy-artifact.js';
import { postJson, startEndpoint, testToken } from '../fixtures/serving.js';

const scratch = mkdtempSync(join(tmpdir(), 'pricelab-promotion-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// steady-state-v1's best fixed price is 17.99 (docs/agents/dqn.md); holding it and clearing
// stock at 14.99 in the last 3 days earns about +335 a year (a known better policy with one
// price change); 18.99 all year earns about 1,200 less.
const clearanceConfig = { finaleDays: 3, base: { kind: 'fixed-price', config: { price: 17.99 } }, finale: { kind: 'fixed-price', config: { price: 14.99 } } };

let clearance: string; // v1: genuinely better than fixed:17.99
let worse: string; // v2: fixed 18.99
let churn: string; // v3: LinUCB after 10 steps: changes its price most days
let clearanceEvidence: ComparisonSummary;
let worseEvidence: ComparisonSummary;
let churnEvidence: ComparisonSummary;

const evidenceFor = async (candidate: string, baseline: string, guardrails = {}) =>
  (await compare({ scenario: 'steady-state-v1', arms: [`baseline=${baseline}`, `candidate=${candidate}`], seeds: 8, evaluationEpisodes: 1, trainingSteps: 1, bootstrapResamples: 200, guardrails })).summary;

/** What `pricelab compare` does with the store on: records the summary in the home's results store. */
function record(registry: PolicyRegistry, summary: unknown): string {
  const store = ResultsStore.open(registry.home);
  try {
    const parsed = summary as ComparisonSummary;
    return store.recordComparison({ scenario: parsed.scenario.id, arms: parsed.arms.map((arm) => arm.name), baseline: parsed.baseline, summary });
  } finally {
    store.close();
  }
}

/** The evidence file as `compare --json` writes it and `--evidence` reads it back. */
const asFile = (summary: unknown, source = 'compare.json') => ({ source, json: JSON.parse(JSON.stringify(summary)) as unknown });

beforeAll(async () => {
  clearance = (await trainedPolicyArtifact(scratch, { name: 'everyday', kind: 'phased', config: clearanceConfig, steps: 1, seed: 1 })).folder;
  worse = (await trainedPolicyArtifact(scratch, { name: 'everyday', kind: 'fixed-price', config: { price: 18.99 }, steps: 1, seed: 2 })).folder;
  churn = (await trainedPolicyArtifact(scratch, { name: 'everyday', kind: 'linucb', steps: 10, seed: 3 })).folder;
  clearanceEvidence = await evidenceFor(clearance, 'fixed:17.99');
  worseEvidence = await evidenceFor(worse, 'fixed:17.99');
  churnEvidence = await evidenceFor(churn, 'fixed:17.99');
}, 180_000);

function registry() {
  const opened = PolicyRegistry.open(mkdtempSync(join(scratch, 'home-')));
  opened.register(clearance, { reason: 'v1' });
  opened.register(worse, { reason: 'v2' });
  opened.register(churn, { reason: 'v3' });
  return opened;
}

const toProduction = (version: number, evidence: PromotionRequest['evidence'], extra: Partial<PromotionRequest> = {}): PromotionRequest => ({ name: 'everyday', version, to: 'production', reason: 'test', evidence, ...extra });
const gateOf = (outcome: Awaited<ReturnType<typeof promote>>, gate: string) => outcome.decision?.gates.find((result) => result.gate === gate);

describe('the shipped default gates against a fixed-price baseline (issue 14.2)', () => {
  it('pass a genuinely better policy with one price change, where margins as shares of the baseline (0 price changes) refused it', async () => {
    const opened = registry();
    record(opened, clearanceEvidence);
    // The old form: a share of the baseline's mean, 0 changes, so nothing is allowed.
    const relativeOnly = await promote(opened, toProduction(1, [asFile(clearanceEvidence)], { policy: { baseline: 'fixed:17.99', guardrailMargins: { priceChanges: { relative: 0.25 } } } }));
    expect(relativeOnly.promoted).toBe(false);
    expect(gateOf(relativeOnly, 'guardrail-kpis')?.detail).toMatch(/priceChanges may be worse by up to 1\.00/);

    const outcome = await promote(opened, toProduction(1, [asFile(clearanceEvidence)]));
    expect(outcome.decision?.gates.filter((gate) => gate.status !== 'passed')).toEqual([]);
    expect(outcome).toMatchObject({ promoted: true, from: null, to: 1 });
    expect(outcome.gatesSource).toMatch(/shipped defaults/);
    expect(gateOf(outcome, 'guardrail-kpis')?.detail).toMatch(/priceChanges 1\.00 <= 30\.0/);
    expect(opened.resolve('everyday@production').version).toBe(1);
    expect(opened.auditLog('everyday').at(-1)).toMatchObject({ action: 'promote', alias: 'production', version: 1 });
    opened.close();
  });

  it('refuse a worse policy (fixed 18.99 against the best fixed price) on the primary KPI', async () => {
    const opened = registry();
    record(opened, worseEvidence);
    const outcome = await promote(opened, toProduction(2, [asFile(worseEvidence)]));
    expect(outcome.promoted).toBe(false);
    expect(outcome.decision?.failedGate).toBe('primary-kpi');
    expect(gateOf(outcome, 'primary-kpi')?.detail).toMatch(/totalReward (no detectable difference|worse) \(difference -1\d{3}/);
    opened.close();
  });

  it('refuse a policy that changes its price most days, naming price changes', async () => {
    const opened = registry();
    record(opened, churnEvidence);
    const outcome = await promote(opened, toProduction(3, [asFile(churnEvidence)]));
    expect(outcome.promoted).toBe(false);
    expect(gateOf(outcome, 'guardrail-kpis')?.status).toBe('failed');
    expect(gateOf(outcome, 'guardrail-kpis')?.detail).toMatch(/priceChanges may be worse by up to \d{2,3}/);
    // Only the forms the gate file gives: priceChanges has an absolute margin alone (it read "max(30, 0 x |0.00|)").
    expect(gateOf(outcome, 'guardrail-kpis')?.detail).toMatch(/priceChanges may be worse by up to [\d.]+ \(95% interval\), allowed absolute 30(;|$)/);
    opened.close();
  });

  it('ships a default file whose margins are the schema defaults, each with an absolute form where the baseline can be 0', () => {
    const shipped = parsePromotionPolicy(JSON.parse(readFileSync(defaultGatesFile, 'utf8')));
    expect(shipped.guardrailMargins).toEqual(defaultGuardrailMargins);
    expect(parsePromotionPolicy({}).guardrailMargins).toEqual(defaultGuardrailMargins);
    for (const kpi of ['priceChanges', 'customersLost', 'stockoutDays', 'returnRate'] as const) expect(allowedWorsening(shipped.guardrailMargins[kpi]!, 0)).toBeGreaterThan(0);
    expect(shipped.baseline).toEqual({ 'steady-state-v1': 'fixed:17.99' });
  });

  it('allows max(absolute, relative x |baseline mean|) and refuses a bare number, naming the KPI', () => {
    fc.assert(
      fc.property(fc.option(fc.double({ min: 0, max: 1e6, noNaN: true }), { nil: undefined }), fc.option(fc.double({ min: 0, max: 10, noNaN: true }), { nil: undefined }), fc.double({ min: -1e6, max: 1e6, noNaN: true }), (absolute, relative, baselineMean) => {
        fc.pre(absolute !== undefined || relative !== undefined);
        const margin = { ...(absolute === undefined ? {} : { absolute }), ...(relative === undefined ? {} : { relative }) };
        const allowed = allowedWorsening(margin, baselineMean);
        expect(allowed).toBeGreaterThanOrEqual(absolute ?? 0);
        expect(allowed).toBeGreaterThanOrEqual((relative ?? 0) * Math.abs(baselineMean));
        expect([absolute ?? 0, (relative ?? 0) * Math.abs(baselineMean)]).toContain(allowed);
      }),
    );
    const refusal = (() => {
      try {
        parsePromotionPolicy({ guardrailMargins: { priceChanges: 0.25 } });
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(refusal).toBeInstanceOf(PricelabError);
    expect((refusal as PricelabError).problems).toEqual([expect.objectContaining({ path: ['gates', 'guardrailMargins', 'priceChanges'], message: expect.stringMatching(/absolute.*relative/) })]);
    expect(() => parsePromotionPolicy({ guardrailMargins: { pricechanges: { absolute: 3 } } })).toThrow(/not valid/);
    expect(() => parsePromotionPolicy({ guardrailMargins: { priceChanges: {} } })).toThrow(/not valid/);
  });
});

describe('forged or empty evidence is refused (issue 13.8)', () => {
  /** The worse policy's real evidence edited to look better: only a totalReward row, "better", p 0.001. */
  const forged = () => {
    const row = worseEvidence.comparisons.find((comparison) => comparison.arm === 'candidate' && comparison.kpi === 'totalReward')!;
    return { ...worseEvidence, comparisons: [{ ...row, estimate: 500, t: { ...row.t, low: 100, high: 900 }, pValue: 0.001, adjustedPValue: 0.001, verdict: 'better' }], verdict: { ...worseEvidence.verdict, everyArmBetter: true } };
  };

  it('refuses a hand-edited file that matches no recorded comparison', async () => {
    const opened = registry();
    record(opened, worseEvidence);
    const outcome = await promote(opened, toProduction(2, [asFile(forged(), 'forged.json')]));
    expect(outcome.promoted).toBe(false);
    expect(outcome.decision?.failedGate).toBe('evidence-valid');
    expect(gateOf(outcome, 'evidence-valid')?.detail).toMatch(/forged\.json: matches no comparison recorded in the results store/);
    expect(opened.aliases('everyday').production).toBeUndefined();
    opened.close();
  });

  it('refuses a recorded summary whose reported verdicts do not follow from its per-seed data', async () => {
    const opened = registry();
    record(opened, forged()); // as if the store itself had been written by hand
    const outcome = await promote(opened, toProduction(2, [asFile(forged(), 'forged.json')]));
    expect(outcome.decision?.failedGate).toBe('evidence-valid');
    const detail = gateOf(outcome, 'evidence-valid')?.detail ?? '';
    expect(detail).toMatch(/candidate on totalReward reports verdict "better", estimate 500\.0, .*adjustedPValue 0\.001000; the per-seed data give verdict "(no detectable difference|worse)", estimate -1\d{3}/);
    expect(detail).toMatch(/no row for candidate on profit, .*candidate on returnRate, .*candidate on priceChanges, .*which the per-seed data define/);
    opened.close();
  });

  it('refuses a createdAt that is not a time, and evidence older than the policy', async () => {
    const opened = registry();
    const badDate = { ...clearanceEvidence, createdAt: 'x' };
    record(opened, badDate);
    const outcome = await promote(opened, toProduction(1, [asFile(badDate, 'x.json')]));
    expect(outcome.decision?.failedGate).toBe('evidence-valid');
    expect(gateOf(outcome, 'evidence-valid')?.detail).toMatch(/createdAt: expected an ISO 8601 time, found "x"/);
    const old = { ...clearanceEvidence, createdAt: '2001-01-01T00:00:00.000Z' };
    record(opened, old);
    const stale = await promote(opened, toProduction(1, [asFile(old, 'old.json')]));
    expect(stale.decision?.failedGate).toBe('fresh-evidence');
    expect(gateOf(stale, 'fresh-evidence')?.detail).toMatch(/old\.json was made 2001-01-01T00:00:00\.000Z, before the policy/);
    opened.close();
  });

  it('refuses a version whose policy.json was edited after registration, before reading it (issue 13.1)', async () => {
    const opened = registry();
    const old = { ...clearanceEvidence, createdAt: '2001-01-01T00:00:00.000Z' };
    record(opened, old);
    // Back-dating the registered policy.json would make the stale evidence look fresh.
    const manifestPath = join(opened.version('everyday', 1).path, 'policy.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { createdAt: string };
    writeFileSync(manifestPath, JSON.stringify({ ...manifest, createdAt: '2000-01-01T00:00:00.000Z' }, null, 2));
    const refusal = await (async () => {
      try {
        return await promote(opened, toProduction(1, [asFile(old, 'old.json')]));
      } catch (error) {
        return error;
      }
    })();
    expect(refusal).toBeInstanceOf(PricelabError);
    expect((refusal as PricelabError).kind).toBe('integrity');
    expect((refusal as PricelabError).message).toMatch(/everyday@1 was changed after it was registered/);
    expect(opened.aliases('everyday').production).toBeUndefined();
    opened.close();
  });

  it('fails a required KPI that is missing from the evidence, naming it', async () => {
    const opened = registry();
    record(opened, clearanceEvidence);
    // steady-state-v1 has no Nash/monopoly benchmarks: its profit-gain index is null.
    const outcome = await promote(opened, toProduction(1, [asFile(clearanceEvidence)], { policy: { baseline: 'fixed:17.99', guardrailMargins: { priceChanges: { absolute: 30 }, profitGain: { absolute: 0.1 } } } }));
    expect(outcome.promoted).toBe(false);
    expect(outcome.decision?.failedGate).toBe('guardrail-kpis');
    expect(gateOf(outcome, 'guardrail-kpis')?.detail).toMatch(/profitGain is not in compare\.json/);
    opened.close();
  });

  it('requires the evidence to be evaluated under the guardrails serving applies', async () => {
    const opened = registry();
    const rules = { maxChange: 0.05, competitorIndex: { low: 0.7, high: 1.3 } };
    const servingConfig = parseServingConfig({ policies: { everyday: { guardrails: rules } } });
    record(opened, clearanceEvidence);
    const unguarded = await promote(opened, toProduction(1, [asFile(clearanceEvidence)], { servingConfig }));
    expect(unguarded.promoted).toBe(false);
    expect(unguarded.decision?.failedGate).toBe('guardrail-rules');
    expect(gateOf(unguarded, 'guardrail-rules')?.detail).toMatch(/was evaluated under \{\}, serving applies \{"maxChange":0\.05/);
    // Under the same rules (in another key order), the gate passes.
    const guarded = await evidenceFor(clearance, 'fixed:17.99', { competitorIndex: { high: 1.3, low: 0.7 }, maxChange: 0.05 });
    record(opened, guarded);
    expect(gateOf(await promote(opened, toProduction(1, [asFile(guarded)], { servingConfig })), 'guardrail-rules')?.status).toBe('passed');
    // Without a serving configuration, serving applies the artifact's min/max (the ladder's
    // ends): bounds that contain the whole ladder change nothing, so {} or wider bounds pass.
    const ruleGate = async (summary: ComparisonSummary) => {
      const fresh = registry();
      record(fresh, summary);
      const status = gateOf(await promote(fresh, toProduction(1, [asFile(summary)])), 'guardrail-rules')?.status;
      fresh.close();
      return status;
    };
    expect(await ruleGate(await evidenceFor(clearance, 'fixed:17.99', { minPrice: 1, maxPrice: 1000 }))).toBe('passed');
    expect(await ruleGate(await evidenceFor(clearance, 'fixed:17.99', { maxPrice: 16.99 }))).toBe('failed');
    opened.close();
  }, 60_000);

  it('refuses a policy whose evaluation broke a guardrail', async () => {
    const opened = registry();
    // Conflicting rules (max 15 but a margin floor above it) make the played price break one.
    const rules = { maxPrice: 15, marginFloor: 0.9 };
    const conflicted = await evidenceFor(clearance, 'fixed:17.99', rules);
    record(opened, conflicted);
    const outcome = await promote(opened, toProduction(1, [asFile(conflicted)], { servingConfig: parseServingConfig({ policies: { everyday: { guardrails: rules } } }), policy: { baseline: 'fixed:17.99', primaryKpi: 'units' } }));
    expect(gateOf(outcome, 'guardrail-violations')).toMatchObject({ status: 'failed', detail: expect.stringMatching(/broke a guardrail/) });
    opened.close();
  }, 60_000);
});

describe('gate reports, no-ops and stored gates', () => {
  it('reports gates after a failed evidence-valid or identity gate as skipped, naming it (issue 14.3)', async () => {
    const opened = registry();
    const none = await promote(opened, toProduction(1, []));
    expect(none.decision?.failedGate).toBe('evidence-valid');
    expect(none.decision?.gates.slice(1).map((gate) => gate.status)).toEqual(Array(7).fill('skipped'));
    expect(none.decision?.gates.at(-1)).toMatchObject({ gate: 'fresh-evidence', status: 'skipped', passed: false, detail: expect.stringMatching(/evidence-valid gate refused/) });
    // Evidence about another version: identity fails, the rest are skipped.
    record(opened, worseEvidence);
    const other = await promote(opened, toProduction(1, [asFile(worseEvidence)]));
    expect(other.decision?.failedGate).toBe('identity');
    expect(other.decision?.gates.slice(2).every((gate) => gate.status === 'skipped' && /identity gate refused/.test(gate.detail))).toBe(true);
    expect(opened.auditLog('everyday').map((entry) => entry.action)).toEqual(['register', 'register', 'register']);
    opened.close();
  });

  it('makes promoting the version an alias already points at a no-op without an audit entry (issue 14.9)', async () => {
    const opened = registry();
    record(opened, clearanceEvidence);
    expect((await promote(opened, toProduction(1, [asFile(clearanceEvidence)]))).promoted).toBe(true);
    const entries = opened.auditLog('everyday').length;
    const again = await promote(opened, toProduction(1, []));
    expect(again).toMatchObject({ promoted: false, noop: true, from: 1, to: 1, decision: null });
    expect((await promote(opened, { name: 'everyday', version: 2, to: 'staging', reason: 's', evidence: [] })).promoted).toBe(true);
    expect((await promote(opened, { name: 'everyday', version: 2, to: 'staging', reason: 's', evidence: [] })).noop).toBe(true);
    expect(opened.auditLog('everyday')).toHaveLength(entries + 1);
    expect(opened.resolve('everyday@production').version).toBe(1);
    opened.close();
  });

  it('uses the gates stored for the name when none are given, audited; given gates win', async () => {
    const opened = registry();
    record(opened, clearanceEvidence);
    opened.setGates('everyday', { baseline: { 'steady-state-v1': 'fixed:16.99' } }, { reason: 'our floor price', actor: 'ci' });
    expect(opened.auditLog('everyday').at(-1)).toMatchObject({ action: 'set-gates', actor: 'ci', reason: 'our floor price', details: { gates: { baseline: { 'steady-state-v1': 'fixed:16.99' } }, previous: null } });
    const stored = await promote(opened, toProduction(1, [asFile(clearanceEvidence)]));
    expect(stored.gatesSource).toMatch(/the registry \(set .* by ci\)/);
    expect(stored.decision?.failedGate).toBe('identity');
    expect(gateOf(stored, 'identity')?.detail).toMatch(/expected the declared baseline fixed:16\.99/);
    const given = await promote(opened, toProduction(1, [asFile(clearanceEvidence)], { policy: { baseline: 'fixed:17.99' }, policySource: 'gates.json' }));
    expect(given).toMatchObject({ promoted: true, gatesSource: 'gates.json' });
    opened.close();
  });

  it('over HTTP: checks the evidence against the served guardrails, and answers a no-op with 200', async () => {
    const opened = registry();
    record(opened, clearanceEvidence);
    const home = opened.home;
    opened.close();
    const endpoint = await startEndpoint(home, { policies: { everyday: { guardrails: { maxChange: 0.05 } } } });
    const auth = { authorization: `Bearer ${testToken}` };
    try {
      const refused = await postJson(`${endpoint.url}/v1/policies/everyday/promote`, { version: 1, to: 'production', reason: 'r', evidence: [JSON.parse(JSON.stringify(clearanceEvidence))] }, auth);
      expect(refused.status).toBe(409);
      expect(refused.json.error).toMatch(/guardrail-rules gate: .*serving applies \{"maxChange":0\.05\}/);
      expect((await postJson(`${endpoint.url}/v1/policies/everyday/promote`, { version: 2, to: 'staging', reason: 'r' }, auth)).json).toMatchObject({ promoted: true, noop: false });
      const again = await postJson(`${endpoint.url}/v1/policies/everyday/promote`, { version: 2, to: 'staging', reason: 'r' }, auth);
      expect(again.status).toBe(200);
      expect(again.json).toMatchObject({ promoted: false, noop: true, from: 2, to: 2 });
    } finally {
      await endpoint.close();
    }
  });
});
