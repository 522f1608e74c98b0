/**
 * Competitor strategies fitted to rival price series (issue 15, item 7).
 *
 * For one rival's price series, every strategy the simulator has (env/competitors/: fixed,
 * with change points; random walk; match; undercut; two-bound cycle; ratio follower; best
 * response) is fitted by maximum likelihood, each candidate's BIC is computed, and the
 * smallest BIC is chosen. The mean of each strategy is the simulator's own rule applied to
 * the observed prices of the period before (the rival sees yesterday's prices, env/competitors/
 * rival.ts), so the likelihood is conditional on each series' first period.
 *
 * Observation model: r_t = m_theta(prices at t - 1) + e_t, e_t ~ N(0, sigma^2) in currency
 * units, independent; sigma is profiled out in closed form, sigma^2 = RSS / n, floored at
 * `noiseFloor` x the median rival price (the recording resolution: without a floor, an exact
 * fit, which every deterministic strategy gives on noise-free data, has infinite likelihood).
 * loglik = -n/2 log(2 pi sigma^2) - RSS / (2 sigma^2); BIC = -2 loglik + k log n, with k the
 * strategy's parameters plus sigma. The random walk's moves are its noise: its mean is its own
 * last price and its uniform moves on [-step, step) are taken as Gaussian with the same
 * variance (a quasi-likelihood), so step = sqrt(3) sigma; min and max are the observed range.
 *
 * Latency: a rival may reprice every L periods (Rival.latencyDays). With L > 1 and phase f, the
 * strategy acts on periods with (period - f) mod L = 0 and the price is held otherwise (mean =
 * its own last price); L and f are fitted by the same BIC,
 * up to `maxLatency` (default 1; 7 for daily and 4 for weekly sales files), for the latencies
 * and phases whose held periods hold the price exactly (at least 90% of them). Held periods
 * have their own sigma (the simulator holds a price exactly): k grows by 3 (L, f, sigma_held).
 *
 * Parameters, each by exact least squares (the Gaussian MLE of the mean) within its branch:
 *   fixed          a piecewise-constant price; change points by PELT (Killick, Fearnhead &
 *                  Eckley 2012) with the BIC penalty; k = 2 J + 1 + 1 for J changes; the
 *                  scenario's `fixed` takes the last level (the price in force at the end).
 *   random-walk    step = sqrt(3) sigma, min and max the observed range; k = 3.
 *   match          max(lowest other price, floor): floor by an exact scan over which periods
 *                  bind (sorted by the lowest other price); k = 2.
 *   undercut       max(lowest - amount, floor): amount and floor in closed form for each
 *                  split of the periods into floor / undercut, the split's threshold
 *                  floor + amount kept between the neighbouring lowest prices; k = 3.
 *   two-bound      lowest - step, or ceiling when that is below the floor: step and ceiling in
 *                  closed form per split, floor midway between the neighbouring thresholds; k = 4.
 *   ratio-follower ratio * target's price, ratio = sum r T / sum T^2, for every possible target
 *                  (ours, or another rival), the best kept; k = 2.
 *   best-response  the logit best reply (env/stage-game.ts) to the others' last prices under
 *                  the fitted demand (given as input); the rival's unit cost, which the reply
 *                  depends on, is its parameter (7-point grid, then Gauss-Newton); k = 2.
 *                  Without a demand model it is not fitted (recorded so).
 * "Lowest other price" is over every other firm seen (ours and every rival column), as in
 * env/competitors/match.ts; a ratio follower may only follow a firm of the scenario.
 *
 * Intervals (95%), given the kind, latency and change points: within its branch each mean is
 * linear in its parameters, so Wald from the least-squares information, value +- 1.96 sigma /
 * sqrt(sum of squared derivatives of the mean); the walk's step +- 1.96 step / sqrt(2 n); a
 * two-bound floor (a threshold) gets the range of values that split the periods the same way.
 *
 * Festival periods (a festival column): the simulator posts every rival's regular price x (1 -
 * competitorDiscount) then, so no pair of periods with a festival period in it is used.
 *
 * Several stores: one fit pooled over the stores' series (shared parameters, one competitor
 * per rival column in the scenario); the fixed price's change points are common to the
 * stores. At most `maxTransitions` transitions are used (default 20,000; 2,000 for a sales
 * file), the first ones in store then period order; a sales file's rows are read block by
 * block and only the rows of the stores that can give them are kept.
 *
 * This module: the transitions, the likelihood, the latency search and the choice by BIC.
 * competitor-types.ts holds the shapes, competitor-mean-fits.ts each strategy's least-squares
 * mean, competitor-records.ts the scenario fields, records and summary lines (re-exported here).
 */
