/**
 * Samplers that turn exactly one uniform into a draw, by inverting the distribution's CDF.
 *
 * One uniform per draw keeps each stream's position independent of the agent's prices
 * (see core/random.ts), and inversion is monotone: with the same uniform, a higher mean
 * never gives fewer units, and a higher uniform never gives fewer units. That is the
 * coupling that makes common random numbers cut the variance of paired comparisons.
 *
 * Poisson(mean), by the size of the mean (every regime is the inverse CDF of one uniform):
 *   mean <= 500         sequential search of the CDF from 0: exact, O(mean) per draw (the
 *                       built-in scenarios' daily means stay below 300: this is their path)
 *   500 < mean <= 1e7   search from a Cornish-Fisher guess of the quantile: the pmf there from
 *                       log-gamma (stdlib's gammaln), the CDF there by summing the pmf down
 *                       over about 9 standard deviations, then a step or two to the quantile:
 *                       exact to about 1e-13, O(sqrt(mean)) per draw (about 13 us at 1e5 and
 *                       0.1 ms at 1e7 on one core). (stdlib's incomplete gamma function would be O(1), but it is off
 *                       by 0.6% at Q(2347, 2500): not used.)
 *   mean > 1e7          the normal approximation with Cornish-Fisher skew and continuity
 *                       corrections, O(1); there the skewness is below 3e-4 and the law's
 *                       error in probability about 1e-7. Validated scenarios never
 *                       get here (env/demand-bounds.ts caps daily means far lower): it keeps
 *                       an absurd mean from hanging, nothing more.
 * The uniforms are the streams' (whole multiples of 2^-32, core/random.ts): the searches are
 * exact on those; far below them (u under about 1e-150, which no stream makes) the lower
 * tail's pmf underflows and the search from the guess stops at 0.
 * Binomial(trials, p): sequential search in chunks of 1000 trials, O(trials * p). A caller
 * that draws often with one probability can tabulate it once (`binomialTable`): the CDF of a
 * whole chunk, summed exactly as the search sums it, and a guide table into it, so each whole
 * chunk costs a step or two; `binomialFromTable` gives binomialFromUniform's draw to the bit
 * (a property test holds it).
 */
import { createRequire } from 'node:module';
import type Gammaln from '@stdlib/math-base-special-gammaln';
import type NormalQuantile from '@stdlib/stats-base-dists-normal-quantile';
import { derivedUniform, uniformToKey } from '../core/random.js';
import { fastExp } from './fast-exp.js';

/**
 * stdlib's log-gamma and normal quantile, loaded on first use: only means above
 * POISSON_SEARCH_LIMIT need them, and their few hundred small modules cost every command
 * and every sweep worker about 0.3 s of start-up when imported here statically.
 */
const require = createRequire(import.meta.url);
let stdlib: { gammaln: typeof Gammaln; normalQuantile: typeof NormalQuantile } | undefined;
const loadStdlib = () =>
  (stdlib ??= { gammaln: require('@stdlib/math-base-special-gammaln') as typeof Gammaln, normalQuantile: require('@stdlib/stats-base-dists-normal-quantile') as typeof NormalQuantile });
const gammaln = (x: number): number => loadStdlib().gammaln(x);
const normalQuantile = (p: number, mu: number, sigma: number): number => loadStdlib().normalQuantile(p, mu, sigma);

/** Largest mean drawn by sequential search from 0. */
export const POISSON_SEARCH_LIMIT = 500;
/** Largest mean drawn by exact inversion through the incomplete gamma function; above it, the normal approximation. */
export const POISSON_EXACT_LIMIT = 1e7;
const BINOMIAL_CHUNK = 1000;
/** 1/k for k = 0..BINOMIAL_CHUNK: the search loops multiply instead of dividing (a division costs several multiplies). */
const RECIPROCALS = Float64Array.from({ length: BINOMIAL_CHUNK + 2 }, (_, k) => (k === 0 ? 0 : 1 / k));

