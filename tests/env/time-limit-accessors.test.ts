import { describe, expect, it } from 'vitest';
import { makeEnv } from '../../env/env.js';
import { buildMarketModel } from '../../env/model.js';
import { loadScenario } from '../../scenarios/load.js';

describe('TimeLimit exposes the wrapped market (no reach-through to inner)', () => {
  it('model, market and features are the wrapped MarketEnv\'s, and the market is the one that steps', () => {
    const model = buildMarketModel(loadScenario('steady-state-v1').scenario);
    const env = makeEnv(model, { maxSteps: 5 });
    expect(env.model).toBe(model);
    expect(env.market).toBe(env.inner.market);
    expect(env.features).toBe(env.inner.features);
    expect(env.features.map((feature) => feature.name)).toEqual(env.observationSpace.featureNames);
    env.reset({ seed: 3 });
    const { info } = env.step(0);
    expect(env.market.day).toBe(info.day + 1);
    expect(env.market.stockOnHand).toBe(info.market.stockOnHand);
  });
});
