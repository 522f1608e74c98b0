/**
 * The oracle: the exact optimal expected value of selling a finite stock over a finite
 * horizon (no replenishment), by backward dynamic programming. Learning agents on
 * markdown/clearance scenarios are measured against it.
 *
 * Order of events in a period: the seller posts a price, demand d is drawn from the
 * price's distribution, min(d, x) units are sold (the rest are lost), the unit cost is paid
 * on each unit sold, holding is charged on each unit left. After the last period each
 * unit left is salvaged.
 *
 *   V_K(x) = salvageValue * x
 *   V_k(x) = max_p sum_d P(d | p) [ (p - unitCost) s - holdingCost (x - s) + V_k+1(x - s) ],  s = min(d, x)
 *
 * Parameters: stock in units (integer), periods K (integer), a price ladder in currency,
 * the demand distribution per period at each price (units), unitCost and salvageValue in
 * currency per unit, holdingCost in currency per unit per period.
 * Spaces: state (k, x) with k = 0..K and x = 0..stock; action an index into the ladder.
 *
 * Also here, the continuous-price benchmark of Gallego & van Ryzin (Management Science
 * 1994): demand intensity lambda(p) = a exp(-alpha p), its discrete-time version with at
 * most one arrival per period (solved exactly over continuous prices), and the closed-form
 * value J*(n, t) of the continuous-time problem.
 */
import { configError } from '../core/errors.js';
import type { Problem } from '../core/errors.js';

export interface FiniteStockProblem {
  /** Units on hand at the start (integer >= 0). */
  stock: number;
  /** Number of selling periods K (integer >= 0). */
  periods: number;
  /** The price ladder the seller chooses from, currency per unit. */
  prices: number[];
  /**
   * Fills out[d] = P(demand = d) for d = 0..out.length - 1 at this price and returns the
   * number of cells filled (cells beyond it are taken as 0). out.length is stock + 1; the
   * last cell holds P(demand >= stock). The filled cells must sum to 1.
   */
  unitsDemandedPmf(price: number, out: Float64Array): number;
  /** Cost per unit sold, currency (default 0). */
  unitCost?: number;
  /** Cost per unit left at the end of each period, currency (default 0). */
  holdingCost?: number;
  /** Value per unit left after the last period, currency (default 0). */
  salvageValue?: number;
}

export interface OracleResult {
  /** V_0(stock): the optimal expected profit. */
  optimalValue: number;
  /** valueTable[k][x] = V_k(x), k = 0..K, x = 0..stock. */
  valueTable: Float64Array[];
  /** policy[k][x]: the optimal ladder index in period k with x units left (first index on ties), k = 0..K-1. */
  policy: Int32Array[];
  /** pricePolicy[k][x]: the optimal price, prices[policy[k][x]]. */
  pricePolicy: Float64Array[];
}

/** Tolerance on the total probability returned by unitsDemandedPmf. */
const PROBABILITY_TOLERANCE = 1e-9;

