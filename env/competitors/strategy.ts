/**
 * The competitor strategy contract. A strategy turns what a rival firm can see (every
 * firm's price yesterday, its own cost, whether a festival is on) into its price today.
 * Strategies are pure given their inputs: the one uniform random number a rival draws
 * each day comes in through the context, drawn whether the strategy uses it or not, so
 * that the competitors' stream stays aligned whatever the agent does (common random numbers).
 * Latency, festival discounts and the sanity ceiling are applied around the strategy by
 * env/competitors/rival.ts, so every strategy gets them the same way.
 */
export interface StrategyContext {
  /** Day index since the scenario start. */
  readonly day: number;
  /** This rival's firm index (the focal firm, ours, is 0). */
  readonly firmIndex: number;
  /** Every firm's price yesterday, focal firm first. */
  readonly lastPrices: Float64Array;
  /** This rival's unit cost. */
  readonly unitCost: number;
  /** One uniform in [0, 1) drawn for this rival today from the competitors' stream. */
  readonly uniform: number;
}

export interface PricingStrategy {
  readonly kind: string;
  /** The price this strategy sets today, before latency, festival discount and ceiling. */
  nextPrice(context: StrategyContext): number;
}

/** What a best-responding rival needs from the demand model: its profit-maximising price. */
export interface BestResponder {
  bestResponse(firmIndex: number, prices: Float64Array): number;
}
