import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PricelabError } from '../../core/errors.js';
import { gallegoVanRyzinValue, solveExponentialContinuous, solveFiniteStockDp } from '../../env/oracle.js';
import type { FiniteStockProblem } from '../../env/oracle.js';

/** Gallego & van Ryzin's example: a = 10, alpha = 1, n = 10, t = 1. */
const scale = 10;
const sensitivity = 1;
const stock = 10;
const horizon = 1;
const closedForm = 3.677289;

function exponentialContinuous(periods: number): number {
  return solveExponentialContinuous({ scale, sensitivity, periodLength: horizon / periods, stock, periods }).optimalValue;
}

/** At most one arrival per period, with probability a (t/K) exp(-alpha p). */
function bernoulliLadderProblem(periods: number, prices: number[]): FiniteStockProblem {
  return {
    stock,
    periods,
    prices,
    unitsDemandedPmf: (price, out) => {
      const saleProbability = scale * (horizon / periods) * Math.exp(-sensitivity * price);
      out[0] = 1 - saleProbability;
      out[1] = saleProbability;
      return 2;
    },
  };
}

/** Poisson demand with mean meanAtZero * exp(-sensitivity p), the tail mass in the last cell. */
function poissonPmf(meanAtZero: number, priceSensitivity: number) {
  return (price: number, out: Float64Array): number => {
    const mean = meanAtZero * Math.exp(-priceSensitivity * price);
    let probability = Math.exp(-mean);
    let total = 0;
    for (let units = 0; units < out.length - 1; units++) {
      out[units] = probability;
      total += probability;
      probability *= mean / (units + 1);
    }
    out[out.length - 1] = Math.max(0, 1 - total);
    return out.length;
  };
}

describe('solveExponentialContinuous', () => {
  it('gives V_0(10) = 3.677660 with K = 100 periods', () => {
    expect(Math.abs(exponentialContinuous(100) - 3.67766)).toBeLessThan(1e-4);
  });

  it('approaches the continuous-time value monotonically as periods shorten', () => {
    const gaps = [100, 1000, 10_000].map((periods) => exponentialContinuous(periods) - closedForm);
    expect(gaps[0]).toBeGreaterThan(gaps[1]!);
    expect(gaps[1]).toBeGreaterThan(gaps[2]!);
    expect(Math.abs(gaps[2]!)).toBeLessThan(1e-4);
  });

  it('prices at 1/alpha + dV and has V_k(0) = 0', () => {
    const { valueTable, pricePolicy } = solveExponentialContinuous({ scale, sensitivity, periodLength: 0.01, stock, periods: 100 });
    for (let period = 0; period < 100; period++) {
      expect(valueTable[period]![0]).toBe(0);
      expect(pricePolicy[period]![stock]).toBeCloseTo(1 / sensitivity + valueTable[period + 1]![stock]! - valueTable[period + 1]![stock - 1]!, 12);
    }
  });

  it('prices where a sale is certain when demand is too strong for the unconstrained optimum', () => {
    // a * periodLength = 20, so d(p) = 1 at p = ln 20; with one period and one unit the optimum 1/alpha = 1 would give d > 1.
    const { optimalValue, pricePolicy } = solveExponentialContinuous({ scale: 20, sensitivity: 1, periodLength: 1, stock: 1, periods: 1 });
    expect(pricePolicy[0]![1]).toBeCloseTo(Math.log(20), 12);
    expect(optimalValue).toBeCloseTo(Math.log(20), 12);
  });
});

describe('gallegoVanRyzinValue', () => {
  it('gives J*(10, 1) = 3.677289 for a = 10, alpha = 1', () => {
    expect(Math.abs(gallegoVanRyzinValue(scale, sensitivity, stock, horizon) - closedForm)).toBeLessThan(1e-5);
  });

  it('is 0 without stock or time, and finite for large stock and horizons', () => {
    expect(gallegoVanRyzinValue(scale, sensitivity, 0, horizon)).toBe(0);
    expect(gallegoVanRyzinValue(scale, sensitivity, stock, 0)).toBe(0);
    const large = gallegoVanRyzinValue(scale, sensitivity, 5000, 10_000);
    expect(Number.isFinite(large)).toBe(true);
    expect(large).toBeGreaterThan(0);
  });
});

