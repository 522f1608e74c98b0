/**
 * DQN's change margin (agents/change-margin.ts): hysteresis for greedy choices. Every greedy
 * path of evaluation and serving (act and actBatch with explore off, explain, an agent
 * restored from its export) follows one rule (training's exploring steps take the argmax):
 * keep yesterday's price unless another price's Q-value beats it by more than the margin.
 * Also the horizonTerminal option (a truncation stored as a termination).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { AgentContext } from '../../agents/agent.js';
import { adjustedValues, chooseWithMargin, previousLadderIndex, previousPriceReader } from '../../agents/change-margin.js';
import { type DqnAgent, type DqnConfig, dqnConfigSchema, dqnDefinition, restoreDqn } from '../../agents/dqn.js';
import { loadTensorflow } from '../../agents/tf-backend.js';
import { RandomStream } from '../../core/random.js';
import { box, discrete } from '../../env/spaces.js';

beforeAll(async () => {
  await loadTensorflow('wasm');
});

const ladder = Float64Array.from([11.99, 12.99, 13.99, 14.99, 15.99, 16.99, 17.99, 18.99]);
const top = ladder[ladder.length - 1]!;
const featureNames = ['salesYesterday', 'lastPrice', 'daysLeft', 'noise'];

function context(seed = 1, names = featureNames): AgentContext {
  return {
    observationSpace: box(names, names.map(() => 0), names.map(() => 1), names.map((name) => (name === 'lastPrice' ? top : 1))),
    actionSpace: discrete(ladder.length),
    ladder,
    unitCost: 9,
    listPrice: 17.99,
    seed,
  };
}

const configOf = (overrides: Partial<DqnConfig>): DqnConfig => dqnConfigSchema.parse({ backend: 'wasm', hiddenLayers: [16], ...overrides });
const createAgent = async (overrides: Partial<DqnConfig>, seed = 1) => (await dqnDefinition.create(configOf(overrides), context(seed))) as DqnAgent;

/** Observations whose lastPrice is a ladder price (index drawn uniformly), other features uniform. */
function observations(count: number, seed = 7): Float32Array {
  const random = new RandomStream(seed, 'change-margin-test');
  const values = new Float32Array(count * featureNames.length);
  for (let row = 0; row < count; row++) {
    for (let feature = 0; feature < featureNames.length; feature++) values[row * featureNames.length + feature] = random.next();
    values[row * featureNames.length + 1] = ladder[Math.floor(random.next() * ladder.length)]! / top;
  }
  return values;
}

describe('the change-margin rule', () => {
  const q = [1, 3, 2.5, 0];
  it('keeps the previous action unless another beats it by more than the margin', () => {
    expect(chooseWithMargin(q, 0, 4, 2, 0.5)).toBe(2); // 3 - 2.5 = 0.5: not more than the margin
    expect(chooseWithMargin(q, 0, 4, 2, 0.49)).toBe(1);
    expect(chooseWithMargin(q, 0, 4, 0, 2)).toBe(0); // 3 - 1 = 2: kept
    expect(chooseWithMargin(q, 0, 4, 0, 1.5)).toBe(1);
    expect(chooseWithMargin(q, 0, 4, 3, 0)).toBe(1); // margin 0: the argmax
    expect(chooseWithMargin([2, 2, 1], 0, 3, 1, 0)).toBe(1); // a tie keeps the previous action
  });

  it('the adjusted values are largest at the chosen action', () => {
    const random = new RandomStream(3, 'adjusted');
    for (let trial = 0; trial < 200; trial++) {
      const values = Array.from({ length: 6 }, () => random.next() * 4);
      const keep = Math.floor(random.next() * 6);
      const margin = random.next();
      const chosen = chooseWithMargin(values, 0, 6, keep, margin);
      const adjusted = adjustedValues(values, 0, 6, keep, margin);
      expect(adjusted[chosen]).toBe(Math.max(...adjusted));
    }
  });

  it('reads the previous ladder index from the lastPrice feature (nearest price)', () => {
    const reader = previousPriceReader(context().observationSpace, ladder);
    expect(previousLadderIndex(reader, [0, 17.99 / top, 0, 0], 0)).toBe(6);
    expect(previousLadderIndex(reader, [9, 9, 9, 9, 0, 12.6 / top, 0, 0], 4)).toBe(1);
    expect(previousLadderIndex(reader, [0, 30 / top, 0, 0], 0)).toBe(ladder.length - 1);
  });

  it('is refused as a config error where the observation has no lastPrice feature', async () => {
    await expect(dqnDefinition.create(configOf({ changeMargin: 1 }), context(1, ['salesYesterday', 'daysLeft']))).rejects.toMatchObject({ kind: 'config', problems: [{ path: ['changeMargin'] }] });
    await expect(dqnDefinition.create(configOf({ changeMargin: 0 }), context(1, ['salesYesterday', 'daysLeft']))).resolves.toBeDefined();
  });
});

