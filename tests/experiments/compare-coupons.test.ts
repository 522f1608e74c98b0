/**
 * `pricelab compare` on a coupon scenario: the arms play the coupon market
 * (env/coupons/coupon-env.ts) and choose coupons: coupon rules (no coupon, a fixed campaign),
 * coupon learners trained per seed, coupon artifacts. The market is the known-answer coupon
 * market of the learners' tests (tests/agents/coupon-choice-market.ts: 20 days, prices 9 and 10,
 * campaigns 1, 2.8 and 5 off; price 10 with 2.8 off is best by 12% a day).
 *
 * Known answers: every arm's per-seed KPIs and its fairness figures are those of a
 * CouponMarketEnv stepped by hand with the same action on the same evaluation seeds; "no coupon"
 * costs nothing and redeems nothing; 2.8 off at 10 earns more than no coupon at 10 on every seed.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readArtifact } from '../../agents/artifact.js';
import { comparisonText } from '../../cli/commands/compare.js';
import { PricelabError } from '../../core/errors.js';
import { CouponMarketEnv, type CouponStepInfo } from '../../env/coupons/coupon-market.js';
import { CouponKpiAccumulator } from '../../env/coupons/coupon-kpis.js';
import { compare, comparisonSummarySchema, evaluationSeedOf, type ComparisonOutcome } from '../../experiments/compare.js';
import { prepareCouponTrainRun } from '../../experiments/coupon-train-run.js';
import { cellsFromCouponSteps, fairnessReport } from '../../experiments/fairness.js';
import { restoredAgentFor } from '../../experiments/setup.js';
import { CouponEnv } from '../../env/coupons/coupon-env.js';
import { evaluate } from '../../experiments/train.js';
import { loadScenario } from '../../scenarios/load.js';
import { writeReport } from '../../experiments/report/write.js';
import { couponChoiceScenario, writeCouponChoiceMarket } from '../agents/coupon-choice-market.js';
import { trainedPolicyArtifact } from '../fixtures/policy-artifact.js';

const scratch = mkdtempSync(join(tmpdir(), 'pricelab-compare-coupons-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const scenarioFile = writeCouponChoiceMarket(scratch);
const attributes = { 'coupon-seekers': { incomeBand: 'low' }, regulars: { incomeBand: 'high' } };

/** A CouponMarketEnv stepped by hand: every day the action of (price, campaign), on each seed's evaluation episode. */
function byHand(price: number, campaign: number, seeds: readonly number[]): { perSeed: { profit: number; couponCost: number; redemptionRate: number; incrementalUnitsPerCoupon: number; units: number; revenue: number }[]; steps: CouponStepInfo[] } {
  const env = new CouponMarketEnv(couponChoiceScenario());
  const kpis = new CouponKpiAccumulator(env.model.unitCost);
  const steps: CouponStepInfo[] = [];
  const perSeed = seeds.map((seed) => {
    env.reset({ seed: evaluationSeedOf(seed, 0) });
    kpis.reset();
    for (let day = 0; day < env.horizon; day++) {
      steps.push(env.step(env.actionIndex({ priceIndex: env.prices.indexOf(price), campaign })).info);
      kpis.record(env.state, 0);
    }
    return kpis.summary();
  });
  return { perSeed, steps };
}

let rules: ComparisonOutcome;
beforeAll(async () => {
  rules = await compare({ scenario: scenarioFile, arms: ['none=none@10', 'deep=coupon:1@10', 'cheap=fixed:9'], seeds: 4, evaluationEpisodes: 1, trainingSteps: 1, bootstrapResamples: 200 });
}, 120_000);

const seedKpis = (outcome: ComparisonOutcome, arm: string) => outcome.summary.perSeed.filter((row) => row.arm === arm).sort((a, b) => a.seed - b.seed).map((row) => row.kpis);

