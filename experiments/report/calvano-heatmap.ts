/**
 * The Calvano grid's report (experiments/calvano-grid.ts): the profit-gain heatmap over
 * alpha x beta, as Calvano et al. (2020) draw it, beside the paper's pattern.
 *
 * Files written into one folder (each atomically):
 *   calvano-grid.vl.json   the heatmap's vega-lite spec, its data inline
 *   calvano-grid.png       the heatmap drawn by experiments/report/render.ts (vega, resvg)
 *   calvano-grid.html      one offline page: the chart (inline SVG), the pattern, every cell
 *   calvano-grid.json      every figure: the grid, every cell, the means by alpha and by
 *                          beta, and the comparison with the paper
 *
 * The heatmap: x the learning rate alpha, y the exploration decay beta, colour the mean
 * profit gain of the grid point's finished sessions; a red-ringed square marks the grid
 * point nearest the paper's baseline (alpha 0.15, beta 4e-6). Cells with no finished
 * session are left out (grey note under the chart). Up to 20 points per axis, each cell
 * also prints its mean.
 *
 * The paper's figures compared with are the ones this repository documents
 * (docs/agents/calvano.md, ../shared/market-model.md): at the baseline, a mean profit gain of
 * about 0.85 (sd about 0.11). The pattern across the grid, as issue 17 states it for the
 * paper's heatmap: the gain rises with the length of exploration (smaller beta) and is
 * highest for alpha around 0.05 to 0.15. Both are checked on the measured cells and
 * reported as found, holding or not.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { codeVersion } from '../../agents/artifact.js';
import { writeFileAtomically } from '../../core/atomic-write.js';
import type { CalvanoGridCell } from '../calvano-grid.js';
import type { CalvanoGridPlan } from '../calvano-grid-file.js';
import { chartConfig, vegaLiteSchema } from './charts.js';
import { chartSection, escapeHtml } from './page.js';
import { renderSvg, svgToPng } from './render.js';

/** The paper's baseline point and its documented figure (docs/agents/calvano.md, ../shared/market-model.md). */
export const paperBaseline = { alpha: 0.15, beta: 4e-6, profitGain: 0.85, profitGainSd: 0.11, source: 'docs/agents/calvano.md and ../shared/market-model.md: "average profit gain about 0.85 (sd about 0.11)"' } as const;

/** The alpha range where the paper's gain is highest, as issue 17 states the paper's pattern. */
export const paperPeakAlphaRange = [0.05, 0.15] as const;

const labelledCellsLimit = 20;

export interface CalvanoGridPattern {
  /** Mean over alphas of the cell means, for each beta (smallest beta first). */
  readonly byBeta: readonly { readonly beta: number; readonly profitGainMean: number | null }[];
  /** Mean over betas of the cell means, for each alpha. */
  readonly byAlpha: readonly { readonly alpha: number; readonly profitGainMean: number | null }[];
  /** Longer exploration, higher gain: the mean over the smaller half of the betas against the larger half (the middle beta of an odd count left out). */
  readonly longerExploration: { readonly smallerBetaMean: number | null; readonly largerBetaMean: number | null; readonly holds: boolean | null; readonly statement: string };
  /** Where the gain peaks along alpha. */
  readonly peakAlpha: { readonly alpha: number | null; readonly profitGainMean: number | null; readonly paperRange: readonly [number, number]; readonly holds: boolean | null; readonly statement: string };
  /** The grid point nearest the paper's baseline, against the paper's figure. */
  readonly baseline: { readonly paper: typeof paperBaseline; readonly cell: CalvanoGridCell | null; readonly statement: string };
}

export interface CalvanoGridReport {
  readonly experiment: string;
  readonly description: string | null;
  readonly createdAt: string;
  readonly codeVersion: string;
  readonly scenario: { readonly id: string; readonly contentHash: string };
  readonly alphas: readonly number[];
  readonly betas: readonly number[];
  readonly seeds: { readonly from: number; readonly count: number };
  /** The Calvano config shared by every point (alpha and beta aside). */
  readonly calvano: Record<string, unknown>;
  readonly sessions: { readonly planned: number; readonly finished: number; readonly converged: number };
  readonly cells: readonly CalvanoGridCell[];
  readonly pattern: CalvanoGridPattern;
}

