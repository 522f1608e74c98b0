/**
 * Comparison reports: every chart's vega-lite spec compiles and renders without a warning;
 * the HTML page holds every chart as inline SVG and needs nothing from the network; each
 * chart has a valid PNG of plausible size beside it. And the charts say what they mean
 * (issue 14.12): the forest plot draws its intervals over hollow points with a zero line;
 * the learning curve has curves only for trained arms, the others as labelled references;
 * the KPI grid has titled axes, domains that hold its bars and no empty cells; a KPI that is
 * the same in every arm is a note, not an empty panel; no number prints as 0.000000.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { View, parse } from 'vega';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compare, type ComparisonOutcome } from '../../experiments/compare.js';
import type { ComparisonSummary } from '../../experiments/compare/summary-schema.js';
import { chartNames, comparisonCharts, omittedCharts, type ReportChart } from '../../experiments/report/charts.js';
import { decimalsFor, formatFixed, formatterFor } from '../../experiments/report/format.js';
import { compileChart, renderSvg } from '../../experiments/report/render.js';
import { chartsFolderOf, writeReport, type WrittenReport } from '../../experiments/report/write.js';

const scratch = mkdtempSync(join(tmpdir(), 'pricelab-report-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let outcome: ComparisonOutcome;
let written: WrittenReport;
/** Two fixed prices: nothing is trained, and price changes and customers lost are 0 in every arm. */
let rulesOnly: ComparisonOutcome;
let rulesOnlyWritten: WrittenReport;
beforeAll(async () => {
  // fashion-returns-v1: rivals, finite stock and returns, so every chart has data.
  outcome = await compare({ scenario: 'fashion-returns-v1', arms: ['list=fixed:59.99', 'cost-plus:1.5', 'q=q-learning'], seeds: 3, evaluationEpisodes: 2, trainingSteps: 360 });
  written = await writeReport(join(scratch, 'report.html'), outcome.summary, outcome.run.trajectories);
  rulesOnly = await compare({ scenario: 'steady-state-v1', arms: ['low=fixed:17.99', 'high=fixed:18.99'], seeds: 3, evaluationEpisodes: 1, trainingSteps: 1, bootstrapResamples: 200 });
  rulesOnlyWritten = await writeReport(join(scratch, 'rules.html'), rulesOnly.summary, rulesOnly.run.trajectories);
}, 120_000);

