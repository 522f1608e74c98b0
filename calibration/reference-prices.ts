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
 * Passes: the rows are read block by block (calibration/block-passes.ts): the reference price
 * is carried per store from row to row, so when each store's rows come in period order (a
 * file sorted by period, or by store then period) every fit's design is made block by block
 * with the store's state alone; otherwise the period, store and price of every row are kept
 * (per-row memory) to sort them.
 *
 * Nothing here draws random numbers; the fits are calibration/logit-poisson.ts's.
 */
import gammainc from '@stdlib/math-base-special-gammainc';
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import type { CalibrationRecord } from '../scenarios/calibration-record.js';
import type { ScenarioInput } from '../scenarios/schema.js';
import { fitLogitPoisson, waldZ95, type DemandData, type LogitPoissonData, type LogitPoissonFit, type ParameterEstimate } from './logit-poisson.js';
import { shapeOf } from './demand-design.js';
import { BlockBuffer, keyedBlocks, mappedDesign, rowValuesIn, type KeyedBlock, type RowValues, type SalesRows } from './block-passes.js';

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

/** Row order by store, then period: the order in which each store's customers saw the prices. */
function storeOrder(period: Float64Array, store: Int32Array): Int32Array {
  const order = Int32Array.from({ length: period.length }, (_, index) => index);
  order.sort((left, right) => (store[left] ?? 0) - (store[right] ?? 0) || (period[left] ?? 0) - (period[right] ?? 0));
  return order;
}

/**
 * The reference price each row's customers held before seeing its price: per store, from the
 * store's first price, r <- z^gap r + (1 - z^gap) p_last after each period (gap = periods since
 * the last row; 1 when none is missing).
 */
export function referencePriceSeries(price: Float64Array, period: Float64Array, store: Int32Array, memory: number, order = storeOrder(period, store)): Float64Array {
  const reference = new Float64Array(price.length);
  let currentStore = Number.NaN;
  let current = 0;
  let lastPeriod = 0;
  let lastPrice = 0;
  for (const row of order) {
    const rowStore = store[row] ?? 0;
    const rowPeriod = period[row] ?? 0;
    if (rowStore !== currentStore) {
      currentStore = rowStore;
      current = price[row] ?? 0;
    } else {
      const decay = memory ** Math.max(1, rowPeriod - lastPeriod);
      current = decay * current + (1 - decay) * lastPrice;
    }
    reference[row] = current;
    lastPeriod = rowPeriod;
    lastPrice = price[row] ?? 0;
  }
  return reference;
}

/** Rises and cuts between consecutive rows of the same store. */
function priceChanges(price: Float64Array, store: Int32Array, order: Int32Array): { rises: number; cuts: number } {
  let rises = 0;
  let cuts = 0;
  for (let position = 1; position < order.length; position++) {
    const row = order[position] ?? 0;
    const previous = order[position - 1] ?? 0;
    if (store[row] !== store[previous]) continue;
    const change = (price[row] ?? 0) - (price[previous] ?? 0);
    if (change > 1e-9) rises++;
    else if (change < -1e-9) cuts++;
  }
  return { rises, cuts };
}

/** The design with gain and loss appended to the utility regressors (after any promotions). */
export function withReferenceColumns(base: LogitPoissonData, reference: Float64Array): LogitPoissonData {
  const gain = new Float64Array(base.rows);
  const loss = new Float64Array(base.rows);
  for (let row = 0; row < base.rows; row++) {
    const difference = (reference[row] ?? 0) - (base.price[row] ?? 0);
    if (difference > 0) gain[row] = difference;
    else loss[row] = -difference;
  }
  return { ...base, promotions: [...base.promotions, gain, loss], promotionNames: [...base.promotionNames, 'referenceGain', 'referenceLoss'] };
}

/**
 * Each store's reference price, last period and last price as its rows go by (in period
 * order): in arrays indexed by the store when it is a small whole number (the reader's store
 * index), else by a slot given to it on first sight.
 */
