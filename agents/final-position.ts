/**
 * Final position: the stock position (on hand + on order) expected at the end of the horizon,
 * from a position and the days left, under the firm's own periodic-review (s, S) rule.
 *
 * A firm knows how it orders: at every review (days that are multiples of the review period,
 * as env/model.ts's reviewDay), a position at or below the reorder point s is topped up to S.
 * Left-over stock is salvaged at a loss on the last day, and an order placed at the last
 * reviews arrives too late to sell: on steady-state-v1 a year ends with 300-900 units, and
 * which depends on whether the last reviews fall just below or just above s, a cliff of
 * 600 units. This table smooths the cliff with the sales noise, so a potential built on it
 * (agents/stock-potential.ts) tells a learner, every day of the last weeks, how today's
 * sales moved the expected write-off, instead of once, on the last day.
 *
 * Daily net sales are modelled as independent normals (mean and sd per day, rounded to
 * whole units, floored at 0); the table is a backward recursion over integer positions:
 *
 *   F_0(x) = x,   F_n(x) = E[ F_{n-1}( review_t( max(0, x - D) ) ) ],  t = horizon - n,
 *   review_t(y) = S if t is a review day and y <= s, else y.
 *
 * Positions between grid points are interpolated; above the grid, F grows one for one.
 */
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';

/** The firm's own ordering rule: at every review, a position at or below reorderPoint is topped up to orderUpTo. */
export interface ReviewRule {
  readonly reorderPoint: number;
  readonly orderUpTo: number;
  readonly reviewEveryDays: number;
}

export interface FinalPositionOptions {
  readonly rule: ReviewRule | undefined;
  readonly horizon: number;
  /** The table covers positions with at most this many days left. */
  readonly days: number;
  readonly dailySales: number;
  readonly dailySalesSd: number;
}

export class FinalPositionTable {
  private readonly values: Float64Array[];
  private readonly top: number;

  constructor(options: FinalPositionOptions) {
    const { rule, horizon, days, dailySales, dailySalesSd } = options;
    this.top = Math.ceil(2 * Math.max(rule?.orderUpTo ?? 0, dailySales * days, 1));
    const kernel = salesKernel(dailySales, dailySalesSd);
    const identity = Float64Array.from({ length: this.top + 1 }, (_, position) => position);
    this.values = [identity];
    for (let daysLeft = 1; daysLeft <= days; daysLeft++) {
      const day = horizon - daysLeft;
      const reviews = rule !== undefined && day >= 0 && day % rule.reviewEveryDays === 0;
      const next = this.values[daysLeft - 1] as Float64Array;
      const afterReview = (position: number) => (reviews && position <= (rule as ReviewRule).reorderPoint ? (rule as ReviewRule).orderUpTo : position);
      const table = new Float64Array(this.top + 1);
      for (let position = 0; position <= this.top; position++) {
        let expected = 0;
        for (let sold = 0; sold < kernel.length; sold++) expected += (kernel[sold] ?? 0) * this.lookup(next, afterReview(Math.max(0, position - sold)));
        table[position] = expected;
      }
      this.values.push(table);
    }
  }

  /** The days the table covers. */
  get days(): number {
    return this.values.length - 1;
  }

  /** The expected final position from `position` with `daysLeft` days left (today included); past the table, undefined. */
  expected(position: number, daysLeft: number): number | undefined {
    const table = this.values[daysLeft];
    return table ? this.lookup(table, position) : undefined;
  }

  private lookup(table: Float64Array, position: number): number {
    if (position <= 0) return table[0] ?? 0;
    if (position >= this.top) return (table[this.top] ?? 0) + (position - this.top);
    const below = Math.floor(position);
    const weight = position - below;
    return (table[below] ?? 0) * (1 - weight) + (table[below + 1] ?? 0) * weight;
  }
}

/** P(D = k) for k = 0, 1, ...: a normal rounded to whole units, the mass below 0 at 0, tails past 5 sd dropped and renormalised. */
function salesKernel(mean: number, sd: number): Float64Array {
  if (sd <= 0) {
    const kernel = new Float64Array(Math.round(Math.max(0, mean)) + 1);
    kernel[kernel.length - 1] = 1;
    return kernel;
  }
  const last = Math.max(0, Math.ceil(mean + 5 * sd));
  const kernel = new Float64Array(last + 1);
  let total = 0;
  for (let sold = 0; sold <= last; sold++) {
    const upper = normalCdf(sold + 0.5, mean, sd);
    const lower = sold === 0 ? 0 : normalCdf(sold - 0.5, mean, sd);
    kernel[sold] = upper - lower;
    total += upper - lower;
  }
  for (let sold = 0; sold <= last; sold++) kernel[sold] = (kernel[sold] ?? 0) / total;
  return kernel;
}
