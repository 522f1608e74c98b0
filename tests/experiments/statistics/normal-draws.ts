/** Seeded standard normal and exponential draws for the simulation tests (Box-Muller on a RandomStream). */
import { RandomStream } from '../../../core/random.js';

export function normalDraws(seed: number, count: number, component = 'test-normal'): number[] {
  const stream = new RandomStream(seed, component);
  const draws: number[] = [];
  while (draws.length < count) {
    const radius = Math.sqrt(-2 * Math.log(1 - stream.next()));
    const angle = 2 * Math.PI * stream.next();
    draws.push(radius * Math.cos(angle), radius * Math.sin(angle));
  }
  return draws.slice(0, count);
}

export function exponentialDraws(seed: number, count: number, component = 'test-exponential'): number[] {
  const stream = new RandomStream(seed, component);
  return Array.from({ length: count }, () => -Math.log(1 - stream.next()));
}