describe('compare on a coupon scenario: coupon rules', () => {
  it('plays each rule in the coupon market: per-seed KPIs equal a coupon market stepped by hand on the same seeds', () => {
    const seeds = rules.summary.seeds;
    for (const [arm, price, campaign] of [['none', 10, -1], ['deep', 10, 1], ['cheap', 9, -1]] as const) {
      const expected = byHand(price, campaign, seeds).perSeed;
      const found = seedKpis(rules, arm);
      expect(found).toHaveLength(seeds.length);
      found.forEach((kpis, index) => {
        const hand = expected[index]!;
        expect(kpis.totalReward).toBeCloseTo(hand.profit, 6);
        expect(kpis.profit).toBeCloseTo(hand.profit, 6);
        expect(kpis.netRevenue).toBeCloseTo(hand.revenue, 6);
        expect(kpis.units).toBeCloseTo(hand.units, 6);
        expect(kpis.couponCost).toBeCloseTo(hand.couponCost, 6);
        expect(kpis.redemptionRate).toBeCloseTo(hand.redemptionRate, 9);
        expect(kpis.incrementalUnitsPerCoupon).toBeCloseTo(hand.incrementalUnitsPerCoupon, 9);
      });
    }
    // No coupon costs nothing and redeems nothing; the coupon arm pays for its coupons.
    for (const kpis of seedKpis(rules, 'none')) expect(kpis).toMatchObject({ couponCost: 0, redemptionRate: 0, incrementalUnitsPerCoupon: 0 });
    for (const kpis of seedKpis(rules, 'deep')) expect(kpis.couponCost).toBeGreaterThan(0);
  });

  it('reports the coupon KPIs with the paired statistics, and 2.8 off at 10 beats no coupon at 10 on profit', () => {
    const names = rules.summary.kpis.map((kpi) => kpi.name);
    expect(names).toEqual(expect.arrayContaining(['profit', 'netRevenue', 'couponCost', 'redemptionRate', 'incrementalUnitsPerCoupon']));
    expect(names).not.toContain('stockoutDays');
    const none = seedKpis(rules, 'none');
    seedKpis(rules, 'deep').forEach((kpis, index) => expect(kpis.profit ?? 0).toBeGreaterThan(none[index]?.profit ?? Infinity));
    const profit = rules.summary.comparisons.find((comparison) => comparison.arm === 'deep' && comparison.kpi === 'profit');
    expect(profit?.estimate).toBeGreaterThan(0);
    expect(profit?.t.low).toBeGreaterThan(0);
    const couponCost = rules.summary.comparisons.find((comparison) => comparison.arm === 'deep' && comparison.kpi === 'couponCost');
    expect(couponCost).toMatchObject({ direction: 'lower' });
    expect(couponCost?.estimate).toBeGreaterThan(0);
  });

  it("computes the fairness section from each arm's actual coupons: the hand-stepped market's groups", () => {
    const fairness = rules.summary.fairness;
    expect(fairness).toMatchObject({ market: 'coupon market', groupedBy: 'segment and stage', sensitiveAttributes: ['incomeBand'] });
    for (const [arm, price, campaign] of [['none', 10, -1], ['deep', 10, 1]] as const) {
      const expected = fairnessReport(cellsFromCouponSteps(byHand(price, campaign, rules.summary.seeds).steps, attributes), { sensitiveAttributes: ['incomeBand'], stages: true });
      const entry = fairness?.byArm.find((candidate) => candidate.arm === arm);
      expect(entry?.units).toBeCloseTo(expected.units, 6);
      expect(entry?.byGroup.map((group) => [group.label, group.effectivePrice])).toEqual(expected.byGroup.map((group) => [group.label, group.effectivePrice === null ? null : expect.closeTo(group.effectivePrice, 9)]));
    }
    // No coupon: everyone pays the posted 10. 2.8 off: only the coupon seekers claim, so they pay less than the regulars.
    const none = fairness?.byArm.find((entry) => entry.arm === 'none');
    for (const group of none?.byGroup ?? []) if (group.effectivePrice !== null) expect(group.effectivePrice).toBeCloseTo(10, 9);
    const deep = fairness?.byArm.find((entry) => entry.arm === 'deep');
    const segment = (label: string) => deep?.bySegment.find((group) => group.label === label)?.effectivePrice ?? Number.NaN;
    expect(segment('coupon-seekers')).toBeLessThan(10);
    expect(segment('regulars')).toBeCloseTo(10, 9);
    expect(deep?.dispersion.maxMinRatio).toBeGreaterThan(1);
    expect(deep?.sensitive[0]?.etaSquared).toBeGreaterThan(0);
  });

  it('says what each arm chose, and the summary (version 3) fits its schema; versions 1 and 2 still read', () => {
    const horizon = 20;
    expect(rules.summary.schemaVersion).toBe(3);
    expect(rules.summary.coupons).toEqual({
      campaigns: ['1 off', '2.8 off', '5 off'],
      byArm: [
        { arm: 'none', campaignDays: { 'no coupon': 4 * horizon } },
        { arm: 'deep', campaignDays: { '2.8 off': 4 * horizon } },
        { arm: 'cheap', campaignDays: { 'no coupon': 4 * horizon } },
      ],
    });
    const summary = JSON.parse(JSON.stringify(rules.summary)) as Record<string, unknown>;
    expect(comparisonSummarySchema.safeParse(summary).success).toBe(true);
    const version2 = { ...summary };
    delete version2['coupons'];
    expect(comparisonSummarySchema.safeParse({ ...version2, schemaVersion: 2 }).success).toBe(true);
    expect(comparisonSummarySchema.safeParse({ ...summary, schemaVersion: 2, coupons: undefined }).success).toBe(true);
  });

  it('prints the coupons chosen per arm in the text output', () => {
    const lines = comparisonText(rules.summary, [], undefined).split('\n');
    expect(lines).toContain('coupons chosen (evaluation days, every seed and episode):');
    expect(lines.find((line) => line.startsWith('2.8 off '))?.split(/\s{2,}/)).toEqual(['2.8 off', '0', '80', '0']);
    expect(lines.find((line) => line.startsWith('no coupon '))?.split(/\s{2,}/)).toEqual(['no coupon', '80', '0', '80']);
  });

  it('writes the HTML report with the coupon choices and the coupon KPIs', async () => {
    const written = await writeReport(join(scratch, 'report.html'), rules.summary, rules.run.trajectories);
    const html = readFileSync(written.html, 'utf8');
    expect(html).toContain('<section id="coupons">');
    expect(html).toMatch(/<tr data-coupon-arm="deep"><td>deep<\/td>.*<td>80<\/td>/);
    expect(html).toContain('<td>couponCost</td>');
    expect(html).toContain('<section id="fairness">');
  });
});

