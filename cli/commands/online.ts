/**
 * `pricelab online`: a simulated online experiment of policy B against policy A, designed
 * as a shop would run it (switchback by blocks of days, product or region split), or as it
 * should not (per-customer split: flagged unfair and biased), with the estimate, its
 * interval, the always-valid interval for monitoring, and the truth (both policies on the
 * whole market, common seeds) with the design's bias. docs/online-experiments.md.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { buildMarketModel } from '../../env/model.js';
import { policySpecs } from '../../agents/policy-spec.js';
import { runCustomerSplit, runSwitchback, runUnitSplit, type DesignName, type OnlineExperimentReport } from '../../experiments/online/index.js';
import { loadScenario } from '../../scenarios/load.js';
import { formatNumber, integer, positiveInteger, printJson, run, table } from '../output.js';

interface OnlineOptions {
  design: DesignName;
  a: string;
  b: string;
  blockDays: number;
  burnIn: number;
  units: number;
  heterogeneity: number;
  days?: number;
  seed: number;
  json?: boolean;
}

const designs: readonly DesignName[] = ['switchback', 'split', 'customer'];

function design(value: string): DesignName {
  if (!designs.includes(value as DesignName)) throw new InvalidArgumentError(`expected one of ${designs.join(', ')}, found "${value}"`);
  return value as DesignName;
}

function nonNegativeNumber(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0) throw new InvalidArgumentError(`expected a number >= 0, found "${value}"`);
  return parsed;
}

function nonNegativeInteger(value: string): number {
  const parsed = integer(value);
  if (parsed < 0) throw new InvalidArgumentError(`expected a whole number >= 0, found "${value}"`);
  return parsed;
}

export function registerOnline(program: Command): void {
  program
    .command('online')
    .description('simulate an online experiment (switchback, product/region split, per-customer split) of policy B against A, with its bias against the truth')
    .argument('<scenario>', 'built-in scenario id or path to a scenario file')
    .requiredOption('--design <design>', `experiment design: ${designs.join(', ')}`, design)
    .requiredOption('--a <policy>', `policy A (control): ${policySpecs.join(', ')}`)
    .requiredOption('--b <policy>', 'policy B (treatment), same specs')
    .option('--block-days <n>', 'switchback: days per block', positiveInteger, 7)
    .option('--burn-in <n>', 'switchback: days dropped at the start of each block', nonNegativeInteger, 0)
    .option('--units <n>', 'split: number of products or regions (independent markets)', positiveInteger, 20)
    .option('--heterogeneity <sd>', 'split: sd of the log size multiplier across units', nonNegativeNumber, 0.3)
    .option('--days <n>', 'days to run (default: the scenario horizon)', positiveInteger)
    .option('--seed <n>', 'seed of the markets and the assignment', integer, 1)
    .option('--json', 'print the report as JSON: {design, estimate, low, high, alwaysValid, truth, bias, flags, details, ...}')
    .action(run(async (scenario: string, options: OnlineOptions) => online(scenario, options)));
}

async function online(name: string, options: OnlineOptions): Promise<void> {
  const model = buildMarketModel(loadScenario(name).scenario);
  const specs = { a: options.a, b: options.b };
  const days = options.days === undefined ? {} : { days: options.days };
  const report =
    options.design === 'switchback'
      ? await runSwitchback(model, specs, { blockDays: options.blockDays, burnInDays: options.burnIn, seed: options.seed, ...days })
      : options.design === 'split'
        ? await runUnitSplit(model, specs, { units: options.units, heterogeneity: options.heterogeneity, seed: options.seed, ...days })
        : await runCustomerSplit(model, specs, { seed: options.seed, ...days });
  if (options.json) {
    printJson(report);
    return;
  }
  process.stdout.write(`${describe(report)}\n`);
}

function describe(report: OnlineExperimentReport): string {
  const interval = (low: number, high: number) => `${formatNumber(low)} .. ${formatNumber(high)}`;
  const lines = [
    `${report.scenario}: ${report.design} experiment, B = ${report.policies.b} against A = ${report.policies.a}, ${report.days} days, seed ${report.seed}`,
    `effect on mean daily reward (B - A)`,
    '',
    table([
      ['', 'value', `${Math.round(report.level * 100)}% interval`],
      ['estimate', formatNumber(report.estimate), interval(report.low, report.high)],
      ['always-valid (monitoring)', formatNumber(report.alwaysValid.estimate), interval(report.alwaysValid.low, report.alwaysValid.high)],
      ['truth (whole market, common seeds)', formatNumber(report.truth.effect), ''],
      ['bias (estimate - truth)', formatNumber(report.bias), ''],
    ]),
    '',
    `method: ${report.method}`,
    `truth ${report.truthInInterval ? 'inside' : 'OUTSIDE'} the interval`,
    ...report.flags.map((flag) => `warning: ${flag}`),
  ];
  return lines.join('\n');
}
