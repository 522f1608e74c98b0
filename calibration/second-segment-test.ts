/**
 * Card: the test of one customer segment against two from the aggregate sales alone (no panel):
 * a likelihood-ratio test whose two-segment model is fitted by EM on the Poisson thinning, its
 * p-value by a parametric bootstrap from the fitted one segment (the chi-bar-square beside it
 * is approximate). The model and procedure: `testSecondSegment` below.
 */
import { RandomStream } from '../core/random.js';
import { normalFromUniforms, poissonFromUniform } from '../env/sampling.js';
import { salesDesign } from './censoring.js';
import type { SalesData } from './reader.js';
import gammainc from '@stdlib/math-base-special-gammainc';
import gammaln from '@stdlib/math-base-special-gammaln';
import { fitLogitPoisson, logitShare, rowLogMarketSize, type LogitPoissonData, type LogitPoissonFit } from './logit-poisson.js';

export interface AggregateSegmentTest {
  /** True when the test supports a second segment at the level asked. */
  readonly supported: boolean;
  readonly statistic: number;
  /** The parametric bootstrap's (1 + #{LR* >= LR}) / (B + 1); the chi-bar-square's when B = 0. */
  readonly pValue: number;
  readonly pValueMethod: 'bootstrap' | 'chi-bar-square';
  /** Bootstrap replicates B (0: none) and how many gave LR* >= LR. */
  readonly replicates: number;
  readonly exceedances: number;
  /** The chi-bar-square p-value: approximate (the second segment is not identified under one). */
  readonly approximatePValue: number;
  /** Extra parameters of the two-segment model (its share and the second segment's utilities). */
  readonly extraParameters: number;
  readonly oneSegmentLogLikelihood: number;
  readonly twoSegmentLogLikelihood: number;
  /** The second (more price-sensitive) segment's share, and both segments' fits (parameter order of calibration/logit-poisson.ts). */
  readonly share: number;
  readonly segments: readonly LogitPoissonFit[];
  readonly iterations: number;
}

/** Upper tail of the chi-bar-square 0.5 chi2(d - 1) + 0.5 chi2(d): one parameter (the share) on its boundary (Self & Liang 1987). */
export function chiBarSquareUpperTail(statistic: number, degrees: number): number {
  if (!(statistic > 0)) return 1;
  const tail = (df: number) => (df === 0 ? 0 : gammainc(statistic / 2, df / 2, true, true));
  return 0.5 * tail(degrees - 1) + 0.5 * tail(degrees);
}

/** Options of the aggregate test. */
export interface AggregateSegmentOptions {
  readonly level?: number;
  readonly maxIterations?: number;
  /** Parametric bootstrap replicates B (default 99); 0 gives the chi-bar-square p-value alone. */
  readonly bootstrap?: number;
  /** Seeds the bootstrap's stream (core/random.ts, component "segment-bootstrap"); default 1. */
  readonly seed?: number;
}

