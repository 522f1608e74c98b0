/**
 * The fairness section of a comparison (issue 18, "A fairness guard"): each arm's effective
 * price paid by group, its dispersion and max/min ratio, and the share a sensitive attribute
 * explains, in the summary JSON, the text output and the HTML report (table and chart).
 *
 * Hand-worked: the unit runner is the local one with each unit's price cells replaced by known
 * ones, so everything after the units (pooling over seeds, the report, the summary, the text, the
 * page) runs as in any comparison. On targeted-coupon-v1 (students: incomeBand low,
 * professionals: high; groups are segment/stage):
 *   flat     every unit at 20                                    sd 0, ratio 1, eta^2 0
 *   tilted   per seed students/new 10 at 8, professionals/new 10 at 10
 *            pooled over 2 seeds: 20 at 8, 20 at 10               mean 9, sd 1, cv 1/9, ratio 1.25, eta^2 1
 *   mixed    per seed students/new 5 at 8, students/repeat 5 at 10, professionals/new 10 at 10
 *            mean 9.5; group sd sqrt(0.75); ratio 1.25; levels low 9, high 10:
 *            SS_between = 20 x 0.25 + 20 x 0.25 = 10, SS_total = 10 x 2.25 + 30 x 0.25 = 30, eta^2 1/3
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { comparisonText } from '../../cli/commands/compare.js';
import { buildMarketModel } from '../../env/model.js';
import { CouponMarketEnv, type CouponStepInfo } from '../../env/coupons/coupon-market.js';
import { compare, comparisonSummarySchema, evaluationSeedOf, type ComparisonOutcome, type ComparisonSummary } from '../../experiments/compare.js';
import { cellsFromCouponSteps, fairnessReport } from '../../experiments/fairness.js';
import { loadScenario } from '../../scenarios/load.js';
import type { FairnessCell } from '../../experiments/compare/fairness.js';
import { localUnitRunner } from '../../experiments/compare/run.js';
import { comparisonCharts, omittedCharts } from '../../experiments/report/charts.js';
import { renderSvg } from '../../experiments/report/render.js';
import { writeReport } from '../../experiments/report/write.js';

const scratch = mkdtempSync(join(tmpdir(), 'pricelab-compare-fairness-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const targeted = join(import.meta.dirname, '..', '..', 'scenarios', 'coupons', 'targeted-coupon-v1.json');
const cell = (segment: string, stage: string, units: number, price: number): FairnessCell => ({ segment, stage, units, paid: units * price });
const handCells: Record<string, FairnessCell[]> = {
  flat: [cell('students', 'new', 7, 20), cell('professionals', 'repeat', 3, 20)],
  tilted: [cell('students', 'new', 10, 8), cell('professionals', 'new', 10, 10)],
  mixed: [cell('students', 'new', 5, 8), cell('students', 'repeat', 5, 10), cell('professionals', 'new', 10, 10)],
};

let handWorked: ComparisonOutcome;
let priceOnly: ComparisonOutcome;
let couponReplay: ComparisonOutcome;
beforeAll(async () => {
  handWorked = await compare({
    scenario: targeted,
    arms: ['flat=fixed:24', 'tilted=fixed:22', 'mixed=fixed:19'],
    seeds: 2,
    evaluationEpisodes: 1,
    trainingSteps: 1,
    bootstrapResamples: 100,
    unitRunner: ({ scenario, plan }) => {
      const local = localUnitRunner(buildMarketModel(scenario.scenario), plan);
      return async (units, onProgress) => (await local(units, onProgress)).map((outcome) => ({ ...outcome, priceCells: handCells[outcome.result.arm] ?? [] }));
    },
  });
  priceOnly = await compare({ scenario: 'steady-state-v1', arms: ['list=fixed:17.99', 'markdown'], seeds: 2, evaluationEpisodes: 2, trainingSteps: 1, bootstrapResamples: 100 });
  couponReplay = await compare({ scenario: targeted, arms: ['fixed:22', 'fixed:19'], seeds: 2, evaluationEpisodes: 1, trainingSteps: 1, bootstrapResamples: 100 });
}, 120_000);

/** A summary as version 1 stored it: without the fairness section. */
function withoutFairness(summary: ComparisonSummary): ComparisonSummary {
  const older = { ...summary };
  delete older.fairness;
  return older;
}

const armOf = (outcome: ComparisonOutcome, arm: string) => {
  const entry = outcome.summary.fairness?.byArm.find((candidate) => candidate.arm === arm);
  if (!entry) throw new Error(`no fairness entry for ${arm}`);
  return entry;
};