import type { PeriodLength } from './calibrate.js';
import type { SalesData } from './reader.js';
import { salesBlocks } from './sales-blocks.js';
import { blocksWithColumn, hasScratchColumn } from './block-passes.js';
import { competitorKinds, z975, type CompetitorFitOptions, type CompetitorKind, type PriceHistory, type RivalStrategyFit, type StrategyCandidate } from './competitor-types.js';
import { fitBestResponse, fitFixed, fitFloor, fitRatio, fitTwoBound, fitUndercut, type MeanFit } from './competitor-mean-fits.js';

export { competitorKinds, type CompetitorFitOptions, type CompetitorKind, type ParameterValue, type PriceHistory, type ResponseDemand, type RivalStrategyFit, type StrategyCandidate } from './competitor-types.js';
export { competitorEstimates, competitorMethod, competitorStrategyRecord, competitorSummaryLines, scenarioCompetitorFields } from './competitor-records.js';

const log2Pi = Math.log(2 * Math.PI);

/** Pairs of consecutive periods needed to fit a rival (fewer: the caller keeps its default strategy). */
export const minimumTransitions = 10;

/** Pairs of consecutive periods of the history (rows one period after the row before, same series). */
export function transitionCount(history: PriceHistory): number {
  let count = 0;
  for (let row = 1; row < history.period.length; row++) if (isTransition(history, row)) count++;
  return count;
}

/** Row follows the row before: same series, one period later, neither of them left out. */
function isTransition(history: PriceHistory, row: number): boolean {
  if (history.leaveOut && (history.leaveOut[row] === 1 || history.leaveOut[row - 1] === 1)) return false;
  return history.series[row] === history.series[row - 1] && (history.period[row] ?? 0) - (history.period[row - 1] ?? 0) === 1;
}

/** Transitions of one rival: its price at t and every firm's price at t - 1. */
interface Transitions {
  readonly count: number;
  readonly period: Float64Array;
  readonly price: Float64Array;
  readonly ownLast: Float64Array;
  readonly lowestLast: Float64Array;
  /** lastPrices[firm][transition]. */
  readonly lastPrices: readonly Float64Array[];
}

function transitionsOf(history: PriceHistory, firm: number, maxTransitions: number): Transitions {
  const rows = history.period.length;
  const kept: number[] = [];
  for (let row = 1; row < rows && kept.length < maxTransitions; row++) if (isTransition(history, row)) kept.push(row);
  const count = kept.length;
  const own = history.prices[firm]!;
  const lastPrices = history.prices.map((column) => Float64Array.from(kept, (row) => column[row - 1] ?? Number.NaN));
  const lowestLast = Float64Array.from(kept, (_, index) => {
    let lowest = Number.POSITIVE_INFINITY;
    lastPrices.forEach((column, other) => {
      if (other !== firm && (column[index] ?? Number.POSITIVE_INFINITY) < lowest) lowest = column[index] ?? lowest;
    });
    return lowest === Number.POSITIVE_INFINITY ? (own[(kept[index] ?? 1) - 1] ?? Number.NaN) : lowest;
  });
  return {
    count,
    period: Float64Array.from(kept, (row) => history.period[row] ?? 0),
    price: Float64Array.from(kept, (row) => own[row] ?? Number.NaN),
    ownLast: Float64Array.from(kept, (row) => own[row - 1] ?? Number.NaN),
    lowestLast,
    lastPrices,
  };
}

/** The Gaussian log-likelihood with sigma profiled out (floored). */
function gaussianLogLikelihood(rss: number, n: number, floor: number): { logLikelihood: number; sigma: number } {
  const variance = Math.max(rss / n, floor * floor);
  return { logLikelihood: -0.5 * n * (log2Pi + Math.log(variance)) - rss / (2 * variance), sigma: Math.sqrt(variance) };
}

