/**
 * Card: reference prices (memory, gain and loss) fitted to a sales history by profile likelihood.
 *
 * Model (the simulator's, docs/market-model.md step 6, env/market.ts): each store's customers
 * keep a reference price r, updated after each period from the price p they saw,
 *   r_{t+1} = z r_t + (1 - z) p_t,     r_0 = the store's first observed price,
 * and our utility gains g max(r_t - p_t, 0) and loses l max(p_t - r_t, 0) beside the logit's
 * a - b p_t (calibration/logit-poisson.ts). Given the memory z, gain = max(r - p, 0) and
 * loss = max(p - r, 0) are two more utility regressors (LogitPoissonData's promotion columns
 * are utility regressors), so the fit at a fixed z is the demand fit with two more columns;
 * its coefficients are g and -l. A period missing from a store's history is taken to have
 * kept the last price: r <- z^gap r + (1 - z^gap) p_last.
 *
 * Parameters: memory z in [0, 0.99] per period (the simulator's is per day: z_day =
 * z^(1/days per period)); gain g and loss l in utility per currency unit (units of the
 * logit scale mu = 1, like the price sensitivity).
 *
 * Method: first a screen at memories 0, 0.5, 0.8, 0.95: when the likelihood-ratio test of
 * g = l = 0 rejects at none of them, the history shows no reference effect and the search
 * stops (most histories; 5 fits). Otherwise the profile log-likelihood over a memory grid
 * (0, 0.25, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99), refined by successive parabolic interpolation
 * around the best point (about 17 fits in all); the memory maximising it; its 95% interval
 * the memories whose profile is within 1.92 (chi-square 1 df / 2) of the maximum, ends found
 * by two bisection steps and linear interpolation (an end at 0 or 0.99 means the interval
 * reaches the edge of the memory range). With overdispersed counts (Pearson dispersion
 * phi > 1 at the best memory) every likelihood ratio is divided by phi (quasi-likelihood).
 * Gain and loss: Wald intervals at the best memory, quasi-Poisson scaled as in the demand
 * fit, with the memory's own uncertainty added by the delta method through the profile (on
 * market-simulated years the loss interval covers its truth in 80%, not 95%: the estimate
 * runs low; see the test). Loss aversion: the one-sided Wald test of l - g > 0, with var(l - g) from the covariance of the two coefficients. Whether the
 * data support reference prices at all: the likelihood-ratio test of g = l = 0 at the best
 * memory against chi-square with 2 df (the memory is not identified under g = l = 0, so the
 * p-value is somewhat optimistic: Davies 1987), plus a profile that is not flat and at least
 * 10 price rises and 10 price cuts, a converged fit, and no gain or loss whose interval lies
 * below zero (the model's signs contradicted).
 *
 * Passes: the reference prices and the design at each memory are made block by block
 * (calibration/reference-price-design.ts); the estimate into the scenario:
 * calibration/reference-price-scenario.ts.
 *
 * Nothing here draws random numbers; the fits are calibration/logit-poisson.ts's.
 */
import gammainc from '@stdlib/math-base-special-gammainc';
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import { fitLogitPoisson, waldZ95, type DemandData, type LogitPoissonFit, type ParameterEstimate } from './logit-poisson.js';
import { shapeOf } from './demand-design.js';
import type { RowValues, SalesRows } from './block-passes.js';
import { referenceDesign, referenceRows } from './reference-price-design.js';

/** Half the 95% point of chi-square with 1 degree of freedom: the profile-likelihood cut-off. */
export const profileCutoff = 1.920729410347062;
export const defaultMemoryGrid: readonly number[] = [0, 0.25, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99];
/** Memories tried first: when none of them shows a reference effect, the full grid is not fitted. */
const screeningMemories = [0, 0.5, 0.8, 0.95] as const;
/** The memory range of the scenario schema (referencePrice.memory). */
const memoryRange = [0, 0.99] as const;

