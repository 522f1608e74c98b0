/**
 * The fairness section of a comparison (issue 18, "A fairness guard"): for every arm, who paid
 * what in its evaluation episodes, measured as experiments/fairness.ts measures it (effective
 * price by group, its dispersion and max/min ratio, the share of its variance a sensitive
 * attribute explains).
 *
 *   price-only market   the effective price paid is the posted price: each day's units by
 *                       segment (StepInfo.market.segments, i.e. MarketSimulation.segmentUnits())
 *                       at that day's price, pooled into one cell per (segment, price). Groups
 *                       are segments. A market without segments is one group, "all customers".
 *   coupon scenario     (a `coupons` block): the arms play the coupon market
 *                       (env/coupons/coupon-env.ts), choosing a price and a coupon each day, and
 *                       the cells are what each (segment, stage) group actually paid after the
 *                       coupons the arm chose (each step's `info.coupon.groups`,
 *                       cellsFromCouponSteps). Groups are (segment, stage). (Before summary
 *                       version 3 the arms chose prices only and were replayed with no coupon.)
 *   sensitive share     for the attributes the scenario declares sensitive
 *                       (coupons.sensitiveAttributes; each segment's level in
 *                       coupons.customers.<segment>.attributes). None without a coupons block.
 *
 * Cells are gathered per (arm, seed) unit in compare/run.ts runArmSeed (`EffectivePriceRecorder`
 * wraps the evaluation env), travel with the unit's outcome (through the queue too), and are
 * pooled over every seed and evaluation episode of the arm by `comparisonFairness`.
 */
import type { Env, ResetOptions, StepResult } from '../../env/env.js';
import type { MarketModel } from '../../env/model.js';
import type { CouponStepInfo } from '../../env/coupons/coupon-market.js';
import type { Scenario } from '../../scenarios/schema.js';
import { cellsFromCouponSteps, fairnessReport, type FairnessReport, type PriceCell } from '../fairness.js';
import type { ComparisonFairness } from './summary-schema.js';

/** A price cell without the segment's attributes (added from the scenario when the report is made). */
export type FairnessCell = Omit<PriceCell, 'attributes'>;

/** The group of a market without segments. */
export const allCustomers = 'all customers';
/** The stage of a price-only cell (the market has no behaviour stages). */
const noStage = '';

/** Segment attributes and sensitive attribute names the scenario declares (its coupons block; none without one). */
export function declaredAttributes(scenario: Scenario): { attributes: Record<string, Readonly<Record<string, string>>>; sensitive: readonly string[] } {
  const coupons = scenario.coupons;
  if (coupons === undefined) return { attributes: {}, sensitive: [] };
  return { attributes: Object.fromEntries(Object.entries(coupons.customers).map(([segment, customers]) => [segment, customers.attributes])), sensitive: coupons.sensitiveAttributes };
}

/**
 * Records what every evaluation step sold, by segment and price, or on a coupon scenario each
 * step's coupon-market groups and campaign. `observe(env)` is the env to evaluate on.
 */
export class EffectivePriceRecorder {
  private readonly coupons: boolean;
  /** Units by segment (scenario order; one slot without segments) at each price played, by price. */
  private readonly unitsAtPrice = new Map<number, Float64Array>();
  private readonly segmentNames: readonly string[];
  private readonly couponSteps: CouponStepInfo[] = [];
  private readonly daysByCampaign: Record<string, number> = {};

  constructor(model: MarketModel) {
    this.coupons = model.scenario.coupons !== undefined;
    this.segmentNames = model.segments.length > 0 ? model.segments.map((segment) => segment.name) : [allCustomers];
  }

  /** `env`, with every reset and step recorded. */
  observe(env: Env): Env {
    return {
      actionSpace: env.actionSpace,
      observationSpace: env.observationSpace,
      reset: (options?: ResetOptions) => env.reset(options),
      step: (action: number): StepResult => {
        const result = env.step(action);
        const coupon = (result.info as { coupon?: CouponStepInfo }).coupon;
        if (this.coupons) this.recordCoupon(coupon);
        else this.record(result.info.price, result.info.market);
        return result;
      },
    };
  }

