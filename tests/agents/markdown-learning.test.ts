/**
 * Learning tests on markdown-gvr-v1 (Gallego & van Ryzin 1994): the greedy policy of a
 * learner, trained with a stated budget, earns at least 90% of the DP optimum on the price
 * ladder (oracleOf(...).optimalValue, about 3.6776) over 2,000 held-out episodes (seeds
 * from 10,000,000 up, disjoint from the training seeds 1, 2, ...).
 *
 * Why the configs: a sale happens in a period with probability at most 0.1, so rewards are
 * sparse and noisy and neighbouring prices differ by a fraction of a cent of expected
 * revenue per period. An exact (period, stock) table has 1,100 states x 30 prices, each a
 * separate noisy bandit, and never sees enough samples; a coarse state (stock in 4 bins)
 * shares the samples, and a per-(state, action) rate 1 / n^0.7 averages the noise out
 * while still forgetting early, stale bootstrap targets.
 */
import { describe, expect, it } from 'vitest';
import type { Agent } from '../../agents/agent.js';
import { oracleOf } from '../../env/benchmarks.js';
import { makeEnv } from '../../env/env.js';
import { buildMarketModel } from '../../env/model.js';
import { agentFor } from '../../experiments/setup.js';
import { evaluate, train } from '../../experiments/train.js';
import { loadScenario } from '../../scenarios/load.js';

const scenario = loadScenario('markdown-gvr-v1').scenario;
const optimal = oracleOf(scenario).optimalValue;
const evaluationEpisodes = 2000;
const evaluationSeed = 10_000_000;

async function trainedRatio(kind: string, config: unknown, steps: number, seed: number): Promise<{ agent: Agent; ratio: number }> {
  const env = makeEnv(buildMarketModel(scenario));
  const agent = await agentFor(env, kind, config, seed);
  await train(env, agent, { steps, seed });
  const rewards = evaluate(env, agent, { episodes: evaluationEpisodes, seed: evaluationSeed }).map((episode) => episode.totalReward);
  const mean = rewards.reduce((total, reward) => total + reward, 0) / rewards.length;
  return { agent, ratio: mean / optimal };
}

describe('learners on markdown-gvr-v1 against the DP optimum', () => {
  it('Q-learning reaches 90% of the DP value on markdown-gvr-v1 within 3,000,000 steps', async () => {
    const steps = 3_000_000;
    const config = {
      gamma: 0.99,
      alpha: 0.0001,
      learningRate: { kind: 'visits', omega: 0.7 },
      exploration: { kind: 'epsilon', start: 1, end: 0.02, decaySteps: steps / 2 },
      discretisation: [{ name: 'stockOnHand', bins: 4, low: -0.05, high: 1.05 }],
    };
    const { agent, ratio } = await trainedRatio('q-learning', config, steps, 1);
    try {
      expect(ratio).toBeGreaterThanOrEqual(0.9);
    } finally {
      agent.dispose();
    }
  }, 60_000);
});
