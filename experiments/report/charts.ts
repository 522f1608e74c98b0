/**
 * The charts of a comparison report, as vega-lite specs with their data inline (a spec is
 * a complete, portable description of its chart):
 *
 *   learning-curves      greedy reward during training, mean and 95% band across seeds, for
 *                        the arms that were trained; every arm that was not (rules,
 *                        artifacts) is a dashed horizontal reference at its greedy reward on
 *                        the same curve episodes, named "(not trained)". Left out when no arm
 *                        was trained.
 *   kpi-bars             each KPI per arm: mean with its 95% t interval, one titled panel per
 *                        KPI (a concatenation, so no empty cells); a KPI with the same value in
 *                        every arm and seed is a note ("priceChanges: 0 in every arm"), not a panel
 *   forest               paired differences against the baseline, one panel per KPI: a zero
 *                        line, the estimate as a hollow point, and over it the paired t
 *                        interval (thin) and the BCa bootstrap interval (thick), coloured by
 *                        verdict; a KPI whose every difference is 0 is a note
 *   price-trajectories   our price and each rival's, day by day, one panel per arm (the
 *                        first evaluation episode of the first seed: the same customers for all)
 *   inventory-returns    stock on hand and units returned, day by day, per arm
 *   coupon-days          on a coupon scenario, in place of price-trajectories: each arm's price
 *                        day by day with the campaign it offered that day (a point coloured by
 *                        campaign), in the same episode
 *   coupons              on a coupon scenario: the share of evaluation days each arm offered each
 *                        campaign (summary.coupons) and the coupon KPIs per arm (coupon cost,
 *                        redemption rate, incremental units per coupon: mean and 95% interval)
 *   effective-price      the effective price paid (after coupons) per group, one panel per arm
 *                        on its own x range: a point per group (segment, or segment/stage in
 *                        the coupon market) over a bar from its lowest to its highest group,
 *                        titled with the max/min ratio (summary.fairness; left out of
 *                        summaries without it)
 *
 * On a coupon scenario (summary.coupons: coupon-days and coupons are coupon-charts.ts's)
 * price-trajectories and inventory-returns are left out (omittedCharts says why): the coupon market has no rivals, holds no stock and takes no
 * returns (env/coupons/coupon-env.ts), so they would be flat by construction.
 *
 * Fonts are DejaVu Sans, so the server-side SVG and PNG look the same everywhere.
 */
import type { ComparisonSummary } from '../compare/summary-schema.js';
import type { TrajectoryDay } from '../compare/run.js';
import { d3FormatFor, formatterFor } from './format.js';
import { chartConfig as config, vegaLiteSchema as schema, type Layer, type Panel, type ReportChart, type OmittedChart } from './chart-spec.js';
import { couponDaysChart, couponOmittedCharts, couponsChart } from './coupon-charts.js';

export { chartConfig, vegaLiteSchema, type ReportChart, type OmittedChart } from './chart-spec.js';
export { couponChartKpis, couponChartNames, couponKpiValues, couponShareValues } from './coupon-charts.js';

export const chartNames = ['learning-curves', 'kpi-bars', 'forest', 'price-trajectories', 'inventory-returns', 'effective-price'] as const;

/** The charts that have something to draw, in `chartNames` order. */
export function comparisonCharts(summary: ComparisonSummary, trajectories: readonly TrajectoryDay[]): ReportChart[] {
  return [
    ...(trainedArms(summary).length > 0 ? [learningCurvesChart(summary)] : []),
    kpiBarsChart(summary),
    forestChart(summary),
    ...(summary.coupons ? [couponDaysChart(summary, trajectories), couponsChart(summary)] : [priceTrajectoriesChart(summary, trajectories), inventoryReturnsChart(summary, trajectories)]),
    ...(effectivePriceValues(summary).length > 0 ? [effectivePriceChart(summary)] : []),
  ];
}

/** The charts `comparisonCharts` leaves out, each with the reason, for the page. */
export function omittedCharts(summary: ComparisonSummary): OmittedChart[] {
  return [
    ...(trainedArms(summary).length > 0 ? [] : [{ name: 'learning-curves', title: 'Learning curves', reason: 'No arm was trained (every arm is a rule or a stored policy), so there is no learning curve.' }]),
    ...(summary.coupons ? couponOmittedCharts : []),
    ...(effectivePriceValues(summary).length > 0
      ? []
      : [{ name: 'effective-price', title: effectivePriceTitle, reason: summary.fairness ? 'No arm sold a unit, so no effective price was paid.' : 'This summary has no fairness section (made before schema version 2).' }]),
  ];
}

const trainedArms = (summary: ComparisonSummary): string[] => summary.arms.filter((arm) => arm.learns).map((arm) => arm.name);

