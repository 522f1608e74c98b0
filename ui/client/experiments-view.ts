/**
 * The experiments view: comparisons and runs from the results store, and a comparison's
 * report charts (experiments/report specs, drawn with vega-embed), with a link to its
 * written HTML report when there is one.
 */
import embed from 'vega-embed';
import type { TopLevelSpec } from 'vega-lite';
import { byId, element, formatNumber, table } from './dom.js';

interface ComparisonEntry {
  id: string;
  createdAt: string;
  scenario: string;
  arms: string[];
  baseline: string;
  verdict: { arm: string; verdict: string; estimate: number; low: number; high: number }[];
  hasReport: boolean;
}

interface RunEntry {
  id: string;
  experiment: string;
  scenario: string;
  agent: string;
  seed: number;
  status: string;
  endedAt: string | null;
}

interface ReportCharts {
  id: string;
  scenario: string;
  charts: { name: string; title: string; caption: string; spec: TopLevelSpec }[];
}

export async function showExperiments(): Promise<void> {
  const container = byId('experiments-list');
  const answer = (await (await fetch('/api/experiments')).json()) as { comparisons: ComparisonEntry[]; runs: RunEntry[] };
  const comparisons =
    answer.comparisons.length === 0
      ? element('p', {}, 'No comparisons in the store yet: run `npx pricelab compare ...`.')
      : table(
          ['when', 'scenario', 'arms', 'verdict (primary KPI vs baseline)', ''],
          answer.comparisons.map((comparison) => {
            const open = element('button', { type: 'button', class: 'open-report', 'data-comparison': comparison.id }, 'report charts');
            open.addEventListener('click', () => void showReport(comparison.id));
            return [
              comparison.createdAt.replace('T', ' ').slice(0, 19),
              comparison.scenario,
              `${comparison.arms.join(', ')} (baseline ${comparison.baseline})`,
              comparison.verdict.map((arm) => `${arm.arm}: ${arm.verdict} ${formatNumber(arm.estimate)} [${formatNumber(arm.low)}, ${formatNumber(arm.high)}]`).join('; '),
              element('span', {}, open, ...(comparison.hasReport ? [' ', element('a', { href: `/api/experiments/${comparison.id}/report`, target: '_blank' }, 'HTML report')] : [])),
            ];
          }),
        );
  const runs =
    answer.runs.length === 0
      ? element('p', {}, 'No runs in the store yet: run `npx pricelab experiment run <file>`.')
      : table(
          ['run', 'experiment', 'scenario', 'agent', 'seed', 'status', 'ended'],
          answer.runs.map((run) => [run.id.slice(0, 12), run.experiment, run.scenario, run.agent, String(run.seed), run.status, run.endedAt ?? '']),
        );
  container.replaceChildren(element('h3', {}, 'Comparisons'), comparisons, element('h3', {}, 'Runs'), runs);
}

async function showReport(id: string): Promise<void> {
  const holder = byId('report');
  const response = await fetch(`/api/experiments/${encodeURIComponent(id)}/charts`);
  if (!response.ok) {
    holder.replaceChildren(element('p', { class: 'warning' }, `Cannot show the report: ${((await response.json()) as { message: string }).message}`));
    return;
  }
  const report = (await response.json()) as ReportCharts;
  holder.replaceChildren(element('h3', {}, `Report: ${report.scenario}, comparison ${report.id.slice(0, 8)}`));
  for (const chart of report.charts) {
    const target = element('div', { class: 'report-chart', id: `report-${chart.name}` });
    holder.append(element('figure', {}, element('figcaption', {}, element('strong', {}, chart.title), ` ${chart.caption}`), target));
    await embed(target, chart.spec, { renderer: 'svg', actions: false });
  }
}
