/**
 * DQN's temporally-extended epsilon-greedy (explorationHold, ez-greedy after Dabney et al.
 * 2021): an exploring choice holds its random price for n days, P(n) ~ n^-mu, n <= hold.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { AgentContext } from '../../agents/agent.js';
import { type DqnAgent, type DqnConfig, dqnConfigSchema, dqnDefinition } from '../../agents/dqn.js';
import { loadTensorflow } from '../../agents/tf-backend.js';
import { box, discrete } from '../../env/spaces.js';

beforeAll(async () => {
  await loadTensorflow('wasm');
});

const actions = 21;
const context: AgentContext = {
  observationSpace: box(['a', 'b'], [0, 0], [1, 1]),
  actionSpace: discrete(actions),
  ladder: Float64Array.from({ length: actions }, (_, index) => 10 + index),
  unitCost: 5,
  listPrice: 20,
  seed: 2,
};
const create = async (overrides: Partial<DqnConfig>) =>
  (await dqnDefinition.create(dqnConfigSchema.parse({ backend: 'wasm', hiddenLayers: [4], epsilonStart: 1, epsilonEnd: 1, ...overrides }), context)) as DqnAgent;

/** Mean length of the runs of equal consecutive actions. */
const meanRunLength = (sequence: readonly number[]): number => sequence.length / (1 + sequence.slice(1).filter((action, index) => action !== sequence[index]).length);

describe('explorationHold (ez-greedy)', () => {
  const observation = Float32Array.from([0.5, 0.5]);

  it('holds each exploring price for n days: mean run about (hold + 1) / 2 with uniform lengths, about 1 without holds', async () => {
    const held = await create({ explorationHold: 10, explorationHoldExponent: 0 });
    const plain = await create({});
    const heldActions = Array.from({ length: 4000 }, () => held.act(observation, { explore: true }));
    const plainActions = Array.from({ length: 4000 }, () => plain.act(observation, { explore: true }));
    // Uniform on 1..10: mean 5.5, a little more as a new hold repeats the last price 1 time in 21.
    expect(meanRunLength(heldActions)).toBeGreaterThan(5);
    expect(meanRunLength(heldActions)).toBeLessThan(6.5);
    expect(meanRunLength(plainActions)).toBeLessThan(1.2);
    expect(new Set(heldActions).size).toBe(actions);
    held.dispose();
    plain.dispose();
  });

  it('a steeper exponent gives shorter holds', async () => {
    const zeta = await create({ explorationHold: 10, explorationHoldExponent: 2 });
    const uniform = await create({ explorationHold: 10, explorationHoldExponent: 0 });
    const runOf = (agent: DqnAgent) => meanRunLength(Array.from({ length: 4000 }, () => agent.act(observation, { explore: true })));
    // zeta(2) truncated at 10: mean sum(1/n) / sum(1/n^2) = 2.93 / 1.55 = 1.89.
    expect(runOf(zeta)).toBeGreaterThan(1.6);
    expect(runOf(zeta)).toBeLessThan(2.3);
    expect(runOf(uniform)).toBeGreaterThan(5);
    zeta.dispose();
    uniform.dispose();
  });

  it('in actBatch, each market (row) holds its own price; greedy evaluation ignores holds', async () => {
    const agent = await create({ explorationHold: 10, explorationHoldExponent: 0 });
    const rows = 3;
    const out = new Int32Array(rows);
    const sequences: number[][] = [[], [], []];
    for (let step = 0; step < 3000; step++) {
      agent.actBatch(Float32Array.from({ length: rows * 2 }, () => 0.5), rows, { explore: true }, out);
      out.forEach((action, row) => sequences[row]!.push(action));
    }
    for (const sequence of sequences) expect(meanRunLength(sequence)).toBeGreaterThan(5);
    expect(sequences[0]).not.toEqual(sequences[1]);
    const greedy = agent.act(observation, { explore: false });
    for (let day = 0; day < 20; day++) expect(agent.act(observation, { explore: false })).toBe(greedy);
    agent.dispose();
  });
});
