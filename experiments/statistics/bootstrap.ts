/**
 * Bias-corrected and accelerated (BCa) bootstrap confidence interval of a statistic
 * (Efron 1987, "Better bootstrap confidence intervals", JASA 82(397); Efron and Tibshirani
 * 1993, An Introduction to the Bootstrap, ch. 14, eq. 14.9-14.15).
 *
 *   theta_hat = statistic(x);  theta*_b = statistic(resample_b), b = 1..B (drawn with replacement)
 *   bias correction  z0 = Phi^-1( (#{theta*_b < theta_hat} + #{theta*_b = theta_hat}/2) / B )
 *   acceleration     a  = sum (m - theta_(i))^3 / (6 (sum (m - theta_(i))^2)^(3/2)),
 *                    theta_(i) = statistic(x without x_i) (jackknife), m = mean of the theta_(i)
 *   alpha1 = Phi(z0 + (z0 + z_{alpha/2}) / (1 - a (z0 + z_{alpha/2})))
 *   alpha2 = Phi(z0 + (z0 + z_{1-alpha/2}) / (1 - a (z0 + z_{1-alpha/2})))
 *   interval = (quantile alpha1, quantile alpha2) of the theta*_b.
 * Ties with theta_hat count one half (as scipy.stats.bootstrap's BCa does), so a statistic
 * with a discrete bootstrap law (a median) is not biased by the ties; the proportion is kept
 * within [1/(2B), 1 - 1/(2B)] so z0 stays finite. Quantiles interpolate linearly between
 * order statistics (R's type 7). Resamples come from a seeded RandomStream (component
 * 'bootstrap'): the same seed gives the same interval.
 *
 * pricelab uses it for the paired differences between arms (statistic: mean, IQM or any
 * other), beside the t interval, because episode returns are often skewed.
 */
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';
import { RandomStream } from '../../core/random.js';
import { openUnitProblems, refuse, sampleProblems } from './validate.js';

export interface BootstrapInterval {
  /** The statistic on the original sample. */
  estimate: number;
  low: number;
  high: number;
  level: number;
  resamples: number;
  method: 'bca';
  /** The bias correction z0. */
  biasCorrection: number;
  /** The jackknife acceleration a. */
  acceleration: number;
}

export interface BootstrapOptions {
  /** Bootstrap resamples B (default 2000). */
  resamples?: number;
  /** Confidence level (default 0.95). */
  level?: number;
  /** Seed of the resampling stream (default 1). */
  seed?: number;
}

export function bootstrapBca(values: readonly number[], statistic: (sample: readonly number[]) => number, options: BootstrapOptions = {}): BootstrapInterval {
  const resamples = options.resamples ?? 2000;
  const level = options.level ?? 0.95;
  const seed = options.seed ?? 1;
  refuse('BCa bootstrap', [
    ...sampleProblems('values', values, 2),
    ...openUnitProblems('level', level),
    ...(Number.isInteger(resamples) && resamples >= 10 ? [] : [{ path: ['resamples'], message: `expected a whole number of at least 10, found ${String(resamples)}` }]),
    ...(Number.isFinite(seed) ? [] : [{ path: ['seed'], message: `expected a finite number, found ${String(seed)}` }]),
  ]);
  const n = values.length;
  const estimate = statistic(values);

  const stream = new RandomStream(seed, 'bootstrap');
  const replicates = new Float64Array(resamples);
  const sample = new Array<number>(n);
  for (let b = 0; b < resamples; b += 1) {
    for (let i = 0; i < n; i += 1) sample[i] = values[Math.floor(stream.next() * n)] as number;
    replicates[b] = statistic(sample);
  }
  replicates.sort();

  const biasCorrection = biasCorrectionOf(replicates, estimate);
  const acceleration = jackknifeAcceleration(values, statistic);
  const tail = (1 - level) / 2;
  const adjusted = (z: number) => normalCdf(biasCorrection + (biasCorrection + z) / (1 - acceleration * (biasCorrection + z)), 0, 1);
  const lowProbability = adjusted(normalQuantile(tail, 0, 1));
  const highProbability = adjusted(normalQuantile(1 - tail, 0, 1));
  return {
    estimate,
    low: sortedQuantile(replicates, lowProbability),
    high: sortedQuantile(replicates, highProbability),
    level,
    resamples,
    method: 'bca',
    biasCorrection,
    acceleration,
  };
}

/** z0 = Phi^-1(proportion of replicates below the estimate, ties counted half). */
function biasCorrectionOf(sortedReplicates: Float64Array, estimate: number): number {
  const count = sortedReplicates.length;
  let below = 0;
  let equal = 0;
  for (const replicate of sortedReplicates) {
    if (replicate < estimate) below += 1;
    else if (replicate === estimate) equal += 1;
  }
  const proportion = Math.min(1 - 1 / (2 * count), Math.max(1 / (2 * count), (below + equal / 2) / count));
  return normalQuantile(proportion, 0, 1);
}

/** Efron's acceleration from the jackknife (leave-one-out) values of the statistic; 0 if they are all equal. */
export function jackknifeAcceleration(values: readonly number[], statistic: (sample: readonly number[]) => number): number {
  const leaveOneOut = values.map((_, left) => statistic(values.filter((__, index) => index !== left)));
  const centre = leaveOneOut.reduce((total, value) => total + value, 0) / leaveOneOut.length;
  let squares = 0;
  let cubes = 0;
  for (const value of leaveOneOut) {
    const deviation = centre - value;
    squares += deviation ** 2;
    cubes += deviation ** 3;
  }
  return squares === 0 ? 0 : cubes / (6 * squares ** 1.5);
}

/** The p-quantile of sorted values, linear between order statistics (R's type 7). */
export function sortedQuantile(sorted: ArrayLike<number>, probability: number): number {
  const position = (sorted.length - 1) * Math.min(1, Math.max(0, probability));
  const below = Math.floor(position);
  const above = Math.min(sorted.length - 1, below + 1);
  const lower = sorted[below] as number;
  return lower + (position - below) * ((sorted[above] as number) - lower);
}
