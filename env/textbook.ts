/**
 * Textbook single-firm demand models and their profit-maximising prices, for known-answer
 * tests: a monopolist with unit cost c sets price p and earns (p - c) q(p).
 *
 * - Linear: q = a - b p (clamped at 0 above the choke price a/b). a in units per period,
 *   b in units per currency unit. Optimum (a/b + c)/2, for c < a/b.
 * - Constant elasticity: q = A p^e. A in units per period at price 1, e the price
 *   elasticity (dimensionless, e < -1 for a finite optimum; mean measured elasticity
 *   -2.62 over 1,851 estimates, Bijmolt, van Heerde & Pieters 2005). Optimum c e/(1 + e).
 * - Exponential: lambda(p) = a exp(-alpha p) (Gallego & van Ryzin 1994). a in units per
 *   period at price 0, alpha per currency unit. Static optimum 1/alpha + c.
 *
 * Spaces: prices and costs in currency per unit, demand in units per period. Deterministic.
 */
import { configError } from '../core/errors.js';

/** q = a - b p, never below 0. */
export function linearDemand(intercept: number, slope: number, price: number): number {
  return Math.max(0, intercept - slope * price);
}

/** q = A p^e. */
export function constantElasticityDemand(scale: number, elasticity: number, price: number): number {
  return scale * Math.pow(price, elasticity);
}

/** lambda(p) = a exp(-alpha p). */
export function exponentialDemand(scale: number, sensitivity: number, price: number): number {
  return scale * Math.exp(-sensitivity * price);
}

/** argmax (p - c)(a - b p) = (a/b + c)/2; requires b > 0 and c below the choke price a/b. */
export function linearOptimalPrice(intercept: number, slope: number, unitCost: number): number {
  if (!(slope > 0)) throw configError('linear demand', [{ path: ['slope'], message: `expected a slope b > 0, found ${slope}` }]);
  if (!(unitCost < intercept / slope)) {
    throw configError('linear demand', [
      { path: ['unitCost'], message: `expected a unit cost below the choke price a/b = ${intercept / slope}, found ${unitCost}` },
    ]);
  }
  return (intercept / slope + unitCost) / 2;
}

/** argmax (p - c) A p^e = c e/(1 + e); requires e < -1 (otherwise profit grows without bound). */
export function constantElasticityOptimalPrice(elasticity: number, unitCost: number): number {
  if (!(elasticity < -1)) {
    throw configError('constant-elasticity demand', [
      { path: ['elasticity'], message: `expected an elasticity below -1 (elastic demand), found ${elasticity}; profit has no finite maximum otherwise` },
    ]);
  }
  return (unitCost * elasticity) / (1 + elasticity);
}

/** argmax (p - c) a exp(-alpha p) = 1/alpha + c; requires alpha > 0. */
export function exponentialOptimalPrice(sensitivity: number, unitCost: number): number {
  if (!(sensitivity > 0)) {
    throw configError('exponential demand', [{ path: ['sensitivity'], message: `expected a price sensitivity alpha > 0, found ${sensitivity}` }]);
  }
  return 1 / sensitivity + unitCost;
}

export interface GridMaximum {
  /** The best price on the grid (the first one on ties). */
  price: number;
  /** Its index in the grid. */
  index: number;
  /** The profit there. */
  profit: number;
}

/** The grid price with the highest profit (the first on ties). */
export function maximiseOnGrid(profit: (price: number) => number, prices: ArrayLike<number>): GridMaximum {
  if (prices.length === 0) throw configError('maximiseOnGrid', [{ path: ['prices'], message: 'expected at least one price, found none' }]);
  let best: GridMaximum = { price: prices[0]!, index: 0, profit: profit(prices[0]!) };
  for (let index = 1; index < prices.length; index++) {
    const price = prices[index]!;
    const value = profit(price);
    if (value > best.profit) best = { price, index, profit: value };
  }
  return best;
}
