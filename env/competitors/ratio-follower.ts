/**
 * Ratio follower: a rival that prices at a fixed ratio of one target firm's last price. In
 * 2011 two Amazon sellers of "The Making of a Fly" ran such bots against each other, one at
 * 0.9983x the other and the other at 1.270589x the first; each round multiplied both prices
 * by about 1.268 and the book reached $23,698,655.93 (Eisen 2011, "Amazon's $23,698,655.93
 * book about flies", blog post of 22 April 2011). The case for the Rival's sanity ceiling.
 *
 * Parameters: ratio (dimensionless; > 0), target (the firm followed: "focal" or a
 * competitor's name, resolved to a firm index once, at construction, by create.ts).
 * Behaviour: next = ratio * lastPrices[targetFirmIndex]. Unbounded by itself: the Rival
 * wrapper caps it at the price ceiling.
 */
import type { PricingStrategy, StrategyContext } from './strategy.js';

export interface RatioFollowerOptions {
  /** price = ratio * target price (0.9983 and 1.270589 in the Amazon case). */
  readonly ratio: number;
  /** Firm index of the firm followed (the focal firm is 0). */
  readonly targetFirmIndex: number;
}

export class RatioFollowerStrategy implements PricingStrategy {
  readonly kind = 'ratio-follower';

  constructor(readonly options: RatioFollowerOptions) {}

  nextPrice(context: StrategyContext): number {
    return this.options.ratio * (context.lastPrices[this.options.targetFirmIndex] ?? Number.NaN);
  }
}
