/**
 * Sales logs simulated by the market itself, for known-answer tests of calibration: a
 * one-segment version of steady-state-v1 (no reference prices, loyalty, returns or stock
 * limits, so units are the simulator's Poisson(arrivals x logit share) exactly) priced by an
 * exploring policy that draws a ladder price uniformly each day from the seeded
 * exploration stream. Rival prices (an undercutter that reacts to us and a random walk) and
 * arrivals (traffic) are logged as a shop would see them.
 */
import { buildMarketModel } from '../../env/model.js';
import { MarketSimulation } from '../../env/market.js';
import { RandomStream } from '../../core/random.js';
import { loadScenario } from '../../scenarios/load.js';
import type { Scenario } from '../../scenarios/schema.js';

export interface SimulatedLog {
  readonly csv: string;
  readonly scenario: Scenario;
  /** Mean of each rival's logged price. */
  readonly meanRivalPrices: number[];
  readonly meanTraffic: number;
}

/** steady-state-v1 with one segment (the bargain hunters, no reference price) and nothing that censors or shifts units. */
export function oneSegmentScenario(): Scenario {
  const base = loadScenario('steady-state-v1').scenario;
  if (base.demand.kind !== 'logit') throw new Error('steady-state-v1 has logit demand');
  const segment = { ...base.demand.segments[0]! };
  delete segment.referencePrice;
  delete segment.loyalty;
  const scenario: Scenario = { ...base, demand: { ...base.demand, segments: [segment] } };
  delete scenario.inventory;
  delete scenario.returns;
  return scenario;
}

export function simulateSalesLog(scenario: Scenario, seed: number, days = scenario.horizonDays): SimulatedLog {
  const model = buildMarketModel(scenario);
  const market = new MarketSimulation(model);
  market.reset(seed);
  const exploration = new RandomStream(seed, 'exploration');
  const rivals = model.rivals.length;
  const header = ['date', 'units', 'price', 'traffic', ...model.rivals.map((rival) => `price_${rival.name}`)];
  const lines = [header.join(',')];
  const rivalTotals = new Array<number>(rivals).fill(0);
  let traffic = 0;
  const start = Date.parse(`${scenario.startDate}T00:00:00Z`);
  for (let day = 0; day < days; day++) {
    const action = Math.floor(exploration.next() * model.ladder.length);
    const outcome = market.stepIndex(action);
    const rivalPrices = Array.from(outcome.prices.subarray(1, 1 + rivals));
    rivalPrices.forEach((price, index) => (rivalTotals[index] = (rivalTotals[index] ?? 0) + price));
    traffic += outcome.arrivals;
    const date = new Date(start + day * 86_400_000).toISOString().slice(0, 10);
    lines.push([date, outcome.demand, outcome.price, outcome.arrivals, ...rivalPrices].join(','));
  }
  return { csv: `${lines.join('\n')}\n`, scenario, meanRivalPrices: rivalTotals.map((total) => total / days), meanTraffic: traffic / days };
}
