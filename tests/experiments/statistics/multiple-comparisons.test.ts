/**
 * Holm and Benjamini-Hochberg on the published example of Benjamini and Hochberg (1995,
 * "Controlling the false discovery rate", JRSS B 57(1), section 4: fifteen p-values from the
 * thrombolysis study of Neuhaus et al. 1992). The paper reports that at level 0.05 the
 * Bonferroni-type procedures reject 3 hypotheses (p <= 0.0019) and BH rejects 4 (p <= 0.0095).
 * The adjusted values are those of R's p.adjust(p, "holm") and p.adjust(p, "BH"), written out
 * below from the formulas (and checked against scipy.stats.false_discovery_control for BH).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PricelabError } from '../../../core/errors.js';
import { benjaminiHochbergAdjust, holmAdjust } from '../../../experiments/statistics/index.js';

const neuhaus = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.324, 0.4262, 0.5719, 0.6528, 0.759, 1.0];

describe('Holm', () => {
  it('adjusts the Benjamini-Hochberg (1995) example: max over j <= i of (m - j + 1) p_(j)', () => {
    const expected = [15 * 0.0001, 14 * 0.0004, 13 * 0.0019, 12 * 0.0095, 11 * 0.0201, 10 * 0.0278, 10 * 0.0278, 10 * 0.0278, 7 * 0.0459, 1, 1, 1, 1, 1, 1];
    holmAdjust(neuhaus).forEach((value, index) => expect(value).toBeCloseTo(expected[index] as number, 12));
    expect(holmAdjust(neuhaus).filter((value) => value <= 0.05)).toHaveLength(3);
  });

  it('keeps the input order', () => {
    const shuffled = [0.0459, 0.0001, 1.0, 0.0095, 0.0278, 0.0004];
    const adjusted = holmAdjust(shuffled);
    expect(adjusted[1]).toBeCloseTo(6 * 0.0001, 12);
    expect(adjusted[5]).toBeCloseTo(5 * 0.0004, 12);
    expect(adjusted[3]).toBeCloseTo(4 * 0.0095, 12);
    expect(adjusted[4]).toBeCloseTo(3 * 0.0278, 12);
    expect(adjusted[0]).toBeCloseTo(2 * 0.0459, 12);
    expect(adjusted[2]).toBe(1);
  });

  it('is monotone in the raw p-values, never below them, at most 1, and at least as large as BH', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 40 }), (pValues) => {
        const holm = holmAdjust(pValues);
        const bh = benjaminiHochbergAdjust(pValues);
        pValues.forEach((p, i) => {
          expect(holm[i]).toBeGreaterThanOrEqual(p);
          expect(holm[i]).toBeLessThanOrEqual(1);
          expect(holm[i]).toBeGreaterThanOrEqual((bh[i] as number) - 1e-15);
          pValues.forEach((q, j) => {
            if (p <= q) expect(holm[i]).toBeLessThanOrEqual(holm[j] as number);
          });
        });
      }),
    );
  });

  it('refuses a value outside [0, 1], naming its index', () => {
    expect(() => holmAdjust([0.1, 1.2])).toThrow(PricelabError);
    try {
      holmAdjust([0.1, Number.NaN]);
    } catch (error) {
      expect((error as PricelabError).problems[0]?.path).toEqual(['pValues', 1]);
    }
  });
});

describe('Benjamini-Hochberg', () => {
  it('adjusts the Benjamini-Hochberg (1995) example: min over j >= i of m p_(j) / j; 4 rejections at 0.05', () => {
    const expected = [0.0015, 0.003, 0.0095, 0.035625, 0.0603, 0.06385714285714286, 0.06385714285714286, 0.0645, 0.0765, 0.486, 0.5811818181818181, 0.714875, 0.7532307692307693, 0.8132142857142857, 1];
    benjaminiHochbergAdjust(neuhaus).forEach((value, index) => expect(value).toBeCloseTo(expected[index] as number, 12));
    expect(benjaminiHochbergAdjust(neuhaus).filter((value) => value <= 0.05)).toHaveLength(4);
  });

  it('gives one adjusted value to p-values that are all equal, and handles the empty list', () => {
    expect(benjaminiHochbergAdjust([0.02, 0.02, 0.02])).toEqual([0.02, 0.02, 0.02]);
    expect(holmAdjust([0.02, 0.02, 0.02])).toEqual([0.06, 0.06, 0.06]);
    expect(holmAdjust([])).toEqual([]);
  });
});
