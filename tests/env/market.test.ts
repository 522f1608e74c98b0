import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeEnv, rewardFromTerms, type StepInfo } from '../../env/env.js';
import { buildMarketModel } from '../../env/model.js';
import { MultiFirmMarket } from '../../env/multi-firm.js';
import { MarketSimulation } from '../../env/market.js';
import { PricelabError } from '../../core/errors.js';
import { linearOptimalPrice, constantElasticityOptimalPrice } from '../../env/textbook.js';
import { builtInScenarioIds, loadScenario, validateScenario } from '../../scenarios/load.js';
import type { Scenario, ScenarioInput } from '../../scenarios/schema.js';

const scenarios = Object.fromEntries(builtInScenarioIds().map((id) => [id, loadScenario(id).scenario])) as Record<string, Scenario>;
const models = Object.fromEntries(Object.entries(scenarios).map(([id, scenario]) => [id, buildMarketModel(scenario)]));

function episode(id: string, seed: number, actions: (day: number) => number, maxSteps = 400): StepInfo[] {
  const env = makeEnv(models[id]!, { maxSteps });
  env.reset({ seed });
  const steps: StepInfo[] = [];
  for (let day = 0; ; day++) {
    const result = env.step(actions(day) % env.actionSpace.n);
    steps.push(result.info);
    if (result.terminated || result.truncated) return steps;
  }
}

const scenarioIds = fc.constantFrom(...builtInScenarioIds());
const actionLists = fc.array(fc.nat(40), { minLength: 1, maxLength: 20 });

describe('market invariants (fast-check, every scenario, random seeds and policies)', () => {
  it('stock is never negative; units are conserved; returns never exceed sales; reward is the sum of its terms', () => {
    fc.assert(
      fc.property(scenarioIds, fc.nat(1_000_000), actionLists, (id, seed, actions) => {
        const steps = episode(id, seed, (day) => actions[day % actions.length]!, 120);
        let sold = 0;
        let returned = 0;
        let restocked = 0;
        const objective = scenarios[id]!.objective.kind;
        const env = makeEnv(models[id]!, { maxSteps: 120 });
        env.reset({ seed });
        for (const step of steps) {
          const market = step.market;
          expect(market.stockOnHand).toBeGreaterThanOrEqual(0);
          expect(market.sold).toBeGreaterThanOrEqual(0);
          expect(market.lostSales).toBeGreaterThanOrEqual(-1e-9);
          expect(market.sold + market.lostSales).toBeCloseTo(market.demand, 9);
          sold += market.sold;
          returned += market.unitsReturned;
          restocked += market.unitsRestocked;
          expect(returned).toBeLessThanOrEqual(sold + 1e-9);
          expect(restocked).toBeLessThanOrEqual(returned + 1e-9);
          expect(step.terms.refunds).toBeLessThanOrEqual(market.unitsReturned * Math.max(...step.prices, ...models[id]!.ladder) + 1e-9);
        }
        // reward = the objective's sum of the terms, step by step
        const replay = makeEnv(models[id]!, { maxSteps: 120 });
        replay.reset({ seed });
        steps.forEach((_, day) => {
          const result = replay.step(actions[day % actions.length]! % replay.actionSpace.n);
          expect(result.reward).toBeCloseTo(rewardFromTerms(result.info.terms, objective), 6);
        });
      }),
      { numRuns: 40 },
    );
  });

  it('the same seed replays the same episode', () => {
    fc.assert(
      fc.property(scenarioIds, fc.nat(1_000_000), actionLists, (id, seed, actions) => {
        const first = episode(id, seed, (day) => actions[day % actions.length]!, 90);
        const second = episode(id, seed, (day) => actions[day % actions.length]!, 90);
        expect(second).toEqual(first);
      }),
      { numRuns: 25 },
    );
  });
});

