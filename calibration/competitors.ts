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
 * file), the first ones in store then period order.
 */
import type { PeriodLength } from './calibrate.js';
import type { SalesData } from './reader.js';
import type { ScenarioInput } from '../scenarios/schema.js';
import { LogitStageGame } from '../env/stage-game.js';

export const competitorKinds = ['fixed', 'random-walk', 'match', 'undercut', 'two-bound', 'ratio-follower', 'best-response'] as const;
export type CompetitorKind = (typeof competitorKinds)[number];

export type ParameterValue = number | string | readonly number[];

export interface StrategyCandidate {
  readonly kind: CompetitorKind;
  readonly logLikelihood: number;
  /** Free parameters counted by the BIC, sigma included. */
  readonly parameterCount: number;
  readonly bic: number;
  /** Fitted noise standard deviation, currency units. */
  readonly sigma: number;
  /** Repricing every `latency` periods, on periods with (period - phase) mod latency = 0. */
  readonly latency: number;
  readonly phase: number;
  readonly parameters: Readonly<Record<string, ParameterValue>>;
  /**
   * 95% intervals of the continuous parameters, given the kind, latency and change points:
   * Wald from the least-squares information within the chosen branch (sigma / sqrt of it),
   * or the range of values that fit the same for a threshold. Absent when not identified.
   */
  readonly intervals: Readonly<Record<string, readonly [number, number]>>;
}

export interface RivalStrategyFit {
  /** Firm index of the rival in the history (ours is 0). */
  readonly firm: number;
  /** The rival's name in the history (the scenario's competitor name through calibrate). */
  readonly name: string;
  /** The sales file's rival price column, through fitCompetitorStrategies. */
  readonly column?: string;
  /** Transitions (pairs of consecutive periods) in the likelihood. */
  readonly observations: number;
  /** sigma's floor, currency units. */
  readonly noiseFloor: number;
  readonly chosen: StrategyCandidate;
  /** One per strategy kind fitted, in `competitorKinds` order. */
  readonly candidates: readonly StrategyCandidate[];
  /** Kinds not fitted and why (best response without a demand model). */
  readonly notFitted: readonly { readonly kind: CompetitorKind; readonly reason: string }[];
}

/**
 * Prices per firm and row: firm 0 is ours, the others rivals. Rows of one series (store)
 * are consecutive and in period order; a row follows the one before when both are of the
 * same series and one period apart.
 */
export interface PriceHistory {
  readonly prices: readonly Float64Array[];
  readonly period: Float64Array;
  readonly series: Int32Array;
  /** Names of the firms (for the ratio follower's target); default focal, firm-1, ... */
  readonly names?: readonly string[];
  /**
   * 1 for rows whose prices are not the strategies' own (festival periods, where the
   * simulator discounts every rival's regular price): no pair with such a row is used.
   */
  readonly leaveOut?: Uint8Array;
}

/** The demand the best response replies under: the calibrated logit (one segment, scale 1, outside utility 0). */
export interface ResponseDemand {
  /** Quality of every firm of the history, ours first. */
  readonly qualities: readonly number[];
  readonly priceSensitivity: number;
}

export interface CompetitorFitOptions {
  readonly demand?: ResponseDemand | undefined;
  /** sigma's floor as a share of the median rival price (default 0.001). */
  readonly noiseFloor?: number;
  /** Longest repricing latency tried, in periods (default 1). */
  readonly maxLatency?: number;
  /** Transitions used at most (default 20,000): whole series in row order until the cap. */
  readonly maxTransitions?: number;
  /** Firms a ratio follower may follow (default every other firm): the firms of the scenario. */
  readonly ratioTargets?: readonly number[];
}

const log2Pi = Math.log(2 * Math.PI);
const z975 = 1.959963984540054;

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

