/**
 * Honest reference prices: for every day a promotion is shown, the compliant reference
 * ("was") price a market's rule allows, beside the one a shop would naively claim, and a
 * flag for raise-then-discount (a price raised shortly before a promotion and then
 * "discounted"). A recorder over the observed price path and the festival calendar: it
 * reads prices and units, never the market's internals, so it works on a simulated
 * episode, a replayed sales history or a hand-written path alike (docs/responsible-pricing.md).
 *
 * Rules (referencePriceRules):
 * - eu-30-day: the lowest price applied in the 30 days before the price reduction
 *   (Directive 98/6/EC art. 6a, inserted by the Omnibus Directive (EU) 2019/2161; in force
 *   28 May 2022). Every posted price counts, with or without sales.
 * - cn-7-day: the lowest transaction price of the 7 days before the promotion; with no
 *   transaction in those days, the last transaction price before it (SAMR, Provisions on
 *   Clearly Marking Prices and Prohibiting Price Fraud, 2022). Only days with sales count.
 * Both fix the reference at the start of a promotion: during a promotion of several days
 * (or a deepening one) the reference stays the one before its first day, so the promotion
 * never becomes its own reference.
 *
 * Order of events: record(price, units) once per day, in day order (day 0 first); the
 * promotion windows (festival pre-sale and event days: promotionWindows(calendar), or any
 * [start, end) the caller gives) say when a promotion may be shown. A day in a window
 * shows a promotion when its price is below the claimed reference: the price of the day
 * before the window, what a shop would show struck through. report() works on what was
 * recorded so far; windows that start after the last recorded day are left out.
 *
 * Raise-then-discount: within the raiseWindowDays before a window that shows a promotion,
 * the first day whose price rose over the day before (the raise); flagged when the lowest
 * promotional price is not below the price before that raise: the "discount" only takes
 * the raise back. Such a claim is also overstated against the 30-day rule (the pre-raise
 * price is in its window), not always against the 7-day one (a raise 8 days earlier, with
 * sales at the raised price, sets the 7-day reference).
 *
 * Units: prices in currency, units sold per day, days from 0. No random numbers.
 */
import { configError, type Problem } from '../core/errors.js';
import type { FestivalCalendar } from './festivals.js';

export const referencePriceRuleNames = ['eu-30-day', 'cn-7-day'] as const;
export type ReferencePriceRuleName = (typeof referencePriceRuleNames)[number];

export interface ReferencePriceRule {
  readonly name: ReferencePriceRuleName;
  /** Days before the promotion's first day the reference looks back over. */
  readonly windowDays: number;
  /** true: only days with sales count (transaction prices); false: every posted price. */
  readonly transactionsOnly: boolean;
  readonly description: string;
  readonly source: string;
}

export const referencePriceRules: Readonly<Record<ReferencePriceRuleName, ReferencePriceRule>> = {
  'eu-30-day': {
    name: 'eu-30-day',
    windowDays: 30,
    transactionsOnly: false,
    description: 'the lowest price applied in the 30 days before the price reduction',
    source: 'Directive 98/6/EC art. 6a, inserted by Directive (EU) 2019/2161 (the Omnibus Directive), applicable from 28 May 2022',
  },
  'cn-7-day': {
    name: 'cn-7-day',
    windowDays: 7,
    transactionsOnly: true,
    description: 'the lowest transaction price of the 7 days before the promotion (without one, the last transaction price before it)',
    source: 'SAMR, Provisions on Clearly Marking Prices and Prohibiting Price Fraud (明码标价和禁止价格欺诈规定, 2022, in force 1 July 2022)',
  },
};

/** A period in which a promotion may be shown: days [start, end). */
export interface PromotionWindow {
  readonly name: string;
  readonly start: number;
  readonly end: number;
}

/** How the compliant reference was found. */
export type ReferenceBasis = 'lowest-price' | 'lowest-transaction-price' | 'last-transaction-price' | 'none';

export interface CompliantReference {
  /** null when the rule finds no price (no earlier day, or no sale ever for the 7-day rule). */
  readonly price: number | null;
  readonly basis: ReferenceBasis;
  /** Days [from, to) the rule looked at. */
  readonly from: number;
  readonly to: number;
}

export interface PromotionDay {
  readonly day: number;
  readonly price: number;
  readonly claimedDiscount: number;
  /** 1 - price / compliant reference; 0 or less: no discount under the rule. null without a reference. */
  readonly compliantDiscount: number | null;
}

