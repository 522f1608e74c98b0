import fc from 'fast-check';
import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { RandomStream, createStream, derivedUniform } from '../../env/random.js';
import { binomialFromUniform, poissonFromUniform } from '../../env/sampling.js';

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

describe('inversion samplers', () => {
  it.each([0.3, 4, 37, 480, 2500])('Poisson(%d) has the right mean and variance', (mean) => {
    const result = moments((uniform) => poissonFromUniform(mean, uniform));
    expect(result.mean).toBeCloseTo(mean, mean > 500 ? -1 : 1);
    expect(result.variance / mean).toBeGreaterThan(0.9);
    expect(result.variance / mean).toBeLessThan(1.1);
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

  it('is monotone in the mean for a fixed uniform (the coupling behind common random numbers)', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 0.999999, noNaN: true }), fc.double({ min: 0, max: 400, noNaN: true }), fc.double({ min: 0, max: 50, noNaN: true }), (uniform, low, extra) => {
        expect(poissonFromUniform(low + extra, uniform)).toBeGreaterThanOrEqual(poissonFromUniform(low, uniform));
      }),
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
