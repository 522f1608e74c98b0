/**
 * `pricelab reproduce calvano`: the Calvano et al. (2020) experiment (agents/calvano.ts)
 * over S sessions in worker threads (experiments/reproduce-calvano.ts), with the paper's
 * figures beside ours. Progress goes to stderr: a bar when stderr is a terminal (not with
 * --json) and a line per finished session; stdout holds the summary table or the JSON.
 */
import cliProgress from 'cli-progress';
import { InvalidArgumentError, type Command } from 'commander';
import { calvanoConfigSchema, type CalvanoConfigInput, type CalvanoSessionResult } from '../../agents/calvano.js';
import { PricelabError, configError } from '../../core/errors.js';
import { reproduceCalvano, type CalvanoSummary } from '../../experiments/reproduce-calvano.js';
import { integer, positiveInteger, printJson, run, table } from '../output.js';
import { reproduceCalvanoOnQueue } from './reproduce-queue.js';

interface ReproduceCalvanoOptions {
  sessions: number;
  seed: number;
  workers?: number;
  alpha?: number;
  beta?: number;
  firms?: number;
  maxPeriods?: number;
  window?: number;
  scenario?: string;
  json?: boolean;
  queue?: string;
  attempts?: number;
  connectTimeout?: number;
}

/** Config fields set from options, so that validation problems name the option. */
const optionOfField: Record<string, string> = {
  alpha: '--alpha',
  beta: '--beta',
  firms: '--firms',
  maxPeriods: '--max-periods',
  convergenceWindow: '--window',
  scenario: '--scenario',
  gridSize: '--firms',
};

const fieldHelp = (field: keyof typeof calvanoConfigSchema.shape) => calvanoConfigSchema.shape[field].description ?? field;

export function registerReproduce(program: Command): void {
  const reproduce = program.command('reproduce').description('reproduce a published experiment and print its figures beside the paper’s');
  reproduce
    .command('calvano')
    .description('Calvano et al. (AER 2020): independent Q-learners learn to collude in a logit duopoly (S sessions in worker threads)')
    .option('--sessions <n>', 'number of sessions S, seeds seed .. seed + S - 1 (the paper runs 1,000)', positiveInteger, 100)
    .option('--seed <s>', 'seed of the first session', integer, 1)
    .option('--workers <n>', 'worker threads (default: one per core; 0 runs in this thread)', nonNegativeInteger)
    .option('--alpha <a>', fieldHelp('alpha'), finiteNumber)
    .option('--beta <b>', fieldHelp('beta'), finiteNumber)
    .option('--firms <n>', fieldHelp('firms'), positiveInteger)
    .option('--max-periods <n>', fieldHelp('maxPeriods'), positiveInteger)
    .option('--window <n>', fieldHelp('convergenceWindow'), positiveInteger)
    .option('--scenario <id>', fieldHelp('scenario'))
    .option('--queue <url>', 'run the sessions on the workers of a Redis queue (redis://host:port[/db]; see `pricelab worker`), each stored in $PRICELAB_HOME as it arrives')
    .option('--attempts <n>', 'with --queue: tries per session before it fails', positiveInteger, 3)
    .option('--connect-timeout <s>', 'with --queue: seconds to wait for Redis', positiveInteger, 3)
    .option('--json', 'print {sessions, converged, profitGainMean, profitGainSd, meanPeriodsToConvergence, averagePrice, secondsPerSession, impulseResponse, config}')
    .action(run((options: ReproduceCalvanoOptions) => reproduceCalvanoCommand(options)));
}

async function reproduceCalvanoCommand(options: ReproduceCalvanoOptions): Promise<number | void> {
  const config: CalvanoConfigInput = {
    ...(options.scenario !== undefined ? { scenario: options.scenario } : {}),
    ...(options.alpha !== undefined ? { alpha: options.alpha } : {}),
    ...(options.beta !== undefined ? { beta: options.beta } : {}),
    ...(options.firms !== undefined ? { firms: options.firms } : {}),
    ...(options.maxPeriods !== undefined ? { maxPeriods: options.maxPeriods } : {}),
    ...(options.window !== undefined ? { convergenceWindow: options.window } : {}),
  };
  if (options.queue !== undefined) {
    let queued;
    try {
      queued = await reproduceCalvanoOnQueue({ ...options, queue: options.queue }, config);
    } catch (error) {
      throw nameOptions(error);
    }
    if (queued.summary === null) return queued.code;
    if (options.json) printJson(queued.summary);
    else process.stdout.write(`${summaryText(queued.summary, options.seed, queued.workers, queued.wallSeconds, 'queue worker')}\n`);
    return queued.code;
  }
  const progress = process.stderr.isTTY && !options.json ? sessionBar(options.sessions) : undefined;
  const log = (line: string) => (progress ? progress.log(line) : process.stderr.write(`${line}\n`));
  let reproduction;
  try {
    reproduction = await reproduceCalvano({
      sessions: options.sessions,
      firstSeed: options.seed,
      ...(options.workers !== undefined ? { workers: options.workers } : {}),
      config,
      onSession: (result, finished, total) => {
        log(sessionLine(result, finished, total));
        progress?.update(finished, `seed ${result.seed}`);
      },
    });
  } catch (error) {
    throw nameOptions(error);
  } finally {
    progress?.stop();
  }
  if (options.json) {
    printJson(reproduction.summary);
    return;
  }
  process.stdout.write(`${summaryText(reproduction.summary, options.seed, reproduction.workers, reproduction.wallSeconds)}\n`);
}

