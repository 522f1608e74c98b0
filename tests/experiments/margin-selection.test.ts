/**
 * Choosing a DQN's change margin on validation seeds (experiments/margin-selection.ts): every
 * candidate is the same network evaluated on the same seeds, the best mean is kept, and the
 * export comes back with that margin and nothing else changed.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { agentContextOf, type AgentExport } from '../../agents/agent.js';
import { withChangeMargin } from '../../agents/dqn.js';
import { createAgent, restoreAgent } from '../../agents/registry.js';
import { loadTensorflow } from '../../agents/tf-backend.js';
import { makeEnv } from '../../env/env.js';
import { PricelabError } from '../../core/errors.js';
import { buildMarketModel } from '../../env/model.js';
import { chooseChangeMargin } from '../../experiments/margin-selection.js';
import { mean } from '../../experiments/statistics/moments.js';
import { evaluate } from '../../experiments/train.js';
import { linearMarket, linearOptimum } from '../fixtures/linear-market.js';

const model = buildMarketModel(linearMarket('linear-margin-selection-test-v1'));
const env = makeEnv(model);
const context = agentContextOf(model, env.observationSpace, env.actionSpace, 3);
let exported: AgentExport;

beforeAll(async () => {
  await loadTensorflow('wasm');
  // An untrained network: its greedy prices wander; a margin too large to beat holds the first day's price.
  const agent = await createAgent('dqn', { backend: 'wasm', hiddenLayers: [8] }, context);
  exported = await agent.export();
  agent.dispose();
});

const meanReward = async (margin: number) => {
  const agent = await restoreAgent(withChangeMargin(exported, margin), context);
  const rewards = evaluate(env, agent, { episodes: 3, seed: 500 }).map((episode) => episode.totalReward);
  agent.dispose();
  return mean(rewards);
};

describe('chooseChangeMargin', () => {
  it('evaluates every candidate on the same seeds and keeps the best, with its margin in the export', async () => {
    const margins = [0, 0.5, 1e9];
    const selection = await chooseChangeMargin({ exported, env, episodes: 3, seed: 500, margins });
    const expected = await Promise.all(margins.map(async (margin) => ({ margin, meanReward: await meanReward(margin) })));
    expect(selection.candidates).toEqual(expected);
    expect(new Set(expected.map((candidate) => candidate.meanReward)).size).toBeGreaterThan(1); // a real choice
    const best = Math.max(...expected.map((candidate) => candidate.meanReward));
    expect(selection.margin).toBe(expected.find((candidate) => candidate.meanReward === best)!.margin);
    const restored = await restoreAgent(selection.exported, context);
    expect(evaluate(env, restored, { episodes: 3, seed: 500 }).reduce((total, episode) => total + episode.totalReward, 0) / 3).toBe(best);
    restored.dispose();
    // Only the margin changed: the weights are the same bytes.
    expect(selection.exported.files['weights.bin']).toEqual(exported.files['weights.bin']);
  });

  it('a margin no price can beat holds the first day\'s price (the middle of the ladder, here the optimum) all episode', async () => {
    const agent = await restoreAgent(withChangeMargin(exported, 1e9), context);
    const [episode] = evaluate(env, agent, { episodes: 1, seed: 7, recordSteps: true });
    agent.dispose();
    expect(new Set(episode!.steps.map((step) => step.price))).toEqual(new Set([linearOptimum]));
  });

  it('refuses a non-DQN export, no candidates, a negative margin and no episodes, naming each', async () => {
    const attempt = chooseChangeMargin({ exported: { kind: 'fixed-price', config: {}, files: {} }, env, episodes: 0, seed: 1, margins: [] });
    await expect(attempt).rejects.toThrow(PricelabError);
    const error = (await attempt.catch((caught: unknown) => caught)) as PricelabError;
    expect(error.problems.map((problem) => problem.path.join('.'))).toEqual(['exported.kind', 'margins', 'episodes']);
    const negative = (await chooseChangeMargin({ exported, env, episodes: 1, seed: 1, margins: [50, -1] }).catch((caught: unknown) => caught)) as PricelabError;
    expect(negative.problems.map((problem) => problem.path.join('.'))).toEqual(['margins.1']);
    expect(() => withChangeMargin(exported, Number.NaN)).toThrow(PricelabError);
  });
});
