/**
 * Seeded random streams, one per stochastic component.
 *
 * Common random numbers: every component (customers, returns, weather, competitors, and
 * later agent exploration) draws from its own stream, seeded from (seed, component), and
 * draws a fixed count of uniforms per day whatever the agent does. So the same seed replays
 * the same customers, weather and competitor noise under any policy, and two policies
 * compared on one seed see the same market: paired differences lose the shared noise.
 *
 * Streams are seedrandom's Alea generator (fast, 2^116 period, good statistical quality):
 * seeded by Alea's own seeding (Baagoe's Mash, ported from seedrandom's alea.js), stepped by
 * RandomStream.next(), which runs Alea's recurrence as a class method. seedrandom's
 * generator is a fresh closure per instance, so a market loop holding one per market and
 * per episode calls a megamorphic target that V8 cannot inline; a method on one class stays
 * monomorphic (measured: see docs/performance.md).
 * The numbers are seedrandom's, to the last bit (a test holds this).
 * Where a draw needs a variable count of extra uniforms (a lag per returned unit), they are
 * derived by hashing one stream uniform (`derivedUniform`), so the stream position stays fixed.
 *
 * In core/ because every layer draws from them: the market's components, the agents'
 * exploration, calibration's synthetic logs and bootstraps, the statistics' bootstraps and
 * the online experiments. Which seed an episode runs on is core/seeds.ts.
 */
import seedrandom from 'seedrandom';

export type Uniform = () => number;

/** Alea, seeded as seedrandom seeds it; `next()` gives the same sequence as seedrandom.alea(key)(). */
export class RandomStream {
  private c = 1;
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;

  constructor(seed: number | string, component: string) {
    this.reseed(seed, component);
  }

  /**
   * Restarts the stream at (seed, component), reusing this object: Baagoe's Alea seeding,
   * as seedrandom does it, without seedrandom's per-call closures (episodes reset often).
   */
  reseed(seed: number | string, component: string): void {
    const key = streamKey(seed, component);
    let hash = MASH_AFTER_SPACES;
    let s0 = SPACE_MASHES[0]!;
    let s1 = SPACE_MASHES[1]!;
    let s2 = SPACE_MASHES[2]!;
    hash = mash(hash, key);
    s0 -= (hash >>> 0) * 2.3283064365386963e-10;
    if (s0 < 0) s0 += 1;
    hash = mash(hash, key);
    s1 -= (hash >>> 0) * 2.3283064365386963e-10;
    if (s1 < 0) s1 += 1;
    hash = mash(hash, key);
    s2 -= (hash >>> 0) * 2.3283064365386963e-10;
    if (s2 < 0) s2 += 1;
    this.c = 1;
    this.s0 = s0;
    this.s1 = s1;
    this.s2 = s2;
  }

  /** A uniform on [0, 1). */
  next(): number {
    const t = 2091639 * this.s0 + this.c * 2.3283064365386963e-10; // 2^-32
    this.s0 = this.s1;
    this.s1 = this.s2;
    this.c = t | 0;
    this.s2 = t - this.c;
    return this.s2;
  }

  /** The generator's whole state, for checkpoints: `restoreState(saveState())` resumes the same sequence. */
  saveState(): RandomStreamState {
    return { c: this.c, s0: this.s0, s1: this.s1, s2: this.s2 };
  }

  restoreState(state: RandomStreamState): void {
    this.c = state.c;
    this.s0 = state.s0;
    this.s1 = state.s1;
    this.s2 = state.s2;
  }
}

export interface RandomStreamState {
  readonly c: number;
  readonly s0: number;
  readonly s1: number;
  readonly s2: number;
}

/** Baagoe's Mash hash, as in seedrandom's alea.js: feeds `data` into the running state `hash` and returns the new state. */
function mash(hash: number, data: string): number {
  let n = hash;
  for (let index = 0; index < data.length; index++) {
    n += data.charCodeAt(index);
    let h = 0.02519603282416938 * n;
    n = h >>> 0;
    h -= n;
    h *= n;
    n = h >>> 0;
    h -= n;
    n += h * 0x100000000; // 2^32
  }
  return n;
}

/** Alea's seeding mashes ' ' three times first, from a fixed state: those values are constants. */
const SPACE_MASHES: number[] = [];
let spaceHash = 0xefc8249d;
for (let pass = 0; pass < 3; pass++) {
  spaceHash = mash(spaceHash, ' ');
  SPACE_MASHES.push((spaceHash >>> 0) * 2.3283064365386963e-10);
}
const MASH_AFTER_SPACES = spaceHash;

function streamKey(seed: number | string, component: string): string {
  return `pricelab:${seed}:${component}`;
}

export const componentNames = ['customers', 'returns', 'weather', 'competitors', 'demand-shocks', 'exploration'] as const;
export type ComponentName = (typeof componentNames)[number];

/** A uniform generator on [0, 1) for one component of one seeded episode. */
export function createStream(seed: number | string, component: string): Uniform {
  return seedrandom.alea(streamKey(seed, component));
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
