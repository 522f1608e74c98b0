/**
 * DQN checkpoints (saveCheckpoint / restoreCheckpoint): the whole learner state, so a run
 * resumed from a checkpoint acts and learns exactly as the uninterrupted one, here with
 * every stateful option on at once (n-step accumulator mid-episode, reward centering,
 * policy averaging, a dueling head, a soft target).
 * The contract suite (tests/agents/contract.test.ts) checks the same on a real market with
 * the defaults.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { AgentCheckpoint, AgentContext } from '../../agents/agent.js';
import { type DqnAgent, type DqnConfig, dqnConfigSchema, dqnDefinition } from '../../agents/dqn.js';
import { loadTensorflow, type TensorflowModule } from '../../agents/tf-backend.js';
import { RandomStream } from '../../core/random.js';
import { box, discrete } from '../../env/spaces.js';

let tf: TensorflowModule;
beforeAll(async () => {
  tf = (await loadTensorflow('wasm')).tf;
});

const features = 6;
const actions = 5;
const names = ['lastPrice', 'a', 'b', 'c', 'd', 'e'];
const context: AgentContext = {
  observationSpace: box(names, names.map(() => 0), names.map(() => 1), names.map((name) => (name === 'lastPrice' ? 14 : 1))),
  actionSpace: discrete(actions),
  ladder: Float64Array.from([10, 11, 12, 13, 14]),
  unitCost: 5,
  listPrice: 12,
  seed: 4,
};
const stateful: Partial<DqnConfig> = {
  hiddenLayers: [12, 12],
  batchSize: 8,
  learningStarts: 40,
  trainFrequency: 2,
  targetUpdateInterval: 30,
  tau: 0.5,
  nSteps: 3,
  rewardCentering: 0.01,
  policyAveraging: 0.1,
  dueling: true,
  changeMargin: 0.05,
  epsilonEnd: 0.3,
  learningRateSchedule: 'cosine',
  totalSteps: 400,
  replayCapacity: 150,
};
const create = async (overrides: Partial<DqnConfig> = stateful) => (await dqnDefinition.create(dqnConfigSchema.parse({ backend: 'wasm', ...overrides }), context)) as DqnAgent;

/** `steps` exploring steps on a synthetic market (episodes of 25 days), from `random`; returns the actions. */
function run(agent: DqnAgent, random: RandomStream, steps: number, start: number): number[] {
  const taken: number[] = [];
  const observation = () => Float32Array.from({ length: features }, () => random.next());
  let current = observation();
  for (let step = start; step < start + steps; step++) {
    const action = agent.act(current, { explore: true });
    taken.push(action);
    const next = observation();
    const truncated = (step + 1) % 25 === 0;
    agent.observe({ observation: current, action, reward: random.next() * 10 - action, nextObservation: next, terminated: false, truncated });
    current = truncated ? observation() : next;
  }
  return taken;
}

describe('DQN checkpoints', () => {
  it('resume mid-episode (n-step window open, replay wrapped) exactly as the uninterrupted agent', async () => {
    const uninterrupted = await create();
    const random = new RandomStream(1, 'market');
    run(uninterrupted, random, 212, 0); // 212 % 25 != 0: an n-step window is open; 212 > 150: the replay ring has wrapped
    const checkpoint = JSON.parse(JSON.stringify(uninterrupted.saveCheckpoint())) as AgentCheckpoint;
    expect(uninterrupted.replay.size).toBe(150);
    expect(uninterrupted.counters.updates).toBeGreaterThan(0);

    const resumed = await create();
    const tensorsBefore = tf.memory().numTensors;
    resumed.restoreCheckpoint(checkpoint);
    expect(tf.memory().numTensors).toBe(tensorsBefore); // the replaced weights are freed
    const randomCopy = new RandomStream(1, 'market');
    randomCopy.restoreState(random.saveState());

    expect(run(resumed, randomCopy, 150, 212)).toEqual(run(uninterrupted, random, 150, 212));
    expect(resumed.parameterValues()).toEqual(uninterrupted.parameterValues());
    expect(resumed.targetParameterValues()).toEqual(uninterrupted.targetParameterValues());
    expect(resumed.counters).toEqual(uninterrupted.counters);
    expect(resumed.averageReward).toBe(uninterrupted.averageReward);
    expect(resumed.saveCheckpoint()).toEqual(uninterrupted.saveCheckpoint());

    // Without the restore, the same continuation learns otherwise (so the test can fail).
    const fresh = await create();
    run(fresh, new RandomStream(1, 'other'), 150, 212);
    expect(fresh.parameterValues()).not.toEqual(uninterrupted.parameterValues());
    for (const agent of [uninterrupted, resumed, fresh]) agent.dispose();
  });

  it('refuses a checkpoint of another network or replay capacity, listing each problem', async () => {
    const source = await create();
    run(source, new RandomStream(2, 'market'), 60, 0);
    const checkpoint = source.saveCheckpoint();
    const other = await create({ ...stateful, hiddenLayers: [8], replayCapacity: 100, policyAveraging: 0 });
    expect(() => other.restoreCheckpoint(checkpoint)).toThrow(
      expect.objectContaining({ kind: 'integrity', problems: [expect.objectContaining({ path: ['state', 'parameterCount'] }), expect.objectContaining({ path: ['state', 'averageParameters'] })] }),
    );
    const damaged = { kind: 'dqn', state: { ...(checkpoint.state as object), parameters: 'AAAA' } };
    const same = await create();
    expect(() => same.restoreCheckpoint(damaged)).toThrow(expect.objectContaining({ kind: 'integrity', problems: [expect.objectContaining({ path: ['state', 'parameters'] })] }));
    const smaller = await create({ ...stateful, replayCapacity: 100 });
    expect(() => smaller.restoreCheckpoint(checkpoint)).toThrow(expect.objectContaining({ kind: 'integrity', problems: [expect.objectContaining({ path: ['state', 'replay', 'capacity'] })] }));
    for (const agent of [source, other, same, smaller]) agent.dispose();
  });

  it('resumes a checkpoint saved before explorationHold went (empty hold lists) as it would have, and refuses one with a price still held', async () => {
    const source = await create();
    const random = new RandomStream(3, 'market');
    run(source, random, 60, 0);
    const checkpoint = source.saveCheckpoint();
    const old = { kind: 'dqn', state: { ...(checkpoint.state as object), holdRemaining: [], heldActions: [] } };
    const resumed = await create();
    resumed.restoreCheckpoint(old);
    expect(resumed.saveCheckpoint()).toEqual(checkpoint);
    const randomCopy = new RandomStream(3, 'market');
    randomCopy.restoreState(random.saveState());
    expect(run(resumed, randomCopy, 40, 60)).toEqual(run(source, random, 40, 60));
    const midHold = { kind: 'dqn', state: { ...(checkpoint.state as object), holdRemaining: [0, 3], heldActions: [0, 2] } };
    const other = await create();
    expect(() => other.restoreCheckpoint(midHold)).toThrow(expect.objectContaining({ kind: 'integrity', problems: [expect.objectContaining({ path: ['state', 'holdRemaining'], message: expect.stringContaining('start the run afresh') })] }));
    for (const agent of [source, resumed, other]) agent.dispose();
  });
});
