/**
 * The fairness report: who pays what after coupons. Pure functions of price cells, each a set
 * of units that paid one effective price: a (segment, stage) group split into the units bought
 * with a coupon and those bought without (`cellsFromCouponSteps`), or any finer split.
 *
 *   effective price   paid / units, after coupons (units-weighted wherever cells are pooled)
 *   by segment, by stage, by (segment, stage) group (by segment alone in a market without
 *                     stages: `stages: false`, what a comparison of price-only arms uses)
 *   dispersion        across groups with at least `minUnits` units: the units-weighted
 *                     standard deviation of the group prices, its coefficient of variation
 *                     (sd / mean), and the max/min ratio with the groups that set it
 *   sensitive share   per sensitive attribute of the scenario (an income band...): the share of
 *                     the effective price's variance across units that the attribute explains,
 *                     eta^2 = SS_between(levels) / SS_total, each unit counted at its cell's
 *                     price (one-way ANOVA, weighted by units; for a categorical predictor eta^2
 *                     is the R^2 of the regression of price on the level indicators). 0 when
 *                     every unit paid the same.
 *
 * Hand-worked cases in tests/experiments/fairness.test.ts. The limits: the report measures
 * outcomes in the simulator, by the attributes the scenario declares; it does not see proxies
 * the scenario does not model, and it is an aid, not legal advice (docs/responsible-pricing.md).
 */
import { customerStages } from '../scenarios/coupons.js';
import type { CouponStepInfo } from '../env/coupons/coupon-market.js';

export interface PriceCell {
  readonly segment: string;
  readonly stage: string;
  /** The segment's attributes (sensitive or not), e.g. {incomeBand: "low"}. */
  readonly attributes: Readonly<Record<string, string>>;
  readonly units: number;
  /** Total paid for those units, after coupons. */
  readonly paid: number;
}

export interface PricedGroup {
  readonly label: string;
  readonly units: number;
  /** paid / units; null when no unit was sold. */
  readonly effectivePrice: number | null;
}

export interface SensitiveShare {
  readonly attribute: string;
  /** eta^2 in [0, 1]. */
  readonly etaSquared: number;
  readonly byLevel: readonly PricedGroup[];
}

export interface FairnessReport {
  readonly units: number;
  readonly meanEffectivePrice: number | null;
  readonly bySegment: readonly PricedGroup[];
  readonly byStage: readonly PricedGroup[];
  readonly byGroup: readonly PricedGroup[];
  readonly dispersion: {
    /** Groups with at least minUnits units, over which the figures below are taken. */
    readonly groups: number;
    readonly minUnits: number;
    readonly standardDeviation: number;
    readonly coefficientOfVariation: number;
    /** Highest over lowest group price (1 with fewer than two groups). */
    readonly maxMinRatio: number;
    readonly highest: string | null;
    readonly lowest: string | null;
  };
  readonly sensitive: readonly SensitiveShare[];
}

function pool(cells: readonly PriceCell[], labelOf: (cell: PriceCell) => string, order?: readonly string[]): PricedGroup[] {
  const totals = new Map<string, { units: number; paid: number }>();
  for (const label of order ?? []) totals.set(label, { units: 0, paid: 0 });
  for (const cell of cells) {
    const label = labelOf(cell);
    const total = totals.get(label) ?? { units: 0, paid: 0 };
    total.units += cell.units;
    total.paid += cell.paid;
    totals.set(label, total);
  }
  return [...totals].map(([label, total]) => ({ label, units: total.units, effectivePrice: total.units > 0 ? total.paid / total.units : null }));
}

/**
 * The fairness report of price cells; `sensitiveAttributes` names the attributes whose explained
 * share is measured. `stages: false` (a market without behaviour stages: every cell's stage is
 * ignored) groups by segment alone: byStage is empty and byGroup is bySegment.
 */
export function fairnessReport(cells: readonly PriceCell[], options: { sensitiveAttributes?: readonly string[]; minUnits?: number; stages?: boolean } = {}): FairnessReport {
  const minUnits = options.minUnits ?? 1;
  const withStages = options.stages ?? true;
  const units = cells.reduce((sum, cell) => sum + cell.units, 0);
  const paid = cells.reduce((sum, cell) => sum + cell.paid, 0);
  const mean = units > 0 ? paid / units : null;
  const bySegment = pool(cells, (cell) => cell.segment);
  const byGroup = withStages ? pool(cells, (cell) => `${cell.segment}/${cell.stage}`) : bySegment;
  const counted = byGroup.filter((group): group is PricedGroup & { effectivePrice: number } => group.effectivePrice !== null && group.units >= minUnits);
  const countedUnits = counted.reduce((sum, group) => sum + group.units, 0);
  const countedMean = countedUnits > 0 ? counted.reduce((sum, group) => sum + group.units * group.effectivePrice, 0) / countedUnits : 0;
  const variance = countedUnits > 0 ? counted.reduce((sum, group) => sum + group.units * (group.effectivePrice - countedMean) ** 2, 0) / countedUnits : 0;
  const highest = counted.reduce<(typeof counted)[number] | undefined>((best, group) => (best === undefined || group.effectivePrice > best.effectivePrice ? group : best), undefined);
  const lowest = counted.reduce<(typeof counted)[number] | undefined>((best, group) => (best === undefined || group.effectivePrice < best.effectivePrice ? group : best), undefined);
  const standardDeviation = Math.sqrt(variance);
  return {
    units,
    meanEffectivePrice: mean,
    bySegment,
    byStage: withStages ? pool(cells, (cell) => cell.stage, customerStages) : [],
    byGroup,
    dispersion: {
      groups: counted.length,
      minUnits,
      standardDeviation,
      coefficientOfVariation: countedMean > 0 ? standardDeviation / countedMean : 0,
      maxMinRatio: highest && lowest && counted.length >= 2 && lowest.effectivePrice > 0 ? highest.effectivePrice / lowest.effectivePrice : 1,
      highest: counted.length >= 2 ? (highest?.label ?? null) : null,
      lowest: counted.length >= 2 ? (lowest?.label ?? null) : null,
    },
    sensitive: (options.sensitiveAttributes ?? []).map((attribute) => sensitiveShare(cells, attribute)),
  };
}

