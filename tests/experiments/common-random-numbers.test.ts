/**
 * Common random numbers shrink the variance of paired differences (design.md,
 * "Statistics"): two fixed prices evaluated on the same evaluation seeds see the same
 * customers, weather and rival noise, so most of the noise cancels in their difference.
 * Evaluated on independent seeds, it adds up instead. On steady-state-v1 (Poisson
 * customers, weather, returns, a random-walk rival) the paired variance must be far smaller.
 */
import { describe, expect, it } from 'vitest';
import { makeEnv } from '../../env/env.js';
import { buildMarketModel } from '../../env/model.js';
import { compare, evaluationSeedOf } from '../../experiments/compare.js';
import { agentFor } from '../../experiments/setup.js';
import { sampleVariance } from '../../experiments/statistics/index.js';
import { evaluate } from '../../experiments/train.js';
import { loadScenario } from '../../scenarios/load.js';

const seeds = 16;
const episodes = 2;

describe('common random numbers', () => {
  it('make the variance of paired profit differences between two fixed prices less than a quarter of that on independent seeds', async () => {
    const { summary } = await compare({ scenario: 'steady-state-v1', arms: ['low=fixed:17.99', 'high=fixed:18.99'], seeds, evaluationEpisodes: episodes, trainingSteps: 1 });
    const perSeed = (arm: string) => summary.perSeed.filter((row) => row.arm === arm).sort((a, b) => a.seed - b.seed).map((row) => row.kpis.profit ?? Number.NaN);
    const low = perSeed('low');
    const high = perSeed('high');
    const paired = high.map((value, index) => value - (low[index] ?? Number.NaN));

    // The same high-price arm on other seeds (disjoint from every seed the comparison used).
    const model = buildMarketModel(loadScenario('steady-state-v1').scenario);
    const env = makeEnv(model);
    const agent = await agentFor(env, 'fixed-price', { price: 18.99 }, 0);
    const independentHigh = summary.seeds.map((seed) => {
      const runs = evaluate(env, agent, { episodes, seed: evaluationSeedOf(seed + 500, 0) });
      return runs.reduce((total, run) => total + run.kpis.profit, 0) / runs.length;
    });
    const independent = independentHigh.map((value, index) => value - (low[index] ?? Number.NaN));

    const pairedVariance = sampleVariance(paired);
    const independentVariance = sampleVariance(independent);
    expect(pairedVariance).toBeGreaterThan(0);
    expect(pairedVariance).toBeLessThan(independentVariance / 4);
    // The comparison reports exactly the paired spread.
    const reported = summary.comparisons.find((comparison) => comparison.arm === 'high' && comparison.kpi === 'profit');
    expect(reported?.sdOfDifferences).toBeCloseTo(Math.sqrt(pairedVariance), 6);
  });
});
