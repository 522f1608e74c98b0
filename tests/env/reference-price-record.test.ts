/**
 * Honest reference prices (env/reference-price-record.ts) on hand-worked price paths: the
 * EU 30-day lowest price, the China 7-day lowest transaction price (and its fallback to the
 * last transaction), the reference fixed at a promotion's first day, and the
 * raise-then-discount flag. Every expected number below is worked out by hand in the comment beside it.
 */
import { describe, expect, it } from 'vitest';
import { PricelabError } from '../../core/errors.js';
import { buildMarketModel } from '../../env/model.js';
import { checkReferencePrices, compliantReferencePrice, promotionWindows, ReferencePriceRecorder, referencePriceRuleNames, referencePriceRules } from '../../env/reference-price-record.js';
import { loadScenario } from '../../scenarios/load.js';
import { scenarioSchema } from '../../scenarios/schema.js';

/** `segments` as [price, days, units per day] runs, concatenated. */
function path(...segments: [number, number, number][]): { prices: number[]; units: number[] } {
  const prices: number[] = [];
  const units: number[] = [];
  for (const [price, days, sold] of segments) {
    for (let day = 0; day < days; day++) {
      prices.push(price);
      units.push(sold);
    }
  }
  return { prices, units };
}

describe('EU: lowest price of the prior 30 days', () => {
  // Days 0-9 at 100, 10-19 at 90, 20-34 at 100; a promotion on days 35-37 at 80, 80, 70.
  const worked = path([100, 10, 1], [90, 10, 1], [100, 15, 1], [80, 2, 1], [70, 1, 1]);
  const windows = [{ name: 'sale', start: 35, end: 38 }];

  it('takes the lowest posted price of days 5-34 (90), not the price before the promotion (100)', () => {
    const report = checkReferencePrices(worked, { rule: 'eu-30-day', windows });
    expect(report.promotions).toHaveLength(1);
    const promotion = report.promotions[0]!;
    expect(promotion.claimedReference).toBe(100);
    expect(promotion.compliantReference).toEqual({ price: 90, basis: 'lowest-price', from: 5, to: 35 });
    expect(promotion.overstated).toBe(true);
    expect(report.compliant).toBe(false);
    // Claimed 20%, 20%, 30%; honest 1 - 80/90 = 11.1%, 11.1%, 1 - 70/90 = 22.2%.
    promotion.days.forEach((day, index) => expect(day.claimedDiscount).toBeCloseTo([0.2, 0.2, 0.3][index]!, 12));
    promotion.days.forEach((day, index) => expect(day.compliantDiscount).toBeCloseTo([1 / 9, 1 / 9, 2 / 9][index]!, 12));
  });

  it('keeps the reference of the first day for the whole promotion (day 37 is not measured against 80)', () => {
    const report = checkReferencePrices(worked, { rule: 'eu-30-day', windows });
    expect(report.promotions[0]!.days.at(-1)).toMatchObject({ day: 37, price: 70 });
    expect(report.promotions[0]!.days.at(-1)!.compliantDiscount).toBeCloseTo(1 - 70 / 90, 12);
  });

  it('forgets a cut more than 30 days before: the same cut on days 0-4 leaves the reference at 100', () => {
    const early = path([90, 5, 1], [100, 30, 1], [80, 3, 1]);
    const report = checkReferencePrices(early, { rule: 'eu-30-day', windows });
    expect(report.promotions[0]!.compliantReference.price).toBe(100);
    expect(report.promotions[0]!.overstated).toBe(false);
    expect(report.compliant).toBe(true);
  });

  it('counts posted prices without sales (units do not matter)', () => {
    const unsold = path([100, 20, 3], [85, 5, 0], [100, 10, 3], [90, 3, 2]);
    expect(compliantReferencePrice(unsold.prices, unsold.units, 35, referencePriceRules['eu-30-day'])).toEqual({ price: 85, basis: 'lowest-price', from: 5, to: 35 });
  });
});

