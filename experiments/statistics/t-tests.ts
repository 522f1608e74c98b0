/**
 * Student t-tests of a difference in means, two-sided, with a confidence interval.
 *
 * Welch (unequal variances; Welch 1947, Biometrika 34; Satterthwaite 1946):
 *   estimate = mean(a) - mean(b),  se = sqrt(s_a^2/n_a + s_b^2/n_b),
 *   df = se^4 / ((s_a^2/n_a)^2/(n_a - 1) + (s_b^2/n_b)^2/(n_b - 1)),
 * Paired (Student 1908, Biometrika 6; on the differences d_i = a_i - b_i):
 *   estimate = mean(d),  se = s_d / sqrt(n),  df = n - 1.
 * Both: t = estimate / se, p = 2 P(T_df >= |t|), interval estimate -/+ t_{df, 1-(1-level)/2} se.
 * These are R's `t.test(a, b)` and `t.test(a, b, paired = TRUE)`; the tests hold them to R's
 * output on Student's sleep data.
 *
 * pricelab compares arms run on the same seeds (common random numbers), so the paired test
 * is the main one; Welch serves arms that do not share seeds.
 * A zero standard error (every difference equal) gives t = 0 and p = 1 when the estimate is 0
 * (identical arms), t = +-Infinity and p = 0 otherwise, and a zero-width interval.
 */
import tCdf from '@stdlib/stats-base-dists-t-cdf';
import tQuantile from '@stdlib/stats-base-dists-t-quantile';
import { PricelabError } from '../../core/errors.js';
import { mean, sampleVariance } from './moments.js';
import { openUnitProblems, refuse, sampleProblems } from './validate.js';

export interface TTestResult {
  /** mean(a) - mean(b) (Welch) or mean(a_i - b_i) (paired). */
  estimate: number;
  /** t = estimate / standardError. */
  statistic: number;
  /** Degrees of freedom: Welch-Satterthwaite (fractional) or n - 1. */
  df: number;
  /** Two-sided p-value. */
  pValue: number;
  /** Lower end of the two-sided confidence interval of the estimate. */
  low: number;
  /** Upper end of the interval. */
  high: number;
  /** Confidence level of the interval, e.g. 0.95. */
  level: number;
  /** Standard error of the estimate. */
  standardError: number;
}

export function welchTTest(a: readonly number[], b: readonly number[], level = 0.95): TTestResult {
  refuse('Welch t-test', [...sampleProblems('a', a, 2), ...sampleProblems('b', b, 2), ...openUnitProblems('level', level)]);
  const shareA = sampleVariance(a) / a.length;
  const shareB = sampleVariance(b) / b.length;
  const standardError = Math.sqrt(shareA + shareB);
  // df in terms of each sample's share of the variance, which cannot underflow: the same number.
  const weightA = shareA / (shareA + shareB);
  const weightB = 1 - weightA;
  const df = standardError === 0 ? a.length + b.length - 2 : 1 / (weightA ** 2 / (a.length - 1) + weightB ** 2 / (b.length - 1));
  return tResult(mean(a) - mean(b), standardError, df, level);
}

export function pairedTTest(a: readonly number[], b: readonly number[], level = 0.95): TTestResult {
  if (a.length !== b.length) {
    throw new PricelabError('config', 'paired t-test: the samples must pair up', [
      { path: ['b'], message: `expected ${a.length} values (one per value of a), found ${b.length}` },
    ]);
  }
  refuse('paired t-test', [...sampleProblems('a', a, 2), ...sampleProblems('b', b, 2), ...openUnitProblems('level', level)]);
  const differences = a.map((value, index) => value - (b[index] as number));
  return oneSampleTTest(differences, level);
}

/** The t-test of mean(values) against 0 (what the paired test runs on the differences). */
export function oneSampleTTest(values: readonly number[], level = 0.95): TTestResult {
  refuse('one-sample t-test', [...sampleProblems('values', values, 2), ...openUnitProblems('level', level)]);
  const standardError = Math.sqrt(sampleVariance(values) / values.length);
  return tResult(mean(values), standardError, values.length - 1, level);
}

function tResult(estimate: number, standardError: number, df: number, level: number): TTestResult {
  if (standardError === 0) {
    const statistic = estimate === 0 ? 0 : Math.sign(estimate) * Number.POSITIVE_INFINITY;
    return { estimate, statistic, df, pValue: estimate === 0 ? 1 : 0, low: estimate, high: estimate, level, standardError };
  }
  const statistic = estimate / standardError;
  // 2 P(T <= -|t|) keeps precision for small p (1 - cdf would round to 0).
  const pValue = Math.min(1, 2 * tCdf(-Math.abs(statistic), df));
  const halfWidth = tQuantile(1 - (1 - level) / 2, df) * standardError;
  return { estimate, statistic, df, pValue, low: estimate - halfWidth, high: estimate + halfWidth, level, standardError };
}