describe('compare on a coupon scenario: learned arms', () => {
  it('trains a coupon learner per seed (tiny budget) and evaluates it on the common seeds; its fairness comes from its own choices', async () => {
    const outcome = await compare({
      scenario: scenarioFile,
      arms: ['none=none@10', 'q-learning'],
      seeds: 2,
      evaluationEpisodes: 1,
      trainingSteps: 60,
      curvePoints: 2,
      bootstrapResamples: 100,
    });
    const learner = outcome.summary.arms.find((arm) => arm.name === 'q-learning');
    expect(learner).toMatchObject({ source: 'agent', learns: true });
    expect(outcome.run.results.filter((result) => result.arm === 'q-learning').map((result) => result.trainedSteps)).toEqual([60, 60]);
    const days = outcome.summary.coupons?.byArm.find((entry) => entry.arm === 'q-learning')?.campaignDays ?? {};
    expect(Object.values(days).reduce((sum, value) => sum + value, 0)).toBe(2 * 20);
    expect(outcome.summary.kpis.find((kpi) => kpi.name === 'couponCost')?.byArm.map((entry) => entry.arm)).toEqual(['none', 'q-learning']);
    // The fairness units are the units the learner sold in evaluation (its own choices, not a replay).
    const units = seedKpis(outcome, 'q-learning').reduce((sum, kpis) => sum + (kpis.units ?? 0), 0);
    expect(outcome.summary.fairness?.byArm.find((entry) => entry.arm === 'q-learning')?.units).toBeCloseTo(units, 6);
  }, 120_000);

  it('plays a trained coupon artifact as it is: the KPIs of its greedy play by hand on the same seeds', async () => {
    const loaded = loadScenario(scenarioFile);
    const out = join(scratch, 'trained');
    const prepared = await prepareCouponTrainRun(loaded, { agent: 'q-learning', config: { gamma: 0 }, seed: 5, steps: 200, envs: 1, population: 1, exploringStarts: false, evalEpisodes: 1, keepBest: false } as unknown as Parameters<typeof prepareCouponTrainRun>[1]);
    const { policyFolder } = await prepared.run(out);
    const outcome = await compare({ scenario: scenarioFile, arms: ['none=none@10', `learned=${policyFolder}`], seeds: 2, evaluationEpisodes: 1, trainingSteps: 1, bootstrapResamples: 100 });
    expect(outcome.summary.arms.find((arm) => arm.name === 'learned')).toMatchObject({ source: 'artifact', learns: false, kind: 'q-learning' });
    const artifact = readArtifact(policyFolder);
    const env = new CouponEnv(couponChoiceScenario());
    const agent = await restoredAgentFor(env, { kind: artifact.manifest.agentKind, config: artifact.manifest.agentConfig, files: artifact.files }, 0);
    const expected = outcome.summary.seeds.map((seed) => evaluate(env, agent, { episodes: 1, seed: evaluationSeedOf(seed, 0) })[0]!.kpis);
    agent.dispose();
    seedKpis(outcome, 'learned').forEach((kpis, index) => {
      expect(kpis.profit).toBeCloseTo(expected[index]!.profit, 6);
      expect(kpis.couponCost).toBeCloseTo((expected[index] as unknown as { couponCost: number }).couponCost, 6);
    });
  }, 120_000);
});