export interface WrittenGridReport {
  readonly folder: string;
  readonly json: string;
  readonly spec: string;
  readonly png: string;
  readonly html: string;
  /** Warnings from compiling or rendering the heatmap (none expected). */
  readonly warnings: readonly string[];
  readonly report: CalvanoGridReport;
}

const meanOf = (values: readonly (number | null)[]): number | null => {
  const present = values.filter((value): value is number => value !== null);
  return present.length === 0 ? null : present.reduce((total, value) => total + value, 0) / present.length;
};

const fixed = (value: number | null, digits = 3) => (value === null ? '-' : value.toFixed(digits));

/** An axis value for people: 4 significant digits, small betas with an exponent (1.333e-6, 0.1536). */
export function axisText(value: number): string {
  if (value !== 0 && Math.abs(value) < 1e-3) return value.toExponential(3).replace(/\.?0+e/, 'e');
  return String(Number(value.toPrecision(4)));
}

/** The paper's pattern checked on the cells. */
export function gridPattern(plan: Pick<CalvanoGridPlan, 'alphas' | 'betas'>, cells: readonly CalvanoGridCell[]): CalvanoGridPattern {
  const betas = [...plan.betas].sort((a, b) => a - b);
  const byBeta = betas.map((beta) => ({ beta, profitGainMean: meanOf(cells.filter((cell) => cell.beta === beta).map((cell) => cell.profitGainMean)) }));
  const byAlpha = plan.alphas.map((alpha) => ({ alpha, profitGainMean: meanOf(cells.filter((cell) => cell.alpha === alpha).map((cell) => cell.profitGainMean)) }));
  const half = Math.floor(byBeta.length / 2);
  const smallerBetaMean = half === 0 ? null : meanOf(byBeta.slice(0, half).map((row) => row.profitGainMean));
  const largerBetaMean = half === 0 ? null : meanOf(byBeta.slice(byBeta.length - half).map((row) => row.profitGainMean));
  const explorationHolds = smallerBetaMean === null || largerBetaMean === null ? null : smallerBetaMean > largerBetaMean;
  const explorationStatement =
    explorationHolds === null
      ? 'needs at least two beta values with finished sessions'
      : `mean profit gain ${fixed(smallerBetaMean)} over the smaller half of the betas (longer exploration) against ${fixed(largerBetaMean)} over the larger half: the paper's "longer exploration, higher gain" ${explorationHolds ? 'holds' : 'does not hold'} here`;
  let peak: { alpha: number; profitGainMean: number } | null = null;
  for (const column of byAlpha) if (column.profitGainMean !== null && (peak === null || column.profitGainMean > peak.profitGainMean)) peak = { alpha: column.alpha, profitGainMean: column.profitGainMean };
  const peakHolds = peak === null ? null : peak.alpha >= paperPeakAlphaRange[0] && peak.alpha <= paperPeakAlphaRange[1];
  const peakStatement =
    peak === null
      ? 'no finished session'
      : `the mean over betas peaks at alpha ${axisText(peak.alpha)} (${fixed(peak.profitGainMean)}); the paper's peak region alpha ${paperPeakAlphaRange[0]} to ${paperPeakAlphaRange[1]}: ${peakHolds ? 'inside' : 'outside'}`;
  let nearest: CalvanoGridCell | null = null;
  let nearestDistance = Number.POSITIVE_INFINITY;
  for (const cell of cells) {
    if (cell.profitGainMean === null) continue;
    // Distance in units of each axis's span, so alpha and beta count alike.
    const distance = Math.hypot((cell.alpha - paperBaseline.alpha) / 0.225, (cell.beta - paperBaseline.beta) / 2e-5);
    if (distance < nearestDistance) {
      nearest = cell;
      nearestDistance = distance;
    }
  }
  const baselineStatement =
    nearest === null
      ? 'no finished session'
      : `grid point alpha ${axisText(nearest.alpha)}, beta ${axisText(nearest.beta)} (nearest the paper's baseline alpha 0.15, beta 4e-6): mean profit gain ${fixed(nearest.profitGainMean)}` +
        (nearest.profitGainLow !== null ? ` (95% interval ${fixed(nearest.profitGainLow)} to ${fixed(nearest.profitGainHigh)}, ${nearest.sessions} sessions)` : ` (${nearest.sessions} session${nearest.sessions === 1 ? '' : 's'})`) +
        `; the paper: about ${paperBaseline.profitGain} at the baseline`;
  return {
    byBeta,
    byAlpha,
    longerExploration: { smallerBetaMean, largerBetaMean, holds: explorationHolds, statement: explorationStatement },
    peakAlpha: { alpha: peak?.alpha ?? null, profitGainMean: peak?.profitGainMean ?? null, paperRange: paperPeakAlphaRange, holds: peakHolds, statement: peakStatement },
    baseline: { paper: paperBaseline, cell: nearest, statement: baselineStatement },
  };
}