describe('DQN with a change margin', () => {
  const count = 200;
  const features = featureNames.length;

  it('act, actBatch, explain and the restored export all choose by the rule, and the margin changes choices', async () => {
    const margin = 0.05; // reward units; rewardScale 2 makes it 0.1 in Q units
    const agent = await createAgent({ changeMargin: margin, rewardScale: 2 });
    const plain = await createAgent({ changeMargin: 0, rewardScale: 2 });
    const rows = observations(count);
    const q = agent.qValues(rows, count);
    const batch = new Int32Array(count);
    agent.actBatch(rows, count, { explore: false }, batch);
    const restored = await restoreDqn(await agent.export(), context(9));
    let kept = 0;
    let differs = 0;
    for (let row = 0; row < count; row++) {
      const observation = rows.slice(row * features, (row + 1) * features);
      const previous = previousLadderIndex(previousPriceReader(context().observationSpace, ladder), observation, 0);
      const expected = chooseWithMargin(q, row * ladder.length, ladder.length, previous, margin * 2);
      const action = agent.act(observation, { explore: false });
      expect(action).toBe(expected);
      expect(batch[row]).toBe(expected);
      expect(restored.act(observation, { explore: false })).toBe(expected);
      const explanation = agent.explain(observation);
      expect(explanation).toMatchObject({ kind: 'action-values', chosen: expected });
      if (explanation.kind === 'action-values') expect(explanation.values[expected]).toBe(Math.max(...explanation.values));
      if (action === previous) kept++;
      if (action !== plain.act(observation, { explore: false })) differs++;
    }
    // Same seed, same weights: the margin alone keeps more prices than the plain greedy choice.
    expect(differs).toBeGreaterThan(0);
    expect(kept).toBeGreaterThan(differs);
    agent.dispose();
    plain.dispose();
    restored.dispose();
  });

  it('with a margin wider than any Q gap, always keeps yesterday\'s price', async () => {
    const agent = await createAgent({ changeMargin: 1e6 });
    const rows = observations(50, 11);
    for (let row = 0; row < 50; row++) {
      const observation = rows.slice(row * features, (row + 1) * features);
      expect(ladder[agent.act(observation, { explore: false })]).toBeCloseTo(observation[1]! * top, 4);
    }
    agent.dispose();
  });

  it('while exploring (training), the non-random choice is the plain argmax', async () => {
    const agent = await createAgent({ changeMargin: 1e6, epsilonStart: 0, epsilonEnd: 0 });
    const rows = observations(count, 13);
    const q = agent.qValues(rows, count);
    const batch = new Int32Array(count);
    agent.actBatch(rows, count, { explore: true }, batch);
    let moved = 0;
    for (let row = 0; row < count; row++) {
      const values = Array.from(q.subarray(row * ladder.length, (row + 1) * ladder.length));
      const best = values.indexOf(Math.max(...values));
      const observation = rows.slice(row * features, (row + 1) * features);
      expect(batch[row]).toBe(best);
      expect(agent.act(observation, { explore: true })).toBe(best);
      if (best !== agent.act(observation, { explore: false })) moved++;
    }
    expect(moved).toBeGreaterThan(0);
    agent.dispose();
  });

  it('without a margin, explain gives the raw Q-values and their argmax', async () => {
    const agent = await createAgent({});
    const observation = observations(1, 12);
    const explanation = agent.explain(observation);
    expect(explanation).toEqual({ kind: 'action-values', values: Array.from(agent.qValues(observation, 1)), chosen: agent.act(observation, { explore: false }) });
    agent.dispose();
  });
});

describe('horizonTerminal', () => {
  it.each([
    [false, 0.9],
    [true, 0],
  ])('with horizonTerminal %s a truncated step bootstraps with %f', async (horizonTerminal, discount) => {
    const agent = await createAgent({ horizonTerminal, gamma: 0.9, learningStarts: 100 });
    const [first, second] = [observations(1, 1), observations(1, 2)];
    agent.observe({ observation: first, action: 2, reward: 1, nextObservation: second, terminated: false, truncated: true });
    const batch = agent.replay.createBatch(1);
    agent.replay.sample(new RandomStream(1, 'x'), batch);
    expect(batch.bootstrapDiscounts[0]).toBeCloseTo(discount, 6);
    agent.dispose();
  });
});
