/**
 * The phased agent (agents/phased.ts): the base prices until the last finaleDays days, the
 * finale those; each observes only its own transitions (the finale with its finaleDaysLeft
 * feature, the base cut where the finale takes over); config problems name their path; a
 * phased DQN's change margin can be chosen like a DQN's.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { agentContextOf, type Agent, type AgentContext, type Transition } from '../../agents/agent.js';
import type { AgentDefinition } from '../../agents/definition.js';
import { dqnConfigSchema } from '../../agents/dqn.js';
import type { PhasedAgent} from '../../agents/phased.js';
import { phasedDefinition } from '../../agents/phased.js';
import { agentDefinition, createAgent, restoreAgent } from '../../agents/registry.js';
import { loadTensorflow } from '../../agents/tf-backend.js';
import { makeEnv } from '../../env/env.js';
import { buildMarketModel } from '../../env/model.js';
import { chooseChangeMargin } from '../../experiments/margin-selection.js';
import { evaluate } from '../../experiments/train.js';
import { loadScenario } from '../../scenarios/load.js';
import { z } from 'zod';

beforeAll(async () => {
  await loadTensorflow('wasm');
});

const model = buildMarketModel(loadScenario('steady-state-v1').scenario);
const env = makeEnv(model);
const context = agentContextOf(model, env.observationSpace, env.actionSpace, 1);
const fixed = (price: number) => ({ kind: 'fixed-price', config: { price } });
const priceOfIndex = (day: number) => (day * 5) % model.ladder.length;
const smallDqn = { kind: 'dqn', config: { hiddenLayers: [8], learningStarts: 1_000_000, backend: 'wasm' } };

/** A spy kind: records what it is shown, acts with a fixed index. */
function spyDefinition(log: { observed: Transition[]; widths: number[] }): AgentDefinition {
  const make = (spyContext: AgentContext): Agent => ({
    kind: 'spy',
    capabilities: { learns: true },
    act: (observation) => {
      log.widths.push(observation.length);
      return spyContext.observationSpace.featureNames.length % spyContext.actionSpace.n;
    },
    observe: (transition) => void log.observed.push(transition),
    export: () => ({ kind: 'spy', config: {}, files: {} }),
    dispose: () => undefined,
  });
  return { kind: 'spy', description: 'records', configSchema: z.object({}), create: (_config, spyContext) => make(spyContext), restore: (_exported, spyContext) => make(spyContext) };
}

