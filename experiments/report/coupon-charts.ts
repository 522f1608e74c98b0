/**
 * The charts of a comparison report on a coupon scenario (summary.coupons), in place of the
 * price market's price-trajectories and inventory-returns, which would be flat by construction
 * (the coupon market has no rivals, holds no stock and takes no returns: env/coupons/coupon-env.ts):
 *
 *   coupon-days   each arm's price day by day with the campaign it offered that day (a point
 *                 coloured by campaign), in the first evaluation episode of the first seed
 *   coupons       the share of evaluation days each arm offered each campaign (summary.coupons)
 *                 and the coupon KPIs per arm (coupon cost, redemption rate, incremental units
 *                 per coupon: mean and 95% interval)
 */
import type { ComparisonSummary } from '../compare/summary-schema.js';
import type { TrajectoryDay } from '../compare/run.js';
import { d3FormatFor } from './format.js';
import { chartConfig as config, vegaLiteSchema as schema, type OmittedChart, type Panel, type ReportChart } from './chart-spec.js';

/** The charts of a coupon scenario's report, in order (flat price-market charts left out). */
export const couponChartNames = ['learning-curves', 'kpi-bars', 'forest', 'coupon-days', 'coupons', 'effective-price'] as const;

/** The coupon KPIs the coupons chart draws per arm. */
export const couponChartKpis = ['couponCost', 'redemptionRate', 'incrementalUnitsPerCoupon'] as const;

/** The price-market charts a coupon scenario's report leaves out, with the reason. */
export const couponOmittedCharts: readonly OmittedChart[] = [
  { name: 'price-trajectories', title: 'Price trajectories against competitors', reason: "The coupon market has no rivals (env/coupons/coupon-env.ts): there is no competitor price to draw. Each arm's own price, day by day, is drawn with its coupon in \"Coupons by day\"." },
  { name: 'inventory-returns', title: 'Inventory and returns over time', reason: 'The coupon market holds no stock and takes no returns (env/coupons/coupon-env.ts): stock on hand and units returned are 0 every day, so the chart would be flat. Units sold are in the KPIs.' },
];

export function couponDaysChart(summary: ComparisonSummary, trajectories: readonly TrajectoryDay[]): ReportChart {
  const campaigns = ['no coupon', ...(summary.coupons?.campaigns ?? [])];
  const values = trajectories.map((day) => ({ arm: day.arm, day: day.day, price: day.price, coupon: day.coupon ?? 'no coupon' }));
  const format = d3FormatFor(values.map((value) => value.price));
  return {
    name: 'coupon-days',
    title: 'Coupons by day',
    notes: [],
    caption: `Each arm's price (line) and the campaign it offered (point colour) day by day, in the first evaluation episode of seed ${summary.seeds[0] ?? ''} (the same customers for every arm).`,
    spec: {
      $schema: schema,
      config,
      data: { values },
      facet: { row: { field: 'arm', type: 'nominal', title: null, sort: summary.arms.map((arm) => arm.name), header: { labelAngle: 0, labelAlign: 'left' } } },
      spec: {
        width: 560,
        height: 90,
        encoding: { x: { field: 'day', type: 'quantitative', title: 'day', scale: { nice: false } }, y: { field: 'price', type: 'quantitative', title: 'price', scale: { zero: false } } },
        layer: [
          { mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.2, color: '#444' } },
          {
            mark: { type: 'point', filled: true, size: 40 },
            encoding: {
              color: { field: 'coupon', type: 'nominal', title: 'coupon', scale: { domain: campaigns } },
              tooltip: [{ field: 'arm' }, { field: 'day' }, { field: 'price', format }, { field: 'coupon' }],
            },
          },
        ],
      },
    },
  };
}

