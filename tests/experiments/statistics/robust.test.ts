/**
 * IQM and probability of improvement (Agarwal et al. 2021, NeurIPS, "Deep reinforcement
 * learning at the edge of the statistical precipice"; rliable/metrics.py).
 * Known values: Wikipedia, "Interquartile mean": 5,8,4,38,8,6,9,7,7,3,1,6 has IQM 6.5, and
 * 1,3,5,...,17 has IQM (0.75*5 + 7 + 9 + 11 + 0.75*13)/4.5 = 9; rliable's IQM is
 * scipy.stats.trim_mean(x, 0.25): 5.5 on 1..10 (checked with scipy 1.17).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { interquartileMean, probabilityOfImprovement } from '../../../experiments/statistics/index.js';

describe('interquartile mean', () => {
  it('matches the published examples', () => {
    expect(interquartileMean([5, 8, 4, 38, 8, 6, 9, 7, 7, 3, 1, 6])).toBeCloseTo(6.5, 12);
    expect(interquartileMean([5, 8, 4, 38, 8, 6, 9, 7, 7, 3, 1, 6], { weighting: 'whole' })).toBeCloseTo(6.5, 12);
    expect(interquartileMean([1, 3, 5, 7, 9, 11, 13, 15, 17])).toBeCloseTo(9, 12);
    expect(interquartileMean([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], { weighting: 'whole' })).toBeCloseTo(5.5, 12);
  });

  it('weights the cut points in part (hand-checked)', () => {
    // n = 5: [1.25, 3.75] covers 0.75 of the value 2, all of 3, 0.75 of 4: (1.5 + 3 + 3) / 2.5
    expect(interquartileMean([100, 4, 3, 2, 1])).toBeCloseTo(3, 12);
    // n = 2: [0.5, 1.5] covers half of each value
    expect(interquartileMean([2, 4])).toBeCloseTo(3, 12);
    expect(interquartileMean([7])).toBe(7);
    // n = 6: [1.5, 4.5] covers 0.5 of 1, 2 and 3 whole, 0.5 of 10: (0.5 + 2 + 3 + 5) / 3
    expect(interquartileMean([0, 1, 2, 3, 10, 50])).toBeCloseTo(10.5 / 3, 12);
  });

  it('equals rliable\'s trimmed mean when n is a multiple of 4, lies within the data, and moves with shifts and scales', () => {
    const values = fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: 1, maxLength: 40 });
    fc.assert(
      fc.property(values, fc.integer({ min: -50, max: 50 }), fc.integer({ min: 1, max: 9 }), (data, shift, scale) => {
        const iqm = interquartileMean(data);
        if (data.length % 4 === 0) expect(iqm).toBeCloseTo(interquartileMean(data, { weighting: 'whole' }), 9);
        expect(iqm).toBeGreaterThanOrEqual(Math.min(...data) - 1e-9);
        expect(iqm).toBeLessThanOrEqual(Math.max(...data) + 1e-9);
        expect(interquartileMean(data.map((value) => scale * value + shift))).toBeCloseTo(scale * iqm + shift, 6);
      }),
    );
  });
});

describe('probability of improvement', () => {
  it('counts wins over all pairs, ties one half', () => {
    expect(probabilityOfImprovement([1, 2, 3], [2])).toBeCloseTo(0.5, 12);
    expect(probabilityOfImprovement([3, 4], [1, 2])).toBe(1);
    expect(probabilityOfImprovement([1, 2], [3, 4])).toBe(0);
    expect(probabilityOfImprovement([5, 5], [5])).toBe(0.5);
  });

  it('P(a, b) + P(b, a) = 1 and equals the all-pairs Mann-Whitney count', () => {
    const sample = fc.array(fc.integer({ min: -20, max: 20 }), { minLength: 1, maxLength: 30 });
    fc.assert(
      fc.property(sample, sample, (a, b) => {
        expect(probabilityOfImprovement(a, b) + probabilityOfImprovement(b, a)).toBeCloseTo(1, 12);
        let wins = 0;
        for (const x of a) for (const y of b) wins += x > y ? 1 : x === y ? 0.5 : 0;
        expect(probabilityOfImprovement(a, b)).toBeCloseTo(wins / (a.length * b.length), 12);
      }),
    );
  });
});
