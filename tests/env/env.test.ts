import { describe, expect, it } from 'vitest';
import { checkScenario } from '../../env/checker.js';
import { makeEnv } from '../../env/env.js';
import { PricelabError } from '../../core/errors.js';
import { buildMarketModel } from '../../env/model.js';
import { VectorEnv } from '../../env/vector-env.js';
import { builtInScenarioIds, loadScenario } from '../../scenarios/load.js';
import type { EpisodeKpis } from '../../env/kpis.js';

describe('the env checker passes on every built-in scenario', () => {
  it.each(builtInScenarioIds())('%s', (id) => {
    const report = checkScenario(loadScenario(id).scenario, { maxSteps: 200 });
    const failed = report.checks.filter((check) => check.status === 'failed');
    expect(failed).toEqual([]);
    expect(report.checks.filter((check) => check.status === 'passed').length).toBeGreaterThanOrEqual(7);
  });

  it('a skipped check says why (deterministic Calvano market)', () => {
    const report = checkScenario(loadScenario('calvano-duopoly-v1').scenario, { maxSteps: 50 });
    const skipped = report.checks.find((check) => check.name === 'another seed, another episode');
    expect(skipped?.status).toBe('skipped');
    expect(skipped?.detail).toMatch(/no random numbers/);
  });
});

describe('Gymnasium contract', () => {
  const model = buildMarketModel(loadScenario('steady-state-v1').scenario);

  it('step before reset is refused, spaces describe the ladder and the named features', () => {
    const env = makeEnv(model);
    expect(() => env.step(0)).toThrow(PricelabError);
    expect(env.actionSpace.n).toBe(model.ladder.length);
    expect(env.observationSpace.shape[0]).toBe(env.observationSpace.featureNames.length);
    const { observation, info } = env.reset({ seed: 3 });
    expect(observation.length).toBe(env.observationSpace.shape[0]);
    expect(info.seed).toBe('3');
  });

  it('every observation is an array of its own: one kept across 200 steps (several blocks) still holds its values', () => {
    const env = makeEnv(model);
    const kept: Float32Array[] = [env.reset({ seed: 5 }).observation];
    const copies: number[][] = [Array.from(kept[0]!)];
    for (let step = 0; step < 200; step++) {
      const { observation } = env.step(step % env.actionSpace.n);
      kept.push(observation);
      copies.push(Array.from(observation));
    }
    expect(new Set(kept).size).toBe(kept.length);
    kept.forEach((observation, index) => {
      expect(observation.length).toBe(env.observationSpace.shape[0]);
      expect(Array.from(observation)).toEqual(copies[index]);
    });
    // observing again gives a new array with the last step's values
    expect(Array.from(env.inner.observe())).toEqual(copies[copies.length - 1]);
  });

  it('TimeLimit owns truncation: truncated exactly at maxSteps, the inner env never truncates', () => {
    const env = makeEnv(model, { maxSteps: 10 });
    env.reset({ seed: 1 });
    for (let step = 1; step <= 10; step++) {
      const result = env.step(2);
      expect(result.truncated).toBe(step === 10);
      expect(result.terminated).toBe(false);
    }
    expect(() => env.step(2)).toThrow(/truncated after 10 steps/);
  });

  it('info carries every reward term and the raw market state; the last step carries the episode KPIs', () => {
    const env = makeEnv(model);
    env.reset({ seed: 1 });
    const first = env.step(4);
    expect(Object.keys(first.info.terms).sort()).toEqual(['churnPenalty', 'costOfGoods', 'handlingCost', 'holdingCost', 'refunds', 'restockedValue', 'revenue', 'salvage', 'stockoutPenalty'].sort());
    expect(first.info.prices.length).toBe(3);
    expect(first.info.market.weather).toMatch(/sunny|cloudy|rain|storm/);
    let last = first;
    while (!last.truncated) last = env.step(4);
    const kpis = last.info.episode!;
    expect(kpis.days).toBe(365);
    expect(kpis.netRevenue).toBeCloseTo(kpis.gmv - kpis.refunds, 6);
    expect(kpis.returnRate).toBeGreaterThan(0);
    expect(kpis.priceIndex).not.toBeNull();
  });

  it('reset without a seed moves on to a new episode; with the same seed it replays', () => {
    const env = makeEnv(model);
    const a = env.reset({ seed: 5 }).observation;
    const stepA = env.step(3).reward;
    env.reset();
    const stepB = env.step(3).reward;
    env.reset({ seed: 5 });
    expect(env.step(3).reward).toBe(stepA);
    expect(stepB).not.toBe(stepA);
    expect(a.length).toBeGreaterThan(0);
  });
});

describe('vector env', () => {
  it('steps N markets over typed arrays and auto-resets finished episodes', () => {
    const model = buildMarketModel(loadScenario('markdown-gvr-v1').scenario);
    const finished: EpisodeKpis[] = [];
    const env = new VectorEnv(model, { count: 4, seed: 2, onEpisodeEnd: (_, kpis) => finished.push(kpis) });
    env.reset();
    const actions = new Int32Array(4).fill(0);
    for (let step = 0; step < 300; step++) env.step(actions);
    expect(finished.length).toBeGreaterThanOrEqual(4);
    expect(Array.from(env.episodesFinished).every((count) => count >= 1)).toBe(true);
    for (const kpis of finished) expect(kpis.units).toBeLessThanOrEqual(10);
    expect(env.observations.length).toBe(4 * env.featureCount);
    expect(() => env.step(new Int32Array(3))).toThrow(/4 actions/);
  });
});