describe('the fairness section of a comparison, hand-worked', () => {
  it('pools each arm over its seeds into known effective prices, dispersion, ratio and eta^2', () => {
    const fairness = handWorked.summary.fairness;
    expect(fairness).toMatchObject({ market: 'coupon market', groupedBy: 'segment and stage', sensitiveAttributes: ['incomeBand'] });
    const flat = armOf(handWorked, 'flat');
    expect(flat.units).toBe(20);
    expect(flat.dispersion).toMatchObject({ standardDeviation: 0, maxMinRatio: 1, highest: null, lowest: null });
    expect(flat.sensitive[0]?.etaSquared).toBe(0);

    const tilted = armOf(handWorked, 'tilted');
    expect(tilted.units).toBe(40);
    expect(tilted.meanEffectivePrice).toBeCloseTo(9, 12);
    expect(tilted.bySegment).toEqual([
      { label: 'students', units: 20, effectivePrice: 8 },
      { label: 'professionals', units: 20, effectivePrice: 10 },
    ]);
    expect(tilted.byStage.find((stage) => stage.label === 'new')).toEqual({ label: 'new', units: 40, effectivePrice: 9 });
    expect(tilted.dispersion.groups).toBe(2);
    expect(tilted.dispersion.standardDeviation).toBeCloseTo(1, 12);
    expect(tilted.dispersion.coefficientOfVariation).toBeCloseTo(1 / 9, 12);
    expect(tilted.dispersion.maxMinRatio).toBeCloseTo(1.25, 12);
    expect(tilted.dispersion).toMatchObject({ highest: 'professionals/new', lowest: 'students/new' });
    expect(tilted.sensitive[0]?.etaSquared).toBeCloseTo(1, 12);

    const mixed = armOf(handWorked, 'mixed');
    expect(mixed.meanEffectivePrice).toBeCloseTo(9.5, 12);
    expect(mixed.dispersion.standardDeviation).toBeCloseTo(Math.sqrt(0.75), 12);
    expect(mixed.dispersion.maxMinRatio).toBeCloseTo(1.25, 12);
    expect(mixed.sensitive[0]?.etaSquared).toBeCloseTo(1 / 3, 12);
    expect(mixed.sensitive[0]?.byLevel).toEqual([
      { label: 'low', units: 20, effectivePrice: 9 },
      { label: 'high', units: 20, effectivePrice: 10 },
    ]);
  });

  it('fits the strict summary schema, and a version 1 summary without it still reads', () => {
    const roundTripped: unknown = JSON.parse(JSON.stringify(handWorked.summary));
    expect(comparisonSummarySchema.safeParse(roundTripped).success).toBe(true);
    const older = withoutFairness(handWorked.summary);
    expect(comparisonSummarySchema.safeParse({ ...older, schemaVersion: 1 }).success).toBe(true);
  });

  it('prints the effective price per group, the ratio and eta^2 in the text output', () => {
    const lines = comparisonText(handWorked.summary, [], undefined).split('\n');
    expect(lines).toContain("effective price paid by segment and stage (after each arm's own coupons in the coupon market):");
    const row = (label: string) => lines.find((line) => line.startsWith(`${label} `))?.split(/\s{2,}/);
    // One count of decimals for every price of the table: four significant digits of the largest (20.00).
    expect(row('students/new')).toEqual(['students/new', '20.00', '8.00', '8.00']);
    expect(row('professionals/new')).toEqual(['professionals/new', '-', '10.00', '10.00']);
    expect(row('max/min ratio')).toEqual(['max/min ratio', '1.000', '1.250', '1.250']);
    expect(row('incomeBand eta^2')).toEqual(['incomeBand eta^2', '0.000', '1.000', '0.333']);
  });

  it('puts the section in the HTML report: a table per arm and the effective-price chart, drawn without a warning', async () => {
    const chart = comparisonCharts(handWorked.summary, handWorked.run.trajectories).find((candidate) => candidate.name === 'effective-price');
    expect(chart).toBeDefined();
    // One panel per arm (its own x range), in arm order.
    const panels = (chart?.spec as { vconcat: { title: { text: string }; data: { values: { arm: string; group: string; effectivePrice: number }[] } }[] }).vconcat;
    expect(panels.map((panel) => panel.title.text)).toEqual(['flat (max/min 1.000)', 'tilted (max/min 1.250)', 'mixed (max/min 1.250)']);
    const values = panels.flatMap((panel) => panel.data.values);
    expect(values.filter((value) => value.arm === 'tilted').map((value) => [value.group, value.effectivePrice])).toEqual([
      ['students/new', 8],
      ['professionals/new', 10],
    ]);
    expect(chart?.notes).toContain("mixed: incomeBand explains 33.3% of the effective price's variance (eta^2 0.333).");
    expect((await renderSvg(chart!.spec)).warnings).toEqual([]);

    const written = await writeReport(join(scratch, 'report.html'), handWorked.summary, handWorked.run.trajectories);
    expect(written.warnings).toEqual([]);
    expect(written.pngs.map((path) => path.split('/').at(-1))).toContain('effective-price.png');
    const html = readFileSync(written.html, 'utf8');
    expect(html).toContain('<section id="fairness">');
    expect(html).toContain('<section class="chart" id="chart-effective-price">');
    const tiltedRow = /<tr data-arm="tilted">(.*?)<\/tr>/.exec(html)?.[1] ?? '';
    expect(tiltedRow).toContain('<td class="max-min-ratio">1.250</td>');
    expect(tiltedRow).toContain('<td>professionals/new over students/new</td>');
    expect(tiltedRow).toContain('<td>1.000</td>'); // incomeBand eta^2
    expect(html).toMatch(/<tr><td>mixed<\/td><td>incomeBand<\/td><td>low<\/td><td>20<\/td><td>9\.00<\/td><\/tr>/);
  });

  it('leaves the chart out, saying why, for a summary made before the fairness section', () => {
    const older = withoutFairness(handWorked.summary);
    expect(comparisonCharts(older, []).map((chart) => chart.name)).not.toContain('effective-price');
    expect(omittedCharts(older).find((chart) => chart.name === 'effective-price')?.reason).toContain('no fairness section');
  });
});

