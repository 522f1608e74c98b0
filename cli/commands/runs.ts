/**
 * `pricelab runs list`: the runs in the results store (PRICELAB_HOME), a line each, with
 * their status, mean evaluation reward and, where the market has Nash and monopoly
 * benchmarks, the collusion monitor's profit-gain index (market/profitGain).
 * `pricelab runs show <id>`: one run (an unambiguous prefix of its key will do): manifest,
 * metrics, evaluation episodes. Both with `--json`. Reading never creates a store.
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { PricelabError, configError } from '../../core/errors.js';
import { databasePath, openResultsStore, type EvaluationCurvePoint, type ResultsStoreBackend, type RunRow, type RunStatus } from '../../experiments/store.js';
import { storeLocation } from '../../core/store-url.js';
import { lineChart } from '../text-chart.js';
import { formatNumber, printJson, run, table } from '../output.js';

const statuses: readonly RunStatus[] = ['pending', 'running', 'interrupted', 'finished', 'failed'];

export function registerRuns(program: Command): void {
  const runs = program.command('runs').description('the runs in the results store ($PRICELAB_HOME/pricelab.db)');
  runs
    .command('list')
    .description('every run: key, experiment, scenario, agent, seed, status, eval/meanReward, market/profitGain')
    .option('--experiment <name>', 'only the runs of this experiment')
    .option('--status <status>', `only runs with this status: ${statuses.join(', ')}`)
    .option('--json', 'print the runs as JSON')
    .action(run((options: { experiment?: string; status?: string; json?: boolean }) => listRuns(options)));
  runs
    .command('show')
    .description('one run: manifest, metrics and evaluation episodes')
    .argument('<id>', 'run key, or an unambiguous prefix of it')
    .option('--json', 'print the run as JSON')
    .action(run((id: string, options: { json?: boolean }) => showRun(id, options)));
}

/** The store PRICELAB_STORE names (PostgreSQL), else the SQLite file of PRICELAB_HOME, which reading never creates. */
function openExisting(): Promise<ResultsStoreBackend> {
  const location = storeLocation();
  if (location.kind === 'sqlite' && !existsSync(databasePath(location.home))) throw new PricelabError('not-found', `no results store at ${databasePath(location.home)}: run an experiment first (pricelab experiment run <file>), or set PRICELAB_HOME`);
  return openResultsStore(location);
}

async function listRuns(options: { experiment?: string; status?: string; json?: boolean }): Promise<void> {
  if (options.status !== undefined && !statuses.includes(options.status as RunStatus)) {
    throw configError('unknown run status', [{ path: ['status'], message: `expected one of ${statuses.join(', ')}, found "${options.status}"` }]);
  }
  const store = await openExisting();
  try {
    const rows = await store.listRuns({ ...(options.experiment === undefined ? {} : { experiment: options.experiment }), ...(options.status === undefined ? {} : { status: options.status as RunStatus }) });
    const rewards = await store.metricOfRuns('eval/meanReward');
    const gains = await store.metricOfRuns('market/profitGain');
    if (options.json) {
      printJson(rows.map((row) => ({ ...summaryOf(row), 'eval/meanReward': rewards.get(row.id) ?? null, 'market/profitGain': gains.get(row.id) ?? null })));
      return;
    }
    if (rows.length === 0) {
      process.stdout.write('no runs\n');
      return;
    }
    const lines = [['run', 'experiment', 'scenario', 'agent', 'seed', 'status', 'eval/meanReward', 'market/profitGain']];
    for (const row of rows) {
      lines.push([row.id, row.experiment, row.scenario.id, row.agent.name, String(row.seed), row.status, formatNumber(rewards.get(row.id)), formatNumber(gains.get(row.id), 3)]);
    }
    process.stdout.write(`${table(lines)}\n`);
  } finally {
    await store.close();
  }
}

async function showRun(id: string, options: { json?: boolean }): Promise<void> {
  const store = await openExisting();
  try {
    const matches = await store.listRuns({ idPrefix: id });
    if (matches.length === 0) throw new PricelabError('not-found', `no run "${id}" in ${store.path}: see pricelab runs list`);
    if (matches.length > 1) throw configError(`"${id}" names ${matches.length} runs`, [{ path: ['id'], message: `expected one run, found ${matches.map((row) => row.id).join(', ')}` }]);
    const row = matches[0]!;
    const metrics = await store.metricsOf(row.id);
    const evaluations = await store.evaluationsOf(row.id);
    const checkpoint = (await store.checkpointOf(row.id)) ?? null;
    if (options.json) {
      printJson({ ...row, metrics, evaluations, checkpoint });
      return;
    }
    const head = `${row.id}  ${row.experiment}  ${row.scenario.id}  ${row.agent.name} (${row.agent.kind})  seed ${row.seed}  ${row.status}`;
    const times = `started ${row.startedAt ?? '-'}, ended ${row.endedAt ?? '-'}${row.error ? `\nerror: ${row.error}` : ''}${checkpoint ? `\ncheckpoint after episode ${checkpoint.episodes} (${checkpoint.steps} steps)` : ''}`;
    const metricLines = [['metric', 'value'], ...Object.entries(metrics).filter(([, value]) => typeof value === 'number' || value === null).map(([key, value]) => [key, formatNumber(value as number | null, 4)])];
    const episodeLines = [['episode', 'seed', 'total reward'], ...evaluations.map((episode) => [String(episode.episode), String(episode.seed), formatNumber(episode.totalReward)])];
    const listed = (await store.listRunsWithCurves({ idPrefix: row.id })).find((entry) => entry.run.id === row.id);
    const curve = listed?.curve ?? [];
    const policy = listed?.artifactPath ?? null;
    process.stdout.write(
      `${head}\n${times}\nagent config: ${JSON.stringify(row.agent.config)}${policy === null ? '' : `\npolicy: ${policy}`}\n\n${table(metricLines)}\n\n${curveText(curve)}${evaluations.length > 0 ? table(episodeLines) : 'no evaluation episodes yet'}\n`,
    );
  } finally {
    await store.close();
  }
}

/** The greedy evaluations over training: a table and, from two points on, a text chart. */
function curveText(curve: readonly EvaluationCurvePoint[]): string {
  if (curve.length === 0) return '';
  const rows = [['steps', 'eval mean reward'], ...curve.map((point) => [formatNumber(point.steps), formatNumber(point.meanReward)])];
  const chart = curve.length > 1 ? `\n${lineChart([{ name: 'greedy evaluation, mean reward', values: curve.map((point) => point.meanReward), color: undefined }], { height: 6, color: false, format: (value) => formatNumber(value).padStart(9) })}\n` : '';
  return `evaluation curve\n${table(rows)}\n${chart}\n`;
}

function summaryOf(row: RunRow) {
  return { id: row.id, experiment: row.experiment, scenario: row.scenario.id, agent: row.agent.name, kind: row.agent.kind, seed: row.seed, status: row.status, startedAt: row.startedAt, endedAt: row.endedAt };
}
