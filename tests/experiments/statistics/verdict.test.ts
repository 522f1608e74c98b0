/** The verdict: significant after correction, in the direction the KPI prefers. */
import { describe, expect, it } from 'vitest';
import { PricelabError } from '../../../core/errors.js';
import { verdictOf } from '../../../experiments/statistics/index.js';

describe('verdictOf', () => {
  it('says better or worse only when the adjusted p is below alpha', () => {
    expect(verdictOf({ estimate: 3, adjustedP: 0.01, higherIsBetter: true })).toBe('better');
    expect(verdictOf({ estimate: 3, adjustedP: 0.01, higherIsBetter: false })).toBe('worse');
    expect(verdictOf({ estimate: -3, adjustedP: 0.01, higherIsBetter: true })).toBe('worse');
    expect(verdictOf({ estimate: -3, adjustedP: 0.01, higherIsBetter: false })).toBe('better');
    expect(verdictOf({ estimate: 3, adjustedP: 0.05, higherIsBetter: true })).toBe('no detectable difference');
    expect(verdictOf({ estimate: 3, adjustedP: 0.04, alpha: 0.01, higherIsBetter: true })).toBe('no detectable difference');
    expect(verdictOf({ estimate: 0, adjustedP: 0, higherIsBetter: true })).toBe('no detectable difference');
  });

  it('refuses a p-value outside [0, 1] and an alpha outside (0, 1), naming both', () => {
    try {
      verdictOf({ estimate: 1, adjustedP: 2, alpha: 0, higherIsBetter: true });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(PricelabError);
      expect((error as PricelabError).problems.map((problem) => problem.path[0])).toEqual(['alpha', 'adjustedP']);
    }
  });
});
