/**
 * The stock potential (agents/stock-potential.ts) and DQN's use of it: potential-based
 * shaping of the salvage, so the stored rewards of an episode add up to the unshaped ones
 * (Ng et al. 1999: the shaping telescopes to -phi(s_0), and phi(s_0) = 0 before the window).
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AgentContext } from '../../agents/agent.js';
import { type DqnAgent, type DqnConfig, dqnConfigSchema, dqnDefinition } from '../../agents/dqn.js';
import { stockPotential } from '../../agents/stock-potential.js';
import { loadTensorflow } from '../../agents/tf-backend.js';
import { RandomStream } from '../../core/random.js';
import { box, discrete } from '../../env/spaces.js';

beforeAll(async () => {
  await loadTensorflow('wasm');
});

const horizon = 10;
const stockScale = 100;
const names = ['lastPrice', 'stockOnHand', 'stockOnOrder', 'daysLeft'];
const space = box(names, [0, 0, 0, 0], [1, 10, 10, 1], [20, stockScale, stockScale, horizon]);
const ladder = Float64Array.from([10, 15, 20]);
const context: AgentContext = { observationSpace: space, actionSpace: discrete(3), ladder, unitCost: 9, listPrice: 20, seed: 1 };

/** The observation on `day` with this stock (daysLeft = horizon - day, as env/observation.ts writes it). */
const observationAt = (day: number, onHand: number, onOrder: number) => Float32Array.from([0.75, onHand / stockScale, onOrder / stockScale, (horizon - day) / horizon]);

describe('the stock potential', () => {
  const potential = stockPotential(space, 4, 3);

  it('is -perUnit x (on hand + on order) on the last days, 0 before', () => {
    expect(potential.at(observationAt(0, 250, 50))).toBe(0);
    expect(potential.at(observationAt(6, 250, 50))).toBe(0); // 4 days left
    expect(potential.at(observationAt(7, 250, 50))).toBeCloseTo(-1_200, 3); // 3 days left
    expect(potential.at(observationAt(9, 100, 0))).toBeCloseTo(-400, 3);
  });

  it('refuses a window that opens on a day lastDays cannot tell from the day before, naming stockPotential', () => {
    // lastDays (days left capped at 4, here) is 1 both 5 and 4 days before the end: a 4-day window would book the position between them.
    const withLastDays = box([...names, 'lastDays'], [0, 0, 0, 0, 0], [1, 10, 10, 1, 1], [20, stockScale, stockScale, horizon, 4]);
    expect(() => stockPotential(withLastDays, 4, 4)).toThrow(expect.objectContaining({ kind: 'config', problems: [expect.objectContaining({ path: ['stockPotential'], message: expect.stringContaining('expected at most 3 days') })] }));
    expect(stockPotential(withLastDays, 4, 3).at(Float32Array.from([0.75, 1, 0, 3 / horizon, 3 / 4]))).toBeCloseTo(-400, 3);
  });

  it('names the features a market without stock lacks', () => {
    const noStock = box(['lastPrice', 'daysLeft'], [0, 0], [1, 1], [20, horizon]);
    expect(() => stockPotential(noStock, 4, 3)).toThrow(expect.objectContaining({ kind: 'config', problems: [expect.objectContaining({ path: ['stockPotential'], message: expect.stringContaining('"stockOnHand"') })] }));
  });
});

const configOf = (overrides: Partial<DqnConfig>): DqnConfig => dqnConfigSchema.parse({ backend: 'wasm', hiddenLayers: [8], learningStarts: 10_000, ...overrides });

/** Feeds one episode of `rewards` with random stock to the agent; returns what the replay stored, in order. */
async function storedRewards(overrides: Partial<DqnConfig>, rewards: readonly number[], stocks: readonly number[]): Promise<number[]> {
  const agent = (await dqnDefinition.create(configOf(overrides), context)) as DqnAgent;
  for (let day = 0; day < horizon; day++) {
    agent.observe({
      observation: observationAt(day, stocks[day]!, 0),
      action: 1,
      reward: rewards[day]!,
      nextObservation: observationAt(day + 1, stocks[day + 1]!, 0),
      terminated: false,
      truncated: day === horizon - 1,
    });
  }
  const stored = Array.from(agent.replay.rewards.subarray(0, agent.replay.size));
  agent.dispose();
  return stored;
}

describe('DQN with stockPotential', () => {
  it('stores r + gamma phi(s\') - phi(s), and an episode\'s shaped rewards add up to its rewards (gamma 1)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: -50, max: 300 }), { minLength: horizon, maxLength: horizon }), fc.array(fc.integer({ min: 0, max: 900 }), { minLength: horizon + 1, maxLength: horizon + 1 }), async (rewards, stocks) => {
        const shaped = await storedRewards({ stockPotential: 4, gamma: 1, horizonTerminal: true }, rewards, stocks);
        expect(shaped).toHaveLength(horizon);
        // Day 3 enters DQN's 6-day window (6 days left on day 4): the charge on day 4's stock is booked then.
        expect(shaped[2]).toBeCloseTo(rewards[2]!, 3);
        expect(shaped[3]).toBeCloseTo(rewards[3]! - 4 * stocks[4]!, 3);
        expect(shaped[8]).toBeCloseTo(rewards[8]! - 4 * stocks[9]! + 4 * stocks[8]!, 3);
        expect(shaped[9]).toBeCloseTo(rewards[9]! + 4 * stocks[9]!, 3); // the last day: no phi past the end
        expect(shaped.reduce((total, value) => total + value, 0)).toBeCloseTo(rewards.reduce((total, value) => total + value, 0), 2);
      }),
      { numRuns: 20 },
    );
  });

  it('leaves rewards alone when off, and discounts phi(s\') by gamma', async () => {
    const random = new RandomStream(5, 'stock-potential-test');
    const rewards = Array.from({ length: horizon }, () => Math.round(random.next() * 100));
    const stocks = Array.from({ length: horizon + 1 }, () => Math.round(random.next() * 900));
    expect(await storedRewards({}, rewards, stocks)).toEqual(rewards);
    const shaped = await storedRewards({ stockPotential: 4, gamma: 0.5 }, rewards, stocks);
    expect(shaped[7]).toBeCloseTo(rewards[7]! + 0.5 * -4 * stocks[8]! + 4 * stocks[7]!, 3);
  });
});