/** Every figure of the report, from the plan and its cells. */
export function calvanoGridReport(plan: CalvanoGridPlan, cells: readonly CalvanoGridCell[], createdAt = new Date().toISOString()): CalvanoGridReport {
  return {
    experiment: plan.file.name,
    description: plan.file.description ?? null,
    createdAt,
    codeVersion,
    scenario: { id: plan.scenario.scenario.id, contentHash: plan.scenario.contentHash },
    alphas: plan.alphas,
    betas: plan.betas,
    seeds: plan.file.seeds,
    calvano: plan.file.calvano,
    sessions: { planned: plan.sessions.length, finished: cells.reduce((total, cell) => total + cell.sessions, 0), converged: cells.reduce((total, cell) => total + cell.converged, 0) },
    cells,
    pattern: gridPattern(plan, cells),
  };
}

/** Half the spacing of sorted axis values around each value (a single value gets a tenth of itself, or 0.5). */
function halfWidths(values: readonly number[]): Map<number, number> {
  const sorted = [...values].sort((a, b) => a - b);
  const widths = new Map<number, number>();
  sorted.forEach((value, index) => {
    const gaps = [index > 0 ? value - sorted[index - 1]! : null, index < sorted.length - 1 ? sorted[index + 1]! - value : null].filter((gap): gap is number => gap !== null);
    widths.set(value, gaps.length === 0 ? Math.abs(value) / 10 || 0.5 : Math.min(...gaps) / 2);
  });
  return widths;
}

