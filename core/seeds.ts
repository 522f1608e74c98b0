/**
 * Which seed an episode runs on: the rules that derive one seed from another, written once
 * so that every layer (the vector env, training, evaluation) derives them alike. A changed
 * rule changes every seeded result, so each has a test pinning it.
 *
 * The evaluation-seed rule: a run with seed s evaluates greedily on episodes seeded from
 * 1,000,000 + s upward, disjoint from its training episodes (seeds s + e for a budget below a
 * million episodes), and the same for every evaluation of the run and every agent trained
 * with s (common random numbers). `pricelab train`, the training loop's default and the
 * competition's greedy evaluation all read it here.
 */

/** Seed of the k-th episode of the i-th market of a vector env with base seed s. */
export function episodeSeed(baseSeed: number, marketIndex: number, episodeIndex: number): string {
  return `${baseSeed}/${marketIndex}/${episodeIndex}`;
}

/** The first evaluation seed of a run seeded `seed`. */
export function evaluationSeed(seed: number): number {
  return 1_000_000 + seed;
}

/**
 * A comparison's seed families for analysis seed s (experiments/compare/): evaluation
 * episode e, learning-curve episode e, and the first training episode. Seeds and episodes
 * per seed stay below the limits, so the families never overlap each other or a run's
 * evaluationSeed.
 */
export const comparisonSeedLimit = 1000;
export const comparisonEpisodeLimit = 1000;
export const comparisonEvaluationSeed = (seed: number, episode: number): number => 1_000_000 + seed * 1000 + episode;
export const comparisonCurveSeed = (seed: number, episode: number): number => 2_000_000 + seed * 1000 + episode;
export const comparisonTrainingSeed = (seed: number): number => 10_000_000 + seed * 100_000;
