/**
 * A rival firm: one pricing strategy wrapped with what every rival shares, so each strategy
 * gets it the same way.
 *
 * Parameters: firmIndex (its position in the price vector; the focal firm is 0), unitCost
 * (currency units per unit), initialPrice (currency units; the regular price at reset),
 * latencyDays (whole days; reprices every L days: on days with day % L === 0), priceCeiling
 * (currency units; the sanity cap against runaway loops such as the 0.9983x / 1.270589x
 * Amazon bots, see ratio-follower.ts), strategy.
 *
 * Order of events in priceToday(day, lastPrices, festivalDiscount, uniform):
 *   1. on a repricing day, the strategy proposes a regular price from yesterday's prices,
 *      seeing at its own index its REGULAR price (not yesterday's festival-discounted posted
 *      price), so a festival never ratchets its own price down;
 *   2. the regular price is capped to [minimumPrice, priceCeiling] (a runaway loop stays at
 *      the ceiling instead of growing without bound);
 *   3. the posted price = regular * (1 - festivalDiscount), never below minimumPrice.
 * Off repricing days the regular price is held. `hitCeiling` counts the days since reset on
 * which the regular price in force is the ceiling because the strategy asked for more.
 *
 * priceToday is on the simulator's hot path: it allocates nothing. The strategy reads a
 * scratch copy of lastPrices (with the regular price at the rival's own index), so the
 * caller's array is never written; the scratch array and the context object are reused, so
 * strategies must not keep them.
 */
import { configError, type Problem } from '../../core/errors.js';
import type { PricingStrategy } from './strategy.js';

/** No posted price is ever below this, currency units. */
export const minimumPrice = 0.01;
// The hot path reads this private copy: reading the exported binding there makes V8 box a
// number on every call (measured on Node 20), a module-private constant is folded in.
const lowestPrice = minimumPrice;

export interface RivalOptions {
  /** Position in the price vector (the focal firm is 0). */
  readonly firmIndex: number;
  /** Cost per unit, currency units. */
  readonly unitCost: number;
  /** Regular price at reset, currency units. */
  readonly initialPrice: number;
  /** Reprices on days where day % latencyDays === 0. */
  readonly latencyDays: number;
  /** Sanity cap on regular and posted prices, currency units. */
  readonly priceCeiling: number;
  readonly strategy: PricingStrategy;
}

/** The strategy context, writable here so one object serves every call. */
interface ReusedContext {
  day: number;
  firmIndex: number;
  lastPrices: Float64Array;
  unitCost: number;
  uniform: number;
}

export class Rival {
  readonly firmIndex: number;
  readonly unitCost: number;
  readonly initialPrice: number;
  readonly latencyDays: number;
  readonly priceCeiling: number;
  readonly strategy: PricingStrategy;

  #regularPrice = 0;
  #regularPriceCapped = false;
  #hitCeiling = 0;
  readonly #context: ReusedContext;
  /** What the strategy sees: yesterday's prices with this rival's regular price at its own index. */
  #visiblePrices = new Float64Array(0);

  constructor(options: RivalOptions) {
    const problems: Problem[] = [];
    if (!Number.isInteger(options.firmIndex) || options.firmIndex < 0) {
      problems.push({ path: ['firmIndex'], message: `expected a whole number >= 0, found ${options.firmIndex}` });
    }
    if (!Number.isInteger(options.latencyDays) || options.latencyDays < 1) {
      problems.push({ path: ['latencyDays'], message: `expected a whole number of days >= 1, found ${options.latencyDays}` });
    }
    if (!Number.isFinite(options.priceCeiling) || options.priceCeiling < lowestPrice) {
      problems.push({ path: ['priceCeiling'], message: `expected a finite price >= ${lowestPrice}, found ${options.priceCeiling}` });
    }
    if (!Number.isFinite(options.initialPrice) || options.initialPrice <= 0) {
      problems.push({ path: ['initialPrice'], message: `expected a finite price > 0, found ${options.initialPrice}` });
    }
    if (!Number.isFinite(options.unitCost) || options.unitCost < 0) {
      problems.push({ path: ['unitCost'], message: `expected a finite cost >= 0, found ${options.unitCost}` });
    }
    if (problems.length > 0) throw configError(`cannot build rival ${options.firmIndex} (${options.strategy.kind})`, problems);

    this.firmIndex = options.firmIndex;
    this.unitCost = options.unitCost;
    this.initialPrice = options.initialPrice;
    this.latencyDays = options.latencyDays;
    this.priceCeiling = options.priceCeiling;
    this.strategy = options.strategy;
    this.reset();
    this.#context = { day: 0, firmIndex: options.firmIndex, lastPrices: new Float64Array(0), unitCost: options.unitCost, uniform: 0 };
  }

  /** The price the rival charges outside festivals, as last set (capped). */
  get regularPrice(): number {
    return this.#regularPrice;
  }

  /** Days since reset on which the regular price in force was cut down to the ceiling. */
  get hitCeiling(): number {
    return this.#hitCeiling;
  }

  /** Start of an episode: regular price back to initialPrice, ceiling counter to 0. */
  reset(): void {
    this.#regularPrice = this.#capped(this.initialPrice);
    this.#regularPriceCapped = this.initialPrice > this.priceCeiling;
    this.#hitCeiling = 0;
  }

  /**
   * The price posted today. `lastPrices` holds every firm's posted price yesterday (focal
   * first); it is unchanged on return. `festivalDiscount` is today's share off, in [0, 1).
   */
  priceToday(day: number, lastPrices: Float64Array, festivalDiscount: number, uniform: number): number {
    if (!(festivalDiscount >= 0 && festivalDiscount < 1)) {
      throw new RangeError(`rival ${this.firmIndex}: expected a festival discount in [0, 1), found ${festivalDiscount}`);
    }
    // Latency 1 is the common case: skip the integer division of `%` there.
    if (this.latencyDays === 1 || day % this.latencyDays === 0) this.#reprice(day, lastPrices, uniform);

    if (this.#regularPriceCapped) this.#hitCeiling++;
    return Math.max(lowestPrice, this.#regularPrice * (1 - festivalDiscount));
  }

  #reprice(day: number, lastPrices: Float64Array, uniform: number): void {
    const firmIndex = this.firmIndex;
    const firmCount = lastPrices.length;
    if (firmIndex >= firmCount) {
      throw new RangeError(`rival ${firmIndex}: expected lastPrices to hold at least ${firmIndex + 1} firms, found ${firmCount}`);
    }
    if (this.#visiblePrices.length !== firmCount) this.#visiblePrices = new Float64Array(firmCount); // once per market size
    const visiblePrices = this.#visiblePrices;
    for (let index = 0; index < firmCount; index++) visiblePrices[index] = lastPrices[index] as number;
    visiblePrices[firmIndex] = this.#regularPrice;

    const context = this.#context;
    context.day = day;
    context.lastPrices = visiblePrices;
    context.uniform = uniform;
    const proposedPrice = this.strategy.nextPrice(context);

    if (Number.isNaN(proposedPrice)) {
      throw new RangeError(`rival ${firmIndex} (${this.strategy.kind}) on day ${day}: expected a price from the strategy, found NaN`);
    }
    this.#regularPriceCapped = proposedPrice > this.priceCeiling;
    this.#regularPrice = this.#capped(proposedPrice);
  }

  #capped(price: number): number {
    // Math.min/max rather than a conditional: V8 then keeps the price an unboxed float.
    return Math.min(this.priceCeiling, Math.max(lowestPrice, price));
  }
}
