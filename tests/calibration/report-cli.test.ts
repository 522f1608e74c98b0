/**
 * `pricelab calibrate --report` end to end (spawns dist/cli/main.js): the page, its PNGs and
 * its figures are written beside the scenario and the coverage printed; a report path in a
 * folder that does not exist exits 2 naming it, before anything is written.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, ensureBuilt } from '../fixtures/cli.js';
import { oneSegmentScenario, simulateSalesLog } from './simulated-log.js';

const folder = mkdtempSync(join(tmpdir(), 'pricelab-calibrate-report-cli-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));
beforeAll(() => ensureBuilt());

const mapPath = join(folder, 'columns.json');
writeFileSync(mapPath, JSON.stringify({ date: 'date', units: 'units', price: 'price', traffic: 'traffic', rivalPrices: ['price_mass-merchant', 'price_boutique-roaster'] }));
const sales = join(folder, 'shop.csv');
writeFileSync(sales, simulateSalesLog(oneSegmentScenario(), 5, 200).csv);

describe('pricelab calibrate --report', () => {
  it('writes the page, a PNG per chart and the figures, and prints the predictive coverage', async () => {
    const out = join(folder, 'shop-v1.json');
    const report = join(folder, 'calibration.html');
    const result = await cli('calibrate', sales, '--out', out, '--map', mapPath, '--report', report, '--seed', '9', '--json');
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as { report: { html: string; figures: string; pngs: string[]; posteriorPredictive: { coverage90: number; draws: number; seed: number } } };
    expect(summary.report.html).toBe(report);
    expect(summary.report.posteriorPredictive.seed).toBe(9);
    expect(summary.report.posteriorPredictive.coverage90).toBeGreaterThan(0.5);
    const figures = JSON.parse(readFileSync(join(folder, 'calibration-figures.json'), 'utf8')) as { posteriorPredictive: { coverage90: number } };
    expect(figures.posteriorPredictive.coverage90).toBe(summary.report.posteriorPredictive.coverage90);
    expect(readdirSync(join(folder, 'calibration-charts')).sort()).toEqual(['holdout.png', 'observed-fitted.png', 'posterior-predictive.png', 'price-response.png', 'residuals.png']);
    const html = readFileSync(report, 'utf8');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html.trimEnd().endsWith('</html>')).toBe(true);
    expect(existsSync(out)).toBe(true);
    // The text output names the report and the coverage.
    const text = await cli('calibrate', sales, '--out', out, '--map', mapPath, '--report', report);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/posterior-predictive check: \d+\.\d% of rows inside/);
    expect(text.stdout).toContain(`wrote the report ${report}`);
  }, 120_000);

  it('exits 2 naming a report path it cannot write, and writes nothing', async () => {
    const out = join(folder, 'never.json');
    const report = join(folder, 'no-such-folder', 'calibration.html');
    const result = await cli('calibrate', sales, '--out', out, '--map', mapPath, '--report', report, '--json');
    expect(result.code).toBe(2);
    const error = JSON.parse(result.stdout) as { error: { kind: string; problems: { path: string[]; message: string }[] } };
    expect(error.error.kind).toBe('config');
    expect(error.error.problems[0]?.path).toEqual(['report']);
    expect(error.error.problems[0]?.message).toContain(report);
    expect(existsSync(out)).toBe(false);
  }, 60_000);
});
