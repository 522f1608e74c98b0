/**
 * The bandits (epsilon-greedy, UCB1, Thompson sampling, LinUCB): known answers on a linear
 * market, adaptation when the optimum moves, determinism, actions within the space,
 * export/restore, config validation, and the shared arm statistics.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { agentContextOf, type Agent, type AgentContext } from '../../agents/agent.js';
import { ArmStatistics, type NonStationary } from '../../agents/bandit-statistics.js';
import type { AgentDefinition } from '../../agents/definition.js';
import { epsilonGreedyDefinition } from '../../agents/epsilon-greedy.js';
import { linUcbDefinition, type LinUcbAgent } from '../../agents/linucb.js';
import { thompsonDefinition } from '../../agents/thompson.js';
import { ucb1Definition } from '../../agents/ucb1.js';
import { makeEnv, type TimeLimit } from '../../env/env.js';
import { PricelabError } from '../../core/errors.js';
import { box, discrete } from '../../env/spaces.js';
import { linearOptimalPrice } from '../../env/textbook.js';
import { loadScenario, validateScenario } from '../../scenarios/load.js';
import type { Scenario } from '../../scenarios/schema.js';

// The known-answer market: q = a - b p with Poisson noise, unit cost c; the ladder holds the optimum (a/b + c)/2 exactly.
const ladder = [7.5, 9.5, 11.5, 13.5, 15.5, 17.5, 19.5, 21.5, 23.5, 25.5];
const slope = 40;
const unitCost = 6;
const intercept = 1000; // optimum (25 + 6)/2 = 15.5
const laterIntercept = 1320; // optimum (33 + 6)/2 = 19.5

function linearMarket(a: number): Scenario {
  return validateScenario({
    id: 'linear-bandit-v1',
    version: 1,
    description: 'linear demand with Poisson noise',
    card: { models: 'q = a - b p, Poisson units, unit cost 6', purpose: 'known-answer bandit tests' },
    startDate: '2026-01-01',
    horizonDays: 3650,
    unitCost,
    listPrice: 25.5,
    priceLadder: { kind: 'list', prices: ladder },
    demand: { kind: 'linear', intercept: a, slope, noise: 'poisson' },
  });
}

const optimalIndex = (a: number) => ladder.indexOf(linearOptimalPrice(a, slope, unitCost));
const expectedProfit = (a: number, index: number) => (ladder[index]! - unitCost) * Math.max(0, a - slope * ladder[index]!);

interface Variant {
  readonly name: string;
  readonly definition: AgentDefinition;
  readonly config: Record<string, unknown>;
}

const sliding = (window: number) => ({ nonStationary: { kind: 'sliding-window', window } });
const discounted = (gamma: number) => ({ nonStationary: { kind: 'discounted', gamma } });
const classic = [
  ['epsilon-greedy', epsilonGreedyDefinition],
  ['ucb1', ucb1Definition],
  ['thompson', thompsonDefinition],
] as const;

/** Every classic bandit plain, with a sliding window and discounted, plus LinUCB with only the bias. */
function variants(window: number, gamma: number): Variant[] {
  return [
    ...classic.flatMap(([name, definition]) => [
      { name, definition, config: {} },
      { name: `${name}, sliding window ${window}`, definition, config: sliding(window) },
      { name: `${name}, discounted ${gamma}`, definition, config: discounted(gamma) },
    ]),
    { name: 'linucb, bias only', definition: linUcbDefinition, config: { features: [] } },
  ];
}

function contextOf(env: TimeLimit, seed: number): AgentContext {
  return agentContextOf(env.model, env.observationSpace, env.actionSpace, seed);
}

async function createAgent(variant: Variant, context: AgentContext): Promise<Agent> {
  return variant.definition.create(variant.definition.configSchema.parse(variant.config), context);
}

interface Phase {
  readonly env: TimeLimit;
  readonly steps: number;
}

/** The training loop, small: reset, act with exploration, step, observe; a new episode when one ends. Returns every action. */
function run(agent: Agent, phases: readonly Phase[], seed: number): number[] {
  const actions: number[] = [];
  for (const { env, steps } of phases) {
    let { observation } = env.reset({ seed });
    for (let step = 0; step < steps; step++) {
      const action = agent.act(observation, { explore: true });
      const result = env.step(action);
      agent.observe({ observation, action, reward: result.reward, nextObservation: result.observation, terminated: result.terminated, truncated: result.truncated });
      actions.push(action);
      observation = result.terminated || result.truncated ? env.reset().observation : result.observation;
    }
  }
  return actions;
}

