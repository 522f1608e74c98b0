/**
 * DQN's learning test on markdown-gvr-v1 (Gallego & van Ryzin 1994), the counterpart of
 * tests/agents/markdown-learning.test.ts: the greedy policy, trained with a stated budget,
 * earns at least 90% of the DP optimum on the price ladder (oracleOf(...).optimalValue,
 * about 3.6776) over 2,000 held-out episodes (seeds from 10,000,000 up), for seeds 1, 2, 3.
 *
 * Why the config: a sale happens in a period with probability at most 0.1 and the stock
 * (10 units over 100 periods) rarely binds, so the DP value is nearly that of a fixed price
 * of about 1 and the myopic target (gamma 0) is enough; it removes the bootstrap noise.
 * The loss is the squared error: Huber (delta 1) clips the rare large sale rewards and so
 * estimates something near the median reward, 0, ranking low prices first. The step size
 * decays along a cosine to 1e-5 so the final policy does not hinge on the last noisy updates.
 */
import { describe, expect, it } from 'vitest';
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
const steps = 60_000;

const config = {
  backend: 'wasm',
  hiddenLayers: [32, 32],
  gamma: 0,
  loss: 'mse',
  rewardScale: 10,
  learningStarts: 1_000,
  trainFrequency: 4,
  batchSize: 128,
  epsilonStart: 1,
  epsilonEnd: 0.05,
  explorationFraction: 0.3,
  totalSteps: steps,
  learningRateSchedule: 'cosine',
  learningRateEnd: 1e-5,
};

describe('DQN on markdown-gvr-v1 against the DP optimum', () => {
  it.each([1, 2, 3])('DQN reaches 90% of the DP value on markdown-gvr-v1 within 60,000 steps (seeds 1-3): seed %i', async (seed) => {
    const env = makeEnv(buildMarketModel(scenario));
    const agent = await agentFor(env, 'dqn', config, seed);
    try {
      await train(env, agent, { steps, seed });
      const rewards = evaluate(env, agent, { episodes: evaluationEpisodes, seed: evaluationSeed }).map((episode) => episode.totalReward);
      const mean = rewards.reduce((total, reward) => total + reward, 0) / rewards.length;
      expect(mean / optimal).toBeGreaterThanOrEqual(0.9);
    } finally {
      agent.dispose();
    }
  }, 60_000);
});
