/**
 * `pricelab bench coupons` (experiments/bench-coupon-speed.ts): every row measured for this
 * build and for a baseline build, with the reference in the same run; a baseline folder
 * that is not a build is refused, naming the option. Figures are not asserted (a benchmark).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { benchCouponSpeed } from '../../experiments/bench-coupon-speed.js';

describe('benchCouponSpeed', () => {
  it('measures the coupon day, in lockstep, behind the Env contract and the vector env, beside MarketEnv.step', async () => {
    const result = await benchCouponSpeed({ markets: 4, seconds: 0.02, rounds: 1 });
    expect(result.benchmark).toBe('coupons');
    expect(result.scenario).toBe('festival-coupon-v1');
    expect(result.reference.rate.perSecond).toBeGreaterThan(0);
    expect(result.builds).toHaveLength(1);
    const build = result.builds[0]!;
    for (const rate of [build.couponDay, build.couponDayVector, build.couponEnv, build.couponVector!]) {
      expect(rate.perSecond).toBeGreaterThan(0);
      expect(rate.samples).toHaveLength(1);
    }
    expect(result.loadAverage.before).toHaveLength(3);
  });

  it('refuses a baseline folder that holds no build', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'pricelab-bench-coupons-'));
    try {
      await expect(benchCouponSpeed({ markets: 2, seconds: 0.01, rounds: 1, baseline: folder })).rejects.toMatchObject({ kind: 'config', problems: [{ path: ['baseline'] }] });
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
