/**
 * The scenario schema and loader on bad input: every problem is listed, each with its path
 * (a scenario author fixes a file in one pass), and a refused file makes nothing happen.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PricelabError, formatPath, type Problem } from '../../core/errors.js';
import { cli, ensureBuilt, root } from '../fixtures/cli.js';
import { builtInScenarioIds, loadScenario, parseScenario, validateScenario } from '../../scenarios/load.js';


let scratch = '';

beforeAll(() => {
  ensureBuilt();
  scratch = mkdtempSync(join(tmpdir(), 'pricelab-validation-'));
}, 180_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});


type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function builtIn(id: string): Json {
  return JSON.parse(readFileSync(join(root, 'scenarios', `${id}.json`), 'utf8')) as Json;
}

function writeScenario(name: string, contents: unknown): string {
  const path = join(scratch, name);
  writeFileSync(path, typeof contents === 'string' ? contents : JSON.stringify(contents, null, 2));
  return path;
}

/** The problems of a refused scenario (fails the test if it was accepted or refused otherwise). */
function problemsOf(json: unknown): readonly Problem[] {
  try {
    validateScenario(json, 'test scenario');
  } catch (error) {
    expect(error).toBeInstanceOf(PricelabError);
    expect((error as PricelabError).kind).toBe('config');
    return (error as PricelabError).problems;
  }
  throw new Error('expected the scenario to be refused, but it validated');
}

/** Asserts a problem at exactly `path` (and, if given, a message containing `words`). */
function expectProblemAt(problems: readonly Problem[], path: (string | number)[], words?: string): void {
  const listed = problems.map((problem) => `${formatPath(problem.path)}: ${problem.message}`);
  const match = problems.find((problem) => formatPath(problem.path) === formatPath(path) && (words === undefined || problem.message.includes(words)));
  expect(match, `expected a problem at ${formatPath(path)}${words ? ` mentioning "${words}"` : ''}; listed:\n${listed.join('\n')}`).toBeDefined();
}

/** steady-state-v1 with problems that zod reports while still running the cross-field checks. */
function withContinuableProblems(scenario: Json): void {
  scenario.demand.segments[0].arrivalRate = -5; // negative rate
  scenario.colour = 'blue'; // unknown key at the root
  scenario.demand.segments[1].speed = 1; // unknown key inside a segment
  scenario.weather.transitions.summer[2] = [0.5, 0.3, 0.3, 0.1]; // sums to 1.2
  scenario.demand.segments[0].weather.hail = 1.2; // not a weather state
  scenario.curves.seasonality = '2 * foo'; // unknown symbol
}

const continuableProblems: [(string | number)[], string | undefined][] = [
  [['demand', 'segments', 0, 'arrivalRate'], undefined],
  [[], 'colour'],
  [['demand', 'segments', 1], 'speed'],
  [['weather', 'transitions', 'summer', 2], 'sum to 1'],
  [['demand', 'segments', 0, 'weather', 'hail'], 'hail'],
  [['curves', 'seasonality'], 'foo'],
];

function everyProblemAtOnce(): Json {
  const scenario = builtIn('steady-state-v1');
  scenario.horizonDays = '365'; // wrong type
  delete scenario.unitCost; // missing required field
  withContinuableProblems(scenario);
  return scenario;
}

describe('malformed JSON', () => {
  it('parseScenario throws a config PricelabError naming the origin, with a problem at the root', () => {
    let caught: unknown;
    try {
      parseScenario('{ "id": "broken-v1", ', 'broken.json');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(PricelabError);
    const error = caught as PricelabError;
    expect(error.kind).toBe('config');
    expect(error.message).toContain('broken.json');
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]!.path).toEqual([]);
    expect(error.problems[0]!.message).toContain('syntax error');
  });

  it('check <file> exits 2 (bad input) and says the file is not valid JSON', async () => {
    const path = writeScenario('malformed.json', '{ "id": "broken-v1", ');
    const { code, stdout, stderr } = await cli('check', path);
    expect(`${stdout}${stderr}`).toContain('not valid JSON');
    expect(code).toBe(2);
  });
});