describe('common random numbers', () => {
  it('the same seed gives the same weather and the same rival noise whatever our prices', () => {
    const cheap = episode('steady-state-v1', 3, () => 0);
    const dear = episode('steady-state-v1', 3, () => 13);
    expect(cheap.map((step) => [step.market.weather, step.market.temperature])).toEqual(dear.map((step) => [step.market.weather, step.market.temperature]));
    // The boutique roaster walks at random and ignores us: its path is the same under both policies.
    expect(cheap.map((step) => step.prices[2])).toEqual(dear.map((step) => step.prices[2]));
  });

  it('the same customers: with the same seed a lower price never sells fewer units on any day', () => {
    const input = JSON.parse(JSON.stringify(scenarios['weather-sensitive-v1'])) as ScenarioInput & Record<string, unknown>;
    delete input.inventory;
    const scenario = validateScenario(input);
    const model = buildMarketModel(scenario);
    const run = (action: number) => {
      const env = makeEnv(model);
      env.reset({ seed: 11 });
      const units: number[] = [];
      for (;;) {
        const result = env.step(action);
        units.push(result.info.market.sold);
        if (result.truncated || result.terminated) return units;
      }
    };
    const low = run(2);
    const high = run(9);
    low.forEach((units, day) => expect(units).toBeGreaterThanOrEqual(high[day]!));
    expect(low.reduce((a, b) => a + b, 0)).toBeGreaterThan(high.reduce((a, b) => a + b, 0));
  });

  it("rivals' units drawn in the multi-firm view are Poisson around the single-agent view's expectation, and our customers are the same", () => {
    const model = models['steady-state-v1']!;
    const drawn = new MarketSimulation(model, { sampleRivalUnits: true });
    const expected = new MarketSimulation(model);
    const prices = new Float64Array(drawn.firmCount).fill(Number.NaN);
    let sum = 0;
    let mean = 0;
    let squares = 0;
    let days = 0;
    for (let seed = 1; seed <= 8; seed++) {
      drawn.reset(seed);
      expected.reset(seed);
      for (let day = 0; !drawn.ended; day++) {
        prices[0] = model.ladder[(day * 5 + seed) % model.ladder.length]!;
        const sampled = drawn.stepPrices(prices);
        const reference = expected.stepPrices(prices);
        expect(sampled.demand).toBe(reference.demand);
        for (let firm = 1; firm < drawn.firmCount; firm++) {
          const units = sampled.firmDemand[firm]!;
          const expectation = reference.firmDemand[firm]!;
          expect(Number.isInteger(units)).toBe(true);
          sum += units;
          mean += expectation;
          squares += (units - expectation) ** 2;
        }
        days++;
      }
    }
    expect(days).toBe(8 * model.horizon);
    // Poisson: the total is within 4 standard deviations of its mean; the mean squared deviation is the mean.
    expect(Math.abs(sum - mean)).toBeLessThan(4 * Math.sqrt(mean));
    expect(squares / mean).toBeGreaterThan(0.95);
    expect(squares / mean).toBeLessThan(1.05);
  });

  it.each(['steady-state-v1', 'singles-day-v1'])('%s: our units demanded (drawn per group of segments) are Poisson around the expected units of every segment', (id) => {
    const model = models[id]!;
    const market = new MarketSimulation(model);
    // Standardised residuals z = (units - mean) / sqrt(mean): mean 0 and mean square 1 under Poisson.
    let sumZ = 0;
    let sumZ2 = 0;
    let days = 0;
    for (let seed = 1; seed <= 8; seed++) {
      market.reset(seed);
      for (let day = 0; !market.ended; day++) {
        const action = (day * 5 + seed) % model.ladder.length;
        const expectation = market.expectedUnitsAt(model.ladder[action]!);
        const demand = market.stepIndex(action).demand;
        expect(Number.isInteger(demand)).toBe(true);
        const z = (demand - expectation) / Math.sqrt(expectation);
        sumZ += z;
        sumZ2 += z * z;
        days++;
      }
    }
    // Four standard errors: sd(z) = 1, sd(z^2) is about sqrt(2).
    expect(Math.abs(sumZ / days)).toBeLessThan(4 / Math.sqrt(days));
    expect(Math.abs(sumZ2 / days - 1)).toBeLessThan(4 * Math.sqrt(2 / days));
  });

  it('another seed gives another episode', () => {
    expect(episode('steady-state-v1', 1, () => 5)).not.toEqual(episode('steady-state-v1', 2, () => 5));
  });
});

