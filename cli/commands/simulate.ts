/**
 * `pricelab simulate`: run a rule policy on a scenario and print its KPIs (mean and 95%
 * interval across episodes), optionally every day as CSV. `pricelab start` runs the default
 * simulation: a year of singles-day-v1 under a festival rule, with a text chart.
 */
import type { Command } from 'commander';
import { makeEnv, type StepInfo } from '../../env/env.js';
import { buildMarketModel } from '../../env/model.js';
import { parsePolicySpec, policySpecs } from '../../agents/policy-spec.js';
import { historicalOptionsFor, historicalPrefix, readHistoricalPolicy } from '../../calibration/historical.js';
import { evaluate, type EvaluatedEpisode } from '../../experiments/train.js';
import { agentFor } from '../../experiments/setup.js';
import { summariseKpis } from '../../experiments/summary.js';
import { loadScenario } from '../../scenarios/load.js';
import { formatNumber, integer, positiveInteger, printJson, run, table, writeFileAtomically } from '../output.js';
import { episodeCharts } from '../text-chart.js';

interface SimulateOptions {
  policy: string;
  seed: number;
  episodes: number;
  csv?: string;
  json?: boolean;
  chart?: boolean;
}

export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description('run a rule policy on a scenario and print its KPIs')
    .argument('<scenario>', 'built-in scenario id or path to a scenario file')
    .requiredOption('--policy <rule>', `rule policy: ${policySpecs.join(', ')}`)
    .option('--seed <n>', 'seed of the first episode (episode e uses seed + e)', integer, 1)
    .option('--episodes <n>', 'number of episodes', positiveInteger, 1)
    .option('--csv <file>', 'write every day of every episode as CSV')
    .option('--chart', 'print a text chart of the first episode')
    .option('--json', 'print {scenario, policy, seeds, kpis: {name: {mean, sd, low, high, n}}, episodes: [...]}')
    .action(run(async (scenario: string, options: SimulateOptions) => simulate(scenario, options)));

  program
    .command('start')
    .description('the default simulation: a year of singles-day-v1 under a festival-discount rule, with KPIs and a text chart')
    .action(run(async () => simulate('singles-day-v1', { policy: 'festival:0.15', seed: 1, episodes: 1, chart: true }, true)));
}

async function simulate(name: string, options: SimulateOptions, banner = false): Promise<void> {
  const { scenario } = loadScenario(name);
  const model = buildMarketModel(scenario);
  const env = makeEnv(model);
  // historical:<sales file> reads its file first (calibration/historical.ts), on the scenario's calibrated calendar.
  const histories = options.policy.startsWith(historicalPrefix) ? new Map([[options.policy, await readHistoricalPolicy(options.policy, historicalOptionsFor(scenario))]]) : undefined;
  const { kind, config } = parsePolicySpec(options.policy, { listPrice: model.listPrice, ladder: model.ladder, ...(histories ? { histories } : {}) });
  const agent = await agentFor(env, kind, config, options.seed);
  const policy = { name: options.policy };
  const keepSteps = options.csv !== undefined || options.chart === true;
  const records = evaluate(env, agent, { episodes: options.episodes, seed: options.seed, recordSteps: keepSteps });
  const summary = summariseKpis(records.map((record) => record.kpis));
  if (options.csv) writeFileAtomically(options.csv, toCsv(records, model.rivals.map((rival) => rival.name)));
  if (options.json) {
    printJson({ scenario: scenario.id, policy: policy.name, seeds: records.map((record) => record.seed), kpis: summary, episodes: records.map((record) => record.kpis) });
    return;
  }
  const lines: string[] = [];
  if (banner) lines.push(`pricelab: ${scenario.id}, ${scenario.description}`, `policy ${policy.name}, seed ${options.seed}. Try \`pricelab --help\` for the other commands.`, '');
  else lines.push(`${scenario.id} under ${policy.name}, ${records.length} episode${records.length === 1 ? '' : 's'} from seed ${options.seed}`, '');
  const rows = [['KPI', 'mean', ...(records.length > 1 ? ['95% interval', 'sd'] : [])]];
  for (const [key, value] of Object.entries(summary)) {
    if (!value) continue;
    rows.push([key, formatNumber(value.mean), ...(records.length > 1 ? [`${formatNumber(value.low)} .. ${formatNumber(value.high)}`, formatNumber(value.sd)] : [])]);
  }
  lines.push(table(rows));
  if (options.chart && records[0]) lines.push('', episodeCharts(records[0].steps, { color: process.stdout.isTTY === true }));
  if (options.csv) lines.push('', `wrote ${options.csv}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Every day of every episode; a rival's price column is named after it (`rivalPrice:<name>`, as its observation feature). */
export function toCsv(records: readonly EvaluatedEpisode[], rivalNames: readonly string[]): string {
  const first: StepInfo | undefined = records[0]?.steps[0];
  const rivalCount = Math.max(0, (first?.prices.length ?? 1) - 1);
  const termNames = first ? Object.keys(first.terms) : [];
  const header = [
    'seed', 'day', 'price', ...Array.from({ length: rivalCount }, (_, index) => `rivalPrice:${rivalNames[index] ?? index + 1}`),
    'arrivals', 'demand', 'sold', 'lostSales', 'unitsReturned', 'unitsRestocked', 'unitsOrdered', 'stockOnHand', 'stockOnOrder',
    'customersLost', 'weather', 'temperature', 'eventDay', 'presaleDay', ...termNames, 'profit',
  ];
  const lines = [header.join(',')];
  for (const record of records) {
    for (const step of record.steps) {
      const market = step.market;
      lines.push(
        [
          record.seed, step.day, step.price, ...step.prices.slice(1),
          market.arrivals, market.demand, market.sold, market.lostSales, market.unitsReturned, market.unitsRestocked, market.unitsOrdered,
          market.stockOnHand, market.stockOnOrder, market.customersLost, market.weather ?? '', market.temperature, market.eventDay ? 1 : 0, market.presaleDay ? 1 : 0,
          ...termNames.map((name) => step.terms[name as keyof StepInfo['terms']]), step.profit,
        ].join(','),
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
