/**
 * Loyalty and reference prices: step 6 of the day (env/market.ts), after the customers saw
 * today's price.
 *
 * Reference price of segment s (segments with a reference): r <- m r + (1 - m) p, memory m.
 * Loyal base (segments with loyalty): the active share a in [0, 1] scales the segment's
 * arrivals. Today's churn: churnRate * max(0, p / r - 1 - premiumThreshold) * a, plus
 * changeChurnRate * a when our price changed more than maxChangesInWindow times in the last
 * changeWindowDays days; at most a. With no churn and a premium at or below the threshold,
 * the base recovers by recoveryRate * (1 - a). Customers lost: churn * population.
 * The premium is measured against the reference price before today's update.
 */
import type { MarketModel, SegmentModel } from '../model.js';
import type { StepOutcome } from './outcome.js';
import { powerOfTwoAtLeast } from './operations.js';

export class LoyaltyStage {
  /** Reference price per segment (the list price's initial value where a segment keeps none). */
  readonly referencePrice: Float64Array;
  /** Share of each segment's customers still active (1 without loyalty). */
  readonly activeShare: Float64Array;
  private readonly segments: readonly SegmentModel[];
  private readonly listPrice: number;
  private readonly changeWindow: number;
  private readonly changeMask: number;
  /** 1 where our price changed on a day, a ring indexed by day & changeMask. */
  private readonly changeHistory: Uint8Array;
  private changesInWindow = 0;

  constructor(model: MarketModel) {
    this.segments = model.segments;
    this.listPrice = model.listPrice;
    const segments = Math.max(1, model.segments.length);
    this.referencePrice = new Float64Array(segments);
    this.activeShare = new Float64Array(segments).fill(1);
    this.changeWindow = Math.max(1, ...model.segments.map((segment) => segment.loyalty?.changeWindowDays ?? 1));
    this.changeHistory = new Uint8Array(powerOfTwoAtLeast(this.changeWindow + 1));
    this.changeMask = this.changeHistory.length - 1;
  }

  reset(): void {
    this.changeHistory.fill(0);
    this.changesInWindow = 0;
    this.activeShare.fill(1);
    this.segments.forEach((segment, index) => {
      this.referencePrice[index] = segment.reference?.initial ?? this.listPrice;
    });
  }

  /**
   * Step 6 at our price outcome.prices[0]; priceChanged is 1 if it differs from yesterday's.
   * Writes customersLost. (No float argument: a call V8 does not inline boxes one.)
   */
  update(day: number, priceChanged: number, outcome: StepOutcome): void {
    const price = outcome.prices[0] ?? 0;
    let customersLost = 0;
    // Changes over the last `changeWindow` days: add today's, drop the one that left the window.
    this.changeHistory[day & this.changeMask] = priceChanged;
    this.changesInWindow += priceChanged - (day >= this.changeWindow ? (this.changeHistory[(day - this.changeWindow) & this.changeMask] ?? 0) : 0);
    const segments = this.segments;
    for (let segmentIndex = 0; segmentIndex < segments.length; segmentIndex++) {
      const segment = segments[segmentIndex]!;
      const reference = this.referencePrice[segmentIndex] ?? price;
      const loyalty = segment.loyalty;
      if (loyalty) {
        const active = this.activeShare[segmentIndex] ?? 1;
        const premium = price / reference - 1;
        let churn = loyalty.churnRate * Math.max(0, premium - loyalty.premiumThreshold) * active;
        if (this.changesInWindow > loyalty.maxChangesInWindow) churn += loyalty.changeChurnRate * active;
        churn = Math.min(churn, active);
        const recovery = churn === 0 && premium <= loyalty.premiumThreshold ? loyalty.recoveryRate * (1 - active) : 0;
        this.activeShare[segmentIndex] = active - churn + recovery;
        customersLost += churn * loyalty.population;
      }
      if (segment.reference) this.referencePrice[segmentIndex] = segment.reference.memory * reference + (1 - segment.reference.memory) * price;
    }
    outcome.customersLost = customersLost;
  }

  /** Mean reference price over the segments that keep one (the list price if none does). */
  meanReferencePrice(): number {
    let sum = 0;
    let count = 0;
    for (let index = 0; index < this.segments.length; index++) {
      if (!this.segments[index]!.reference) continue;
      sum += this.referencePrice[index] ?? 0;
      count++;
    }
    return count === 0 ? this.listPrice : sum / count;
  }
}
