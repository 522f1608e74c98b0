/**
 * A learned coupon policy's fit to a coupon market: the observation features its artifact
 * declares (the coupon market's six, each in [0, 1] at scale 1), and why an artifact cannot play
 * a given coupon market (its features, prices or campaign menu differ). Shared by training
 * (coupon-train-run.ts), the fairness check (fairness-check.ts) and serving
 * (serving/served-policy.ts).
 */
import type { PolicyManifest } from '../agents/artifact.js';
import type { Problem } from '../core/errors.js';
import type { CouponEnv } from '../env/coupons/coupon-env.js';

/** The observation features a coupon policy's artifact declares: the env's names, each in [0, 1] at scale 1. */
export function couponObservationFeatures(env: CouponEnv): { name: string; scale: number; low: number; high: number }[] {
  const space = env.observationSpace;
  return space.featureNames.map((name, index) => ({ name, scale: space.scales[index] ?? 1, low: space.low[index] ?? 0, high: space.high[index] ?? 1 }));
}

/** Why a policy artifact cannot play `env`'s coupon market: its features, prices or campaign menu differ (empty when it fits). */
export function couponPolicyFitProblems(env: CouponEnv, manifest: PolicyManifest): Problem[] {
  const problems: Problem[] = [];
  const expected = env.observationSpace.featureNames;
  const found = manifest.observation.features.map((feature) => feature.name);
  if (expected.join('\n') !== found.join('\n')) problems.push({ path: ['observation', 'features'], message: `expected the coupon market's ${expected.length} features (${expected.join(', ')}), found ${found.length} (${found.join(', ')})` });
  const prices = [...env.prices];
  const ladder = manifest.action.ladder;
  if (ladder.length !== prices.length || ladder.some((price, index) => Math.abs(price - (prices[index] ?? Number.NaN)) > 1e-9)) problems.push({ path: ['action', 'ladder'], message: `expected the prices ${prices.join(', ')}, found ${ladder.join(', ')}` });
  const campaigns = env.menu.campaigns.map((campaign) => campaign.name);
  const menu = manifest.action.coupons?.campaigns.map((campaign) => campaign.name);
  if (menu === undefined) problems.push({ path: ['action', 'coupons'], message: 'expected a coupon policy (a campaign menu beside the ladder: trained on a coupon scenario), found a price-only policy' });
  else if (menu.join('\n') !== campaigns.join('\n')) problems.push({ path: ['action', 'coupons'], message: `expected the campaigns ${campaigns.join(', ')}, found ${menu.join(', ')}` });
  return problems;
}