class StoreStates {
  private readonly slots = new Map<number, number>();
  private values = new Float64Array(0);
  private seenSlots = new Uint8Array(0);
  slot(store: number): number {
    if (Number.isInteger(store) && store >= 0 && store < 1 << 16) return store;
    let slot = this.slots.get(store);
    if (slot === undefined) {
      slot = (1 << 16) + this.slots.size;
      this.slots.set(store, slot);
    }
    return slot;
  }
  seen(slot: number): boolean {
    return this.seenSlots[slot] === 1;
  }
  reference(slot: number): number {
    return this.values[3 * slot] ?? 0;
  }
  lastPeriod(slot: number): number {
    return this.values[3 * slot + 1] ?? 0;
  }
  lastPrice(slot: number): number {
    return this.values[3 * slot + 2] ?? 0;
  }
  set(slot: number, reference: number, period: number, price: number): void {
    if (slot >= this.seenSlots.length) {
      const size = Math.max(slot + 1, 2 * this.seenSlots.length, 16);
      const values = new Float64Array(3 * size);
      values.set(this.values);
      const seen = new Uint8Array(size);
      seen.set(this.seenSlots);
      this.values = values;
      this.seenSlots = seen;
    }
    this.seenSlots[slot] = 1;
    this.values[3 * slot] = reference;
    this.values[3 * slot + 1] = period;
    this.values[3 * slot + 2] = price;
  }
  clear(): void {
    this.seenSlots.fill(0);
  }
}

/**
 * How the rows reach the reference prices: in streaming order (each store's rows come in
 * period order: a state per store suffices), or sorted (whole columns kept to sort them);
 * with the price rises and cuts between consecutive rows of a store.
 */
type ReferenceRows =
  | { readonly kind: 'streamed'; readonly rises: number; readonly cuts: number }
  | { readonly kind: 'sorted'; readonly rises: number; readonly cuts: number; readonly price: Float64Array; readonly period: Float64Array; readonly store: Int32Array; readonly order: Int32Array };

/** One pass: are each store's rows in period order, and how many rises and cuts; else the whole columns, sorted. */
function referenceRows(base: DemandData, period: RowValues, store: RowValues, sales: SalesRows | undefined): ReferenceRows {
  const last = new Map<number, { period: number; price: number }>();
  let rises = 0;
  let cuts = 0;
  let ordered = true;
  for (const keyed of keyedBlocks(base, sales)) {
    const periods = rowValuesIn(period, keyed.start, keyed.rows, keyed.sales);
    const stores = rowValuesIn(store, keyed.start, keyed.rows, keyed.sales);
    const price = keyed.design.price;
    for (let row = 0; row < keyed.rows && ordered; row++) {
      const key = stores[row] ?? 0;
      const rowPeriod = periods[row] ?? 0;
      const rowPrice = price[row] ?? 0;
      const previous = last.get(key);
      if (previous) {
        if (rowPeriod < previous.period) ordered = false;
        const change = rowPrice - previous.price;
        if (change > 1e-9) rises++;
        else if (change < -1e-9) cuts++;
        previous.period = rowPeriod;
        previous.price = rowPrice;
      } else last.set(key, { period: rowPeriod, price: rowPrice });
    }
    if (!ordered) break;
  }
  if (ordered) return { kind: 'streamed', rises, cuts };
  // A store's rows out of period order: keep every row's period, store and price, and sort.
  const rows = base.rows;
  const wholePrice = new Float64Array(rows);
  const wholePeriod = new Float64Array(rows);
  const wholeStore = new Int32Array(rows);
  for (const keyed of keyedBlocks(base, sales)) {
    const periods = rowValuesIn(period, keyed.start, keyed.rows, keyed.sales);
    const stores = rowValuesIn(store, keyed.start, keyed.rows, keyed.sales);
    for (let row = 0; row < keyed.rows; row++) {
      wholePrice[keyed.start + row] = keyed.design.price[row] ?? 0;
      wholePeriod[keyed.start + row] = periods[row] ?? 0;
      wholeStore[keyed.start + row] = stores[row] ?? 0;
    }
  }
  const order = storeOrder(wholePeriod, wholeStore);
  const changes = priceChanges(wholePrice, wholeStore, order);
  return { kind: 'sorted', rises: changes.rises, cuts: changes.cuts, price: wholePrice, period: wholePeriod, store: wholeStore, order };
}

/**
 * The design with gain and loss appended to the utility regressors at memory `memory`, made
 * block by block: each row's reference from its store's state (reset at the first block of
 * each pass), or from the sorted series.
 */