describe('compare on a coupon scenario: refusals', () => {
  const refusal = async (options: Partial<Parameters<typeof compare>[0]>) => {
    try {
      await compare({ scenario: scenarioFile, arms: ['none', 'coupon:0'], seeds: 2, evaluationEpisodes: 1, trainingSteps: 1, ...options });
    } catch (error) {
      if (error instanceof PricelabError) return error;
      throw error;
    }
    throw new Error('expected a refusal');
  };

  // Guardrails are no longer refused here: they bound the price part (compare-coupon-guardrails.test.ts).
  it('refuses unknown campaigns, naming its place', async () => {
    const error = await refusal({ arms: ['none', 'coupon:9'] });
    expect(error.kind).toBe('config');
    expect(error.problems.map((problem) => problem.path.join('.'))).toEqual(expect.arrayContaining(['agents.1.policy']));
    expect(error.problems.find((problem) => problem.path[1] === 1)?.message).toContain('no campaign "9"');
  });

  it('refuses a rule that reads the day kernel (a rival-price follower) and an oracle, under their places', async () => {
    const error = await refusal({ arms: ['none', 'match', 'myopic-oracle'] });
    expect(error.problems.map((problem) => problem.path.slice(0, 2).join('.'))).toEqual(['agents.1', 'agents.2']);
    for (const problem of error.problems) expect(problem.message).toContain('cannot play the coupon market');
  });

  it('refuses a price-only policy artifact: it was not trained on a coupon scenario', async () => {
    const priceOnly = await trainedPolicyArtifact(scratch, { steps: 50 });
    priceOnly.agent.dispose();
    const error = await refusal({ arms: ['none', `price=${priceOnly.folder}`] });
    expect(error.problems.find((problem) => problem.path.join('.') === 'agents.1.action.coupons')?.message).toContain('found a price-only policy');
  }, 60_000);
});