/** The heatmap's vega-lite spec, its data inline. */
export function heatmapSpec(report: CalvanoGridReport): TopLevelSpec {
  const alphaHalf = halfWidths(report.alphas);
  const betaHalf = halfWidths(report.betas);
  const drawn = report.cells.filter((cell) => cell.profitGainMean !== null);
  const values = drawn.map((cell) => ({
    alpha: cell.alpha,
    beta: cell.beta,
    alphaLow: cell.alpha - alphaHalf.get(cell.alpha)!,
    alphaHigh: cell.alpha + alphaHalf.get(cell.alpha)!,
    betaLow: cell.beta - betaHalf.get(cell.beta)!,
    betaHigh: cell.beta + betaHalf.get(cell.beta)!,
    profitGain: cell.profitGainMean,
    low: cell.profitGainLow,
    high: cell.profitGainHigh,
    sessions: cell.sessions,
    converged: cell.converged,
  }));
  const baseline = report.pattern.baseline.cell;
  const labelled = report.alphas.length <= labelledCellsLimit && report.betas.length <= labelledCellsLimit;
  const perPoint = report.seeds.count;
  const x = { field: 'alphaLow', type: 'quantitative' as const, title: 'learning rate alpha', scale: { domain: [Math.min(...values.map((v) => v.alphaLow)), Math.max(...values.map((v) => v.alphaHigh))], nice: false, zero: false } };
  const y = { field: 'betaLow', type: 'quantitative' as const, title: 'exploration decay beta', axis: { format: '.1e' }, scale: { domain: [Math.min(...values.map((v) => v.betaLow)), Math.max(...values.map((v) => v.betaHigh))], nice: false, zero: false } };
  const empty = values.length === 0;
  const gains = values.map((value) => value.profitGain as number);
  const middle = empty ? 0 : (Math.min(...gains) + Math.max(...gains)) / 2;
  return {
    $schema: vegaLiteSchema,
    config: chartConfig,
    title: {
      text: `Calvano et al. (2020) grid: mean profit gain, ${report.alphas.length} x ${report.betas.length} points x ${perPoint} session${perPoint === 1 ? '' : 's'}`,
      subtitle: [
        `${report.scenario.id}; ${report.sessions.finished} of ${report.sessions.planned} sessions finished, ${report.sessions.converged} converged.`,
        `Ringed in red: the point nearest the paper's baseline (alpha 0.15, beta 4e-6; paper: about ${paperBaseline.profitGain}).`,
      ],
    },
    width: 420,
    height: 360,
    data: { values },
    layer: empty
      ? [{ mark: { type: 'text', text: 'no finished session yet' } }]
      : [
          {
            mark: { type: 'rect', stroke: 'white', strokeWidth: report.alphas.length * report.betas.length > 900 ? 0 : 0.5 },
            encoding: {
              x,
              x2: { field: 'alphaHigh' },
              y,
              y2: { field: 'betaHigh' },
              color: { field: 'profitGain', type: 'quantitative', title: 'profit gain', scale: { scheme: 'viridis' }, legend: { format: '.2f' } },
              tooltip: [
                { field: 'alpha', format: '.4f' },
                { field: 'beta', format: '.3e' },
                { field: 'profitGain', title: 'mean profit gain', format: '.3f' },
                { field: 'low', title: '95% low', format: '.3f' },
                { field: 'high', title: '95% high', format: '.3f' },
                { field: 'sessions' },
                { field: 'converged' },
              ],
            },
          },
          ...(labelled
            ? [
                {
                  mark: { type: 'text' as const, fontSize: 7, baseline: 'middle' as const },
                  encoding: {
                    x: { field: 'alpha', type: 'quantitative' as const },
                    y: { field: 'beta', type: 'quantitative' as const },
                    text: { field: 'profitGain', type: 'quantitative' as const, format: '.2f' },
                    // Dark text on the light (high) end of viridis, white on the dark end.
                    color: { condition: { test: `datum.profitGain > ${middle}`, value: 'black' }, value: 'white' },
                  },
                },
              ]
            : []),
          ...(baseline === null
            ? []
            : [
                {
                  data: { values: [{ alpha: baseline.alpha, beta: baseline.beta, alphaLow: baseline.alpha - alphaHalf.get(baseline.alpha)!, alphaHigh: baseline.alpha + alphaHalf.get(baseline.alpha)!, betaLow: baseline.beta - betaHalf.get(baseline.beta)!, betaHigh: baseline.beta + betaHalf.get(baseline.beta)! }] },
                  mark: { type: 'rect' as const, fill: null, stroke: '#e4002b', strokeWidth: 2.5 },
                  encoding: { x: { field: 'alphaLow', type: 'quantitative' as const }, x2: { field: 'alphaHigh' }, y: { field: 'betaLow', type: 'quantitative' as const }, y2: { field: 'betaHigh' } },
                },
              ]),
        ],
  } as TopLevelSpec;
}

