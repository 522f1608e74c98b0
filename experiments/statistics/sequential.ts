/**
 * Always-valid inference for monitoring a running comparison: a confidence sequence and a
 * p-value that stay valid however often one peeks and whenever one stops, reported as the
 * running intersection, so the interval never widens and a verdict, once shown, never flips
 * back.
 *
 * Sources:
 *   - Waudby-Smith, Arbour, Sinha, Kennedy and Ramdas 2021 (2024 in the Annals of Statistics),
 *     "Time-uniform central limit theory and asymptotic confidence sequences", arXiv
 *     2103.06476, Theorem 2.2: the asymptotic confidence sequence with the variance estimated
 *     from the data seen so far, and its tuning for a time t* (their R code's
 *     `best_rho2_approx`).
 *   - Howard, Ramdas, McAuliffe and Sekhon 2021, "Time-uniform, nonparametric, nonasymptotic
 *     confidence sequences", Annals of Statistics 49(2), the two-sided normal-mixture boundary
 *     (Robbins 1970), exact when the sd is known.
 *   - Johari, Koomen, Pekelis and Walsh 2017, "Peeking at A/B tests", KDD: the mSPRT p-value.
 *
 * Data: paired differences d_1, d_2, ... with mean theta. After k of them, with mean m_k and
 * sd s_k (the sample sd of d_1..d_k only: nothing later is used at time k),
 *   C_k = m_k -/+ s_k * u_k,   u_k = sqrt( 2 (k rho^2 + 1) / (k^2 rho^2) * log( sqrt(k rho^2 + 1) / alpha ) ),
 * u_k being the two-sided normal-mixture boundary for a unit-variance sum (mixing the drift
 * over N(0, rho^2); by Ville's inequality P(exists k: theta outside C_k) <= alpha when s_k is
 * the true sd). With s_k estimated, Theorem 2.2 of Waudby-Smith et al. makes (C_k) an
 * asymptotic confidence sequence: valid as the start time grows, for i.i.d. data with a
 * finite variance. The reported interval after n differences is the running intersection
 *   I_n = C_m ∩ C_{m+1} ∩ ... ∩ C_n,
 * which holds theta whenever every C_k does, so it is valid exactly when the sequence is, and
 * it can only narrow. If chance empties the intersection (an event of probability at most
 * alpha), the last non-empty one is kept: never a wider interval.
 *
 * When the days are not alike (a seasonal market: B may lose much more in the first weeks
 * than later), no single mean fits and the intersection pins where the early days put it;
 * the mean then leaves it (`drifting`). The latest C_n alone (`latest`) is still an
 * asymptotic confidence sequence for the running average of the days' conditional means
 * (Waudby-Smith et al., Proposition 2.5, under martingale dependence; the sample sd around
 * the running mean only overstates the spread then, so it errs wide): the honest summary of
 * "the days so far", which may widen as the days change.
 *
 * Parameters:
 *   level               1 - alpha (default 0.95)
 *   tunedFor            t*, the number of differences at which the interval is narrowest for
 *                       its level (default 365, a year of days); rho^2 =
 *                       (2 log(1/alpha) + log(1 + 2 log(1/alpha))) / t*
 *   minimumObservations m, the burn-in with an estimated sd (default 10): before m
 *                       differences (and while s_k = 0) the interval is (-inf, inf). A short
 *                       burn-in lets a tiny early s_k pin the intersection: measured on 1000
 *                       streams of 500, checked at every step, m = 10 with t* = 365 misses the
 *                       mean at some time in 2.9% of normal streams, 2.2% of t(3) streams and
 *                       5.9% of centred exponential ones (skewness 2); m = 2 misses in 8%-16%.
 *   sd                  a known sd of one difference: s_k = sd, no burn-in, exact coverage.
 * The p-value of "theta = 0" is min over the same k of 1 / Lambda_k(0), with
 *   Lambda_k(0) = (k rho^2 + 1)^(-1/2) exp( rho^2 (k m_k / s_k)^2 / (2 (k rho^2 + 1)) ),
 * so it is at most alpha exactly when the reported interval excludes 0.
 *
 * pricelab uses these on the live dashboard, where people look at an A/B run as it goes,
 * and for the monitoring line of the online designs; the fixed-n t interval (t-tests.ts)
 * is for the report, once the seeds are all in.
 */
import { openUnitProblems, positiveProblems, refuse, sampleProblems } from './validate.js';
import type { Problem } from '../../core/errors.js';

export interface AlwaysValidInterval {
  /** Mean of the differences so far. */
  estimate: number;
  /** The running intersection's bounds: -Infinity and Infinity until the burn-in is over. */
  low: number;
  high: number;
  /** C_n alone, the latest interval before intersecting: for the average of the days so far when they are not alike (may widen). */
  latest: { low: number; high: number };
  /** The mean has left the intersection, or the intersection would have emptied: the days do not look like one steady mean. */
  drifting: boolean;
  /** The number of differences at which the intersection first left out 0 (a verdict; it stays left out, the intersection never widens); null until then. */
  decidedAt: number | null;
  /** Differences seen. */
  n: number;
  level: number;
}

export interface AlwaysValidOptions {
  /** Confidence level (default 0.95); the p-value's alpha is 1 - level. */
  level?: number;
  /** Number of differences at which the interval is narrowest for its level (t*, default 365). */
  tunedFor?: number;
  /** With an estimated sd, the interval stays unbounded before this many differences (default 10, at least 2). */
  minimumObservations?: number;
  /** Known sd of one difference (default: the sample sd of the differences seen so far). */
  sd?: number;
}

