import fc from 'fast-check';
import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { RandomStream, createStream, derivedUniform } from '../../core/random.js';
import { binomialFromUniform, poissonFromUniform } from '../../env/sampling.js';
import gammaln from '@stdlib/math-base-special-gammaln';

/** Mean and variance of a sampler over a fine, evenly spaced grid of uniforms (quadrature of its inverse CDF). */
function moments(sample: (uniform: number) => number, points = 20_000) {
  let sum = 0;
  let squares = 0;
  for (let index = 0; index < points; index++) {
    const value = sample((index + 0.5) / points);
    sum += value;
    squares += value * value;
  }
  const mean = sum / points;
  return { mean, variance: squares / points - mean * mean };
}

/**
 * Uniforms as the seeded streams make them: whole multiples of 2^-32 (core/random.ts), zero
 * included. (A double near 1e-182 is no stream's output: there the lower tail's pmf
 * underflows and the search regime cannot climb back; see the card of env/sampling.ts.)
 */
const streamUniform = fc.integer({ min: 0, max: 2 ** 32 - 1 }).map((multiple) => multiple / 2 ** 32);

describe('RandomStream', () => {
  it("replays seedrandom's Alea sequence to the last bit", () => {
    for (const seed of [0, 1, 'abc', 123456789]) {
      const reference = seedrandom.alea(`pricelab:${seed}:customers`);
      const stream = new RandomStream(seed, 'customers');
      for (let index = 0; index < 1000; index++) expect(stream.next()).toBe(reference());
    }
  });

  it('reseeding restarts the stream; components are independent streams', () => {
    const stream = new RandomStream(7, 'weather');
    const first = [stream.next(), stream.next()];
    stream.reseed(7, 'weather');
    expect([stream.next(), stream.next()]).toEqual(first);
    expect(new RandomStream(7, 'returns').next()).not.toBe(first[0]);
    expect(createStream(7, 'weather')()).toBe(first[0]);
  });

  it('derived uniforms lie in [0, 1) and differ by index', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.nat(10_000), (key, index) => {
        const value = derivedUniform(key, index);
        expect(value).toBeGreaterThanOrEqual(0);
        expect(value).toBeLessThan(1);
        expect(derivedUniform(key, index + 1)).not.toBe(value);
      }),
    );
  });
});

/**
 * Poisson(mean)'s CDF and quantile, written independently of env/sampling.ts: the pmf in log
 * space (stdlib's log-gamma) summed over mean +- 40 standard deviations.
 */
function poissonReference(mean: number) {
  const low = Math.max(0, Math.floor(mean - 40 * Math.sqrt(mean) - 10));
  const high = Math.ceil(mean + 40 * Math.sqrt(mean) + 10);
  const pmf = (count: number) => Math.exp(count * Math.log(mean) - mean - gammaln(count + 1));
  // P(X <= k) summed up from the bottom and P(X > k) summed down from the top, each exact where it is small.
  const cumulative = new Float64Array(high - low + 1);
  const upperTail = new Float64Array(high - low + 1);
  let total = 0;
  for (let count = low; count <= high; count++) cumulative[count - low] = total += pmf(count);
  total = 0;
  for (let count = high; count >= low; count--) {
    upperTail[count - low] = total;
    total += pmf(count);
  }
  const cdf = (count: number) => (count < low ? 0 : count > high ? 1 : cumulative[count - low]!);
  const tail = (count: number) => (count < low ? 1 : count > high ? 0 : upperTail[count - low]!);
  /** Whether P(X <= count) >= uniform, read from whichever side is small. */
  const reaches = (count: number, uniform: number) => (uniform <= 0.5 ? cdf(count) >= uniform : tail(count) <= 1 - uniform);
  const quantile = (uniform: number) => {
    // The least count with P(X <= count) >= uniform, by bisection.
    let lower = low;
    let upper = high;
    while (lower < upper) {
      const middle = (lower + upper) >> 1;
      if (reaches(middle, uniform)) upper = middle;
      else lower = middle + 1;
    }
    return lower;
  };
  return { cdf, quantile };
}

