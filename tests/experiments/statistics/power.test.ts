/**
 * Power, MDE and sample size against R's power.t.test (R 4.x, stats package; its ?power.t.test
 * examples print power.t.test(n = 20, delta = 1) -> power = 0.8689528 and
 * power.t.test(power = .90, delta = 1) -> n = 22.02110).
 * power.t.test(n = 20, sd = 1, power = 0.8) gives delta = 0.9091587 (two-sample) and
 * 0.6604413 (type = "paired"); R solves these with uniroot at tolerance ~1e-4, so they are
 * matched to 1e-4; the exact roots (power 0.8 to 1e-9) are 0.9091301 and 0.6604424, checked
 * with scipy.stats.nct.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PricelabError } from '../../../core/errors.js';
import { minimumDetectableEffect, powerOfTTest, sampleSize } from '../../../experiments/statistics/index.js';

describe('power of the t-test', () => {
  it("matches R's power.t.test(n = 20, delta = 1): 0.8689528", () => {
    expect(powerOfTTest({ sd: 1, effect: 1, n: 20 })).toBeCloseTo(0.8689528, 6);
  });

  it('is alpha/2 plus a sliver at no effect, and rises with the effect', () => {
    expect(powerOfTTest({ sd: 1, effect: 1e-9, n: 10 })).toBeCloseTo(0.025, 6);
    expect(powerOfTTest({ sd: 1, effect: 0.5, n: 10 })).toBeLessThan(powerOfTTest({ sd: 1, effect: 0.6, n: 10 }));
  });
});

describe('minimum detectable effect', () => {
  it("matches R's power.t.test(n = 20, sd = 1, power = 0.8): 0.9091587 two-sample, 0.6604413 paired", () => {
    const twoSample = minimumDetectableEffect({ sd: 1, n: 20 });
    const paired = minimumDetectableEffect({ sd: 1, n: 20, paired: true });
    expect(Math.abs(twoSample - 0.9091587)).toBeLessThan(1e-4);
    expect(Math.abs(paired - 0.6604413)).toBeLessThan(1e-4);
    expect(twoSample).toBeCloseTo(0.9091301, 6);
    expect(paired).toBeCloseTo(0.6604424, 6);
    expect(powerOfTTest({ sd: 1, effect: twoSample, n: 20 })).toBeCloseTo(0.8, 9);
  });

  it('scales with the sd', () => {
    expect(minimumDetectableEffect({ sd: 250, n: 20 })).toBeCloseTo(250 * minimumDetectableEffect({ sd: 1, n: 20 }), 6);
  });

  it('refuses n < 2 and a negative sd, naming both', () => {
    try {
      minimumDetectableEffect({ sd: -1, n: 1 });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(PricelabError);
      expect((error as PricelabError).problems.map((problem) => problem.path[0])).toEqual(['sd', 'n']);
    }
  });
});

describe('sample size', () => {
  it("matches R's power.t.test(power = .90, delta = 1): n = 22.02110, so 23 per arm", () => {
    expect(sampleSize({ sd: 1, effect: 1, power: 0.9 })).toBe(23);
  });

  it('gives 2 for a huge effect and refuses a zero effect', () => {
    expect(sampleSize({ sd: 1, effect: 100 })).toBe(2);
    expect(() => sampleSize({ sd: 1, effect: 0 })).toThrow(PricelabError);
  });

  it('inverts the MDE: sampleSize(MDE(n)) = n', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 300 }),
        fc.double({ min: 0.1, max: 100, noNaN: true }),
        fc.constantFrom(0.01, 0.05, 0.1),
        fc.constantFrom(0.5, 0.8, 0.9, 0.95),
        fc.boolean(),
        (n, sd, alpha, power, paired) => {
          const effect = minimumDetectableEffect({ sd, n, alpha, power, paired });
          expect(sampleSize({ sd, effect, alpha, power, paired })).toBe(n);
        },
      ),
      { numRuns: 40 },
    );
  });
});