function pngSize(bytes: Buffer): { width: number; height: number } {
  expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  expect(bytes.subarray(12, 16).toString('ascii')).toBe('IHDR');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

/** Loose views of a spec, to read back what a chart draws. */
interface LayerView {
  readonly mark?: string | { type: string; filled?: boolean; size?: number };
  readonly encoding?: Record<string, { field?: string; datum?: unknown; title?: unknown; scale?: { zero?: boolean } }>;
  readonly data?: { values: Record<string, unknown>[] };
  readonly layer?: readonly LayerView[];
  readonly title?: string | { text: string; subtitle?: string };
}
const markType = (layer: LayerView): string | undefined => (typeof layer.mark === 'string' ? layer.mark : layer.mark?.type);
const chartOf = (charts: readonly ReportChart[], name: string): ReportChart => {
  const chart = charts.find((candidate) => candidate.name === name);
  if (!chart) throw new Error(`no chart ${name}`);
  return chart;
};
/** The panels of a concatenated chart (one per KPI). */
const panelsOf = (chart: ReportChart): LayerView[] => {
  const spec = chart.spec as { concat?: LayerView[]; vconcat?: LayerView[] };
  return spec.concat ?? spec.vconcat ?? [];
};
const titleText = (panel: LayerView): string => (typeof panel.title === 'string' ? panel.title : `${panel.title?.text ?? ''} ${panel.title?.subtitle ?? ''}`);

/** Every scale's domain once vega has run the chart's data through it. */
async function scaleDomains(chart: ReportChart): Promise<Map<string, unknown[]>> {
  const vega = compileChart(chart.spec);
  const view = new View(parse(vega), { renderer: 'none' });
  try {
    await view.runAsync();
    return new Map((vega.scales ?? []).map((scale) => [scale.name, (view.scale(scale.name) as { domain(): unknown[] }).domain()]));
  } finally {
    view.finalize();
  }
}

const constantKpis = (summary: ComparisonSummary): string[] => summary.kpis.filter((kpi) => kpi.byArm.every((entry) => entry.sd === 0 && entry.mean === kpi.byArm[0]?.mean)).map((kpi) => kpi.name);

describe('report charts', () => {
  it('are the five charts of the issue, each compiling with vega-lite and rendering with vega without a warning', async () => {
    const charts = comparisonCharts(outcome.summary, outcome.run.trajectories);
    expect(charts.map((chart) => chart.name)).toEqual([...chartNames]);
    for (const chart of [...charts, ...comparisonCharts(rulesOnly.summary, rulesOnly.run.trajectories)]) {
      const warnings: string[] = [];
      const vega = compileChart(chart.spec, warnings);
      expect(warnings, chart.name).toEqual([]);
      expect(vega.marks?.length ?? 0, chart.name).toBeGreaterThan(0);
      const rendered = await renderSvg(chart.spec);
      expect(rendered.warnings, chart.name).toEqual([]);
      expect(rendered.svg, chart.name).toMatch(/^<svg/);
    }
    expect(written.warnings).toEqual([]);
    expect(rulesOnlyWritten.warnings).toEqual([]);
  });

  it('catch a broken spec: an unknown aggregate is a warning', () => {
    const warnings: string[] = [];
    compileChart({ data: { values: [{ a: 1 }] }, mark: 'point', encoding: { x: { field: 'a', type: 'quantitative', aggregate: 'nonsense' as 'mean' } } }, warnings);
    expect(warnings.length).toBeGreaterThan(0);
  });
});

describe('the forest plot', () => {
  it('draws each interval after (over) a hollow point, with a full-height zero line, in a titled panel per KPI', () => {
    const forest = chartOf(comparisonCharts(outcome.summary, outcome.run.trajectories), 'forest');
    const panels = panelsOf(forest);
    const differs = (kpi: string): boolean => outcome.summary.comparisons.some((comparison) => comparison.kpi === kpi && [comparison.estimate, comparison.t.low, comparison.t.high, comparison.bootstrap.low, comparison.bootstrap.high].some((end) => end !== 0));
    const tested = outcome.summary.kpis.filter((kpi) => kpi.direction !== 'none' && differs(kpi.name));
    expect(panels).toHaveLength(tested.length);
    const same = outcome.summary.kpis.filter((kpi) => kpi.direction !== 'none' && !differs(kpi.name));
    expect(forest.notes).toEqual(same.map((kpi) => `${kpi.name} (${kpi.label}): the difference from list is 0 in every arm and seed; no panel.`));
    for (const [index, panel] of panels.entries()) {
      const kpi = tested[index];
      expect(titleText(panel), kpi?.name).toContain(kpi?.label);
      const layers = panel.layer ?? [];
      const pointIndex = layers.findIndex((layer) => markType(layer) === 'point');
      const point = layers[pointIndex];
      expect(pointIndex, kpi?.name).toBeGreaterThanOrEqual(0);
      expect(typeof point?.mark === 'object' && point.mark.filled === false, 'the point is hollow').toBe(true);
      const intervals = layers.map((layer, position) => ({ layer, position })).filter(({ layer }) => markType(layer) === 'rule' && layer.encoding?.['x2'] !== undefined);
      expect(intervals.map(({ layer }) => layer.encoding?.['x']?.field).sort()).toEqual(['bootstrapLow', 'tLow']);
      for (const { position } of intervals) expect(position, 'interval drawn after the point').toBeGreaterThan(pointIndex);
      const zero = layers.find((layer) => markType(layer) === 'rule' && layer.encoding?.['x']?.datum === 0);
      expect(zero, 'a zero rule').toBeDefined();
      expect(zero?.encoding?.['y'], 'the zero rule spans the panel').toBeUndefined();
      expect(point?.encoding?.['y']?.field).toBe('arm');
      expect(point?.encoding?.['y']?.title).toBe('arm');
      expect(String(point?.encoding?.['x']?.title)).toContain(`arm − ${outcome.summary.baseline}`);
    }
  });

  it('has x domains that hold zero and every interval', async () => {
    const forest = chartOf(comparisonCharts(outcome.summary, outcome.run.trajectories), 'forest');
    const domains = await scaleDomains(forest);
    expect(panelsOf(forest).length).toBeGreaterThan(0);
    for (const [index, panel] of panelsOf(forest).entries()) {
      const domain = domains.get(`concat_${index}_x`) as [number, number];
      const rows = panel.data?.values ?? [];
      const ends = rows.flatMap((row) => [row['tLow'], row['tHigh'], row['bootstrapLow'], row['bootstrapHigh'], row['estimate']] as number[]);
      expect(domain[0], `panel ${index}`).toBeLessThanOrEqual(Math.min(0, ...ends));
      expect(domain[1], `panel ${index}`).toBeGreaterThanOrEqual(Math.max(0, ...ends));
    }
  });
});

describe('the learning curve', () => {
  it('has curves only for trained arms; the others are horizontal references named "(not trained)"', () => {
    const curves = chartOf(comparisonCharts(outcome.summary, outcome.run.trajectories), 'learning-curves');
    const trained = outcome.summary.arms.filter((arm) => arm.learns).map((arm) => arm.name);
    const untrained = outcome.summary.arms.filter((arm) => !arm.learns).map((arm) => arm.name);
    expect(trained).toEqual(['q']);
    const layers: LayerView[] = [];
    const collect = (layer: LayerView): void => {
      layers.push(layer);
      for (const child of layer.layer ?? []) collect(child);
    };
    collect(curves.spec as LayerView);
    const rows = layers.flatMap((layer) => layer.data?.values ?? []);
    const overSteps = rows.filter((row) => 'steps' in row);
    expect(overSteps.length).toBeGreaterThan(0);
    expect(new Set(overSteps.map((row) => row['arm']))).toEqual(new Set(trained));
    const references = rows.filter((row) => !('steps' in row));
    expect(references.map((row) => row['arm'])).toEqual(untrained.map((arm) => `${arm} (not trained)`));
    // Each reference is the arm's (flat) greedy reward on the learning-curve episodes.
    for (const [index, arm] of untrained.entries()) expect(references[index]?.['mean']).toBe(outcome.summary.learningCurves.find((point) => point.arm === arm)?.mean);
    const referenceLayer = layers.find((layer) => layer.data?.values.some((row) => !('steps' in row)));
    expect(referenceLayer && markType(referenceLayer)).toBe('rule');
    expect(referenceLayer?.encoding?.['x'], 'a reference spans every step').toBeUndefined();
  });

  it('is left out, with the reason on the page, when no arm was trained', () => {
    const charts = comparisonCharts(rulesOnly.summary, rulesOnly.run.trajectories);
    expect(charts.map((chart) => chart.name)).toEqual(chartNames.filter((name) => name !== 'learning-curves'));
    expect(omittedCharts(rulesOnly.summary).map((chart) => chart.name)).toEqual(['learning-curves']);
    expect(omittedCharts(outcome.summary)).toEqual([]);
    expect(rulesOnlyWritten.pngs.map((path) => path.split('/').at(-1))).not.toContain('learning-curves.png');
    const html = readFileSync(rulesOnlyWritten.html, 'utf8');
    expect(html).toContain('id="chart-learning-curves"');
    expect(html).toContain('No arm was trained');
  });
});

describe('the KPI grid', () => {
  it('has one titled panel per KPI with titled axes, no empty cells, and y domains that hold each bar and interval', async () => {
    const bars = chartOf(comparisonCharts(outcome.summary, outcome.run.trajectories), 'kpi-bars');
    const drawn = outcome.summary.kpis.filter((kpi) => !constantKpis(outcome.summary).includes(kpi.name));
    const panels = panelsOf(bars);
    expect(panels).toHaveLength(drawn.length);
    const domains = await scaleDomains(bars);
    for (const [index, panel] of panels.entries()) {
      const kpi = drawn[index];
      expect(titleText(panel)).toContain(kpi?.label);
      const bar = (panel.layer ?? []).find((layer) => markType(layer) === 'bar');
      expect(String(bar?.encoding?.['y']?.title ?? '')).not.toBe('');
      expect(String((panel as { encoding?: Record<string, { title?: unknown }> }).encoding?.['x']?.title ?? '')).not.toBe('');
      const domain = domains.get(`concat_${index}_y`) as [number, number];
      const ends = (kpi?.byArm ?? []).flatMap((entry) => [entry.mean, entry.low, entry.high]);
      expect(domain[0], kpi?.name).toBeLessThanOrEqual(Math.min(0, ...ends));
      expect(domain[1], kpi?.name).toBeGreaterThanOrEqual(Math.max(0, ...ends));
      expect(domain[1], kpi?.name).toBeGreaterThan(domain[0]);
    }
  });

  it('turns a KPI with one value in every arm into a note, in the bars and in the forest, instead of an empty panel', () => {
    const constant = constantKpis(rulesOnly.summary);
    expect(constant).toEqual(['priceChanges', 'customersLost']);
    const charts = comparisonCharts(rulesOnly.summary, rulesOnly.run.trajectories);
    const bars = chartOf(charts, 'kpi-bars');
    const forest = chartOf(charts, 'forest');
    for (const name of constant) {
      const label = rulesOnly.summary.kpis.find((kpi) => kpi.name === name)?.label ?? '';
      for (const chart of [bars, forest]) expect(panelsOf(chart).map(titleText).join('\n'), chart.name).not.toContain(label);
      expect(bars.notes).toContain(`${name} (${label}): 0 in every arm and seed; no panel.`);
      expect(forest.notes.some((note) => note.startsWith(`${name} (${label}): the difference from low is 0`))).toBe(true);
    }
    expect(panelsOf(bars)).toHaveLength(rulesOnly.summary.kpis.length - constant.length);
    const html = readFileSync(rulesOnlyWritten.html, 'utf8');
    expect(html).toContain('priceChanges (price changes): 0 in every arm and seed; no panel.');
  });
});

describe('numbers', () => {
  it('never print as 0.000000, in the charts or the tables', () => {
    for (const report of [written, rulesOnlyWritten]) {
      const html = readFileSync(report.html, 'utf8');
      // Not preceded by a digit or a point: SVG coordinates like 70.0000000001 are not printed numbers.
      expect(html).not.toMatch(/(?<![\d.])-?0\.0{6}/);
      expect(html).not.toMatch(/>-0</);
    }
  });

  it("share one count of decimals per KPI in the page's KPI table, four significant digits for the largest", () => {
    const html = readFileSync(written.html, 'utf8');
    const table = html.slice(html.indexOf('<h2>KPIs per arm</h2>'));
    for (const kpi of outcome.summary.kpis) {
      const means = [...table.matchAll(new RegExp(`<tr><td>${kpi.name}</td><td>[^<]*</td><td>([^<]*)</td>`, 'g'))].map((match) => match[1] ?? '');
      expect(means, kpi.name).toHaveLength(outcome.summary.arms.length);
      // Exactly 0 prints as 0; every other mean has the KPI's decimals.
      const decimals = new Set(means.filter((text) => text !== '0').map((text) => text.split('.')[1]?.length ?? 0));
      if (decimals.size === 0) continue;
      expect(decimals.size, `${kpi.name}: ${means.join(' ')}`).toBe(1);
      expect([...decimals][0], kpi.name).toBe(decimalsFor(kpi.byArm.flatMap((entry) => [entry.mean, entry.low, entry.high, entry.iqm])));
    }
  });

  it('formatterFor gives the largest value of a set four significant digits and every value the same decimals, with no -0', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e9, max: 1e9, noNaN: true }), { minLength: 1, maxLength: 8 }), (values) => {
        const format = formatterFor(values);
        const texts = values.map(format);
        const largest = Math.max(...values.map(Math.abs));
        const decimals = decimalsFor(values);
        for (const [index, text] of texts.entries()) {
          if (values[index] === 0) expect(text).toBe('0');
          else expect(text.split('.')[1]?.length ?? 0).toBe(decimals);
          expect(text).not.toMatch(/^-[0.,]*$/);
        }
        if (largest >= 1e-6) {
          const digits = format(largest).replace(/[,.]/g, '').replace(/^0+/, '');
          // Four significant digits, or more when the integer part alone has more.
          expect(digits.length).toBe(Math.max(4, Math.floor(Math.log10(Number(format(largest).replace(/,/g, '')))) + 1));
        }
      }),
    );
    expect(formatterFor([0, 0])(0)).toBe('0');
    expect(formatFixed(-0.00001, 2)).toBe('0.00');
    expect(formatterFor([0, 149.33])(0)).toBe('0');
    expect(formatterFor([1e-13, -1e-12])(1e-13)).toBe('0');
    expect(formatterFor([81603.89, 51296.9])(81603.89)).toBe('81,604');
    expect(formatterFor([0.4895, 0.5213])(0.4895)).toBe('0.4895');
    expect(formatterFor([17.99, 18.99])(17.99)).toBe('17.99');
    expect(formatFixed(null, 2)).toBe('-');
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
