/**
 * `pricelab calibrate` end to end (spawns dist/cli/main.js): a simulated history becomes a
 * scenario that `pricelab check` passes; bad input exits 2 naming the row and column, and
 * never writes (nor clobbers) the scenario file.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, ensureBuilt } from '../fixtures/cli.js';
import { oneSegmentScenario, simulateSalesLog } from './simulated-log.js';

const folder = mkdtempSync(join(tmpdir(), 'pricelab-calibrate-cli-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));
beforeAll(() => ensureBuilt());

const mapPath = join(folder, 'columns.json');
writeFileSync(mapPath, JSON.stringify({ date: 'date', units: 'units', price: 'price', traffic: 'traffic', rivalPrices: ['price_mass-merchant', 'price_boutique-roaster'] }));

describe('pricelab calibrate', () => {
  it('writes a scenario that passes pricelab check, and reports estimates and the holdout as JSON', async () => {
    const sales = join(folder, 'shop.csv');
    writeFileSync(sales, simulateSalesLog(oneSegmentScenario(), 7).csv);
    const out = join(folder, 'shop-v1.json');
    const result = await cli('calibrate', sales, '--out', out, '--map', mapPath, '--json', '--seed', '7');
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { scenarioId: string; estimates: { parameter: string; lower: number; upper: number }[]; holdout: { wape: Record<string, number> } };
    expect(report.scenarioId).toBe('calibrated-shop-v1');
    expect(report.estimates.map((estimate) => estimate.parameter)).toEqual([
      'quality',
      'priceSensitivity',
      ...['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'].map((day) => `dayOfWeek:${day}`),
      // a year of history: the annual season's first Fourier pair (docs/calibration.md, Calendar and weather)
      'season:sin1',
      'season:cos1',
      'rivalQuality:price_mass-merchant',
      'rivalQuality:price_boutique-roaster',
      // each rival's strategy as the simulator plays it: the log's rivals undercut and walk
      'competitor:price-mass-merchant.undercut.amount',
      'competitor:price-boutique-roaster.random-walk.step',
    ]);
    expect(report.holdout.wape.model).toBeLessThan(report.holdout.wape.mean ?? 0);
    const scenario = JSON.parse(readFileSync(out, 'utf8')) as { calibration: { source: { rows: number; firstPeriod: string } }; startDate: string };
    expect(scenario.calibration.source.rows).toBe(365);
    expect(scenario.startDate).toBe('2026-01-01');
    const check = await cli('check', out, '--steps', '30');
    expect(check.code, check.stdout + check.stderr).toBe(0);
  }, 60_000);

  it('exits 2 on bad input naming the row and column, and leaves an existing scenario file untouched', async () => {
    const sales = join(folder, 'bad.csv');
    writeFileSync(sales, ['date,units,price,traffic,price_mass-merchant,price_boutique-roaster', '2026-01-01,3,12.99,50,18,24', '2026-01-02,x,12.99,50,18,24', ''].join('\n'));
    const out = join(folder, 'existing.json');
    writeFileSync(out, 'previous contents');
    const result = await cli('calibrate', sales, '--out', out, '--map', mapPath, '--json');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('row[2].units');
    const error = JSON.parse(result.stdout) as { error: { kind: string; problems: { path: (string | number)[] }[] } };
    expect(error.error.kind).toBe('config');
    expect(error.error.problems[0]?.path).toEqual(['row', 2, 'units']);
    expect(readFileSync(out, 'utf8')).toBe('previous contents');
    const fresh = join(folder, 'never-written.json');
    expect((await cli('calibrate', sales, '--out', fresh, '--map', mapPath)).code).toBe(2);
    expect(existsSync(fresh)).toBe(false);
  }, 60_000);

  it('refuses bad segment options and a missing panel (exit 2, the option named), writing nothing', async () => {
    const sales = join(folder, 'shop-options.csv');
    writeFileSync(sales, simulateSalesLog(oneSegmentScenario(), 3).csv);
    const out = join(folder, 'options-v1.json');
    const negative = await cli('calibrate', sales, '--out', out, '--map', mapPath, '--segment-test', '--segment-bootstrap', '-3');
    expect(negative.code).toBe(2);
    expect(negative.stderr).toContain('expected a whole number of at least 0, found "-3"');
    const alone = await cli('calibrate', sales, '--out', out, '--map', mapPath, '--segment-bootstrap', '19', '--json');
    expect(alone.code).toBe(2);
    expect((JSON.parse(alone.stdout) as { error: { problems: { path: string[] }[] } }).error.problems[0]?.path).toEqual(['segmentBootstrap']);
    const panel = await cli('calibrate', sales, '--out', out, '--map', mapPath, '--panel', join(folder, 'no-such-panel.csv'));
    expect(panel.code).toBe(2);
    expect(panel.stderr).toContain('panel');
    expect(existsSync(out)).toBe(false);
  }, 60_000);
});