export interface PromotionRecord {
  readonly name: string;
  readonly start: number;
  readonly end: number;
  /** The price of the day before the window: what a shop would show as "was". */
  readonly claimedReference: number;
  readonly compliantReference: CompliantReference;
  /** The claim shows a higher "was" than the rule allows. */
  readonly overstated: boolean;
  /** Days of the window whose price is below the claimed reference (a discount shown). */
  readonly days: readonly PromotionDay[];
}

export interface RaiseThenDiscountFlag {
  readonly kind: 'raise-then-discount';
  readonly promotion: string;
  readonly start: number;
  /** The first day in the window before the promotion whose price rose over the day before. */
  readonly raiseDay: number;
  /** The price the day before the raise. */
  readonly priceBeforeRaise: number;
  /** The claimed reference (the price the day before the promotion). */
  readonly raisedTo: number;
  readonly lowestPromotionalPrice: number;
  readonly detail: string;
}

export interface ReferencePriceReport {
  readonly rule: ReferencePriceRule;
  readonly days: number;
  readonly raiseWindowDays: number;
  /** Windows that showed a promotion (a price below the claimed reference on some day). */
  readonly promotions: readonly PromotionRecord[];
  readonly flags: readonly RaiseThenDiscountFlag[];
  /** Promotions whose claimed reference exceeds the compliant one. */
  readonly overstatedPromotions: number;
  /** No overstated claim and no flag. */
  readonly compliant: boolean;
}

/** Money is compared to a thousandth of a cent. */
const tolerance = 1e-5;

/** The festival calendar's promotion windows: each occurrence's pre-sale and event days, clipped to day 0. */
export function promotionWindows(calendar: FestivalCalendar): PromotionWindow[] {
  return calendar.occurrences
    .map((occurrence) => ({ name: occurrence.festival.name, start: Math.max(0, occurrence.presaleStart), end: occurrence.eventEnd }))
    .filter((window) => window.end > window.start);
}

/**
 * The compliant reference price of a promotion whose first day is `start`, from the days
 * before it. Units are read only by rules on transaction prices (a day with units > 0 is a
 * day with a transaction).
 */
export function compliantReferencePrice(prices: ArrayLike<number>, units: ArrayLike<number>, start: number, rule: ReferencePriceRule): CompliantReference {
  const to = Math.min(start, prices.length);
  const from = Math.max(0, to - rule.windowDays);
  let lowest = Number.POSITIVE_INFINITY;
  for (let day = from; day < to; day++) {
    if (rule.transactionsOnly && !((units[day] ?? 0) > 0)) continue;
    lowest = Math.min(lowest, prices[day] ?? Number.POSITIVE_INFINITY);
  }
  if (Number.isFinite(lowest)) return { price: lowest, basis: rule.transactionsOnly ? 'lowest-transaction-price' : 'lowest-price', from, to };
  if (rule.transactionsOnly) {
    for (let day = from - 1; day >= 0; day--) {
      if ((units[day] ?? 0) > 0) return { price: prices[day] ?? null, basis: 'last-transaction-price', from: day, to };
    }
  }
  return { price: null, basis: 'none', from, to };
}

export interface ReferencePriceOptions {
  readonly rule: ReferencePriceRuleName;
  readonly windows: readonly PromotionWindow[];
  /** Days before a promotion in which a raise is looked for (default 30). */
  readonly raiseWindowDays?: number;
}

function validateOptions(options: ReferencePriceOptions): void {
  const problems: Problem[] = [];
  if (!referencePriceRuleNames.includes(options.rule)) problems.push({ path: ['rule'], message: `expected one of ${referencePriceRuleNames.join(', ')}, found ${JSON.stringify(options.rule)}` });
  const raise = options.raiseWindowDays;
  if (raise !== undefined && !(Number.isInteger(raise) && raise >= 1)) problems.push({ path: ['raiseWindowDays'], message: `expected a positive whole number of days, found ${raise}` });
  options.windows.forEach((window, index) => {
    if (!(Number.isInteger(window.start) && Number.isInteger(window.end) && window.start >= 0 && window.end > window.start)) {
      problems.push({ path: ['windows', index], message: `expected whole days 0 <= start < end, found [${window.start}, ${window.end})` });
    }
  });
  if (problems.length > 0) throw configError('invalid reference-price options', problems);
}

/** Records a price path day by day; report() gives the promotions, their references and the flags. */
export class ReferencePriceRecorder {
  readonly rule: ReferencePriceRule;
  readonly raiseWindowDays: number;
  private readonly windows: readonly PromotionWindow[];
  private prices = new Float64Array(64);
  private units = new Float64Array(64);
  private count = 0;

