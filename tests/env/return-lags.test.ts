import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RandomStream, derivedUniform, uniformToKey } from '../../core/random.js';
import { ReturnLagSampler, returnLagDistribution } from '../../env/return-lags.js';

/** The 0.999 quantile of chi-square with `df` degrees of freedom (Wilson-Hilferty; z = 3.0902). */
function chiSquareCritical(df: number): number {
  const z = 3.0902;
  return df * (1 - 2 / (9 * df) + z * Math.sqrt(2 / (9 * df))) ** 3;
}

/** The return windows of the built-in scenarios: [minLag, maxLag, meanLag, resellableFraction]. */
const windows: [number, number, number, number][] = [
  [3, 30, 6, 0.7],
  [2, 15, 4, 0.8],
  [5, 30, 10, 0.5],
  [1, 1, 1, 0.3],
];

describe('ReturnLagSampler', () => {
  it('is the inverse of the lag CDF: the guide table gives the lag a search from 0 gives', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 }), fc.integer({ min: 0, max: 40 }), fc.double({ min: 0.5, max: 20, noNaN: true }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (minLag, extra, mean, uniform) => {
        const sampler = new ReturnLagSampler(minLag, minLag + extra, mean, 0.7);
        const cumulative = sampler.cumulative;
        let expected = 0;
        while (expected < cumulative.length - 1 && uniform >= cumulative[expected]!) expected++;
        expect(sampler.lagIndex(uniform)).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });

  it.each(windows)('lag and resellability from one derived uniform follow the exact joint law (chi-square, window %i-%i days, mean %f, resellable %f)', (minLag, maxLag, mean, resellable) => {
    const sampler = new ReturnLagSampler(minLag, maxLag, mean, resellable);
    const cumulative = returnLagDistribution(minLag, maxLag, mean);
    const lagProbability = Array.from(cumulative, (value, index) => value - (index > 0 ? cumulative[index - 1]! : 0));
    const lags = lagProbability.length;
    const counts = new Float64Array(2 * lags);
    const stream = new RandomStream(2026, 'returns');
    const draws = 400_000;
    // As the market draws them: a few units per stream uniform, each from a derived uniform.
    for (let drawn = 0; drawn < draws; ) {
      const key = uniformToKey(stream.next());
      for (let unit = 0; unit < 4 && drawn < draws; unit++, drawn++) {
        const uniform = derivedUniform(key, unit);
        const lag = sampler.lagIndex(uniform);
        const isResellable = uniform < sampler.resellableBelow[lag]! ? 1 : 0;
        counts[2 * lag + isResellable]! += 1;
      }
    }
    let statistic = 0;
    let cells = 0;
    for (let lag = 0; lag < lags; lag++) {
      for (let isResellable = 0; isResellable < 2; isResellable++) {
        const expected = draws * lagProbability[lag]! * (isResellable ? resellable : 1 - resellable);
        if (expected < 5) continue; // too thin for chi-square: these cells are checked by the inverse-CDF property above
        statistic += (counts[2 * lag + isResellable]! - expected) ** 2 / expected;
        cells++;
      }
    }
    expect(cells).toBeGreaterThan(1);
    expect(statistic).toBeLessThan(chiSquareCritical(cells - 1));
  });

  it('resellability is independent of the lag: within every lag, the resellable share is the fraction', () => {
    const sampler = new ReturnLagSampler(3, 30, 6, 0.7);
    let previous = 0;
    sampler.cumulative.forEach((current, lag) => {
      const share = (sampler.resellableBelow[lag]! - previous) / (current - previous);
      expect(share).toBeCloseTo(0.7, 12);
      previous = current;
    });
  });
});
