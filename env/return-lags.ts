/**
 * The fate of one returned unit: how many days after the sale it comes back, and whether
 * it can be resold, both from ONE uniform.
 *
 * Lag: minLagDays + L, where L (0-based, days beyond the minimum) follows an exponential
 * with mean meanLagDays, truncated to the return window and discretised by day:
 *   P(L <= i) = (1 - exp(-(i + 1) / mean)) / (1 - exp(-count / mean)),  count = maxLag - minLag + 1.
 * Resellable: with probability resellableFraction, independently of the lag.
 *
 * Sampling: the lag by inversion of its CDF, started from a guide table (Chen & Asau 1974:
 * guide[g] = the smallest lag whose CDF exceeds g / G), so a draw costs a lookup and about
 * one comparison instead of a walk from lag 0. The same uniform then decides
 * resellability: given lag i, u is uniform on [F(i-1), F(i)), so u < F(i-1) + f (F(i) - F(i-1))
 * happens with probability f, independently of i. One hashed uniform per returned unit
 * instead of two. A test checks the joint law by chi-square (tests/env/return-lags.test.ts).
 */

/** Buckets of the guide table: more buckets than lags, so a search rarely moves. */
const GUIDE_BUCKETS = 64;

export class ReturnLagSampler {
  /** cumulative[i] = P(L <= i); the last entry is 1. */
  readonly cumulative: Float64Array;
  /** resellableBelow[i] = F(i-1) + f (F(i) - F(i-1)): a uniform that gave lag i marks a resellable unit below this. */
  readonly resellableBelow: Float64Array;
  private readonly guide: Int32Array;
  private readonly guideScale: number;
  private readonly lastLag: number;

  constructor(minLagDays: number, maxLagDays: number, meanLagDays: number, resellableFraction: number) {
    this.cumulative = returnLagDistribution(minLagDays, maxLagDays, meanLagDays);
    const count = this.cumulative.length;
    this.lastLag = count - 1;
    this.resellableBelow = new Float64Array(count);
    let previous = 0;
    for (let lag = 0; lag < count; lag++) {
      const current = this.cumulative[lag]!;
      this.resellableBelow[lag] = previous + resellableFraction * (current - previous);
      previous = current;
    }
    this.guide = new Int32Array(GUIDE_BUCKETS);
    this.guideScale = GUIDE_BUCKETS;
    let lag = 0;
    for (let bucket = 0; bucket < GUIDE_BUCKETS; bucket++) {
      while (lag < this.lastLag && this.cumulative[lag]! <= bucket / GUIDE_BUCKETS) lag++;
      this.guide[bucket] = lag;
    }
  }

  /** Days beyond minLagDays (0-based) for a uniform on [0, 1): the inverse of the CDF. */
  lagIndex(uniform: number): number {
    let lag = this.guide[(uniform * this.guideScale) | 0]!;
    const lastLag = this.lastLag;
    const cumulative = this.cumulative;
    while (lag < lastLag && uniform >= cumulative[lag]!) lag++;
    return lag;
  }
}

/**
 * Cumulative distribution of the return lag beyond minLag: an exponential with the given
 * mean, truncated to the return window, discretised by day.
 */
export function returnLagDistribution(minLag: number, maxLag: number, meanExtra: number): Float64Array {
  const count = maxLag - minLag + 1;
  const cumulative = new Float64Array(count);
  const rate = 1 / meanExtra;
  const total = 1 - Math.exp(-rate * count);
  for (let index = 0; index < count; index++) cumulative[index] = (1 - Math.exp(-rate * (index + 1))) / total;
  cumulative[count - 1] = 1;
  return cumulative;
}
