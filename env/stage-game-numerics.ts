/**
 * The numerics of the logit stage game (env/stage-game.ts): the solvers' tolerances, an
 * overflow-free logistic, the Lambert W of an exponential (closed-form best responses and
 * monopoly markups) and a Cholesky solve (the damped Newton step of the joint-profit
 * ascent).
 */

/** Price tolerance of the equilibrium and monopoly solvers. */
export const PRICE_TOLERANCE = 1e-13;
export const MAX_NEWTON_ITERATIONS = 200;

/** 1 / (1 + exp(-x)), without overflow. */
export function logistic(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const expX = Math.exp(x);
  return expX / (1 + expX);
}

/**
 * W(exp(logArgument)), the principal Lambert W of exp(logArgument), without forming the
 * exponential: solves y + ln y = logArgument with t = ln y, i.e. e^t + t = logArgument, by
 * Newton from a start on the right of the root (the function is convex and increasing,
 * so the iterates fall monotonically onto it).
 */
export function lambertWOfExp(logArgument: number): number {
  let t = logArgument > 1 ? Math.log(logArgument) : logArgument;
  for (let iteration = 0; iteration < 100; iteration++) {
    const expT = Math.exp(t);
    const step = (expT + t - logArgument) / (expT + 1);
    t -= step;
    if (!(Math.abs(step) > 1e-16 * Math.max(1, Math.abs(t)))) break;
  }
  return Math.exp(t);
}

/** Solves A x = b for a symmetric positive definite A (row-major, n x n), in place in A; false if A is not positive definite. */
export function choleskySolve(matrix: Float64Array, right: Float64Array, solution: Float64Array, size: number): boolean {
  for (let column = 0; column < size; column++) {
    let diagonal = matrix[column * size + column]!;
    for (let inner = 0; inner < column; inner++) diagonal -= matrix[column * size + inner]! ** 2;
    if (!(diagonal > 0)) return false;
    const root = Math.sqrt(diagonal);
    matrix[column * size + column] = root;
    for (let row = column + 1; row < size; row++) {
      let value = matrix[row * size + column]!;
      for (let inner = 0; inner < column; inner++) value -= matrix[row * size + inner]! * matrix[column * size + inner]!;
      matrix[row * size + column] = value / root;
    }
  }
  for (let row = 0; row < size; row++) {
    let value = right[row]!;
    for (let inner = 0; inner < row; inner++) value -= matrix[row * size + inner]! * solution[inner]!;
    solution[row] = value / matrix[row * size + row]!;
  }
  for (let row = size - 1; row >= 0; row--) {
    let value = solution[row]!;
    for (let inner = row + 1; inner < size; inner++) value -= matrix[inner * size + row]! * solution[inner]!;
    solution[row] = value / matrix[row * size + row]!;
  }
  return true;
}

/**
 * One segment's logit weights, stable: out[firm] = exp(u_firm - m) with
 * u_firm = (quality_firm - sensitivity * price_firm) / scale and m the largest utility (the
 * outside option's included); returns the denominator exp(outside - m) + sum of out, so
 * a firm's share is out[firm] / denominator. The demand and the joint profit share it.
 */
export function segmentLogitWeights(quality: ArrayLike<number>, sensitivity: number, scale: number, outside: number, prices: ArrayLike<number>, firmCount: number, out: Float64Array): number {
  let maxUtility = outside;
  for (let firm = 0; firm < firmCount; firm++) {
    const value = (quality[firm]! - sensitivity * prices[firm]!) / scale;
    out[firm] = value;
    if (value > maxUtility) maxUtility = value;
  }
  let denominator = Math.exp(outside - maxUtility);
  for (let firm = 0; firm < firmCount; firm++) {
    const weight = Math.exp(out[firm]! - maxUtility);
    out[firm] = weight;
    denominator += weight;
  }
  return denominator;
}
