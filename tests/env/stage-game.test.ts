import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PricelabError } from '../../core/errors.js';
import { LogitStageGame } from '../../env/stage-game.js';
import type { StageGameConfig, StageGameFirm, StageGameSegment } from '../../env/stage-game.js';

const calvano: StageGameConfig = {
  firms: [
    { quality: 2, unitCost: 1 },
    { quality: 2, unitCost: 1 },
  ],
  segments: [{ weight: 1, priceSensitivity: 1, scale: 0.25 }],
  outsideUtility: 0,
};

const threeAsymmetric: StageGameConfig = {
  firms: [
    { quality: 2, unitCost: 1 },
    { quality: 2.4, unitCost: 1.3 },
    { quality: 1.6, unitCost: 0.7 },
  ],
  segments: [{ weight: 1, priceSensitivity: 1.2, scale: 0.3 }],
  outsideUtility: 0.2,
};

const fiveAsymmetric: StageGameConfig = {
  firms: [
    { quality: 2, unitCost: 1 },
    { quality: 2.2, unitCost: 1.1 },
    { quality: 1.8, unitCost: 0.9 },
    { quality: 2.5, unitCost: 1.6 },
    { quality: 1.5, unitCost: 0.5 },
  ],
  segments: [{ weight: 3, priceSensitivity: 1, scale: 0.25 }],
  outsideUtility: 0,
};

const twoSegmentMixture: StageGameConfig = {
  firms: [
    { quality: 2, unitCost: 1 },
    { quality: 2.5, unitCost: 1.2 },
    { quality: 1.7, unitCost: 0.8 },
  ],
  segments: [
    { weight: 0.6, priceSensitivity: 1.5, scale: 0.25 },
    { weight: 0.4, priceSensitivity: 0.5, scale: 0.4 },
  ],
  outsideUtility: 0,
};

const asymmetricGames: [string, StageGameConfig][] = [
  ['3 asymmetric firms', threeAsymmetric],
  ['5 asymmetric firms', fiveAsymmetric],
  ['a 2-segment mixture', twoSegmentMixture],
];

/** Each segment's logit shares q_si, from a one-segment game of weight 1. */
function segmentShares(config: StageGameConfig, prices: number[]): Float64Array[] {
  return config.segments.map((segment) => {
    const single = new LogitStageGame({ ...config, segments: [{ ...segment, weight: 1 }] });
    return single.demand(prices, new Float64Array(config.firms.length));
  });
}

/** sum_s w_s [q_si - (p_i - c_i)(b_s/mu_s) q_si (1 - q_si)], the Nash first-order condition of firm i. */
function nashResidual(config: StageGameConfig, prices: number[], firm: number): number {
  const shares = segmentShares(config, prices);
  const markup = prices[firm]! - config.firms[firm]!.unitCost;
  return config.segments.reduce((sum, segment, index) => {
    const share = shares[index]![firm]!;
    return sum + segment.weight * (share - markup * (segment.priceSensitivity / segment.scale) * share * (1 - share));
  }, 0);
}

function jointProfit(game: LogitStageGame, prices: number[]): number {
  return game.profits(prices).reduce((sum, profit) => sum + profit, 0);
}

function symmetricGame(firmCount: number): LogitStageGame {
  return new LogitStageGame({ ...calvano, firms: Array.from({ length: firmCount }, () => ({ quality: 2, unitCost: 1 })) });
}

