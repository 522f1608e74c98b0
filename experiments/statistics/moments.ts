/**
 * Sample moments: the mean and the unbiased sample variance (divisor n - 1), computed in
 * two passes for accuracy (Chan, Golub and LeVeque 1983, "Algorithms for computing the
 * sample variance", The American Statistician 37(3): the two-pass algorithm).
 */

export function mean(values: readonly number[]): number {
  let total = 0;
  for (const value of values) total += value;
  return total / values.length;
}

/** s^2 = sum (x_i - mean)^2 / (n - 1); NaN for fewer than two values. */
export function sampleVariance(values: readonly number[]): number {
  const n = values.length;
  if (n < 2) return Number.NaN;
  const centre = mean(values);
  let squares = 0;
  let residual = 0;
  for (const value of values) {
    squares += (value - centre) ** 2;
    residual += value - centre;
  }
  // The corrected two-pass formula: subtract the rounding error of the mean.
  return (squares - (residual * residual) / n) / (n - 1);
}

export function sampleStandardDeviation(values: readonly number[]): number {
  return Math.sqrt(sampleVariance(values));
}