describe('observation writers', () => {
  it('the fast writer equals the reference writer, feature by feature, on every scenario', async () => {
    const { ObservationWriter, writeObservation } = await import('../../env/observation.js');
    const { MarketSimulation } = await import('../../env/market.js');
    for (const id of builtInScenarioIds()) {
      const model = buildMarketModel(loadScenario(id).scenario);
      const writer = new ObservationWriter(model);
      const market = new MarketSimulation(model);
      market.reset(4);
      const fast = new Float32Array(writer.features.length);
      const reference = new Float32Array(writer.features.length);
      for (let day = 0; day < model.horizon && !market.ended; day++) {
        writer.write(market, fast);
        writeObservation(writer.features, market, reference);
        expect(Array.from(fast), `${id} day ${day}`).toEqual(Array.from(reference));
        market.stepIndex(day % model.ladder.length);
      }
    }
  });
});

describe('the end of the horizon and the reorder point, observed', () => {
  it('lastDays resolves the last week; reorderHeadroom is the stock position over the reorder point', () => {
    const model = buildMarketModel(loadScenario('steady-state-v1').scenario);
    const env = makeEnv(model);
    const names = env.observationSpace.featureNames;
    const [lastDays, headroom] = [names.indexOf('lastDays'), names.indexOf('reorderHeadroom')];
    expect(lastDays).toBeGreaterThan(names.indexOf('daysLeft'));
    expect(headroom).toBeGreaterThan(-1);
    const replenishment = model.scenario.inventory?.replenishment;
    const reorderPoint = replenishment?.kind === 'periodic-review' ? replenishment.reorderPoint : Number.NaN;
    let observation = env.reset({ seed: 3 }).observation;
    let sawNegative = false;
    for (let day = 0; day < model.horizon; day++) {
      expect(observation[lastDays], `day ${day}`).toBeCloseTo(Math.min(7, model.horizon - day) / 7, 6);
      const result = env.step(day % 9);
      if (day + 1 < model.horizon) {
        const expected = (result.info.market.stockOnHand + result.info.market.stockOnOrder - reorderPoint) / model.stockScale;
        expect(result.observation[headroom], `day ${day + 1}`).toBeCloseTo(expected, 5);
        sawNegative ||= expected < 0;
      }
      observation = result.observation;
    }
    expect(sawNegative).toBe(true); // cheap days sell the position below the reorder point before a review
  });

  it('a market without periodic review has no reorderHeadroom; a horizon of a week or less no lastDays', () => {
    for (const id of builtInScenarioIds()) {
      const model = buildMarketModel(loadScenario(id).scenario);
      const names = makeEnv(model).observationSpace.featureNames;
      expect(names.includes('reorderHeadroom'), id).toBe(model.scenario.inventory?.replenishment.kind === 'periodic-review');
      expect(names.includes('lastDays'), id).toBe(model.horizon > 7);
    }
  });
});

describe('vector env final observations', () => {
  it('keeps the last observation of an episode that just ended (Gymnasium final_observation)', async () => {
    const { ObservationWriter } = await import('../../env/observation.js');
    const { MarketSimulation } = await import('../../env/market.js');
    const { episodeSeed } = await import('../../core/seeds.js');
    const model = buildMarketModel(loadScenario('markdown-gvr-v1').scenario);
    const env = new VectorEnv(model, { count: 1, seed: 3 });
    env.reset();
    const shadow = new MarketSimulation(model);
    shadow.reset(episodeSeed(3, 0, 0));
    const writer = new ObservationWriter(model);
    const expected = new Float32Array(env.featureCount);
    for (let step = 0; step < 100; step++) {
      env.step([29]);
      shadow.stepIndex(29);
      if (env.terminated[0] || env.truncated[0]) break;
    }
    writer.write(shadow, expected);
    expect(env.truncated[0] || env.terminated[0]).toBe(1);
    expect(Array.from(env.finalObservations)).toEqual(Array.from(expected));
    expect(env.observations[env.featureCount - 1]).not.toBe(expected[env.featureCount - 1]);
  });
});

describe('units by segment', () => {
  it.each(['steady-state-v1', 'singles-day-v1', 'fashion-returns-v1'])('%s: the segments add up to the day\'s demand, sales and lost sales, ', (id) => {
    const env = makeEnv(buildMarketModel(loadScenario(id).scenario));
    const names = env.inner.model.segments.map((segment) => segment.name);
    env.reset({ seed: 3 });
    let sawStockout = false;
    for (let day = 0; day < 365; day++) {
      // The cheapest price every day runs steady-state-v1 and fashion-returns-v1 out of stock: censored sales are split too.
      const { info, terminated, truncated } = env.step(0);
      const segments = info.market.segments;
      expect(segments.map((segment) => segment.name)).toEqual(names);
      const sum = (pick: (segment: (typeof segments)[number]) => number) => segments.reduce((total, segment) => total + pick(segment), 0);
      expect(sum((segment) => segment.demand)).toBeCloseTo(info.market.demand, 9);
      expect(sum((segment) => segment.sold)).toBeCloseTo(info.market.sold, 9);
      expect(sum((segment) => segment.lostSales)).toBeCloseTo(info.market.lostSales, 9);
      for (const segment of segments) {
        expect(segment.sold).toBeGreaterThanOrEqual(0);
        expect(segment.lostSales).toBeGreaterThanOrEqual(-1e-9);
      }
      if (info.market.lostSales > 0) sawStockout = true;
      if (terminated || truncated) break;
    }
    if (id !== 'singles-day-v1') expect(sawStockout).toBe(true);
  });
});