describe('LogitStageGame', () => {
  it('reproduces the Calvano et al. (2020) duopoly benchmarks', () => {
    const game = new LogitStageGame(calvano);
    const nash = game.nash();
    const monopoly = game.monopoly();
    for (let firm = 0; firm < 2; firm++) {
      expect(Math.abs(nash.prices[firm]! - 1.47292666)).toBeLessThan(1e-6);
      expect(Math.abs(nash.profits[firm]! - 0.22292666)).toBeLessThan(1e-6);
      expect(Math.abs(monopoly.prices[firm]! - 1.924980919)).toBeLessThan(1e-6);
      expect(Math.abs(monopoly.profits[firm]! - 0.3374904595)).toBeLessThan(1e-6);
    }
  });

  it('satisfies the single-segment Nash condition p_i = c_i + mu / (b (1 - q_i))', () => {
    const game = new LogitStageGame(fiveAsymmetric);
    const { prices } = game.nash();
    const shares = segmentShares(fiveAsymmetric, prices)[0]!;
    fiveAsymmetric.firms.forEach((firm, index) => {
      expect(prices[index]).toBeCloseTo(firm.unitCost + 0.25 / (1 * (1 - shares[index]!)), 10);
    });
  });

  it('computes demand as weighted logit shares that stay finite at extreme utilities', () => {
    const game = new LogitStageGame({ ...calvano, segments: [{ weight: 5, priceSensitivity: 1, scale: 0.001 }] });
    const demand = game.demand([-100, 1000], new Float64Array(2));
    expect(demand[0]).toBeCloseTo(5, 12);
    expect(demand[1]).toBe(0);
    const shares = new LogitStageGame(twoSegmentMixture).demand([1.5, 1.8, 1.2], new Float64Array(3));
    const total = shares.reduce((sum, units) => sum + units, 0);
    expect(total).toBeGreaterThan(0);
    expect(total).toBeLessThan(1);
  });

  describe.each(asymmetricGames)('Nash equilibrium with %s', (_name, config) => {
    const game = new LogitStageGame(config);
    const nash = game.nash();

    it('has a first-order-condition residual near 0', () => {
      config.firms.forEach((_firm, index) => expect(Math.abs(nashResidual(config, nash.prices, index))).toBeLessThan(1e-10));
    });

    it('leaves no firm a profitable unilateral deviation on a price grid', () => {
      config.firms.forEach((firm, index) => {
        for (let step = 0; step <= 600; step++) {
          const deviation = [...nash.prices];
          deviation[index] = firm.unitCost - 0.5 + step * 0.01;
          expect(game.profits(deviation)[index]).toBeLessThanOrEqual(nash.profits[index]! + 1e-12);
        }
      });
    });

    it('is a fixed point of bestResponse', () => {
      const prices = Float64Array.from(nash.prices);
      config.firms.forEach((_firm, index) => expect(Math.abs(game.bestResponse(index, prices) - nash.prices[index]!)).toBeLessThan(1e-10));
    });

    it('earns less joint profit than the monopoly, which no perturbation beats', () => {
      const monopoly = game.monopoly();
      const monopolyProfit = jointProfit(game, monopoly.prices);
      expect(monopolyProfit).toBeGreaterThanOrEqual(jointProfit(game, nash.prices));
      fc.assert(
        fc.property(fc.array(fc.double({ min: -0.5, max: 0.5, noNaN: true }), { minLength: config.firms.length, maxLength: config.firms.length }), (shifts) => {
          const perturbed = monopoly.prices.map((price, index) => price + shifts[index]!);
          return jointProfit(game, perturbed) <= monopolyProfit + 1e-12;
        }),
        { numRuns: 200, seed: 20260101 },
      );
    });
  });

  it('gives monopoly joint profit at least the Nash joint profit for random games (property)', () => {
    const firmArbitrary: fc.Arbitrary<StageGameFirm> = fc.record({
      quality: fc.double({ min: 1, max: 3, noNaN: true }),
      unitCost: fc.double({ min: 0, max: 1.5, noNaN: true }),
    });
    const segmentArbitrary: fc.Arbitrary<StageGameSegment> = fc.record({
      weight: fc.double({ min: 0.1, max: 2, noNaN: true }),
      priceSensitivity: fc.double({ min: 0.5, max: 2, noNaN: true }),
      scale: fc.double({ min: 0.1, max: 1, noNaN: true }),
    });
    fc.assert(
      fc.property(
        fc.array(firmArbitrary, { minLength: 1, maxLength: 4 }),
        fc.array(segmentArbitrary, { minLength: 1, maxLength: 2 }),
        fc.double({ min: -1, max: 1, noNaN: true }),
        (firms, segments, outsideUtility) => {
          const game = new LogitStageGame({ firms, segments, outsideUtility });
          const nash = game.nash();
          const monopoly = game.monopoly();
          const monopolyProfit = jointProfit(game, monopoly.prices);
          expect(monopolyProfit).toBeGreaterThanOrEqual(jointProfit(game, nash.prices) - 1e-12);
          const nudged = monopoly.prices.map((price, index) => price + (index % 2 === 0 ? 0.01 : -0.01));
          expect(monopolyProfit).toBeGreaterThanOrEqual(jointProfit(game, nudged) - 1e-12);
        },
      ),
      { numRuns: 60, seed: 7 },
    );
  });

  it('has Nash equal to monopoly with one firm', () => {
    for (const config of [
      { ...calvano, firms: [{ quality: 2, unitCost: 1 }] },
      { ...twoSegmentMixture, firms: [{ quality: 2.2, unitCost: 0.9 }] },
    ]) {
      const game = new LogitStageGame(config);
      const nash = game.nash();
      const monopoly = game.monopoly();
      expect(Math.abs(nash.prices[0]! - monopoly.prices[0]!)).toBeLessThan(1e-9);
      expect(Math.abs(nash.profits[0]! - monopoly.profits[0]!)).toBeLessThan(1e-12);
    }
  });

  it('lowers the Nash price as firms enter', () => {
    const nashPrices = [1, 2, 3, 4, 5].map((firmCount) => symmetricGame(firmCount).nash().prices[0]!);
    for (let index = 1; index < nashPrices.length; index++) expect(nashPrices[index]).toBeLessThan(nashPrices[index - 1]!);
  });

  it('computes best responses without changing the price array it is given', () => {
    const game = new LogitStageGame(twoSegmentMixture);
    const prices = Float64Array.from([1.5, 1.9, 1.2]);
    const response = game.bestResponse(1, prices);
    expect(Array.from(prices)).toEqual([1.5, 1.9, 1.2]);
    expect(game.bestResponse(1, prices)).toBe(response);
  });

  it.each([
    ['the loyal segment', 4, 0.1],
    ['the price-sensitive segment', 5, 0.3],
  ])('finds the global best response when a bimodal profit peaks for %s', (_peak, quality, loyalWeight) => {
    // A large price-sensitive segment and a small loyal one: own profit has two local maxima.
    const game = new LogitStageGame({
      firms: [
        { quality, unitCost: 1 },
        { quality, unitCost: 1 },
      ],
      segments: [
        { weight: 1, priceSensitivity: 4, scale: 0.1 },
        { weight: loyalWeight, priceSensitivity: 0.2, scale: 0.3 },
      ],
      outsideUtility: 0,
    });
    const rivalPrice = 1.3;
    const profitAt = (price: number): number => game.profits([price, rivalPrice])[0]!;
    const grid = Array.from({ length: 8001 }, (_unused, index) => 0.5 + index * 0.0025);
    const localMaxima = grid.filter((price, index) => index > 0 && index < grid.length - 1 && profitAt(price) > profitAt(grid[index - 1]!) && profitAt(price) > profitAt(grid[index + 1]!));
    expect(localMaxima).toHaveLength(2);
    const response = game.bestResponse(0, Float64Array.from([0, rivalPrice]));
    for (const price of grid) expect(profitAt(price)).toBeLessThanOrEqual(profitAt(response) + 1e-12);
  });

  it('reports every problem in an invalid config', () => {
    const invalid = {
      firms: [{ quality: Number.NaN, unitCost: -1 }],
      segments: [{ weight: 1, priceSensitivity: 0, scale: -0.25 }],
      outsideUtility: 0,
    };
    let caught: unknown;
    try {
      new LogitStageGame(invalid);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(PricelabError);
    const error = caught as PricelabError;
    expect(error.kind).toBe('config');
    expect(error.problems.map((problem) => problem.path.join('.'))).toEqual([
      'firms.0.quality',
      'firms.0.unitCost',
      'segments.0.priceSensitivity',
      'segments.0.scale',
    ]);
    expect(() => new LogitStageGame({ firms: [], segments: [], outsideUtility: 0 })).toThrow(/at least one firm[\s\S]*at least one customer segment/);
  });
});