describe('textbook demand: the env reproduces the analytic optima', () => {
  const textbook = (demand: ScenarioInput['demand'], unitCost: number, ladder: number[]): Scenario =>
    validateScenario({
      id: 'textbook-v1',
      version: 1,
      description: 'textbook',
      card: { models: 'a textbook demand curve', purpose: 'known answers' },
      startDate: '2026-01-01',
      horizonDays: 1,
      deterministic: true,
      unitCost,
      listPrice: ladder[ladder.length - 1]!,
      priceLadder: { kind: 'list', prices: ladder },
      demand,
    });
  const bestOnLadder = (scenario: Scenario) => {
    const model = buildMarketModel(scenario);
    let best = { price: 0, reward: Number.NEGATIVE_INFINITY };
    model.ladder.forEach((price, index) => {
      const env = makeEnv(model);
      env.reset({ seed: 1 });
      const reward = env.step(index).reward;
      if (reward > best.reward) best = { price, reward };
    });
    return best.price;
  };
  const grid = Array.from({ length: 1000 }, (_, index) => 0.05 + index * 0.05);

  it('linear q = a - b p: profit peaks at (a/b + c)/2', () => {
    const scenario = textbook({ kind: 'linear', intercept: 100, slope: 4, noise: 'none' }, 6, grid);
    expect(bestOnLadder(scenario)).toBeCloseTo(linearOptimalPrice(100, 4, 6), 1); // 15.5
    expect(linearOptimalPrice(100, 4, 6)).toBeCloseTo(15.5, 12);
  });

  it('constant elasticity q = A p^e: profit peaks at c e / (1 + e)', () => {
    const scenario = textbook({ kind: 'constant-elasticity', scale: 1000, elasticity: -2.62, noise: 'none' }, 6, grid);
    const optimum = constantElasticityOptimalPrice(-2.62, 6); // 9.7037...
    expect(optimum).toBeCloseTo((6 * -2.62) / (1 - 2.62), 12);
    expect(Math.abs(bestOnLadder(scenario) - optimum)).toBeLessThanOrEqual(0.025 + 1e-9);
  });
});

describe('returns, inventory and the end of the market', () => {
  it('fashion returns run 30-50% and rise with discount depth; refunds come days after the sale', () => {
    const rate = (action: number) => {
      let sold = 0;
      let returned = 0;
      for (const seed of [1, 2, 3]) {
        const steps = episode('fashion-returns-v1', seed, () => action);
        for (const step of steps) {
          sold += step.market.sold;
          returned += step.market.unitsReturned;
        }
      }
      return returned / sold;
    };
    const fullPrice = rate(10);
    const deepDiscount = rate(0);
    expect(fullPrice).toBeGreaterThan(0.28);
    expect(deepDiscount).toBeLessThan(0.55);
    expect(deepDiscount).toBeGreaterThan(fullPrice);
    const steps = episode('fashion-returns-v1', 4, () => 5);
    const firstSale = steps.findIndex((step) => step.market.sold > 0);
    const firstReturn = steps.findIndex((step) => step.market.unitsReturned > 0);
    expect(firstReturn - firstSale).toBeGreaterThanOrEqual(scenarios['fashion-returns-v1']!.returns!.minLagDays);
  });

  it('replenishment orders arrive exactly one lead time after they are placed', () => {
    const lead = 5; // steady-state-v1
    const steps = episode('steady-state-v1', 9, () => 0);
    const orders = steps.filter((step) => step.market.unitsOrdered > 0);
    expect(orders.length).toBeGreaterThan(2);
    for (const order of orders) {
      const arrival = steps[order.day + lead];
      if (arrival) expect(arrival.market.unitsArrivedFromOrders).toBeCloseTo(order.market.unitsOrdered, 9);
    }
  });

  it('a market that sells out without replenishment terminates, and stepping on is refused', () => {
    const busy = validateScenario({ ...scenarios['markdown-gvr-v1']!, demand: { kind: 'exponential', scale: 60, sensitivity: 1, periodLength: 0.01, arrivals: 'at-most-one' } });
    const env = makeEnv(busy);
    env.reset({ seed: 1 });
    let result;
    do result = env.step(0);
    while (!result.terminated && !result.truncated);
    expect(result.terminated).toBe(true);
    expect(result.info.market.stockOnHand).toBe(0);
    expect(result.info.episode?.units).toBe(10);
    expect(() => env.step(0)).toThrow(PricelabError);
    expect(() => env.step(0)).toThrow(/reset/);
  });

  it('loyal customers churn when we sit above their reference price, and stay when we do not', () => {
    const lost = (action: number) => episode('year-round-v1', 5, () => action).reduce((total, step) => total + step.market.customersLost, 0);
    expect(lost(16)).toBeGreaterThan(100);
    expect(lost(16)).toBeGreaterThan(lost(8) * 5);
  });

  it('the runaway ratio bots of price-war-v1 stop at their sanity ceiling, and the two-bound rival cycles', () => {
    const steps = episode('price-war-v1', 1, () => 4);
    const botB = steps.map((step) => step.prices[4]!);
    expect(Math.max(...botB)).toBeCloseTo(60, 9);
    expect(botB[40]).toBeCloseTo(60, 9);
    const cycler = steps.map((step) => step.prices[2]!);
    const jumps = cycler.filter((price, day) => day > 0 && price > cycler[day - 1]! + 1).length;
    expect(jumps).toBeGreaterThanOrEqual(3);
  });
});

