/**
 * The compare report on a coupon scenario (experiments/report/charts.ts): in place of the price
 * market's price-trajectories and inventory-returns (flat by construction in the coupon market:
 * no rivals, no stock, no returns; the page says why they are absent) it draws each arm's
 * coupons by day and a coupons chart: the share of days per campaign and the coupon KPIs per
 * arm, whose data equal the summary's. The market is the coupon-choice known-answer market
 * (tests/agents/coupon-choice-market.ts).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compare, type ComparisonOutcome } from '../../experiments/compare.js';
import { comparisonCharts, couponChartKpis, couponChartNames, couponKpiValues, couponShareValues, omittedCharts, type ReportChart } from '../../experiments/report/charts.js';
import { compileChart, renderSvg } from '../../experiments/report/render.js';
import { chartsFolderOf, writeReport } from '../../experiments/report/write.js';
import { writeCouponChoiceMarket } from '../agents/coupon-choice-market.js';

const scratch = mkdtempSync(join(tmpdir(), 'pricelab-report-coupons-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const scenarioFile = writeCouponChoiceMarket(scratch);

let outcome: ComparisonOutcome;
let charts: ReportChart[];
beforeAll(async () => {
  outcome = await compare({ scenario: scenarioFile, arms: ['none=none@10', 'deep=coupon:1@10', 'q=q-learning'], seeds: 2, evaluationEpisodes: 2, trainingSteps: 200, curvePoints: 2, bootstrapResamples: 200 });
  charts = comparisonCharts(outcome.summary, outcome.run.trajectories);
}, 180_000);

/** A chart freshly made (rendering lets vega tag the inline data rows). */
const chartOf = (name: string): ReportChart => {
  const chart = comparisonCharts(outcome.summary, outcome.run.trajectories).find((candidate) => candidate.name === name);
  if (!chart) throw new Error(`no ${name} chart`);
  return chart;
};

describe('the report of a coupon scenario', () => {
  it('draws the coupon charts in place of the flat price-market ones, and says why those are absent', async () => {
    expect(charts.map((chart) => chart.name)).toEqual([...couponChartNames]);
    const omitted = omittedCharts(outcome.summary);
    expect(omitted.map((chart) => chart.name)).toEqual(['price-trajectories', 'inventory-returns']);
    expect(omitted.find((chart) => chart.name === 'inventory-returns')?.reason).toMatch(/no stock and takes no returns/);
    expect(omitted.find((chart) => chart.name === 'price-trajectories')?.reason).toMatch(/no rivals/);
    for (const chart of charts) {
      const warnings: string[] = [];
      compileChart(chart.spec, warnings);
      expect(warnings, chart.name).toEqual([]);
      const rendered = await renderSvg(chart.spec);
      expect(rendered.warnings, chart.name).toEqual([]);
    }
  });

  it("draws the share of days per campaign and the coupon KPIs with the summary's values", () => {
    const coupons = outcome.summary.coupons!;
    const shares = couponShareValues(outcome.summary);
    for (const entry of coupons.byArm) {
      const rows = shares.filter((row) => row.arm === entry.arm);
      expect(rows.map((row) => row.coupon)).toEqual(['no coupon', ...coupons.campaigns]);
      for (const row of rows) expect(row.days).toBe(entry.campaignDays[row.coupon] ?? 0);
      expect(rows.reduce((sum, row) => sum + row.share, 0)).toBeCloseTo(1, 12);
    }
    // Known answers: "deep" offered campaign 1 every evaluation day, "none" never a coupon.
    expect(shares.filter((row) => row.arm === 'deep' && row.share > 0)).toEqual([{ arm: 'deep', coupon: coupons.campaigns[1], days: expect.any(Number), share: 1 }]);
    expect(shares.find((row) => row.arm === 'none' && row.coupon === 'no coupon')?.share).toBe(1);

    const kpis = couponKpiValues(outcome.summary);
    expect(kpis).toHaveLength(couponChartKpis.length * outcome.summary.arms.length);
    for (const row of kpis) {
      const entry = outcome.summary.kpis.find((kpi) => kpi.name === row.kpi)?.byArm.find((candidate) => candidate.arm === row.arm);
      expect(row).toMatchObject({ mean: entry?.mean, low: entry?.low, high: entry?.high });
    }

    // The spec carries exactly those values.
    const spec = chartOf('coupons').spec as unknown as { vconcat: [{ data: { values: unknown[] } }, { concat: { data: { values: { kpi: string }[] } }[] }] };
    expect(spec.vconcat[0].data.values).toEqual(shares);
    expect(spec.vconcat[1].concat.flatMap((panel) => panel.data.values)).toEqual(kpis);
  });

  it("draws each arm's price and coupon day by day from the trajectories", () => {
    const spec = chartOf('coupon-days').spec as unknown as { data: { values: { arm: string; day: number; price: number; coupon: string }[] } };
    const values = spec.data.values;
    const horizon = outcome.run.trajectories.filter((day) => day.arm === 'deep').length;
    expect(horizon).toBeGreaterThan(0);
    expect(values.filter((value) => value.arm === 'deep').map((value) => [value.price, value.coupon])).toEqual(Array.from({ length: horizon }, () => [10, outcome.summary.coupons!.campaigns[1]]));
    expect(new Set(values.filter((value) => value.arm === 'none').map((value) => value.coupon))).toEqual(new Set(['no coupon']));
    expect(values).toEqual(outcome.run.trajectories.map((day) => ({ arm: day.arm, day: day.day, price: day.price, coupon: day.coupon })));
  });

  it('writes the PNGs and the page: the coupon charts, and the absent charts with their reason', async () => {
    const written = await writeReport(join(scratch, 'report.html'), outcome.summary, outcome.run.trajectories);
    expect(written.warnings).toEqual([]);
    const folder = chartsFolderOf(written.html);
    expect(written.pngs.map((png) => png.slice(folder.length + 1))).toEqual(couponChartNames.map((name) => `${name}.png`));
    expect(existsSync(join(folder, 'inventory-returns.png'))).toBe(false);
    const html = readFileSync(written.html, 'utf8');
    expect(html).toContain('<section class="chart" id="chart-coupons">');
    expect(html).toContain('<section class="chart" id="chart-coupon-days">');
    expect(html).toMatch(/<section class="chart omitted" id="chart-inventory-returns">[\s\S]*?no stock and takes no returns/);
  });
});