describe('several problems at once', () => {
  it('lists a problem at every path: wrong type, missing field, negative rate, unknown keys, weather row, weather state, curve', () => {
    const problems = problemsOf(everyProblemAtOnce());
    expectProblemAt(problems, ['horizonDays']);
    expectProblemAt(problems, ['unitCost']);
    for (const [path, words] of continuableProblems) expectProblemAt(problems, path, words);
  });

  it('lists the cross-field problems together with unknown keys, negative values and bad curves', () => {
    const scenario = builtIn('steady-state-v1');
    withContinuableProblems(scenario);
    const problems = problemsOf(scenario);
    for (const [path, words] of continuableProblems) expectProblemAt(problems, path, words);
    expect(problems).toHaveLength(continuableProblems.length);
  });

  it('the error message counts the problems and lists each by path', () => {
    const scenario = builtIn('steady-state-v1');
    withContinuableProblems(scenario);
    let caught: unknown;
    try {
      validateScenario(scenario, 'bad.json');
    } catch (error) {
      caught = error;
    }
    const message = (caught as Error).message;
    expect(message).toContain(`bad.json is not a valid scenario (${continuableProblems.length} problems)`);
    for (const [path] of continuableProblems) expect(message).toContain(`  - ${formatPath(path)}: `);
  });

  it('the CLI prints every problem by path on stderr and exits 2', async () => {
    const scenario = builtIn('steady-state-v1');
    withContinuableProblems(scenario);
    const path = writeScenario('continuable.json', scenario);
    const { code, stderr } = await cli('simulate', path, '--policy', 'list');
    expect(code).toBe(2);
    for (const [problemPath] of continuableProblems) expect(stderr).toContain(`  - ${formatPath(problemPath)}: `);
  });
});

describe('competitors and inventory', () => {
  it('a ratio-follower targeting an unknown competitor', () => {
    const scenario = builtIn('steady-state-v1');
    scenario.competitors[1].strategy = { kind: 'ratio-follower', target: 'nobody', ratio: 1.1 };
    const problems = problemsOf(scenario);
    expectProblemAt(problems, ['competitors', 1, 'strategy', 'target'], 'nobody');
    expect(problems).toHaveLength(1);
  });

  it('a ratio-follower may target "focal" or another competitor by name', () => {
    const scenario = builtIn('steady-state-v1');
    scenario.competitors[1].strategy = { kind: 'ratio-follower', target: 'mass-merchant', ratio: 1.1 };
    expect(() => validateScenario(scenario)).not.toThrow();
    scenario.competitors[1].strategy.target = 'focal';
    expect(() => validateScenario(scenario)).not.toThrow();
  });

  it('duplicate competitor names', () => {
    const scenario = builtIn('steady-state-v1');
    scenario.competitors[1].name = scenario.competitors[0].name;
    const problems = problemsOf(scenario);
    expectProblemAt(problems, ['competitors', 1, 'name'], 'mass-merchant');
    expect(problems).toHaveLength(1);
  });

  it('orderUpTo at or below reorderPoint', () => {
    for (const orderUpTo of [300, 100]) {
      const scenario = builtIn('steady-state-v1');
      scenario.inventory.replenishment.orderUpTo = orderUpTo;
      const problems = problemsOf(scenario);
      expectProblemAt(problems, ['inventory', 'replenishment', 'orderUpTo'], 'reorderPoint');
      expect(problems).toHaveLength(1);
    }
  });

  it('all three at once are all listed', () => {
    const scenario = builtIn('steady-state-v1');
    scenario.competitors[1].strategy = { kind: 'ratio-follower', target: 'nobody', ratio: 1.1 };
    scenario.competitors.push({ ...scenario.competitors[0] });
    scenario.inventory.replenishment.orderUpTo = 300;
    const problems = problemsOf(scenario);
    expectProblemAt(problems, ['competitors', 1, 'strategy', 'target'], 'nobody');
    expectProblemAt(problems, ['competitors', 2, 'name'], 'mass-merchant');
    expectProblemAt(problems, ['inventory', 'replenishment', 'orderUpTo'], 'reorderPoint');
    expect(problems).toHaveLength(3);
  });
});

describe('a refused scenario writes nothing', () => {
  const cases: [string, () => unknown][] = [
    ['every problem at once', everyProblemAtOnce],
    ['malformed JSON', () => '{ "id": '],
  ];
  for (const [name, contents] of cases) {
    it(`simulate <bad file> --csv: exit 2 and no CSV (${name})`, async () => {
      const folder = mkdtempSync(join(scratch, 'out-'));
      const path = writeScenario(`${name.replace(/\W+/g, '-')}.json`, contents());
      const csv = join(folder, 'out.csv');
      const { code, stdout, stderr } = await cli('simulate', path, '--policy', 'list', '--csv', csv);
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toContain(path);
      expect(existsSync(csv)).toBe(false);
      expect(readdirSync(folder)).toEqual([]);
    });
  }
});