/** The error a call throws, synchronously or by rejecting. */
async function caught(call: () => unknown): Promise<PricelabError> {
  try {
    await call();
  } catch (error) {
    if (error instanceof PricelabError) return error;
    throw error;
  }
  throw new Error('expected a PricelabError, found none');
}

const greedy = (agent: Agent, env: TimeLimit) => agent.act(env.reset({ seed: 12345 }).observation, { explore: false });
const seeds = [1, 2, 3, 4];

describe('bandits learn the optimal price of a linear market q = 1000 - 40 p, c = 6 (optimum 15.5 on a 10-price ladder)', () => {
  it('the ladder holds the analytic optimum exactly', () => {
    expect(optimalIndex(intercept)).toBe(4);
    expect(optimalIndex(laterIntercept)).toBe(6);
  });

  it.each(variants(1000, 0.999).map((variant) => [variant.name, variant] as const))('%s: greedy price is 15.5 after a budget of 2,000 steps (seeds 1-4)', async (_name, variant) => {
    for (const seed of seeds) {
      const env = makeEnv(linearMarket(intercept));
      const agent = await createAgent(variant, contextOf(env, seed));
      run(agent, [{ env, steps: 2000 }], seed);
      expect({ seed, greedy: greedy(agent, env) }).toEqual({ seed, greedy: optimalIndex(intercept) });
    }
  });
});

describe('a market whose optimum moves: 3,000 steps at q = 1000 - 40 p (optimum 15.5), then 1,500 at q = 1320 - 40 p (optimum 19.5)', () => {
  const newOptimum = optimalIndex(laterIntercept);
  const lastSteps = 500;
  /** Mean expected profit per step over the last 500 steps (the known demand curve, no noise). */
  const lateProfit = (actions: number[]) => actions.slice(-lastSteps).reduce((total, action) => total + expectedProfit(laterIntercept, action), 0) / lastSteps;

  it.each(classic.map(([name, definition]) => [name, definition] as const))(
    '%s: sliding window (500) and discounted (0.995) end on the new optimum; the stationary one adapts worse',
    async (_name, definition) => {
      const profit = { stationary: 0, sliding: 0, discounted: 0 };
      let stationaryOnNewOptimum = 0;
      for (const seed of seeds) {
        const greedyArms = { stationary: -1, sliding: -1, discounted: -1 };
        for (const [label, config] of [['stationary', {}], ['sliding', sliding(500)], ['discounted', discounted(0.995)]] as const) {
          const first = makeEnv(linearMarket(intercept));
          const second = makeEnv(linearMarket(laterIntercept));
          const agent = await createAgent({ name: label, definition, config }, contextOf(first, seed));
          const actions = run(agent, [{ env: first, steps: 3000 }, { env: second, steps: 1500 }], seed);
          greedyArms[label] = greedy(agent, second);
          profit[label] += lateProfit(actions) / seeds.length;
        }
        expect({ seed, sliding: greedyArms.sliding, discounted: greedyArms.discounted }).toEqual({ seed, sliding: newOptimum, discounted: newOptimum });
        if (greedyArms.stationary === newOptimum) stationaryOnNewOptimum++;
      }
      // The stationary means still remember 3,000 steps of the old market: it seldom lands on the new optimum,
      // and over the last 500 steps it earns less, on average over the seeds, than either adaptive memory.
      expect(stationaryOnNewOptimum).toBeLessThanOrEqual(seeds.length / 2);
      expect(profit.sliding).toBeGreaterThan(profit.stationary);
      expect(profit.discounted).toBeGreaterThan(profit.stationary);
    },
  );
});

