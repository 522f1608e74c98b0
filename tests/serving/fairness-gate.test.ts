import { describe, expect, it } from 'vitest';
import { CouponMarketEnv } from '../../env/coupons/coupon-market.js';
import { couponPolicyFairness } from '../../experiments/fairness.js';
import { checkFairnessGate, fairnessBoundsSchema, targetingDeclarationOf, withFairnessGate, type FairnessEvidence } from '../../serving/fairness-gate.js';
import type { PromotionDecision } from '../../serving/promotion-gates.js';
import { couponScenario } from '../env/coupons/fixtures.js';

const bounds = fairnessBoundsSchema.parse({ maxEffectivePriceRatio: 1.2, maxSensitiveShare: 0.1 });
const evidence = (ratio: number, etaSquared: number, targetedFeatures: string[]): FairnessEvidence => ({
  source: 'fairness.json',
  report: { dispersion: { maxMinRatio: ratio, highest: 'b/new', lowest: 'a/hesitant' }, sensitive: [{ attribute: 'incomeBand', etaSquared }] },
  targetedFeatures,
});

describe('the fairness gate', () => {
  it('passes a stage-targeted policy that declares "stage" and stays within the bounds', () => {
    const result = checkFairnessGate({ declaration: { features: ['stage'] }, evidence: evidence(1.1, 0.02, ['stage']), bounds });
    expect(result).toMatchObject({ gate: 'fairness', status: 'passed', passed: true });
    expect(result.detail).toMatch(/targets on stage; effective-price ratio 1\.100 <= 1\.2; incomeBand eta\^2 0\.020 <= 0\.1/);
  });

  it('refuses an undeclared feature, a sensitive one, a wide price ratio and a large sensitive share, naming each', () => {
    expect(checkFairnessGate({ declaration: { features: [] }, evidence: evidence(1.1, 0.02, ['stage']), bounds }).detail).toMatch(/targets on "stage", which it does not declare \(declared: none/);
    expect(checkFairnessGate({ declaration: { features: ['stage', 'IncomeBand'] }, evidence: evidence(1.1, 0.02, ['stage']), bounds }).detail).toMatch(/declares the sensitive feature "IncomeBand"/);
    expect(checkFairnessGate({ declaration: { features: ['stage'] }, evidence: evidence(1.3, 0.02, ['stage']), bounds }).detail).toMatch(/ratio of 1\.300 \(b\/new over a\/hesitant\), allowed 1\.2/);
    const both = checkFairnessGate({ declaration: { features: ['stage'] }, evidence: evidence(1.1, 0.4, ['stage', 'age']), bounds });
    expect(both.passed).toBe(false);
    expect(both.detail).toMatch(/sensitive feature "age"/);
    expect(both.detail).toMatch(/incomeBand explains 40\.0% .* allowed 10\.0%/);
    expect(checkFairnessGate({ declaration: { features: ['stage'] }, evidence: undefined, bounds }).detail).toMatch(/no fairness report was given/);
    expect(checkFairnessGate({ declaration: { features: [] }, evidence: undefined, bounds }).passed).toBe(true);
  });

  it('is appended after the other gates: skipped after a refusal, deciding otherwise', () => {
    const passed: PromotionDecision = { allowed: true, gates: [{ gate: 'identity', status: 'passed', passed: true, detail: '' }], failedGate: null };
    const refused: PromotionDecision = { allowed: false, gates: [{ gate: 'identity', status: 'failed', passed: false, detail: 'x' }], failedGate: 'identity' };
    const failing = { declaration: { features: [] }, evidence: evidence(2, 0, []), bounds };
    expect(withFairnessGate(passed, failing)).toMatchObject({ allowed: false, failedGate: 'fairness' });
    expect(withFairnessGate(refused, failing).gates.at(-1)).toMatchObject({ gate: 'fairness', status: 'skipped', detail: expect.stringMatching(/identity gate refused/) });
    expect(withFairnessGate(passed, { ...failing, evidence: evidence(1, 0, []) })).toMatchObject({ allowed: true, failedGate: null });
  });

  it("reads the declaration from the artifact's training.targeting, refusing a malformed one", () => {
    expect(targetingDeclarationOf({ training: {} })).toEqual({ declaration: { features: [] } });
    expect(targetingDeclarationOf({ training: { targeting: { features: ['stage'] } } })).toEqual({ declaration: { features: ['stage'] } });
    expect(targetingDeclarationOf({ training: { targeting: { features: 'stage' } } })).toMatchObject({ problems: [expect.stringMatching(/^training\.targeting\.features:/)] });
  });

  it('on the coupon market: a hesitant-only coupon must be declared as stage targeting', () => {
    const scenario = couponScenario({
      segments: [
        { name: 'students', priceSensitivity: 0.6, population: 3000, claimRate: 0.5, attributes: { incomeBand: 'low' } },
        { name: 'professionals', priceSensitivity: 0.3, population: 3000, claimRate: 0.5, attributes: { incomeBand: 'high' } },
      ],
      campaigns: [{ kind: 'threshold', name: '1 off to hesitant', spend: 0, save: 1, stages: ['hesitant'] }],
      visitRate: { new: 0.2, hesitant: 0.2, repeat: 0.2, lapsed: 0.05 },
      sensitiveAttributes: ['incomeBand'],
    });
    const env = new CouponMarketEnv(scenario);
    const run = couponPolicyFairness(env, () => env.actionIndex({ priceIndex: 2, campaign: 0 }), { seeds: [1, 2, 3], days: 20 });
    const fairnessEvidence = { source: 'targeted.json', report: run.report, targetedFeatures: run.targetedFeatures };
    const loose = fairnessBoundsSchema.parse({ maxEffectivePriceRatio: 1.2, maxSensitiveShare: 0.5 });
    expect(checkFairnessGate({ declaration: { features: ['stage'] }, evidence: fairnessEvidence, bounds: loose }).passed).toBe(true);
    expect(checkFairnessGate({ declaration: { features: [] }, evidence: fairnessEvidence, bounds: loose }).passed).toBe(false);
  });
});