describe('inversion samplers', () => {
  it.each([0.3, 4, 37, 480, 2500, 1e5, 2e7, 1e12])('Poisson(%d) has the right mean and variance', (mean) => {
    const result = moments((uniform) => poissonFromUniform(mean, uniform));
    expect(Math.abs(result.mean - mean)).toBeLessThan(0.05 + 3 * Math.sqrt(mean / 20_000));
    expect(result.variance / mean).toBeGreaterThan(0.9);
    expect(result.variance / mean).toBeLessThan(1.1);
  });

  it.each([501, 2500, 1e5, 1e6])('Poisson(%d) is the exact inverse of its CDF (one uniform in, its quantile out)', (mean) => {
    const reference = poissonReference(mean);
    const points = 4000;
    for (let index = 0; index < points; index++) {
      const uniform = (index + 0.5) / points;
      expect(poissonFromUniform(mean, uniform)).toBe(reference.quantile(uniform));
    }
    // The tails, where a search from a guess has the most ground to cover.
    for (const uniform of [1e-12, 1e-6, 0.999999, 1 - 2 ** -40]) expect(poissonFromUniform(mean, uniform)).toBe(reference.quantile(uniform));
  });

  it.each([50, 2500, 1e5])('Poisson(%d) passes a chi-square test against its pmf on random uniforms', (mean) => {
    const reference = poissonReference(mean);
    const stream = new RandomStream(11, 'chi-square');
    const draws = 40_000;
    // Bins of about equal probability (20 of them) from the reference CDF.
    const edges: number[] = [];
    for (let bin = 1; bin < 20; bin++) edges.push(reference.quantile(bin / 20));
    const unique = [...new Set(edges)];
    const observed = new Array<number>(unique.length + 1).fill(0);
    for (let draw = 0; draw < draws; draw++) {
      const value = poissonFromUniform(mean, stream.next());
      const bin = unique.findIndex((edge) => value <= edge);
      observed[bin < 0 ? unique.length : bin]!++;
    }
    let statistic = 0;
    let previous = 0;
    for (let bin = 0; bin <= unique.length; bin++) {
      const upto = bin < unique.length ? reference.cdf(unique[bin]!) : 1;
      const expected = draws * (upto - previous);
      statistic += (observed[bin]! - expected) ** 2 / expected;
      previous = upto;
    }
    // The 0.999 quantile of chi-square with 19 degrees of freedom is 43.8.
    expect(statistic).toBeLessThan(43.8);
  });

  it('Poisson(2e7), on the normal approximation, stays within 1e-4 of the exact CDF (a KS distance)', () => {
    const mean = 2e7;
    const reference = poissonReference(mean);
    const points = 20_000;
    let distance = 0;
    for (let index = 0; index < points; index++) {
      const uniform = (index + 0.5) / points;
      // The sample at the grid's uniform u is k: an exact sampler has F(k - 1) < u <= F(k).
      const value = poissonFromUniform(mean, uniform);
      distance = Math.max(distance, reference.cdf(value - 1) - uniform, uniform - reference.cdf(value));
    }
    expect(distance).toBeLessThan(1e-4);
  });

  it('draws in bounded time for any mean, however absurd (1e12, 1e300: no linear search)', () => {
    for (const mean of [1e7, 1e9, 1e12, 1e300, Number.MAX_VALUE]) {
      const started = performance.now();
      for (let index = 0; index < 1000; index++) {
        const value = poissonFromUniform(mean, (index + 0.5) / 1000);
        expect(Number.isFinite(value)).toBe(true);
      }
      expect(performance.now() - started, `1000 draws at mean ${mean}`).toBeLessThan(2000);
    }
  });

  it.each([
    [10, 0.05],
    [40, 0.3],
    [25, 0.8],
    [3000, 0.2],
  ])('Binomial(%d, %d) has the right mean and variance', (trials, probability) => {
    const result = moments((uniform) => binomialFromUniform(trials, probability, uniform));
    const variance = trials * probability * (1 - probability);
    expect(Math.abs(result.mean - trials * probability)).toBeLessThan(Math.max(0.05, 0.01 * trials * probability));
    expect(result.variance / variance).toBeGreaterThan(0.9);
    expect(result.variance / variance).toBeLessThan(1.1);
  });

  it('is monotone in the mean for a fixed uniform (the coupling behind common random numbers), across the search regimes', () => {
    const mean = fc.oneof(fc.double({ min: 0, max: 600, noNaN: true }), fc.double({ min: 0, max: 2e6, noNaN: true }), fc.double({ min: 1e7, max: 1e12, noNaN: true }));
    fc.assert(
      fc.property(streamUniform, mean, fc.double({ min: 0, max: 1, noNaN: true }), (uniform, low, share) => {
        // Below 1e7 (exact inversion) and above it (the normal approximation), each on its own side.
        const high = low <= 1e7 ? Math.min(1e7, low * (1 + share) + share * 50) : low * (1 + share);
        expect(poissonFromUniform(high, uniform)).toBeGreaterThanOrEqual(poissonFromUniform(low, uniform));
      }),
      { numRuns: 500 },
    );
  });

  it('is monotone in the uniform for a fixed mean (one uniform, inverted: a lower price never sells less on the same seed)', () => {
    const mean = fc.oneof(fc.double({ min: 0, max: 600, noNaN: true }), fc.double({ min: 0, max: 2e6, noNaN: true }), fc.double({ min: 1e7, max: 1e12, noNaN: true }));
    fc.assert(
      fc.property(mean, streamUniform, streamUniform, (value, first, second) => {
        const [low, high] = first <= second ? [first, second] : [second, first];
        expect(poissonFromUniform(value, high)).toBeGreaterThanOrEqual(poissonFromUniform(value, low));
      }),
      { numRuns: 500 },
    );
  });

  it('never returns more successes than trials, nor fewer than zero', () => {
    fc.assert(
      fc.property(fc.nat(5000), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (trials, probability, uniform) => {
        const value = binomialFromUniform(trials, probability, uniform);
        expect(value).toBeGreaterThanOrEqual(0);
        expect(value).toBeLessThanOrEqual(trials);
        expect(Number.isInteger(value)).toBe(true);
      }),
    );
  });
});
