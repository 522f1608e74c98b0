/**
 * Best response: a rival that sets the price maximising its own expected profit today,
 * given every other firm's price yesterday (myopic best-reply dynamics). Under logit demand
 * the best response solves the first-order condition p = c + 1 / (b (1 - s(p))) with s the
 * rival's share; iterated best replies converge to the Bertrand-Nash price (the benchmark of
 * Calvano, Calzolari, Denicolo & Pastorello 2020, "Artificial intelligence, algorithmic
 * pricing, and collusion", AER 110(10)).
 *
 * Parameters: none in the scenario; the demand model supplies a BestResponder (it knows
 * the segments, qualities and costs), passed in at construction.
 * Behaviour: next = bestResponder.bestResponse(firmIndex, lastPrices). lastPrices holds the
 * rival's own regular price at its own index (see rival.ts); the responder ignores it.
 */
import type { BestResponder, PricingStrategy, StrategyContext } from './strategy.js';

export class BestResponseStrategy implements PricingStrategy {
  readonly kind = 'best-response';
  readonly bestResponder: BestResponder;

  constructor(bestResponder: BestResponder) {
    this.bestResponder = bestResponder;
  }

  nextPrice(context: StrategyContext): number {
    return this.bestResponder.bestResponse(context.firmIndex, context.lastPrices);
  }
}