/** eta^2 of the effective price by the levels of `attribute` (cells without it form the level "(none)"). */
export function sensitiveShare(cells: readonly PriceCell[], attribute: string): SensitiveShare {
  const priced = cells.filter((cell) => cell.units > 0);
  const units = priced.reduce((sum, cell) => sum + cell.units, 0);
  const levelOf = (cell: PriceCell) => (Object.hasOwn(cell.attributes, attribute) ? (cell.attributes[attribute] ?? '(none)') : '(none)');
  const byLevel = pool(cells, levelOf);
  if (!(units > 0)) return { attribute, etaSquared: 0, byLevel };
  const mean = priced.reduce((sum, cell) => sum + cell.paid, 0) / units;
  const total = priced.reduce((sum, cell) => sum + cell.units * (cell.paid / cell.units - mean) ** 2, 0);
  const between = byLevel.reduce((sum, level) => sum + (level.effectivePrice === null ? 0 : level.units * (level.effectivePrice - mean) ** 2), 0);
  // Below rounding noise, every unit paid the same: nothing to explain.
  const etaSquared = total > 1e-12 * units * Math.max(1, mean * mean) ? Math.min(1, Math.max(0, between / total)) : 0;
  return { attribute, etaSquared, byLevel };
}

/**
 * Price cells from the coupon market's step infos (env/coupons/coupon-market.ts): per
 * (segment, stage), the units bought with a coupon and those bought without, summed over the
 * steps. `attributes` per segment name comes from the scenario's coupons block.
 */
export function cellsFromCouponSteps(steps: readonly CouponStepInfo[], attributes: Readonly<Record<string, Readonly<Record<string, string>>>>): PriceCell[] {
  const cells = new Map<string, { segment: string; stage: string; coupon: boolean; units: number; paid: number }>();
  const add = (segment: string, stage: string, coupon: boolean, units: number, paid: number) => {
    const key = `${segment}\u0000${stage}\u0000${coupon ? 1 : 0}`;
    const cell = cells.get(key) ?? { segment, stage, coupon, units: 0, paid: 0 };
    cell.units += units;
    cell.paid += paid;
    cells.set(key, cell);
  };
  for (const step of steps) {
    for (const group of step.groups) {
      const plainUnits = group.units - group.couponUnits;
      add(group.segment, group.stage, false, plainUnits, plainUnits * step.price);
      add(group.segment, group.stage, true, group.couponUnits, group.couponUnits * step.price - group.discount);
    }
  }
  return [...cells.values()].map((cell) => ({ segment: cell.segment, stage: cell.stage, attributes: Object.hasOwn(attributes, cell.segment) ? (attributes[cell.segment] ?? {}) : {}, units: cell.units, paid: cell.paid }));
}

export interface CouponPolicyFairness {
  readonly report: FairnessReport;
  /** The customer features the policy's coupons targeted on: "stage" when a chosen campaign was offered to some stages only. */
  readonly targetedFeatures: readonly string[];
  /** Days each action menu entry (by campaign name, "no coupon" included) was chosen. */
  readonly campaignDays: Readonly<Record<string, number>>;
}

/**
 * The fairness report of a coupon policy on a coupon scenario: `choose` picks each day's action
 * index from the observation; episodes of `days` days on each seed, pooled.
 */
export function couponPolicyFairness(
  env: { reset(options: { seed: number }): { observation: Float32Array }; step(action: number): { observation: Float32Array; info: CouponStepInfo }; readonly model: { readonly segmentNames: readonly string[]; readonly segmentAttributes: readonly Readonly<Record<string, string>>[]; readonly sensitiveAttributes: readonly string[]; readonly campaignNames: readonly string[]; readonly stageMask: Uint8Array } },
  choose: (observation: Float32Array) => number,
  options: { seeds: readonly number[]; days: number; minUnits?: number },
): CouponPolicyFairness {
  const steps: CouponStepInfo[] = [];
  const campaignDays: Record<string, number> = {};
  const targeted = new Set<string>();
  const allStages = (1 << customerStages.length) - 1;
  for (const seed of options.seeds) {
    let { observation } = env.reset({ seed });
    for (let day = 0; day < options.days; day++) {
      const step = env.step(choose(observation));
      steps.push(step.info);
      campaignDays[step.info.campaignName] = (campaignDays[step.info.campaignName] ?? 0) + 1;
      if (step.info.campaign >= 0 && (env.model.stageMask[step.info.campaign] ?? allStages) !== allStages) targeted.add('stage');
      observation = step.observation;
    }
  }
  const attributes = Object.fromEntries(env.model.segmentNames.map((name, index) => [name, env.model.segmentAttributes[index] ?? {}]));
  return {
    report: fairnessReport(cellsFromCouponSteps(steps, attributes), { sensitiveAttributes: env.model.sensitiveAttributes, ...(options.minUnits !== undefined ? { minUnits: options.minUnits } : {}) }),
    targetedFeatures: [...targeted],
    campaignDays,
  };
}
