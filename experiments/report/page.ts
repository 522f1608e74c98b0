/**
 * The comparison report as one self-contained HTML page: no script, no stylesheet, no font
 * or image from the network. Charts are inline SVG drawn server-side by vega (so the page
 * renders offline, in any browser, in a mail client); each chart's vega-lite spec is
 * embedded beside it (a `<script type="application/json">` that nothing executes) for anyone
 * who wants to open it in the vega editor. Tables give the verdicts and every number.
 */
import type { ComparisonSummary } from '../compare/summary-schema.js';
import type { OmittedChart } from './charts.js';
import { formatFixed, formatterFor } from './format.js';

export interface PageChart {
  readonly name: string;
  readonly title: string;
  readonly caption: string;
  /** What the chart leaves out, one line each. */
  readonly notes: readonly string[];
  readonly svg: string;
  readonly spec: unknown;
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Probabilities, with three decimals (0 too: a column of probabilities reads alike). */
const probability = (value: number): string => value.toFixed(3);
const pValue = (value: number): string => (value < 0.0001 ? '&lt; 0.0001' : value.toFixed(4));

/**
 * Each KPI's numbers share one formatter (decimals from the largest of them, four
 * significant digits): its means and intervals for the KPI table, its differences and
 * intervals for the comparison tables.
 */
function kpiFormatters(summary: ComparisonSummary): { levels: (kpi: string) => (value: number | null) => string; differences: (kpi: string) => (value: number | null) => string } {
  const levels = new Map(summary.kpis.map((kpi) => [kpi.name, formatterFor(kpi.byArm.flatMap((entry) => [entry.mean, entry.low, entry.high, entry.iqm]))]));
  const differences = new Map(summary.kpis.map((kpi) => [kpi.name, formatterFor(summary.comparisons.filter((comparison) => comparison.kpi === kpi.name).flatMap((comparison) => [comparison.estimate, comparison.t.low, comparison.t.high, comparison.bootstrap.low, comparison.bootstrap.high]))]));
  const fallback = formatterFor([]);
  return { levels: (kpi) => levels.get(kpi) ?? fallback, differences: (kpi) => differences.get(kpi) ?? fallback };
}

/** One chart's section: title, caption, notes, the inline SVG and its vega-lite spec (inert JSON). */
export function chartSection(chart: PageChart): string {
  return `<section class="chart" id="chart-${escapeHtml(chart.name)}">
<h2>${escapeHtml(chart.title)}</h2>
<p>${escapeHtml(chart.caption)}</p>
${chart.notes.length === 0 ? '' : `<ul class="notes">${chart.notes.map((note) => `<li>${escapeHtml(note)}</li>`).join('')}</ul>\n`}<figure>${chart.svg}</figure>
<details><summary>vega-lite spec</summary><script type="application/json" class="vega-lite-spec" data-chart="${escapeHtml(chart.name)}">${JSON.stringify(chart.spec).replace(/</g, '\\u003c')}</script><p>Copy it from the page source into the vega editor to explore.</p></details>
</section>`;
}

/**
 * "Who paid what" (summary.fairness, experiments/compare/fairness.ts): per arm the spread of
 * the effective price across groups and the share a sensitive attribute explains, then every
 * group's effective price. Empty for a summary without the section.
 */
export function fairnessSection(summary: ComparisonSummary): string {
  const fairness = summary.fairness;
  if (!fairness) return '';
  const price = formatterFor(fairness.byArm.flatMap((entry) => [entry.meanEffectivePrice, ...entry.byGroup.map((group) => group.effectivePrice), ...entry.bySegment.map((group) => group.effectivePrice), ...entry.byStage.map((group) => group.effectivePrice)]));
  const spread = formatterFor(fairness.byArm.map((entry) => entry.dispersion.standardDeviation));
  const units = (value: number) => formatFixed(value, value >= 10 ? 0 : 1);
  const attributes = fairness.sensitiveAttributes;
  const summaryRows = fairness.byArm
    .map((entry) => {
      const { dispersion } = entry;
      const shares = attributes.map((attribute) => {
        const share = entry.sensitive.find((candidate) => candidate.attribute === attribute);
        return `<td>${share ? share.etaSquared.toFixed(3) : '-'}</td>`;
      });
      return `<tr data-arm="${escapeHtml(entry.arm)}"><td>${escapeHtml(entry.arm)}</td><td>${units(entry.units)}</td><td>${price(entry.meanEffectivePrice)}</td><td>${spread(dispersion.standardDeviation)}</td><td>${dispersion.coefficientOfVariation.toFixed(4)}</td><td class="max-min-ratio">${dispersion.maxMinRatio.toFixed(3)}</td><td>${dispersion.highest === null ? '-' : `${escapeHtml(dispersion.highest)} over ${escapeHtml(dispersion.lowest ?? '-')}`}</td>${shares.join('')}</tr>`;
    })
    .join('\n');
  const groupRows = fairness.byArm
    .flatMap((entry) => [
      ...entry.byGroup.map((group) => ({ arm: entry.arm, kind: fairness.groupedBy === 'segment' ? 'segment' : 'segment/stage', group })),
      ...(fairness.groupedBy === 'segment' ? [] : [...entry.bySegment.map((group) => ({ arm: entry.arm, kind: 'segment', group })), ...entry.byStage.map((group) => ({ arm: entry.arm, kind: 'stage', group }))]),
      ...entry.sensitive.flatMap((share) => share.byLevel.map((group) => ({ arm: entry.arm, kind: share.attribute, group }))),
    ])
    .map(({ arm, kind, group }) => `<tr><td>${escapeHtml(arm)}</td><td>${escapeHtml(kind)}</td><td>${escapeHtml(group.label)}</td><td>${units(group.units)}</td><td>${price(group.effectivePrice)}</td></tr>`)
    .join('\n');
  const measured =
    fairness.market === 'coupon market'
      ? summary.schemaVersion < 3
        ? "each arm's evaluation prices replayed in the coupon market on the same episode seeds, with no coupon (the arms choose prices only), grouped by segment and behaviour stage"
        : 'what each group paid in the coupon market after the coupons the arm chose, grouped by segment and behaviour stage'
      : 'the posted price, weighted by the units each segment bought each day (no coupons in this market), grouped by segment';
  return `<section id="fairness">
<h2>Effective price paid (fairness)</h2>
<p>Effective price paid = paid / units, over every seed and evaluation episode: ${measured}. The spread is across groups with at least one unit; eta^2 is the share of the effective price's variance across units that a sensitive attribute of the scenario explains${attributes.length === 0 ? ' (this scenario declares none)' : ''}. An aid, not legal advice (docs/responsible-pricing.md).</p>
<table><tr><th>arm</th><th>units</th><th>mean effective price</th><th>sd across groups</th><th>coefficient of variation</th><th>max/min ratio</th><th>highest over lowest</th>${attributes.map((attribute) => `<th>${escapeHtml(attribute)} eta^2</th>`).join('')}</tr>
${summaryRows}
</table>
<table><tr><th>arm</th><th>by</th><th>group</th><th>units</th><th>effective price</th></tr>
${groupRows}
</table>
</section>
`;
}

/**
 * What each arm chose in the coupon market (summary.coupons, coupon scenarios only): the days
 * each campaign was chosen, over every seed and evaluation episode. Empty without the section.
 */
export function couponsSection(summary: ComparisonSummary): string {
  const coupons = summary.coupons;
  if (!coupons) return '';
  const choices = ['no coupon', ...coupons.campaigns];
  const rows = coupons.byArm.map((entry) => `<tr data-coupon-arm="${escapeHtml(entry.arm)}"><td>${escapeHtml(entry.arm)}</td>${choices.map((choice) => `<td>${entry.campaignDays[choice] ?? 0}</td>`).join('')}</tr>`).join('\n');
  return `<section id="coupons">
<h2>Coupons chosen</h2>
<p>Evaluation days on which each arm offered each campaign of the scenario's menu, over every seed and evaluation episode (the coupon market, env/coupons/coupon-env.ts).</p>
<table><tr><th>arm</th>${choices.map((choice) => `<th>${escapeHtml(choice)}</th>`).join('')}</tr>
${rows}
</table>
</section>
`;
}

export function reportPage(summary: ComparisonSummary, charts: readonly PageChart[], omitted: readonly OmittedChart[] = []): string {
  const formats = kpiFormatters(summary);
  const primary = formats.differences(summary.primaryKpi);
  const verdictRows = summary.verdict.byArm
    .map((entry) => `<tr><td>${escapeHtml(entry.arm)}</td><td class="${entry.verdict.replace(/ /g, '-')}">${escapeHtml(entry.verdict)}</td><td>${primary(entry.estimate)}</td><td>${primary(entry.low)} .. ${primary(entry.high)}</td><td>${pValue(entry.adjustedPValue)}</td><td>${primary(entry.minimumDetectableEffect)}</td></tr>`)
    .join('\n');
  const armRows = summary.arms
    .map((arm) => `<tr><td>${escapeHtml(arm.name)}${arm.name === summary.baseline ? ' (baseline)' : ''}</td><td>${escapeHtml(arm.source)}</td><td>${escapeHtml(arm.kind)}</td><td><code>${escapeHtml(JSON.stringify(arm.config))}</code></td><td>${arm.learns ? 'yes' : 'no'}</td><td>${arm.artifact ? `<code>${arm.artifact.policySha256.slice(0, 16)}…</code>` : ''}</td></tr>`)
    .join('\n');
  const comparisonRows = summary.comparisons
    .map((comparison) => {
      const number = formats.differences(comparison.kpi);
      return `<tr><td>${escapeHtml(comparison.arm)}</td><td>${escapeHtml(comparison.kpi)}</td><td>${comparison.direction}</td><td>${number(comparison.estimate)}</td><td>${number(comparison.t.low)} .. ${number(comparison.t.high)}</td><td>${number(comparison.bootstrap.low)} .. ${number(comparison.bootstrap.high)}</td><td>${pValue(comparison.pValue)}</td><td>${pValue(comparison.adjustedPValue)}</td><td>${probability(comparison.probabilityOfImprovement)}</td><td>${number(comparison.minimumDetectableEffect)}</td><td class="${comparison.verdict.replace(/ /g, '-')}">${comparison.verdict}</td></tr>`;
    })
    .join('\n');
  const kpiRows = summary.kpis
    .flatMap((kpi) => {
      const number = formats.levels(kpi.name);
      return kpi.byArm.map((entry) => `<tr><td>${escapeHtml(kpi.name)}</td><td>${escapeHtml(entry.arm)}</td><td>${number(entry.mean)}</td><td>${number(entry.low)} .. ${number(entry.high)}</td><td>${number(entry.iqm)}</td><td>${number(entry.sd)}</td></tr>`);
    })
    .join('\n');
  const chartSections = charts.map(chartSection).join('\n');
  const fairness = fairnessSection(summary);
  const coupons = couponsSection(summary);
  const omittedSections = omitted.map((chart) => `<section class="chart omitted" id="chart-${escapeHtml(chart.name)}">\n<h2>${escapeHtml(chart.title)}</h2>\n<p>${escapeHtml(chart.reason)}</p>\n</section>`).join('\n');
  const title = `${summary.scenario.id}: ${summary.arms.map((arm) => arm.name).join(' vs ')}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>pricelab compare: ${escapeHtml(title)}</title>
<style>
body { font-family: "DejaVu Sans", system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; padding: 0 1rem; color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.85rem; }
td, th { border-bottom: 1px solid #ddd; padding: 0.2rem 0.6rem; text-align: right; }
td:first-child, th:first-child, td:nth-child(2) { text-align: left; }
.better { color: #1a7f37; font-weight: bold; } .worse { color: #c62828; font-weight: bold; } .no-detectable-difference { color: #666; }
.notes { color: #555; font-size: 0.85rem; margin: 0 0 0.5rem; }
figure { margin: 0; overflow-x: auto; } code { font-size: 0.8rem; }
</style>
</head>
<body>
<h1>pricelab compare: ${escapeHtml(title)}</h1>
<p>Scenario <code>${escapeHtml(summary.scenario.id)}</code> (sha256 <code>${escapeHtml(summary.scenario.contentHash.slice(0, 16))}…</code>);
${summary.seeds.length} seeds (${summary.seeds[0]}..${summary.seeds.at(-1)}), ${summary.evaluationEpisodes} evaluation episodes per seed on common random numbers;
${summary.trainingSteps} training steps per learning arm and seed. Baseline <strong>${escapeHtml(summary.baseline)}</strong>;
alpha ${summary.alpha} family-wise (Holm across ${summary.comparisons.length} comparisons). Made ${escapeHtml(summary.createdAt)} by pricelab ${escapeHtml(summary.codeVersion)}.</p>
<h2>Verdict on ${escapeHtml(summary.primaryKpi)}</h2>
<table><tr><th>arm</th><th>verdict</th><th>difference</th><th>95% paired t interval</th><th>Holm p</th><th>minimum detectable effect</th></tr>
${verdictRows}
</table>
<h2>Arms</h2>
<table><tr><th>arm</th><th>source</th><th>kind</th><th>config</th><th>trained</th><th>policy.json sha256</th></tr>
${armRows}
</table>
${omittedSections}
${chartSections}
<h2>Paired comparisons</h2>
<table><tr><th>arm</th><th>KPI</th><th>better</th><th>difference</th><th>t interval</th><th>BCa interval</th><th>p</th><th>Holm p</th><th>P(improvement)</th><th>MDE</th><th>verdict</th></tr>
${comparisonRows}
</table>
<h2>KPIs per arm</h2>
<table><tr><th>KPI</th><th>arm</th><th>mean</th><th>95% interval</th><th>IQM</th><th>sd</th></tr>
${kpiRows}
</table>
${coupons}${fairness}</body>
</html>
`;
}
