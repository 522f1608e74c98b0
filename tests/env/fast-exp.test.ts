import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fastExp } from '../../env/fast-exp.js';

const relativeError = (x: number) => {
  const exact = Math.exp(x);
  return exact === 0 ? Math.abs(fastExp(x)) : Math.abs(fastExp(x) - exact) / exact;
};

describe('fastExp', () => {
  it('agrees with Math.exp to 1e-15 relative over the normal range', () => {
    fc.assert(fc.property(fc.double({ min: -700, max: 709, noNaN: true }), (x) => {
      expect(relativeError(x)).toBeLessThan(1e-15);
    }), { numRuns: 20_000 });
    for (let x = -50; x <= 50; x += 0.0137) expect(relativeError(x)).toBeLessThan(1e-15);
  });

  it('handles the edges: 0, tiny and huge arguments, NaN and infinities', () => {
    expect(fastExp(0)).toBe(1);
    expect(fastExp(1e-300)).toBe(1);
    expect(fastExp(710)).toBe(Number.POSITIVE_INFINITY);
    expect(fastExp(Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
    expect(fastExp(-746)).toBe(0);
    expect(fastExp(Number.NEGATIVE_INFINITY)).toBe(0);
    expect(fastExp(Number.NaN)).toBeNaN();
    expect(Math.abs(fastExp(-740) - Math.exp(-740))).toBeLessThan(1e-320);
  });
});
