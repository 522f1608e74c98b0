/**
 * Comparison reports: every chart's vega-lite spec compiles and renders without a warning;
 * the HTML page holds every chart as inline SVG and needs nothing from the network; each
 * chart has a valid PNG of plausible size beside it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compare, type ComparisonOutcome } from '../../experiments/compare.js';
import { chartNames, comparisonCharts } from '../../experiments/report/charts.js';
import { compileChart, renderSvg } from '../../experiments/report/render.js';
import { chartsFolderOf, writeReport, type WrittenReport } from '../../experiments/report/write.js';

const scratch = mkdtempSync(join(tmpdir(), 'pricelab-report-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let outcome: ComparisonOutcome;
let written: WrittenReport;
beforeAll(async () => {
  // fashion-returns-v1: rivals, finite stock and returns, so every chart has data.
  outcome = await compare({ scenario: 'fashion-returns-v1', arms: ['list=fixed:59.99', 'cost-plus:1.5', 'q=q-learning'], seeds: 3, evaluationEpisodes: 2, trainingSteps: 360 });
  written = await writeReport(join(scratch, 'report.html'), outcome.summary, outcome.run.trajectories);
}, 60_000);

function pngSize(bytes: Buffer): { width: number; height: number } {
  expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  expect(bytes.subarray(12, 16).toString('ascii')).toBe('IHDR');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

describe('report charts', () => {
  it('are the five charts of the issue, each compiling with vega-lite and rendering with vega without a warning', async () => {
    const charts = comparisonCharts(outcome.summary, outcome.run.trajectories);
    expect(charts.map((chart) => chart.name)).toEqual([...chartNames]);
    for (const chart of charts) {
      const warnings: string[] = [];
      const vega = compileChart(chart.spec, warnings);
      expect(warnings, chart.name).toEqual([]);
      expect(vega.marks?.length ?? 0, chart.name).toBeGreaterThan(0);
      const rendered = await renderSvg(chart.spec);
      expect(rendered.warnings, chart.name).toEqual([]);
    }
    expect(written.warnings).toEqual([]);
  });

  it('catch a broken spec: an unknown aggregate is a warning', () => {
    const warnings: string[] = [];
    compileChart({ data: { values: [{ a: 1 }] }, mark: 'point', encoding: { x: { field: 'a', type: 'quantitative', aggregate: 'nonsense' as 'mean' } } }, warnings);
    expect(warnings.length).toBeGreaterThan(0);
  });
});

describe('the report', () => {
  it('is one HTML page holding every chart as inline SVG, with no script to run and nothing from the network', () => {
    const html = readFileSync(written.html, 'utf8');
    for (const name of chartNames) {
      const section = html.slice(html.indexOf(`id="chart-${name}"`));
      expect(html, name).toContain(`id="chart-${name}"`);
      expect(section.indexOf('<svg'), name).toBeGreaterThan(0);
      expect(section.indexOf('<svg'), name).toBeLessThan(section.indexOf('</section>'));
    }
    expect(html).not.toMatch(/<script(?![^>]*type="application\/json")/);
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?(https?:)?\/\//);
    expect(html).not.toMatch(/@import|url\(\s*["']?https?:/);
    expect(html).toContain('Verdict on totalReward');
    for (const arm of outcome.summary.arms) expect(html).toContain(arm.name);
  });

  it('has a valid PNG of plausible size for each chart, in <report>-charts/', () => {
    expect(written.pngs).toEqual(chartNames.map((name) => join(chartsFolderOf(written.html), `${name}.png`)));
    for (const path of written.pngs) {
      const bytes = readFileSync(path);
      const { width, height } = pngSize(bytes);
      expect(width, path).toBeGreaterThan(400);
      expect(width, path).toBeLessThan(6000);
      expect(height, path).toBeGreaterThan(200);
      expect(height, path).toBeLessThan(8000);
      expect(bytes.length, path).toBeGreaterThan(5000);
    }
  });
});
