/**
 * Undercut the lowest price: a rival that posts `amount` below the lowest price among the
 * other firms, but never below its cost plus a margin (the "beat the lowest price by a
 * cent" rule of marketplace repricing tools; Chen, Mislove & Wilson 2016). Two undercutters
 * facing each other race down to the higher of their floors: Bertrand competition in steps.
 *
 * Parameters: amount (currency units; eps below the lowest rival price),
 * floorMargin (share; never below unitCost * (1 + floorMargin)).
 * Behaviour: next = max(min over the other firms' last prices - amount,
 * unitCost * (1 + floorMargin)). With no other firm, it undercuts its own last price.
 */
import { lowestRivalPrice } from './match.js';
import type { PricingStrategy, StrategyContext } from './strategy.js';

export interface UndercutOptions {
  /** How far below the lowest rival price, currency units. */
  readonly amount: number;
  /** Never below unitCost * (1 + floorMargin); 0.1 keeps a 10% margin. */
  readonly floorMargin: number;
}

export class UndercutStrategy implements PricingStrategy {
  readonly kind = 'undercut';

  constructor(readonly options: UndercutOptions) {}

  nextPrice(context: StrategyContext): number {
    const floor = context.unitCost * (1 + this.options.floorMargin);
    return Math.max(lowestRivalPrice(context.lastPrices, context.firmIndex) - this.options.amount, floor);
  }
}