/** Poisson(mean) by inversion of its CDF at `uniform` (in [0, 1)); see the card for the regimes. */
export function poissonFromUniform(mean: number, uniform: number): number {
  if (!(mean > 0)) return 0;
  if (mean <= POISSON_SEARCH_LIMIT) return poissonSmall(mean, uniform);
  if (!(uniform > 0)) return 0;
  return mean <= POISSON_EXACT_LIMIT ? poissonLarge(mean, uniform) : poissonNormal(mean, uniform);
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

/** The Cornish-Fisher quantile of Poisson(mean) at the standard normal quantile z: mean + sqrt(mean) z + (z^2 - 1) / 6. */
function cornishFisher(mean: number, z: number): number {
  return mean + Math.sqrt(mean) * z + (z * z - 1) / 6;
}

/**
 * The least k with P(X <= k) >= uniform, searched from the Cornish-Fisher guess: the pmf at
 * the guess from log-gamma, then the CDF there (below the mean) or its complement (above
 * it, where 1 - uniform is exact and the CDF would round to 1) by summing the pmf away from
 * the mean until the terms no longer count (about 9 standard deviations: O(sqrt(mean))),
 * then a step or two by the pmf recurrence to the quantile.
 */
function poissonLarge(mean: number, uniform: number): number {
  let count = Math.max(0, Math.ceil(cornishFisher(mean, standardNormalQuantile(uniform)) - 0.5));
  let mass = Math.exp(count * Math.log(mean) - mean - gammaln(count + 1));
  if (!(mass > 0)) return count; // beyond 38 standard deviations: the guess is the quantile for any purpose
  if (count < mean) {
    let cumulative = 0; // P(X <= count)
    for (let term = mass, below = count; below >= 0 && term > cumulative * 1e-17; below--) {
      cumulative += term;
      term *= below / mean;
    }
    while (uniform > cumulative) {
      count++;
      mass *= mean / count;
      cumulative += mass;
    }
    while (count > 0 && uniform <= cumulative - mass) {
      cumulative -= mass;
      mass *= count / mean;
      count--;
    }
    return count;
  }
  const complement = 1 - uniform; // uniform <= P(X <= k)  <=>  complement >= P(X > k)
  let tail = 0; // P(X > count)
  for (let above = count + 1, term = (mass * mean) / above; term > tail * 1e-17; above++) {
    tail += term;
    term *= mean / (above + 1);
  }
  while (complement < tail) {
    count++;
    mass *= mean / count;
    tail -= mass;
  }
  while (count > 0 && complement >= tail + mass) {
    tail += mass;
    mass *= count / mean;
    count--;
  }
  return count;
}

/** The standard normal quantile, kept finite: uniforms below 1e-300 would give -Infinity. */
function standardNormalQuantile(uniform: number): number {
  return Math.min(38, Math.max(-38, normalQuantile(uniform, 0, 1)));
}

/** The normal approximation: k with k - 1/2 < Cornish-Fisher quantile <= k + 1/2 (continuity correction). */
function poissonNormal(mean: number, uniform: number): number {
  return Math.max(0, Math.ceil(cornishFisher(mean, standardNormalQuantile(uniform)) - 0.5));
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

/** Entries of a binomial table's guide: guide[j] is the least count whose CDF reaches j / BINOMIAL_GUIDE. */
const BINOMIAL_GUIDE = 1024;

/**
 * Binomial(BINOMIAL_CHUNK, q) tabulated for one probability p (q = p, or 1 - p above 1/2, as
 * binomialFromUniform flips it). The chunk's CDF is built on the first whole chunk drawn (a
 * few microseconds), so a table whose draws never reach a chunk costs one logarithm.
 */
export class BinomialTable {
  readonly probability: number;
  /** The probability the searches run on (at most 1/2) and its log(1 - q). */
  readonly searched: number;
  readonly logComplement: number;
  private cumulativeMass: Float64Array | undefined;
  private guideEntries: Int32Array | undefined;

  constructor(probability: number) {
    this.probability = probability;
    this.searched = probability > 0.5 && probability < 1 ? 1 - probability : probability;
    this.logComplement = Math.log1p(-this.searched);
  }

  /** cumulative[k] = P(X <= k) for X ~ Binomial(BINOMIAL_CHUNK, searched), summed as binomialSmall sums it. */
  get cumulative(): Float64Array {
    if (this.cumulativeMass === undefined) this.build();
    return this.cumulativeMass!;
  }

  /** guide[j]: the least count whose CDF reaches j / BINOMIAL_GUIDE. */
  get guide(): Int32Array {
    if (this.guideEntries === undefined) this.build();
    return this.guideEntries!;
  }

  private build(): void {
    const cumulative = new Float64Array(BINOMIAL_CHUNK + 1);
    const guide = new Int32Array(BINOMIAL_GUIDE);
    const searched = this.searched;
    if (searched > 0 && searched < 1) {
      // binomialSmall's recurrence for trials = BINOMIAL_CHUNK, term by term: the same sums to the bit.
      const trials = BINOMIAL_CHUNK;
      const odds = searched / (1 - searched);
      let mass = fastExp(trials * this.logComplement);
      let cumulativeMass = mass;
      cumulative[0] = cumulativeMass;
      for (let count = 0; count < trials; count++) {
        mass *= (trials - count) * RECIPROCALS[count + 1]! * odds;
        cumulativeMass += mass;
        cumulative[count + 1] = cumulativeMass;
      }
      let count = 0;
      for (let entry = 0; entry < BINOMIAL_GUIDE; entry++) {
        const level = entry / BINOMIAL_GUIDE;
        while (count < trials && cumulative[count]! < level) count++;
        guide[entry] = count;
      }
    }
    this.cumulativeMass = cumulative;
    this.guideEntries = guide;
  }
}

/** The table of `probability` (in [0, 1]), for a probability drawn from many times. */
export function binomialTable(probability: number): BinomialTable {
  return new BinomialTable(probability);
}

/** binomialFromUniform(trials, table.probability, uniform), to the bit, with whole chunks read from the table. */
export function binomialFromTable(trials: number, table: BinomialTable, uniform: number): number {
  const probability = table.probability;
  if (!(trials > 0) || !(probability > 0)) return 0;
  if (probability >= 1) return trials;
  if (probability > 0.5) return trials - searchTabled(trials, table, 1 - uniform);
  return searchTabled(trials, table, uniform);
}

function searchTabled(trials: number, table: BinomialTable, uniform: number): number {
  if (trials > BINOMIAL_CHUNK) {
    const chunks = Math.ceil(trials / BINOMIAL_CHUNK);
    const key = uniformToKey(uniform);
    let total = 0;
    let remaining = trials;
    for (let chunk = 0; chunk < chunks; chunk++) {
      const size = Math.min(BINOMIAL_CHUNK, remaining);
      const chunkUniform = derivedUniform(key, chunk);
      total += size === BINOMIAL_CHUNK ? chunkFromTable(table, chunkUniform) : binomialSmall(size, table.searched, chunkUniform, table.logComplement);
      remaining -= size;
    }
    return total;
  }
  return trials === BINOMIAL_CHUNK ? chunkFromTable(table, uniform) : binomialSmall(trials, table.searched, uniform, table.logComplement);
}

/** The least count whose CDF reaches `uniform` (at most a chunk): binomialSmall's answer, from the guide on. */
function chunkFromTable(table: BinomialTable, uniform: number): number {
  const cumulative = table.cumulative;
  // A flipped draw searches 1 - uniform, which may be 1: the last guide entry then.
  let count = table.guide[Math.min(BINOMIAL_GUIDE - 1, Math.floor(uniform * BINOMIAL_GUIDE))]!;
  while (uniform > cumulative[count]! && count < BINOMIAL_CHUNK) count++;
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
