/**
 * One market run day by day under a choice of action per day, recording each day's reward
 * (the scenario's objective: profit by default). The building block of every online design
 * and of the truth: `choose(observation, day)` returns a ladder index.
 * A market that ends early (sold out, no replenishment) stops the run: fewer days come back.
 */
import type { TimeLimit } from '../../env/env.js';

export function runDays(env: TimeLimit, seed: number | string, days: number, choose: (observation: Float32Array, day: number) => number): number[] {
  const rewards: number[] = [];
  let { observation } = env.reset({ seed });
  for (let day = 0; day < days; day++) {
    const result = env.step(choose(observation, day));
    rewards.push(result.reward);
    observation = result.observation;
    if (result.terminated || result.truncated) break;
  }
  return rewards;
}

export function meanOf(values: readonly number[]): number {
  let total = 0;
  for (const value of values) total += value;
  return values.length === 0 ? Number.NaN : total / values.length;
}
