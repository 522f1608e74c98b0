/**
 * The calibration report (calibration/report.ts): a year of daily sales simulated by the
 * market from a scenario the calibration can represent (one logit segment, a weekday profile,
 * two rivals; no season or weather) is calibrated and its report written. Each chart's
 * vega-lite spec is on the page with data of the right length, the PNGs are PNGs, the
 * figures agree with the CalibrationResult, the price-response band is the delta method's
 * (checked against finite differences), and the posterior-predictive check covers about 90%
 * of the days for the calibrated scenario and far fewer for a wrong one.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calibrateFile, type CalibrationResult } from '../../calibration/calibrate.js';
import { parseColumnMap } from '../../calibration/column-map.js';
import { logitShare, waldZ95 } from '../../calibration/logit-poisson.js';
import { checkReportPath, competitorColumns, fittedMeans, pearsonResiduals, posteriorPredictiveCheck, priceResponse, reportChartNames, writeCalibrationReport, type ReportFigures, type WrittenCalibrationReport } from '../../calibration/report.js';
import { PricelabError } from '../../core/errors.js';
import { validateScenario } from '../../scenarios/load.js';
import type { Scenario } from '../../scenarios/schema.js';
import { oneSegmentScenario, simulateSalesLog } from './simulated-log.js';

const folder = mkdtempSync(join(tmpdir(), 'pricelab-calibration-report-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const map = parseColumnMap({ date: 'date', units: 'units', price: 'price', traffic: 'traffic', rivalPrices: ['price_mass-merchant', 'price_boutique-roaster'] }, 'map');

/** oneSegmentScenario without what the calibration does not estimate yet (season, weather): its own model class. */
function representableScenario(): Scenario {
  const scenario = oneSegmentScenario();
  const plain: Scenario = { ...scenario, curves: { dayOfWeek: scenario.curves.dayOfWeek } };
  delete plain.weather;
  return plain;
}

async function calibrateLog(scenario: Scenario, seed: number, name: string): Promise<CalibrationResult> {
  const path = join(folder, `${name}.csv`);
  writeFileSync(path, simulateSalesLog(scenario, seed).csv);
  return calibrateFile(path, { map, periodLength: 'day', holdout: 0.2 });
}

function specsOf(html: string): Map<string, { data?: { values: unknown[] }; layer?: { data?: { values: unknown[] } }[]; hconcat?: { data?: { values: unknown[] }; layer?: { data?: { values: unknown[] } }[] }[] }> {
  const specs = new Map();
  for (const match of html.matchAll(/<script type="application\/json" class="vega-lite-spec" data-chart="([^"]+)">(.*?)<\/script>/gs)) specs.set(match[1], JSON.parse(match[2] ?? ''));
  return specs;
}

