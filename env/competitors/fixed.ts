/**
 * Fixed price: a rival that never reprices (a catalogue seller, or a baseline against which
 * every other strategy is measured).
 *
 * Parameters: price (currency units; > 0).
 * Behaviour: nextPrice always returns `price`, whatever the market did. It ignores the
 * uniform (which the rival draws anyway, see strategy.ts).
 */
import type { PricingStrategy } from './strategy.js';

export interface FixedOptions {
  /** The price posted every repricing day, currency units. */
  readonly price: number;
}

export class FixedStrategy implements PricingStrategy {
  readonly kind = 'fixed';
  readonly price: number;

  constructor(options: FixedOptions) {
    this.price = options.price;
  }

  nextPrice(): number {
    return this.price;
  }
}
