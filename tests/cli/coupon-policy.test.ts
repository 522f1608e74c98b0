/**
 * Learned coupon policies from the command line: `pricelab train` on a coupon scenario (a
 * built-in coupon id) writes an artifact whose actions are a price and a coupon and which
 * declares its targeting; `pricelab evaluate` plays it with the coupon KPIs; `check-fairness
 * --policy <folder>` reports its effective-price disparity and declared features, bound to its
 * hash. Bad input exits 2: the price market's options on a coupon scenario, a coupon policy on a
 * scenario without coupons, --for beside a learned policy.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readArtifact, sha256 } from '../../agents/artifact.js';
import type { PolicyManifest } from '../../agents/artifact.js';
import type { FairnessEvidenceDocument } from '../../experiments/fairness-check.js';
import { cliWith, ensureBuilt } from '../fixtures/cli.js';

let folder = '';
let home = '';
beforeAll(() => {
  ensureBuilt();
  folder = mkdtempSync(join(tmpdir(), 'pricelab-coupon-policy-'));
  home = join(folder, 'home');
});
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const run = (...args: string[]) => cliWith({ PRICELAB_HOME: home }, ...args);
const manifestOf = (policy: string) => JSON.parse(readFileSync(join(policy, 'policy.json'), 'utf8')) as PolicyManifest;

describe('a Q-learning coupon policy on festival-coupon-v1', () => {
  it('trains, names price and coupon, declares no targeting, and evaluates with coupon KPIs', async () => {
    const out = join(folder, 'festival-q');
    const trained = await run('train', 'festival-coupon-v1', '--agent', 'q-learning', '--episodes', '4', '--eval-episodes', '2', '--no-store', '--out', out, '--json');
    expect(trained.code, trained.stderr).toBe(0);
    const policy = join(out, 'policy');
    const manifest = manifestOf(policy);
    expect(manifest.action.ladder).toEqual([89, 99, 109, 119, 129]);
    expect(manifest.action.coupons?.campaigns.map((campaign) => [campaign.name, campaign.kind, campaign.depth])).toEqual([
      ['50 off every 300', 'threshold', 50],
      ['30 off 200', 'threshold', 30],
      ['10% off, up to 40', 'percentage', 10],
    ]);
    expect(manifest.training.targeting).toEqual({ features: [] });
    expect(manifest.observation.features.map((feature) => feature.name)).toEqual(['stage:new', 'stage:hesitant', 'stage:repeat', 'stage:lapsed', 'budgetLeft', 'periodPhase']);

    const evaluated = await run('evaluate', 'scenarios/coupons/festival-coupon-v1.json', '--policy', policy, '--episodes', '2', '--json');
    expect(evaluated.code, evaluated.stderr).toBe(0);
    const report = JSON.parse(evaluated.stdout) as { episodes: number; kpis: Record<string, { mean: number }>; actionDays: Record<string, number> };
    expect(report.episodes).toBe(2);
    // Every greedy day named by its price and coupon.
    expect(Object.values(report.actionDays).reduce((sum, days) => sum + days, 0)).toBe(60);
    for (const name of Object.keys(report.actionDays)) expect(name).toMatch(/^(89|99|109|119|129) \+ (no coupon|50 off every 300|30 off 200|10% off, up to 40)$/);
    expect(report.kpis.days?.mean).toBe(30);
    expect(report.kpis.couponCost).toBeDefined();
    expect(report.kpis.profit?.mean).toBeGreaterThan(0);

    // A coupon policy does not fit a scenario without coupons (exit 2).
    const misfit = await run('evaluate', 'steady-state-v1', '--policy', policy, '--episodes', '1');
    expect(misfit.code).toBe(2);
  });

  it("refuses the price market's options on a coupon scenario (exit 2)", async () => {
    const refused = await run('train', 'festival-coupon-v1', '--agent', 'q-learning', '--steps', '30', '--envs', '2', '--population', '2', '--exploring-starts', '0.4:5', '--no-store', '--out', join(folder, 'refused'));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/population: expected no --population on a coupon scenario/);
    expect(refused.stderr).toMatch(/exploring-starts: expected no --exploring-starts on a coupon scenario/);
    expect(refused.stderr).not.toMatch(/envs: expected no/);
  });
});

describe('a DQN coupon policy on targeted-coupon-v1', () => {
  it('declares stage targeting, and check-fairness reports its disparity, bound to its hash', async () => {
    const config = join(folder, 'dqn.json');
    writeFileSync(config, JSON.stringify({ hiddenLayers: [16], learningStarts: 20, batchSize: 8, totalSteps: 60, backend: 'wasm' }));
    const out = join(folder, 'targeted-dqn');
    const trained = await run('train', 'targeted-coupon-v1', '--agent', 'dqn', '--config', config, '--steps', '60', '--eval-episodes', '1', '--eval-every', '60', '--no-store', '--out', out);
    expect(trained.code, trained.stderr).toBe(0);
    const policy = join(out, 'policy');
    expect(manifestOf(policy).training.targeting).toEqual({ features: ['stage'] });
    expect(manifestOf(policy).action.coupons?.campaigns[1]).toMatchObject({ name: '15% off for hesitant visitors', kind: 'percentage', depth: 15, cap: 6, stages: ['hesitant'] });

    const checked = await run('check-fairness', 'targeted-coupon-v1', '--policy', policy, '--seeds', '1', '--days', '20', '--max-ratio', '10', '--max-sensitive-share', '1', '--json');
    expect(checked.code, checked.stdout).toBe(0);
    const output = JSON.parse(checked.stdout) as { evidence: FairnessEvidenceDocument; declared: string[]; gate: { passed: boolean; detail: string } };
    expect(output.declared).toEqual(['stage']);
    expect(output.evidence.candidate.policySha256).toBe(sha256(readFileSync(join(policy, 'policy.json'))));
    expect(output.evidence.candidate.policySha256).toBe(readArtifact(policy).contentHash);
    expect(Object.values(output.evidence.campaignDays).reduce((sum, days) => sum + days, 0)).toBe(20);
    expect(output.evidence.report.dispersion.maxMinRatio).toBeGreaterThanOrEqual(1);
    // Within these bounds, the only refusal left would be undeclared targeting, which a stage-declaring policy cannot have.
    expect(output.gate.passed, output.gate.detail).toBe(true);

    const text = await run('check-fairness', 'targeted-coupon-v1', '--policy', policy, '--seeds', '1', '--days', '20', '--max-ratio', '10', '--max-sensitive-share', '1');
    expect(text.stdout).toMatch(/greedy\) on targeted-coupon-v1/);
    expect(text.stdout).toMatch(/declared stage/);

    const both = await run('check-fairness', 'targeted-coupon-v1', '--policy', policy, '--for', policy);
    expect(both.code).toBe(2);
    const misfit = await run('check-fairness', 'festival-coupon-v1', '--policy', policy, '--seeds', '1', '--days', '5');
    expect(misfit.code).toBe(2);
    expect(misfit.stderr).toMatch(/action\.coupons: expected the campaigns 50 off every 300/);
  });
});