describe('the fairness section on a price-only market', () => {
  it("is the posted price by segment: a fixed price is paid by every segment, ratio 1; units and GMV match the arm's KPIs", () => {
    const { summary } = priceOnly;
    expect(summary.fairness).toMatchObject({ market: 'posted prices', groupedBy: 'segment', sensitiveAttributes: [] });
    const list = armOf(priceOnly, 'list');
    expect(list.bySegment.map((segment) => segment.label)).toEqual(['bargain-hunters', 'quality-seekers', 'loyal-regulars']);
    for (const segment of list.bySegment) expect(segment.effectivePrice).toBeCloseTo(17.99, 9);
    expect(list.byStage).toEqual([]);
    expect(list.dispersion).toMatchObject({ groups: 3, standardDeviation: 0, maxMinRatio: 1, highest: null, lowest: null });
    for (const arm of ['list', 'markdown']) {
      const entry = armOf(priceOnly, arm);
      const perSeed = summary.perSeed.filter((row) => row.arm === arm);
      // perSeed KPIs are means over the seed's evaluation episodes: times the episodes, the totals.
      const units = perSeed.reduce((sum, row) => sum + (row.kpis.units ?? 0), 0) * summary.evaluationEpisodes;
      const gmv = perSeed.reduce((sum, row) => sum + (row.kpis.gmv ?? 0), 0) * summary.evaluationEpisodes;
      expect(entry.units).toBeCloseTo(units, 6);
      expect(entry.meanEffectivePrice).toBeCloseTo(gmv / units, 9);
    }
    // A markdown's segments buy on different days, so they pay different effective prices.
    const markdown = armOf(priceOnly, 'markdown');
    expect(markdown.dispersion.maxMinRatio).toBeGreaterThan(1);
    expect(markdown.dispersion.highest).not.toBeNull();
  });
});

describe('the fairness section on a coupon scenario', () => {
  it('replays each evaluation episode in the coupon market on its seed, with no coupon: the figures of that replay done by hand', () => {
    expect(couponReplay.summary.fairness).toMatchObject({ market: 'coupon market', groupedBy: 'segment and stage', sensitiveAttributes: ['incomeBand'] });
    const scenario = loadScenario(targeted).scenario;
    for (const [arm, price] of [['fixed:22', 22], ['fixed:19', 19]] as const) {
      const env = new CouponMarketEnv(scenario);
      const steps: CouponStepInfo[] = [];
      for (const seed of couponReplay.summary.seeds) {
        env.reset({ seed: evaluationSeedOf(seed, 0) });
        for (let day = 0; day < env.horizon; day++) steps.push(env.step(env.actionIndex({ priceIndex: env.prices.indexOf(price), campaign: -1 })).info);
      }
      const expected = fairnessReport(cellsFromCouponSteps(steps, { students: { incomeBand: 'low' }, professionals: { incomeBand: 'high' } }), { sensitiveAttributes: ['incomeBand'] });
      const entry = armOf(couponReplay, arm);
      expect(entry.units).toBeCloseTo(expected.units, 6);
      expect(entry.units).toBeGreaterThan(0);
      expect(entry.byGroup.map((group) => [group.label, group.units])).toEqual(expected.byGroup.map((group) => [group.label, expect.closeTo(group.units, 6)]));
      expect(entry.byStage.map((stage) => stage.label)).toEqual(['new', 'hesitant', 'repeat', 'lapsed']);
      for (const group of entry.byGroup) expect(group.effectivePrice).toBeCloseTo(price, 9);
      expect(entry.dispersion).toMatchObject({ maxMinRatio: 1, highest: null, lowest: null });
      expect(entry.sensitive).toMatchObject([{ attribute: 'incomeBand', etaSquared: 0 }]);
    }
  });
});
