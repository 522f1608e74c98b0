/**
 * Population training (experiments/population.ts): successive halving with one rung. The
 * members' trials, the selection on the validation seeds, the winner's continuation on its
 * own markets, disposal of the others, the kept export, and bad options by field.
 */
import { describe, expect, it } from 'vitest';
import type { Agent } from '../../agents/agent.js';
import { agentContextOf } from '../../agents/agent.js';
import { createAgent, restoreAgent } from '../../agents/registry.js';
import { makeEnv } from '../../env/env.js';
import { buildMarketModel } from '../../env/model.js';
import { VectorEnv } from '../../env/vector-env.js';
import { trainPopulation } from '../../experiments/population.js';
import { evaluate } from '../../experiments/train.js';
import { linearMarket } from '../fixtures/linear-market.js';

const model = buildMarketModel(linearMarket('linear-population-test-v1'));
const evaluationEnv = makeEnv(model);
const evaluation = { every: 500, env: evaluationEnv, episodes: 3, seed: 700, keepBest: true };
const contextFor = (seed: number) => agentContextOf(model, evaluationEnv.observationSpace, evaluationEnv.actionSpace, seed);

/** Wraps an agent to count its observed steps and disposals. */
function counted(agent: Agent): Agent & { observed: number; disposed: number } {
  const wrapped = Object.assign(Object.create(agent) as Agent, { observed: 0, disposed: 0 });
  wrapped.observe = (transition) => {
    wrapped.observed++;
    agent.observe(transition);
  };
  wrapped.dispose = () => {
    wrapped.disposed++;
    agent.dispose();
  };
  return wrapped;
}

describe('trainPopulation', () => {
  it('continues the member with the best evaluation (fixed prices: the one nearest the optimum 15.5) and disposes of the others', async () => {
    const prices = [8, 22, 15.5, 12];
    const members = await Promise.all(prices.map(async (price, index) => counted(await createAgent('fixed-price', { price }, contextFor(index)))));
    const phases: string[] = [];
    const result = await trainPopulation({
      members: prices.length,
      selectAfter: 1_000,
      steps: 3_000,
      createMember: async (index) => ({ agent: members[index]!, env: new VectorEnv(model, { count: 2, seed: 10 + index }) }),
      continuationEnv: (index) => new VectorEnv(model, { count: 2, seed: 100 + index }),
      training: (index, phase) => {
        phases.push(`${index}:${phase}`);
        return { evaluation };
      },
    });
    const nearest = (price: number) => Array.from(model.ladder).reduce((best, rung, index) => (Math.abs(rung - price) < Math.abs((model.ladder[best] ?? 0) - price) ? index : best), 0);
    const byPrice = prices.map((price) => evaluate(evaluationEnv, { act: () => nearest(price) }, { episodes: 3, seed: 700 }));
    const means = byPrice.map((episodes) => episodes.reduce((total, episode) => total + episode.totalReward, 0) / 3);
    expect(result.winner).toBe(means.indexOf(Math.max(...means)));
    expect(result.winner).toBe(2);
    expect(phases).toEqual(['0:trial', '1:trial', '2:trial', '3:trial', '2:continuation']);
    expect(members.map((member) => member.observed)).toEqual([1_000, 1_000, 3_000, 1_000]);
    expect(members.map((member) => member.disposed)).toEqual([1, 1, 0, 1]);
    expect(result.totalSteps).toBe(6_000);
    expect(result.trials.map((trial) => trial.best!.point.meanReward)).toEqual(means);
    expect(result.best.point.meanReward).toBe(means[2]);
  });

  it('the kept export is the winner\'s best evaluation over both phases, and replays it', async () => {
    const config = { alpha: 0.2, exploration: { kind: 'epsilon', start: 1, end: 0.05, decaySteps: 3_000 } };
    const result = await trainPopulation({
      members: 3,
      selectAfter: 2_000,
      steps: 6_000,
      createMember: async (index) => ({ agent: await createAgent('q-learning', config, contextFor(index + 1)), env: new VectorEnv(model, { count: 2, seed: 20 + index }) }),
      continuationEnv: (index) => new VectorEnv(model, { count: 2, seed: 200 + index }),
      training: () => ({ evaluation }),
    });
    const trialBest = result.trials.map((trial) => trial.best!.point.meanReward);
    expect(result.winner).toBe(trialBest.indexOf(Math.max(...trialBest)));
    const all = [...result.trials[result.winner]!.evaluations, ...result.continuation.evaluations].map((point) => point.meanReward);
    expect(result.best.point.meanReward).toBe(Math.max(...all));
    const restored = await restoreAgent(result.best.exported, contextFor(1));
    expect(evaluate(evaluationEnv, restored, { episodes: 3, seed: 700 }).map((episode) => episode.totalReward)).toEqual(result.best.point.rewards);
    restored.dispose();
  });

  it('refuses bad options, naming each field', async () => {
    const createMember = async () => ({ agent: await createAgent('fixed-price', { price: 15 }, contextFor(1)), env: new VectorEnv(model, { count: 1, seed: 1 }) });
    const base = { createMember, continuationEnv: () => new VectorEnv(model, { count: 1, seed: 2 }), training: () => ({ evaluation }) };
    await expect(trainPopulation({ ...base, members: 0, selectAfter: 3_000, steps: 3_000 })).rejects.toMatchObject({
      kind: 'config',
      problems: [{ path: ['population', 'members'] }, { path: ['population', 'selectAfter'], message: expect.stringContaining('found 3000') }],
    });
    await expect(trainPopulation({ ...base, members: 2, selectAfter: 10, steps: 100, training: () => ({}) })).rejects.toMatchObject({ kind: 'config', problems: [{ path: ['population', 'training', 'evaluation', 'keepBest'] }] });
  });
});
