/**
 * Power of the two-sided t-test, the minimum detectable effect (MDE) at a sample size, and
 * the sample size for an effect: exact, from the noncentral t law, as R's power.t.test
 * (strict = FALSE) computes them (Cohen 1988, Statistical Power Analysis for the Behavioral
 * Sciences, 2nd ed., ch. 2; the noncentral t CDF is Lenth's series, AS 243, Applied
 * Statistics 38, 1989, as implemented by jstat).
 *
 *   two-sample (n per arm):  df = 2(n - 1),  ncp = effect / (sd sqrt(2/n))
 *   paired (n pairs, sd of the differences):  df = n - 1,  ncp = effect sqrt(n) / sd
 *   power = P(T'_{df, ncp} > t_{df, 1 - alpha/2})
 * (the far tail, P(T' < -t), is left out as in R's default; it is below alpha/2 and
 * vanishes at any useful power).
 * MDE: the effect whose power is the target, by bisection on the effect (power rises with
 * it). Sample size: the smallest whole n >= 2 whose power reaches the target, by doubling then
 * bisection on n. So sampleSize({effect: minimumDetectableEffect({n})}) = n.
 *
 * pricelab reports the MDE at the seeds used beside every "no detectable difference", and
 * `pricelab sample-size` plans how many seeds an experiment needs. Arms run on common random
 * numbers are paired: use the sd of the paired differences and `paired: true`.
 */
import tQuantile from '@stdlib/stats-base-dists-t-quantile';
import jstat from 'jstat';
import { PricelabError } from '../../core/errors.js';
import { openUnitProblems, positiveProblems, refuse } from './validate.js';

export interface PowerOptions {
  /** Standard deviation of one observation (two-sample) or of one paired difference (paired). */
  sd: number;
  /** Significance level of the two-sided test (default 0.05). */
  alpha?: number;
  /** Target power (default 0.8). */
  power?: number;
  /** Paired design (common random numbers): n counts pairs. Default false: two samples of n each. */
  paired?: boolean;
}

/** The power of the two-sided t-test to detect `effect` with n per arm (or n pairs). */
export function powerOfTTest(options: { sd: number; effect: number; n: number; alpha?: number; paired?: boolean }): number {
  const alpha = options.alpha ?? 0.05;
  refuse('power', [...positiveProblems('sd', options.sd), ...effectProblems(options.effect), ...sizeProblems(options.n), ...openUnitProblems('alpha', alpha)]);
  return powerAt(Math.abs(options.effect), options.n, options.sd, alpha, options.paired ?? false);
}

/** The smallest effect detected with the target power at n per arm (or n pairs). */
export function minimumDetectableEffect(options: PowerOptions & { n: number }): number {
  const { alpha, power, paired } = settled(options);
  refuse('minimum detectable effect', [...positiveProblems('sd', options.sd), ...sizeProblems(options.n)]);
  const n = options.n;
  let low = 0;
  let high = options.sd;
  while (powerAt(high, n, options.sd, alpha, paired) < power) {
    low = high;
    high *= 2;
  }
  for (let iteration = 0; iteration < 200 && high - low > 1e-13 * high; iteration += 1) {
    const middle = (low + high) / 2;
    if (powerAt(middle, n, options.sd, alpha, paired) < power) low = middle;
    else high = middle;
  }
  return high;
}

/** The smallest whole n (per arm, or pairs) whose power to detect `effect` reaches the target. */
export function sampleSize(options: PowerOptions & { effect: number }): number {
  const { alpha, power, paired } = settled(options);
  refuse('sample size', [...positiveProblems('sd', options.sd), ...effectProblems(options.effect)]);
  const effect = Math.abs(options.effect);
  const reaches = (n: number) => powerAt(effect, n, options.sd, alpha, paired) >= power;
  if (reaches(2)) return 2;
  let low = 2;
  let high = 4;
  while (!reaches(high)) {
    low = high;
    high *= 2;
    if (high > 2 ** 40) {
      throw new PricelabError('config', 'sample size: the effect is too small to detect', [
        { path: ['effect'], message: `expected an effect detectable with at most 2^40 observations, found ${effect} with sd ${options.sd}` },
      ]);
    }
  }
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (reaches(middle)) high = middle;
    else low = middle;
  }
  return high;
}

function powerAt(effect: number, n: number, sd: number, alpha: number, paired: boolean): number {
  const df = paired ? n - 1 : 2 * (n - 1);
  const noncentrality = paired ? (effect * Math.sqrt(n)) / sd : effect / (sd * Math.sqrt(2 / n));
  const critical = tQuantile(1 - alpha / 2, df);
  return 1 - jstat.jStat.noncentralt.cdf(critical, df, noncentrality);
}

function settled(options: PowerOptions): { alpha: number; power: number; paired: boolean } {
  const alpha = options.alpha ?? 0.05;
  const power = options.power ?? 0.8;
  refuse('power analysis', [
    ...openUnitProblems('alpha', alpha),
    ...openUnitProblems('power', power),
    ...(power > alpha / 2 ? [] : [{ path: ['power'], message: `expected a power above alpha/2 = ${alpha / 2} (the power at no effect), found ${power}` }]),
  ]);
  return { alpha, power, paired: options.paired ?? false };
}

function effectProblems(effect: number) {
  return Number.isFinite(effect) && effect !== 0 ? [] : [{ path: ['effect'], message: `expected a finite non-zero effect, found ${String(effect)}` }];
}

function sizeProblems(n: number) {
  return Number.isInteger(n) && n >= 2 ? [] : [{ path: ['n'], message: `expected a whole number of at least 2, found ${String(n)}` }];
}