/** The repricing rows of a latency and phase, as indices into the transitions. */
function repricingRows(transitions: Transitions, latency: number, phase: number, scale: number): { rows: Int32Array; heldRss: number; held: number; heldExactly: number } {
  const rows: number[] = [];
  let heldRss = 0;
  let held = 0;
  let heldExactly = 0;
  for (let index = 0; index < transitions.count; index++) {
    const period = transitions.period[index] ?? 0;
    if (latency === 1 || (((period - phase) % latency) + latency) % latency === 0) rows.push(index);
    else {
      const move = (transitions.price[index] ?? 0) - (transitions.ownLast[index] ?? 0);
      heldRss += move * move;
      held++;
      if (Math.abs(move) <= 1e-12 * scale) heldExactly++;
    }
  }
  return { rows: Int32Array.from(rows), heldRss, held, heldExactly };
}

const pick = (values: Float64Array, rows: Int32Array) => Float64Array.from(rows, (row) => values[row] ?? 0);

function median(values: Float64Array): number {
  const sorted = Float64Array.from(values).sort();
  return sorted.length === 0 ? 0 : ((sorted[(sorted.length - 1) >> 1] ?? 0) + (sorted[sorted.length >> 1] ?? 0)) / 2;
}

/** Every strategy fitted to one rival (firm >= 1) of the history, and the one of smallest BIC. */
export function fitRivalStrategy(history: PriceHistory, firm: number, options: CompetitorFitOptions = {}): RivalStrategyFit {
  const names = history.names ?? history.prices.map((_, index) => (index === 0 ? 'focal' : `firm-${index}`));
  const transitions = transitionsOf(history, firm, options.maxTransitions ?? 20_000);
  const n = transitions.count;
  const name = names[firm] ?? `firm-${firm}`;
  if (n < minimumTransitions) throw new RangeError(`rival ${name}: expected at least ${minimumTransitions} pairs of consecutive periods, found ${n}`);
  const scale = median(transitions.price);
  const floor = (options.noiseFloor ?? 1e-3) * scale;
  const minimumStep = 1e-6 * scale;
  const logN = Math.log(n);
  const maxLatency = Math.max(1, Math.floor(options.maxLatency ?? 1));
  const demand = options.demand;
  const notFitted: { kind: CompetitorKind; reason: string }[] = [];
  if (!demand) notFitted.push({ kind: 'best-response', reason: 'no demand model given to reply under' });
  else if (demand.qualities.length !== history.prices.length) throw new RangeError(`best response: expected ${history.prices.length} qualities (one per firm), found ${demand.qualities.length}`);

  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  for (const value of transitions.price) {
    low = Math.min(low, value);
    high = Math.max(high, value);
  }
  for (const value of transitions.ownLast) {
    low = Math.min(low, value);
    high = Math.max(high, value);
  }

  const best = new Map<CompetitorKind, StrategyCandidate>();
  const consider = (kind: CompetitorKind, latency: number, phase: number, meanFit: MeanFit, held: { heldRss: number; held: number }) => {
    // Repricing periods and held periods each have their own sigma (a held price is exact in the simulator).
    const repricing = gaussianLogLikelihood(meanFit.rss, n - held.held, floor);
    const holding = held.held > 0 ? gaussianLogLikelihood(held.heldRss, held.held, floor).logLikelihood : 0;
    const logLikelihood = repricing.logLikelihood + holding;
    const sigma = repricing.sigma;
    const parameterCount = meanFit.meanParameters + 1 + (latency > 1 ? 3 : 0);
    const bic = -2 * logLikelihood + parameterCount * logN;
    const parameters = kind === 'random-walk' ? { step: Math.max(minimumStep, Math.sqrt(3) * sigma), min: low, max: Math.max(high, low * 1.0001) } : meanFit.parameters;
    const previous = best.get(kind);
    if (previous && bic >= previous.bic) return;
    const intervals: Record<string, readonly [number, number]> = {};
    const repricingCount = n - held.held;
    // The walk's step is sqrt(3) sigma; sigma's standard error is sigma / sqrt(2 n).
    const information = kind === 'random-walk' ? { step: 2 * repricingCount } : (meanFit.information ?? {});
    for (const [name, amount] of Object.entries(information)) {
      const value = Number(parameters[name]);
      if (!(amount > 0) || !Number.isFinite(value)) continue;
      const half = (z975 * (kind === 'random-walk' ? value : sigma)) / Math.sqrt(amount);
      intervals[name] = [value - half, value + half];
    }
    for (const [name, range] of Object.entries(meanFit.ranges ?? {})) intervals[name] = range;
    best.set(kind, { kind, logLikelihood, parameterCount, bic, sigma, latency, phase, parameters, intervals });
  };
  const allowedTargets = options.ratioTargets ?? transitions.lastPrices.map((_, index) => index);
  const ratioTargets = transitions.lastPrices.flatMap((last, index) => (index === firm || !allowedTargets.includes(index) ? [] : [{ name: names[index] ?? `firm-${index}`, last }]));
  for (let latency = 1; latency <= maxLatency; latency++) {
    for (let phase = 0; phase < latency; phase++) {
      const held = repricingRows(transitions, latency, phase, scale);
      const rows = held.rows;
      // A latency is only tried when its held periods hold the price exactly (at least 90% of them).
      if (rows.length < 2 || (latency > 1 && held.heldExactly < 0.9 * held.held)) continue;
      const price = pick(transitions.price, rows);
      const lowest = pick(transitions.lowestLast, rows);
      const ownLast = pick(transitions.ownLast, rows);
      consider('fixed', latency, phase, fitFixed(price, pick(transitions.period, rows), ownLast, n, floor), held);
      let walkRss = 0;
      for (let index = 0; index < price.length; index++) walkRss += ((price[index] ?? 0) - (ownLast[index] ?? 0)) ** 2;
      consider('random-walk', latency, phase, { rss: walkRss, meanParameters: 2, parameters: {} }, held);
      const floorFit = fitFloor(price, lowest);
      consider('match', latency, phase, { rss: floorFit.rss, meanParameters: 1, parameters: { floor: floorFit.floor, floorPeriods: floorFit.binding }, information: { floor: floorFit.binding } }, held);
      consider('undercut', latency, phase, fitUndercut(price, lowest, minimumStep), held);
      consider('two-bound', latency, phase, fitTwoBound(price, lowest, minimumStep), held);
      consider('ratio-follower', latency, phase, fitRatio(price, ratioTargets.map((target) => ({ name: target.name, last: pick(target.last, rows) }))), held);
      if (demand) consider('best-response', latency, phase, fitBestResponse(price, transitions.lastPrices.map((last) => pick(last, rows)), firm, demand), held);
    }
  }
  const candidates = competitorKinds.flatMap((kind) => {
    const candidate = best.get(kind);
    return candidate ? [candidate] : [];
  });
  // Smallest BIC; a tie (within 1e-9 of the BIC's size) goes to fewer parameters, then to the earlier kind.
  const chosen = candidates.reduce((winner, next) => {
    const tolerance = 1e-9 * Math.max(1, Math.abs(winner.bic));
    if (next.bic < winner.bic - tolerance) return next;
    if (Math.abs(next.bic - winner.bic) <= tolerance && next.parameterCount < winner.parameterCount) return next;
    return winner;
  });
  return { firm, name, observations: n, noiseFloor: floor, chosen, candidates, notFitted };
}

