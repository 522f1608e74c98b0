/**
 * Seeded random streams, one per stochastic component.
 *
 * Common random numbers: every component (customers, returns, weather, competitors, and
 * later agent exploration) draws from its own stream, seeded from (seed, component), and
 * draws a fixed count of uniforms per day whatever the agent does. So the same seed replays
 * the same customers, weather and competitor noise under any policy, and two policies
 * compared on one seed see the same market: paired differences lose the shared noise.
 *
 * Streams are seedrandom's Alea generator (fast, 2^116 period, good statistical quality).
 * Where a draw needs a variable count of extra uniforms (a lag per returned unit), they are
 * derived by hashing one stream uniform (`derivedUniform`), so the stream position stays fixed.
 */
import seedrandom from 'seedrandom';

export type Uniform = () => number;

export const componentNames = ['customers', 'returns', 'weather', 'competitors', 'exploration'] as const;
export type ComponentName = (typeof componentNames)[number];

/** A uniform generator on [0, 1) for one component of one seeded episode. */
export function createStream(seed: number | string, component: string): Uniform {
  return seedrandom.alea(`pricelab:${seed}:${component}`);
}

/** Turns a uniform into a 32-bit key from which further uniforms can be derived. */
export function uniformToKey(uniform: number): number {
  return Math.floor(uniform * 4294967296) >>> 0;
}

/**
 * The index-th uniform derived from a key: a 32-bit avalanche hash (the murmur3 finaliser)
 * of key and index. Written by hand: it is four integer operations on the hot path, and no
 * library offers a counter-based generator this small.
 */
export function derivedUniform(key: number, index: number): number {
  let hash = (key ^ Math.imul(index + 1, 0x9e3779b9)) >>> 0;
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0) / 4294967296;
}

/** Seed of the k-th episode of the i-th market of a vector env with base seed s. */
export function episodeSeed(baseSeed: number, marketIndex: number, episodeIndex: number): string {
  return `${baseSeed}/${marketIndex}/${episodeIndex}`;
}