export function solveFiniteStockDp(problem: FiniteStockProblem): OracleResult {
  const problems = validateFiniteStockProblem(problem);
  if (problems.length > 0) throw configError('invalid finite-stock problem', problems);
  const { stock, periods, prices } = problem;
  const unitCost = problem.unitCost ?? 0;
  const holdingCost = problem.holdingCost ?? 0;
  const salvageValue = problem.salvageValue ?? 0;
  const cells = stock + 1;
  const ladderSize = prices.length;

  // Per ladder price, independent of the period: the pmf, the number of cells filled,
  // P(demand >= x), and the expected immediate reward with x units on hand.
  const pmf = new Float64Array(ladderSize * cells);
  const filled = new Int32Array(ladderSize);
  const tailFrom = new Float64Array(ladderSize * (cells + 1));
  const immediateReward = new Float64Array(ladderSize * cells);
  const buffer = new Float64Array(cells);
  const pmfProblems: Problem[] = [];
  for (let index = 0; index < ladderSize; index++) {
    const price = prices[index]!;
    buffer.fill(0);
    const count = problem.unitsDemandedPmf(price, buffer);
    if (!Number.isInteger(count) || count < 1 || count > cells) {
      pmfProblems.push({ path: ['unitsDemandedPmf', index], message: `at price ${price}: expected a count of cells filled in 1..${cells}, found ${count}` });
      continue;
    }
    let total = 0;
    let valid = true;
    for (let units = 0; units < count; units++) {
      const probability = buffer[units]!;
      if (!Number.isFinite(probability) || probability < 0) valid = false;
      total += probability;
    }
    if (!valid || Math.abs(total - 1) > PROBABILITY_TOLERANCE) {
      pmfProblems.push({
        path: ['unitsDemandedPmf', index],
        message: `at price ${price}: expected ${count} probabilities >= 0 summing to 1, found a sum of ${total}; put P(demand >= stock) in the last cell`,
      });
      continue;
    }
    filled[index] = count;
    pmf.set(buffer, index * cells);
    const tail = index * (cells + 1);
    for (let units = cells - 1; units >= 0; units--) tailFrom[tail + units] = tailFrom[tail + units + 1]! + buffer[units]!;
    const margin = price - unitCost;
    for (let onHand = 0; onHand < cells; onHand++) {
      let reward = tailFrom[tail + onHand]! * margin * onHand;
      for (let units = 0; units < Math.min(count, onHand); units++) reward += buffer[units]! * (margin * units - holdingCost * (onHand - units));
      immediateReward[index * cells + onHand] = reward;
    }
  }
  if (pmfProblems.length > 0) throw configError('invalid demand distribution', pmfProblems);

  const valueTable: Float64Array[] = new Array<Float64Array>(periods + 1);
  const policy: Int32Array[] = new Array<Int32Array>(periods);
  const pricePolicy: Float64Array[] = new Array<Float64Array>(periods);
  const terminal = new Float64Array(cells);
  for (let onHand = 1; onHand < cells; onHand++) terminal[onHand] = salvageValue * onHand;
  valueTable[periods] = terminal;
  for (let period = periods - 1; period >= 0; period--) {
    const next = valueTable[period + 1]!;
    const value = new Float64Array(cells);
    const choice = new Int32Array(cells);
    const choicePrice = new Float64Array(cells);
    for (let onHand = 0; onHand < cells; onHand++) {
      let bestValue = -Infinity;
      let bestIndex = 0;
      for (let index = 0; index < ladderSize; index++) {
        const base = index * cells;
        let candidate = immediateReward[base + onHand]! + tailFrom[index * (cells + 1) + onHand]! * next[0]!;
        const limit = Math.min(filled[index]!, onHand);
        for (let units = 0; units < limit; units++) candidate += pmf[base + units]! * next[onHand - units]!;
        if (candidate > bestValue) {
          bestValue = candidate;
          bestIndex = index;
        }
      }
      value[onHand] = bestValue;
      choice[onHand] = bestIndex;
      choicePrice[onHand] = prices[bestIndex]!;
    }
    valueTable[period] = value;
    policy[period] = choice;
    pricePolicy[period] = choicePrice;
  }
  return { optimalValue: valueTable[0]![stock]!, valueTable, policy, pricePolicy };
}

/** Every problem with a finite-stock problem's numbers, each with its path. */
export function validateFiniteStockProblem(problem: FiniteStockProblem): Problem[] {
  const problems: Problem[] = [];
  if (!Number.isSafeInteger(problem.stock) || problem.stock < 0) {
    problems.push({ path: ['stock'], message: `expected a whole number of units >= 0, found ${problem.stock}` });
  }
  if (!Number.isSafeInteger(problem.periods) || problem.periods < 0) {
    problems.push({ path: ['periods'], message: `expected a whole number of periods >= 0, found ${problem.periods}` });
  }
  if (!Array.isArray(problem.prices) || problem.prices.length === 0) {
    problems.push({ path: ['prices'], message: 'expected a price ladder with at least one price, found none' });
  } else {
    problem.prices.forEach((price, index) => {
      if (!Number.isFinite(price)) problems.push({ path: ['prices', index], message: `expected a finite price, found ${price}` });
    });
  }
  if (typeof problem.unitsDemandedPmf !== 'function') {
    problems.push({ path: ['unitsDemandedPmf'], message: 'expected a function (price, out) => cells filled' });
  }
  for (const field of ['unitCost', 'holdingCost', 'salvageValue'] as const) {
    const value = problem[field];
    if (value !== undefined && !Number.isFinite(value)) problems.push({ path: [field], message: `expected a finite number per unit, found ${value}` });
  }
  return problems;
}

export interface ExponentialContinuousProblem {
  /** a: demand intensity at price 0, customers per unit of time. */
  scale: number;
  /** alpha: price sensitivity, per currency unit. */
  sensitivity: number;
  /** Length of one period in units of time (horizon / periods); a * periodLength is the arrival probability at price 0. */
  periodLength: number;
  /** Units on hand at the start (integer >= 0). */
  stock: number;
  /** Number of periods K (integer >= 0). */
  periods: number;
}

export interface ExponentialContinuousResult {
  /** V_0(stock). */
  optimalValue: number;
  /** valueTable[k][x] = V_k(x), k = 0..K. */
  valueTable: Float64Array[];
  /** pricePolicy[k][x]: the optimal price, k = 0..K-1; NaN at x = 0, where there is nothing to sell. */
  pricePolicy: Float64Array[];
}

