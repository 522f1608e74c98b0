/**
 * The charts of a comparison report, as vega-lite specs with their data inline (a spec is
 * a complete, portable description of its chart):
 *
 *   learning-curves      greedy reward during training, mean and 95% band across seeds;
 *                        rules and artifacts as flat references
 *   kpi-bars             each KPI per arm: mean with its 95% t interval, one panel per KPI
 *   forest               paired differences against the baseline, per KPI: the estimate with
 *                        its BCa bootstrap interval (t interval as a thin line), zero marked,
 *                        coloured by verdict
 *   price-trajectories   our price and each rival's, day by day, one panel per arm (the
 *                        first evaluation episode of the first seed: the same customers for all)
 *   inventory-returns    stock on hand and units returned, day by day, per arm
 *
 * Fonts are DejaVu Sans, so the server-side SVG and PNG look the same everywhere.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { ComparisonSummary } from '../compare/summary-schema.js';
import type { TrajectoryDay } from '../compare/run.js';

export interface ReportChart {
  /** File-safe name: the PNG is `<name>.png`. */
  readonly name: string;
  readonly title: string;
  /** What the chart shows, for the page. */
  readonly caption: string;
  readonly spec: TopLevelSpec;
}

export const chartNames = ['learning-curves', 'kpi-bars', 'forest', 'price-trajectories', 'inventory-returns'] as const;

const config = {
  font: 'DejaVu Sans',
  background: 'white',
  view: { stroke: '#ddd' },
  axis: { labelFontSize: 10, titleFontSize: 11 },
  header: { labelFontSize: 11, titleFontSize: 11 },
  legend: { labelFontSize: 10, titleFontSize: 11 },
  title: { fontSize: 13 },
} as const;

const schema = 'https://vega.github.io/schema/vega-lite/v6.json';

export function comparisonCharts(summary: ComparisonSummary, trajectories: readonly TrajectoryDay[]): ReportChart[] {
  return [learningCurvesChart(summary), kpiBarsChart(summary), forestChart(summary), priceTrajectoriesChart(summary, trajectories), inventoryReturnsChart(summary, trajectories)];
}

function learningCurvesChart(summary: ComparisonSummary): ReportChart {
  const learns = new Map(summary.arms.map((arm) => [arm.name, arm.learns]));
  const values = summary.learningCurves.map((point) => ({ ...point, role: learns.get(point.arm) ? 'learner' : 'reference (no training)' }));
  return {
    name: 'learning-curves',
    title: 'Learning curves',
    caption: `Greedy mean episode reward during training on held-out seeds: mean and 95% t band across ${summary.seeds.length} seeds. Arms that do not learn are flat references.`,
    spec: {
      $schema: schema,
      config,
      width: 560,
      height: 300,
      data: { values },
      encoding: {
        x: { field: 'steps', type: 'quantitative', title: 'training steps' },
        color: { field: 'arm', type: 'nominal', title: 'arm', sort: summary.arms.map((arm) => arm.name) },
      },
      layer: [
        { mark: { type: 'errorband', opacity: 0.2 }, encoding: { y: { field: 'low', type: 'quantitative', title: 'mean episode reward' }, y2: { field: 'high' } } },
        {
          mark: { type: 'line', point: true },
          encoding: {
            y: { field: 'mean', type: 'quantitative' },
            strokeDash: { field: 'role', type: 'nominal', title: 'kind', scale: { domain: ['learner', 'reference (no training)'], range: [[1, 0], [5, 3]] } },
          },
        },
      ],
    },
  };
}

function kpiBarsChart(summary: ComparisonSummary): ReportChart {
  const values = summary.kpis.flatMap((kpi) => kpi.byArm.map((entry) => ({ kpi: kpi.name, arm: entry.arm, mean: entry.mean, low: entry.low, high: entry.high })));
  return {
    name: 'kpi-bars',
    title: 'KPIs per arm',
    caption: `Each KPI's mean across seeds with its 95% t interval (the seed is the unit: a seed's value is its mean over ${summary.evaluationEpisodes} evaluation episodes).`,
    spec: {
      $schema: schema,
      config,
      data: { values },
      facet: { field: 'kpi', type: 'nominal', title: null, sort: summary.kpis.map((kpi) => kpi.name) },
      columns: 4,
      resolve: { scale: { y: 'independent' } },
      spec: {
        width: 150,
        height: 120,
        encoding: { x: { field: 'arm', type: 'nominal', title: null, sort: summary.arms.map((arm) => arm.name), axis: { labelAngle: -30 } } },
        layer: [
          { mark: 'bar', encoding: { y: { field: 'mean', type: 'quantitative', title: null }, color: { field: 'arm', type: 'nominal', legend: null, sort: summary.arms.map((arm) => arm.name) } } },
          { mark: { type: 'rule', color: 'black' }, encoding: { y: { field: 'low', type: 'quantitative' }, y2: { field: 'high' } } },
        ],
      },
    },
  };
}