describe('built-in scenarios', () => {
  it('there are eight', () => {
    expect(builtInScenarioIds()).toHaveLength(8);
  });

  for (const id of builtInScenarioIds()) {
    it(`${id} validates, and its id matches its file name`, () => {
      const loaded = loadScenario(id);
      expect(loaded.scenario.id).toBe(id);
      expect(loaded.source.endsWith(`${id}.json`)).toBe(true);
      expect(loaded.contentHash).toMatch(/^[0-9a-f]{64}$/);
    });
  }
});

describe('careless files (issue 13.13): refused with the field, the bound and the value, never run for hours', () => {
  const careless: readonly { readonly name: string; readonly change: (scenario: Json) => void; readonly path: (string | number)[]; readonly words: string }[] = [
    { name: 'arrivalRate 1e12', change: (scenario) => (scenario.demand.segments[0].arrivalRate = 1e12), path: ['demand', 'segments', 0, 'arrivalRate'], words: 'expected customers per day of at most 1000000, found 1000000000000' },
    { name: 'unitCost 1e308', change: (scenario) => (scenario.unitCost = 1e308), path: ['unitCost'], words: 'expected an amount per unit of at most 1000000, found 1e+308' },
    { name: 'a curve exp(day)', change: (scenario) => (scenario.curves.seasonality = 'exp(day)'), path: ['curves', 'seasonality'], words: 'expected an arrival multiplier in [0, 100], found 148.4' },
    { name: 'a curve pow(10, 300)', change: (scenario) => (scenario.curves.demandMultiplier = 'pow(10, 300)'), path: ['curves', 'demandMultiplier'], words: 'found 1e+300' },
    { name: 'a curve of 200,000 terms', change: (scenario) => (scenario.curves.seasonality = Array.from({ length: 200_000 }, () => '1').join(' + ')), path: ['curves', 'seasonality'], words: 'expected an expression of at most 1000 characters, found 799997' },
    { name: 'a return window of 1e9 days', change: (scenario) => (scenario.returns.maxLagDays = 1e9), path: ['returns', 'maxLagDays'], words: 'expected a number of days of at most 365, found 1000000000' },
    { name: 'a festival uplift of 1e9', change: (scenario) => (scenario.festivals = [{ name: 'x', date: '06-01', uplift: 1e9, deferralShare: 0, deferralDays: 0, dipShare: 0, dipDays: 0, competitorDiscount: 0 }]), path: ['festivals', 0, 'uplift'], words: 'expected a multiplier of at most 100, found 1000000000' },
    { name: 'initial stock 1e300', change: (scenario) => (scenario.inventory.initialStock = 1e300), path: ['inventory', 'initialStock'], words: 'expected units of at most 1000000000000, found 1e+300' },
    { name: '2,000 ladder prices', change: (scenario) => (scenario.priceLadder = { kind: 'list', prices: Array.from({ length: 2000 }, (_, index) => 1 + index / 100) }), path: ['priceLadder', 'prices'], words: 'expected at most 1000 prices, found 2000' },
  ];

  it.each(careless)('$name: a problem at its path', ({ change, path, words }) => {
    const scenario = builtIn('steady-state-v1');
    change(scenario);
    const started = performance.now();
    expectProblemAt(problemsOf(scenario), path, words);
    expect(performance.now() - started).toBeLessThan(3000);
  });

  it('factors each within bounds whose product is not: refused when the market is built, naming the segment', async () => {
    const { buildMarketModel } = await import('../../env/model.js');
    const scenario = builtIn('steady-state-v1');
    scenario.demand.segments[0].arrivalRate = 1e6;
    scenario.curves.seasonality = 50;
    const valid = validateScenario(scenario, 'test scenario');
    let caught: unknown;
    try {
      buildMarketModel(valid);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(PricelabError);
    expect((caught as PricelabError).kind).toBe('config');
    expectProblemAt((caught as PricelabError).problems, ['demand', 'segments', 0, 'arrivalRate'], 'expected at most 1000000 customers a day over all segments');
    // A tenth of the rate with a modest season builds.
    scenario.demand.segments[0].arrivalRate = 1e5;
    scenario.curves.seasonality = 2;
    expect(() => buildMarketModel(validateScenario(scenario, 'test scenario'))).not.toThrow();
  });

  it('textbook demand: units at the lowest ladder price are bounded the same way', async () => {
    const { buildMarketModel } = await import('../../env/model.js');
    const scenario = builtIn('markdown-gvr-v1');
    scenario.demand = { kind: 'constant-elasticity', scale: 1e12, elasticity: -1.5, noise: 'poisson' };
    let caught: unknown;
    try {
      buildMarketModel(validateScenario(scenario, 'test scenario'));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(PricelabError);
    expectProblemAt((caught as PricelabError).problems, ['demand', 'scale'], 'expected at most 1000000 units a day at the lowest ladder price');
  });

  it('the CLI refuses each careless file with exit 2 and the field, in seconds', async () => {
    const files = careless.map(({ name, change }, index) => {
      const scenario = builtIn('steady-state-v1');
      change(scenario);
      return { name, path: writeScenario(`careless-${index}.json`, scenario) };
    });
    const compounded = builtIn('steady-state-v1');
    compounded.demand.segments[0].arrivalRate = 1e6;
    compounded.curves.seasonality = 50;
    files.push({ name: 'compounded', path: writeScenario('careless-compounded.json', compounded) });
    const started = performance.now();
    const result = await cli('check', ...files.map((file) => file.path), '--steps', '5');
    expect(result.code, result.stdout + result.stderr).toBe(2);
    expect((performance.now() - started) / 1000).toBeLessThan(30);
    const output = result.stdout + result.stderr;
    for (const path of ['demand.segments[0].arrivalRate', 'unitCost', 'curves.seasonality', 'curves.demandMultiplier', 'returns.maxLagDays', 'festivals[0].uplift', 'inventory.initialStock', 'priceLadder.prices']) expect(output).toContain(path);
    expect(output).toContain('expected at most 1000000 customers a day');
    expect(output).not.toMatch(/internal error/);
  }, 60_000);
});

describe('a scenario at its bounds', () => {
  it('runs in bounded time with every KPI finite (money, demand and returns at their largest)', async () => {
    const { makeEnv } = await import('../../env/env.js');
    const { agentFor } = await import('../../experiments/setup.js');
    const { evaluate } = await import('../../experiments/train.js');
    const { maxDailyCustomers } = await import('../../env/demand-bounds.js');
    const scenario = builtIn('steady-state-v1');
    scenario.horizonDays = 30;
    // One segment buying nearly always, at the demand bound on its busiest day (weekday x weather).
    scenario.demand.quality = 100;
    scenario.demand.segments = [{ ...scenario.demand.segments[0], arrivalRate: maxDailyCustomers / 1.25, priceSensitivity: 1e-5 }];
    delete scenario.curves.seasonality;
    delete scenario.curves.dayOfWeek;
    scenario.unitCost = 9e5;
    scenario.listPrice = 1e6;
    scenario.priceLadder = { kind: 'range', min: 9.5e5, max: 1e6, count: 5 };
    scenario.returns = { ...scenario.returns, baseLogit: 3, maxLagDays: 365 };
    scenario.inventory = { ...scenario.inventory, initialStock: 1e12, replenishment: { kind: 'none' } };
    const env = makeEnv(validateScenario(scenario, 'bounds scenario'));
    const agent = await agentFor(env, 'fixed-price', { price: 9.5e5 }, 1);
    const started = performance.now();
    const [episode] = evaluate(env, agent, { episodes: 1, seed: 3 });
    expect((performance.now() - started) / 1000).toBeLessThan(30);
    expect(episode!.kpis.units).toBeGreaterThan(0.5 * maxDailyCustomers * 30);
    for (const [name, value] of Object.entries(episode!.kpis)) expect(value === null || Number.isFinite(value), `${name} = ${value}`).toBe(true);
    expect(Number.isFinite(episode!.kpis.profit)).toBe(true);
    expect(Number.isFinite(episode!.totalReward)).toBe(true);
  }, 60_000);
});

describe('the oracle on a careless stock', () => {
  it('refuses a state space past its limit with exit 2, naming initialStock (it allocated until a RangeError, exit 70)', async () => {
    const scenario = builtIn('markdown-gvr-v1');
    scenario.inventory.initialStock = 1e9;
    const result = await cli('oracle', writeScenario('careless-oracle.json', scenario));
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/inventory\.initialStock: expected \(periods \+ 1\) x \(initialStock \+ 1\) of at most 100000000 states, found 101 x 1000000001/);
    expect(result.stderr).not.toMatch(/internal error/);
  });
});
