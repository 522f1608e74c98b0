/**
 * Writing a comparison report: the HTML page at `path` and a PNG of every chart in
 * `<path without .html>-charts/<name>.png` (a chart with nothing to draw, such as learning
 * curves when no arm was trained, has no PNG: the page says why). Every file is written atomically (a temporary
 * file renamed into place), the PNG folder first, so a failure never leaves a page that
 * points at half-written charts.
 */
import { mkdirSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { writeFileAtomically } from '../../core/atomic-write.js';
import type { TrajectoryDay } from '../compare/run.js';
import type { ComparisonSummary } from '../compare/summary-schema.js';
import { comparisonCharts, omittedCharts } from './charts.js';
import { reportPage } from './page.js';
import { renderSvg, svgToPng } from './render.js';

export interface WrittenReport {
  readonly html: string;
  readonly pngs: readonly string[];
  /** Warnings from compiling or rendering the charts (none expected). */
  readonly warnings: readonly string[];
}

export function chartsFolderOf(htmlPath: string): string {
  const absolute = resolve(htmlPath);
  const extension = extname(absolute);
  return join(dirname(absolute), `${basename(absolute, extension)}-charts`);
}

export async function writeReport(htmlPath: string, summary: ComparisonSummary, trajectories: readonly TrajectoryDay[]): Promise<WrittenReport> {
  const html = resolve(htmlPath);
  const folder = chartsFolderOf(html);
  mkdirSync(folder, { recursive: true });
  const warnings: string[] = [];
  const pngs: string[] = [];
  const pageCharts = [];
  for (const chart of comparisonCharts(summary, trajectories)) {
    const rendered = await renderSvg(chart.spec);
    warnings.push(...rendered.warnings.map((warning) => `${chart.name}: ${warning}`));
    const png = join(folder, `${chart.name}.png`);
    writeFileAtomically(png, svgToPng(rendered.svg));
    pngs.push(png);
    pageCharts.push({ name: chart.name, title: chart.title, caption: chart.caption, notes: chart.notes, svg: rendered.svg, spec: chart.spec });
  }
  writeFileAtomically(html, reportPage(summary, pageCharts, omittedCharts(summary)));
  return { html, pngs, warnings };
}