const directionText = { higher: 'higher is better', lower: 'lower is better', none: 'descriptive (no test)' } as const;

const notTrained = (arm: string): string => `${arm} (not trained)`;

function learningCurvesChart(summary: ComparisonSummary): ReportChart {
  const trained = new Set(trainedArms(summary));
  const curve = summary.learningCurves.filter((point) => trained.has(point.arm));
  // An arm that was not trained has the same greedy reward at every step: one value, drawn as
  // a horizontal reference line across the chart.
  const references = summary.arms
    .filter((arm) => !trained.has(arm.name))
    .flatMap((arm) => {
      const first = summary.learningCurves.find((point) => point.arm === arm.name);
      return first === undefined ? [] : [{ arm: notTrained(arm.name), mean: first.mean, low: first.low, high: first.high }];
    });
  const armOrder = summary.arms.map((arm) => (trained.has(arm.name) ? arm.name : notTrained(arm.name)));
  const format = d3FormatFor([...curve, ...references].map((point) => point.mean));
  // Literal types for the fields vega-lite checks; arrays stay mutable, as its types want.
  const color = { field: 'arm', type: 'nominal' as const, title: 'arm', sort: armOrder, scale: { domain: armOrder }, legend: { symbolType: 'stroke', symbolStrokeWidth: 2.5, symbolSize: 300 } };
  const referenceNames = references.map((reference) => reference.arm);
  const referenceLayer: Layer = {
    data: { values: references },
    mark: { type: 'rule', strokeWidth: 1.5, strokeDash: [6, 4] },
    encoding: { y: { field: 'mean', type: 'quantitative' }, color, tooltip: [{ field: 'arm' }, { field: 'mean', format }] },
  };
  return {
    name: 'learning-curves',
    title: 'Learning curves',
    caption:
      `Greedy mean episode reward of each trained arm during training, on the learning-curve episodes: mean and 95% t band across ${summary.seeds.length} seeds.` +
      (references.length > 0 ? ` Dashed horizontal lines, named "(not trained)": the arms that were not trained (${referenceNames.join(', ')}), at their greedy reward on the same episodes.` : ''),
    notes: [],
    spec: {
      $schema: schema,
      config,
      width: 560,
      height: 300,
      layer: [
        {
          data: { values: curve },
          encoding: { x: { field: 'steps', type: 'quantitative', title: 'training steps' } },
          layer: [
            { mark: { type: 'area', fillOpacity: 0.18 }, encoding: { y: { field: 'low', type: 'quantitative', title: 'mean episode reward' }, y2: { field: 'high' }, color } },
            {
              mark: { type: 'line', point: true },
              encoding: {
                y: { field: 'mean', type: 'quantitative' },
                color,
                tooltip: [{ field: 'arm' }, { field: 'steps', format: ',d' }, { field: 'mean', format }, { field: 'low', format }, { field: 'high', format }],
              },
            },
          ],
        },
        ...(references.length === 0 ? [] : [referenceLayer]),
      ],
    },
  };
}

/** A KPI with one value in every arm and seed: nothing to draw. */
function constantValue(kpi: ComparisonSummary['kpis'][number]): number | null {
  const first = kpi.byArm[0];
  if (first === undefined) return null;
  return kpi.byArm.every((entry) => entry.sd === 0 && entry.mean === first.mean) ? first.mean : null;
}

function kpiBarsChart(summary: ComparisonSummary): ReportChart {
  const armOrder = summary.arms.map((arm) => arm.name);
  const drawn = summary.kpis.filter((kpi) => constantValue(kpi) === null);
  const notes = summary.kpis.flatMap((kpi) => {
    const value = constantValue(kpi);
    return value === null ? [] : [`${kpi.name} (${kpi.label}): ${formatterFor([value])(value)} in every arm and seed; no panel.`];
  });
  const panels = drawn.map((kpi): Panel => {
    const values = kpi.byArm.map((entry) => ({ kpi: kpi.name, arm: entry.arm, mean: entry.mean, low: entry.low, high: entry.high }));
    const format = d3FormatFor(values.flatMap((entry) => [entry.mean, entry.low, entry.high]));
    return {
      title: { text: kpi.label, subtitle: `${kpi.name} · ${directionText[kpi.direction]}`, fontSize: 11 },
      width: 170,
      height: 120,
      data: { values },
      encoding: { x: { field: 'arm', type: 'nominal', title: 'arm', sort: armOrder, axis: { labelAngle: -30, labelLimit: 110 } } },
      layer: [
        {
          mark: 'bar',
          encoding: {
            y: { field: 'mean', type: 'quantitative', title: 'mean, 95% interval', scale: { zero: true } },
            color: { field: 'arm', type: 'nominal', legend: null, sort: armOrder, scale: { domain: armOrder } },
            tooltip: [{ field: 'arm' }, { field: 'mean', format }, { field: 'low', format }, { field: 'high', format }],
          },
        },
        { mark: { type: 'rule', color: 'black', strokeWidth: 1.5 }, encoding: { y: { field: 'low', type: 'quantitative' }, y2: { field: 'high' } } },
      ],
    };
  });
  return {
    name: 'kpi-bars',
    title: 'KPIs per arm',
    caption: `Each KPI's mean across seeds with its 95% t interval (the seed is the unit: a seed's value is its mean over ${summary.evaluationEpisodes} evaluation episodes).`,
    notes,
    // Flush bounds: the grid is laid out by the plots, with room for axes and titles in the spacing.
    spec: { $schema: schema, config, columns: 4, concat: panels, bounds: 'flush', spacing: { column: 100, row: 150 }, resolve: { scale: { color: 'shared' } } },
  };
}

