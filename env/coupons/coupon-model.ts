/**
 * The coupon model's tables: a scenario's `coupons` block (scenarios/coupons.ts) and its logit
 * demand turned into flat typed arrays, once, for the coupon stages of env/coupons/.
 *
 * What it models: a fixed customer base per demand segment, split by behaviour stage (new,
 * hesitant, repeat, lapsed; env/coupons/stage-transitions.ts), who visit with a probability
 * per stage, may claim the day's coupon when their stage is targeted, and buy an order of k
 * units (k from the segment's basket-size distribution) by the segment's logit choice on the
 * per-unit price they would pay (docs/market-model.md, "Coupons").
 *
 * Parameters (units): prices and amounts in currency; visit rates per day; lapse and
 * replacement as mean days (a daily probability of 1 / days); basket probabilities per k.
 * Campaign codes: kind 0 threshold (spend X, save Y, once or for every X), 1 percentage
 * (percent of the order, capped). A campaign's face value is the most one order can save:
 * Y (once), Y x floor(K x maxPrice / X) (every; K the largest basket), the cap (percentage);
 * a claim reserves it against the budget, and no order saves more (env/coupons/order-odds.ts).
 * Demand: segment s's quality, price sensitivity b_s and scale mu_s, and the outside
 * utility, from env/model.ts; the utility is env/day/demand.ts's `utility` (no reference
 * effect, no rivals: the coupon market is one shop; the day kernel can add them later).
 */
import { configError } from '../../core/errors.js';
import { customerStages, type CouponsConfig } from '../../scenarios/coupons.js';
import type { Scenario } from '../../scenarios/schema.js';
import type { SegmentModel } from '../model.js';

export const STAGE_COUNT = customerStages.length;
export const STAGE_NEW = 0;
export const STAGE_HESITANT = 1;
export const STAGE_REPEAT = 2;
export const STAGE_LAPSED = 3;

export const KIND_THRESHOLD = 0;
export const KIND_PERCENTAGE = 1;

export interface CouponModel {
  readonly segmentCount: number;
  readonly campaignCount: number;
  /** Largest basket size K (orders hold 1..K units). */
  readonly basketMax: number;
  /** The longest validity of any campaign: the wallet's ring length in days. */
  readonly maxValidityDays: number;
  readonly segments: readonly SegmentModel[];
  readonly segmentNames: readonly string[];
  readonly segmentAttributes: readonly Readonly<Record<string, string>>[];
  readonly sensitiveAttributes: readonly string[];
  readonly quality: number;
  readonly outsideUtility: number;
  readonly unitCost: number;
  /** Customers per segment. */
  readonly population: Float64Array;
  /** initialStageShare[segment * 4 + stage], normalised per segment. */
  readonly initialStageShare: Float64Array;
  /** basket[segment * basketMax + (k - 1)] = P(k units), normalised per segment. */
  readonly basket: Float64Array;
  readonly claimRate: Float64Array;
  /** Daily visit probability per stage. */
  readonly visitRate: Float64Array;
  /** Daily probabilities: repeat -> lapsed, hesitant -> lapsed (non-visitors), lapsed -> new (replacement). */
  readonly repeatLapse: number;
  readonly hesitantLapse: number;
  readonly replacement: number;
  readonly campaignNames: readonly string[];
  readonly kind: Uint8Array;
  readonly spend: Float64Array;
  readonly save: Float64Array;
  /** 1: Y off for every full X spent. */
  readonly stackEvery: Uint8Array;
  /** Percentage as a fraction (0.1 for 10%). */
  readonly fraction: Float64Array;
  readonly faceValue: Float64Array;
  readonly validityDays: Int32Array;
  /** Bit `stage` set when the campaign is offered to that stage. */
  readonly stageMask: Uint8Array;
  /** Budget per period (Infinity: none). */
  readonly budget: number;
  readonly budgetPeriodDays: number;
  readonly deterministic: boolean;
}