export interface ReferencePriceOptions {
  /** Memories (per period) where the profile is evaluated; sorted, within [0, 0.99]. */
  readonly memoryGrid?: readonly number[];
  /** Price rises and cuts (each) the history must hold before reference prices are tried (default 10). */
  readonly minimumPriceChanges?: number;
  /** Significance level of the test of g = l = 0 that decides whether the scenario gets reference prices (default 0.05). */
  readonly level?: number;
  /** Stop after 4 memories when none shows a reference effect (default true). */
  readonly screen?: boolean;
  /** The Poisson fit of `base` without reference terms, when the caller has it (saves a fit). */
  readonly baseFit?: LogitPoissonFit;
  /** The sales rows `base` was made from, when it is read block by block or `period` or `store` is made per block. */
  readonly sales?: SalesRows;
}

export interface ProfilePoint {
  readonly memory: number;
  readonly logLikelihood: number;
}

export interface ReferencePriceEstimate {
  /** True when the data support reference prices (the scenario then gets them). */
  readonly supported: boolean;
  /** Why not, when not supported. */
  readonly reason: string | undefined;
  readonly memory: { readonly value: number; readonly lower: number; readonly upper: number };
  /** g (utility per currency unit below the reference) with its Wald interval. */
  readonly gain: ParameterEstimate;
  /** l (utility per currency unit above the reference, a positive number) with its Wald interval. */
  readonly loss: ParameterEstimate;
  /** Covariance of the fit's parameters with the memory's uncertainty added (delta method); the fit's order. */
  readonly covariance: readonly (readonly number[])[];
  /** One-sided Wald test of loss aversion, l - g > 0. */
  readonly lossAversion: { readonly difference: number; readonly standardError: number; readonly statistic: number; readonly pValue: number };
  /** Likelihood-ratio test of g = l = 0 at the best memory (chi-square, 2 df). */
  readonly noReferenceTest: { readonly statistic: number; readonly pValue: number };
  /** Pearson dispersion at the best memory; likelihood ratios are divided by max(1, it). */
  readonly dispersion: number;
  /** The profile, sorted by memory (grid and refinement points). */
  readonly profile: readonly ProfilePoint[];
  /** The demand fit with the two reference columns at the best memory (undefined when not tried). */
  readonly fit: LogitPoissonFit | undefined;
  readonly priceRises: number;
  readonly priceCuts: number;
}

/** Upper tail of chi-square with `degrees` degrees of freedom. */
export function chiSquareUpperTail(statistic: number, degrees: number): number {
  if (!(statistic > 0)) return 1;
  return gammainc(statistic / 2, degrees / 2, true, true);
}

/**
 * The fit's covariance (conditional on the memory) plus the memory's share:
 *   Var(theta) = Var(theta | z) + (d theta(z) / dz)(d theta(z) / dz)' Var(z),
 * with d theta / dz the slope of the profile maximisers theta(z) and Var(z) = phi / (-d2 profile / dz2)
 * (both central differences at z +- 0.01). This is the inverse of the full information over
 * (theta, z), written through the profile. Unchanged when z sits at an edge of its range.
 */
function withMemoryUncertainty(
  fit: LogitPoissonFit,
  memory: number,
  fitAt: (memory: number) => LogitPoissonFit | undefined,
  profileAt: (memory: number) => number,
  scale: number,
): number[][] {
  const step = 0.01;
  const below = memory - step;
  const above = memory + step;
  const conditional = fit.covariance.map((row) => [...row]);
  if (below < memoryRange[0] || above > memoryRange[1]) return conditional;
  const fitBelow = fitAt(below);
  const fitAbove = fitAt(above);
  const curvature = -(profileAt(above) - 2 * profileAt(memory) + profileAt(below)) / (step * step);
  if (!fitBelow || !fitAbove || !(curvature > 0)) return conditional;
  const memoryVariance = scale / curvature;
  const slope = Array.from(fit.theta, (_, index) => ((fitAbove.theta[index] ?? 0) - (fitBelow.theta[index] ?? 0)) / (2 * step));
  return conditional.map((row, rowIndex) => row.map((value, column) => value + (slope[rowIndex] ?? 0) * (slope[column] ?? 0) * memoryVariance));
}

