/**
 * The contract every agent kind keeps (after Hono's shared router cases): actions always
 * in the action space; the same seed gives the same actions; export then restore gives the
 * same greedy actions; dispose is safe; an agent that declares checkpoints resumes from one
 * exactly (same actions and learning as the uninterrupted agent). Each kind runs on a scenario it fits; a kind that
 * skips a case says why.
 */
import { describe, expect, it } from 'vitest';
import { agentDefinitions } from '../../agents/registry.js';
import { makeEnv, type TimeLimit } from '../../env/env.js';
import { buildMarketModel } from '../../env/model.js';
import { agentFor, restoredAgentFor } from '../../experiments/setup.js';
import { loadScenario } from '../../scenarios/load.js';
import { canCheckpoint, type Agent, type AgentCheckpoint } from '../../agents/agent.js';

interface Case {
  kind: string;
  scenario: string;
  config?: unknown;
  steps?: number;
}

const cases: Case[] = [
  { kind: 'fixed-price', scenario: 'steady-state-v1', config: { price: 18.99 } },
  { kind: 'cost-plus', scenario: 'steady-state-v1', config: { markup: 1.1 } },
  { kind: 'competitor-follower', scenario: 'price-war-v1', config: { mode: 'undercut', amount: 0.5 } },
  { kind: 'inventory-markdown', scenario: 'fashion-returns-v1' },
  { kind: 'festival-rule', scenario: 'singles-day-v1' },
  { kind: 'myopic-oracle', scenario: 'steady-state-v1' },
  { kind: 'dp-optimal', scenario: 'markdown-gvr-v1' },
  {
    kind: 'historical-replay',
    scenario: 'steady-state-v1',
    config: { source: { file: 'sales.csv', sha256: 'a'.repeat(64), rows: 3 }, periodLength: 'week', lengthDays: 21, changes: [{ day: 0, price: 16.99 }, { day: 7, price: 19.49 }, { day: 14, price: 21.99 }] },
  },
  { kind: 'q-learning', scenario: 'steady-state-v1', steps: 2000 },
  { kind: 'epsilon-greedy', scenario: 'steady-state-v1' },
  { kind: 'ucb1', scenario: 'steady-state-v1' },
  { kind: 'thompson', scenario: 'steady-state-v1' },
  { kind: 'thompson', scenario: 'singles-day-v1', config: { nonStationary: { kind: 'sliding-window', window: 60 } } },
  { kind: 'linucb', scenario: 'weather-sensitive-v1' },
  { kind: 'dqn', scenario: 'steady-state-v1', config: { hiddenLayers: [16, 16], learningStarts: 50, batchSize: 16, backend: 'wasm' }, steps: 200 },
  // The finale from day 15: the rollouts, the greedy checks and the explanations (days 0-29) cover both phases.
  {
    kind: 'phased',
    scenario: 'steady-state-v1',
    config: { finaleDays: 350, base: { kind: 'fixed-price', config: { price: 17.99 } }, finale: { kind: 'dqn', config: { hiddenLayers: [16, 16], learningStarts: 50, batchSize: 16, backend: 'wasm' } } },
  },
];

const extraKinds = [...agentDefinitions.keys()].filter((kind) => !cases.some((entry) => entry.kind === kind));
const envs = new Map<string, TimeLimit>();
const envFor = (id: string) => {
  if (!envs.has(id)) envs.set(id, makeEnv(buildMarketModel(loadScenario(id).scenario)));
  return envs.get(id)!;
};

/** Runs `steps` training steps from seed 5, returns the actions taken. */
function rollout(env: TimeLimit, agent: Agent, steps: number, explore: boolean): number[] {
  const actions: number[] = [];
  let { observation } = env.reset({ seed: 5 });
  for (let step = 0; step < steps; step++) {
    const action = agent.act(observation, { explore });
    actions.push(action);
    const result = env.step(action);
    agent.observe({ observation, action, reward: result.reward, nextObservation: result.observation, terminated: result.terminated, truncated: result.truncated });
    observation = result.terminated || result.truncated ? env.reset({ seed: 6 + step }).observation : result.observation;
  }
  return actions;
}

function greedyActions(env: TimeLimit, agent: Agent, steps: number): number[] {
  const actions: number[] = [];
  let { observation } = env.reset({ seed: 99 });
  for (let step = 0; step < steps; step++) {
    const action = agent.act(observation, { explore: false });
    actions.push(action);
    const result = env.step(action);
    if (result.terminated || result.truncated) break;
    observation = result.observation;
  }
  return actions;
}

