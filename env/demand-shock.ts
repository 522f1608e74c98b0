/**
 * Demand shock: a market-level multiplicative arrival shock, one per period of `periodDays`
 * days, shared by every segment (and by rivals' expected units): overdispersed demand.
 *
 * Law: the shock of period p is G_p ~ Gamma(shape k, scale 1/k), mean 1, variance 1/k. Units
 * demanded from us on a day with mean m are Poisson(G_p * m); mixed over G_p that is exactly the
 * negative binomial NB2 with mean m and size k (variance m + m^2 / k): the law `pricelab
 * calibrate` fits. Over a period of several days the period's total is NB2 with size k too
 * (one shock multiplies the whole period's mean), so a weekly history's fitted k is reproduced
 * by periodDays = 7. Formulas: docs/market-model.md, "Demand shock".
 *
 * Sampler: Marsaglia & Tsang (2000), "A simple method for generating gamma variables", ACM TOMS
 * 26(3), from the stream's uniforms through Box-Muller normals (env/sampling.ts); for k < 1 the
 * boost G(k) = G(k + 1) * U^(1/k). Exact (rejection, no approximation) for every k in (0, 1e8];
 * it takes a variable number of uniforms, so the whole episode's path is drawn at reset from
 * its own stream ('demand-shocks'): no other stream moves, and the path never depends on prices.
 * (stdlib's gamma quantile is not a dependency; its incomplete gamma is inexact at large
 * shapes, see env/sampling.ts.)
 */
import type { RandomStream } from '../core/random.js';
import { normalFromUniforms } from './sampling.js';

export interface DemandShockSpec {
  /** k: shape of the gamma shock, its scale 1/k. */
  readonly size: number;
  /** Days each shock is held. */
  readonly periodDays: number;
}

/** One Gamma(shape, scale 1) draw from `stream` (Marsaglia-Tsang). */
export function gammaFromStream(shape: number, stream: RandomStream): number {
  if (shape < 1) {
    // G(k) = G(k + 1) * U^(1/k); U in (0, 1]: 1 - next() never is 0.
    const boost = Math.pow(1 - stream.next(), 1 / shape);
    return gammaFromStream(shape + 1, stream) * boost;
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const normal = normalFromUniforms(stream.next(), stream.next());
    const root = 1 + c * normal;
    if (root <= 0) continue;
    const cube = root * root * root;
    const uniform = 1 - stream.next();
    const squared = normal * normal;
    if (uniform < 1 - 0.0331 * squared * squared) return d * cube;
    if (Math.log(uniform) < 0.5 * squared + d * (1 - cube + Math.log(cube))) return d * cube;
  }
}

/**
 * Fills `shocks[day]` for day 0..shocks.length-1 with the day's multiplier: one
 * Gamma(k, 1/k) draw per period of `periodDays` days, held over the period.
 */
export function drawDemandShockPath(spec: DemandShockSpec, stream: RandomStream, shocks: Float64Array): void {
  let shock = 1;
  for (let day = 0; day < shocks.length; day++) {
    if (day % spec.periodDays === 0) shock = gammaFromStream(spec.size, stream) / spec.size;
    shocks[day] = shock;
  }
}