/** A fit, or undefined when the linear algebra gives up (a singular information matrix). */
function fitOrUndefined(data: DemandData, start?: ArrayLike<number>): LogitPoissonFit | undefined {
  try {
    return fitLogitPoisson(data, start ? { start: Float64Array.from(start) } : {});
  } catch (error) {
    if (error instanceof Error && /singular/i.test(error.message)) return undefined;
    throw error;
  }
}

const notTried = (name: string): ParameterEstimate => ({ name, value: Number.NaN, standardError: Number.NaN, lower: Number.NaN, upper: Number.NaN });

/**
 * Profile likelihood over the memory, gain and loss at its maximum, the loss-aversion test and
 * whether the data support reference prices. `period` and `store` are per row of `base`,
 * whole or made per block of `options.sales` (the rows are taken by store and period here;
 * any order in). `base` may be read block by block.
 */
export function estimateReferencePrices(base: DemandData, period: RowValues, store: RowValues, options: ReferencePriceOptions = {}): ReferencePriceEstimate {
  const grid = [...(options.memoryGrid ?? defaultMemoryGrid)].filter((memory) => memory >= memoryRange[0] && memory <= memoryRange[1]).sort((left, right) => left - right);
  const minimumChanges = options.minimumPriceChanges ?? 10;
  const level = options.level ?? 0.05;
  const rows = referenceRows(base, period, store, options.sales);
  const { rises, cuts } = rows;
  const empty = {
    memory: { value: Number.NaN, lower: Number.NaN, upper: Number.NaN },
    gain: notTried('referenceGain'),
    loss: notTried('referenceLoss'),
    lossAversion: { difference: Number.NaN, standardError: Number.NaN, statistic: Number.NaN, pValue: Number.NaN },
    noReferenceTest: { statistic: Number.NaN, pValue: Number.NaN },
    dispersion: Number.NaN,
    profile: [],
    fit: undefined,
    covariance: [],
    priceRises: rises,
    priceCuts: cuts,
  };
  if (rises < minimumChanges || cuts < minimumChanges || grid.length < 2) {
    return { ...empty, supported: false, reason: `too little price variation: ${rises} price rises and ${cuts} cuts between consecutive periods of a store (at least ${minimumChanges} of each needed)` };
  }

  const fits = new Map<number, LogitPoissonFit | undefined>();
  const fitAt = (memory: number): LogitPoissonFit | undefined => {
    if (fits.has(memory)) return fits.get(memory);
    // Newton starts from the fit at the nearest memory tried so far (the profile is smooth in
    // the memory, so a few steps finish it): about a third of the iterations of a cold start.
    let nearest: LogitPoissonFit | undefined;
    let distance = Number.POSITIVE_INFINITY;
    for (const [tried, fit] of fits) {
      if (fit?.converged && Math.abs(tried - memory) < distance) [nearest, distance] = [fit, Math.abs(tried - memory)];
    }
    const fit = fitOrUndefined(referenceDesign(base, period, store, options.sales, rows, memory), nearest?.theta);
    fits.set(memory, fit);
    return fit;
  };
  const profileAt = (memory: number) => {
    const value = fitAt(memory)?.logLikelihood ?? Number.NaN;
    return Number.isFinite(value) ? value : Number.NEGATIVE_INFINITY;
  };

  // Screening: with no reference effect at 4 memories (most histories), stop before the full grid.
  const baseFit = options.baseFit ?? fitOrUndefined(base);
  if (baseFit && options.screen !== false) {
    const screen = screeningMemories.map((memory) => ({ memory, fit: fitAt(memory) }));
    const best = screen.reduce((left, right) => ((right.fit?.logLikelihood ?? Number.NEGATIVE_INFINITY) > (left.fit?.logLikelihood ?? Number.NEGATIVE_INFINITY) ? right : left));
    const screenScale = Math.max(1, Number.isFinite(best.fit?.dispersion) ? (best.fit?.dispersion ?? 1) : 1);
    const screenStatistic = Math.max(0, (2 * ((best.fit?.logLikelihood ?? Number.NEGATIVE_INFINITY) - baseFit.logLikelihood)) / screenScale);
    const screenPValue = chiSquareUpperTail(screenStatistic, 2);
    if (best.fit && screenPValue >= level) {
      return {
        ...empty,
        supported: false,
        reason: `no reference effect: the likelihood-ratio test of gain = loss = 0 gives at most ${screenStatistic.toPrecision(3)} (p = ${screenPValue.toPrecision(3)}, chi-square 2 df) at memories ${screeningMemories.join(', ')}`,
        noReferenceTest: { statistic: screenStatistic, pValue: screenPValue },
        dispersion: best.fit.dispersion,
        profile: screen.flatMap((point) => (point.fit ? [{ memory: point.memory, logLikelihood: point.fit.logLikelihood }] : [])),
      };
    }
  }

  let bestIndex = 0;
  grid.forEach((memory, index) => {
    if (profileAt(memory) > profileAt(grid[bestIndex] ?? 0)) bestIndex = index;
  });
  // Successive parabolic interpolation through the best point and its neighbours (the profile
  // is smooth in z): a few fits instead of a golden-section search's eight.
  for (let step = 0; step < 5; step++) {
    const points = [...fits.keys()].filter((memory) => Number.isFinite(profileAt(memory))).sort((a, b) => a - b);
    const bestPosition = points.reduce((best, memory, position) => (profileAt(memory) > profileAt(points[best] ?? 0) ? position : best), 0);
    if (bestPosition === 0 || bestPosition === points.length - 1) break;
    const [a, b, c] = [points[bestPosition - 1]!, points[bestPosition]!, points[bestPosition + 1]!];
    const [fa, fb, fc] = [profileAt(a), profileAt(b), profileAt(c)];
    const denominator = (b - a) * (fb - fc) - (b - c) * (fb - fa);
    if (!(Math.abs(denominator) > 0)) break;
    let vertex = b - 0.5 * (((b - a) ** 2) * (fb - fc) - ((b - c) ** 2) * (fb - fa)) / denominator;
    if (!(vertex > a && vertex < c)) vertex = (b - a > c - b ? (a + b) / 2 : (b + c) / 2);
    if (points.some((memory) => Math.abs(memory - vertex) < 0.003)) break;
    profileAt(vertex);
  }
  let bestMemory = grid[bestIndex] ?? 0;
  for (const memory of fits.keys()) if (profileAt(memory) > profileAt(bestMemory)) bestMemory = memory;
  const fit = fitAt(bestMemory);
  const maximum = profileAt(bestMemory);
  if (!fit || !Number.isFinite(maximum)) return { ...empty, supported: false, reason: 'no memory on the grid gave a fit with reference terms (the information matrix was singular)' };
  const dispersion = fit.dispersion;
  const scale = Number.isFinite(dispersion) ? Math.max(1, dispersion) : 1;
  const cut = maximum - profileCutoff * scale;

  // The interval's ends: from the best memory outwards to the first profile point below the cut, then bisection.
  const end = (direction: -1 | 1): number => {
    const points = [...fits.keys()].filter((memory) => (direction < 0 ? memory < bestMemory : memory > bestMemory)).sort((a, b) => direction * (a - b));
    let inside = bestMemory;
    for (const memory of points) {
      if (profileAt(memory) < cut) {
        let outside = memory;
        for (let step = 0; step < 2; step++) {
          const middle = (inside + outside) / 2;
          if (profileAt(middle) < cut) outside = middle;
          else inside = middle;
        }
        // Linear interpolation between the last inside and outside points.
        const insideValue = profileAt(inside);
        const outsideValue = profileAt(outside);
        return inside + ((outside - inside) * (insideValue - cut)) / Math.max(1e-300, insideValue - outsideValue);
      }
      inside = memory;
    }
    return direction < 0 ? memoryRange[0] : memoryRange[1];
  };
  const lower = end(-1);
  const upper = end(1);

  const statistic = baseFit ? Math.max(0, (2 * (maximum - baseFit.logLikelihood)) / scale) : Number.NaN;
  const noReferenceTest = { statistic, pValue: chiSquareUpperTail(statistic, 2) };

  const gainIndex = 2 + shapeOf(base).promotionCount;
  const lossIndex = gainIndex + 1;
  const covariance = withMemoryUncertainty(fit, bestMemory, fitAt, profileAt, scale);
  const fromCovariance = (parameter: ParameterEstimate | undefined, index: number): ParameterEstimate => {
    if (!parameter) return notTried('');
    const standardError = Math.sqrt(covariance[index]?.[index] ?? Number.NaN);
    return { ...parameter, standardError, lower: parameter.value - waldZ95 * standardError, upper: parameter.value + waldZ95 * standardError };
  };
  const gainParameter = fromCovariance(fit.parameters[gainIndex], gainIndex);
  const lossCoefficient = fromCovariance(fit.parameters[lossIndex], lossIndex);
  const loss: ParameterEstimate = { name: 'referenceLoss', value: -lossCoefficient.value, standardError: lossCoefficient.standardError, lower: -lossCoefficient.upper, upper: -lossCoefficient.lower };
  const gain: ParameterEstimate = { ...gainParameter, name: 'referenceGain' };
  // l - g = -(gamma_loss + gamma_gain): var = var(gain) + var(loss) + 2 cov(gamma_gain, gamma_loss).
  const variance = (covariance[gainIndex]?.[gainIndex] ?? Number.NaN) + (covariance[lossIndex]?.[lossIndex] ?? Number.NaN) + 2 * (covariance[gainIndex]?.[lossIndex] ?? Number.NaN);
  const difference = loss.value - gain.value;
  const standardError = Math.sqrt(variance);
  const zStatistic = difference / standardError;
  const lossAversion = { difference, standardError, statistic: zStatistic, pValue: 1 - normalCdf(zStatistic, 0, 1) };

  const profile = [...fits.keys()].sort((a, b) => a - b).map((memory) => ({ memory, logLikelihood: profileAt(memory) }));
  const flat = lower <= memoryRange[0] && upper >= memoryRange[1];
  const identified = fit.converged && Number.isFinite(gain.standardError) && Number.isFinite(loss.standardError);
  // A gain or loss significantly below zero contradicts the model (a price above the reference that raises utility).
  const wrongSign = [gain, loss].filter((parameter) => parameter.upper < 0).map((parameter) => `${parameter.name} ${parameter.value.toPrecision(3)} (${parameter.lower.toPrecision(3)}, ${parameter.upper.toPrecision(3)})`);
  const reason = !identified
    ? `the fit with reference terms did not converge to finite standard errors at memory ${bestMemory.toFixed(3)}`
    : wrongSign.length > 0
      ? `the data contradict the reference-price model: ${wrongSign.join(', ')} is below zero (promotions or a price pattern the model lacks may drive it)`
      : noReferenceTest.pValue >= level
      ? `no reference effect: the likelihood-ratio test of gain = loss = 0 gives ${statistic.toPrecision(3)} (p = ${noReferenceTest.pValue.toPrecision(3)}, chi-square 2 df)`
      : flat
        ? `the profile likelihood is flat over the memory (every memory in [0, 0.99] is within ${profileCutoff.toFixed(2)} of the maximum): the memory is not identified`
        : undefined;
  return {
    supported: reason === undefined,
    reason,
    memory: { value: bestMemory, lower, upper },
    gain,
    loss,
    covariance,
    lossAversion,
    noReferenceTest,
    dispersion,
    profile,
    fit,
    priceRises: rises,
    priceCuts: cuts,
  };
}
