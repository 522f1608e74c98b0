/**
 * Card: the calibration report (`pricelab calibrate --report calibration.html`).
 *
 * What it shows, from a CalibrationResult (calibration/calibrate.ts):
 *   observed-fitted        units per period, observed and fitted (the final fit's mean
 *                          M_t s_t), summed over stores; the held-out periods shaded
 *   price-response         expected units and expected profit over the observed price range
 *                          (the mean over the history's rows of M_t s_t(p), each row keeping
 *                          its promotions, rival prices and market size), with a 95% band by
 *                          the delta method from the fit's covariance, over the observed rows
 *   residuals              Pearson residuals (y - m) / sqrt(V(m)) against the fitted mean and
 *                          against time, and their histogram beside the standard normal
 *   holdout                WAPE and MAPE of the model, seasonal naive and the mean on the
 *                          held-out periods (CalibrationResult.holdout)
 *   posterior-predictive   the calibrated scenario SIMULATED by env/ under the historical
 *                          prices, promotions and rival prices, once per parameter draw from
 *                          the fit's normal approximation; observed units against the central
 *                          90% band of the simulated units, and the coverage
 *
 * posterior-predictive.ts holds the check's method and simulation, report-fit-figures.ts the
 * fitted means, residuals and price response, report-charts.ts the chart specs and figures,
 * report-types.ts the shapes; this module writes the PNGs, figures and page (re-exporting the rest).
 *
 * Writing: the PNGs (`<report>-charts/<name>.png`), the figures (`<report>-figures.json`) and
 * then the page, each atomically (temporary file renamed into place), with the rendering
 * machinery of the comparison report (experiments/report: vega-lite to SVG by a headless
 * vega View, PNG by resvg).
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { configError } from '../core/errors.js';
import { formatterFor } from '../experiments/report/format.js';
import { chartSection, escapeHtml, type PageChart } from '../experiments/report/page.js';
import { renderSvg, svgToPng } from '../experiments/report/render.js';
import { writeFileAtomically } from '../core/atomic-write.js';
import type { CalibrationResult } from './calibrate.js';
import { calibrationReport, formatPercent } from './report-charts.js';
import type { CalibrationReport, ReportOptions } from './report-types.js';

export type { CalibrationReport, PredictiveCheck, PricePoint, ReportFigures, ReportOptions } from './report-types.js';
export { fittedMeans, pearsonResiduals, priceResponse } from './report-fit-figures.js';
export { competitorColumns, posteriorPredictiveCheck } from './posterior-predictive.js';
export { calibrationReport, reportChartNames } from './report-charts.js';

/** The files of a report at `htmlPath`: the page, its PNG folder and its figures. */
export function reportPaths(htmlPath: string): { html: string; chartsFolder: string; figures: string } {
  const html = resolve(htmlPath);
  const extension = extname(html);
  const stem = join(dirname(html), basename(html, extension));
  return { html, chartsFolder: `${stem}-charts`, figures: `${stem}-figures.json` };
}

/** A config error (exit 2) naming `--report` unless the path can take the report: its folder exists, the path is not a folder, nor one of `others`. */
export function checkReportPath(htmlPath: string, others: readonly string[] = []): void {
  const paths = reportPaths(htmlPath);
  const problem = (found: string) => configError(`cannot write the report ${htmlPath}`, [{ path: ['report'], message: `expected an HTML file path in an existing folder, found ${found}` }]);
  const folder = dirname(paths.html);
  if (!existsSync(folder) || !statSync(folder).isDirectory()) throw problem(`${htmlPath} (no folder ${folder})`);
  if (existsSync(paths.html) && statSync(paths.html).isDirectory()) throw problem(`${htmlPath} (a folder)`);
  if (existsSync(paths.chartsFolder) && !statSync(paths.chartsFolder).isDirectory()) throw problem(`${htmlPath} (${paths.chartsFolder}, where its PNGs go, is a file)`);
  for (const other of others) {
    const taken = resolve(other);
    if (taken === paths.html || taken === paths.figures) throw problem(`${htmlPath} (it would overwrite ${other})`);
  }
}

