/**
 * A coupon scenario's dashboard arm (ui/server/coupon-arm.ts) and its policies
 * (ui/server/coupon-policy-source.ts), without a browser: "why?" explains the action over the
 * coupon market's actions; a price rule plays its price with no coupon; rules that read the day
 * kernel and price-only trained policies are refused with the reason.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PricelabError } from '../../core/errors.js';
import { buildMarketModel } from '../../env/model.js';
import { ServedPolicy } from '../../serving/served-policy.js';
import { CouponArm } from '../../ui/server/coupon-arm.js';
import { couponRuleDashboardPolicy, couponServedDashboardPolicy } from '../../ui/server/coupon-policy-source.js';
import { couponChoiceScenario } from '../agents/coupon-choice-market.js';
import { trainedPolicyArtifact } from '../fixtures/policy-artifact.js';

const folder = mkdtempSync(join(tmpdir(), 'pricelab-coupon-arm-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

async function armWith(spec: string): Promise<CouponArm> {
  const arm = new CouponArm(buildMarketModel(couponChoiceScenario()));
  arm.usePolicy(await couponRuleDashboardPolicy(spec, arm.env, 1));
  arm.reset(3);
  return arm;
}

describe('a coupon arm of the dashboard', () => {
  it('explains a day over the coupon market\'s actions: the ladder is each action\'s price, the choice the action played', async () => {
    const arm = await armWith('coupon:2@9');
    const points = [arm.step(), arm.step(), arm.step()];
    expect(points.map((point) => [point.coupon, point.price])).toEqual([['5 off', 9], ['5 off', 9], ['5 off', 9]]);
    const explained = arm.explain(1);
    expect(explained?.ladder).toEqual([9, 9, 9, 9, 10, 10, 10, 10]);
    expect(explained?.decision).toMatchObject({ kind: 'rule', chosen: 3 });
    expect(explained?.price).toBe(9);
    expect(arm.explain(5)).toBeUndefined();
    expect(arm.currentKpis.days).toBe(3);
    arm.dispose();
  });

  it('plays a price rule at its price with no coupon', async () => {
    const arm = await armWith('fixed:10');
    expect(arm.step()).toMatchObject({ price: 10, coupon: 'no coupon', couponCost: 0 });
    expect(arm.currentKpis).toMatchObject({ couponCost: 0, redemptionRate: 0 });
    arm.dispose();
  });

  it('refuses a rule that reads the day kernel (rival prices), and a price-only trained policy', async () => {
    await expect(armWith('match')).rejects.toBeInstanceOf(PricelabError);
    const priceOnly = await trainedPolicyArtifact(folder, { steps: 50 });
    priceOnly.agent.dispose();
    const served = await ServedPolicy.load(priceOnly.folder);
    try {
      expect(() => couponServedDashboardPolicy('artifact:x', served, { id: 'coupon-choice-known-answer-v1', contentHash: 'x' })).toThrow(/found a price-only policy/);
    } finally {
      served.dispose();
    }
  }, 60_000);
});