function forestChart(summary: ComparisonSummary): ReportChart {
  const arms = summary.arms.map((arm) => arm.name).filter((name) => name !== summary.baseline);
  const kpis = summary.kpis.filter((kpi) => kpi.direction !== 'none');
  const panels: Panel[] = [];
  const notes: string[] = [];
  for (const kpi of kpis) {
    const values = summary.comparisons
      .filter((comparison) => comparison.kpi === kpi.name)
      .map((comparison) => ({
        kpi: comparison.kpi,
        arm: comparison.arm,
        estimate: comparison.estimate,
        bootstrapLow: comparison.bootstrap.low,
        bootstrapHigh: comparison.bootstrap.high,
        tLow: comparison.t.low,
        tHigh: comparison.t.high,
        verdict: comparison.verdict,
        adjustedPValue: comparison.adjustedPValue,
      }));
    if (values.length === 0) continue;
    const ends = values.flatMap((entry) => [entry.estimate, entry.tLow, entry.tHigh, entry.bootstrapLow, entry.bootstrapHigh]);
    if (ends.every((end) => end === 0)) {
      notes.push(`${kpi.name} (${kpi.label}): the difference from ${summary.baseline} is 0 in every arm and seed; no panel.`);
      continue;
    }
    const format = d3FormatFor(ends);
    const x = { type: 'quantitative' as const, title: `${kpi.name}: arm − ${summary.baseline}`, scale: { zero: true } };
    panels.push({
      title: { text: kpi.label, subtitle: `${kpi.name} · ${directionText[kpi.direction]}` },
      width: 420,
      height: { step: 22 },
      data: { values },
      layer: [
        // Zero: no difference from the baseline. Full height: no y encoding.
        { mark: { type: 'rule', color: '#333', strokeDash: [4, 3], strokeWidth: 1 }, encoding: { x: { datum: 0, ...x } } },
        // The estimate, hollow and drawn first, so the intervals over it stay visible.
        {
          mark: { type: 'point', shape: 'circle', filled: false, size: 45, strokeWidth: 1.5 },
          encoding: {
            y: armAxis(arms),
            x: { field: 'estimate', ...x },
            color: verdictColor,
            tooltip: [{ field: 'arm' }, { field: 'kpi' }, { field: 'estimate', format }, { field: 'tLow', title: 't low', format }, { field: 'tHigh', title: 't high', format }, { field: 'bootstrapLow', title: 'BCa low', format }, { field: 'bootstrapHigh', title: 'BCa high', format }, { field: 'adjustedPValue', title: 'Holm p', format: '.3~g' }, { field: 'verdict' }],
          },
        },
        { mark: { type: 'rule', strokeWidth: 1 }, encoding: { y: armAxis(arms), x: { field: 'tLow', ...x }, x2: { field: 'tHigh' }, color: verdictColor } },
        { mark: { type: 'rule', strokeWidth: 4, opacity: 0.75 }, encoding: { y: armAxis(arms), x: { field: 'bootstrapLow', ...x }, x2: { field: 'bootstrapHigh' }, color: verdictColor } },
        // A short tick marks the estimate on top of the thick bar.
        { mark: { type: 'tick', orient: 'vertical', thickness: 1.5, size: 12, color: 'black' }, encoding: { y: armAxis(arms), x: { field: 'estimate', ...x } } },
      ],
    });
  }
  return {
    name: 'forest',
    title: `Paired differences against ${summary.baseline}`,
    caption: `Arm minus baseline, per KPI, paired by seed (common random numbers): the mean difference (circle and black tick) with its 95% BCa bootstrap interval (thick) and paired t interval (thin); dashed line: no difference; colour is the verdict after Holm's correction across ${summary.comparisons.length} comparisons.`,
    notes,
    spec: { $schema: schema, config, vconcat: panels, resolve: { scale: { x: 'independent' } } },
  };
}

