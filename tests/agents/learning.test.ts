/**
 * Learning and oracle tests on known-answer markets, with stated budgets.
 */
import { describe, expect, it } from 'vitest';
import { makeEnv } from '../../env/env.js';
import { oracleOf } from '../../env/benchmarks.js';
import { buildMarketModel } from '../../env/model.js';
import { agentFor } from '../../experiments/setup.js';
import { evaluate, train } from '../../experiments/train.js';
import { loadScenario } from '../../scenarios/load.js';
import { linearMarket as linearMarketFixture } from '../fixtures/linear-market.js';
import { summarise } from '../../experiments/summary.js';

const linearMarket = linearMarketFixture();

describe('Q-learning on a linear-demand market (q = 100 - 4p, c = 6: optimum 15.5)', () => {
  it.each([1, 2, 3])('settles on the optimal price within 20,000 steps (seed %i)', async (seed) => {
    const model = buildMarketModel(linearMarket);
    const env = makeEnv(model);
    const agent = await agentFor(env, 'q-learning', { alpha: 0.05, gamma: 0, exploration: { kind: 'epsilon', start: 1, end: 0.05, decaySteps: 15_000 } }, seed);
    await train(env, agent, { steps: 20_000, seed });
    const episodes = evaluate(env, agent, { episodes: 2, seed: 500 });
    for (const episode of episodes) expect(episode.kpis.averagePrice).toBeCloseTo(15.5, 9);
  });
});

describe('the DP-optimal agent on markdown-gvr-v1', () => {
  it("earns the oracle's optimal expected value: the DP value lies in the 99% interval of 4,000 episodes", async () => {
    const scenario = loadScenario('markdown-gvr-v1').scenario;
    const env = makeEnv(buildMarketModel(scenario));
    const agent = await agentFor(env, 'dp-optimal', {}, 1);
    const rewards = evaluate(env, agent, { episodes: 4000, seed: 1 }).map((episode) => episode.totalReward);
    const summary = summarise(rewards, 0.99);
    const optimal = oracleOf(scenario).optimalValue;
    expect(summary.low).toBeLessThan(optimal);
    expect(summary.high).toBeGreaterThan(optimal);
  });

  it('beats every fixed price on the same seeds', async () => {
    const scenario = loadScenario('markdown-gvr-v1').scenario;
    const model = buildMarketModel(scenario);
    const env = makeEnv(model);
    const mean = (rewards: number[]) => rewards.reduce((a, b) => a + b, 0) / rewards.length;
    const dp = mean(evaluate(env, await agentFor(env, 'dp-optimal', {}, 1), { episodes: 400, seed: 7 }).map((episode) => episode.totalReward));
    for (const price of model.ladder) {
      const fixed = mean(evaluate(env, await agentFor(env, 'fixed-price', { price }, 1), { episodes: 400, seed: 7 }).map((episode) => episode.totalReward));
      expect(dp).toBeGreaterThan(fixed);
    }
  });
});