describe('determinism and the action space', () => {
  const all = [...variants(50, 0.9), { name: 'linucb, default context', definition: linUcbDefinition, config: {} }];

  it.each(all.map((variant) => [variant.name, variant] as const))('%s: the same seed gives the same actions', async (_name, variant) => {
    const play = async (agentSeed: number) => {
      const env = makeEnv(loadScenario('weather-sensitive-v1').scenario);
      return run(await createAgent(variant, contextOf(env, agentSeed)), [{ env, steps: 300 }], 7);
    };
    const first = await play(11);
    expect(await play(11)).toEqual(first);
    if (variant.definition === epsilonGreedyDefinition || variant.definition === thompsonDefinition) expect(await play(12)).not.toEqual(first);
  });

  const featureNames = ['lastPrice', 'stockOnHand', 'salesYesterday', 'daysLeft', 'weekdaySin', 'weekdayCos', 'weather:sunny', 'weather:rain', 'forecast:sunny', 'forecast:rain', 'eventDay'];
  const syntheticContext = (arms: number, seed: number): AgentContext => ({
    observationSpace: box(featureNames, featureNames.map(() => -1e3), featureNames.map(() => 1e3)),
    actionSpace: discrete(arms),
    ladder: Float64Array.from({ length: arms }, (_, index) => 10 + index),
    unitCost: 5,
    listPrice: 10 + arms - 1,
    seed,
  });
  const stepArbitrary = fc.record({
    observation: fc.array(fc.float({ min: Math.fround(-1e3), max: Math.fround(1e3), noNaN: true }), { minLength: featureNames.length, maxLength: featureNames.length }),
    reward: fc.double({ min: -1e6, max: 1e6, noNaN: true }),
    explore: fc.boolean(),
  });
  const propertyVariants = [
    ...variants(3, 0.5),
    { name: 'linucb, default context', definition: linUcbDefinition, config: { alpha: 2, ridge: 0.01 } },
    { name: 'thompson, proper prior', definition: thompsonDefinition, config: { prior: { mean: 5, count: 1, shape: 1, rate: 100 }, minimumObservations: 0 } },
    { name: 'ucb1, fixed range', definition: ucb1Definition, config: { rewardRange: { kind: 'fixed', low: -10, high: 10 } } },
    { name: 'epsilon-greedy, decaying', definition: epsilonGreedyDefinition, config: { epsilon: 1, epsilonDecay: 0.9, epsilonMin: 0.05 } },
  ];

  it('actions are always within the action space, whatever the rewards and observations (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...propertyVariants),
        fc.integer({ min: 1, max: 12 }),
        fc.nat(1_000_000),
        fc.array(stepArbitrary, { minLength: 1, maxLength: 60 }),
        async (variant, arms, seed, steps) => {
          const context = syntheticContext(arms, seed);
          const agent = await createAgent(variant, context);
          for (const step of steps) {
            const observation = Float32Array.from(step.observation);
            const action = agent.act(observation, { explore: step.explore });
            expect(context.actionSpace.contains(action)).toBe(true);
            agent.observe({ observation, action, reward: step.reward, nextObservation: observation, terminated: false, truncated: false });
            expect(context.actionSpace.contains(agent.act(observation, { explore: false }))).toBe(true);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('export and restore', () => {
  const restoreVariants = [
    ...variants(50, 0.98),
    { name: 'linucb, default context (weather, weekday, stock)', definition: linUcbDefinition, config: { alpha: 0.5 } },
  ];

  /** What leaves the lab is bytes and JSON: round-trip both. */
  const throughDisk = (exported: Awaited<ReturnType<Agent['export']>>) => ({
    kind: exported.kind,
    config: JSON.parse(JSON.stringify(exported.config)) as unknown,
    files: Object.fromEntries(Object.entries(exported.files).map(([name, bytes]) => [name, new Uint8Array(Buffer.from(bytes))])),
  });

  it.each(restoreVariants.map((variant) => [variant.name, variant] as const))('%s: the restored agent takes the same greedy actions', async (_name, variant) => {
    const env = makeEnv(loadScenario('weather-sensitive-v1').scenario);
    const original = await createAgent(variant, contextOf(env, 3));
    run(original, [{ env, steps: 400 }], 3);
    const exported = await original.export();
    expect(exported.kind).toBe(variant.definition.kind);
    expect(Object.keys(exported.files)).toEqual(['bandit.json']);
    const restored = await variant.definition.restore(throughDisk(exported), contextOf(env, 99));
    expect(restored.capabilities).toEqual(original.capabilities);

    // Greedy actions agree on a fresh episode; deterministic kinds (UCB1, LinUCB) also keep learning in lockstep.
    const lockstep = variant.definition === ucb1Definition || variant.definition === linUcbDefinition;
    let { observation } = env.reset({ seed: 4242 });
    for (let step = 0; step < 200; step++) {
      const action = original.act(observation, { explore: false });
      expect(restored.act(observation, { explore: false })).toBe(action);
      const played = lockstep ? original.act(observation, { explore: true }) : action;
      if (lockstep) expect(restored.act(observation, { explore: true })).toBe(played);
      const result = env.step(played);
      if (lockstep) {
        const transition = { observation, action: played, reward: result.reward, nextObservation: result.observation, terminated: result.terminated, truncated: result.truncated };
        original.observe(transition);
        restored.observe(transition);
      }
      observation = result.observation;
    }
  });

  it('a restore refuses statistics that do not fit the ladder, and a bad config with every problem listed', async () => {
    const env = makeEnv(linearMarket(intercept));
    const agent = await createAgent({ name: 'ucb1', definition: ucb1Definition, config: {} }, contextOf(env, 1));
    run(agent, [{ env, steps: 50 }], 1);
    const exported = await agent.export();
    const smaller: AgentContext = { ...contextOf(env, 1), actionSpace: discrete(4) };
    const mismatch = await caught(() => ucb1Definition.restore(exported, smaller));
    expect(mismatch.kind).toBe('integrity');
    expect(mismatch.problems.map((problem) => problem.path.join('.'))).toContain('bandit.json.statistics.counts');

    const badConfig = await caught(() => ucb1Definition.restore({ ...exported, config: { exploration: -1, rewardRange: { kind: 'fixed', low: 3, high: 1 } } }, contextOf(env, 1)));
    expect(badConfig.kind).toBe('config');
    expect(badConfig.problems.map((problem) => problem.path.join('.'))).toEqual(['config.exploration', 'config.rewardRange.high']);

    const wrongKind = await caught(() => thompsonDefinition.restore({ ...exported, kind: 'thompson', config: {} }, contextOf(env, 1)));
    expect(wrongKind.problems[0]?.message).toMatch(/expected "thompson", found "ucb1"/);
  });
});

describe('configuration', () => {
  const definitions = [epsilonGreedyDefinition, ucb1Definition, thompsonDefinition, linUcbDefinition];

  it.each(definitions.map((definition) => [definition.kind, definition] as const))('%s: every field has a description and a default', (_kind, definition) => {
    expect(() => definition.configSchema.parse({})).not.toThrow();
    const shape = (definition.configSchema as unknown as { shape: Record<string, { description?: string }> }).shape;
    expect(Object.keys(shape).length).toBeGreaterThan(0);
    for (const [field, schema] of Object.entries(shape)) expect({ field, description: schema.description ?? '' }).toEqual({ field, description: expect.stringMatching(/\w{3}/) });
  });

  it('docs/agents/bandits.md documents every config field', () => {
    const page = readFileSync(new URL('../../docs/agents/bandits.md', import.meta.url), 'utf8');
    for (const definition of definitions) {
      const shape = (definition.configSchema as unknown as { shape: Record<string, unknown> }).shape;
      for (const field of Object.keys(shape)) expect({ kind: definition.kind, field, documented: page.includes(`| \`${field}\` |`) }).toEqual({ kind: definition.kind, field, documented: true });
    }
  });

  const paths = (definition: AgentDefinition, config: unknown) => {
    const parsed = definition.configSchema.safeParse(config);
    return parsed.success ? [] : parsed.error.issues.map((issue) => issue.path.join('.'));
  };

  it('bad fields are listed, all of them', () => {
    expect(paths(epsilonGreedyDefinition, { epsilon: 2 })).toEqual(['epsilon']);
    expect(paths(epsilonGreedyDefinition, { epsilon: 2, epsilonDecay: 0, nonStationary: { kind: 'sliding-window', window: 0 } })).toEqual(['epsilon', 'epsilonDecay', 'nonStationary.window']);
    expect(paths(epsilonGreedyDefinition, { epsilon: 0.1, epsilonMin: 0.2 })).toEqual(['epsilonMin']);
    expect(paths(epsilonGreedyDefinition, { epsilonn: 0.1 })).toEqual(['']);
    expect(paths(ucb1Definition, { nonStationary: { kind: 'discounted', gamma: 1 }, rewardRange: { kind: 'fixed', low: 1, high: 1 } })).toEqual(['rewardRange.high', 'nonStationary.gamma']);
    expect(paths(thompsonDefinition, { minimumObservations: 1 })).toEqual(['minimumObservations']);
    expect(paths(thompsonDefinition, { minimumObservations: 0, prior: { rate: 1, count: -1 } })).toEqual(['prior.count']);
    expect(paths(linUcbDefinition, { alpha: -1, features: ['eventDay', 'eventDay'] })).toEqual(['alpha', 'features.1']);
    expect(paths(linUcbDefinition, { features: [], bias: false })).toEqual(['bias']);
  });

  it('linucb builds its default context by feature name, and refuses unknown names listing the available ones', async () => {
    const weather = makeEnv(loadScenario('weather-sensitive-v1').scenario);
    const agent = (await createAgent({ name: 'linucb', definition: linUcbDefinition, config: {} }, contextOf(weather, 1))) as LinUcbAgent;
    expect(agent.featureNames).toEqual(['stockOnHand', 'weekdaySin', 'weekdayCos', 'weather:sunny', 'weather:cloudy', 'weather:rain', 'weather:storm', 'forecast:sunny', 'forecast:cloudy', 'forecast:rain', 'forecast:storm']);
    expect(agent.dimension).toBe(12);
    const festival = makeEnv(loadScenario('singles-day-v1').scenario);
    const festive = (await createAgent({ name: 'linucb', definition: linUcbDefinition, config: { bias: false } }, contextOf(festival, 1))) as LinUcbAgent;
    expect(festive.featureNames).toEqual(['stockOnHand', 'weekdaySin', 'weekdayCos', 'eventDay', 'presaleDay']);
    expect(festive.dimension).toBe(5);

    const refused = await caught(() => linUcbDefinition.create(linUcbDefinition.configSchema.parse({ features: ['weather:sunny', 'humidity', 'eventDay'] }), contextOf(weather, 1)));
    expect(refused.kind).toBe('config');
    const problems = refused.problems;
    expect(problems.map((problem) => problem.path.join('.'))).toEqual(['config.features.1', 'config.features.2']);
    for (const name of weather.observationSpace.featureNames) expect(problems[0]?.message).toContain(name);
    expect(problems[0]?.message).toMatch(/found "humidity"/);
  });
});

describe('arm statistics (shared by the classic bandits)', () => {
  const historyArbitrary = fc.array(fc.record({ arm: fc.nat(3), reward: fc.double({ min: -1e4, max: 1e4, noNaN: true }) }), { minLength: 1, maxLength: 200 });

  const check = (memory: NonStationary, weight: (age: number) => number, history: { arm: number; reward: number }[]) => {
    const statistics = new ArmStatistics(4, memory);
    history.forEach(({ arm, reward }) => statistics.record(arm, reward));
    for (let arm = 0; arm < 4; arm++) {
      let count = 0;
      let sum = 0;
      history.forEach((entry, index) => {
        const w = weight(history.length - 1 - index);
        if (entry.arm === arm) {
          count += w;
          sum += w * entry.reward;
        }
      });
      expect(statistics.count(arm)).toBeCloseTo(count, 9);
      if (count > 1e-9) expect(statistics.mean(arm)).toBeCloseTo(sum / count, 6);
    }
    const json = JSON.stringify(statistics.toJSON());
    expect(JSON.stringify(ArmStatistics.fromJSON(JSON.parse(json) as ReturnType<ArmStatistics['toJSON']>, 4, memory).toJSON())).toBe(json);
  };

  it('sliding window: the statistics of the last `window` steps, whatever happened before (fast-check)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), historyArbitrary, (window, history) => check({ kind: 'sliding-window', window }, (age) => (age < window ? 1 : 0), history)),
      { numRuns: 200 },
    );
  });

  it('discounted: a reward k steps old weighs gamma^k (fast-check)', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.5, max: 0.999, noNaN: true }), historyArbitrary, (gamma, history) => check({ kind: 'discounted', gamma }, (age) => Math.pow(gamma, age), history)),
      { numRuns: 200 },
    );
  });

  it('refuses a non-finite reward or an action outside the ladder', () => {
    const statistics = new ArmStatistics(3, { kind: 'none' });
    expect(() => statistics.record(0, Number.NaN)).toThrow(/expected a finite reward, found NaN/);
    expect(() => statistics.record(3, 1)).toThrow(/expected an action in 0..2/);
  });
});