const armAxis = (arms: readonly string[]) => ({ field: 'arm', type: 'nominal' as const, title: 'arm', sort: [...arms], scale: { domain: [...arms] } });

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
    notes: [],
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
    notes: [],
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

/** Each arm's price day by day with the campaign it offered (trajectories of a coupon scenario). */
const effectivePriceTitle = 'Effective price paid by group';

/** One row per (arm, group) that sold, with the arm's max/min ratio in its label. */
function effectivePriceValues(summary: ComparisonSummary): { arm: string; row: string; group: string; units: number; effectivePrice: number }[] {
  return (summary.fairness?.byArm ?? []).flatMap((entry) => {
    const row = `${entry.arm} (max/min ${entry.dispersion.maxMinRatio.toFixed(3)})`;
    return entry.byGroup.flatMap((group) => (group.effectivePrice === null || !(group.units > 0) ? [] : [{ arm: entry.arm, row, group: group.label, units: group.units, effectivePrice: group.effectivePrice }]));
  });
}

function effectivePriceChart(summary: ComparisonSummary): ReportChart {
  const values = effectivePriceValues(summary);
  const fairness = summary.fairness;
  const rows = [...new Set(summary.arms.map((arm) => values.find((value) => value.arm === arm.name)?.row).filter((row): row is string => row !== undefined))];
  const groups = [...new Set(values.map((value) => value.group))];
  const format = d3FormatFor(values.map((value) => value.effectivePrice));
  const grouped = fairness?.groupedBy === 'segment and stage' ? 'segment/stage group' : 'segment';
  const sensitive = (fairness?.byArm ?? []).flatMap((entry) => entry.sensitive.map((share) => `${entry.arm}: ${share.attribute} explains ${(share.etaSquared * 100).toFixed(1)}% of the effective price's variance (eta^2 ${share.etaSquared.toFixed(3)}).`));
  return {
    name: 'effective-price',
    title: effectivePriceTitle,
    caption:
      fairness?.market === 'coupon market'
        ? `Effective price paid (after coupons) per ${grouped}, ${summary.schemaVersion < 3 ? "each arm's evaluation prices replayed in the coupon market with no coupon" : 'what each group paid after the coupons the arm chose'}, over every seed and evaluation episode; the bar spans the lowest to the highest group, each arm on its own price range.`
        : `Effective price paid per ${grouped} (the posted price, weighted by the units each segment bought on each day), over every seed and evaluation episode; the bar spans the lowest to the highest group, each arm on its own price range.`,
    notes: sensitive,
    // One panel per arm, each with its own x range around its groups: the spread within an arm
    // (a fraction of a percent, often) would vanish on a range shared with arms far apart.
    spec: { $schema: schema, config, vconcat: rows.map((row) => effectivePricePanel(row, values.filter((value) => value.row === row), groups, grouped, format)), spacing: 18, resolve: { scale: { color: 'shared' } } },
  };
}

/** One arm's row: its groups' prices as points over a bar from the lowest to the highest, on an x range padded around them. */
function effectivePricePanel(row: string, values: readonly { effectivePrice: number }[], groups: readonly string[], grouped: string, format: string): Panel {
  const prices = values.map((value) => value.effectivePrice);
  const low = Math.min(...prices);
  const high = Math.max(...prices);
  const pad = Math.max((high - low) * 0.25, Math.abs(high) * 0.005, 1e-6);
  return {
    title: { text: row, fontSize: 11, anchor: 'start' },
    width: 480,
    height: 36,
    data: { values: [...values] },
    layer: [
      { mark: { type: 'rule', color: '#999', strokeWidth: 6, opacity: 0.5 }, encoding: { x: { aggregate: 'min', field: 'effectivePrice', type: 'quantitative', title: 'effective price paid', scale: { domain: [low - pad, high + pad], zero: false, nice: false } }, x2: { aggregate: 'max', field: 'effectivePrice' } } },
      {
        mark: { type: 'point', filled: true, size: 80, opacity: 0.85 },
        encoding: {
          x: { field: 'effectivePrice', type: 'quantitative' },
          color: { field: 'group', type: 'nominal', title: grouped, scale: { domain: [...groups] } },
          tooltip: [{ field: 'arm' }, { field: 'group' }, { field: 'effectivePrice', title: 'effective price', format }, { field: 'units', format: ',.0f' }],
        },
      },
    ],
  };
}

/** The look of every report chart (fonts, sizes) and the schema URL, shared with the calibration report. */
