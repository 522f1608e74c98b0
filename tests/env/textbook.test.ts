import { describe, expect, it } from 'vitest';
import { PricelabError } from '../../core/errors.js';
import {
  constantElasticityDemand,
  constantElasticityOptimalPrice,
  exponentialDemand,
  exponentialOptimalPrice,
  linearDemand,
  linearOptimalPrice,
  maximiseOnGrid,
} from '../../env/textbook.js';

const gridStep = 1e-4;

function fineGrid(lowest: number, highest: number): Float64Array {
  const count = Math.round((highest - lowest) / gridStep) + 1;
  return Float64Array.from({ length: count }, (_unused, index) => lowest + index * gridStep);
}

describe('textbook demand models', () => {
  it.each([
    [100, 2, 10],
    [50, 0.5, 30],
    [8, 4, 0],
  ])('linear q = %d - %d p with cost %d: the optimum (a/b + c)/2 beats every grid price', (intercept, slope, unitCost) => {
    const optimum = linearOptimalPrice(intercept, slope, unitCost);
    const profit = (price: number) => (price - unitCost) * linearDemand(intercept, slope, price);
    const best = maximiseOnGrid(profit, fineGrid(0, intercept / slope + 1));
    expect(Math.abs(best.price - optimum)).toBeLessThanOrEqual(gridStep);
    expect(profit(optimum)).toBeGreaterThanOrEqual(best.profit);
  });

  it.each([
    [-2.62, 1],
    [-3.6, 5],
    [-1.5, 2],
  ])('constant elasticity %d with cost %d: the optimum c e/(1 + e) beats every grid price', (elasticity, unitCost) => {
    const optimum = constantElasticityOptimalPrice(elasticity, unitCost);
    const profit = (price: number) => (price - unitCost) * constantElasticityDemand(1000, elasticity, price);
    const best = maximiseOnGrid(profit, fineGrid(unitCost, 4 * optimum));
    expect(Math.abs(best.price - optimum)).toBeLessThanOrEqual(gridStep);
    expect(profit(optimum)).toBeGreaterThanOrEqual(best.profit);
  });

  it.each([
    [1, 0],
    [0.5, 3],
    [4, 1],
  ])('exponential with alpha %d and cost %d: the optimum 1/alpha + c beats every grid price', (sensitivity, unitCost) => {
    const optimum = exponentialOptimalPrice(sensitivity, unitCost);
    const profit = (price: number) => (price - unitCost) * exponentialDemand(10, sensitivity, price);
    const best = maximiseOnGrid(profit, fineGrid(0, unitCost + 10 / sensitivity));
    expect(Math.abs(best.price - optimum)).toBeLessThanOrEqual(gridStep);
    expect(profit(optimum)).toBeGreaterThanOrEqual(best.profit);
  });

  it('evaluates the demand curves', () => {
    expect(linearDemand(10, 2, 3)).toBe(4);
    expect(linearDemand(10, 2, 6)).toBe(0);
    expect(constantElasticityDemand(100, -2, 5)).toBeCloseTo(4, 12);
    expect(exponentialDemand(10, 1, 0)).toBe(10);
    expect(exponentialDemand(10, 1, 1)).toBeCloseTo(10 / Math.E, 12);
  });

  it('maximiseOnGrid returns the first best price on ties, its index and profit', () => {
    expect(maximiseOnGrid((price) => -Math.abs(price - 2), [1, 2, 3, 2])).toEqual({ price: 2, index: 1, profit: -0 });
    expect(() => maximiseOnGrid((price) => price, [])).toThrow(PricelabError);
  });

  it('refuses parameters without a finite optimum', () => {
    expect(() => constantElasticityOptimalPrice(-0.8, 1)).toThrow(/elasticity below -1/);
    expect(() => linearOptimalPrice(10, 2, 6)).toThrow(/choke price/);
    expect(() => exponentialOptimalPrice(0, 1)).toThrow(PricelabError);
  });
});