describe.each(cases)('agent contract: $kind on $scenario', ({ kind, scenario, config, steps = 300 }) => {
  it('acts inside the action space, and the same seed gives the same actions', async () => {
    const env = envFor(scenario);
    const first = await agentFor(env, kind, config, 3);
    const actionsA = rollout(env, first, steps, true);
    for (const action of actionsA) expect(env.actionSpace.contains(action)).toBe(true);
    const second = await agentFor(env, kind, config, 3);
    expect(rollout(env, second, steps, true)).toEqual(actionsA);
    first.dispose();
    second.dispose();
  });

  it('export then restore gives the same greedy actions', async () => {
    const env = envFor(scenario);
    const agent = await agentFor(env, kind, config, 4);
    rollout(env, agent, steps, true);
    const exported = await agent.export();
    expect(exported.kind).toBe(kind);
    const restored = await restoredAgentFor(env, exported, 4);
    expect(greedyActions(env, restored, 120)).toEqual(greedyActions(env, agent, 120));
    agent.dispose();
    restored.dispose();
    expect(() => agent.dispose()).not.toThrow();
  });

  it('explains its greedy choice, when it offers an explanation, with the action it takes', async () => {
    const env = envFor(scenario);
    const agent = await agentFor(env, kind, config, 6);
    rollout(env, agent, steps, true);
    // Every learner explains itself (action values or arm statistics); rules are explained by their kind, by the caller.
    if (!agent.explain) expect(agent.capabilities.learns).toBe(false);
    if (agent.explain) {
      let { observation } = env.reset({ seed: 31 });
      for (let day = 0; day < 30; day++) {
        const action = agent.act(observation, { explore: false });
        const explanation = agent.explain(observation);
        expect(explanation.chosen).toBe(action);
        if (explanation.kind === 'action-values') {
          expect(explanation.values.length).toBe(env.actionSpace.n);
          expect(explanation.values[action]).toBe(Math.max(...explanation.values));
        }
        if (explanation.kind === 'arm-statistics') {
          expect(explanation.arms.length).toBe(env.actionSpace.n);
          expect(explanation.arms.reduce((total, arm) => total + arm.pulls, 0)).toBeGreaterThan(0);
        }
        observation = env.step(action).observation;
      }
    }
    agent.dispose();
  });
});

/** Kinds without the checkpoint capability, and why: they restart from scratch on resume. */
const withoutCheckpoints: Record<string, string> = {};

describe.each(cases)('agent checkpoints: $kind on $scenario', ({ kind, scenario, config, steps = 300 }) => {
  it.skipIf(kind in withoutCheckpoints)('checkpoint, new agent, restore: the same subsequent actions and learning as the uninterrupted agent', async () => {
    const env = envFor(scenario);
    const uninterrupted = await agentFor(env, kind, config, 8);
    expect(canCheckpoint(uninterrupted)).toBe(true);
    if (!canCheckpoint(uninterrupted)) return;
    rollout(env, uninterrupted, steps, true);
    // Through JSON, as a checkpoint file holds it.
    const checkpoint = JSON.parse(JSON.stringify(uninterrupted.saveCheckpoint())) as AgentCheckpoint;
    const resumed = await agentFor(env, kind, config, 8);
    if (!canCheckpoint(resumed)) throw new Error('expected the capability on every agent of a kind');
    resumed.restoreCheckpoint(checkpoint);
    expect(rollout(env, resumed, steps, true)).toEqual(rollout(env, uninterrupted, steps, true));
    expect(greedyActions(env, resumed, 120)).toEqual(greedyActions(env, uninterrupted, 120));
    expect(resumed.saveCheckpoint()).toEqual(uninterrupted.saveCheckpoint());
    // A fresh agent that skipped the restore acts otherwise (else this test could not fail) -- rules excepted: they never learn.
    if (uninterrupted.capabilities.learns) {
      const fresh = await agentFor(env, kind, config, 8);
      expect(fresh.saveCheckpoint?.()).not.toEqual(uninterrupted.saveCheckpoint());
      fresh.dispose();
    }
    uninterrupted.dispose();
    resumed.dispose();
  });

  it('refuses a checkpoint of another kind as an integrity error', async () => {
    const env = envFor(scenario);
    const agent = await agentFor(env, kind, config, 8);
    if (!canCheckpoint(agent)) {
      expect(withoutCheckpoints[kind]).toBeDefined();
      agent.dispose();
      return;
    }
    expect(() => agent.restoreCheckpoint({ kind: 'not-this-kind', state: null })).toThrow(expect.objectContaining({ kind: 'integrity' }));
    agent.dispose();
  });
});

describe('the registry', () => {
  it('every registered kind is in the contract table (or named below with its reason)', () => {
    // Kinds registered by other files get their own contract rows when they are added.
    expect(extraKinds).toEqual([]);
  });

  it('refuses an unknown kind and a bad config with every problem listed', async () => {
    const env = envFor('steady-state-v1');
    await expect(agentFor(env, 'nope', {}, 1)).rejects.toThrow(/expected one of/);
    await expect(agentFor(env, 'q-learning', { alpha: 2, gamma: -1 }, 1)).rejects.toMatchObject({ problems: [{ path: ['config', 'alpha'] }, { path: ['config', 'gamma'] }] });
  });

  it('oracles get the true model; learners do not', async () => {
    const env = envFor('steady-state-v1');
    await expect(agentFor(env, 'myopic-oracle', {}, 1)).resolves.toBeDefined();
    const { contextFor } = await import('../../experiments/setup.js');
    expect(contextFor(env, 'q-learning', 1).model).toBeUndefined();
    expect(contextFor(env, 'myopic-oracle', 1).model).toBeDefined();
  });
});