/** The share of days each arm offered each campaign: summary.coupons, one row per (arm, campaign). */
export function couponShareValues(summary: ComparisonSummary): { arm: string; coupon: string; days: number; share: number }[] {
  const coupons = summary.coupons;
  if (!coupons) return [];
  const choices = ['no coupon', ...coupons.campaigns];
  return coupons.byArm.flatMap((entry) => {
    const total = choices.reduce((sum, choice) => sum + (entry.campaignDays[choice] ?? 0), 0);
    return choices.map((choice) => {
      const days = entry.campaignDays[choice] ?? 0;
      return { arm: entry.arm, coupon: choice, days, share: total > 0 ? days / total : 0 };
    });
  });
}

/** The coupon KPIs per arm (summary.kpis), one row per (arm, KPI) the summary has. */
export function couponKpiValues(summary: ComparisonSummary): { kpi: string; label: string; arm: string; mean: number; low: number; high: number }[] {
  return couponChartKpis.flatMap((name) => {
    const kpi = summary.kpis.find((candidate) => candidate.name === name);
    return kpi ? kpi.byArm.map((entry) => ({ kpi: kpi.name, label: kpi.label, arm: entry.arm, mean: entry.mean, low: entry.low, high: entry.high })) : [];
  });
}

export function couponsChart(summary: ComparisonSummary): ReportChart {
  const armOrder = summary.arms.map((arm) => arm.name);
  const campaigns = ['no coupon', ...(summary.coupons?.campaigns ?? [])];
  const shares = couponShareValues(summary);
  const kpis = couponKpiValues(summary);
  const sharePanel: Panel = {
    title: { text: 'Share of evaluation days per campaign', fontSize: 11 },
    width: 300,
    height: { step: 22 },
    data: { values: shares },
    mark: 'bar',
    encoding: {
      y: { field: 'arm', type: 'nominal', title: 'arm', sort: armOrder },
      x: { field: 'share', type: 'quantitative', title: 'share of days', stack: 'zero', scale: { domain: [0, 1] }, axis: { format: '.0%' } },
      color: { field: 'coupon', type: 'nominal', title: 'coupon', scale: { domain: campaigns } },
      tooltip: [{ field: 'arm' }, { field: 'coupon' }, { field: 'days', format: ',d' }, { field: 'share', format: '.1%' }],
    },
  };
  const kpiPanels = couponChartKpis.flatMap((name): Panel[] => {
    const values = kpis.filter((value) => value.kpi === name);
    if (values.length === 0) return [];
    const format = d3FormatFor(values.flatMap((entry) => [entry.mean, entry.low, entry.high]));
    return [
      {
        title: { text: values[0]?.label ?? name, subtitle: name, fontSize: 11 },
        width: 170,
        height: 120,
        data: { values },
        encoding: { x: { field: 'arm', type: 'nominal', title: 'arm', sort: armOrder, axis: { labelAngle: -30, labelLimit: 110 } } },
        layer: [
          {
            // One grey for every arm: the colours of this chart are the campaigns'.
            mark: { type: 'bar', color: '#8c8c8c' },
            encoding: {
              y: { field: 'mean', type: 'quantitative', title: 'mean, 95% interval', scale: { zero: true } },
              tooltip: [{ field: 'arm' }, { field: 'mean', format }, { field: 'low', format }, { field: 'high', format }],
            },
          },
          { mark: { type: 'rule', color: 'black', strokeWidth: 1.5 }, encoding: { y: { field: 'low', type: 'quantitative' }, y2: { field: 'high' } } },
        ],
      },
    ];
  });
  return {
    name: 'coupons',
    title: 'Coupon choices and coupon KPIs',
    caption: `Top: the share of evaluation days on which each arm offered each campaign, over every seed and evaluation episode. Below: the coupon KPIs per arm (coupon cost, redemption rate, incremental units per coupon), mean across ${summary.seeds.length} seeds with the 95% t interval.`,
    notes: [],
    spec: { $schema: schema, config, vconcat: [sharePanel, { concat: kpiPanels, columns: 3, spacing: 80 }], spacing: 30, resolve: { scale: { color: 'independent' } } },
  };
}