export interface WrittenCalibrationReport {
  readonly html: string;
  readonly figures: string;
  readonly pngs: readonly string[];
  readonly warnings: readonly string[];
  readonly report: CalibrationReport;
}

/** Builds the report and writes its PNGs, figures and page, each atomically; a file-system failure is a config error naming the path. */
export async function writeCalibrationReport(htmlPath: string, result: CalibrationResult, options: ReportOptions = {}): Promise<WrittenCalibrationReport> {
  checkReportPath(htmlPath);
  const paths = reportPaths(htmlPath);
  const report = calibrationReport(result, options);
  const warnings: string[] = [];
  const pageCharts: PageChart[] = [];
  const rendered: { name: string; png: Uint8Array }[] = [];
  for (const chart of report.charts) {
    const svg = await renderSvg(chart.spec);
    warnings.push(...svg.warnings.map((warning) => `${chart.name}: ${warning}`));
    rendered.push({ name: chart.name, png: svgToPng(svg.svg) });
    pageCharts.push({ name: chart.name, title: chart.title, caption: chart.caption, notes: chart.notes, svg: svg.svg, spec: chart.spec });
  }
  const pngs: string[] = [];
  try {
    mkdirSync(paths.chartsFolder, { recursive: true });
    for (const chart of rendered) {
      const png = join(paths.chartsFolder, `${chart.name}.png`);
      writeFileAtomically(png, chart.png);
      pngs.push(png);
    }
    writeFileAtomically(paths.figures, `${JSON.stringify(report.figures, null, 2)}\n`);
    writeFileAtomically(paths.html, calibrationPage(result, report, pageCharts, basename(paths.figures)));
  } catch (error) {
    throw configError(`cannot write the report ${htmlPath}`, [{ path: ['report'], message: `expected a writable path, found ${htmlPath}: ${(error as Error).message}` }]);
  }
  return { html: paths.html, figures: paths.figures, pngs, warnings, report };
}