/**
 * A bar on stderr with the session lines logged above it. (cli/progress.ts's bar would do,
 * but MultiBar.stop() drops lines logged since the last redraw: the last sessions' lines.)
 */
function sessionBar(total: number) {
  const bars = new cliProgress.MultiBar(
    { stream: process.stderr, format: '{bar} {percentage}% | {value}/{total} sessions | eta {eta_formatted} | {label}', hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  const bar = bars.create(total, 0, { label: '' });
  return {
    update: (done: number, label: string) => bar.update(done, { label }),
    log: (line: string) => bars.log(`${line}\n`),
    stop: () => {
      bars.update(); // flush the logged lines, then draw the bar a last time
      bars.stop();
    },
  };
}

function sessionLine(result: CalvanoSessionResult, finished: number, total: number): string {
  const outcome = result.converged ? `converged after ${whole(result.periodsToConvergence)} periods` : `not converged in ${whole(result.periods)} periods`;
  return `[${finished}/${total}] seed ${result.seed}: ${outcome}, profit gain ${result.profitGain.toFixed(3)}, price ${result.averagePrice.toFixed(3)}, cycle ${result.cycleStates.length}, ${result.seconds.toFixed(2)} s`;
}

function summaryText(summary: CalvanoSummary, firstSeed: number, workers: number, wallSeconds: number, workerNoun = 'worker'): string {
  const config = summary.config;
  const baseline = config.firms === 2 && config.alpha === 0.15 && config.beta === 4e-6 && config.delta === 0.95 && config.gridSize === 15 && config.convergenceWindow === 100_000;
  const paper = (text: string) => (baseline ? text : '-');
  const rows = [
    ['figure', 'pricelab', 'paper (baseline)'],
    ['sessions converged', `${summary.converged}/${summary.sessions}`, paper('all')],
    ['profit gain, mean', summary.profitGainMean.toFixed(3), paper('about 0.85')],
    ['profit gain, sd', summary.profitGainSd.toFixed(3), paper('about 0.11')],
    ['periods to convergence, mean', whole(summary.meanPeriodsToConvergence), paper('about 1.7 to 1.8 million')],
    ['limit-cycle price, mean', summary.averagePrice.toFixed(4), paper(`between Nash and monopoly`)],
    ['seconds per session (one core)', summary.secondsPerSession.toFixed(3), '-'],
  ];
  const impulse = summary.impulseResponse;
  const impulseRows = [
    ['period', ...Array.from({ length: config.firms }, (_, firm) => `firm ${firm}${firm === impulse.deviatingFirm ? ' (deviates)' : ''}`)],
    ...Array.from({ length: impulse.periods + 1 }, (_, period) => [
      period === 0 ? 'before' : String(period),
      ...Array.from({ length: config.firms }, (_, firm) => (impulse.prices[firm]?.[period] ?? Number.NaN).toFixed(4)),
    ]),
  ];
  return [
    `Calvano et al. (2020), ${config.firms} firms on ${config.scenario}: alpha ${config.alpha}, beta ${config.beta}, delta ${config.delta}, ${config.gridSize} prices, window ${whole(config.convergenceWindow)}`,
    `${summary.sessions} session${summary.sessions === 1 ? '' : 's'} (seed${summary.sessions === 1 ? ` ${firstSeed}` : `s ${firstSeed}..${firstSeed + summary.sessions - 1}`}) on ${workers === 0 ? 'this thread' : `${workers} ${workerNoun}${workers === 1 ? '' : 's'}`} in ${wallSeconds.toFixed(1)} s`,
    '',
    table(rows),
    '',
    `Impulse response: firm ${impulse.deviatingFirm} deviates for one period to its best reply on the grid (mean over ${impulse.sessions} sessions; ${impulse.returnedToCycle} came back to their cycle)`,
    table(impulseRows),
  ].join('\n');
}

/** Config problems from the schema name config fields: name the options instead. */
function nameOptions(error: unknown): unknown {
  if (!(error instanceof PricelabError) || error.kind !== 'config') return error;
  const problems = error.problems.map((problem) => {
    const field = problem.path[0];
    const option = typeof field === 'string' ? optionOfField[field] : undefined;
    return option ? { path: [option], message: problem.message } : problem;
  });
  return configError(error.message.split('\n')[0] ?? 'invalid options', problems);
}

/** A count with thousands separators (formatNumber switches to exponents at a million). */
function whole(value: number | null): string {
  return value === null ? '-' : Math.round(value).toLocaleString('en-US');
}

function finiteNumber(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed)) throw new InvalidArgumentError(`expected a number, found "${value}"`);
  return parsed;
}

function nonNegativeInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new InvalidArgumentError(`expected a whole number >= 0, found "${value}"`);
  return parsed;
}