export const defaultTunedFor = 365;
export const defaultMinimumObservations = 10;

/**
 * A confidence sequence fed one difference at a time (O(1) per update): `push` returns the
 * running intersection so far, which never widens.
 */
export class ConfidenceSequence {
  readonly level: number;
  private readonly alpha: number;
  private readonly rho2: number;
  private readonly minimumObservations: number;
  private readonly knownSd: number | undefined;
  private count = 0;
  private mean = 0;
  private sumOfSquares = 0; // sum of squared deviations from the running mean (Welford)
  private low = Number.NEGATIVE_INFINITY;
  private high = Number.POSITIVE_INFINITY;
  private latest = { low: Number.NEGATIVE_INFINITY, high: Number.POSITIVE_INFINITY };
  private emptied = false;
  private decidedAt: number | null = null;
  private largestLogRatio = 0; // log Lambda_k(0); starting at 0 caps the p-value at 1

  constructor(options: AlwaysValidOptions = {}) {
    refuse('confidence sequence', optionProblems(options));
    this.level = options.level ?? 0.95;
    this.alpha = 1 - this.level;
    this.rho2 = mixingVarianceFor(options.tunedFor ?? defaultTunedFor, this.alpha);
    this.knownSd = options.sd;
    this.minimumObservations = options.sd === undefined ? (options.minimumObservations ?? defaultMinimumObservations) : 1;
  }

  /** Adds one difference; returns the interval after it. */
  push(difference: number): AlwaysValidInterval {
    refuse('confidence sequence', sampleProblems('difference', [difference], 1));
    this.count += 1;
    const k = this.count;
    const deviation = difference - this.mean;
    this.mean += deviation / k;
    this.sumOfSquares += deviation * (difference - this.mean);
    const sd = this.knownSd ?? (k >= 2 ? Math.sqrt(this.sumOfSquares / (k - 1)) : 0);
    if (k >= this.minimumObservations && sd > 0) {
      const halfWidth = sd * unitBoundary(k, this.rho2, this.alpha);
      this.latest = { low: this.mean - halfWidth, high: this.mean + halfWidth };
      const low = Math.max(this.low, this.latest.low);
      const high = Math.min(this.high, this.latest.high);
      if (low <= high) {
        this.low = low;
        this.high = high;
      } else this.emptied = true;
      if (this.decidedAt === null && (this.low > 0 || this.high < 0)) this.decidedAt = k;
      const standardized = (k * this.mean) / sd;
      const logRatio = -0.5 * Math.log(k * this.rho2 + 1) + (this.rho2 * standardized * standardized) / (2 * (k * this.rho2 + 1));
      this.largestLogRatio = Math.max(this.largestLogRatio, logRatio);
    }
    return this.current;
  }

  /** The interval so far (unbounded before any difference). */
  get current(): AlwaysValidInterval {
    const estimate = this.count === 0 ? Number.NaN : this.mean;
    const drifting = this.emptied || estimate < this.low || estimate > this.high;
    return { estimate, low: this.low, high: this.high, latest: { ...this.latest }, drifting, decidedAt: this.decidedAt, n: this.count, level: this.level };
  }

  /** The always-valid p-value of "mean difference = 0" so far. */
  get pValue(): number {
    return Math.exp(-this.largestLogRatio);
  }
}

/** The running-intersection interval after all of `differences`, each C_k using only d_1..d_k. */
export function alwaysValidInterval(differences: readonly number[], options: AlwaysValidOptions = {}): AlwaysValidInterval {
  return run('always-valid interval', differences, options).current;
}

/** The always-valid p-value of "mean difference = 0", valid at any stopping time. */
export function alwaysValidPValue(differences: readonly number[], options: AlwaysValidOptions = {}): number {
  return run('always-valid p-value', differences, options).pValue;
}

/** rho^2 that makes the unit boundary narrowest (approximately) at t* observations. */
export function mixingVarianceFor(tunedFor: number, alpha: number): number {
  const logInverseAlpha = Math.log(1 / alpha);
  return (2 * logInverseAlpha + Math.log(1 + 2 * logInverseAlpha)) / tunedFor;
}

/** u_k: the two-sided normal-mixture boundary of a unit-variance mean after k observations. */
export function unitBoundary(k: number, rho2: number, alpha: number): number {
  const spread = k * rho2 + 1;
  return Math.sqrt(((2 * spread) / (k * k * rho2)) * Math.log(Math.sqrt(spread) / alpha));
}

function run(what: string, differences: readonly number[], options: AlwaysValidOptions): ConfidenceSequence {
  refuse(what, [...sampleProblems('differences', differences, 1), ...optionProblems(options)]);
  const sequence = new ConfidenceSequence(options);
  for (const difference of differences) sequence.push(difference);
  return sequence;
}

function optionProblems(options: AlwaysValidOptions): Problem[] {
  return [
    ...openUnitProblems('level', options.level ?? 0.95),
    ...(options.tunedFor === undefined ? [] : positiveProblems('tunedFor', options.tunedFor)),
    ...(options.minimumObservations === undefined || (Number.isInteger(options.minimumObservations) && options.minimumObservations >= 2)
      ? []
      : [{ path: ['minimumObservations'], message: `expected a whole number of at least 2, found ${String(options.minimumObservations)}` }]),
    ...(options.sd === undefined ? [] : positiveProblems('sd', options.sd)),
  ];
}
