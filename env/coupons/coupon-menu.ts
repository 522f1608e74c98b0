/**
 * The coupon action menu as data: what a policy artifact declares beside its price ladder, so a
 * served action names its price and its coupon without the simulator.
 *
 * An action index a of the coupon market (env/coupons/coupon-market.ts) is
 *   a = priceIndex x (campaigns + 1) + (campaign + 1),   campaign -1 = no coupon;
 * the ladder is the prices (one per priceIndex), the menu the campaigns in scenario order.
 * Each campaign is described by its name, kind, depth (the amount off for a threshold coupon,
 * the percent off for a percentage one), its threshold (spend X), stacking, cap, validity and
 * the behaviour stages it is offered to (all four: the same offer for everyone).
 */
import { z } from 'zod';
import { customerStages } from '../../scenarios/coupons.js';
import { KIND_THRESHOLD, STAGE_COUNT, type CouponModel } from './coupon-model.js';

export const couponCampaignDescriptionSchema = z.strictObject({
  name: z.string().min(1).describe("the campaign's name in the scenario"),
  kind: z.enum(['threshold', 'percentage']).describe('threshold: spend X, save Y; percentage: a share of the order off, capped'),
  depth: z.number().positive().describe('the amount off (threshold) or the percent off (percentage)'),
  spend: z.number().min(0).nullable().describe('threshold X: the order value the coupon needs (0: a plain amount off); null for a percentage coupon'),
  stacking: z.enum(['once', 'every']).nullable().describe('threshold: once, or Y off for every full X; null for a percentage coupon'),
  cap: z.number().positive().nullable().describe('percentage: the most one order saves; null for a threshold coupon'),
  validityDays: z.number().int().positive().describe('days a claimed coupon can be redeemed'),
  stages: z.array(z.enum(customerStages)).min(1).describe('the behaviour stages offered the coupon (all four: offered to everyone)'),
});
export type CouponCampaignDescription = z.output<typeof couponCampaignDescriptionSchema>;

export const couponMenuSchema = z
  .strictObject({
    campaigns: z.array(couponCampaignDescriptionSchema).min(1).describe('the campaigns, in scenario order'),
    layout: z.literal('price-major').describe('action = priceIndex x (campaigns + 1) + (campaign + 1), campaign -1 being no coupon'),
  })
  .describe('a coupon policy: every action is a price of the ladder and a coupon choice');
export type CouponMenu = z.output<typeof couponMenuSchema>;

/** One action's price and coupon (null: no coupon). */
export interface CouponChoice {
  readonly priceIndex: number;
  /** -1: no coupon. */
  readonly campaign: number;
  readonly coupon: CouponCampaignDescription | null;
}

/** The menu of a coupon model's campaigns. */
export function couponMenuOf(model: CouponModel): CouponMenu {
  const campaigns = model.campaignNames.map((name, index): CouponCampaignDescription => {
    const mask = model.stageMask[index] ?? 0;
    const stages = customerStages.filter((_, stage) => stage < STAGE_COUNT && (mask & (1 << stage)) !== 0);
    const threshold = model.kind[index] === KIND_THRESHOLD;
    return {
      name,
      kind: threshold ? 'threshold' : 'percentage',
      depth: threshold ? (model.save[index] ?? 0) : Math.round((model.fraction[index] ?? 0) * 100 * 1e9) / 1e9,
      spend: threshold ? (model.spend[index] ?? 0) : null,
      stacking: threshold ? (model.stackEvery[index] === 1 ? 'every' : 'once') : null,
      cap: threshold ? null : (model.faceValue[index] ?? 0),
      validityDays: model.validityDays[index] ?? 1,
      stages,
    };
  });
  return { campaigns, layout: 'price-major' };
}

/** The price index and coupon of action `action` under `menu`. */
export function couponChoiceOf(menu: CouponMenu, action: number): CouponChoice {
  const width = menu.campaigns.length + 1;
  const campaign = (action % width) - 1;
  return { priceIndex: Math.floor(action / width), campaign, coupon: campaign < 0 ? null : (menu.campaigns[campaign] ?? null) };
}

/** Actions of a menu over `prices` prices. */
export function couponActionCount(menu: CouponMenu, prices: number): number {
  return prices * (menu.campaigns.length + 1);
}

/** The customer features a menu can target on: "stage" when some campaign is offered to some stages only. */
export function targetedFeaturesOf(menu: CouponMenu): string[] {
  return menu.campaigns.some((campaign) => campaign.stages.length < customerStages.length) ? ['stage'] : [];
}

/** "50 off every 300", "10% off up to 40": a campaign's terms in words. */
export function couponTerms(campaign: CouponCampaignDescription): string {
  if (campaign.kind === 'percentage') return `${campaign.depth}% off, up to ${campaign.cap ?? '?'}`;
  if (!campaign.spend) return `${campaign.depth} off`;
  return `${campaign.depth} off ${campaign.stacking === 'every' ? 'every' : 'an order of'} ${campaign.spend}`;
}
