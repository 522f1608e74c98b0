/**
 * The episode loop, written once: reset, act, step, until terminated or truncated.
 * Every command that runs a policy in a market (simulate, start, and later training and
 * evaluation) goes through here. Episode e of a run with seed s uses seed s + e.
 */
import type { Env, StepInfo } from '../env/env.js';
import type { EpisodeKpis } from '../env/kpis.js';
import type { Policy } from '../agents/rules.js';

export interface EpisodeRecord {
  readonly seed: number;
  readonly kpis: EpisodeKpis;
  readonly steps: readonly StepInfo[];
}

export interface RunOptions {
  episodes: number;
  seed: number;
  /** Keep every step's info (for CSV export and charts). */
  recordSteps?: boolean;
  onEpisode?: (record: EpisodeRecord, index: number) => void;
}

export function runEpisodes(env: Env, policy: Policy, options: RunOptions): EpisodeRecord[] {
  const records: EpisodeRecord[] = [];
  for (let episode = 0; episode < options.episodes; episode++) {
    const seed = options.seed + episode;
    let { observation } = env.reset({ seed });
    const steps: StepInfo[] = [];
    for (;;) {
      const result = env.step(policy.act(observation));
      if (options.recordSteps) steps.push(result.info);
      observation = result.observation;
      if (result.terminated || result.truncated) {
        if (!result.info.episode) throw new Error('the env ended an episode without its KPIs');
        const record = { seed, kpis: result.info.episode, steps };
        records.push(record);
        options.onEpisode?.(record, episode);
        break;
      }
    }
  }
  return records;
}
