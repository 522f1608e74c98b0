import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { derivedUniform } from '../../core/random.js';
import { binomialFromTable, binomialFromUniform, binomialTable } from '../../env/sampling.js';

// The streams' uniforms are whole multiples of 2^-32 (core/random.ts).
const uniform = fc.integer({ min: 0, max: 2 ** 32 - 1 }).map((value) => value / 2 ** 32);

describe('binomialFromTable', () => {
  it('gives binomialFromUniform draw to the bit, whole chunks, partial chunks and flipped probabilities alike', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: 5000 }), uniform, (probability, trials, u) => {
        expect(binomialFromTable(trials, binomialTable(probability), u)).toBe(binomialFromUniform(trials, probability, u));
      }),
      { numRuns: 2000 },
    );
  });

  it('agrees on every uniform of a whole chunk, near the guide boundaries and in the tails', () => {
    for (const probability of [1e-6, 0.02, 0.06, 1 / 3, 0.5, 0.6, 0.97, 1 - 1e-9]) {
      const table = binomialTable(probability);
      for (const trials of [1000, 2000, 2999]) {
        for (let index = 0; index < 3000; index++) {
          const u = index < 1024 ? index / 1024 : index < 1100 ? 1 - (index - 1023) / 2 ** 32 : derivedUniform(index, 7);
          expect(binomialFromTable(trials, table, u)).toBe(binomialFromUniform(trials, probability, u));
        }
      }
    }
  });

  it('draws 0 without trials or probability and every trial at probability 1', () => {
    expect(binomialFromTable(0, binomialTable(0.3), 0.5)).toBe(0);
    expect(binomialFromTable(1500, binomialTable(0), 0.99)).toBe(0);
    expect(binomialFromTable(1500, binomialTable(1), 0.01)).toBe(1500);
  });
});
