/**
 * What every report chart is (a titled vega-lite spec with its data inline, a caption and
 * notes; or a chart left out, with the reason) and the look they share: the config (DejaVu
 * Sans, so server-side SVG and PNG look the same everywhere) and the vega-lite schema. Used by
 * the comparison charts (charts.ts, coupon-charts.ts), the Calvano heatmap and calibration's
 * report.
 */
import type { TopLevelSpec } from 'vega-lite';

export interface ReportChart {
  /** File-safe name: the PNG is `<name>.png`. */
  readonly name: string;
  readonly title: string;
  /** What the chart shows, for the page. */
  readonly caption: string;
  /** What the chart leaves out and why, one line each (a KPI that is 0 in every arm, say). */
  readonly notes: readonly string[];
  readonly spec: TopLevelSpec;
}

/** A chart with nothing to draw, and why (no arm was trained, say). */
export interface OmittedChart {
  readonly name: string;
  readonly title: string;
  readonly reason: string;
}

export const chartConfig = {
  font: 'DejaVu Sans',
  background: 'white',
  view: { stroke: '#ddd' },
  axis: { labelFontSize: 10, titleFontSize: 11 },
  header: { labelFontSize: 11, titleFontSize: 11 },
  legend: { labelFontSize: 10, titleFontSize: 11, labelLimit: 320 },
  title: { fontSize: 13, subtitleFontSize: 10, subtitleColor: '#555' },
  concat: { spacing: 28 },
} as const;

export const vegaLiteSchema = 'https://vega.github.io/schema/vega-lite/v6.json';

/** One panel of a concatenated chart (`concat`, `vconcat`). */
export type Panel = Extract<TopLevelSpec, { concat: unknown }>['concat'][number];
/** One layer of a layered chart. */
export type Layer = Extract<TopLevelSpec, { layer: unknown }>['layer'][number];

