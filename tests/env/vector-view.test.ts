import { describe, expect, it } from 'vitest';
import { episodeSeed } from '../../core/seeds.js';
import type { EpisodeKpis } from '../../env/kpis.js';
import { MarketSimulation } from '../../env/market.js';
import { buildMarketModel } from '../../env/model.js';
import { ObservationWriter } from '../../env/observation.js';
import { VectorEnv } from '../../env/vector-env.js';
import { loadScenario } from '../../scenarios/load.js';

/**
 * The vector env and the single market are two views of one simulator: market i of a vector
 * env seeded s steps exactly as a MarketSimulation reset with episodeSeed(s, i, k) for its
 * k-th episode (rewards, observations, final observations and KPIs, bit for bit). This is the
 * acceptance test of any faster vector kernel: it must change nothing a learner sees.
 */
describe('the vector env is the single market, stepped N at a time', () => {
  it.each(['steady-state-v1', 'singles-day-v1', 'fashion-returns-v1', 'price-war-v1'])('%s: the same rewards, observations and KPIs, across an episode boundary', (id) => {
    const model = buildMarketModel(loadScenario(id).scenario);
    const count = 3;
    const seed = 7;
    const finished: Array<[number, EpisodeKpis]> = [];
    const vector = new VectorEnv(model, { count, seed, onEpisodeEnd: (market, kpis) => finished.push([market, kpis]) });
    vector.reset();
    const writer = new ObservationWriter(model);
    const features = vector.featureCount;
    const markets = Array.from({ length: count }, (_, index) => {
      const market = new MarketSimulation(model);
      market.reset(episodeSeed(seed, index, 0));
      return market;
    });
    const episodes = new Array<number>(count).fill(0);
    const expected = new Float32Array(features);
    const row = (array: Float32Array, index: number) => Array.from(array.subarray(index * features, (index + 1) * features));
    let checkedEnds = 0;
    for (let step = 0; step < model.horizon + 25; step++) {
      const actions = Int32Array.from({ length: count }, (_, index) => (step * 3 + index * 5) % model.ladder.length);
      vector.step(actions);
      for (let index = 0; index < count; index++) {
        const market = markets[index]!;
        const outcome = market.stepIndex(actions[index]!);
        expect(vector.rewards[index], `${id} market ${index} step ${step}`).toBe(outcome.reward);
        if (market.ended) {
          writer.write(market, expected);
          expect(row(vector.finalObservations, index)).toEqual(Array.from(expected));
          const reported = finished.find(([marketIndex]) => marketIndex === index);
          expect(reported?.[1]).toEqual(market.episodeKpis());
          finished.splice(finished.indexOf(reported!), 1);
          market.reset(episodeSeed(seed, index, ++episodes[index]!));
          checkedEnds++;
        }
        writer.write(market, expected);
        expect(row(vector.observations, index), `${id} market ${index} step ${step}`).toEqual(Array.from(expected));
      }
    }
    expect(checkedEnds).toBeGreaterThanOrEqual(count);
    expect(finished).toEqual([]);
  });
});