describe('the multi-firm view', () => {
  it('at the Nash prices of calvano-duopoly-v1 both firms earn the Nash profit each period', () => {
    const market = new MultiFirmMarket(scenarios['calvano-duopoly-v1']!);
    market.reset(1);
    const nash = 1.47292666003;
    for (let period = 0; period < 5; period++) {
      const step = market.stepPrices([nash, nash]);
      expect(step.rewards[0]).toBeCloseTo(0.22292666, 7);
      expect(step.rewards[1]).toBeCloseTo(0.22292666, 7);
    }
  });

  it('learners pick ladder indices; NaN / -1 leaves a rival to its strategy; bad input is refused', () => {
    const market = new MultiFirmMarket(scenarios['calvano-duopoly-v1']!);
    market.reset(1);
    const step = market.stepIndices([14, 14]);
    expect(step.prices[0]).toBeCloseTo(market.ladder[14]!, 12);
    const reacting = market.stepIndices([14, -1]);
    expect(reacting.prices[1]).toBeLessThan(market.ladder[14]!); // best response to a high price undercuts it
    expect(() => market.stepIndices([0])).toThrow(/2 ladder indices/);
    expect(() => market.stepPrices([Number.NaN, 1])).toThrow(/firm 0/);
  });

  it('the Calvano ladder is the 15-point grid spanning Nash and monopoly, extended by 10%', () => {
    const ladder = models['calvano-duopoly-v1']!.ladder;
    const nash = 1.47292666003;
    const monopoly = 1.92498091902;
    expect(ladder.length).toBe(15);
    expect(ladder[0]).toBeCloseTo(nash - 0.1 * (monopoly - nash), 9);
    expect(ladder[14]).toBeCloseTo(monopoly + 0.1 * (monopoly - nash), 9);
  });
});

describe('observation', () => {
  it('names every feature once, and tomorrow\'s forecast is the next day\'s weather', () => {
    const env = makeEnv(models['weather-sensitive-v1']!);
    const names = env.observationSpace.featureNames;
    expect(new Set(names).size).toBe(names.length);
    let { observation } = env.reset({ seed: 2 });
    const forecastIndex = names.map((name, index) => (name.startsWith('forecast:') ? index : -1)).filter((index) => index >= 0);
    const todayIndex = names.map((name, index) => (name.startsWith('weather:') ? index : -1)).filter((index) => index >= 0);
    for (let day = 0; day < 60; day++) {
      const forecast = forecastIndex.map((index) => observation[index]);
      observation = env.step(3).observation;
      expect(todayIndex.map((index) => observation[index])).toEqual(forecast);
    }
  });
});
