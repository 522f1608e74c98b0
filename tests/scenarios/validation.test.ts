/**
 * The scenario schema and loader on bad input: every problem is listed, each with its path
 * (a scenario author fixes a file in one pass), and a refused file makes nothing happen.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PricelabError, formatPath, type Problem } from '../../env/errors.js';
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
