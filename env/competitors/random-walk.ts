/**
 * Random walk within bounds: a rival whose price drifts without looking at anyone else
 * (noise traders, manual repricing by feel). It gives the agent a moving but
 * uninformative competitor.
 *
 * Parameters: step (currency units; largest move per repricing, up or down),
 * min and max (currency units; the band the price stays in).
 * Behaviour: next = clamp(own last regular price + (2u - 1) * step, min, max), with u the
 * rival's uniform of the day, so moves are uniform on [-step, +step). The walk starts from
 * `context.lastPrices[context.firmIndex]`, which the Rival wrapper fills with its regular
 * (undiscounted) price, so a festival discount never drags the walk down.
 */
import type { PricingStrategy, StrategyContext } from './strategy.js';

export interface RandomWalkOptions {
  /** Largest move per repricing, up or down, currency units. */
  readonly step: number;
  /** Lowest price, currency units. */
  readonly min: number;
  /** Highest price, currency units. */
  readonly max: number;
}

export class RandomWalkStrategy implements PricingStrategy {
  readonly kind = 'random-walk';

  constructor(readonly options: RandomWalkOptions) {}

  nextPrice(context: StrategyContext): number {
    const ownLastPrice = context.lastPrices[context.firmIndex] ?? (this.options.min + this.options.max) / 2;
    const proposed = ownLastPrice + (2 * context.uniform - 1) * this.options.step;
    return Math.min(this.options.max, Math.max(this.options.min, proposed));
  }
}
