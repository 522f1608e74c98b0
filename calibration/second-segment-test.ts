/**
 * Card: the test of one customer segment against two from the aggregate sales alone (no panel):
 * a likelihood-ratio test whose two-segment model is fitted by EM on the Poisson thinning, its
 * p-value by a parametric bootstrap from the fitted one segment (the chi-bar-square beside it
 * is approximate). The model and procedure: `testSecondSegment` below.
 *
 * Every sum is a pass over the rows block by block (a design read from a scratch file:
 * calibration/design-blocks.ts): the E step's expected units are remade at each pass of the
 * M step's fits, a bootstrap replicate's units redrawn from the stream's state where the
 * replicate starts, so nothing is kept per row.
 */
import { RandomStream, type RandomStreamState } from '../core/random.js';
import { normalFromUniforms, poissonFromUniform } from '../env/sampling.js';
import { salesDesign } from './censoring.js';
import type { SalesData } from './reader.js';
import gammainc from '@stdlib/math-base-special-gammainc';
import gammaln from '@stdlib/math-base-special-gammaln';
import { fitLogitPoisson, logitShare, rowLogMarketSize, type BlockedLogitPoissonData, type DemandData, type LogitPoissonData, type LogitPoissonFit } from './logit-poisson.js';
import { shapeOf } from './demand-design.js';
import { blockCensored } from './design-blocks.js';
import { salesBlocks } from './sales-blocks.js';
import { BlockBuffer, rowValuesIn, type RowValues } from './block-passes.js';

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
export function testSecondSegment(base: DemandData, baseFit: LogitPoissonFit, options: AggregateSegmentOptions = {}): AggregateSegmentTest {
  const level = options.level ?? 0.05;
  const replicates = Math.max(0, Math.floor(options.bootstrap ?? 99));
  const kept = keptRows(base, baseFit.theta);
  const shape = shapeOf(base);
  const size = 2 + shape.promotionCount + shape.rivalCount;
  const extraParameters = size + 1;
  const shareAt = (theta: ArrayLike<number>, block: LogitPoissonData, row: number) =>
    logitShare(
      theta,
      block.price[row] ?? 0,
      block.promotions.map((column) => column[row] ?? 0),
      block.rivalPrices.map((column) => column[row] ?? 0),
    );
  /** The log-likelihood of `units` at the means of `meanAt` (each row of each block), a pass. */
  const poissonLogLikelihood = (units: Units, meanAt: (block: LogitPoissonData, row: number) => number) => {
    let total = 0;
    const unitsOf = units();
    for (const block of kept.blocks()) {
      const values = unitsOf(block);
      for (let row = 0; row < block.rows; row++) {
        const mean = meanAt(block, row);
        total += (values[row] ?? 0) * Math.log(Math.max(mean, 1e-300)) - mean - gammaln((values[row] ?? 0) + 1);
      }
    }
    return total;
  };
  const oneSegmentMean = (theta: ArrayLike<number>) => (block: LogitPoissonData, row: number) => Math.exp(block.logMarketSize[row] ?? 0) * shareAt(theta, block, row);

  /**
   * The E step's expected units of segment one (`which` 0) or two (1) under (thetaOne,
   * thetaTwo, share), with the log market size offset by `offset`: the design the M step fits.
   */
  const segmentDesign = (units: Units, thetaOne: Float64Array, thetaTwo: Float64Array, share: number, which: 0 | 1, offset: number): DemandData =>
    kept.derive(() => {
      const unitsOf = units();
      const split = new BlockBuffer((length) => new Float64Array(length));
      const logs = new BlockBuffer((length) => new Float64Array(length));
      return (block) => {
        const values = unitsOf(block);
        const out = split.take(block.rows);
        const logMarket = logs.take(block.rows);
        for (let row = 0; row < block.rows; row++) {
          const market = Math.exp(block.logMarketSize[row] ?? 0);
          const meanOne = market * (1 - share) * shareAt(thetaOne, block, row);
          const meanTwo = market * share * shareAt(thetaTwo, block, row);
          const unitsOne = ((values[row] ?? 0) * meanOne) / Math.max(1e-300, meanOne + meanTwo);
          out[row] = which === 0 ? unitsOne : (values[row] ?? 0) - unitsOne;
          logMarket[row] = (block.logMarketSize[row] ?? 0) + offset;
        }
        return { ...block, units: out, logMarketSize: logMarket };
      };
    });

  /** The two-segment EM on `units` from the one-segment theta's two starts; the best of them. */
  const fitTwoSegments = (units: Units, oneTheta: Float64Array) => {
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
        // One pass: the log-likelihood and the E step's sums. Share: root of sum y2/pi - sum y1/(1 - pi) = sum M s2 - sum M s1.
        let logLikelihood = 0;
        let expectedOne = 0;
        let expectedTwo = 0;
        let marketOne = 0;
        let marketTwo = 0;
        const unitsOf = units();
        for (const block of kept.blocks()) {
          const values = unitsOf(block);
          for (let row = 0; row < block.rows; row++) {
            const market = Math.exp(block.logMarketSize[row] ?? 0);
            const shareOne = shareAt(thetaOne, block, row);
            const shareTwo = shareAt(thetaTwo, block, row);
            const meanOne = market * (1 - share) * shareOne;
            const meanTwo = market * share * shareTwo;
            const mean = meanOne + meanTwo;
            const y = values[row] ?? 0;
            logLikelihood += y * Math.log(Math.max(mean, 1e-300)) - mean - gammaln(y + 1);
            const unitsOne = (y * meanOne) / Math.max(1e-300, meanOne + meanTwo);
            expectedOne += unitsOne;
            expectedTwo += y - unitsOne;
            marketOne += market * shareOne;
            marketTwo += market * shareTwo;
          }
        }
        if (iterations > 0 && Math.abs(logLikelihood - previous) < 1e-7 * (1 + Math.abs(logLikelihood))) {
          previous = logLikelihood;
          break;
        }
        previous = logLikelihood;
        const equation = (pi: number) => expectedTwo / pi - expectedOne / (1 - pi) - marketTwo + marketOne;
        let low = 1e-9;
        let high = 1 - 1e-9;
        for (let step = 0; step < 60; step++) {
          const middle = (low + high) / 2;
          if (equation(middle) > 0) low = middle;
          else high = middle;
        }
        const before = share;
        share = (low + high) / 2;
        // M: each segment's logit-Poisson fit on its expected units, its share of the market in the offset (warm started).
        const fitOne = fitQuietly(segmentDesign(units, thetaOne, thetaTwo, before, 0, Math.log(1 - share)), thetaOne);
        const fitTwo = fitQuietly(segmentDesign(units, thetaOne, thetaTwo, before, 1, Math.log(share)), thetaTwo);
        if (!fitOne || !fitTwo) break;
        thetaOne = Float64Array.from(fitOne.theta);
        thetaTwo = Float64Array.from(fitTwo.theta);
        fits = [fitOne, fitTwo];
      }
      if (fits.length === 2 && (!best || previous > best.logLikelihood)) best = { logLikelihood: previous, share, fits, iterations };
    }
    return best;
  };
  const likelihoodRatio = (units: Units, oneTheta: Float64Array) => {
    const one = poissonLogLikelihood(units, oneSegmentMean(oneTheta));
    const best = fitTwoSegments(units, oneTheta);
    const two = Math.max(best?.logLikelihood ?? Number.NEGATIVE_INFINITY, one);
    return { one, two, best, statistic: Math.max(0, 2 * (two - one)) };
  };

  const baseTheta = Float64Array.from(baseFit.theta.subarray(0, size));
  const observedUnits: Units = () => (block) => block.units;
  const observed = likelihoodRatio(observedUnits, baseTheta);
  const statistic = observed.statistic;
  const approximatePValue = chiBarSquareUpperTail(statistic, extraParameters);
  let exceedances = 0;
  if (replicates > 0 && statistic > 0) {
    // Under one segment: the fitted means (negative binomial: a gamma-mixed Poisson of size k).
    // A replicate's units are drawn afresh at each pass, from the stream's state where the replicate starts.
    const meanOf = oneSegmentMean(baseTheta);
    const random = new RandomStream(options.seed ?? 1, 'segment-bootstrap');
    const negativeBinomialSize = baseFit.likelihood === 'negative-binomial' ? baseFit.dispersionSize?.value : undefined;
    const mixed = negativeBinomialSize !== undefined && Number.isFinite(negativeBinomialSize) && negativeBinomialSize > 0;
    const drawsFrom = (state: RandomStreamState, stream = new RandomStream(options.seed ?? 1, 'segment-bootstrap')) => {
      stream.restoreState(state);
      const buffer = new BlockBuffer((length) => new Float64Array(length));
      return (block: LogitPoissonData) => {
        const out = buffer.take(block.rows);
        for (let row = 0; row < block.rows; row++) {
          const mean = meanOf(block, row);
          const scaled = mixed ? (mean * gammaDraw(negativeBinomialSize, stream)) / negativeBinomialSize : mean;
          out[row] = poissonFromUniform(scaled, stream.next());
        }
        return out;
      };
    };
    let state = random.saveState();
    for (let replicate = 0; replicate < replicates; replicate++) {
      const start = state;
      const units: Units = () => drawsFrom(start);
      // Where the next replicate starts: after this one's draws.
      const draw = drawsFrom(start, random);
      for (const block of kept.blocks()) draw(block);
      state = random.saveState();
      const refit = fitQuietly(kept.derive(() => {
        const unitsOf = units();
        return (block) => ({ ...block, units: unitsOf(block) });
      }), baseTheta);
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

/** The units of a pass: a fresh per-block function at each pass (a bootstrap replicate's draws restart from its stream state). */
type Units = () => (block: LogitPoissonData) => Float64Array;

/**
 * The rows the test uses (inside `include`, not censored), block by block: units, price,
 * promotions, rivals, and the log market size with the one-segment fit's arrival terms.
 * `derive` makes a design from them block by block (one in memory when they are one block).
 */
function keptRows(base: DemandData, theta: ArrayLike<number>): { blocks: () => Iterable<LogitPoissonData>; derive: (make: () => (block: LogitPoissonData) => LogitPoissonData) => DemandData } {
  const shape = shapeOf(base);
  const keep = (block: LogitPoissonData, rows: number[]): LogitPoissonData => {
    rows.length = 0;
    for (let row = 0; row < block.rows; row++) if ((!block.include || block.include[row] === 1) && block.censored?.[row] !== 1) rows.push(row);
    const pick = (column: Float64Array) => Float64Array.from(rows, (row) => column[row] ?? 0);
    return {
      rows: rows.length,
      units: pick(block.units),
      logMarketSize: Float64Array.from(rows, (row) => rowLogMarketSize(block, theta, row)),
      price: pick(block.price),
      promotions: block.promotions.map(pick),
      promotionNames: block.promotionNames,
      rivalPrices: block.rivalPrices.map(pick),
      rivalNames: block.rivalNames,
    };
  };
  if (!('blocks' in base)) {
    const only = keep(base, []);
    return { blocks: () => [only], derive: (make) => make()(only) };
  }
  const blocks = function* () {
    const rows: number[] = [];
    for (const block of base.blocks()) yield keep(block, rows);
  };
  return {
    blocks,
    derive: (make) => ({
      rows: base.rows,
      promotionNames: shape.promotionNames,
      rivalNames: shape.rivalNames,
      arrivalNames: [],
      covariateNames: [],
      *blocks() {
        const derived = make();
        for (const block of blocks()) yield derived(block);
      },
    }),
  };
}

/**
 * The aggregate test on a calibration's own rows (its fitted market sizes, whole or made per
 * block; censored rows left out), reading the rows block by block.
 */
export function testSecondSegmentOfSales(sales: SalesData, logMarketSize: RowValues, fit: LogitPoissonFit, options: AggregateSegmentOptions = {}): AggregateSegmentTest {
  if (!sales.scratch && typeof logMarketSize !== 'function') return testSecondSegment(salesDesign(sales, Float64Array.from(logMarketSize)), fit, options);
  const censoredRows = new BlockBuffer((length) => new Uint8Array(length));
  const design: BlockedLogitPoissonData = {
    rows: sales.rows,
    promotionNames: sales.promotionNames,
    rivalNames: sales.rivalNames,
    arrivalNames: [],
    covariateNames: [],
    *blocks() {
      for (const block of salesBlocks(sales)) {
        const censored = censoredRows.take(block.rows);
        const anyCensored = (block.stock !== undefined || block.stockout !== undefined) && blockCensored(block, censored);
        yield {
          rows: block.rows,
          units: block.units,
          logMarketSize: Float64Array.from(rowValuesIn(logMarketSize, block.start, block.rows, block)),
          price: block.price,
          promotions: block.promotions,
          promotionNames: sales.promotionNames,
          rivalPrices: block.rivalPrices,
          rivalNames: sales.rivalNames,
          ...(anyCensored ? { censored } : {}),
        };
      }
    },
  };
  return testSecondSegment(design, fit, options);
}

function fitQuietly(data: DemandData, start?: Float64Array): LogitPoissonFit | undefined {
  try {
    return fitLogitPoisson(data, { quasiThreshold: Number.POSITIVE_INFINITY, ...(start ? { start } : {}) });
  } catch {
    return undefined;
  }
}
