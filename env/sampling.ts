/**
 * Samplers that turn exactly one uniform into a draw, by inverting the distribution's CDF.
 *
 * One uniform per draw keeps each stream's position independent of the agent's prices
 * (see env/random.ts), and inversion is monotone: with the same uniform, a higher mean
 * never gives fewer units. That is the coupling that makes common random numbers cut the
 * variance of paired comparisons. Large means are split into chunks whose uniforms are
 * derived from the one drawn, so the cost stays bounded and exp() never underflows.
 */
import { derivedUniform, uniformToKey } from './random.js';
import { fastExp } from './fast-exp.js';

const POISSON_CHUNK = 500;
const BINOMIAL_CHUNK = 1000;
/** 1/k for k = 0..BINOMIAL_CHUNK: the search loops multiply instead of dividing (a division costs several multiplies). */
const RECIPROCALS = Float64Array.from({ length: BINOMIAL_CHUNK + 2 }, (_, k) => (k === 0 ? 0 : 1 / k));

/** Poisson(mean) by sequential search of its CDF; exact for any mean. */
export function poissonFromUniform(mean: number, uniform: number): number {
  if (!(mean > 0)) return 0;
  if (mean > POISSON_CHUNK) {
    const chunks = Math.ceil(mean / POISSON_CHUNK);
    const key = uniformToKey(uniform);
    let total = 0;
    for (let chunk = 0; chunk < chunks; chunk++) total += poissonSmall(mean / chunks, derivedUniform(key, chunk));
    return total;
  }
  return poissonSmall(mean, uniform);
}

function poissonSmall(mean: number, uniform: number): number {
  let count = 0;
  let probability = fastExp(-mean);
  let cumulative = probability;
  while (uniform > cumulative) {
    count++;
    probability *= mean * (count <= BINOMIAL_CHUNK ? RECIPROCALS[count]! : 1 / count);
    cumulative += probability;
    // Rounding can leave the cumulative sum a hair below 1: stop once the tail is empty.
    if (probability < 1e-300 && count > mean) break;
  }
  return count;
}

/**
 * Binomial(trials, probability) by sequential search of its CDF; exact. Callers drawing
 * often with one probability may pass log(1 - probability) to skip a logarithm.
 */
export function binomialFromUniform(trials: number, probability: number, uniform: number, logComplement = Math.log1p(-probability)): number {
  if (!(trials > 0) || !(probability > 0)) return 0;
  if (probability >= 1) return trials;
  if (probability > 0.5) return trials - binomialFromUniform(trials, 1 - probability, 1 - uniform);
  if (trials > BINOMIAL_CHUNK) {
    const chunks = Math.ceil(trials / BINOMIAL_CHUNK);
    const key = uniformToKey(uniform);
    let total = 0;
    let remaining = trials;
    for (let chunk = 0; chunk < chunks; chunk++) {
      const size = Math.min(BINOMIAL_CHUNK, remaining);
      total += binomialSmall(size, probability, derivedUniform(key, chunk), logComplement);
      remaining -= size;
    }
    return total;
  }
  return binomialSmall(trials, probability, uniform, logComplement);
}

function binomialSmall(trials: number, probability: number, uniform: number, logComplement: number): number {
  const odds = probability / (1 - probability);
  let count = 0;
  // exp(n log(1-p)) rather than pow(1-p, n): V8's pow costs about five exps.
  let mass = fastExp(trials * logComplement);
  let cumulative = mass;
  while (uniform > cumulative && count < trials) {
    mass *= (trials - count) * RECIPROCALS[count + 1]! * odds;
    count++;
    cumulative += mass;
  }
  return count;
}

/** Standard normal from two uniforms (Box-Muller). */
export function normalFromUniforms(first: number, second: number): number {
  return Math.sqrt(-2 * Math.log(1 - first)) * Math.cos(2 * Math.PI * second);
}

/** Index drawn from a discrete distribution given as cumulative probabilities (last = 1). */
export function indexFromCumulative(cumulative: ArrayLike<number>, uniform: number): number {
  const last = cumulative.length - 1;
  for (let index = 0; index < last; index++) if (uniform < (cumulative[index] ?? 1)) return index;
  return last;
}

export function sigmoid(value: number): number {
  return 1 / (1 + Math.exp(-value));
}
