/**
 * Robust summaries of a few noisy runs (Agarwal, Schwarzer, Castro, Courville and Bellemare
 * 2021, "Deep reinforcement learning at the edge of the statistical precipice", NeurIPS;
 * the rliable library, rliable/metrics.py).
 *
 * Interquartile mean (IQM): the mean of the middle 50% of the sorted values. Value i
 * (0-based, sorted) covers [i, i + 1] of [0, n]; its weight is its overlap with
 * [n/4, 3n/4], so when n is not a multiple of 4 the values at the cut points count in part:
 *   IQM = sum_i w_i x_(i) / (n/2).
 * Example (Wikipedia, "Interquartile mean"): 1,3,5,7,9,11,13,15,17 gives
 * (0.75*5 + 7 + 9 + 11 + 0.75*13) / 4.5 = 9.
 * rliable computes scipy.stats.trim_mean(x, 0.25), which drops floor(n/4) values at each end
 * whole; the two agree when n is a multiple of 4. `weighting: 'whole'` gives rliable's number.
 *
 * Probability of improvement P(X_a > X_b): the Mann-Whitney U statistic over all pairs,
 * divided by n_a n_b, ties counted one half (rliable's probability_of_improvement on one task):
 *   P = (#{(i, j): a_i > b_j} + #{(i, j): a_i = b_j} / 2) / (n_a n_b),  so P(a, b) + P(b, a) = 1.
 */
import { refuse, sampleProblems } from './validate.js';

export interface InterquartileMeanOptions {
  /** 'fractional' (default): cut points weighted in part; 'whole': rliable's scipy trim_mean(x, 0.25). */
  weighting?: 'fractional' | 'whole';
}

export function interquartileMean(values: readonly number[], options: InterquartileMeanOptions = {}): number {
  refuse('interquartile mean', sampleProblems('values', values, 1));
  const sorted = [...values].sort((left, right) => left - right);
  const n = sorted.length;
  if (options.weighting === 'whole') {
    const cut = Math.floor(n / 4);
    const middle = sorted.slice(cut, n - cut);
    return middle.reduce((total, value) => total + value, 0) / middle.length;
  }
  const lower = n / 4;
  const upper = (3 * n) / 4;
  let total = 0;
  for (let i = Math.floor(lower); i < Math.ceil(upper); i += 1) {
    const weight = Math.min(i + 1, upper) - Math.max(i, lower);
    total += weight * (sorted[i] as number);
  }
  return total / (n / 2);
}

export function probabilityOfImprovement(a: readonly number[], b: readonly number[]): number {
  refuse('probability of improvement', [...sampleProblems('a', a, 1), ...sampleProblems('b', b, 1)]);
  // Merge over sorted copies: O((n_a + n_b) log) instead of all n_a n_b pairs.
  const sortedB = [...b].sort((left, right) => left - right);
  let wins = 0;
  for (const value of a) {
    const below = firstIndexNotBelow(sortedB, value);
    const notAbove = firstIndexAbove(sortedB, value);
    wins += below + (notAbove - below) / 2;
  }
  return wins / (a.length * b.length);
}

function firstIndexNotBelow(sorted: readonly number[], value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((sorted[middle] as number) < value) low = middle + 1;
    else high = middle;
  }
  return low;
}

function firstIndexAbove(sorted: readonly number[], value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((sorted[middle] as number) <= value) low = middle + 1;
    else high = middle;
  }
  return low;
}
