/**
 * The least-squares mean of each competitor strategy on the repricing rows (method in
 * competitors.ts): fixed with change points by PELT, match's floor, undercut, two-bound,
 * ratio follower and best response. Each returns the residual sum of squares, the mean's
 * parameter count, the parameters and the least-squares information for the Wald intervals.
 */
import type { ParameterValue, ResponseDemand } from './competitor-types.js';
import { LogitStageGame } from '../env/stage-game.js';

/** One strategy's least-squares fit on the repricing rows. */
export interface MeanFit {
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

/** Indices 0..n-1 sorted by `key`, ascending. */
function sortedBy(key: Float64Array): Int32Array {
  return Int32Array.from(key.keys()).sort((left, right) => (key[left] ?? 0) - (key[right] ?? 0));
}

/**
 * fixed with changes: a piecewise-constant price over the periods (stores pooled), change
 * points by PELT minimising RSS / sigma0^2 + 2 log n per change (a level and a location),
 * with sigma0 a robust noise scale from consecutive differences (floored).
 */
export function fitFixed(price: Float64Array, period: Float64Array, ownLast: Float64Array, n: number, floor: number): MeanFit {
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
export function fitFloor(price: Float64Array, target: Float64Array): { rss: number; floor: number; binding: number } {
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

/** The rows sorted by the lowest rival price: our prices, the lowest prices, and the sum and sum of squares of the gaps (lowest - price). */
function sortedByLowest(price: Float64Array, lowest: Float64Array): { n: number; y: Float64Array; low: Float64Array; gapSum: number; gapSquares: number } {
  const n = price.length;
  const order = sortedBy(lowest);
  const y = Float64Array.from(order, (index) => price[index] ?? 0);
  const low = Float64Array.from(order, (index) => lowest[index] ?? 0);
  let gapSum = 0;
  let gapSquares = 0;
  for (let index = 0; index < n; index++) {
    const gap = (low[index] ?? 0) - (y[index] ?? 0);
    gapSum += gap;
    gapSquares += gap * gap;
  }
  return { n, y, low, gapSum, gapSquares };
}

/**
 * undercut: max(lowest - amount, floor). For each split of the rows sorted by the lowest
 * price into floor rows (the first k) and undercut rows, the least-squares amount and floor
 * with their threshold floor + amount kept between the neighbouring lowest prices (the
 * profile over the threshold is convex, so the constrained optimum clamps it).
 */
export function fitUndercut(price: Float64Array, lowest: Float64Array, minimumStep: number): MeanFit {
  const { n, y, low, gapSum: totalGap, gapSquares: totalGapSquares } = sortedByLowest(price, lowest);
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
export function fitTwoBound(price: Float64Array, lowest: Float64Array, minimumStep: number): MeanFit {
  const sorted = sortedByLowest(price, lowest);
  const { n, y, low } = sorted;
  let { gapSum, gapSquares } = sorted;
  let highest = 0;
  for (const value of y) highest = Math.max(highest, value);
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
export function fitRatio(price: Float64Array, targets: readonly { name: string; last: Float64Array }[]): MeanFit {
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
export function fitBestResponse(price: Float64Array, lastPrices: readonly Float64Array[], firm: number, demand: ResponseDemand): MeanFit {
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