/** One strategy's least-squares fit on the repricing rows. */
interface MeanFit {
  readonly rss: number;
  /** Parameters of the mean (sigma not included). */
  readonly meanParameters: number;
  readonly parameters: Record<string, ParameterValue>;
  /**
   * Per continuous parameter, the sum of squared derivatives of the mean within the chosen
   * branch (the least-squares information over sigma^2): its standard error is sigma / sqrt.
   */
  readonly information?: Record<string, number>;
  /** Set-identified parameters: every value in the range fits the same (a threshold between two observed prices). */
  readonly ranges?: Record<string, readonly [number, number]>;
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

/** Indices 0..n-1 sorted by `key`, ascending. */
function sortedBy(key: Float64Array): Int32Array {
  return Int32Array.from(key.keys()).sort((left, right) => (key[left] ?? 0) - (key[right] ?? 0));
}

/**
 * fixed with changes: a piecewise-constant price over the periods (stores pooled), change
 * points by PELT minimising RSS / sigma0^2 + 2 log n per change (a level and a location),
 * with sigma0 a robust noise scale from consecutive differences (floored).
 */
function fitFixed(price: Float64Array, period: Float64Array, ownLast: Float64Array, n: number, floor: number): MeanFit {
  const order = sortedBy(period);
  const periods: number[] = [];
  const sums: number[] = [];
  const squares: number[] = [];
  const counts: number[] = [];
  for (const index of order) {
    const when = period[index] ?? 0;
    const value = price[index] ?? 0;
    if (periods.length === 0 || periods[periods.length - 1] !== when) {
      periods.push(when);
      sums.push(0);
      squares.push(0);
      counts.push(0);
    }
    const last = periods.length - 1;
    sums[last] = (sums[last] ?? 0) + value;
    squares[last] = (squares[last] ?? 0) + value * value;
    counts[last] = (counts[last] ?? 0) + 1;
  }
  const groups = periods.length;
  const prefixSum = new Float64Array(groups + 1);
  const prefixSquare = new Float64Array(groups + 1);
  const prefixCount = new Float64Array(groups + 1);
  for (let group = 0; group < groups; group++) {
    prefixSum[group + 1] = (prefixSum[group] ?? 0) + (sums[group] ?? 0);
    prefixSquare[group + 1] = (prefixSquare[group] ?? 0) + (squares[group] ?? 0);
    prefixCount[group + 1] = (prefixCount[group] ?? 0) + (counts[group] ?? 0);
  }
  const cost = (from: number, to: number) => {
    const count = (prefixCount[to] ?? 0) - (prefixCount[from] ?? 0);
    const sum = (prefixSum[to] ?? 0) - (prefixSum[from] ?? 0);
    return Math.max(0, (prefixSquare[to] ?? 0) - (prefixSquare[from] ?? 0) - (sum * sum) / Math.max(count, 1));
  };
  const differences = Float64Array.from(price, (value, index) => Math.abs(value - (ownLast[index] ?? value))).sort();
  const mad = differences[Math.floor(differences.length / 2)] ?? 0;
  const sigma0 = Math.max(floor, mad / (0.6744897501960817 * Math.SQRT2));
  const penalty = 2 * Math.log(n) * sigma0 * sigma0;
  // PELT over group boundaries 0..groups.
  const best = new Float64Array(groups + 1);
  const previous = new Int32Array(groups + 1);
  best[0] = -penalty;
  let candidates = [0];
  for (let to = 1; to <= groups; to++) {
    let bestValue = Number.POSITIVE_INFINITY;
    let bestFrom = 0;
    for (const from of candidates) {
      const value = (best[from] ?? 0) + cost(from, to) + penalty;
      if (value < bestValue) {
        bestValue = value;
        bestFrom = from;
      }
    }
    best[to] = bestValue;
    previous[to] = bestFrom;
    candidates = candidates.filter((from) => (best[from] ?? 0) + cost(from, to) <= bestValue);
    candidates.push(to);
  }
  const boundaries: number[] = [];
  for (let at = groups; at > 0; at = previous[at] ?? 0) boundaries.unshift(at);
  let rss = 0;
  const levels: number[] = [];
  const changePeriods: number[] = [];
  let from = 0;
  for (const to of boundaries) {
    rss += cost(from, to);
    levels.push(((prefixSum[to] ?? 0) - (prefixSum[from] ?? 0)) / Math.max(1, (prefixCount[to] ?? 0) - (prefixCount[from] ?? 0)));
    if (from > 0) changePeriods.push(periods[from] ?? 0);
    from = to;
  }
  const changes = changePeriods.length;
  const lastFrom = boundaries.length > 1 ? (boundaries[boundaries.length - 2] ?? 0) : 0;
  const lastCount = (prefixCount[groups] ?? 0) - (prefixCount[lastFrom] ?? 0);
  return { rss, meanParameters: 2 * changes + 1, parameters: { price: levels[levels.length - 1] ?? 0, levels, changePeriods }, information: { price: lastCount } };
}

/** match: max(lowest, floor), the floor by an exact scan over the binding rows (sorted by lowest). */
function fitFloor(price: Float64Array, target: Float64Array): { rss: number; floor: number; binding: number } {
  const n = price.length;
  const order = sortedBy(target);
  const y = Float64Array.from(order, (index) => price[index] ?? 0);
  const t = Float64Array.from(order, (index) => target[index] ?? 0);
  // Suffix sums of (y - t)^2: rows not binding.
  const suffix = new Float64Array(n + 1);
  for (let index = n - 1; index >= 0; index--) suffix[index] = (suffix[index + 1] ?? 0) + ((y[index] ?? 0) - (t[index] ?? 0)) ** 2;
  let sum = 0;
  let squares = 0;
  let best = { rss: suffix[0] ?? 0, floor: t[0] ?? 0, binding: 0 };
  for (let k = 1; k <= n; k++) {
    sum += y[k - 1] ?? 0;
    squares += (y[k - 1] ?? 0) ** 2;
    if (k < n && !((t[k - 1] ?? 0) < (t[k] ?? 0))) continue;
    const low = t[k - 1] ?? 0;
    const high = k < n ? (t[k] ?? 0) : Number.POSITIVE_INFINITY;
    const floor = Math.min(high, Math.max(low, sum / k));
    const rss = squares - 2 * floor * sum + k * floor * floor + (suffix[k] ?? 0);
    if (rss < best.rss) best = { rss, floor, binding: k };
  }
  return best;
}

/**
 * undercut: max(lowest - amount, floor). For each split of the rows sorted by the lowest
 * price into floor rows (the first k) and undercut rows, the least-squares amount and floor
 * with their threshold floor + amount kept between the neighbouring lowest prices (the
 * profile over the threshold is convex, so the constrained optimum clamps it).
 */
function fitUndercut(price: Float64Array, lowest: Float64Array, minimumStep: number): MeanFit {
  const n = price.length;
  const order = sortedBy(lowest);
  const y = Float64Array.from(order, (index) => price[index] ?? 0);
  const low = Float64Array.from(order, (index) => lowest[index] ?? 0);
  let totalGap = 0;
  let totalGapSquares = 0;
  for (let index = 0; index < n; index++) {
    const gap = (low[index] ?? 0) - (y[index] ?? 0);
    totalGap += gap;
    totalGapSquares += gap * gap;
  }
  let sum = 0;
  let squares = 0;
  let gapSum = totalGap;
  let gapSquares = totalGapSquares;
  let best: { rss: number; amount: number; floor: number; binding: number } | undefined;
  for (let k = 0; k <= n; k++) {
    if (k > 0) {
      const value = y[k - 1] ?? 0;
      const gap = (low[k - 1] ?? 0) - value;
      sum += value;
      squares += value * value;
      gapSum -= gap;
      gapSquares -= gap * gap;
    }
    if (k > 0 && k < n && !((low[k - 1] ?? 0) < (low[k] ?? 0))) continue;
    let amount: number;
    let floor: number;
    if (k === 0) {
      amount = gapSum / n;
      floor = (low[0] ?? 0) - amount;
    } else if (k === n) {
      floor = sum / n;
      amount = Math.max(minimumStep, (low[n - 1] ?? 0) - floor);
    } else {
      const threshold = Math.min(low[k] ?? 0, Math.max(low[k - 1] ?? 0, sum / k + gapSum / (n - k)));
      amount = (k * threshold - sum + gapSum) / n;
      floor = threshold - amount;
    }
    if (!(amount >= minimumStep) || !(floor > 0)) continue;
    const rss = Math.max(0, squares - 2 * floor * sum + k * floor * floor) + (k < n ? Math.max(0, gapSquares - 2 * amount * gapSum + (n - k) * amount * amount) : 0);
    if (!best || rss < best.rss) best = { rss, amount, floor, binding: k };
  }
  if (!best) {
    // Every least-squares amount is below the smallest step: the undercut is a match at that step.
    const shifted = Float64Array.from(lowest, (value) => value - minimumStep);
    const floorFit = fitFloor(price, shifted);
    best = { rss: floorFit.rss, amount: minimumStep, floor: Math.max(floorFit.floor, minimumStep), binding: floorFit.binding };
  }
  return {
    rss: best.rss,
    meanParameters: 2,
    parameters: { amount: best.amount, floor: best.floor, floorPeriods: best.binding },
    information: { amount: n - best.binding, floor: best.binding },
  };
}

/**
 * two-bound: lowest - step, or ceiling when lowest - step < floor. Per split of the rows
 * sorted by the lowest price into jump rows (the first k) and undercut rows: ceiling = mean
 * price of the jump rows, step = mean gap of the others, floor midway between the
 * neighbouring undercut targets; splits where step <= 0, floor <= 0 or ceiling <= floor are
 * not two-bound strategies and are skipped.
 */
function fitTwoBound(price: Float64Array, lowest: Float64Array, minimumStep: number): MeanFit {
  const n = price.length;
  const order = sortedBy(lowest);
  const y = Float64Array.from(order, (index) => price[index] ?? 0);
  const low = Float64Array.from(order, (index) => lowest[index] ?? 0);
  let gapSum = 0;
  let gapSquares = 0;
  let highest = 0;
  for (let index = 0; index < n; index++) {
    const gap = (low[index] ?? 0) - (y[index] ?? 0);
    gapSum += gap;
    gapSquares += gap * gap;
    highest = Math.max(highest, y[index] ?? 0);
  }
  let sum = 0;
  let squares = 0;
  let best: { rss: number; step: number; floor: number; ceiling: number; jumps: number; floorRange?: readonly [number, number] } | undefined;
  for (let k = 0; k < n; k++) {
    if (k > 0) {
      const value = y[k - 1] ?? 0;
      const gap = (low[k - 1] ?? 0) - value;
      sum += value;
      squares += value * value;
      gapSum -= gap;
      gapSquares -= gap * gap;
      if (!((low[k - 1] ?? 0) < (low[k] ?? 0))) continue;
    }
    const step = Math.max(minimumStep, gapSum / (n - k));
    const undercutRss = Math.max(0, gapSquares - 2 * step * gapSum + (n - k) * step * step);
    let floor: number;
    let ceiling: number;
    let jumpRss = 0;
    if (k === 0) {
      // No jump seen: floor and ceiling are not identified; the floor sits just below every target.
      floor = ((low[0] ?? 0) - step) * 0.999;
      ceiling = Math.max(highest, floor * 1.01);
    } else {
      ceiling = sum / k;
      jumpRss = Math.max(0, squares - (sum * sum) / k);
      floor = ((low[k - 1] ?? 0) + (low[k] ?? 0)) / 2 - step;
    }
    if (!(floor > 0) || !(ceiling > floor)) continue;
    const rss = undercutRss + jumpRss;
    if (!best || rss < best.rss) best = { rss, step, floor, ceiling, jumps: k, ...(k > 0 ? { floorRange: [(low[k - 1] ?? 0) - step, (low[k] ?? 0) - step] as const } : {}) };
  }
  if (!best) {
    // No split gives a valid cycle (the rival never undercuts): the all-undercut fit at the smallest step.
    let rss = 0;
    for (let index = 0; index < n; index++) rss += ((y[index] ?? 0) - (low[index] ?? 0) + minimumStep) ** 2;
    const floor = Math.max(minimumStep, ((low[0] ?? 0) - minimumStep) * 0.999);
    best = { rss, step: minimumStep, floor, ceiling: Math.max(highest, floor * 1.01), jumps: 0 };
  }
  return {
    rss: best.rss,
    meanParameters: 3,
    parameters: { step: best.step, floor: best.floor, ceiling: best.ceiling, jumpPeriods: best.jumps },
    information: { step: n - best.jumps, ceiling: best.jumps },
    ...(best.floorRange ? { ranges: { floor: best.floorRange } } : {}),
  };
}

/** ratio-follower: price = ratio x target's last price, for each target firm; the best kept. */
function fitRatio(price: Float64Array, targets: readonly { name: string; last: Float64Array }[]): MeanFit {
  let best: MeanFit | undefined;
  for (const target of targets) {
    let cross = 0;
    let squares = 0;
    for (let index = 0; index < price.length; index++) {
      cross += (price[index] ?? 0) * (target.last[index] ?? 0);
      squares += (target.last[index] ?? 0) ** 2;
    }
    const ratio = Math.min(100, Math.max(1e-9, cross / squares));
    let rss = 0;
    for (let index = 0; index < price.length; index++) rss += ((price[index] ?? 0) - ratio * (target.last[index] ?? 0)) ** 2;
    if (!best || rss < best.rss) best = { rss, meanParameters: 1, parameters: { ratio, target: target.name }, information: { ratio: squares } };
  }
  return best!;
}


/**
 * best-response: the logit best reply to the others' last prices; the rival's unit cost c by
 * Gauss-Newton from the best of a 7-point grid. With one segment of scale 1 the reply is
 * c + (1 + W) / b (W the Lambert W of env/stage-game.ts), so d reply / d c = 1 / (1 + W) =
 * 1 / (b (reply - c)): the derivative comes with the reply, and so does the information.
 */
function fitBestResponse(price: Float64Array, lastPrices: readonly Float64Array[], firm: number, demand: ResponseDemand): MeanFit {
  const firms = lastPrices.length;
  const scratch = new Float64Array(firms);
  const sensitivity = demand.priceSensitivity;
  const evaluate = (unitCost: number) => {
    const game = new LogitStageGame({
      firms: demand.qualities.map((quality, index) => ({ quality, unitCost: index === firm ? unitCost : 0 })),
      segments: [{ weight: 1, priceSensitivity: sensitivity, scale: 1 }],
      outsideUtility: 0,
    });
    let rss = 0;
    let score = 0;
    let information = 0;
    for (let index = 0; index < price.length; index++) {
      for (let other = 0; other < firms; other++) scratch[other] = lastPrices[other]?.[index] ?? 0;
      const reply = game.bestResponse(firm, scratch);
      const slope = 1 / Math.max(1, sensitivity * (reply - unitCost));
      const residual = (price[index] ?? 0) - reply;
      rss += residual * residual;
      score += residual * slope;
      information += slope * slope;
    }
    return { unitCost, rss, score, information };
  };
  let top = 0;
  for (const value of price) top = Math.max(top, value);
  const gridPoints = 7;
  let best = evaluate(0);
  for (let index = 1; index < gridPoints; index++) {
    const next = evaluate((top * index) / (gridPoints - 1));
    if (next.rss < best.rss) best = next;
  }
  for (let iteration = 0; iteration < 50; iteration++) {
    let step = best.score / best.information;
    let next = evaluate(Math.max(0, best.unitCost + step));
    // Step halving: every accepted step lowers the RSS.
    while (next.rss > best.rss && Math.abs(step) > 1e-12 * Math.max(1, top)) {
      step /= 2;
      next = evaluate(Math.max(0, best.unitCost + step));
    }
    const moved = Math.abs(next.unitCost - best.unitCost);
    if (next.rss <= best.rss) best = next;
    if (moved <= 1e-9 * Math.max(1, top)) break;
  }
  return { rss: best.rss, meanParameters: 1, parameters: { unitCost: best.unitCost }, information: { unitCost: best.information } };
}

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
  const rivals = options.rivals ?? sales.rivalPrices.map((_, index) => index);
  if (rivals.length === 0) return [];
  let first = Number.POSITIVE_INFINITY;
  for (const value of sales.period) first = Math.min(first, value);
  const divisor = sales.periodKind === 'date' && options.periodLength === 'week' ? 7 : 1;
  const periodOf = (row: number) => Math.floor(((sales.period[row] ?? 0) - first) / divisor);
  // Only the first stores' rows can give the first maxTransitions pairs: keep stores 0..last
  // (rows >= cap + stores kept), then sort just those by store and period.
  const cap = options.maxTransitions ?? salesDefaults.maxTransitions;
  const rowsPerStore = new Float64Array(sales.storeNames.length + 1);
  for (const store of sales.store) rowsPerStore[store] = (rowsPerStore[store] ?? 0) + 1;
  let lastStore = 0;
  for (let kept = rowsPerStore[0] ?? 0; lastStore < rowsPerStore.length - 1 && kept < cap + lastStore + 1; kept += rowsPerStore[lastStore] ?? 0) lastStore++;
  const keptRows: number[] = [];
  for (let row = 0; row < sales.rows; row++) if ((sales.store[row] ?? 0) <= lastStore) keptRows.push(row);
  const order = Int32Array.from(keptRows).sort((left, right) => (sales.store[left] ?? 0) - (sales.store[right] ?? 0) || periodOf(left) - periodOf(right));
  const columns = [sales.price, ...sales.rivalPrices];
  const names = ['focal', ...sales.rivalNames.map((name, index) => name || `rival-${index + 1}`)];
  rivals.forEach((index, position) => (names[index + 1] = options.names?.[position] ?? names[index + 1] ?? `rival-${index + 1}`));
  const history: PriceHistory = {
    prices: columns.map((column) => Float64Array.from(order, (row) => column[row] ?? 0)),
    period: Float64Array.from(order, (row) => periodOf(row)),
    series: Int32Array.from(order, (row) => sales.store[row] ?? 0),
    names,
    ...(sales.festival ? { leaveOut: Uint8Array.from(order, (row) => ((sales.festival?.label[row] ?? -1) >= 0 ? 1 : 0)) } : {}),
  };
  const demand = options.demand;
  // A rival left out of the scenario has a quality the fit ran towards minus infinity: kept finite, its share is nil.
  const responseDemand = demand
    ? { qualities: [demand.quality, ...sales.rivalPrices.map((_, index) => Math.max(-700, Number.isFinite(demand.rivalQualities[index]) ? (demand.rivalQualities[index] ?? -700) : -700))], priceSensitivity: demand.priceSensitivity }
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

type CompetitorInput = NonNullable<ScenarioInput['competitors']>[number];

/**
 * The scenario's competitor fields for a chosen strategy: the strategy block, the unit cost
 * (a fitted best-response cost, or the default cost adjusted so that unitCost x (1 +
 * floorMargin) is the fitted floor of match and undercut) and the latency in days.
 */
export function scenarioCompetitorFields(
  fit: RivalStrategyFit,
  defaults: { readonly unitCost: number; readonly daysPerPeriod: number },
): { strategy: CompetitorInput['strategy']; unitCost: number; unitCostFitted: boolean; latencyDays: number } {
  const chosen = fit.chosen;
  const number = (key: string) => Number(chosen.parameters[key]);
  const round = (value: number) => Number(value.toPrecision(6));
  const latencyDays = chosen.latency * defaults.daysPerPeriod;
  const floorAndCost = () => {
    const floor = number('floor');
    // floorMargin is at most 100 in the schema: a floor above 101 x the default cost raises the cost instead.
    const unitCost = Math.max(Math.min(defaults.unitCost, floor), floor / 101);
    return { unitCost: round(unitCost), floorMargin: round(Math.min(100, Math.max(0, floor / Math.max(unitCost, 1e-12) - 1))) };
  };
  switch (chosen.kind) {
    case 'fixed':
      return { strategy: { kind: 'fixed', price: round(number('price')) }, unitCost: defaults.unitCost, unitCostFitted: false, latencyDays };
    case 'random-walk':
      return { strategy: { kind: 'random-walk', step: round(number('step')), min: round(number('min')), max: round(Math.max(number('max'), number('min') * 1.0001)) }, unitCost: defaults.unitCost, unitCostFitted: false, latencyDays };
    case 'match': {
      const { unitCost, floorMargin } = floorAndCost();
      return { strategy: { kind: 'match', floorMargin }, unitCost, unitCostFitted: false, latencyDays };
    }
    case 'undercut': {
      const { unitCost, floorMargin } = floorAndCost();
      return { strategy: { kind: 'undercut', amount: round(number('amount')), floorMargin }, unitCost, unitCostFitted: false, latencyDays };
    }
    case 'two-bound':
      return { strategy: { kind: 'two-bound', step: round(number('step')), floor: round(number('floor')), ceiling: round(Math.max(number('ceiling'), number('floor') * 1.0001)) }, unitCost: defaults.unitCost, unitCostFitted: false, latencyDays };
    case 'ratio-follower':
      return { strategy: { kind: 'ratio-follower', target: String(chosen.parameters.target), ratio: round(number('ratio')) }, unitCost: defaults.unitCost, unitCostFitted: false, latencyDays };
    case 'best-response':
      return { strategy: { kind: 'best-response' }, unitCost: round(number('unitCost')), unitCostFitted: true, latencyDays };
  }
}

/** The record of a fit, rounded to 6 significant digits (calibration.competitorStrategies). */
export function competitorStrategyRecord(fit: RivalStrategyFit, competitor: string) {
  const round = (value: number) => Number(value.toPrecision(6));
  const roundParameters = (parameters: Readonly<Record<string, ParameterValue>>) =>
    Object.fromEntries(Object.entries(parameters).map(([key, value]) => [key, typeof value === 'number' ? round(value) : typeof value === 'string' ? value : value.map(round)]));
  const candidate = (entry: StrategyCandidate) => ({
    kind: entry.kind,
    logLikelihood: round(entry.logLikelihood),
    parameterCount: entry.parameterCount,
    bic: round(entry.bic),
    sigma: round(entry.sigma),
    latency: entry.latency,
    phase: entry.phase,
    parameters: roundParameters(entry.parameters),
    intervals: Object.fromEntries(Object.entries(entry.intervals).map(([key, [lower, upper]]) => [key, [round(lower), round(upper)] as [number, number]])),
  });
  return {
    rival: fit.column ?? fit.name,
    competitor,
    chosen: fit.chosen.kind,
    observations: fit.observations,
    noiseFloor: round(fit.noiseFloor),
    candidates: fit.candidates.map(candidate),
    notFitted: fit.notFitted.map((entry) => ({ kind: entry.kind, reason: entry.reason })),
    method: competitorMethod,
  };
}

export const competitorMethod =
  'each strategy of the simulator fitted by maximum likelihood to the rival\'s price given every firm\'s price one period earlier (Gaussian noise in currency units, sigma profiled and floored at the noise floor; stores pooled); chosen by the smallest BIC = -2 loglik + k log n (docs/calibration.md, Competitors)';

/** What the summary reads of a calibration.competitorStrategies entry. */
interface CompetitorSummaryInput {
  readonly rival: string;
  readonly competitor: string;
  readonly chosen: string;
  readonly observations: number;
  readonly candidates: readonly { readonly kind: string; readonly bic: number; readonly latency: number; readonly parameters: Readonly<Record<string, ParameterValue>> }[];
}

/**
 * The text lines of `pricelab calibrate` for the competitor fits: per rival, every kind's
 * BIC (the chosen one starred, with its latency and parameters), aligned in columns.
 */
export function competitorSummaryLines(records: readonly CompetitorSummaryInput[] | undefined): string[] {
  if (!records || records.length === 0) return [];
  const header = ['rival', 'pairs', ...competitorKinds];
  const rows = records.map((record) => [
    `${record.rival} -> ${record.competitor}`,
    String(record.observations),
    ...competitorKinds.map((kind) => {
      const candidate = record.candidates.find((entry) => entry.kind === kind);
      return candidate ? `${candidate.bic.toFixed(1)}${kind === record.chosen ? '*' : ''}` : '-';
    }),
  ]);
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => (row[column] ?? '').length)));
  const format = (row: readonly string[]) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join('  ');
  const chosen = records.map((record) => {
    const candidate = record.candidates.find((entry) => entry.kind === record.chosen);
    const parameters = Object.entries(candidate?.parameters ?? {})
      .filter(([, value]) => !Array.isArray(value))
      .map(([key, value]) => `${key} ${String(value)}`)
      .join(', ');
    return `  ${record.competitor}: ${record.chosen}${candidate && candidate.latency > 1 ? ` every ${candidate.latency} periods` : ''} (${parameters})`;
  });
  return ['', 'competitor strategies (BIC, smallest starred; docs/calibration.md, Competitors):', format(header), ...rows.map(format), ...chosen];
}

