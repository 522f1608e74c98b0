/**
 * Learning competitors (experiments/competition.ts, env/firm-view.ts): independent
 * Q-learners in the Calvano duopoly price above the one-shot Nash price, a bandit plays a
 * rival of the steady-state market, runs are deterministic, bad firm indices are refused.
 *
 * Budget of the collusion test: 1,000,000 periods (1,000 episodes of 1,000 days), beta 1e-5
 * (exploration exp(-10) at the end), alpha 0.15, gamma 0.95, about 2 s per seed. Over seeds
 * 1..24 every firm's mean price over the last 100,000 periods was 1.62..1.82 (Nash 1.4729,
 * monopoly 1.9250) and the profit-gain index 0.48..0.87.
 */
import { describe, expect, it } from 'vitest';
import { ladderDiscretisation, runCompetition, type CompetitionResult } from '../../experiments/competition.js';
import { PricelabError } from '../../core/errors.js';
import { FirmView } from '../../env/firm-view.js';
import { MarketSimulation } from '../../env/market.js';
import { buildMarketModel } from '../../env/model.js';
import { loadScenario } from '../../scenarios/load.js';

const calvano = loadScenario('calvano-duopoly-v1').scenario;
const nashPrice = 1.4729266600;

const qLearner = (firm: number) => ({
  firm,
  kind: 'q-learning',
  config: { alpha: 0.15, gamma: 0.95, exploration: { kind: 'exponential', beta: 1e-5 }, discretisation: ladderDiscretisation(calvano) },
});

describe('FirmView', () => {
  it('names every firm\'s price and daysLeft, and observes the market from each firm', () => {
    const model = buildMarketModel(loadScenario('steady-state-v1').scenario);
    const market = new MarketSimulation(model, { sampleRivalUnits: true });
    const view = new FirmView(market);
    market.reset(1);
    expect(view.featureNames).toEqual(['price:focal', 'price:mass-merchant', 'price:boutique-roaster', 'daysLeft']);
    const { observationSpace, actionSpace } = view.spacesOf(2);
    expect(actionSpace.n).toBe(model.ladder.length);
    const observation = view.observe(2, new Float32Array(4));
    expect(observationSpace.contains(observation)).toBe(true);
    expect(observation[1]! * observationSpace.scales[1]!).toBeCloseTo(market.lastPrices[1]!, 4);
    expect(observation[3]).toBe(1);
    expect(() => view.spacesOf(3)).toThrow(/firm index in 0\.\.2/);
  });
});

describe('runCompetition', () => {
  it.each([1, 2])('two Q-learners in the Calvano duopoly price above the one-shot Nash price (seed %i)', async (seed) => {
    const result = await runCompetition({ scenario: calvano, learners: [qLearner(0), qLearner(1)], steps: 1_000_000, seed, evaluationEpisodes: 1 });
    expect(result.steps).toBe(1_000_000);
    expect(result.tail.periods).toBe(100_000);
    for (const price of result.tail.meanPrices) expect(price).toBeGreaterThan(nashPrice + 0.05);
    for (const price of result.evaluation!.meanPrices) expect(price).toBeGreaterThan(nashPrice + 0.05);
    expect(result.benchmarks!.nashPrices[0]).toBeCloseTo(nashPrice, 6);
    expect(result.profitGain!.finalPrices.mean).toBeGreaterThan(0.2);
    expect(result.profitGain!.tail.mean).toBeGreaterThan(0.2);
    expect(result.lastPrices).toHaveLength(20);
    expect(result.exports.map((entry) => [entry.firm, entry.export.kind])).toEqual([
      [0, 'q-learning'],
      [1, 'q-learning'],
    ]);
  });

  it('a bandit plays the mass merchant in steady-state-v1 while the focal firm keeps a fixed price', async () => {
    const options = { scenario: 'steady-state-v1', steps: 20_000, seed: 3 };
    const rule = await runCompetition({ ...options, learners: [{ firm: 0, kind: 'fixed-price', config: { price: 19.99 } }] });
    const learning = await runCompetition({ ...options, learners: [{ firm: 0, kind: 'fixed-price', config: { price: 19.99 } }, { firm: 1, kind: 'epsilon-greedy', config: { epsilon: 0.1 } }] });
    expect(learning.firmNames).toEqual(['focal', 'mass-merchant', 'boutique-roaster']);
    expect(learning.tail.meanPrices[0]).toBeCloseTo(19.99, 6);
    // The learning rival earns clearly more than its undercut rule did (measured about 1.45x over seeds 1..5).
    expect(learning.tail.meanRewards[1]!).toBeGreaterThan(1.2 * rule.tail.meanRewards[1]!);
    // The boutique roaster kept its random walk, on the same random numbers.
    expect(learning.tail.meanPrices[2]).toBeCloseTo(rule.tail.meanPrices[2]!, 9);
    expect(learning.profitGain).toBeUndefined();
  });

  it('both firms can learn at once (epsilon-greedy against UCB1)', async () => {
    const result = await runCompetition({ scenario: 'steady-state-v1', learners: [{ firm: 0, kind: 'epsilon-greedy' }, { firm: 1, kind: 'ucb1' }], episodes: 5, seed: 4 });
    expect(result.episodes).toBe(5);
    expect(result.steps).toBe(5 * 365);
    const ladder = buildMarketModel(loadScenario('steady-state-v1').scenario).ladder;
    for (const prices of result.lastPrices) {
      expect(ladder).toContain(prices[0]);
      expect(ladder).toContain(prices[1]);
    }
    expect(result.exports.map((entry) => entry.export.kind)).toEqual(['epsilon-greedy', 'ucb1']);
  });

  it('is deterministic: the same seed gives the same result', async () => {
    const run = async (seed: number): Promise<CompetitionResult> => {
      const result = await runCompetition({ scenario: calvano, learners: [qLearner(0), qLearner(1)], steps: 30_000, seed, evaluationEpisodes: 1 });
      return { ...result, seconds: 0 }; // wall-clock time is the one thing allowed to differ
    };
    const first = await run(7);
    expect(await run(7)).toEqual(first);
    expect((await run(8)).lastPrices).not.toEqual(first.lastPrices);
  });

  it('refuses a learner on a firm that does not exist, and a market without an agent for firm 0', async () => {
    const refusal = runCompetition({ scenario: calvano, learners: [qLearner(0), { firm: 2, kind: 'epsilon-greedy' }], steps: 10, seed: 1 });
    await expect(refusal).rejects.toThrow(PricelabError);
    await expect(refusal).rejects.toThrow(/learners\[1\]\.firm: expected a firm index in 0\.\.1 \(0 focal, 1 rival\), found 2/);
    await expect(runCompetition({ scenario: calvano, learners: [{ firm: 1, kind: 'epsilon-greedy' }], steps: 10, seed: 1 })).rejects.toThrow(/agent for firm 0/);
  });
});