describe('the calibration report', () => {
  let result: CalibrationResult;
  let written: WrittenCalibrationReport;
  let figures: ReportFigures;
  let html: string;
  const draws = 100;

  beforeAll(async () => {
    result = await calibrateLog(representableScenario(), 11, 'shop');
    written = await writeCalibrationReport(join(folder, 'calibration.html'), result, { draws, seed: 3 });
    figures = JSON.parse(readFileSync(written.figures, 'utf8')) as ReportFigures;
    html = readFileSync(written.html, 'utf8');
  }, 60_000);

  it('puts every chart on the page as a vega-lite spec with data of the right length, rendered without warnings', () => {
    expect(written.warnings).toEqual([]);
    const specs = specsOf(html);
    expect([...specs.keys()]).toEqual([...reportChartNames]);
    const rows = result.rows.sales.rows;
    expect(rows).toBe(365);
    const periods = result.record.source.periods;
    // observed-fitted: one observed and one fitted value per period, and the holdout span.
    const observedFitted = specs.get('observed-fitted')!;
    expect(observedFitted.layer?.[0]?.data?.values).toHaveLength(1);
    expect(observedFitted.layer?.[1]?.data?.values).toHaveLength(2 * periods);
    // price-response: two panels, each the observed rows, the band and the curve (40 prices).
    const priceResponsePanels = specs.get('price-response')!.hconcat!;
    expect(priceResponsePanels).toHaveLength(2);
    for (const panel of priceResponsePanels) expect(panel.layer?.map((layer) => layer.data?.values.length)).toEqual([rows, 40, 40]);
    const residualPanels = specs.get('residuals')!.hconcat!;
    expect(residualPanels.map((panel) => panel.data?.values.length)).toEqual([rows, rows, 30]);
    expect(specs.get('holdout')!.data?.values).toHaveLength(6);
    expect(specs.get('posterior-predictive')!.data?.values).toHaveLength(rows);
    // The page states the coverage the JSON holds.
    expect(html).toContain(`${(100 * figures.posteriorPredictive.coverage90).toFixed(1)}%`);
  });

  it('writes each chart as a valid PNG', () => {
    expect(written.pngs.map((path) => path.split('/').at(-1))).toEqual(reportChartNames.map((name) => `${name}.png`));
    for (const path of written.pngs) {
      const bytes = readFileSync(path);
      expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      expect(bytes.subarray(12, 16).toString('latin1')).toBe('IHDR');
      expect(bytes.readUInt32BE(16)).toBeGreaterThan(100);
      expect(bytes.readUInt32BE(20)).toBeGreaterThan(100);
      expect(bytes.subarray(-8, -4).toString('latin1')).toBe('IEND');
    }
    // Atomic writes leave no temporary file behind.
    expect(readdirSync(folder).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('writes figures that agree with the CalibrationResult', () => {
    expect(figures.holdout).toEqual(result.holdout);
    expect(figures.estimates).toEqual(result.record.estimates);
    expect(figures.fit.predictiveCoverage90).toBe(result.predictiveCoverage90);
    expect(figures.fit.meanElasticity).toBe(result.meanElasticity);
    expect(figures.fit.likelihood).toBe(result.fit.likelihood);
    // The observed series is the units per period; the fitted one sums the fitted means.
    const series = (figures.charts['observed-fitted'] as { series: { series: string; units: number }[] }).series;
    const total = (name: string) => series.filter((point) => point.series === name).reduce((sum, point) => sum + point.units, 0);
    expect(total('observed')).toBeCloseTo(result.rows.sales.units.reduce((sum, units) => sum + units, 0), 6);
    expect(total('fitted')).toBeCloseTo(fittedMeans(result).reduce((sum, mean) => sum + mean, 0), 6);
    // The posterior-predictive coverage is the share of rows inside the bands the figures give (one store: every row).
    const points = (figures.charts['posterior-predictive'] as { points: { units: number; lower: number; upper: number }[] }).points;
    expect(points.filter((point) => point.units >= point.lower && point.units <= point.upper).length / points.length).toBe(figures.posteriorPredictive.coverage90);
    expect(figures.posteriorPredictive.draws).toBe(draws);
    // Pearson residuals of the Poisson fit have mean square about the dispersion the fit reports.
    const residuals = pearsonResiduals(result);
    const meanSquare = residuals.reduce((sum, value) => sum + value * value, 0) / (residuals.length - result.fit.parameters.length);
    expect(meanSquare).toBeCloseTo(result.fit.dispersion, 6);
  });

  it('draws the price-response curve as the mean fitted units with a delta-method band (checked against finite differences)', () => {
    const curve = priceResponse(result, 5);
    const { sales, logMarketSize } = result.rows;
    const meanUnits = (theta: Float64Array, price: number) => {
      let total = 0;
      for (let row = 0; row < sales.rows; row++) {
        total += Math.exp(logMarketSize[row] ?? 0) * logitShare(theta, price, [], [sales.rivalPrices[0]?.[row] ?? 0, sales.rivalPrices[1]?.[row] ?? 0]);
      }
      return total / sales.rows;
    };
    const theta = result.fit.theta;
    for (const point of curve) {
      expect(point.units).toBeCloseTo(meanUnits(theta, point.price), 8);
      const gradient = Array.from(theta, (_, index) => {
        const step = 1e-6 * Math.max(1, Math.abs(theta[index] ?? 0));
        const up = Float64Array.from(theta);
        const down = Float64Array.from(theta);
        up[index] = (up[index] ?? 0) + step;
        down[index] = (down[index] ?? 0) - step;
        return (meanUnits(up, point.price) - meanUnits(down, point.price)) / (2 * step);
      });
      let variance = 0;
      // A parameter the data cannot place (NaN covariance: a rival pushed to minus infinity) adds nothing.
      const covariance = (row: number, column: number) => {
        const value = result.fit.covariance[row]?.[column] ?? Number.NaN;
        return Number.isFinite(value) ? value : 0;
      };
      gradient.forEach((left, row) => gradient.forEach((right, column) => (variance += left * covariance(row, column) * right)));
      expect(point.unitsUpper - point.units).toBeCloseTo(waldZ95 * Math.sqrt(variance), 4);
      expect(point.profit).toBeCloseTo((point.price - result.scenario.unitCost) * point.units, 8);
    }
  });

  it('covers about 90% of the days with the calibrated scenario, and far fewer with a wrong one', async () => {
    // Three histories from the same scenario: each calibrated, its scenario simulated.
    const coverages = [figures.posteriorPredictive.coverage90];
    for (const seed of [12, 13]) coverages.push(posteriorPredictiveCheck(await calibrateLog(representableScenario(), seed, `shop-${seed}`), { draws, seed }).coverage90);
    for (const coverage of coverages) {
      expect(coverage).toBeGreaterThan(0.82);
      expect(coverage).toBeLessThan(0.99);
    }
    // The same history against a scenario whose customers are 30% more price sensitive.
    const wrong = structuredClone(result.scenario);
    if (wrong.demand.kind !== 'logit') throw new Error('logit expected');
    const segment = wrong.demand.segments[0]!;
    segment.priceSensitivity *= 1.3;
    const wrongCoverage = posteriorPredictiveCheck(result, { draws, seed: 3, scenario: wrong }).coverage90;
    expect(wrongCoverage).toBeLessThan(0.5);
  }, 60_000);

  it('simulates each competitor at its own rival column\'s historical prices', () => {
    // Scenario names are slugged (price-mass-merchant for the column price_mass-merchant): matched through the record.
    const scenario = validateScenario(result.scenario, 'calibrated');
    const columns = competitorColumns(result, scenario);
    expect(columns).toHaveLength(scenario.competitors.length);
    expect(columns.every((column) => column >= 0)).toBe(true);
    expect(columns.map((column) => result.rows.sales.rivalNames[column]?.replace(/_/g, '-'))).toEqual(scenario.competitors.map((competitor) => competitor.name));
    expect(columns[0]).toBe(result.rows.sales.rivalNames.indexOf('price_mass-merchant'));
  });

  it('is reproducible from its seed', () => {
    const again = posteriorPredictiveCheck(result, { draws, seed: 3 });
    expect(again.coverage90).toBe(figures.posteriorPredictive.coverage90);
    expect(posteriorPredictiveCheck(result, { draws, seed: 4 }).lower).not.toEqual(again.lower);
  });

  it('leaves the holdout chart out without a holdout, and says so on the page', async () => {
    const path = join(folder, 'shop.csv');
    const noHoldout = await calibrateFile(path, { map, periodLength: 'day', holdout: 0 });
    const report = await writeCalibrationReport(join(folder, 'no-holdout.html'), noHoldout, { draws: 20, seed: 3 });
    expect(report.warnings).toEqual([]);
    expect(report.report.charts.map((chart) => chart.name)).toEqual(reportChartNames.filter((name) => name !== 'holdout'));
    expect(readFileSync(report.html, 'utf8')).toContain('No holdout');
    expect(report.report.figures.holdout).toBeNull();
    // Without a holdout nothing is shaded: the observed-fitted chart has only its series layer.
    expect((report.report.figures.charts['observed-fitted'] as { holdout: unknown[] }).holdout).toEqual([]);
  }, 30_000);

  it('refuses a report path it cannot write, naming it', () => {
    const missing = join(folder, 'no-such-folder', 'calibration.html');
    expect(() => checkReportPath(missing)).toThrow(PricelabError);
    try {
      checkReportPath(missing);
    } catch (error) {
      expect((error as PricelabError).kind).toBe('config');
      expect((error as PricelabError).problems[0]?.path).toEqual(['report']);
      expect((error as PricelabError).problems[0]?.message).toContain(missing);
    }
    const aFolder = join(folder, 'a-folder.html');
    mkdirSync(aFolder);
    expect(() => checkReportPath(aFolder)).toThrow(/a-folder\.html/);
    expect(() => checkReportPath(join(folder, 'calibration.html'), [join(folder, 'calibration.html')])).toThrow(/overwrite/);
    expect(existsSync(join(folder, 'no-such-folder'))).toBe(false);
  });
});
