import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { goldenSectionMaximum } from '../../calibration/golden-section.js';

describe('goldenSectionMaximum', () => {
  it('finds the vertex of a concave parabola anywhere in its bracket, to the tolerance', () => {
    fc.assert(
      fc.property(fc.double({ min: -50, max: 50, noNaN: true }), fc.double({ min: 0.1, max: 20, noNaN: true }), fc.double({ min: 0.01, max: 0.99, noNaN: true }), (vertex, width, where) => {
        const low = vertex - where * width;
        const high = low + width;
        expect(Math.abs(goldenSectionMaximum((x) => -((x - vertex) ** 2), low, high, 1e-9) - vertex)).toBeLessThan(1e-8);
      }),
      { seed: 15, numRuns: 200 },
    );
  });

  it('ends at the bracket edge when the maximum lies beyond it', () => {
    expect(goldenSectionMaximum((x) => x, 0, 1, 1e-10)).toBeCloseTo(1, 8);
    expect(goldenSectionMaximum((x) => -x, 0, 1, 1e-10)).toBeCloseTo(0, 8);
  });
});
