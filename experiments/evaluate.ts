/**
 * Greedy evaluation: episodes with no exploration and no learning, on seeds seed, seed + 1, ...
 * of one env, each reported with its total reward and KPIs (and, when asked, every day's info).
 */
import type { Agent } from '../agents/agent.js';
import type { Env, StepInfo } from '../env/env.js';
import type { EpisodeKpis } from '../env/kpis.js';

export interface EvaluatedEpisode {
  seed: number;
  totalReward: number;
  kpis: EpisodeKpis;
  /** Every day's info, when asked for (CSV export, charts). */
  steps: StepInfo[];
}

export interface EvaluateOptions {
  episodes: number;
  seed: number;
  recordSteps?: boolean;
  onEpisode?: (episode: EvaluatedEpisode, index: number) => void;
}

/** Greedy episodes (no exploration, no learning) on seeds seed, seed + 1, ... */
export function evaluate(env: Env, agent: Pick<Agent, 'act'>, options: EvaluateOptions): EvaluatedEpisode[] {
  const results: EvaluatedEpisode[] = [];
  for (let episode = 0; episode < options.episodes; episode++) {
    const seed = options.seed + episode;
    let { observation } = env.reset({ seed });
    let totalReward = 0;
    const steps: StepInfo[] = [];
    for (;;) {
      const result = env.step(agent.act(observation, { explore: false }));
      totalReward += result.reward;
      if (options.recordSteps) steps.push(result.info);
      observation = result.observation;
      if (result.terminated || result.truncated) {
        if (!result.info.episode) throw new Error('the env ended an episode without its KPIs');
        const record = { seed, totalReward, kpis: result.info.episode, steps };
        results.push(record);
        options.onEpisode?.(record, episode);
        break;
      }
    }
  }
  return results;
}