/** Gamma(shape, 1) by Marsaglia & Tsang (2000), from the stream's uniforms (shape < 1 by boosting). */
function gammaDraw(shape: number, random: RandomStream): number {
  if (shape < 1) return gammaDraw(shape + 1, random) * Math.pow(1 - random.next(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const normal = normalFromUniforms(random.next(), random.next());
    const v = Math.pow(1 + c * normal, 3);
    if (v <= 0) continue;
    const u = 1 - random.next();
    if (Math.log(u) < 0.5 * normal * normal + d - d * v + d * Math.log(v)) return d * v;
  }
}

/**
 * One segment against two, from the sales themselves. Two-segment model: units_t ~ Poisson(
 * M_t [(1 - pi) s_t(theta_1) + pi s_t(theta_2)]), each segment with its own quality, price
 * sensitivity, promotion lifts and rival qualities; M_t the one-segment fit's market size
 * (with its arrival effects). Fitted by EM on the Poisson thinning (units split between the
 * segments in proportion to their means; each segment's logit-Poisson fit on its share, warm
 * started from the previous iteration's; pi by its score equation; at most 40 iterations),
 * from starts with the second segment 2 and 4 times as price sensitive as the first. The LR
 * statistic 2 (l2 - l1): the second segment's utilities are not identified when pi = 0 (Davies
 * 1987), so no chi-square law holds (the chi-bar-square 0.5 chi2(d - 1) + 0.5 chi2(d) is kept
 * as an approximate figure: it rejected 0 of 60 one-segment years). The p-value is a
 * parametric bootstrap (McLachlan 1987): B logs drawn from the fitted one segment (Poisson, or
 * the negative binomial when the fit is one, at each row's mean; seeded stream), both models
 * refitted on each by exactly the same procedure (the one segment warm started from the
 * observed fit), p = (1 + #{LR* >= LR}) / (B + 1). Censored rows and rows outside `include`
 * are left out.
 */
export function testSecondSegment(base: LogitPoissonData, baseFit: LogitPoissonFit, options: AggregateSegmentOptions = {}): AggregateSegmentTest {
  const level = options.level ?? 0.05;
  const replicates = Math.max(0, Math.floor(options.bootstrap ?? 99));
  const rows: number[] = [];
  for (let row = 0; row < base.rows; row++) if ((!base.include || base.include[row] === 1) && base.censored?.[row] !== 1) rows.push(row);
  const pick = (column: Float64Array) => Float64Array.from(rows, (row) => column[row] ?? 0);
  const observedUnits = pick(base.units);
  const logMarket = Float64Array.from(rows, (row) => rowLogMarketSize(base, baseFit.theta, row));
  const data: LogitPoissonData = {
    rows: rows.length,
    units: observedUnits,
    logMarketSize: logMarket,
    price: pick(base.price),
    promotions: base.promotions.map(pick),
    promotionNames: base.promotionNames,
    rivalPrices: base.rivalPrices.map(pick),
    rivalNames: base.rivalNames,
  };
  const size = 2 + data.promotions.length + data.rivalPrices.length;
  const shareAt = (theta: ArrayLike<number>, row: number) =>
    logitShare(
      theta,
      data.price[row] ?? 0,
      data.promotions.map((column) => column[row] ?? 0),
      data.rivalPrices.map((column) => column[row] ?? 0),
    );
  const poissonLogLikelihood = (units: Float64Array, means: Float64Array) => {
    let total = 0;
    for (let row = 0; row < data.rows; row++) total += (units[row] ?? 0) * Math.log(Math.max(means[row] ?? 0, 1e-300)) - (means[row] ?? 0) - gammaln((units[row] ?? 0) + 1);
    return total;
  };
  const oneSegmentMeans = (theta: ArrayLike<number>) => Float64Array.from({ length: data.rows }, (_, row) => Math.exp(logMarket[row] ?? 0) * shareAt(theta, row));
  const extraParameters = size + 1;

  /** The two-segment EM on `units` from the one-segment theta's two starts; the best of them. */
  const fitTwoSegments = (units: Float64Array, oneTheta: Float64Array) => {
    let best: { logLikelihood: number; share: number; fits: LogitPoissonFit[]; iterations: number } | undefined;
    for (const ratio of [2, 4]) {
      let thetaOne = Float64Array.from(oneTheta.subarray(0, size));
      let thetaTwo = Float64Array.from(thetaOne);
      thetaOne[1] = (thetaOne[1] ?? 0) / Math.sqrt(ratio);
      thetaTwo[1] = (thetaTwo[1] ?? 0) * Math.sqrt(ratio);
      let share = 0.3;
      let previous = Number.NEGATIVE_INFINITY;
      let fits: LogitPoissonFit[] = [];
      let iterations = 0;
      for (; iterations < (options.maxIterations ?? 40); iterations++) {
        const sharesOne = Float64Array.from({ length: data.rows }, (_, row) => shareAt(thetaOne, row));
        const sharesTwo = Float64Array.from({ length: data.rows }, (_, row) => shareAt(thetaTwo, row));
        const meanOne = sharesOne.map((value, row) => Math.exp(logMarket[row] ?? 0) * (1 - share) * value);
        const meanTwo = sharesTwo.map((value, row) => Math.exp(logMarket[row] ?? 0) * share * value);
        const logLikelihood = poissonLogLikelihood(units, meanOne.map((value, row) => value + (meanTwo[row] ?? 0)));
        if (iterations > 0 && Math.abs(logLikelihood - previous) < 1e-7 * (1 + Math.abs(logLikelihood))) {
          previous = logLikelihood;
          break;
        }
        previous = logLikelihood;
        // E: expected units of each segment. Share: root of sum y2/pi - sum y1/(1 - pi) = sum M s2 - sum M s1.
        const unitsOne = units.map((value, row) => (value * (meanOne[row] ?? 0)) / Math.max(1e-300, (meanOne[row] ?? 0) + (meanTwo[row] ?? 0)));
        const unitsTwo = units.map((value, row) => value - (unitsOne[row] ?? 0));
        let expectedOne = 0;
        let expectedTwo = 0;
        let marketOne = 0;
        let marketTwo = 0;
        for (let row = 0; row < data.rows; row++) {
          expectedOne += unitsOne[row] ?? 0;
          expectedTwo += unitsTwo[row] ?? 0;
          marketOne += Math.exp(logMarket[row] ?? 0) * (sharesOne[row] ?? 0);
          marketTwo += Math.exp(logMarket[row] ?? 0) * (sharesTwo[row] ?? 0);
        }
        const equation = (pi: number) => expectedTwo / pi - expectedOne / (1 - pi) - marketTwo + marketOne;
        let low = 1e-9;
        let high = 1 - 1e-9;
        for (let step = 0; step < 60; step++) {
          const middle = (low + high) / 2;
          if (equation(middle) > 0) low = middle;
          else high = middle;
        }
        share = (low + high) / 2;
        // M: each segment's logit-Poisson fit on its expected units, its share of the market in the offset (warm started).
        const fitOne = fitQuietly({ ...data, units: unitsOne, logMarketSize: logMarket.map((value) => value + Math.log(1 - share)) }, thetaOne);
        const fitTwo = fitQuietly({ ...data, units: unitsTwo, logMarketSize: logMarket.map((value) => value + Math.log(share)) }, thetaTwo);
        if (!fitOne || !fitTwo) break;
        thetaOne = Float64Array.from(fitOne.theta);
        thetaTwo = Float64Array.from(fitTwo.theta);
        fits = [fitOne, fitTwo];
      }
      if (fits.length === 2 && (!best || previous > best.logLikelihood)) best = { logLikelihood: previous, share, fits, iterations };
    }
    return best;
  };
  const likelihoodRatio = (units: Float64Array, oneTheta: Float64Array) => {
    const one = poissonLogLikelihood(units, oneSegmentMeans(oneTheta));
    const best = fitTwoSegments(units, oneTheta);
    const two = Math.max(best?.logLikelihood ?? Number.NEGATIVE_INFINITY, one);
    return { one, two, best, statistic: Math.max(0, 2 * (two - one)) };
  };

  const baseTheta = Float64Array.from(baseFit.theta.subarray(0, size));
  const observed = likelihoodRatio(observedUnits, baseTheta);
  const statistic = observed.statistic;
  const approximatePValue = chiBarSquareUpperTail(statistic, extraParameters);
  let exceedances = 0;
  if (replicates > 0 && statistic > 0) {
    // Under one segment: the fitted means (negative binomial: a gamma-mixed Poisson of size k).
    const means = oneSegmentMeans(baseTheta);
    const random = new RandomStream(options.seed ?? 1, 'segment-bootstrap');
    const negativeBinomialSize = baseFit.likelihood === 'negative-binomial' ? baseFit.dispersionSize?.value : undefined;
    for (let replicate = 0; replicate < replicates; replicate++) {
      const units = Float64Array.from(means, (mean) => {
        const scaled = negativeBinomialSize !== undefined && Number.isFinite(negativeBinomialSize) && negativeBinomialSize > 0 ? (mean * gammaDraw(negativeBinomialSize, random)) / negativeBinomialSize : mean;
        return poissonFromUniform(scaled, random.next());
      });
      const refit = fitQuietly({ ...data, units }, baseTheta);
      const simulated = likelihoodRatio(units, refit ? Float64Array.from(refit.theta.subarray(0, size)) : baseTheta);
      if (simulated.statistic >= statistic) exceedances++;
    }
  }
  const bootstrapped = replicates > 0;
  const pValue = bootstrapped ? (statistic > 0 ? (1 + exceedances) / (replicates + 1) : 1) : approximatePValue;
  // Order: the second segment is the more price-sensitive one.
  let segments = observed.best?.fits ?? [];
  let share = observed.best?.share ?? 0;
  if (segments.length === 2 && (segments[0]!.theta[1] ?? 0) > (segments[1]!.theta[1] ?? 0)) {
    segments = [segments[1]!, segments[0]!];
    share = 1 - share;
  }
  return {
    // p <= level: with level (B + 1) whole, the bootstrap test's size is exactly the level (a Monte Carlo test).
    supported: (bootstrapped ? pValue <= level : pValue < level) && segments.length === 2,
    statistic,
    pValue,
    pValueMethod: bootstrapped ? 'bootstrap' : 'chi-bar-square',
    replicates: bootstrapped ? replicates : 0,
    exceedances: bootstrapped && statistic > 0 ? exceedances : bootstrapped ? replicates : 0,
    approximatePValue,
    extraParameters,
    oneSegmentLogLikelihood: observed.one,
    twoSegmentLogLikelihood: observed.two,
    share,
    segments,
    iterations: observed.best?.iterations ?? 0,
  };
}

/** The aggregate test on a calibration's own rows (its fitted market sizes, censored rows left out). */
export function testSecondSegmentOfSales(sales: SalesData, logMarketSize: Float64Array, fit: LogitPoissonFit, options: AggregateSegmentOptions = {}): AggregateSegmentTest {
  return testSecondSegment(salesDesign(sales, logMarketSize), fit, options);
}

function fitQuietly(data: LogitPoissonData, start?: Float64Array): LogitPoissonFit | undefined {
  try {
    return fitLogitPoisson(data, { quasiThreshold: Number.POSITIVE_INFINITY, ...(start ? { start } : {}) });
  } catch {
    return undefined;
  }
}