describe('the phased agent', () => {
  it('prices with the base until the last finaleDays days, then with the finale', async () => {
    const agent = await createAgent('phased', { finaleDays: 10, base: fixed(17.99), finale: fixed(15.99) }, context);
    const [episode] = evaluate(env, agent, { episodes: 1, seed: 3, recordSteps: true });
    const prices = episode!.steps.map((step) => step.price);
    expect(new Set(prices.slice(0, model.horizon - 10))).toEqual(new Set([17.99]));
    expect(new Set(prices.slice(model.horizon - 10))).toEqual(new Set([15.99]));
    agent.dispose();
  });

  it('shows each agent only its own transitions: the finale with finaleDaysLeft, the base cut at the hand-over', async () => {
    const base = { observed: [] as Transition[], widths: [] as number[] };
    const finale = { observed: [] as Transition[], widths: [] as number[] };
    const definition = phasedDefinition((kind) => (kind === 'base-spy' ? spyDefinition(base) : kind === 'finale-spy' ? spyDefinition(finale) : agentDefinition(kind)));
    const agent = await definition.create({ finaleDays: 21, base: { kind: 'base-spy' }, finale: { kind: 'finale-spy' } }, context);
    let { observation } = env.reset({ seed: 4 });
    for (let day = 0; day < model.horizon; day++) {
      const action = agent.act(observation, { explore: true });
      const result = env.step(action);
      agent.observe({ observation, action, reward: result.reward, nextObservation: result.observation, terminated: result.terminated, truncated: result.truncated });
      observation = result.observation;
    }
    const features = env.observationSpace.featureNames.length;
    expect(base.observed).toHaveLength(model.horizon - 21);
    expect(finale.observed).toHaveLength(21);
    expect(base.widths.every((width) => width === features)).toBe(true);
    expect(finale.widths.every((width) => width === features + 1)).toBe(true);
    // finaleDaysLeft: 21/21 on the finale's first day, 1/21 on the last; the base's last transition is cut.
    expect(finale.observed[0]?.observation[features]).toBeCloseTo(1, 6);
    expect(finale.observed[20]?.observation[features]).toBeCloseTo(1 / 21, 6);
    expect(finale.observed[20]?.truncated).toBe(true);
    expect(base.observed.at(-1)?.truncated).toBe(true);
    expect(base.observed.slice(0, -1).some((transition) => transition.truncated)).toBe(false);
    // Batched: the same routing, the finale's rows widened.
    const batch = new Float32Array(2 * features);
    batch.set(env.reset({ seed: 4 }).observation, 0);
    batch.set(observation, features); // the last day's
    const out = new Int32Array(2);
    (agent as PhasedAgent).actBatch(batch, 2, { explore: false }, out);
    expect(Array.from(out)).toEqual([features % env.actionSpace.n, (features + 1) % env.actionSpace.n]);
    agent.dispose();
  });

  it('takes the shared config of scenarios/agent-configs/ (the steady-state test and the README use it)', async () => {
    const shared: unknown = JSON.parse(readFileSync(new URL('../../scenarios/agent-configs/phased-dqn-steady-state-v1.json', import.meta.url), 'utf8'));
    const agent = await createAgent('phased', { ...(shared as object), finale: { ...(shared as { finale: { config: object } }).finale, config: { ...(shared as { finale: { config: object } }).finale.config, backend: 'wasm' } } }, context);
    expect(agent.kind).toBe('phased');
    agent.dispose();
  });

  it('acts in a batch as row by row, whichever rows are the finale\'s (a DQN finale, greedy)', async () => {
    const agent = await createAgent('phased', { finaleDays: 21, base: fixed(17.99), finale: { kind: 'dqn', config: { hiddenLayers: [8], backend: 'wasm' } } }, context);
    const features = env.observationSpace.featureNames.length;
    const observationsOn = (days: readonly number[]) => {
      const batch = new Float32Array(days.length * features);
      days.forEach((day, row) => {
        let { observation } = env.reset({ seed: 40 + row });
        for (let step = 0; step < day; step++) observation = env.step(priceOfIndex(step)).observation;
        batch.set(observation, row * features);
      });
      return batch;
    };
    for (const days of [[350, 355, 364], [0, 100, 343], [343, 344, 10, 364]]) {
      const batch = observationsOn(days);
      const batched = new Int32Array(days.length);
      (agent as PhasedAgent).actBatch(batch, days.length, { explore: false }, batched);
      const single = days.map((_, row) => agent.act(batch.subarray(row * features, (row + 1) * features), { explore: false }));
      expect(Array.from(batched)).toEqual(single);
    }
    agent.dispose();
  });

  it('restores with finaleDays equal to the horizon, and refuses a bad artifact naming the field or the agent', async () => {
    const agent = await createAgent('phased', { finaleDays: model.horizon, base: fixed(17.99), finale: { kind: 'dqn', config: { hiddenLayers: [8], backend: 'wasm' } } }, context);
    const exported = await agent.export();
    const restored = await restoreAgent(exported, context);
    const [original] = evaluate(env, agent, { episodes: 1, seed: 8, recordSteps: true });
    const [again] = evaluate(env, restored, { episodes: 1, seed: 8, recordSteps: true });
    expect(again!.steps.map((step) => step.price)).toEqual(original!.steps.map((step) => step.price));
    agent.dispose();
    restored.dispose();
    await expect(restoreAgent({ ...exported, config: { ...(exported.config as object), finaleDays: 'all' } }, context)).rejects.toMatchObject({ kind: 'integrity', problems: [{ path: ['config', 'finaleDays'] }] });
    const withoutState = Object.fromEntries(Object.entries(exported.files).filter(([name]) => name !== 'finale.dqn.json'));
    await expect(restoreAgent({ ...exported, files: withoutState }, context)).rejects.toMatchObject({ kind: 'integrity', message: expect.stringContaining('the finale agent') });
  });

  it('restores a checkpoint into both agents or neither', async () => {
    const config = { finaleDays: 21, base: { kind: 'dqn', config: { hiddenLayers: [8], learningStarts: 10, batchSize: 4, backend: 'wasm' } }, finale: { kind: 'dqn', config: { hiddenLayers: [8], backend: 'wasm' } } };
    const agent = (await createAgent('phased', config, context)) as PhasedAgent;
    evaluate(env, agent, { episodes: 1, seed: 9 });
    let { observation } = env.reset({ seed: 9 });
    for (let day = 0; day < 40; day++) {
      const action = agent.act(observation, { explore: true });
      const result = env.step(action);
      agent.observe({ observation, action, reward: result.reward, nextObservation: result.observation, terminated: false, truncated: false });
      observation = result.observation;
    }
    const saved = agent.saveCheckpoint();
    const fresh = (await createAgent('phased', config, context)) as PhasedAgent;
    const before = JSON.stringify(fresh.saveCheckpoint());
    const damaged = { ...saved, state: { ...(saved.state as object), finale: { kind: 'dqn', state: { nonsense: true } } } };
    expect(() => fresh.restoreCheckpoint(damaged)).toThrow();
    expect(JSON.stringify(fresh.saveCheckpoint())).toBe(before);
    fresh.restoreCheckpoint(saved);
    expect(JSON.stringify(fresh.saveCheckpoint())).toBe(JSON.stringify(saved));
    agent.dispose();
    fresh.dispose();
  });

  it('names the path of every config problem', async () => {
    const refused = (config: unknown) => createAgent('phased', config, context);
    await expect(refused({ finaleDays: 21, base: fixed(17.99), finale: { kind: 'nope' } })).rejects.toMatchObject({ kind: 'config', problems: [{ path: ['config', 'finale', 'kind'] }] });
    await expect(refused({ finaleDays: 21, base: { kind: 'myopic-oracle' }, finale: smallDqn })).rejects.toMatchObject({ problems: [{ path: ['config', 'base', 'kind'], message: expect.stringContaining('"myopic-oracle"') }] });
    await expect(refused({ finaleDays: 21, base: fixed(17.99), finale: { kind: 'phased', config: {} } })).rejects.toMatchObject({ problems: [{ path: ['config', 'finale', 'kind'] }] });
    await expect(refused({ finaleDays: 21, base: fixed(17.99), finale: { kind: 'dqn', config: { hiddenLayers: 'wide' } } })).rejects.toMatchObject({ problems: [{ path: ['config', 'finale', 'config', 'hiddenLayers'] }] });
    await expect(refused({ finaleDays: 400, base: fixed(17.99), finale: smallDqn })).rejects.toMatchObject({ problems: [{ path: ['config', 'finaleDays'], message: expect.stringContaining('at most the horizon (365 days), found 400') }] });
    await expect(refused({ finaleDays: 21, base: fixed(17.99) })).rejects.toMatchObject({ kind: 'config', problems: [{ path: ['config', 'finale'] }] });
  });

  it('exports both agents, files prefixed; a phased DQN\'s change margin is chosen on validation seeds like a DQN\'s', async () => {
    const agent = await createAgent('phased', { finaleDays: 21, base: fixed(17.99), finale: { ...smallDqn, config: { ...smallDqn.config, changeMargin: 0 } } }, context);
    const exported = await agent.export();
    agent.dispose();
    expect(Object.keys(exported.files).every((name) => name.startsWith('finale.'))).toBe(true); // a fixed price has no files
    expect(exported.files['finale.dqn.json']).toBeDefined();
    const selection = await chooseChangeMargin({ exported, env, episodes: 2, seed: 5000, margins: [0, 1e9] });
    expect(selection.candidates.map((candidate) => candidate.margin)).toEqual([0, 1e9]);
    const state = JSON.parse(new TextDecoder().decode(selection.exported.files['finale.dqn.json'])) as { config: { changeMargin: number } };
    expect(state.config.changeMargin).toBe(selection.margin);
    expect(dqnConfigSchema.parse((selection.exported.config as { finale: { config: unknown } }).finale.config).changeMargin).toBe(selection.margin);
    await expect(chooseChangeMargin({ exported: { ...exported, config: { finaleDays: 21, base: fixed(17.99), finale: fixed(15.99) } }, env, episodes: 2, seed: 5000, margins: [0] })).rejects.toMatchObject({
      problems: [{ path: ['exported', 'kind'], message: expect.stringContaining('a phased agent whose finale is "fixed-price"') }],
    });
  });
});