function reportPage(report: CalvanoGridReport, chart: Parameters<typeof chartSection>[0]): string {
  const pattern = report.pattern;
  const verdict = (holds: boolean | null) => (holds === null ? '-' : holds ? 'holds' : 'does not hold');
  const cellRows = report.cells
    .map((cell) => `<tr><td>${cell.alpha}</td><td>${cell.beta}</td><td>${cell.sessions}/${cell.planned}</td><td>${cell.converged}</td><td>${fixed(cell.profitGainMean)}</td><td>${fixed(cell.profitGainLow)} .. ${fixed(cell.profitGainHigh)}</td><td>${fixed(cell.profitGainSd)}</td><td>${cell.meanPeriodsToConvergence === null ? '-' : Math.round(cell.meanPeriodsToConvergence).toLocaleString('en-US')}</td><td>${fixed(cell.secondsPerSession)}</td></tr>`)
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>pricelab: ${escapeHtml(report.experiment)}</title>
<style>
body { font-family: "DejaVu Sans", system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; padding: 0 1rem; color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.85rem; }
td, th { border-bottom: 1px solid #ddd; padding: 0.2rem 0.6rem; text-align: right; }
td:first-child, th:first-child { text-align: left; }
figure { margin: 0; overflow-x: auto; }
</style>
</head>
<body>
<h1>Calvano et al. (2020) grid: ${escapeHtml(report.experiment)}</h1>
<p>${escapeHtml(report.description ?? '')}</p>
<p>Scenario <code>${escapeHtml(report.scenario.id)}</code>; ${report.alphas.length} alphas x ${report.betas.length} betas x ${report.seeds.count} seeds (${report.seeds.from}..${report.seeds.from + report.seeds.count - 1}, the same at every point);
${report.sessions.finished} of ${report.sessions.planned} sessions finished, ${report.sessions.converged} converged. Made ${escapeHtml(report.createdAt)} by pricelab ${escapeHtml(report.codeVersion)}.</p>
<h2>Beside the paper</h2>
<table><tr><th>the paper</th><th>here</th><th></th></tr>
<tr><td>baseline (alpha 0.15, beta 4e-6): profit gain about ${paperBaseline.profitGain}</td><td>${escapeHtml(pattern.baseline.statement)}</td><td></td></tr>
<tr><td>longer exploration (smaller beta), higher gain</td><td>${escapeHtml(pattern.longerExploration.statement)}</td><td>${verdict(pattern.longerExploration.holds)}</td></tr>
<tr><td>highest gain for alpha ${paperPeakAlphaRange[0]} to ${paperPeakAlphaRange[1]}</td><td>${escapeHtml(pattern.peakAlpha.statement)}</td><td>${verdict(pattern.peakAlpha.holds)}</td></tr>
</table>
${chartSection(chart)}
<h2>Every grid point</h2>
<table><tr><th>alpha</th><th>beta</th><th>sessions</th><th>converged</th><th>profit gain</th><th>95% t interval</th><th>sd</th><th>periods to convergence</th><th>s per session (wall, one worker)</th></tr>
${cellRows}
</table>
</body>
</html>
`;
}

/** Writes the report's files into `folder` (created if needed): the spec, the PNG, the page and the JSON. */
export async function writeCalvanoGridReport(folder: string, report: CalvanoGridReport): Promise<WrittenGridReport> {
  const target = resolve(folder);
  mkdirSync(target, { recursive: true });
  const spec = heatmapSpec(report);
  const rendered = await renderSvg(spec);
  const files = { json: join(target, 'calvano-grid.json'), spec: join(target, 'calvano-grid.vl.json'), png: join(target, 'calvano-grid.png'), html: join(target, 'calvano-grid.html') };
  writeFileAtomically(files.spec, `${JSON.stringify(spec, null, 2)}\n`);
  writeFileAtomically(files.png, svgToPng(rendered.svg));
  const caption = `Mean profit gain (limit-cycle profit between Nash, 0, and joint monopoly, 1) of each grid point's finished sessions. Darker is closer to Nash, yellow closer to monopoly.`;
  writeFileAtomically(files.html, reportPage(report, { name: 'heatmap', title: 'Profit gain over alpha x beta', caption, notes: [], svg: rendered.svg, spec }));
  writeFileAtomically(files.json, `${JSON.stringify(report, null, 2)}\n`);
  return { folder: target, ...files, warnings: rendered.warnings, report };
}
