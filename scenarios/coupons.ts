/**
 * The optional `coupons` block of a scenario: the customer base by behaviour stage, the
 * coupon campaigns a policy may run, the coupon budget and the attributes a fairness report
 * may not let explain prices. Read by the coupon stages of env/coupons/ (the model:
 * docs/market-model.md, "Coupons"); absent, a scenario has no coupons and nothing changes.
 *
 * Segments are named as in `demand.segments` (logit demand only); `couponProblems` checks the
 * names across the two blocks and is called from the scenario's cross-section refinement.
 */
import { z } from 'zod';
import type { Problem } from '../core/errors.js';

/** Behaviour stages, in their fixed order (the index is the stage's slot in every array). */
export const customerStages = ['new', 'hesitant', 'repeat', 'lapsed'] as const;
export type CustomerStage = (typeof customerStages)[number];

const share = z.number().min(0).max(1);
const amount = z.number().min(0).max(1e6, { error: (issue) => `expected an amount of at most 1000000, found ${String(issue.input)}` });
const days = z.number().int().min(1).max(365, { error: (issue) => `expected at most 365 days, found ${String(issue.input)}` });
const stageShares = z
  .strictObject({ new: share, hesitant: share, repeat: share, lapsed: share })
  .describe('one value per behaviour stage: new, hesitant, repeat, lapsed');

const campaignBase = {
  name: z.string().min(1).describe('shown in reports and in the action menu'),
  validityDays: days.default(7).describe('a claimed coupon can be redeemed on the claim day and the next validityDays - 1 days, then it expires'),
  stages: z.array(z.enum(customerStages)).min(1).default([...customerStages]).describe('the behaviour stages offered the coupon (all: a festival coupon; some: a targeted one)'),
};

export const couponCampaignSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({
      kind: z.literal('threshold'),
      ...campaignBase,
      spend: amount.describe('X: the order value (units x price) at which the coupon applies; 0 makes it a plain amount off'),
      save: amount.refine((value) => value > 0, { message: 'expected a saving above 0' }).describe('Y: the amount taken off a qualifying order'),
      stacking: z.enum(['once', 'every']).default('once').describe('"once": Y off an order of at least X; "every": Y off for every full X spent (50 off every 300)'),
    }),
    z.strictObject({
      kind: z.literal('percentage'),
      ...campaignBase,
      percent: z.number().gt(0).max(100).describe('share of the order value taken off, in percent'),
      cap: amount.refine((value) => value > 0, { message: 'expected a cap above 0' }).describe('the most one order can save (it bounds the budget a claim reserves)'),
    }),
  ],
  { error: (issue) => (issue.code === 'invalid_union' ? 'expected a campaign with kind "threshold" or "percentage"' : undefined) },
);
export type CouponCampaign = z.output<typeof couponCampaignSchema>;

export const couponCustomersSchema = z.strictObject({
  population: z.number().int().min(0).max(1e9, { error: (issue) => `expected at most 1e9 customers, found ${String(issue.input)}` }).describe('customers of this segment in the base (fixed: stages move them, nothing adds or removes them)'),
  initialStages: stageShares.default({ new: 1, hesitant: 0, repeat: 0, lapsed: 0 }).describe('share of the population in each stage at reset (normalised)'),
  basketUnits: z.array(share).min(1).max(50).default([1]).describe('P(an order holds k units), k = 1, 2, ...: the basket-size distribution (normalised)'),
  claimRate: share.default(0.3).describe('share of offered visitors who claim the coupon'),
  attributes: z.record(z.string(), z.string()).default({}).describe('attributes of the segment for the fairness report (e.g. {"incomeBand": "low"}); never seen by a policy'),
});
export type CouponCustomers = z.output<typeof couponCustomersSchema>;

export const couponsSchema = z
  .strictObject({
    customers: z.record(z.string(), couponCustomersSchema).describe('per demand segment (by name): its customer base'),
    visitRate: stageShares.default({ new: 0.05, hesitant: 0.08, repeat: 0.06, lapsed: 0.01 }).describe('daily probability that a customer of each stage visits the shop'),
    repeatLapseDays: z.number().min(1).max(3650).default(90).describe('mean days a repeat buyer stays active without visiting: each non-visiting day one leaves for lapsed with probability 1/repeatLapseDays'),
    hesitantLapseDays: z.number().min(1).max(3650).default(30).describe('as repeatLapseDays, for hesitant customers'),
    replacementDays: z.number().min(1).max(36500).default(365).describe('a lapsed customer is replaced by a new one with probability 1/replacementDays a day (the base stays the same size)'),
    campaigns: z.array(couponCampaignSchema).min(1).max(16).describe('the coupons a policy may run, one a day (the action menu adds "no coupon")'),
    budget: z
      .strictObject({
        amount: amount.describe('the most coupons may cost in a period: spent plus what outstanding claims could still cost'),
        periodDays: days.default(7).describe('length of a budget period; spending restarts at 0 each period'),
      })
      .optional()
      .describe('absent: no budget limit'),
    sensitiveAttributes: z.array(z.string().min(1)).default([]).describe('attribute names (in customers.*.attributes) that must not explain prices: the fairness report measures how much they do'),
  })
  .describe('coupons, behaviour stages and the coupon budget (docs/market-model.md, "Coupons")');
export type CouponsConfig = z.output<typeof couponsSchema>;

/**
 * Problems across the coupons block and the rest of the scenario, from the raw (possibly
 * invalid) scenario value: coupons need logit demand, and every segment named under
 * coupons.customers must be a demand segment and vice versa.
 */
export function couponProblems(raw: Record<string, unknown>): Problem[] {
  const coupons = raw.coupons;
  if (typeof coupons !== 'object' || coupons === null) return [];
  const demand = raw.demand as { kind?: unknown; segments?: unknown } | undefined;
  if (demand?.kind !== 'logit') return [{ path: ['coupons'], message: `expected logit demand with coupons (the coupon model acts on logit segments), found ${String(demand?.kind)} demand` }];
  const segmentNames = Array.isArray(demand.segments) ? demand.segments.map((segment: unknown) => (segment as { name?: unknown } | null)?.name).filter((name): name is string => typeof name === 'string') : [];
  const customers = (coupons as { customers?: unknown }).customers;
  if (typeof customers !== 'object' || customers === null) return [];
  const problems: Problem[] = [];
  for (const name of Object.keys(customers)) {
    if (!segmentNames.includes(name)) problems.push({ path: ['coupons', 'customers', name], message: `expected a demand segment (${segmentNames.join(', ')}), found "${name}"` });
  }
  for (const name of segmentNames) {
    if (!Object.hasOwn(customers, name)) problems.push({ path: ['coupons', 'customers'], message: `expected an entry for demand segment "${name}", found none` });
  }
  const sensitive = (coupons as { sensitiveAttributes?: unknown }).sensitiveAttributes;
  if (Array.isArray(sensitive)) {
    const known = new Set(Object.values(customers).flatMap((entry: unknown) => Object.keys((entry as { attributes?: Record<string, unknown> } | null)?.attributes ?? {})));
    sensitive.forEach((attribute: unknown, index) => {
      if (typeof attribute === 'string' && !known.has(attribute)) problems.push({ path: ['coupons', 'sensitiveAttributes', index], message: `expected an attribute some segment declares (${[...known].join(', ') || 'none declared'}), found "${attribute}"` });
    });
  }
  return problems;
}
