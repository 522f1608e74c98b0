/**
 * From a sales log to "what would this policy have earned against what I did", through the
 * built CLI (dist/cli/main.js): `pricelab calibrate` on a small simulated log, then
 * `pricelab compare <calibrated>.json --agents historical:<log>#<map>,q-learning` (and
 * `pricelab evaluate` and `simulate --policy historical:...`). The
 * historical arm prices each day as the log did (snapped to the calibrated ladder): its
 * average price and price changes are known before the run. A file name with a comma works
 * when quoted; a bad log exits 2 naming the row and column.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nearestIndex } from '../../agents/rule-agent.js';
import { buildMarketModel } from '../../env/model.js';
import { loadScenario } from '../../scenarios/load.js';
import { cli, ensureBuilt } from '../fixtures/cli.js';
import { oneSegmentScenario, simulateSalesLog } from './simulated-log.js';

const folder = mkdtempSync(join(tmpdir(), 'pricelab-historical-cli-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));
beforeAll(() => ensureBuilt());

const mapPath = join(folder, 'columns.json');
writeFileSync(mapPath, JSON.stringify({ date: 'date', units: 'units', price: 'price', traffic: 'traffic', rivalPrices: ['price_mass-merchant', 'price_boutique-roaster'] }));

interface Summary {
  arms: { name: string; kind: string; source: string }[];
  kpis: { name: string; byArm: { arm: string; mean: number; low: number; high: number }[] }[];
}

const kpi = (summary: Summary, name: string, arm: string) => summary.kpis.find((entry) => entry.name === name)?.byArm.find((entry) => entry.arm === arm);

describe('pricelab calibrate, then compare against the shop\'s own prices', () => {
  it('replays the logged prices on the calibrated scenario beside a learner', async () => {
    const days = 90;
    const log = simulateSalesLog(oneSegmentScenario(), 11, days);
    // A comma in the file name: quoted in --agents, the arm named with name=.
    const sales = join(folder, 'shop, 2026.csv');
    writeFileSync(sales, log.csv);
    const scenarioPath = join(folder, 'shop-v1.json');
    const calibrated = await cli('calibrate', sales, '--out', scenarioPath, '--map', mapPath, '--id', 'shop-v1', '--holdout', '0.2');
    expect(calibrated.code, calibrated.stderr).toBe(0);

    const result = await cli('compare', scenarioPath, '--agents', `what-i-did=historical:"${sales}"#${mapPath},q-learning`, '--seeds', '2', '--episodes', '2', '--steps', '1000', '--resamples', '200', '--json', '--no-store');
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as Summary;
    expect(summary.arms.map((arm) => [arm.name, arm.kind, arm.source])).toEqual([
      ['what-i-did', 'historical-replay', 'rule'],
      ['q-learning', 'q-learning', 'agent'],
    ]);

    // What the historical arm must have charged: each logged day's price, nearest on the calibrated ladder.
    const model = buildMarketModel(loadScenario(scenarioPath).scenario);
    expect(model.horizon).toBe(days);
    const logged = log.csv.trim().split('\n').slice(1).map((line) => Number(line.split(',')[2]));
    const charged = logged.map((price) => model.ladder[nearestIndex(model.ladder, price)] ?? 0);
    const averagePrice = charged.reduce((total, price) => total + price, 0) / days;
    const changes = charged.filter((price, day) => day > 0 && price !== charged[day - 1]).length;
    const average = kpi(summary, 'averagePrice', 'what-i-did');
    expect(average?.mean).toBeCloseTo(averagePrice, 9);
    expect(average?.high).toBeCloseTo(average?.low ?? 0, 9); // the same prices on every seed
    expect(kpi(summary, 'priceChanges', 'what-i-did')?.mean).toBe(changes);
    expect(changes).toBeGreaterThan(days / 2); // the exploring log moves its price most days
    expect(kpi(summary, 'totalReward', 'q-learning')?.mean).toEqual(expect.any(Number));

    // pricelab evaluate takes the same spec: the same average price, its version the file's sha256.
    const evaluated = await cli('evaluate', scenarioPath, '--policy', `historical:"${sales}"#${mapPath}`, '--episodes', '2', '--json');
    expect(evaluated.code, evaluated.stderr).toBe(0);
    const evaluation = JSON.parse(evaluated.stdout) as { policy: { agentKind: string; version: string }; kpis: { averagePrice: { mean: number }; priceChanges: { mean: number } } };
    expect(evaluation.policy.agentKind).toBe('historical-replay');
    expect(evaluation.policy.version).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(evaluation.kpis.averagePrice.mean).toBeCloseTo(averagePrice, 9);
    expect(evaluation.kpis.priceChanges.mean).toBe(changes);

    // And pricelab simulate: every day's price as the log's, snapped.
    const dayFile = join(folder, 'days.csv');
    const simulated = await cli('simulate', scenarioPath, '--policy', `historical:"${sales}"#${mapPath}`, '--csv', dayFile);
    expect(simulated.code, simulated.stderr).toBe(0);
    const [header = '', ...rows] = readFileSync(dayFile, 'utf8').trim().split('\n');
    const priceColumn = header.split(',').indexOf('price');
    expect(rows.map((row) => Number(row.split(',')[priceColumn]))).toEqual(charged);
  }, 180_000);

  it('exits 2 naming the row and column of a bad log, and 3 for a missing one', async () => {
    const scenarioPath = join(folder, 'shop-v1.json');
    const bad = join(folder, 'bad.csv');
    writeFileSync(bad, ['period,units,price', '1,2,12.99', '2,2,n/a', ''].join('\n'));
    const result = await cli('compare', scenarioPath, '--agents', `historical:${bad},fixed:15`, '--seeds', '2', '--episodes', '1', '--json', '--no-store');
    expect(result.code, result.stderr).toBe(2);
    const error = JSON.parse(result.stdout) as { error: { kind: string; problems: { path: (string | number)[]; message: string }[] } };
    expect(error.error.problems[0]?.path).toEqual(['agents', 0, 'row', 2, 'price']);
    expect(error.error.problems[0]?.message).toContain('"n/a"');
    const missing = await cli('compare', scenarioPath, '--agents', `historical:${join(folder, 'none.csv')},fixed:15`, '--seeds', '2', '--no-store');
    expect(missing.code).toBe(3);
    expect(readFileSync(scenarioPath, 'utf8')).toContain('"calibration"');
  }, 60_000);
});