function referenceDesign(base: DemandData, period: RowValues, store: RowValues, sales: SalesRows | undefined, rows: ReferenceRows, memory: number): DemandData {
  const names = [...shapeOf(base).promotionNames, 'referenceGain', 'referenceLoss'];
  const whole = rows.kind === 'sorted' ? referencePriceSeries(rows.price, rows.period, rows.store, memory, rows.order) : undefined;
  const gainBuffer = new BlockBuffer((length) => new Float64Array(length));
  const lossBuffer = new BlockBuffer((length) => new Float64Array(length));
  const states = new StoreStates();
  return mappedDesign(base, sales, names, (keyed: KeyedBlock) => {
    const { design, rows: count } = keyed;
    const gain = gainBuffer.take(count, true);
    const loss = lossBuffer.take(count, true);
    if (whole) {
      for (let row = 0; row < count; row++) {
        const difference = (whole[keyed.start + row] ?? 0) - (design.price[row] ?? 0);
        if (difference > 0) gain[row] = difference;
        else loss[row] = -difference;
      }
    } else {
      if (keyed.start === 0) states.clear();
      const periods = rowValuesIn(period, keyed.start, count, keyed.sales);
      const stores = rowValuesIn(store, keyed.start, count, keyed.sales);
      for (let row = 0; row < count; row++) {
        const rowPrice = design.price[row] ?? 0;
        const rowPeriod = periods[row] ?? 0;
        const slot = states.slot(stores[row] ?? 0);
        let reference: number;
        if (!states.seen(slot)) reference = rowPrice;
        else {
          const gap = Math.max(1, rowPeriod - states.lastPeriod(slot));
          const decay = gap === 1 ? memory : memory ** gap;
          reference = decay * states.reference(slot) + (1 - decay) * states.lastPrice(slot);
        }
        states.set(slot, reference, rowPeriod, rowPrice);
        const difference = reference - rowPrice;
        if (difference > 0) gain[row] = difference;
        else loss[row] = -difference;
      }
    }
    return { ...design, promotions: [...design.promotions, gain, loss], promotionNames: [...design.promotionNames, 'referenceGain', 'referenceLoss'] };
  });
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

const round = (value: number) => Number(value.toPrecision(6));
const finiteOr = (value: number, fallback = 0) => (Number.isFinite(value) ? round(value) : fallback);

export const referencePriceMethod =
  'profile likelihood over the memory z (grid 0..0.99, parabolic refinement) of the logit demand with gain max(r - p, 0) and loss max(p - r, 0) as utility regressors, r <- z r + (1 - z) p per store';

/**
 * Records the estimate (`calibration.referencePrices`) and, when supported, puts it in the
 * scenario: every logit segment gets referencePrice {memory per day, gain, loss}, and the
 * demand quality and price sensitivity become those of the fit with the reference terms
 * (without them the price sensitivity absorbs the short-run reference response). When not
 * supported the scenario keeps no reference price and the defaults say why.
 */
export function applyReferencePrices(scenario: ScenarioInput, record: CalibrationRecord, estimate: ReferencePriceEstimate, daysPerPeriod: number): void {
  const perDay = (memory: number) => (daysPerPeriod === 1 ? memory : memory ** (1 / daysPerPeriod));
  const interval = (parameter: ParameterEstimate) => ({ value: finiteOr(parameter.value), standardError: finiteOr(parameter.standardError), lower: finiteOr(parameter.lower), upper: finiteOr(parameter.upper) });
  record.referencePrices = {
    supported: estimate.supported,
    ...(estimate.reason === undefined ? {} : { reason: estimate.reason }),
    method: referencePriceMethod,
    priceRises: estimate.priceRises,
    priceCuts: estimate.priceCuts,
    ...(estimate.fit
      ? {
          memory: {
            value: round(estimate.memory.value),
            lower: round(estimate.memory.lower),
            upper: round(estimate.memory.upper),
            perDay: round(perDay(estimate.memory.value)),
            method: `maximum of the profile likelihood; interval: memories within ${profileCutoff.toFixed(2)}${estimate.dispersion > 1 ? ` x the dispersion ${estimate.dispersion.toPrecision(3)}` : ''} of the maximum (likelihood ratio, chi-square 1 df); per period of the history (per day: z^(1/${daysPerPeriod}))`,
          },
          gain: { ...interval(estimate.gain), method: `Wald at the best memory, the memory's uncertainty added (delta method through the profile); ${estimate.fit.intervalMethod}` },
          loss: { ...interval(estimate.loss), method: `Wald at the best memory, the memory's uncertainty added (delta method through the profile); ${estimate.fit.intervalMethod}` },
          lossAversion: {
            difference: finiteOr(estimate.lossAversion.difference),
            standardError: finiteOr(estimate.lossAversion.standardError),
            statistic: finiteOr(estimate.lossAversion.statistic),
            pValue: finiteOr(estimate.lossAversion.pValue, 1),
            method: 'one-sided Wald test of loss - gain > 0, variance from the covariance of the two coefficients',
          },
          noReferenceTest: {
            statistic: finiteOr(estimate.noReferenceTest.statistic),
            pValue: finiteOr(estimate.noReferenceTest.pValue, 1),
            method: 'likelihood ratio of gain = loss = 0 at the best memory, chi-square 2 df (optimistic: the memory is not identified under the null)',
          },
          profile: estimate.profile.filter((point) => Number.isFinite(point.logLikelihood)).map((point) => ({ memory: round(point.memory), logLikelihood: round(point.logLikelihood) })),
        }
      : {}),
  };
  const demand = scenario.demand;
  if (!estimate.supported || !estimate.fit || demand.kind !== 'logit') {
    record.defaults.push({ field: 'demand.segments[].referencePrice', value: 'none', reason: estimate.reason ?? 'the demand is not a logit' });
    return;
  }
  const gain = Math.max(0, estimate.gain.value);
  const loss = Math.max(0, estimate.loss.value);
  if (estimate.gain.value < 0) record.defaults.push({ field: 'demand.segments[].referencePrice.gain', value: 0, reason: `the fitted gain ${round(estimate.gain.value)} is negative; the scenario allows none` });
  if (estimate.loss.value < 0) record.defaults.push({ field: 'demand.segments[].referencePrice.loss', value: 0, reason: `the fitted loss ${round(estimate.loss.value)} is negative; the scenario allows none` });
  const adjusted = (index: number): ParameterEstimate | undefined => {
    const parameter = estimate.fit?.parameters[index];
    const standardError = Math.sqrt(estimate.covariance[index]?.[index] ?? Number.NaN);
    return parameter && { ...parameter, standardError, lower: parameter.value - waldZ95 * standardError, upper: parameter.value + waldZ95 * standardError };
  };
  const quality = adjusted(0);
  const sensitivity = adjusted(1);
  if (!quality || !sensitivity) return;
  demand.quality = round(quality.value);
  demand.segments.forEach((segment) => {
    segment.priceSensitivity = round(sensitivity.value);
    segment.referencePrice = { memory: round(Math.min(0.99, perDay(estimate.memory.value))), gain: round(gain), loss: round(loss) };
  });
  // The demand estimates now come from the fit with the reference terms.
  const method = `maximum likelihood: Poisson units with the logit mean and reference-price gain and loss at memory ${round(estimate.memory.value)}; ${estimate.fit.intervalMethod}, the memory's uncertainty added (delta method)`;
  for (const [index, parameter] of [quality, sensitivity].entries()) {
    const entry = record.estimates.find((candidate) => candidate.parameter === parameter.name);
    const values = { ...interval(parameter), method };
    if (entry) Object.assign(entry, values);
    else record.estimates.push({ parameter: parameter.name, scenarioPath: index === 0 ? 'demand.quality' : 'demand.segments[0].priceSensitivity', ...values });
  }
  record.estimates.push(
    { parameter: 'referenceMemory', scenarioPath: 'demand.segments[].referencePrice.memory', value: round(perDay(estimate.memory.value)), standardError: 0, lower: round(perDay(estimate.memory.lower)), upper: round(perDay(estimate.memory.upper)), method: 'profile likelihood (per day); the interval is the likelihood-ratio one, no standard error' },
    { parameter: 'referenceGain', scenarioPath: 'demand.segments[].referencePrice.gain', ...interval(estimate.gain), method: `Wald at the best memory, the memory's uncertainty added (delta method through the profile); ${estimate.fit.intervalMethod}` },
    { parameter: 'referenceLoss', scenarioPath: 'demand.segments[].referencePrice.loss', ...interval(estimate.loss), method: `Wald at the best memory, the memory's uncertainty added (delta method through the profile); ${estimate.fit.intervalMethod}` },
  );
}