describe('solveFiniteStockDp', () => {
  it('is within 1e-3 of the continuous-price optimum on a fine ladder, and never above it', () => {
    const ladder = Array.from({ length: 2000 }, (_unused, index) => (10 * index) / 1999);
    const periods = 100;
    const discrete = solveFiniteStockDp(bernoulliLadderProblem(periods, ladder));
    const continuous = solveExponentialContinuous({ scale, sensitivity, periodLength: horizon / periods, stock, periods });
    expect(continuous.optimalValue - discrete.optimalValue).toBeLessThan(1e-3);
    for (let period = 0; period <= periods; period++) {
      for (let units = 0; units <= stock; units++) {
        expect(discrete.valueTable[period]![units]).toBeLessThanOrEqual(continuous.valueTable[period]![units]! + 1e-12);
      }
    }
  });

  it('returns consistent tables: shapes, V_K = salvage, V_k(0) = 0, prices from the policy', () => {
    const prices = [2, 4, 6, 8];
    const result = solveFiniteStockDp({ stock: 5, periods: 7, prices, unitsDemandedPmf: poissonPmf(3, 0.2), unitCost: 1, holdingCost: 0.1, salvageValue: 0.5 });
    expect(result.valueTable).toHaveLength(8);
    expect(result.policy).toHaveLength(7);
    expect(result.pricePolicy).toHaveLength(7);
    expect(Array.from(result.valueTable[7]!)).toEqual([0, 0.5, 1, 1.5, 2, 2.5]);
    expect(result.optimalValue).toBe(result.valueTable[0]![5]);
    for (let period = 0; period < 7; period++) {
      expect(result.valueTable[period]![0]).toBe(0);
      for (let units = 0; units <= 5; units++) expect(result.pricePolicy[period]![units]).toBe(prices[result.policy[period]![units]!]);
    }
  });

  it('matches a brute-force expectation for one period', () => {
    const pmf = poissonPmf(2, 0.3);
    const prices = [1, 3, 5];
    const problem: FiniteStockProblem = { stock: 3, periods: 1, prices, unitsDemandedPmf: pmf, unitCost: 0.5, holdingCost: 0.2, salvageValue: 0.1 };
    const bruteForce = Math.max(
      ...prices.map((price) => {
        const probabilities = new Float64Array(4);
        pmf(price, probabilities);
        return Array.from(probabilities).reduce((sum, probability, demand) => {
          const sold = Math.min(demand, 3);
          return sum + probability * ((price - 0.5) * sold - 0.2 * (3 - sold) + 0.1 * (3 - sold));
        }, 0);
      }),
    );
    expect(solveFiniteStockDp(problem).optimalValue).toBeCloseTo(bruteForce, 12);
  });

  it('has value nondecreasing in stock and in periods (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 8 }),
        fc.integer({ min: 0, max: 8 }),
        fc.double({ min: 0, max: 2, noNaN: true }),
        fc.array(fc.double({ min: 0, max: 10, noNaN: true }), { minLength: 1, maxLength: 6 }),
        fc.double({ min: 0.5, max: 6, noNaN: true }),
        fc.double({ min: 0.05, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (stockLevel, periods, unitCost, markups, meanAtZero, priceSensitivity, salvageFraction) => {
          // Prices at or above cost, no holding cost, salvage at most the best margin: more stock or more time cannot hurt.
          const prices = markups.map((markup) => unitCost + markup);
          const salvageValue = salvageFraction * Math.max(...markups);
          const solve = (units: number, horizonPeriods: number) =>
            solveFiniteStockDp({ stock: units, periods: horizonPeriods, prices, unitsDemandedPmf: poissonPmf(meanAtZero, priceSensitivity), unitCost, salvageValue }).optimalValue;
          const value = solve(stockLevel, periods);
          expect(solve(stockLevel + 1, periods)).toBeGreaterThanOrEqual(value - 1e-9);
          expect(solve(stockLevel, periods + 1)).toBeGreaterThanOrEqual(value - 1e-9);
        },
      ),
      { numRuns: 150, seed: 1994 },
    );
  });

  it('has V_k(0) = 0 whatever the costs', () => {
    const result = solveFiniteStockDp({ stock: 4, periods: 6, prices: [0.5, 3], unitsDemandedPmf: poissonPmf(4, 0.5), unitCost: 2, holdingCost: 1, salvageValue: -1 });
    for (const values of result.valueTable) expect(values[0]).toBe(0);
  });

  it('reports every problem in an invalid problem, and a pmf that does not sum to 1', () => {
    let caught: unknown;
    try {
      solveFiniteStockDp({ stock: -1, periods: 1.5, prices: [], unitsDemandedPmf: () => 1, holdingCost: Number.NaN });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(PricelabError);
    expect((caught as PricelabError).problems.map((problem) => problem.path.join('.'))).toEqual(['stock', 'periods', 'prices', 'holdingCost']);
    const leaky: FiniteStockProblem = {
      stock: 3,
      periods: 1,
      prices: [1],
      unitsDemandedPmf: (_price, out) => {
        out[0] = 0.5;
        out[1] = 0.3;
        return 2;
      },
    };
    expect(() => solveFiniteStockDp(leaky)).toThrow(/summing to 1/);
    expect(() => solveExponentialContinuous({ scale: 0, sensitivity: 1, periodLength: 0.1, stock: 1, periods: 1 })).toThrow(PricelabError);
  });
});
