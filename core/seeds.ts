/**
 * Which seed an episode runs on: the rules that derive one seed from another, written once
 * so that every layer (the vector env, training, evaluation) derives them alike. A changed
 * rule changes every seeded result, so each has a test pinning it.
 */

/** Seed of the k-th episode of the i-th market of a vector env with base seed s. */
export function episodeSeed(baseSeed: number, marketIndex: number, episodeIndex: number): string {
  return `${baseSeed}/${marketIndex}/${episodeIndex}`;
}
