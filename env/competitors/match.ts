/**
 * Match the lowest price: a rival that posts the lowest price among the other firms (a
 * common rule of marketplace repricing tools; Chen, Mislove & Wilson 2016, "An empirical
 * analysis of algorithmic pricing on Amazon Marketplace", found most algorithmic sellers
 * tracking the lowest or the Buy Box price).
 *
 * Parameters: floorMargin (share; never below unitCost * (1 + floorMargin)).
 * Behaviour: next = max(min over the other firms' last prices, unitCost * (1 + floorMargin)).
 * With no other firm to look at, the rival keeps its own last price.
 */
import type { PricingStrategy, StrategyContext } from './strategy.js';

export interface MatchOptions {
  /** Never below unitCost * (1 + floorMargin); 0.1 keeps a 10% margin. */
  readonly floorMargin: number;
}

/**
 * The lowest of the other firms' prices (every index but `firmIndex`); the firm's own price
 * when it has no one to compare with. Shared by match, undercut and two-bound.
 */
export function lowestRivalPrice(lastPrices: Float64Array, firmIndex: number): number {
  let lowest = Infinity;
  for (let index = 0; index < lastPrices.length; index++) {
    if (index === firmIndex) continue;
    const price = lastPrices[index] ?? Infinity;
    if (price < lowest) lowest = price;
  }
  return lowest === Infinity ? (lastPrices[firmIndex] ?? Infinity) : lowest;
}

export class MatchStrategy implements PricingStrategy {
  readonly kind = 'match';
  readonly floorMargin: number;

  constructor(options: MatchOptions) {
    this.floorMargin = options.floorMargin;
  }

  nextPrice(context: StrategyContext): number {
    const floor = context.unitCost * (1 + this.floorMargin);
    return Math.max(lowestRivalPrice(context.lastPrices, context.firmIndex), floor);
  }
}
