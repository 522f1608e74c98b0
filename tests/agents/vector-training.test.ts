/**
 * Training over a vector env: the same learning on the known linear market, with actions
 * from one batched call (DQN's actBatch) or one act per market (Q-learning), and the same
 * seed giving the same agent.
 */
import { describe, expect, it } from 'vitest';
import { agentContextOf } from '../../agents/agent.js';
import { createAgent } from '../../agents/registry.js';
import { makeEnv } from '../../env/env.js';
import { buildMarketModel } from '../../env/model.js';
import { VectorEnv } from '../../env/vector-env.js';
import { evaluate, trainVector } from '../../experiments/train.js';
import { linearMarket, linearOptimum } from '../fixtures/linear-market.js';

const model = buildMarketModel(linearMarket('linear-vector-test-v1'));

async function trained(kind: string, config: unknown, steps: number, seed: number) {
  const vector = new VectorEnv(model, { count: 8, seed });
  const agent = await createAgent(kind, config, agentContextOf(model, vector.observationSpace, vector.actionSpace, seed));
  const result = await trainVector(vector, agent, { steps });
  return { agent, result };
}

describe('trainVector on q = 100 - 4p, c = 6 (optimum 15.5), 8 markets', () => {
  it('Q-learning (one act per market) settles on the optimum within 24,000 steps', async () => {
    const { agent, result } = await trained('q-learning', { alpha: 0.05, gamma: 0, exploration: { kind: 'epsilon', start: 1, end: 0.05, decaySteps: 16_000 } }, 24_000, 1);
    expect(result.steps).toBe(24_000);
    expect(result.episodes).toBe((24_000 / 50) | 0);
    const episodes = evaluate(makeEnv(model), agent, { episodes: 2, seed: 700 });
    for (const episode of episodes) expect(episode.kpis.averagePrice).toBeCloseTo(linearOptimum, 9);
  });

  it('DQN (one batched forward pass for all markets) settles on the optimum within 8,000 steps', async () => {
    const config = { hiddenLayers: [32, 32], learningRate: 5e-4, gamma: 0, rewardScale: 0.01, learningStarts: 200, trainFrequency: 1, batchSize: 32, totalSteps: 8_000, explorationFraction: 0.5, targetUpdateInterval: 100, backend: 'wasm' };
    const { agent } = await trained('dqn', config, 8_000, 2);
    const episodes = evaluate(makeEnv(model), agent, { episodes: 2, seed: 700 });
    for (const episode of episodes) expect(episode.kpis.averagePrice).toBeCloseTo(linearOptimum, 9);
    agent.dispose();
  });

  it('the same seed trains the same agent', async () => {
    const config = { alpha: 0.1, gamma: 0 };
    const first = await trained('q-learning', config, 4_000, 3);
    const second = await trained('q-learning', config, 4_000, 3);
    expect(Array.from((await second.agent.export()).files['q-table.json']!)).toEqual(Array.from((await first.agent.export()).files['q-table.json']!));
    expect(second.result.episodeRewards).toEqual(first.result.episodeRewards);
  });
});
