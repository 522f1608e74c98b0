/**
 * The evaluation-seed rule, written once: a run with seed s evaluates greedily on episodes
 * seeded from 1,000,000 + s upward, disjoint from its training episodes (seeds s + e for
 * a budget below a million episodes), and the same for every evaluation of the run and every
 * agent trained with s (common random numbers). `pricelab train`, the training loop's default
 * and the competition's greedy evaluation all read it here.
 */

/** The first evaluation seed of a run seeded `seed`. */
export function evaluationSeed(seed: number): number {
  return 1_000_000 + seed;
}