/** The page: what was calibrated, the estimates, the holdout table, the coverage figures, then the charts. */
export function calibrationPage(result: CalibrationResult, report: CalibrationReport, charts: readonly PageChart[], figuresFile: string): string {
  const record = result.record;
  const estimate = formatterFor(record.estimates.flatMap((entry) => [entry.value, entry.lower, entry.upper]));
  const estimateRows = record.estimates
    .map((entry) => `<tr><td>${escapeHtml(entry.parameter)}</td><td>${estimate(entry.value)}</td><td>${estimate(entry.lower)} .. ${estimate(entry.upper)}</td><td>${escapeHtml(entry.scenarioPath ?? '(recorded only)')}</td><td>${escapeHtml(entry.method)}</td></tr>`)
    .join('\n');
  const holdout = result.holdout;
  const error = (value: number) => value.toFixed(4);
  const holdoutTable = holdout
    ? `<h2>Holdout</h2>
<p>The last ${holdout.holdoutPeriods} of ${holdout.trainingPeriods + holdout.holdoutPeriods} periods (${holdout.rows} rows), forecast by the fit on the earlier periods.</p>
<table class="holdout"><tr><th>forecast</th><th>WAPE</th><th>MAPE</th></tr>
<tr><td>model</td><td>${error(holdout.wape.model)}</td><td>${error(holdout.mape.model)}</td></tr>
<tr><td>seasonal naive (${holdout.seasonLength})</td><td>${error(holdout.wape.seasonalNaive)}</td><td>${error(holdout.mape.seasonalNaive)}</td></tr>
<tr><td>mean</td><td>${error(holdout.wape.mean)}</td><td>${error(holdout.mape.mean)}</td></tr>
</table>`
    : '<h2>Holdout</h2>\n<p>No holdout (<code>--holdout 0</code>).</p>';
  const predictive = report.predictive;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>pricelab calibrate: ${escapeHtml(result.scenario.id)}</title>
<style>
body { font-family: "DejaVu Sans", system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; padding: 0 1rem; color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.85rem; }
td, th { border-bottom: 1px solid #ddd; padding: 0.2rem 0.6rem; text-align: right; }
td:first-child, th:first-child, td:nth-child(4), td:nth-child(5) { text-align: left; }
.notes { color: #555; font-size: 0.85rem; margin: 0 0 0.5rem; }
figure { margin: 0; overflow-x: auto; } code { font-size: 0.8rem; }
</style>
</head>
<body>
<h1>pricelab calibrate: ${escapeHtml(result.scenario.id)}</h1>
<p>Calibrated from <code>${escapeHtml(record.source.file)}</code> (sha256 <code>${escapeHtml(record.source.sha256.slice(0, 16))}…</code>): ${record.source.rows} rows,
${record.source.periods} ${record.source.periodLength}s ${escapeHtml(String(record.source.firstPeriod))}..${escapeHtml(String(record.source.lastPeriod))}, ${record.source.stores} store(s).
Likelihood ${escapeHtml(result.fit.likelihood)}${result.fit.dispersionSize ? ` (size ${result.fit.dispersionSize.value.toFixed(3)})` : ''}, Pearson dispersion ${result.fit.dispersion.toFixed(3)}, mean own-price elasticity ${result.meanElasticity.toFixed(3)}.</p>
<h2>Predictive coverage</h2>
<table class="coverage"><tr><th>check</th><th>rows inside their 90% band</th><th>method</th></tr>
<tr><td>posterior-predictive (simulated scenario)</td><td>${formatPercent(predictive.coverage90)}</td><td>${escapeHtml(predictive.method)}</td></tr>
<tr><td>fitted law (plug-in)</td><td>${formatPercent(result.predictiveCoverage90)}</td><td>the fitted law's central 90% band at each row's mean, parameter uncertainty left out</td></tr>
${holdout ? `<tr><td>fitted law on the holdout (training fit)</td><td>${formatPercent(holdout.predictiveCoverage90)}</td><td>as above, for the held-out rows</td></tr>` : ''}
</table>
<h2>Estimates</h2>
<table class="estimates"><tr><th>parameter</th><th>estimate</th><th>95% interval</th><th>into</th><th>method</th></tr>
${estimateRows}
</table>
${holdoutTable}
${charts.map(chartSection).join('\n')}
<h2>Left at defaults</h2>
<ul>${record.defaults.map((entry) => `<li><code>${escapeHtml(entry.field)}</code> = ${escapeHtml(String(entry.value))}: ${escapeHtml(entry.reason)}</li>`).join('')}</ul>
<p>Every figure is in <code>${escapeHtml(figuresFile)}</code> beside this page, each chart as a PNG in the <code>-charts</code> folder beside it.</p>
</body>
</html>
`;
}

/** What `pricelab calibrate --report --json` prints about the report. */
export function reportSummary(written: WrittenCalibrationReport) {
  const predictive = written.report.predictive;
  return { html: written.html, figures: written.figures, pngs: written.pngs, posteriorPredictive: { coverage90: predictive.coverage90, draws: predictive.draws, seed: predictive.seed, rows: predictive.rows } };
}

/** The lines `pricelab calibrate --report` prints about the report. */
export function reportText(written: WrittenCalibrationReport): string {
  const predictive = written.report.predictive;
  return (
    `posterior-predictive check: ${formatPercent(predictive.coverage90)} of rows inside the 90% band of the simulated scenario (${predictive.draws} parameter draws, seed ${predictive.seed})\n` +
    `wrote the report ${written.html} (charts as PNG in ${dirname(written.pngs[0] ?? written.html)}, figures in ${written.figures})\n`
  );
}