describe('China: lowest transaction price of the prior 7 days', () => {
  // Days 0-29 at 100 (5 sold a day), 30-33 at 90 with no sale, day 34 at 110 (2 sold); promotion from day 35 at 95.
  const worked = path([100, 30, 5], [90, 4, 0], [110, 1, 2], [95, 3, 4]);
  const windows = [{ name: '11.11', start: 35, end: 38 }];

  it('reads only days with sales in days 28-34: 100 (days 28, 29) and 110 (day 34), so 100', () => {
    const report = checkReferencePrices(worked, { rule: 'cn-7-day', windows });
    const promotion = report.promotions[0]!;
    expect(promotion.compliantReference).toEqual({ price: 100, basis: 'lowest-transaction-price', from: 28, to: 35 });
    expect(promotion.claimedReference).toBe(110);
    expect(promotion.overstated).toBe(true);
    expect(promotion.days[0]!.compliantDiscount).toBeCloseTo(0.05, 12); // 1 - 95/100
  });

  it('differs from the EU rule on the same path: the unsold 90 counts there, and 95 is then no discount at all', () => {
    const report = checkReferencePrices(worked, { rule: 'eu-30-day', windows });
    expect(report.promotions[0]!.compliantReference.price).toBe(90);
    expect(report.promotions[0]!.days[0]!.compliantDiscount).toBeCloseTo(1 - 95 / 90, 12);
    expect(report.promotions[0]!.days[0]!.compliantDiscount).toBeLessThan(0);
  });

  it('falls back to the last transaction before the promotion when the 7 days had none', () => {
    // Days 0-20 at 100 with sales, 21-34 at 120 unsold; promotion on day 35 at 110.
    const unsold = path([100, 21, 3], [120, 14, 0], [110, 1, 1]);
    const report = checkReferencePrices(unsold, { rule: 'cn-7-day', windows: [{ name: 'sale', start: 35, end: 36 }] });
    expect(report.promotions[0]!.compliantReference).toEqual({ price: 100, basis: 'last-transaction-price', from: 20, to: 35 });
    expect(report.promotions[0]!.days[0]!.compliantDiscount).toBeCloseTo(-0.1, 12); // 110 is 10% above the honest reference
  });

  it('has no reference when nothing ever sold', () => {
    const never = path([100, 10, 0], [80, 1, 0]);
    expect(compliantReferencePrice(never.prices, never.units, 10, referencePriceRules['cn-7-day'])).toEqual({ price: null, basis: 'none', from: 3, to: 10 });
  });
});

describe('raise-then-discount', () => {
  // Days 0-49 at 100, raised to 150 on day 50 (10 days before the promotion), "33% off" back to 100 on days 60-62.
  const raised = path([100, 50, 4], [150, 10, 1], [100, 3, 6]);
  const windows = [{ name: 'festival', start: 60, end: 63 }];

  it('flags the raise on day 50 and the discount that only takes it back', () => {
    const report = checkReferencePrices(raised, { rule: 'eu-30-day', windows });
    expect(report.flags).toEqual([
      expect.objectContaining({ kind: 'raise-then-discount', promotion: 'festival', start: 60, raiseDay: 50, priceBeforeRaise: 100, raisedTo: 150, lowestPromotionalPrice: 100 }),
    ]);
    // The 30-day rule sees the raise too: the honest reference is 100, so no discount.
    expect(report.promotions[0]!.compliantReference.price).toBe(100);
    expect(report.promotions[0]!.days[0]!.compliantDiscount).toBe(0);
  });

  it('flags it under the 7-day rule as well, which the rule alone would let pass (sales at 150 set its reference)', () => {
    const report = checkReferencePrices(raised, { rule: 'cn-7-day', windows });
    expect(report.promotions[0]!.compliantReference.price).toBe(150);
    expect(report.promotions[0]!.overstated).toBe(false);
    expect(report.flags).toHaveLength(1);
    expect(report.compliant).toBe(false);
  });

  it('does not flag a discount below the price before the raise, nor a raise outside the window', () => {
    const deeper = path([100, 50, 4], [150, 10, 1], [90, 3, 6]);
    expect(checkReferencePrices(deeper, { rule: 'cn-7-day', windows }).flags).toEqual([]);
    expect(checkReferencePrices(raised, { rule: 'cn-7-day', windows, raiseWindowDays: 9 }).flags).toEqual([]);
    const steady = path([100, 60, 4], [80, 3, 6]);
    const report = checkReferencePrices(steady, { rule: 'eu-30-day', windows });
    expect(report.flags).toEqual([]);
    expect(report.compliant).toBe(true);
  });

  it('records no promotion where the price did not fall below the claimed reference', () => {
    const flat = path([100, 63, 1]);
    expect(checkReferencePrices(flat, { rule: 'eu-30-day', windows }).promotions).toEqual([]);
  });
});

describe('recorder', () => {
  it('answers the reference for the next day as it records, and refuses a bad day', () => {
    const recorder = new ReferencePriceRecorder({ rule: 'eu-30-day', windows: [] });
    for (const price of [12, 10, 11]) recorder.record(price, 1);
    expect(recorder.referenceFor()).toMatchObject({ price: 10, from: 0, to: 3 });
    expect(() => recorder.record(Number.NaN, 1)).toThrow(PricelabError);
    expect(() => new ReferencePriceRecorder({ rule: 'us-90-day' as 'eu-30-day', windows: [{ name: 'x', start: 3, end: 2 }] })).toThrow(/2 problems|rule|windows/);
  });

  it("offers exactly the rules a scenario's referencePriceRule may name", () => {
    expect(scenarioSchema.shape.referencePriceRule.unwrap().options).toEqual([...referencePriceRuleNames]);
  });

  it("takes a scenario's festival pre-sale and event days as promotion windows", () => {
    const model = buildMarketModel(loadScenario('singles-day-v1').scenario);
    const windows = promotionWindows(model.festivals);
    expect(windows.length).toBeGreaterThan(0);
    for (const window of windows) {
      for (let day = window.start; day < Math.min(window.end, model.horizon); day++) expect((model.festivals.eventDay[day] ?? 0) + (model.festivals.presaleDay[day] ?? 0)).toBe(1);
    }
  });
});
