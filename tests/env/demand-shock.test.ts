import { describe, expect, it, vi } from 'vitest';
import gammainc from '@stdlib/math-base-special-gammainc';
import negativeBinomialCdf from '@stdlib/stats-base-dists-negative-binomial-cdf';
import { buildMarketModel } from '../../env/model.js';
import { MarketSimulation } from '../../env/market.js';
import { RandomStream } from '../../core/random.js';
import { gammaFromStream } from '../../env/demand-shock.js';
import { builtInScenarioIds, loadScenario, validateScenario } from '../../scenarios/load.js';
import { PricelabError } from '../../core/errors.js';
import type { ScenarioInput } from '../../scenarios/schema.js';

/** One logit segment, no calendar effects: the day's mean is the same every day at a fixed price. */
function flatScenario(shock?: { size: number; periodDays?: number }, horizonDays = 3650): ScenarioInput {
  return {
    id: 'shock-test-v1',
    version: 1,
    description: 'demand shock test',
    card: { models: 'one segment', purpose: 'test' },
    startDate: '2026-01-01',
    horizonDays,
    unitCost: 5,
    listPrice: 10,
    priceLadder: { kind: 'list', prices: [8, 10, 12] },
    demand: { kind: 'logit', quality: 3, outsideUtility: 0, segments: [{ name: 'all', arrivalRate: 40, priceSensitivity: 0.3, scale: 1 }] },
    ...(shock ? { demandShock: shock } : {}),
  };
}

/** Units demanded per day over `seeds` episodes at the middle price, and the day's mean without the shock. */
function simulateUnits(scenario: ScenarioInput, seeds: number): { units: number[]; arrivals: number[]; mean: number } {
  const model = buildMarketModel(validateScenario(scenario));
  const market = new MarketSimulation(model);
  const units: number[] = [];
  const arrivals: number[] = [];
  let mean = 0;
  for (let seed = 0; seed < seeds; seed++) {
    market.reset(seed);
    mean = market.expectedUnitsAt(10);
    for (let day = 0; day < model.horizon; day++) {
      const outcome = market.stepIndex(1);
      units.push(outcome.demand);
      arrivals.push(outcome.arrivals);
    }
  }
  return { units, arrivals, mean };
}

function moments(values: readonly number[]): { mean: number; variance: number; fourth: number } {
  const n = values.length;
  const mean = values.reduce((total, value) => total + value, 0) / n;
  let variance = 0;
  let fourth = 0;
  for (const value of values) {
    variance += (value - mean) ** 2;
    fourth += (value - mean) ** 4;
  }
  return { mean, variance: variance / (n - 1), fourth: fourth / n };
}

