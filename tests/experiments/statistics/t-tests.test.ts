/**
 * The t-tests against R on Student's sleep data (Student 1908, "The probable error of a mean",
 * Biometrika 6, p. 20: extra hours of sleep under two drugs, ten patients; R's `sleep`).
 * Expected values: R 4.x, `t.test(extra ~ group, data = sleep)` and
 * `t.test(extra ~ group, data = sleep, paired = TRUE)`, printed in R's ?t.test examples.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PricelabError } from '../../../core/errors.js';
import { oneSampleTTest, pairedTTest, welchTTest } from '../../../experiments/statistics/index.js';

const drug1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0];
const drug2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4];

describe('Welch t-test', () => {
  it("matches R's t.test on the sleep data: t = -1.8608, df = 17.776, p = 0.07939, CI -3.3654832 .. 0.2054832", () => {
    const result = welchTTest(drug1, drug2);
    expect(result.estimate).toBeCloseTo(0.75 - 2.33, 10);
    expect(result.statistic).toBeCloseTo(-1.8608, 4);
    expect(result.df).toBeCloseTo(17.776, 3);
    expect(result.pValue).toBeCloseTo(0.07939, 5);
    expect(result.low).toBeCloseTo(-3.3654832, 7);
    expect(result.high).toBeCloseTo(0.2054832, 7);
    expect(result.level).toBe(0.95);
  });

  it('is antisymmetric: swapping the samples flips the estimate and the interval, keeps p', () => {
    fc.assert(
      fc.property(sample(), sample(), (a, b) => {
        const forward = welchTTest(a, b);
        const backward = welchTTest(b, a);
        expect(backward.estimate).toBeCloseTo(-forward.estimate, 9);
        expect(backward.low).toBeCloseTo(-forward.high, 9);
        expect(backward.pValue).toBeCloseTo(forward.pValue, 12);
      }),
    );
  });

  it('refuses a sample of one value, naming it', () => {
    expect(() => welchTTest([1], [1, 2])).toThrow(PricelabError);
    try {
      welchTTest([1], [1, 2, Number.NaN]);
    } catch (error) {
      expect((error as PricelabError).problems.map((problem) => problem.path)).toEqual([['a'], ['b', 2]]);
    }
  });
});

describe('paired t-test', () => {
  it("matches R's paired t.test on the sleep data: t = -4.0621, df = 9, p = 0.002833, CI -2.4598858 .. -0.7001142", () => {
    const result = pairedTTest(drug1, drug2);
    expect(result.estimate).toBeCloseTo(-1.58, 10);
    expect(result.statistic).toBeCloseTo(-4.0621, 4);
    expect(result.df).toBe(9);
    expect(result.pValue).toBeCloseTo(0.002833, 6);
    expect(result.low).toBeCloseTo(-2.4598858, 7);
    expect(result.high).toBeCloseTo(-0.7001142, 7);
  });

  it('gives a 99% interval wider than the 95% one', () => {
    const narrow = pairedTTest(drug1, drug2, 0.95);
    const wide = pairedTTest(drug1, drug2, 0.99);
    expect(wide.low).toBeLessThan(narrow.low);
    expect(wide.high).toBeGreaterThan(narrow.high);
  });

  it('throws a PricelabError naming b when the lengths differ', () => {
    try {
      pairedTTest([1, 2, 3], [1, 2]);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(PricelabError);
      expect((error as PricelabError).problems[0]?.path).toEqual(['b']);
      expect((error as PricelabError).problems[0]?.message).toMatch(/expected 3 values.*found 2/);
    }
  });

  it('identical arms: estimate 0, p = 1; a constant shift: p = 0', () => {
    expect(pairedTTest([1, 2, 3], [1, 2, 3])).toMatchObject({ estimate: 0, statistic: 0, pValue: 1, low: 0, high: 0 });
    expect(pairedTTest([2, 3, 4], [1, 2, 3])).toMatchObject({ estimate: 1, pValue: 0, low: 1, high: 1 });
  });

  it('is the one-sample test of the differences', () => {
    fc.assert(
      fc.property(sample(), sample(), (a, b) => {
        const length = Math.min(a.length, b.length);
        const left = a.slice(0, length);
        const right = b.slice(0, length);
        const paired = pairedTTest(left, right);
        const oneSample = oneSampleTTest(left.map((value, index) => value - (right[index] as number)));
        expect(paired.pValue).toBeCloseTo(oneSample.pValue, 12);
        expect(paired.low).toBeCloseTo(oneSample.low, 9);
      }),
    );
  });
});

function sample() {
  return fc.array(fc.integer({ min: -100_000, max: 100_000 }).map((cents) => cents / 100), { minLength: 2, maxLength: 30 }).filter((values) => new Set(values).size > 1);
}
