/**
 * Always-valid inference for monitoring a running comparison: a confidence sequence and a
 * p-value that stay valid however often one peeks and whenever one stops (Johari, Koomen,
 * Pekelis and Walsh 2017, "Peeking at A/B tests", KDD, the mixture sequential probability
 * ratio test (mSPRT); Robbins 1970; Howard, Ramdas, McAuliffe and Sekhon 2021, "Time-uniform,
 * nonparametric, nonasymptotic confidence sequences", Annals of Statistics 49(2), the
 * normal-mixture boundary).
 *
 * Data: paired differences d_1..d_n, normal with mean theta and sd sigma. Mixing theta over
 * N(theta0, tau^2), the likelihood ratio after k observations with mean m_k is
 *   Lambda_k(theta0) = sqrt(sigma^2 / (sigma^2 + k tau^2))
 *                      * exp( k^2 tau^2 (m_k - theta0)^2 / (2 sigma^2 (sigma^2 + k tau^2)) ),
 * a martingale under theta0, so by Ville's inequality P(sup_k Lambda_k >= 1/alpha) <= alpha.
 *   p-value:   p_n = min(1, min over k <= n of 1 / Lambda_k(0))
 *   interval:  the intersection over k <= n of m_k -/+ h_k,
 *              h_k = sqrt( sigma^2 (sigma^2 + k tau^2) / (k^2 tau^2)
 *                          * (2 log(1/alpha) + log((sigma^2 + k tau^2) / sigma^2)) )
 * (h_k solves Lambda_k(theta) = 1/alpha). If chance makes the intersection empty (an event of
 * probability at most alpha), the latest interval m_n -/+ h_n is returned.
 *
 * sigma: the `sd` option when known; otherwise the sample sd of all n differences, a plug-in
 * as in Johari et al. (valid as n grows, not exactly at small n). tau^2 (`mixingVariance`,
 * default sigma^2) says which effects the test is tuned to: smaller tau^2 gives narrower
 * intervals late and wider ones early.
 *
 * pricelab uses these on the live dashboard, where people look at an A/B run as it goes;
 * the fixed-n t interval (t-tests.ts) is for the report, once the seeds are all in.
 */
import { sampleStandardDeviation } from './moments.js';
import { openUnitProblems, positiveProblems, refuse, sampleProblems } from './validate.js';

export interface AlwaysValidInterval {
  /** Mean of the differences so far. */
  estimate: number;
  low: number;
  high: number;
  /** Differences seen. */
  n: number;
  level: number;
}

export interface AlwaysValidOptions {
  /** Confidence level (default 0.95); the p-value's alpha is 1 - level. */
  level?: number;
  /** Variance tau^2 of the normal mixture over effects (default sd^2). */
  mixingVariance?: number;
  /** Known sd of one difference (default: the sample sd, a plug-in). */
  sd?: number;
}

export function alwaysValidInterval(differences: readonly number[], options: AlwaysValidOptions = {}): AlwaysValidInterval {
  const { level, sigma, tau2 } = settled('always-valid interval', differences, options);
  const n = differences.length;
  const alpha = 1 - level;
  let low = Number.NEGATIVE_INFINITY;
  let high = Number.POSITIVE_INFINITY;
  let total = 0;
  let latest = { low, high };
  for (let k = 1; k <= n; k += 1) {
    total += differences[k - 1] as number;
    const centre = total / k;
    const halfWidth = sigma === 0 ? 0 : mixtureHalfWidth(k, sigma * sigma, tau2, alpha);
    latest = { low: centre - halfWidth, high: centre + halfWidth };
    low = Math.max(low, latest.low);
    high = Math.min(high, latest.high);
  }
  const estimate = total / n;
  return low <= high ? { estimate, low, high, n, level } : { estimate, ...latest, n, level };
}

/** The mSPRT p-value of "mean difference = 0", valid at any stopping time. */
export function alwaysValidPValue(differences: readonly number[], options: AlwaysValidOptions = {}): number {
  const { sigma, tau2 } = settled('always-valid p-value', differences, options);
  const variance = sigma * sigma;
  let total = 0;
  let largestLogRatio = 0; // log Lambda; starting at 0 caps p at 1
  for (let k = 1; k <= differences.length; k += 1) {
    total += differences[k - 1] as number;
    const centre = total / k;
    if (variance === 0) {
      if (centre !== 0) return 0;
      continue;
    }
    const logRatio = 0.5 * Math.log(variance / (variance + k * tau2)) + (k * k * tau2 * centre * centre) / (2 * variance * (variance + k * tau2));
    largestLogRatio = Math.max(largestLogRatio, logRatio);
  }
  return Math.exp(-largestLogRatio);
}

function mixtureHalfWidth(k: number, variance: number, tau2: number, alpha: number): number {
  const spread = variance + k * tau2;
  return Math.sqrt(((variance * spread) / (k * k * tau2)) * (2 * Math.log(1 / alpha) + Math.log(spread / variance)));
}

function settled(what: string, differences: readonly number[], options: AlwaysValidOptions): { level: number; sigma: number; tau2: number } {
  const level = options.level ?? 0.95;
  refuse(what, [
    ...sampleProblems('differences', differences, options.sd === undefined ? 2 : 1),
    ...openUnitProblems('level', level),
    ...(options.sd === undefined ? [] : positiveProblems('sd', options.sd)),
    ...(options.mixingVariance === undefined ? [] : positiveProblems('mixingVariance', options.mixingVariance)),
  ]);
  const sigma = options.sd ?? sampleStandardDeviation(differences);
  return { level, sigma, tau2: options.mixingVariance ?? (sigma > 0 ? sigma * sigma : 1) };
}