/** The coupon tables for `scenario` (which must have logit demand and a coupons block); `maxPrice` bounds the face value of stacking coupons. */
export function buildCouponModel(scenario: Scenario, segments: readonly SegmentModel[], maxPrice: number): CouponModel {
  const coupons: CouponsConfig | undefined = scenario.coupons;
  const demand = scenario.demand;
  if (!coupons || demand.kind !== 'logit') throw configError(`scenario ${scenario.id} has no coupon market`, [{ path: ['coupons'], message: 'expected a coupons block with logit demand' }]);
  const segmentNames = demand.segments.map((segment) => segment.name);
  const customers = segmentNames.map((name) => {
    const entry = Object.hasOwn(coupons.customers, name) ? coupons.customers[name] : undefined;
    if (!entry) throw configError(`scenario ${scenario.id}: coupons`, [{ path: ['coupons', 'customers'], message: `expected an entry for demand segment "${name}", found none` }]);
    return entry;
  });
  const segmentCount = segmentNames.length;
  const basketMax = Math.max(...customers.map((entry) => entry.basketUnits.length));
  const basket = new Float64Array(segmentCount * basketMax);
  const initialStageShare = new Float64Array(segmentCount * STAGE_COUNT);
  customers.forEach((entry, segment) => {
    const total = entry.basketUnits.reduce((sum, value) => sum + value, 0);
    if (!(total > 0)) throw configError(`scenario ${scenario.id}: coupons`, [{ path: ['coupons', 'customers', segmentNames[segment]!, 'basketUnits'], message: 'expected some probability above 0, found all 0' }]);
    entry.basketUnits.forEach((value, index) => (basket[segment * basketMax + index] = value / total));
    const shares = customerStages.map((stage) => entry.initialStages[stage]);
    const stageTotal = shares.reduce((sum, value) => sum + value, 0);
    if (!(stageTotal > 0)) throw configError(`scenario ${scenario.id}: coupons`, [{ path: ['coupons', 'customers', segmentNames[segment]!, 'initialStages'], message: 'expected some share above 0, found all 0' }]);
    shares.forEach((value, stage) => (initialStageShare[segment * STAGE_COUNT + stage] = value / stageTotal));
  });
  const campaigns = coupons.campaigns;
  const faceValue = Float64Array.from(campaigns, (campaign) => {
    if (campaign.kind === 'percentage') return campaign.cap;
    if (campaign.stacking === 'once' || campaign.spend === 0) return campaign.save;
    return campaign.save * Math.max(1, Math.floor((basketMax * maxPrice) / campaign.spend));
  });
  return {
    segmentCount,
    campaignCount: campaigns.length,
    basketMax,
    maxValidityDays: Math.max(...campaigns.map((campaign) => campaign.validityDays)),
    segments,
    segmentNames,
    segmentAttributes: customers.map((entry) => entry.attributes),
    sensitiveAttributes: coupons.sensitiveAttributes,
    quality: demand.quality,
    outsideUtility: demand.outsideUtility,
    unitCost: scenario.unitCost,
    population: Float64Array.from(customers, (entry) => entry.population),
    initialStageShare,
    basket,
    claimRate: Float64Array.from(customers, (entry) => entry.claimRate),
    visitRate: Float64Array.from(customerStages, (stage) => coupons.visitRate[stage]),
    repeatLapse: 1 / coupons.repeatLapseDays,
    hesitantLapse: 1 / coupons.hesitantLapseDays,
    replacement: 1 / coupons.replacementDays,
    campaignNames: campaigns.map((campaign) => campaign.name),
    kind: Uint8Array.from(campaigns, (campaign) => (campaign.kind === 'threshold' ? KIND_THRESHOLD : KIND_PERCENTAGE)),
    spend: Float64Array.from(campaigns, (campaign) => (campaign.kind === 'threshold' ? campaign.spend : 0)),
    save: Float64Array.from(campaigns, (campaign) => (campaign.kind === 'threshold' ? campaign.save : 0)),
    stackEvery: Uint8Array.from(campaigns, (campaign) => (campaign.kind === 'threshold' && campaign.stacking === 'every' ? 1 : 0)),
    fraction: Float64Array.from(campaigns, (campaign) => (campaign.kind === 'percentage' ? campaign.percent / 100 : 0)),
    faceValue,
    validityDays: Int32Array.from(campaigns, (campaign) => campaign.validityDays),
    stageMask: Uint8Array.from(campaigns, (campaign) => campaign.stages.reduce((mask, stage) => mask | (1 << customerStages.indexOf(stage)), 0)),
    budget: coupons.budget?.amount ?? Number.POSITIVE_INFINITY,
    budgetPeriodDays: coupons.budget?.periodDays ?? 1,
    deterministic: scenario.deterministic,
  };
}
