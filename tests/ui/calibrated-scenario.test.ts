/**
 * The dashboard loads a calibrated scenario like a built-in one: a small simulated sales log
 * is calibrated (calibrateSales), the scenario written into a folder, and a dashboard
 * started with that folder (`--scenarios`) lists it, configures a session on it over
 * socket.io (by id and by file name) and steps its days; the profit streamed is the profit
 * of the same scenario file through the experiments loop. A `historical:` policy replays the
 * log's own prices from a sales file in that folder (and only there).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calibrateSales } from '../../calibration/calibrate.js';
import { parseColumnMap } from '../../calibration/column-map.js';
import { readSales } from '../../calibration/reader.js';
import { makeEnv } from '../../env/env.js';
import { agentFor } from '../../experiments/setup.js';
import { evaluate } from '../../experiments/train.js';
import { nearestIndex } from '../../agents/rule-agent.js';
import { loadScenario } from '../../scenarios/load.js';
import { startDashboard, type DashboardServer } from '../../ui/server/app.js';
import { oneSegmentScenario, simulateSalesLog } from '../calibration/simulated-log.js';
import { dashboardClient, daysIn } from './dashboard-client.js';

let server: DashboardServer;
let home: string;
let scenarioFile: string;
let loggedPrices: number[];
const scenarioId = 'calibrated-shop-v1';

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'pricelab-dashboard-calibrated-'));
  const folder = join(home, 'scenarios');
  mkdirSync(folder);
  const log = simulateSalesLog(oneSegmentScenario(), 5, 120);
  loggedPrices = log.csv.trim().split('\n').slice(1).map((line) => Number(line.split(',')[2]));
  const sales = join(folder, 'shop.csv');
  writeFileSync(sales, log.csv);
  writeFileSync(join(home, 'outside.csv'), log.csv);
  writeFileSync(join(folder, 'bad.csv'), ['period,units,price,secret_header', '1,2,12.99,a', '2,2,TOPSECRET,b', ''].join('\n'));
  const columns = { date: 'date', units: 'units', price: 'price', traffic: 'traffic', rivalPrices: ['price_mass-merchant', 'price_boutique-roaster'] };
  writeFileSync(join(folder, 'columns.json'), JSON.stringify(columns));
  const map = parseColumnMap(columns, 'the test map');
  const { scenario } = calibrateSales(await readSales(sales, { map }), { map, scenarioId });
  scenarioFile = join(folder, 'shop-v1.json');
  writeFileSync(scenarioFile, `${JSON.stringify(scenario, null, 2)}\n`);
  server = await startDashboard({ port: 0, resultsHome: join(home, 'results'), scenariosFolder: folder });
});

afterAll(async () => {
  await server.close();
  rmSync(home, { recursive: true, force: true });
});

describe('a calibrated scenario in the dashboard', () => {
  it('is listed beside the built-in scenarios, with its horizon and the rules that fit it', async () => {
    const scenarios = (await (await fetch(`${server.url}/api/scenarios`)).json()) as { id: string; horizon: number; description: string }[];
    const calibrated = scenarios.find((entry) => entry.id === scenarioId);
    expect(calibrated).toMatchObject({ horizon: 120 });
    expect(calibrated?.description).toContain('Calibrated from shop.csv');
    expect(scenarios.some((entry) => entry.id === 'steady-state-v1')).toBe(true);
    const policies = (await (await fetch(`${server.url}/api/policies?scenario=${scenarioId}`)).json()) as { rules: string[] };
    expect(policies.rules).toContain('list');
  });

  it('runs a session on it by id, step by step, with the profit of the same file through the experiments loop', async () => {
    const client = await dashboardClient(server.url);
    try {
      client.socket.emit('configure', { scenario: scenarioId, policies: ['list', 'myopic-oracle'], seed: 4 });
      await client.until((received) => received.sessions.at(-1)?.scenario.id === scenarioId);
      expect(client.received.problems).toEqual([]);
      client.socket.emit('step', { days: 10 });
      await client.until((received) => daysIn(received.frames) === 10);
      client.socket.emit('speed', { speed: 'max' });
      client.socket.emit('start', {});
      await client.until((received) => received.sessions.at(-1)?.status === 'finished', 30_000);
      expect(daysIn(client.received.frames)).toBe(120);
      const points = client.received.frames.flatMap((frame) => frame.arms[0]?.points ?? []);
      const loaded = loadScenario(scenarioFile);
      const env = makeEnv(loaded.scenario);
      const agent = await agentFor(env, 'fixed-price', { price: env.model.listPrice }, 4);
      const [episode] = evaluate(env, agent, { episodes: 1, seed: 4 });
      expect(points.at(-1)?.cumulativeProfit).toBeCloseTo(episode?.kpis.profit ?? Number.NaN, 6);
    } finally {
      client.close();
    }
  });

  it('runs a session on it by file name', async () => {
    const client = await dashboardClient(server.url);
    try {
      client.socket.emit('configure', { scenario: 'shop-v1.json', policies: ['list'], seed: 1 });
      await client.until((received) => received.sessions.at(-1)?.scenario.id === scenarioId);
      client.socket.emit('step', { days: 3 });
      await client.until((received) => daysIn(received.frames) === 3);
      expect(client.received.problems).toEqual([]);
    } finally {
      client.close();
    }
  });

  it('replays the log\'s own prices with historical:<file>#<map> from the scenarios folder, day by day on the calibrated ladder', async () => {
    const client = await dashboardClient(server.url);
    try {
      client.socket.emit('configure', { scenario: scenarioId, policies: ['historical:shop.csv#columns.json', 'list'], seed: 2 });
      await client.until((received) => received.sessions.at(-1)?.arms.length === 2);
      expect(client.received.problems).toEqual([]);
      expect(client.received.sessions.at(-1)?.arms[0]).toMatchObject({ policy: 'historical:shop.csv#columns.json', agentKind: 'historical-replay' });
      client.socket.emit('step', { days: 20 });
      await client.until((received) => daysIn(received.frames) === 20);
      const model = makeEnv(loadScenario(scenarioFile).scenario).model;
      const played = client.received.frames.flatMap((frame) => frame.arms[0]?.points.map((point) => point.proposedPrice) ?? []);
      expect(played).toEqual(loggedPrices.slice(0, 20).map((price) => model.ladder[nearestIndex(model.ladder, price)]));
    } finally {
      client.close();
    }
  });

  it('refuses a historical file outside the scenarios folder, or not named like a sales file; a bad one by row and column, not its contents', async () => {
    const client = await dashboardClient(server.url);
    try {
      client.socket.emit('configure', { scenario: scenarioId, policies: ['historical:../outside.csv'], seed: 1 });
      client.socket.emit('configure', { scenario: scenarioId, policies: ['historical:shop-v1.json'], seed: 1 });
      client.socket.emit('configure', { scenario: scenarioId, policies: ['historical:bad.csv#columns.json'], seed: 1 });
      await client.until((received) => received.problems.filter((problem) => problem.event === 'configure').length === 3);
      const messages = client.received.problems.map((problem) => problem.problems.map((entry) => entry.message).join('; '));
      expect(messages[0]).toContain('expected a path inside the scenarios folder, found "../outside.csv"');
      expect(messages[1]).toContain('expected a sales file ending in .csv');
      // columns.json names date and traffic columns bad.csv lacks; with the default map, the bad price of row 2.
      client.socket.emit('configure', { scenario: scenarioId, policies: ['historical:bad.csv'], seed: 1 });
      await client.until((received) => received.problems.filter((problem) => problem.event === 'configure').length === 4);
      const [missingColumns, badCell] = client.received.problems.slice(2);
      expect(missingColumns?.problems.map((problem) => problem.path)).toContainEqual(['policies', 'columns', 'date']);
      expect(badCell?.problems).toEqual([{ path: ['policies', 'row', 2, 'price'], message: 'expected a number' }]);
      expect(JSON.stringify(client.received.problems)).not.toMatch(/TOPSECRET|secret_header|pricelab-dashboard-calibrated/);
    } finally {
      client.close();
    }
  });
});
