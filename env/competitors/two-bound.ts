/**
 * Two-bound (Edgeworth cycle) pricing: undercut the lowest rival by a step until the price
 * would fall below a floor, then jump back to a ceiling and start again. Two such rivals
 * playing each other produce the sawtooth "Edgeworth cycles" of Maskin & Tirole (1988,
 * "A theory of dynamic oligopoly II", Econometrica 56(3)), observed in retail gasoline
 * (Noel 2007, "Edgeworth price cycles", Review of Economics and Statistics 89(2)).
 *
 * Parameters: step (currency units; d, the undercut), floor (currency units; lowest price
 * before the jump), ceiling (currency units; the price after the jump; above floor).
 * Behaviour: target = min over the other firms' last prices - step; next = target if
 * target >= floor, else ceiling. With no other firm, it undercuts its own last price.
 */
import { lowestRivalPrice } from './match.js';
import type { PricingStrategy, StrategyContext } from './strategy.js';

export interface TwoBoundOptions {
  /** d: undercut the lowest rival by this much, currency units. */
  readonly step: number;
  /** Lowest price before jumping back up, currency units. */
  readonly floor: number;
  /** Price after the jump, currency units. */
  readonly ceiling: number;
}

export class TwoBoundStrategy implements PricingStrategy {
  readonly kind = 'two-bound';

  constructor(readonly options: TwoBoundOptions) {}

  nextPrice(context: StrategyContext): number {
    const target = lowestRivalPrice(context.lastPrices, context.firmIndex) - this.options.step;
    // The unary plus is deliberate: without it V8 boxes the result of this branch on every
    // call (a field read merged with a computed float); with it the price stays unboxed.
    return target < this.options.floor ? +this.options.ceiling : target;
  }
}