/** Where each chosen parameter goes in the competitor block (absent: recorded only, e.g. a floor, which sets unitCost x (1 + floorMargin)). */
const scenarioFields: Partial<Record<CompetitorKind, Record<string, string>>> = {
  fixed: { price: 'strategy.price' },
  'random-walk': { step: 'strategy.step' },
  undercut: { amount: 'strategy.amount' },
  'two-bound': { step: 'strategy.step', ceiling: 'strategy.ceiling' },
  'ratio-follower': { ratio: 'strategy.ratio' },
  'best-response': { unitCost: 'unitCost' },
};

const competitorEstimateMethod =
  'competitor strategy fit (docs/calibration.md, Competitors): least squares within the chosen strategy\'s branch, given its kind, latency and change points; Wald 95% interval sigma / sqrt(information)';

/** calibration.estimates entries for the chosen strategy's parameters that have a Wald interval. */
export function competitorEstimates(fit: RivalStrategyFit, position: number): { parameter: string; scenarioPath?: string; value: number; standardError: number; lower: number; upper: number; method: string }[] {
  const round = (value: number) => Number(value.toPrecision(6));
  const chosen = fit.chosen;
  const ranges = new Set(Object.keys(chosen.kind === 'two-bound' ? { floor: true } : {}));
  return Object.entries(chosen.intervals).flatMap(([name, [lower, upper]]) => {
    if (ranges.has(name)) return [];
    const value = Number(chosen.parameters[name]);
    const field = scenarioFields[chosen.kind]?.[name];
    return [
      {
        parameter: `competitor:${fit.name}.${chosen.kind}.${name}`,
        ...(field === undefined ? {} : { scenarioPath: `competitors[${position}].${field}` }),
        value: round(value),
        standardError: round((upper - lower) / (2 * z975)),
        lower: round(lower),
        upper: round(upper),
        method: competitorEstimateMethod,
      },
    ];
  });
}