  constructor(options: ReferencePriceOptions) {
    validateOptions(options);
    this.rule = referencePriceRules[options.rule];
    this.raiseWindowDays = options.raiseWindowDays ?? 30;
    this.windows = [...options.windows].sort((first, second) => first.start - second.start);
  }

  get days(): number {
    return this.count;
  }

  /** The next day's posted price and units sold. */
  record(price: number, units: number): void {
    if (!(Number.isFinite(price) && price > 0)) throw configError('invalid price path', [{ path: ['prices', this.count], message: `expected a positive price, found ${price}` }]);
    if (!(Number.isFinite(units) && units >= 0)) throw configError('invalid price path', [{ path: ['units', this.count], message: `expected units >= 0, found ${units}` }]);
    if (this.count === this.prices.length) {
      const grow = (values: Float64Array) => {
        const bigger = new Float64Array(values.length * 2);
        bigger.set(values);
        return bigger;
      };
      this.prices = grow(this.prices);
      this.units = grow(this.units);
    }
    this.prices[this.count] = price;
    this.units[this.count] = units;
    this.count++;
  }

  /** The compliant reference for a promotion starting on `day` (the serving endpoint's question). */
  referenceFor(day: number = this.count): CompliantReference {
    return compliantReferencePrice(this.prices.subarray(0, this.count), this.units.subarray(0, this.count), day, this.rule);
  }

  report(): ReferencePriceReport {
    const prices = this.prices.subarray(0, this.count);
    const units = this.units.subarray(0, this.count);
    const promotions: PromotionRecord[] = [];
    const flags: RaiseThenDiscountFlag[] = [];
    for (const window of this.windows) {
      // A window starting on day 0 has no price before it: nothing can be claimed.
      if (window.start === 0 || window.start >= this.count) continue;
      const claimedReference = prices[window.start - 1] ?? 0;
      const compliant = compliantReferencePrice(prices, units, window.start, this.rule);
      const days: PromotionDay[] = [];
      for (let day = window.start; day < Math.min(window.end, this.count); day++) {
        const price = prices[day] ?? 0;
        if (price >= claimedReference - tolerance) continue;
        days.push({ day, price, claimedDiscount: 1 - price / claimedReference, compliantDiscount: compliant.price === null ? null : 1 - price / compliant.price });
      }
      if (days.length === 0) continue;
      const overstated = compliant.price === null || claimedReference > compliant.price + tolerance;
      promotions.push({ name: window.name, start: window.start, end: window.end, claimedReference, compliantReference: compliant, overstated, days });
      const flag = raiseThenDiscount(prices, window, this.raiseWindowDays, claimedReference, Math.min(...days.map((entry) => entry.price)));
      if (flag) flags.push(flag);
    }
    const overstatedPromotions = promotions.filter((promotion) => promotion.overstated).length;
    return { rule: this.rule, days: this.count, raiseWindowDays: this.raiseWindowDays, promotions, flags, overstatedPromotions, compliant: overstatedPromotions === 0 && flags.length === 0 };
  }
}

function raiseThenDiscount(prices: Float64Array, window: PromotionWindow, raiseWindowDays: number, claimedReference: number, lowestPromotionalPrice: number): RaiseThenDiscountFlag | undefined {
  for (let day = Math.max(1, window.start - raiseWindowDays); day < window.start; day++) {
    const before = prices[day - 1] ?? 0;
    if (!((prices[day] ?? 0) > before + tolerance)) continue;
    if (lowestPromotionalPrice < before - tolerance) return undefined;
    return {
      kind: 'raise-then-discount',
      promotion: window.name,
      start: window.start,
      raiseDay: day,
      priceBeforeRaise: before,
      raisedTo: claimedReference,
      lowestPromotionalPrice,
      detail: `raised from ${before.toFixed(2)} on day ${day} (${window.start - day} days before ${window.name}), then "discounted" to ${lowestPromotionalPrice.toFixed(2)} against ${claimedReference.toFixed(2)}: not below the price before the raise`,
    };
  }
  return undefined;
}

/** The whole check on a path at once: prices and units per day (units default to 1 a day: every day a transaction). */
export function checkReferencePrices(path: { readonly prices: ArrayLike<number>; readonly units?: ArrayLike<number> }, options: ReferencePriceOptions): ReferencePriceReport {
  const recorder = new ReferencePriceRecorder(options);
  if (path.units !== undefined && path.units.length !== path.prices.length) {
    throw configError('invalid price path', [{ path: ['units'], message: `expected one entry per price (${path.prices.length}), found ${path.units.length}` }]);
  }
  for (let day = 0; day < path.prices.length; day++) recorder.record(path.prices[day] ?? Number.NaN, path.units?.[day] ?? 1);
  return recorder.report();
}