  private recordCoupon(coupon: CouponStepInfo | undefined): void {
    if (coupon === undefined) throw new Error('expected the coupon market (env/coupons/coupon-env.ts) on a coupon scenario, found an env whose steps carry no coupon info');
    this.couponSteps.push(coupon);
    this.daysByCampaign[coupon.campaignName] = (this.daysByCampaign[coupon.campaignName] ?? 0) + 1;
  }

  private record(price: number, market: StepResult['info']['market']): void {
    let units = this.unitsAtPrice.get(price);
    if (units === undefined) this.unitsAtPrice.set(price, (units = new Float64Array(this.segmentNames.length)));
    const segments = market.segments;
    if (segments.length === 0) units[0]! += market.sold;
    else for (let index = 0; index < segments.length && index < units.length; index++) units[index]! += segments[index]?.sold ?? 0;
  }

  /** The unit's cells: posted prices by segment, or on a coupon scenario what each (segment, stage) group paid after the coupons chosen. */
  cells(): FairnessCell[] {
    if (this.coupons) return cellsFromCouponSteps(this.couponSteps, {}).map((cell) => ({ segment: cell.segment, stage: cell.stage, units: cell.units, paid: cell.paid }));
    return [...this.unitsAtPrice].flatMap(([price, units]) => this.segmentNames.flatMap((segment, index) => ((units[index] ?? 0) > 0 ? [{ segment, stage: noStage, units: units[index] ?? 0, paid: (units[index] ?? 0) * price }] : [])));
  }

  /** On a coupon scenario: the days each campaign was chosen (by name; "no coupon" for none). */
  campaignDays(): Record<string, number> {
    return { ...this.daysByCampaign };
  }
}

/**
 * The report with no spread, or one below rounding noise (a standard deviation under 1e-9 of
 * the mean price: every group paid the same price, pooled in a different order), read as none:
 * standard deviation and coefficient of variation 0, ratio 1, no highest or lowest group.
 */
export function withoutRoundingNoise(report: FairnessReport): FairnessReport {
  const { dispersion } = report;
  const mean = report.meanEffectivePrice ?? 0;
  if (!(dispersion.standardDeviation <= 1e-9 * Math.abs(mean))) return report;
  return { ...report, dispersion: { ...dispersion, standardDeviation: 0, coefficientOfVariation: 0, maxMinRatio: 1, highest: null, lowest: null } };
}

/** The comparison's fairness section: each arm's cells (pooled over its units) into experiments/fairness.ts's report. */
export function comparisonFairness(scenario: Scenario, arms: readonly string[], cellsByArm: ReadonlyMap<string, readonly FairnessCell[]>): ComparisonFairness {
  const coupons = scenario.coupons !== undefined;
  const { attributes, sensitive } = declaredAttributes(scenario);
  return {
    market: coupons ? 'coupon market' : 'posted prices',
    groupedBy: coupons ? 'segment and stage' : 'segment',
    sensitiveAttributes: [...sensitive],
    byArm: arms.map((arm) => {
      const cells: PriceCell[] = (cellsByArm.get(arm) ?? []).map((cell) => ({ ...cell, attributes: Object.hasOwn(attributes, cell.segment) ? (attributes[cell.segment] ?? {}) : {} }));
      const report = withoutRoundingNoise(fairnessReport(cells, { sensitiveAttributes: sensitive, stages: coupons }));
      return {
        arm,
        units: report.units,
        meanEffectivePrice: report.meanEffectivePrice,
        bySegment: report.bySegment.map((group) => ({ ...group })),
        byStage: report.byStage.map((group) => ({ ...group })),
        byGroup: report.byGroup.map((group) => ({ ...group })),
        dispersion: { ...report.dispersion },
        sensitive: report.sensitive.map((share) => ({ attribute: share.attribute, etaSquared: share.etaSquared, byLevel: share.byLevel.map((group) => ({ ...group })) })),
      };
    }),
  };
}
