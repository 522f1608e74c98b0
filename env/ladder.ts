/**
 * The price ladder: the discrete prices the agent chooses among (the Discrete action space).
 * A list, an even range (optionally with charm endings: 19.99 rather than 20.00), or the
 * Calvano et al. (2020) grid spanning the Nash and monopoly prices, extended on both sides.
 */
import type { Scenario } from '../scenarios/schema.js';
import { configError } from '../core/errors.js';
import type { PriceProfile } from './stage-game.js';

export function buildPriceLadder(
  ladder: Scenario['priceLadder'],
  benchmarks: { nash: PriceProfile; monopoly: PriceProfile } | undefined,
): Float64Array {
  switch (ladder.kind) {
    case 'list':
      return Float64Array.from(ladder.prices);
    case 'range': {
      const prices: number[] = [];
      for (let index = 0; index < ladder.count; index++) {
        const price = ladder.min + ((ladder.max - ladder.min) * index) / (ladder.count - 1);
        prices.push(ladder.charmEnding === undefined ? price : charm(price, ladder.charmEnding));
      }
      const distinct = [...new Set(prices.map((price) => Math.round(price * 1e9) / 1e9))].filter((price) => price > 0);
      if (distinct.length < 2) throw configError('the price ladder has fewer than two distinct prices', [{ path: ['priceLadder'], message: `expected at least 2 distinct positive prices after charm endings, found ${distinct.length}` }]);
      return Float64Array.from(distinct);
    }
    case 'equilibrium-grid': {
      if (!benchmarks) throw configError('an equilibrium grid needs the Nash and monopoly prices', [{ path: ['priceLadder', 'kind'], message: 'expected logit demand' }]);
      const nash = benchmarks.nash.prices[0] ?? 0;
      const monopoly = benchmarks.monopoly.prices[0] ?? 0;
      const low = nash - ladder.extension * (monopoly - nash);
      const high = monopoly + ladder.extension * (monopoly - nash);
      const prices = new Float64Array(ladder.count);
      for (let index = 0; index < ladder.count; index++) prices[index] = low + ((high - low) * index) / (ladder.count - 1);
      return prices;
    }
  }
}

/** Rounds a price down to the nearest one ending in `ending` (charm pricing: 20.30 -> 19.99 with 0.99). */
export function charm(price: number, ending: number): number {
  const candidate = Math.floor(price) + ending;
  return Math.round((candidate > price + 1e-9 ? candidate - 1 : candidate) * 100) / 100;
}