/**
 * Discrete-time Gallego & van Ryzin: at most one arrival per period, with probability
 * d(p) = a * periodLength * exp(-alpha p), no costs, no salvage.
 * V_k(x) = V_k+1(x) + max_p d(p) (p - dV), dV = V_k+1(x) - V_k+1(x - 1); the maximiser over
 * continuous prices is p* = 1/alpha + dV, unless d(p*) > 1, when it is the price where d = 1.
 */
export function solveExponentialContinuous(problem: ExponentialContinuousProblem): ExponentialContinuousResult {
  const { scale, sensitivity, periodLength, stock, periods } = problem;
  const problems: Problem[] = [];
  if (!(Number.isFinite(scale) && scale > 0)) problems.push({ path: ['scale'], message: `expected a demand scale a > 0, found ${scale}` });
  if (!(Number.isFinite(sensitivity) && sensitivity > 0)) {
    problems.push({ path: ['sensitivity'], message: `expected a price sensitivity alpha > 0, found ${sensitivity}` });
  }
  if (!(Number.isFinite(periodLength) && periodLength > 0)) {
    problems.push({ path: ['periodLength'], message: `expected a period length > 0, found ${periodLength}` });
  }
  if (!Number.isSafeInteger(stock) || stock < 0) problems.push({ path: ['stock'], message: `expected a whole number of units >= 0, found ${stock}` });
  if (!Number.isSafeInteger(periods) || periods < 0) problems.push({ path: ['periods'], message: `expected a whole number of periods >= 0, found ${periods}` });
  if (problems.length > 0) throw configError('invalid exponential-demand problem', problems);

  const arrivalAtZero = scale * periodLength;
  const priceOfCertainSale = Math.log(arrivalAtZero) / sensitivity;
  const valueTable: Float64Array[] = new Array<Float64Array>(periods + 1);
  const pricePolicy: Float64Array[] = new Array<Float64Array>(periods);
  valueTable[periods] = new Float64Array(stock + 1);
  for (let period = periods - 1; period >= 0; period--) {
    const next = valueTable[period + 1]!;
    const value = new Float64Array(stock + 1);
    const price = new Float64Array(stock + 1);
    price[0] = Number.NaN;
    for (let onHand = 1; onHand <= stock; onHand++) {
      const marginalValue = next[onHand]! - next[onHand - 1]!;
      const best = Math.max(1 / sensitivity + marginalValue, priceOfCertainSale);
      const saleProbability = arrivalAtZero * Math.exp(-sensitivity * best);
      value[onHand] = next[onHand]! + saleProbability * (best - marginalValue);
      price[onHand] = best;
    }
    valueTable[period] = value;
    pricePolicy[period] = price;
  }
  return { optimalValue: valueTable[0]![stock]!, valueTable, pricePolicy };
}

/**
 * Gallego & van Ryzin's closed form for the continuous-time problem with intensity
 * a exp(-alpha p): J*(n, t) = (1/alpha) ln(sum_{i=0..n} (lambda* t)^i / i!), lambda* = a/e.
 * The sum is taken in log space, so large n and t do not overflow.
 */
export function gallegoVanRyzinValue(scale: number, sensitivity: number, stock: number, horizon: number): number {
  const problems: Problem[] = [];
  if (!(Number.isFinite(scale) && scale > 0)) problems.push({ path: ['scale'], message: `expected a demand scale a > 0, found ${scale}` });
  if (!(Number.isFinite(sensitivity) && sensitivity > 0)) {
    problems.push({ path: ['sensitivity'], message: `expected a price sensitivity alpha > 0, found ${sensitivity}` });
  }
  if (!Number.isSafeInteger(stock) || stock < 0) problems.push({ path: ['stock'], message: `expected a whole number of units >= 0, found ${stock}` });
  if (!(Number.isFinite(horizon) && horizon >= 0)) problems.push({ path: ['horizon'], message: `expected a horizon >= 0, found ${horizon}` });
  if (problems.length > 0) throw configError('invalid Gallego-van Ryzin problem', problems);

  const logRate = Math.log((scale / Math.E) * horizon);
  let logTerm = 0;
  let logMax = 0;
  const logTerms = new Float64Array(stock + 1);
  for (let units = 1; units <= stock; units++) {
    logTerm += logRate - Math.log(units);
    logTerms[units] = logTerm;
    if (logTerm > logMax) logMax = logTerm;
  }
  let sum = 0;
  for (let units = 0; units <= stock; units++) sum += Math.exp(logTerms[units]! - logMax);
  return (logMax + Math.log(sum)) / sensitivity;
}