export interface SalesCompetitorOptions extends Omit<CompetitorFitOptions, 'demand' | 'ratioTargets'> {
  readonly periodLength: PeriodLength;
  /**
   * Rival columns that are firms of the scenario (default all), in the scenario's order: each
   * is fitted, and only they (and ours) may be a ratio follower's target. Every rival column
   * counts for "the lowest other price" and the best reply: the rival saw them all.
   */
  readonly rivals?: readonly number[];
  /** Names of those rivals in the scenario (default the column names). */
  readonly names?: readonly string[];
  /** The fitted demand: our quality, price sensitivity, and the quality of each rival column (indexed as sales.rivalPrices). */
  readonly demand?: { readonly quality: number; readonly priceSensitivity: number; readonly rivalQualities: readonly number[] } | undefined;
}

/** Defaults for a sales file: latency up to a week of days or four weeks; at most 2,000 transitions. */
const salesDefaults = { maxLatency: { day: 7, week: 4 }, maxTransitions: 2_000 } as const;

/**
 * The history of a sales file as firm prices per store series (rows sorted by store, then
 * period; periods in whole periods: weeks for dated rows with weekly periods), and every
 * kept rival's strategy fitted on it.
 */
export function fitCompetitorStrategies(sales: SalesData, options: SalesCompetitorOptions): (RivalStrategyFit | undefined)[] {
  const rivalCount = sales.rivalNames.length;
  const rivals = options.rivals ?? Array.from({ length: rivalCount }, (_, index) => index);
  if (rivals.length === 0) return [];
  // First pass: the first period and each store's rows.
  let first = Number.POSITIVE_INFINITY;
  const rowsPerStore = new Float64Array(sales.storeNames.length + 1);
  for (const block of salesBlocks(sales)) {
    for (let row = 0; row < block.rows; row++) {
      first = Math.min(first, block.period[row] ?? 0);
      const store = block.store[row] ?? 0;
      rowsPerStore[store] = (rowsPerStore[store] ?? 0) + 1;
    }
  }
  const divisor = sales.periodKind === 'date' && options.periodLength === 'week' ? 7 : 1;
  const periodOf = (period: number) => Math.floor((period - first) / divisor);
  // Only the first stores' rows can give the first maxTransitions pairs: keep stores 0..last
  // (rows >= cap + stores kept), then sort just those by store and period.
  const cap = options.maxTransitions ?? salesDefaults.maxTransitions;
  let lastStore = 0;
  for (let kept = rowsPerStore[0] ?? 0; lastStore < rowsPerStore.length - 1 && kept < cap + lastStore + 1; kept += rowsPerStore[lastStore] ?? 0) lastStore++;
  // Second pass: the kept rows' prices, periods, stores and festival flags (memory: those rows only).
  const festival = hasScratchColumn(sales, 'festival', () => sales.festival !== undefined);
  const keptPrices: number[][] = Array.from({ length: rivalCount + 1 }, () => []);
  const keptPeriod: number[] = [];
  const keptStore: number[] = [];
  const keptFestive: number[] = [];
  for (const { block, column } of blocksWithColumn(sales, 'festival', () => sales.festival?.label)) {
    for (let row = 0; row < block.rows; row++) {
      const store = block.store[row] ?? 0;
      if (store > lastStore) continue;
      keptStore.push(store);
      keptPeriod.push(periodOf(block.period[row] ?? 0));
      keptPrices[0]?.push(block.price[row] ?? 0);
      for (let index = 0; index < rivalCount; index++) keptPrices[index + 1]?.push(block.rivalPrices[index]?.[row] ?? 0);
      if (festival) keptFestive.push((column?.[row] ?? -1) >= 0 ? 1 : 0);
    }
  }
  const order = Int32Array.from({ length: keptStore.length }, (_, index) => index).sort((left, right) => (keptStore[left] ?? 0) - (keptStore[right] ?? 0) || (keptPeriod[left] ?? 0) - (keptPeriod[right] ?? 0));
  const names = ['focal', ...sales.rivalNames.map((name, index) => name || `rival-${index + 1}`)];
  rivals.forEach((index, position) => (names[index + 1] = options.names?.[position] ?? names[index + 1] ?? `rival-${index + 1}`));
  const history: PriceHistory = {
    prices: keptPrices.map((column) => Float64Array.from(order, (row) => column[row] ?? 0)),
    period: Float64Array.from(order, (row) => keptPeriod[row] ?? 0),
    series: Int32Array.from(order, (row) => keptStore[row] ?? 0),
    names,
    ...(festival ? { leaveOut: Uint8Array.from(order, (row) => keptFestive[row] ?? 0) } : {}),
  };
  const demand = options.demand;
  // A rival left out of the scenario has a quality the fit ran towards minus infinity: kept finite, its share is nil.
  const responseDemand = demand
    ? { qualities: [demand.quality, ...Array.from({ length: rivalCount }, (_, index) => Math.max(-700, Number.isFinite(demand.rivalQualities[index]) ? (demand.rivalQualities[index] ?? -700) : -700))], priceSensitivity: demand.priceSensitivity }
    : undefined;
  if (transitionCount(history) < minimumTransitions) return rivals.map(() => undefined);
  const ratioTargets = [0, ...rivals.map((index) => index + 1)];
  return rivals.map((index) => ({
    column: sales.rivalNames[index] ?? `rival-${index + 1}`,
    ...fitRivalStrategy(history, index + 1, {
      demand: responseDemand,
      ratioTargets,
      maxLatency: options.maxLatency ?? salesDefaults.maxLatency[options.periodLength],
      maxTransitions: options.maxTransitions ?? salesDefaults.maxTransitions,
      ...(options.noiseFloor === undefined ? {} : { noiseFloor: options.noiseFloor }),
    }),
  }));
}

