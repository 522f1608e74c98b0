/**
 * The `pricelab` CLI end to end: each test spawns `node dist/cli/main.js ...` and checks
 * the exit code, stdout and stderr. Tests inside a block run concurrently (each spawn is a
 * separate process), which keeps the whole file to a few seconds.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { OracleReport } from '../../env/benchmarks.js';
import { cli, ensureBuilt, root, type CliResult } from '../fixtures/cli.js';
import { nearestNames } from '../../core/suggest.js';
import { progressBar, quietSeconds, statusLine, type ProgressOutput } from '../../cli/progress.js';

/** Invocations shared by several tests run once (the CLI is deterministic for these arguments). */
const shared = new Map<string, Promise<CliResult>>();
function cliShared(...args: string[]): Promise<CliResult> {
  const key = JSON.stringify(args);
  let result = shared.get(key);
  if (!result) shared.set(key, (result = cli(...args)));
  return result;
}

async function cliJson<T>(...args: string[]): Promise<T> {
  const result = await cliShared(...args);
  if (result.code !== 0) throw new Error(`pricelab ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

const builtInIds = [
  'calvano-duopoly-v1',
  'markdown-gvr-v1',
  'steady-state-v1',
  'singles-day-v1',
  'price-war-v1',
  'weather-sensitive-v1',
  'fashion-returns-v1',
  'year-round-v1',
];

let scratch = '';

beforeAll(() => {
  ensureBuilt();
  scratch = mkdtempSync(join(tmpdir(), 'pricelab-cli-'));
}, 180_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

function builtInJson(id: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(root, 'scenarios', `${id}.json`), 'utf8')) as Record<string, unknown>;
}

function writeScenario(name: string, scenario: unknown): string {
  const path = join(scratch, name);
  writeFileSync(path, JSON.stringify(scenario, null, 2));
  return path;
}

describe.concurrent('help', () => {
  it('the program help lists every command', async ({ expect }) => {
    const { code, stdout } = await cli('--help');
    expect(code).toBe(0);
    for (const command of ['scenarios', 'check', 'equilibrium', 'oracle', 'simulate', 'start', 'bench']) expect(stdout).toContain(command);
    expect(stdout).toContain('--version');
    expect(stdout).toContain('--help');
  });

  const commands: [string[], string[]][] = [
    [['scenarios'], ['--json']],
    [['check'], ['--all', '--steps <n>', '--json']],
    [['equilibrium'], ['<scenario>', '--json']],
    [['oracle'], ['<scenario>', '--continuous', '--periods <k>', '--json']],
    [['simulate'], ['<scenario>', '--policy <rule>', '--seed <n>', '--episodes <n>', '--csv <file>', '--chart', '--json']],
    [['start'], ['--help']],
    [['bench'], ['env']],
    [['bench', 'env'], ['--json', '--seconds <s>', '--markets <n>', '--scenarios <ids>', '--no-peer']],
  ];
  for (const [command, options] of commands) {
    it(`${command.join(' ')} --help mentions ${options.join(', ')}`, async ({ expect }) => {
      const { code, stdout } = await cli(...command, '--help');
      expect(code).toBe(0);
      expect(stdout).toContain(`Usage: pricelab ${command.join(' ')}`);
      for (const option of options) expect(stdout).toContain(option);
    });
  }
});

describe.concurrent('scenarios', () => {
  it('lists an id and its description a line each, the descriptions starting in one column', async ({ expect }) => {
    const { code, stdout } = await cli('scenarios');
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines.map((line) => line.split(' ')[0]).sort()).toEqual([...builtInIds].sort());
    const starts = new Set(lines.map((line) => /^\S+\s+/.exec(line)?.[0].length));
    expect(starts.size).toBe(1);
  });

  it('--json lists all eight built-in ids, each with a description and a card', async ({ expect }) => {
    const list = await cliJson<{ id: string; description: string; card: { models: string; purpose: string } }[]>('scenarios', '--json');
    expect(list.map((entry) => entry.id).sort()).toEqual([...builtInIds].sort());
    for (const entry of list) {
      expect(entry.description.length, entry.id).toBeGreaterThan(0);
      expect(entry.card.models.length, entry.id).toBeGreaterThan(0);
      expect(entry.card.purpose.length, entry.id).toBeGreaterThan(0);
    }
  });
});

interface Equilibrium {
  nash: { prices: number[]; profits: number[] };
  monopoly: { prices: number[]; profits: number[] };
  firms: string[];
}

/** Logit shares of one segment: q_i = exp((a_i - b p_i)/mu) / (sum_k exp((a_k - b p_k)/mu) + exp(a_0/mu)). */
function logitShares(prices: number[], qualities: number[], b: number, mu: number, outside: number): number[] {
  const weights = prices.map((price, index) => Math.exp(((qualities[index] ?? 0) - b * price) / mu));
  const total = weights.reduce((sum, weight) => sum + weight, 0) + Math.exp(outside / mu);
  return weights.map((weight) => weight / total);
}

describe.concurrent('equilibrium', () => {
  it('calvano-duopoly-v1: the known Nash and monopoly prices and profits', async ({ expect }) => {
    const report = await cliJson<Equilibrium>('equilibrium', 'calvano-duopoly-v1', '--json');
    expect(report.firms).toEqual(['focal', 'rival']);
    expect(report.nash.prices).toHaveLength(2);
    for (let firm = 0; firm < 2; firm++) {
      expect(Math.abs(report.nash.prices[firm]! - 1.47292666)).toBeLessThan(1e-6);
      expect(Math.abs(report.nash.profits[firm]! - 0.22292666)).toBeLessThan(1e-6);
      expect(Math.abs(report.monopoly.prices[firm]! - 1.924980919)).toBeLessThan(1e-6);
      expect(Math.abs(report.monopoly.profits[firm]! - 0.3374904595)).toBeLessThan(1e-6);
    }
  });

  it('a third firm lowers the Nash prices; the monopoly price stays above Nash', async ({ expect }) => {
    const scenario = builtInJson('calvano-duopoly-v1');
    const competitors = scenario.competitors as Record<string, unknown>[];
    scenario.id = 'calvano-triopoly-v1';
    scenario.competitors = [...competitors, { ...competitors[0], name: 'rival-2' }];
    const path = writeScenario('triopoly.json', scenario);
    const report = await cliJson<Equilibrium>('equilibrium', path, '--json');
    expect(report.firms).toEqual(['focal', 'rival', 'rival-2']);
    expect(report.nash.prices).toHaveLength(3);
    expect(report.monopoly.prices).toHaveLength(3);
    for (let firm = 0; firm < 3; firm++) {
      expect(report.nash.prices[firm]!).toBeGreaterThan(1);
      expect(report.nash.prices[firm]!).toBeLessThan(1.47292666 - 1e-3);
      expect(report.monopoly.prices[firm]!).toBeGreaterThan(report.nash.prices[firm]! + 1e-3);
      expect(report.monopoly.profits[firm]!).toBeGreaterThan(report.nash.profits[firm]!);
    }
    // Symmetric firms: symmetric equilibrium, satisfying the first-order condition.
    const shares = logitShares(report.nash.prices, [2, 2, 2], 1, 0.25, 0);
    for (let firm = 0; firm < 3; firm++) {
      expect(Math.abs(report.nash.prices[firm]! - report.nash.prices[0]!)).toBeLessThan(1e-8);
      expect(Math.abs(report.nash.prices[firm]! - (1 + 0.25 / (1 - shares[firm]!)))).toBeLessThan(1e-6);
    }
  });

  it('other parameters (mu = 0.5, b = 1.5, asymmetric firms): Nash prices satisfy p_i = c_i + mu / (b (1 - q_i))', async ({ expect }) => {
    const scenario = builtInJson('calvano-duopoly-v1');
    const mu = 0.5;
    const b = 1.5;
    const qualities = [2, 1.7];
    const costs = [1, 0.8];
    scenario.id = 'asymmetric-duopoly-v1';
    (scenario.demand as { segments: Record<string, unknown>[] }).segments = [{ name: 'customers', arrivalRate: 1, priceSensitivity: b, scale: mu }];
    const rival = (scenario.competitors as Record<string, unknown>[])[0]!;
    scenario.competitors = [{ ...rival, quality: qualities[1], unitCost: costs[1] }];
    const path = writeScenario('asymmetric.json', scenario);
    const report = await cliJson<Equilibrium>('equilibrium', path, '--json');
    const shares = logitShares(report.nash.prices, qualities, b, mu, 0);
    for (let firm = 0; firm < 2; firm++) {
      const price = report.nash.prices[firm]!;
      const cost = costs[firm]!;
      const share = shares[firm]!;
      expect(Math.abs(price - (cost + mu / (b * (1 - share)))), `firm ${firm}`).toBeLessThan(1e-6);
      expect(Math.abs(report.nash.profits[firm]! - (price - cost) * share), `firm ${firm}`).toBeLessThan(1e-6);
    }
    // The better product sells at the higher price.
    expect(report.nash.prices[0]!).toBeGreaterThan(report.nash.prices[1]!);
    for (let firm = 0; firm < 2; firm++) expect(report.monopoly.prices[firm]!).toBeGreaterThan(report.nash.prices[firm]!);
  });
});


const gvrClosedForm = 3.677289;

describe.concurrent('oracle', () => {
  it('markdown-gvr-v1 --continuous: 3.677660 over 100 periods, 3.677289 in continuous time', async ({ expect }) => {
    const report = await cliJson<OracleReport>('oracle', 'markdown-gvr-v1', '--continuous', '--json');
    expect(report.prices).toBe('continuous');
    expect(report.stock).toBe(10);
    expect(report.periods).toBe(100);
    expect(Math.abs(report.optimalValue - 3.67766)).toBeLessThan(1e-4);
    expect(Math.abs(report.continuousTimeValue! - gvrClosedForm)).toBeLessThan(1e-5);
  });

  it('markdown-gvr-v1 on the ladder: below the continuous-price value, above 3.6', async ({ expect }) => {
    const [ladder, continuous] = await Promise.all([
      cliJson<OracleReport>('oracle', 'markdown-gvr-v1', '--json'),
      cliJson<OracleReport>('oracle', 'markdown-gvr-v1', '--continuous', '--json'),
    ]);
    expect(Array.isArray(ladder.prices)).toBe(true);
    expect((ladder.prices as number[]).length).toBe(30);
    expect(ladder.optimalValue).toBeLessThan(continuous.optimalValue);
    expect(ladder.optimalValue).toBeGreaterThan(3.6);
    expect((ladder.prices as number[]).includes(ladder.firstPrice)).toBe(true);
  });

  it('--periods 1000 --continuous is closer to the continuous-time value than K = 100', async ({ expect }) => {
    const [fine, coarse] = await Promise.all([
      cliJson<OracleReport>('oracle', 'markdown-gvr-v1', '--periods', '1000', '--continuous', '--json'),
      cliJson<OracleReport>('oracle', 'markdown-gvr-v1', '--continuous', '--json'),
    ]);
    expect(fine.periods).toBe(1000);
    expect(Math.abs(fine.optimalValue - gvrClosedForm)).toBeLessThan(Math.abs(coarse.optimalValue - gvrClosedForm));
    expect(Math.abs(fine.continuousTimeValue! - gvrClosedForm)).toBeLessThan(1e-5);
  });

  it('a scenario file with K = 1000 periods of length 1/1000 converges to the continuous-time value', async ({ expect }) => {
    const scenario = builtInJson('markdown-gvr-v1');
    scenario.id = 'markdown-gvr-fine-v1';
    scenario.horizonDays = 1000;
    (scenario.demand as Record<string, unknown>).periodLength = 0.001;
    const path = writeScenario('markdown-fine.json', scenario);
    const [fine, coarse] = await Promise.all([
      cliJson<OracleReport>('oracle', path, '--continuous', '--json'),
      cliJson<OracleReport>('oracle', 'markdown-gvr-v1', '--continuous', '--json'),
    ]);
    expect(fine.periods).toBe(1000);
    expect(Math.abs(fine.continuousTimeValue! - gvrClosedForm)).toBeLessThan(1e-5);
    expect(fine.optimalValue).toBeLessThan(coarse.optimalValue);
    expect(Math.abs(fine.optimalValue - gvrClosedForm)).toBeLessThan(Math.abs(coarse.optimalValue - gvrClosedForm));
  });

  it('steady-state-v1 is refused with exit 2, naming inventory.replenishment.kind', async ({ expect }) => {
    const { code, stdout, stderr } = await cli('oracle', 'steady-state-v1');
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('inventory.replenishment.kind');
  });
});

interface Kpi {
  mean: number;
  sd: number;
  low: number;
  high: number;
  n: number;
}

interface SimulateReport {
  scenario: string;
  policy: string;
  seeds: number[];
  kpis: Record<string, Kpi>;
  episodes: Record<string, number>[];
}

describe.concurrent('simulate', () => {
  const args = ['simulate', 'steady-state-v1', '--policy', 'fixed:18.99', '--episodes', '3', '--seed', '5', '--json'];

  it('--json gives KPIs with mean, low and high over seeds 5, 6, 7; a second run is identical', async ({ expect }) => {
    const [first, second] = await Promise.all([cli(...args), cli(...args)]);
    expect(first.code).toBe(0);
    expect(second.code).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    const report = JSON.parse(first.stdout) as SimulateReport;
    expect(report.scenario).toBe('steady-state-v1');
    expect(report.policy).toBe('fixed:18.99');
    expect(report.seeds).toEqual([5, 6, 7]);
    expect(report.episodes).toHaveLength(3);
    for (const name of ['gmv', 'profit', 'units']) expect(report.kpis).toHaveProperty(name);
    for (const [name, kpi] of Object.entries(report.kpis)) {
      for (const field of ['mean', 'low', 'high'] as const) expect(Number.isFinite(kpi[field]), `${name}.${field}`).toBe(true);
      expect(kpi.low, name).toBeLessThanOrEqual(kpi.mean + 1e-9);
      expect(kpi.high, name).toBeGreaterThanOrEqual(kpi.mean - 1e-9);
    }
    expect(report.kpis.days!.mean).toBe(365);
    expect(report.kpis.averagePrice!.mean).toBeCloseTo(18.99, 6);
  });

  it('--csv writes one row per day with price, sold, revenue and refunds columns', async ({ expect }) => {
    const csv = join(scratch, 'days.csv');
    const { code, stdout } = await cli('simulate', 'steady-state-v1', '--policy', 'fixed:18.99', '--seed', '5', '--csv', csv);
    expect(code).toBe(0);
    expect(stdout).toContain(`wrote ${csv}`);
    const lines = readFileSync(csv, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(365 + 1);
    const header = lines[0]!.split(',');
    for (const column of ['price', 'sold', 'revenue', 'refunds']) expect(header).toContain(column);
    // Rivals' columns carry their names (as their observation features), not numbers.
    const rivals = (builtInJson('steady-state-v1').competitors as { name: string }[]).map((rival) => `rivalPrice:${rival.name}`);
    expect(header.filter((column) => column.startsWith('rivalPrice'))).toEqual(rivals);
    for (const line of lines.slice(1)) expect(line.split(',')).toHaveLength(header.length);
    const price = header.indexOf('price');
    expect(Number(lines[1]!.split(',')[price])).toBeCloseTo(18.99, 6);
  });

  it('an unknown policy exits 2 and lists the valid kinds', async ({ expect }) => {
    const { code, stderr } = await cli('simulate', 'steady-state-v1', '--policy', 'bogus');
    expect(code).toBe(2);
    expect(stderr).toContain('bogus');
    for (const kind of ['fixed:<price>', 'cost-plus:<markup>', 'list', 'match', 'undercut:<amount>', 'festival:<discount>', 'index:<ladderIndex>']) expect(stderr).toContain(kind);
  });

  for (const value of ['0', 'abc']) {
    it(`--episodes ${value} exits non-zero, naming the option`, async ({ expect }) => {
      const { code, stdout, stderr } = await cli('simulate', 'steady-state-v1', '--policy', 'fixed:18.99', '--episodes', value);
      expect(code).not.toBe(0);
      expect(stdout).toBe('');
      expect(stderr).toContain('--episodes');
      expect(stderr).toContain(`"${value}"`);
    });
  }

  it('an unknown scenario exits 3', async ({ expect }) => {
    const { code, stderr } = await cli('simulate', 'no-such-scenario', '--policy', 'list');
    expect(code).toBe(3);
    expect(stderr).toContain('no-such-scenario');
  });
});

describe.concurrent('check, start, bench', () => {
  it('check --all --steps 60 passes all eight scenarios', async ({ expect }) => {
    const { code, stdout } = await cli('check', '--all', '--steps', '60');
    expect(code).toBe(0);
    expect(stdout).toContain('8 passed, 0 failed');
    for (const id of builtInIds) expect(stdout).toContain(`PASS ${id}`);
  });

  it('check with no arguments exits 2', async ({ expect }) => {
    const { code, stderr } = await cli('check');
    expect(code).toBe(2);
    expect(stderr).toContain('scenarios');
  });

  it('start prints KPIs and a text chart', async ({ expect }) => {
    const { code, stdout } = await cli('start');
    expect(code).toBe(0);
    expect(stdout).toContain('singles-day-v1');
    expect(stdout).toMatch(/^gmv\s/m);
    expect(stdout).toMatch(/^profit\s/m);
    expect(stdout.split('\n').some((line) => line.includes('┤') || line.includes('┼'))).toBe(true);
    // A legend under each chart; without colour the rivals' line is dotted so the two stay apart.
    expect(stdout).toMatch(/── our price {3}┄┄ rivals' mean price/);
    expect(stdout).toContain('── units sold');
    const chartLines = stdout.split('\n').filter((line) => line.includes('┤') || line.includes('┼'));
    expect(chartLines.some((line) => line.includes('┄'))).toBe(true);
  });

  it('bench env --json reports steps per second (not a timed test)', async ({ expect }) => {
    const report = await cliJson<{ benchmark: string; peer: unknown; rows: { scenario: string; singleStepsPerSecond: number; vectorStepsPerSecond: number; vectorMarkets: number }[] }>(
      'bench', 'env', '--scenarios', 'markdown-gvr-v1', '--seconds', '0.2', '--markets', '8', '--no-peer', '--json',
    );
    expect(report.benchmark).toBe('env');
    expect(report.peer).toBeNull();
    expect(report.rows).toHaveLength(1);
    expect(report.rows[0]!.scenario).toBe('markdown-gvr-v1');
    expect(report.rows[0]!.singleStepsPerSecond).toBeGreaterThan(0);
    expect(report.rows[0]!.vectorStepsPerSecond).toBeGreaterThan(0);
    expect(report.rows[0]!.vectorMarkets).toBe(8);
  });
});

describe.concurrent('did you mean', () => {
  it('an unknown option is reported before a missing required one, with the nearest option', async ({ expect }) => {
    const { code, stderr } = await cli('train', 'steady-state-v1', '--agnet', 'dqn', '--steps', '10');
    expect(code).toBe(2);
    expect(stderr).toContain("unknown option '--agnet'");
    expect(stderr).toContain('Did you mean --agent?');
    expect(stderr).not.toContain('required option');
  });

  it('a scenario id without its version suggests the versioned id (exit 3)', async ({ expect }) => {
    const { code, stderr } = await cli('simulate', 'steady-state', '--policy', 'list');
    expect(code).toBe(3);
    expect(stderr).toContain('did you mean "steady-state-v1"?');
  });

  it('an agent kind in capitals suggests the kind (exit 2)', async ({ expect }) => {
    const { code, stderr } = await cli('train', 'steady-state-v1', '--agent', 'DQN', '--steps', '10', '--no-store');
    expect(code).toBe(2);
    expect(stderr).toContain('unknown agent "DQN" (did you mean "dqn"?)');
  });

  it('a misspelt policy suggests the policy; a negative fixed price says the price must be positive', async ({ expect }) => {
    const misspelt = await cli('simulate', 'steady-state-v1', '--policy', 'fixd:18');
    expect(misspelt.code).toBe(2);
    expect(misspelt.stderr).toContain('unknown policy "fixd" (did you mean "fixed"?)');
    const negative = await cli('simulate', 'steady-state-v1', '--policy', 'fixed:-5');
    expect(negative.code).toBe(2);
    expect(negative.stderr).toContain('cannot use policy "fixed:-5": the price must be positive');
    expect(negative.stderr).toContain('policy: expected fixed:<price> with the price positive (above 0), found "fixed:-5"');
  });
});

describe('nearestNames', () => {
  const ids = ['calvano-duopoly-v1', 'markdown-gvr-v1', 'steady-state-v1', 'singles-day-v1'];
  it('matches ignoring case, by prefix and by few edits; nothing for a stranger', ({ expect }) => {
    expect(nearestNames('DQN', ['q-learning', 'dqn', 'phased'])).toEqual(['dqn']);
    expect(nearestNames('steady-state', ids)).toEqual(['steady-state-v1']);
    expect(nearestNames('markdwn-gvr-v1', ids)).toEqual(['markdown-gvr-v1']);
    expect(nearestNames('weather', ids)).toEqual([]);
    expect(nearestNames('', ids)).toEqual([]);
  });
});

describe.concurrent('--json errors: one JSON object on stdout, the same exit codes', () => {
  interface ErrorDocument {
    error: { kind: string; message: string; problems: { path: (string | number)[]; message: string }[] };
  }
  const documentOf = (stdout: string) => JSON.parse(stdout) as ErrorDocument;

  it('not found: exit 3, kind not-found', async ({ expect }) => {
    const { code, stdout, stderr } = await cli('simulate', 'steady-state', '--policy', 'list', '--json');
    expect(code).toBe(3);
    const { error } = documentOf(stdout);
    expect(error.kind).toBe('not-found');
    expect(error.message).toContain('no scenario "steady-state"');
    expect(stderr).toContain('no scenario');
  });

  it('bad input: exit 2, kind config, problems naming the field', async ({ expect }) => {
    const { code, stdout } = await cli('simulate', 'steady-state-v1', '--policy', 'fixed:-5', '--json');
    expect(code).toBe(2);
    const { error } = documentOf(stdout);
    expect(error.kind).toBe('config');
    expect(error.problems[0]!.path).toEqual(['policy']);
    expect(error.problems[0]!.message).toContain('found "fixed:-5"');
  });

  it('a bad command line: exit 2, kind usage', async ({ expect }) => {
    const { code, stdout } = await cli('train', 'steady-state-v1', '--agnet', 'dqn', '--json');
    expect(code).toBe(2);
    const { error } = documentOf(stdout);
    expect(error.kind).toBe('usage');
    expect(error.message).toContain("unknown option '--agnet'");
  });

  it('without --json, stdout stays empty on an error', async ({ expect }) => {
    const { code, stdout } = await cli('simulate', 'steady-state', '--policy', 'list');
    expect(code).toBe(3);
    expect(stdout).toBe('');
  });
});

describe('evaluate: the share of the DP optimum', () => {
  it('a DP-optimal policy on markdown-gvr-v1 evaluates near 100% of the optimum; the text says so', async ({ expect }) => {
    const out = join(scratch, 'dp-policy');
    const trained = await cli('train', 'markdown-gvr-v1', '--agent', 'dp-optimal', '--steps', '100', '--eval-episodes', '1', '--no-store', '--out', out);
    expect(trained.code).toBe(0);
    const optimum = (await cliJson<OracleReport>('oracle', 'markdown-gvr-v1', '--json')).optimalValue;
    const report = await cliJson<{ optimum: { name: string; value: number; meanReward: number; share: number } }>('evaluate', 'markdown-gvr-v1', '--policy', join(out, 'policy'), '--episodes', '400', '--json');
    expect(report.optimum.name).toBe('DP optimum');
    expect(report.optimum.value).toBeCloseTo(optimum, 9);
    expect(report.optimum.share).toBeCloseTo(report.optimum.meanReward / optimum, 12);
    expect(report.optimum.share).toBeGreaterThan(0.9);
    expect(report.optimum.share).toBeLessThan(1.1);
    const text = await cli('evaluate', 'markdown-gvr-v1', '--policy', join(out, 'policy'), '--episodes', '400');
    expect(text.stdout).toContain(`% of the DP optimum ${optimum.toFixed(4)}`);
  }, 60_000);

  it('a scenario without a known optimum prints no share', async ({ expect }) => {
    const out = join(scratch, 'fixed-policy');
    const config = join(scratch, 'fixed-price.json');
    writeFileSync(config, JSON.stringify({ price: 17.99 }));
    expect((await cli('train', 'steady-state-v1', '--agent', 'fixed-price', '--config', config, '--steps', '365', '--eval-episodes', '1', '--no-store', '--out', out)).code).toBe(0);
    const report = await cliJson<Record<string, unknown>>('evaluate', 'steady-state-v1', '--policy', join(out, 'policy'), '--episodes', '2', '--json');
    expect(report).not.toHaveProperty('optimum');
  }, 60_000);
});

describe('progress when stderr is not a terminal', () => {
  function recorder() {
    const lines: string[] = [];
    let clock = 0;
    const output: ProgressOutput = { stream: { write: (text: string) => lines.push(text) } as unknown as NodeJS.WritableStream, interactive: false, now: () => clock };
    return { lines, output, advance: (milliseconds: number) => (clock += milliseconds) };
  }

  it('one newline-terminated line per tenth, at most one a second, one after a quiet spell, and the last', ({ expect }) => {
    const { lines, output, advance } = recorder();
    const progress = progressBar(1000, 'steps', false, output);
    for (let done = 0; done <= 1000; done += 10) {
      progress.update(done);
      advance(50); // 100 updates in 5 seconds: tenths come faster than one a second
    }
    expect(lines.every((line) => line.endsWith('\n') && line.indexOf('\n') === line.length - 1)).toBe(true);
    expect(lines.length).toBeGreaterThanOrEqual(5);
    expect(lines.length).toBeLessThanOrEqual(7);
    expect(lines.at(-1)).toBe('100% (1000/1000 steps)\n');
    const quiet = recorder();
    const slow = progressBar(1000, 'steps', false, quiet.output);
    slow.update(1);
    quiet.advance(quietSeconds * 1000);
    slow.update(2); // the same tenth, but a quiet spell has passed
    expect(quiet.lines).toHaveLength(2);
  });

  it('a status line is a line of its own, not a carriage return', ({ expect }) => {
    const { lines, output } = recorder();
    statusLine('[1/8] markdown-gvr-v1', output);
    expect(lines).toEqual(['[1/8] markdown-gvr-v1\n']);
  });
});