function forestChart(summary: ComparisonSummary): ReportChart {
  const values = summary.comparisons.map((comparison) => ({
    kpi: comparison.kpi,
    arm: comparison.arm,
    estimate: comparison.estimate,
    bootstrapLow: comparison.bootstrap.low,
    bootstrapHigh: comparison.bootstrap.high,
    tLow: comparison.t.low,
    tHigh: comparison.t.high,
    verdict: comparison.verdict,
    adjustedPValue: comparison.adjustedPValue,
    zero: 0,
  }));
  const arms = summary.arms.map((arm) => arm.name).filter((name) => name !== summary.baseline);
  return {
    name: 'forest',
    title: `Paired differences against ${summary.baseline}`,
    caption: `Arm minus baseline, per KPI, paired by seed (common random numbers): the mean difference with its 95% BCa bootstrap interval (thick) and paired t interval (thin); colour is the verdict after Holm's correction across ${summary.comparisons.length} comparisons.`,
    spec: {
      $schema: schema,
      config,
      data: { values },
      facet: { row: { field: 'kpi', type: 'nominal', title: null, sort: summary.kpis.map((kpi) => kpi.name), header: { labelAngle: 0, labelAlign: 'left' } } },
      resolve: { scale: { x: 'independent' } },
      spec: {
        width: 420,
        height: { step: 16 },
        encoding: { y: { field: 'arm', type: 'nominal', title: null, sort: arms } },
        layer: [
          { mark: { type: 'rule', color: '#888', strokeDash: [3, 3] }, encoding: { x: { field: 'zero', type: 'quantitative' } } },
          { mark: { type: 'rule', strokeWidth: 1 }, encoding: { x: { field: 'tLow', type: 'quantitative', title: 'arm - baseline' }, x2: { field: 'tHigh' }, color: verdictColor } },
          { mark: { type: 'rule', strokeWidth: 4 }, encoding: { x: { field: 'bootstrapLow', type: 'quantitative' }, x2: { field: 'bootstrapHigh' }, color: verdictColor } },
          {
            mark: { type: 'point', filled: true, size: 50, color: 'black' },
            encoding: {
              x: { field: 'estimate', type: 'quantitative' },
              tooltip: [{ field: 'arm' }, { field: 'kpi' }, { field: 'estimate', format: '.4~g' }, { field: 'adjustedPValue', format: '.3~g' }, { field: 'verdict' }],
            },
          },
        ],
      },
    },
  };
}

const verdictColor = {
  field: 'verdict',
  type: 'nominal',
  title: 'verdict',
  scale: { domain: ['better', 'no detectable difference', 'worse'], range: ['#1a9850', '#888888', '#d73027'] },
} as const;

const rivalColours = ['#e6550d', '#3182bd', '#31a354', '#756bb1', '#e377c2', '#8c564b', '#bcbd22', '#17becf'];

function priceTrajectoriesChart(summary: ComparisonSummary, trajectories: readonly TrajectoryDay[]): ReportChart {
  const values = trajectories.flatMap((day) => [
    { arm: day.arm, day: day.day, firm: 'our price', price: day.price },
    ...Object.entries(day.rivalPrices).map(([rival, price]) => ({ arm: day.arm, day: day.day, firm: rival, price })),
  ]);
  const rivals = [...new Set(trajectories.flatMap((day) => Object.keys(day.rivalPrices)))];
  return {
    name: 'price-trajectories',
    title: 'Price trajectories against competitors',
    caption: `Our price and each rival's, day by day, in the first evaluation episode of seed ${summary.seeds[0] ?? ''} (the same customers, weather and rival noise for every arm).`,
    spec: {
      $schema: schema,
      config,
      data: { values },
      facet: { row: { field: 'arm', type: 'nominal', title: null, sort: summary.arms.map((arm) => arm.name), header: { labelAngle: 0, labelAlign: 'left' } } },
      spec: {
        width: 560,
        height: 110,
        mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.2 },
        encoding: {
          x: { field: 'day', type: 'quantitative', title: 'day', scale: { nice: false } },
          y: { field: 'price', type: 'quantitative', title: 'price', scale: { zero: false } },
          color: { field: 'firm', type: 'nominal', title: 'firm', scale: { domain: ['our price', ...rivals], range: ['black', ...rivalColours.slice(0, rivals.length)] } },
          strokeWidth: { condition: { test: "datum.firm === 'our price'", value: 2 }, value: 1 },
        },
      },
    },
  };
}

function inventoryReturnsChart(summary: ComparisonSummary, trajectories: readonly TrajectoryDay[]): ReportChart {
  const values = trajectories.flatMap((day) => [
    ...(day.stockOnHand === null ? [] : [{ arm: day.arm, day: day.day, measure: 'stock on hand', value: day.stockOnHand }]),
    { arm: day.arm, day: day.day, measure: 'units returned', value: day.unitsReturned },
    { arm: day.arm, day: day.day, measure: 'units sold', value: day.sold },
  ]);
  return {
    name: 'inventory-returns',
    title: 'Inventory and returns over time',
    caption: `Stock on hand (when stock is finite), units sold and units returned per day, in the same episode as the price trajectories.`,
    spec: {
      $schema: schema,
      config,
      data: { values },
      facet: { row: { field: 'measure', type: 'nominal', title: null, sort: ['stock on hand', 'units sold', 'units returned'], header: { labelAngle: 0, labelAlign: 'left' } } },
      resolve: { scale: { y: 'independent' } },
      spec: {
        width: 560,
        height: 110,
        mark: { type: 'line', strokeWidth: 1.2 },
        encoding: {
          x: { field: 'day', type: 'quantitative', title: 'day', scale: { nice: false } },
          y: { field: 'value', type: 'quantitative', title: null },
          color: { field: 'arm', type: 'nominal', title: 'arm', sort: summary.arms.map((arm) => arm.name) },
        },
      },
    },
  };
}
