import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { benchCouponLearning, benchTargetedCoupons, expectedArmValues, knownAnswerDepths } from '../../experiments/bench-coupons.js';
import { builtInScenarioFolder, loadScenario } from '../../scenarios/load.js';
import { optimalCouponDepth } from '../../env/coupons/optimal-depth.js';

describe('coupon learning benchmark (a pass rate over seeds, not a pinned seed)', () => {
  it("ranks the known-answer market's menu with the depth nearest the closed form first", () => {
    const values = expectedArmValues();
    const best = values.indexOf(Math.max(...values));
    const closedForm = optimalCouponDepth({ listPrice: 10, unitCost: 4, quality: 8, outsideUtility: 0, priceSensitivity: 1, scale: 1 });
    const nearest = knownAnswerDepths.reduce((chosen, depth, index) => (Math.abs(depth - closedForm) < Math.abs((knownAnswerDepths[chosen] ?? 0) - closedForm) ? index : chosen), 0);
    expect(best).toBe(nearest + 1); // action 0 is "no coupon"
  });

  it('bandits find the better coupon depth on most of 20 seeds; untrained, they never do', async () => {
    const result = await benchCouponLearning({ agents: ['ucb1', 'thompson', 'linucb'], days: 200 });
    for (const agent of result.agents) expect(agent.passRate.low, `${agent.agent}: ${JSON.stringify(agent.passRate)}`).toBeGreaterThan(0.5);
    const control = await benchCouponLearning({ agents: ['ucb1'], days: 0 });
    expect(control.agents[0]?.passRate.passes).toBe(0);
  });
});

describe('targeted-coupon benchmark (figures, no known answer)', () => {
  it('evaluates every fixed campaign, UCB1 and LinUCB on the stage shares on common seeds', async () => {
    const scenario = loadScenario(join(builtInScenarioFolder, 'coupons', 'targeted-coupon-v1.json')).scenario;
    const results = await benchTargetedCoupons(scenario, { seeds: [1, 2], trainDays: 30, evaluationDays: 20 });
    expect(results.map((result) => result.arm)).toEqual(['no coupon', 'fixed: 4 off a first order', 'fixed: 15% off for hesitant visitors', 'fixed: 6 off a win-back order', 'fixed: 5% for repeat buyers', 'fixed: 3 off 40 for everyone', 'UCB1', 'LinUCB on stage shares']);
    for (const result of results) expect(result.perSeed.every(Number.isFinite)).toBe(true);
    // Common random numbers: the same arm on the same seeds gives the same figures.
    const again = await benchTargetedCoupons(scenario, { seeds: [1, 2], trainDays: 30, evaluationDays: 20 });
    expect(again.map((result) => result.perSeed)).toEqual(results.map((result) => result.perSeed));
  });
});