describe('demand shock: Poisson units mixed over a Gamma(k, 1/k) shock are NB2 with size k', () => {
  const size = 5;
  const { units, mean } = simulateUnits(flatScenario({ size }), 4); // 14,600 days

  it('mean m and variance m + m^2/k, within 4 standard errors (SE from the sample itself)', () => {
    const observed = moments(units);
    const n = units.length;
    expect(mean).toBeGreaterThan(5);
    const meanError = Math.sqrt(observed.variance / n);
    expect(Math.abs(observed.mean - mean)).toBeLessThan(4 * meanError);
    const expectedVariance = mean + (mean * mean) / size;
    // SE of the sample variance: sqrt((mu4 - sigma^4) / n).
    const varianceError = Math.sqrt((observed.fourth - observed.variance ** 2) / n);
    expect(Math.abs(observed.variance - expectedVariance)).toBeLessThan(4 * varianceError);
    // The Poisson variance (m) is far outside: the test can tell the two laws apart.
    expect(Math.abs(observed.variance - mean)).toBeGreaterThan(10 * varianceError);
  });

  it('the counts pass a chi-square test against the NB2 pmf (stdlib), p > 0.001', () => {
    const p = size / (size + mean);
    const cdf = (count: number) => (count < 0 ? 0 : negativeBinomialCdf(count, size, p));
    const n = units.length;
    // Bins of single counts with expected >= 10, the rest pooled into the two tails.
    const lowest = (() => { let c = 0; while (n * cdf(c) < 10) c++; return c; })();
    let highest = lowest;
    while (n * (1 - cdf(highest)) >= 10) highest++;
    highest--;
    const edges: [number, number][] = [[-1, lowest]];
    for (let count = lowest + 1; count <= highest; count++) edges.push([count - 1, count]);
    edges.push([highest, Number.POSITIVE_INFINITY]);
    let statistic = 0;
    for (const [after, upTo] of edges) {
      const expected = n * ((upTo === Number.POSITIVE_INFINITY ? 1 : cdf(upTo)) - cdf(after));
      const observed = units.filter((value) => value > after && value <= upTo).length;
      statistic += (observed - expected) ** 2 / expected;
    }
    const degrees = edges.length - 1;
    const pValue = gammainc(statistic / 2, degrees / 2, true, true);
    expect(degrees).toBeGreaterThan(10);
    expect(pValue).toBeGreaterThan(0.001);
  });

  it('the same seed gives the same episode; another seed another', () => {
    const model = buildMarketModel(validateScenario(flatScenario({ size: 2, periodDays: 7 }, 200)));
    const run = (seed: number) => {
      const market = new MarketSimulation(model);
      market.reset(seed);
      return Array.from({ length: 200 }, (_, day) => market.stepIndex(day % 3).demand);
    };
    expect(run(3)).toEqual(run(3));
    expect(run(3)).not.toEqual(run(4));
  });

  it('the shock is held for periodDays days and changes between periods; its mean is 1 and variance 1/k', () => {
    const periodDays = 7;
    const { arrivals } = simulateUnits(flatScenario({ size: 3, periodDays }, 7 * 300), 2);
    const shocks = arrivals.map((value) => value / 40);
    const perPeriod: number[] = [];
    for (let start = 0; start < shocks.length; start += periodDays) {
      const block = shocks.slice(start, start + periodDays);
      for (const value of block) expect(value).toBe(block[0]);
      perPeriod.push(block[0]!);
    }
    expect(new Set(perPeriod).size).toBe(perPeriod.length);
    const observed = moments(perPeriod);
    expect(Math.abs(observed.mean - 1)).toBeLessThan(4 * Math.sqrt(1 / 3 / perPeriod.length));
    expect(Math.abs(observed.variance - 1 / 3)).toBeLessThan(4 * Math.sqrt((observed.fourth - observed.variance ** 2) / perPeriod.length));
  });

  it('gamma draws below shape 1 (boost) keep mean = shape and variance = shape', () => {
    const stream = new RandomStream(9, 'test');
    const draws = Array.from({ length: 20_000 }, () => gammaFromStream(0.4, stream));
    const observed = moments(draws);
    expect(Math.abs(observed.mean - 0.4)).toBeLessThan(4 * Math.sqrt(0.4 / draws.length));
    expect(Math.abs(observed.variance - 0.4)).toBeLessThan(4 * Math.sqrt((observed.fourth - observed.variance ** 2) / draws.length));
  });

  it('without the field the shock stream is never drawn and every day multiplies by exactly 1 (episodes unchanged)', () => {
    const reseed = vi.spyOn(RandomStream.prototype, 'reseed');
    const next = vi.spyOn(RandomStream.prototype, 'next');
    try {
      for (const id of builtInScenarioIds()) {
        const model = buildMarketModel(loadScenario(id).scenario);
        expect(model.demandShock).toBeUndefined();
        const market = new MarketSimulation(model);
        reseed.mockClear();
        market.reset(1);
        expect(reseed.mock.calls.map((call) => call[1])).not.toContain('demand-shocks');
      }
      // With the field, reset does draw from it.
      const market = new MarketSimulation(buildMarketModel(validateScenario(flatScenario({ size: 5 }, 30))));
      reseed.mockClear();
      next.mockClear();
      market.reset(1);
      expect(reseed.mock.calls.map((call) => call[1])).toContain('demand-shocks');
      expect(next.mock.calls.length).toBeGreaterThan(30);
    } finally {
      reseed.mockRestore();
      next.mockRestore();
    }
    // No shock: arrivals are the segment's rate exactly (a multiplication by 1 changes no bit).
    const { arrivals } = simulateUnits(flatScenario(undefined, 50), 1);
    for (const value of arrivals) expect(value).toBe(40);
  });

  it('deterministic scenarios ignore the shock (its mean, 1)', () => {
    const scenario = { ...flatScenario({ size: 0.5 }, 20), deterministic: true };
    expect(buildMarketModel(validateScenario(scenario)).demandShock).toBeUndefined();
    const { arrivals } = simulateUnits(scenario, 1);
    for (const value of arrivals) expect(value).toBe(40);
  });

  it('the schema rejects sizes outside (0, 1e8] and periods outside whole 1..366, naming the field', () => {
    for (const shock of [{ size: 0 }, { size: -1 }, { size: 2e8 }, { size: 5, periodDays: 0 }, { size: 5, periodDays: 1.5 }, { size: 5, periodDays: 367 }]) {
      let error: unknown;
      try {
        validateScenario(flatScenario(shock, 10));
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(PricelabError);
      expect(JSON.stringify((error as PricelabError).problems)).toContain('demandShock');
    }
    expect(validateScenario(flatScenario({ size: 5 }, 10)).demandShock).toEqual({ size: 5, periodDays: 1 });
  });
});
