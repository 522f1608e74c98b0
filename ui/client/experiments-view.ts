/**
 * The experiments view: comparisons and runs from the results store, and a comparison's
 * report charts (experiments/report specs, drawn with vega-embed), with a link to its
 * written HTML report when there is one. Runs (those of `pricelab train` too) show their
 * steps, evaluation reward and share of the DP optimum; opening one draws its learning
 * curve and lists its KPIs (the evaluation episodes' means and every numeric metric).
 */
import embed from 'vega-embed';
import type { TopLevelSpec } from 'vega-lite';
import { byId, element, formatNumber, table } from './dom.js';
import { flatSafeDomain } from './format.js';

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
  /** Numeric metrics by key (`train/steps`, `eval/meanReward`, `eval/shareOfOptimum`, ...). */
  metrics: Record<string, number | null>;
  /** Greedy evaluations over training steps (a `pricelab train` run's learning curve). */
  curve: { steps: number; meanReward: number }[];
  /** Mean KPIs of the run's evaluation episodes (profit, revenue, fillRate, ...). */
  kpis: Record<string, number>;
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
  const metric = (run: RunEntry, key: string, digits = 2) => {
    const value = run.metrics[key];
    return typeof value === 'number' ? formatNumber(value, digits) : '';
  };
  const runs =
    answer.runs.length === 0
      ? element('p', {}, 'No runs in the store yet: run `npx pricelab train ...` or `npx pricelab experiment run <file>`.')
      : table(
          ['run', 'experiment', 'scenario', 'agent', 'seed', 'status', 'ended', 'steps', 'eval reward', 'of optimum', 'profit', ''],
          answer.runs.map((run) => {
            const share = run.metrics['eval/shareOfOptimum'];
            const open = element('button', { type: 'button', class: 'open-run', 'data-run': run.id }, run.curve.length > 0 ? 'curve and KPIs' : 'KPIs');
            open.addEventListener('click', () => void showRun(run));
            return [
              element('span', { title: run.id }, run.id.slice(0, 28)),
              run.experiment,
              run.scenario,
              run.agent,
              String(run.seed),
              run.status,
              (run.endedAt ?? '').replace('T', ' ').slice(0, 19),
              metric(run, 'train/steps', 0),
              metric(run, 'eval/meanReward'),
              typeof share === 'number' ? `${formatNumber(share * 100, 1)}%` : '',
              run.kpis['profit'] === undefined ? '' : formatNumber(run.kpis['profit']),
              open,
            ];
          }),
        );
  container.replaceChildren(element('h3', {}, 'Comparisons'), comparisons, element('h3', {}, 'Runs'), runs);
}

/** A run's learning curve (greedy evaluations over training steps, with the DP optimum when known) and its KPIs. */
async function showRun(run: RunEntry): Promise<void> {
  const holder = byId('report');
  const optimum = run.metrics['eval/optimalValue'];
  const best = run.metrics['eval/bestSteps'];
  const chart = element('div', { class: 'report-chart', id: 'run-curve' });
  const kpiRows = [
    ...Object.entries(run.kpis).map(([key, value]): [string, string] => [`evaluation mean: ${key}`, formatNumber(value)]),
    ...Object.entries(run.metrics).flatMap(([key, value]): [string, string][] => (typeof value === 'number' ? [[key, formatNumber(value, 4)]] : [])),
  ];
  const kpis = table(['KPI', 'value'], kpiRows);
  kpis.id = 'run-kpis';
  holder.replaceChildren(element('h3', {}, `Run ${run.id}: ${run.agent} on ${run.scenario}, seed ${run.seed} (${run.status})`), ...(run.curve.length > 0 ? [element('figure', {}, element('figcaption', {}, element('strong', {}, 'Learning curve'), ' mean reward of greedy evaluations over training steps', optimum === null || optimum === undefined ? '' : '; dashed: the DP optimum', best === null || best === undefined ? '.' : '; the ring marks the kept (best) policy.'), chart)] : [element('p', { class: 'note' }, 'This run stored no evaluation curve.')]), kpis);
  if (run.curve.length === 0) return;
  // A flat curve (and optimum) would give the axis a zero tick step and labels like "80,154.818000".
  const yDomain = flatSafeDomain([...run.curve.map((point) => point.meanReward), ...(typeof optimum === 'number' ? [optimum] : [])]);
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 'container',
    height: 220,
    autosize: { type: 'fit-x', contains: 'padding' },
    layer: [
      {
        data: { values: run.curve },
        mark: { type: 'line', point: true, color: '#4c78a8' },
        encoding: { x: { field: 'steps', type: 'quantitative', title: 'training steps' }, y: { field: 'meanReward', type: 'quantitative', title: 'mean reward (greedy evaluation)', scale: yDomain === undefined ? { zero: false } : { zero: false, domain: yDomain } }, tooltip: [{ field: 'steps' }, { field: 'meanReward', format: ',.2f' }] },
      },
      ...(typeof optimum === 'number' ? [{ data: { values: [{ optimum }] }, mark: { type: 'rule' as const, strokeDash: [4, 3], color: '#888' }, encoding: { y: { field: 'optimum', type: 'quantitative' as const } } }] : []),
      ...(typeof best === 'number' ? [{ data: { values: run.curve.filter((point) => point.steps === best) }, mark: { type: 'point' as const, size: 160, color: '#e45756', strokeWidth: 2 }, encoding: { x: { field: 'steps', type: 'quantitative' as const }, y: { field: 'meanReward', type: 'quantitative' as const } } }] : []),
    ],
  } as TopLevelSpec;
  await embed(chart, spec, { renderer: 'svg', actions: false });
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
