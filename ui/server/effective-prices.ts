/**
 * The dashboard's fairness figures for one arm, live: the effective price paid so far this
 * episode by group, its spread and max/min ratio, and the share of its variance each sensitive
 * attribute of the scenario explains, as experiments/fairness.ts measures them and a
 * comparison reports them (experiments/compare/fairness.ts).
 *
 *   price-only market   each day's units by segment (StepInfo.market.segments, from
 *                       MarketSimulation.segmentUnits()) paid that day's price: groups are segments.
 *   coupon scenario     (a `coupons` block, which the market the arm plays does not read): each
 *                       day's played price is also stepped in the coupon market
 *                       (env/coupons/coupon-market.ts), reset with the arm's seed, with no coupon
 *                       (a price arm, ui/server/arm.ts): groups are (segment, stage).
 *   coupon choices      a coupon scenario's session (ui/server/coupon-arm.ts): the arm plays the
 *                       coupon market itself, and each day's groups are what they paid after the
 *                       coupon the arm chose (`recordCouponDay`).
 *
 * Recorded day by day (a few numbers per segment and price); the figures are made on demand,
 * once per frame.
 */
import type { StepInfo } from '../../env/env.js';
import type { MarketModel } from '../../env/model.js';
import { CouponMarketEnv, type CouponStepInfo } from '../../env/coupons/coupon-market.js';
import { cellsFromCouponSteps, fairnessReport, type PriceCell } from '../../experiments/fairness.js';
import { allCustomers, declaredAttributes, withoutRoundingNoise } from '../../experiments/compare/fairness.js';
import type { FairnessFigures } from '../shared/events.js';

export class EffectivePriceTally {
  private readonly market: 'posted prices' | 'coupon market';
  private readonly attributes: Record<string, Readonly<Record<string, string>>>;
  private readonly sensitive: readonly string[];
  private readonly byCell = new Map<string, { segment: string; units: number; paid: number }>();
  private readonly coupons: CouponMarketEnv | undefined;
  private readonly couponSteps: CouponStepInfo[] = [];

  private readonly couponsChosen: boolean;

  /** `couponsChosen`: the arm plays the coupon market and records its days (recordCouponDay); no replay. */
  constructor(model: MarketModel, options: { couponsChosen?: boolean } = {}) {
    const declared = declaredAttributes(model.scenario);
    this.attributes = declared.attributes;
    this.sensitive = declared.sensitive;
    this.couponsChosen = options.couponsChosen === true && model.scenario.coupons !== undefined;
    this.coupons = model.scenario.coupons === undefined || this.couponsChosen ? undefined : new CouponMarketEnv(model.scenario, { prices: Array.from(model.ladder) });
    this.market = this.coupons || this.couponsChosen ? 'coupon market' : 'posted prices';
  }

  /** A day the arm played in the coupon market (couponsChosen): its groups as they paid. */
  recordCouponDay(info: CouponStepInfo): void {
    this.couponSteps.push(info);
  }

  reset(seed: number | string): void {
    this.byCell.clear();
    this.couponSteps.length = 0;
    this.coupons?.reset(typeof seed === 'number' ? { seed } : {});
  }

  /** One simulated day: `ladderIndex` is the index of the played price on the ladder. */
  record(info: StepInfo, ladderIndex: number): void {
    const coupons = this.coupons;
    if (coupons) {
      if (coupons.state.day < coupons.horizon) this.couponSteps.push(coupons.step(coupons.actionIndex({ priceIndex: ladderIndex, campaign: -1 })).info);
      return;
    }
    const segments = info.market.segments.length > 0 ? info.market.segments : [{ name: allCustomers, sold: info.market.sold }];
    for (const segment of segments) {
      if (!(segment.sold > 0)) continue;
      const cell = this.byCell.get(segment.name) ?? { segment: segment.name, units: 0, paid: 0 };
      cell.units += segment.sold;
      cell.paid += segment.sold * info.price;
      this.byCell.set(segment.name, cell);
    }
  }

  /** The figures so far this episode. */
  figures(): FairnessFigures {
    const attributesOf = (segment: string) => (Object.hasOwn(this.attributes, segment) ? (this.attributes[segment] ?? {}) : {});
    const stages = this.coupons !== undefined || this.couponsChosen;
    const cells: PriceCell[] = stages ? cellsFromCouponSteps(this.couponSteps, this.attributes) : [...this.byCell.values()].map((cell) => ({ segment: cell.segment, stage: '', attributes: attributesOf(cell.segment), units: cell.units, paid: cell.paid }));
    const report = withoutRoundingNoise(fairnessReport(cells, { sensitiveAttributes: this.sensitive, stages }));
    const plain = (groups: typeof report.bySegment) => groups.map((group) => ({ label: group.label, units: group.units, effectivePrice: group.effectivePrice }));
    return {
      market: this.market,
      ...(this.couponsChosen ? { couponsChosen: true } : {}),
      groupedBy: stages ? 'segment and stage' : 'segment',
      units: report.units,
      meanEffectivePrice: report.meanEffectivePrice,
      bySegment: plain(report.bySegment),
      byStage: plain(report.byStage),
      byGroup: plain(report.byGroup),
      standardDeviation: report.dispersion.standardDeviation,
      coefficientOfVariation: report.dispersion.coefficientOfVariation,
      maxMinRatio: report.dispersion.maxMinRatio,
      highest: report.dispersion.highest,
      lowest: report.dispersion.lowest,
      sensitive: report.sensitive.map((share) => ({ attribute: share.attribute, etaSquared: share.etaSquared })),
    };
  }
}
