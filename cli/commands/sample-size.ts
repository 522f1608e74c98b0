/**
 * `pricelab sample-size`: plan an experiment. Given the sd of a KPI (of one episode, or of
 * one paired difference with --paired) and either the effect to detect (--effect) or the
 * number of seeds per arm (--n), prints the seeds needed or the minimum detectable effect,
 * for a two-sided t-test at --alpha with --power. Exact noncentral-t calculation, as R's
 * power.t.test (experiments/statistics/power.ts; formulas in docs/statistics.md).
 */
import { type Command, InvalidArgumentError } from 'commander';
import { configError } from '../../core/errors.js';
import { minimumDetectableEffect, powerOfTTest, sampleSize } from '../../experiments/statistics/index.js';
import { formatNumber, positiveInteger, printJson, run } from '../output.js';

interface SampleSizeOptions {
  sd: number;
  effect?: number;
  n?: number;
  alpha: number;
  power: number;
  paired?: boolean;
  json?: boolean;
}

export interface SampleSizeAnswer {
  design: 'paired' | 'two-sample';
  sd: number;
  alpha: number;
  power: number;
  /** Seeds per arm (two-sample) or pairs of seeds (paired). */
  n: number;
  /** The effect: given (--effect) or the minimum detectable one (--n). */
  effect: number;
  /** What was solved for. */
  solvedFor: 'n' | 'effect';
  /** The power actually reached at n (at least the target when solving for n). */
  achievedPower: number;
}

export function registerSampleSize(program: Command): void {
  program
    .command('sample-size')
    .description('seeds needed to detect an effect (--effect), or the minimum detectable effect at a number of seeds (--n); two-sided t-test')
    .requiredOption('--sd <number>', 'standard deviation of the KPI per episode (with --paired: of the paired difference)', positiveNumber)
    .option('--effect <number>', 'the difference in the KPI to detect (same units as --sd)', nonZeroNumber)
    .option('--n <count>', 'seeds per arm (with --paired: pairs of seeds); at least 2', atLeastTwo)
    .option('--alpha <number>', 'significance level, two-sided', unitInterval, 0.05)
    .option('--power <number>', 'target power', unitInterval, 0.8)
    .option('--paired', 'paired design: both arms on the same seeds (common random numbers)')
    .option('--json', 'print {design, sd, alpha, power, n, effect, solvedFor, achievedPower}')
    .action(run((options: SampleSizeOptions) => sampleSizeCommand(options)));
}

export function sampleSizeCommand(options: SampleSizeOptions): void {
  const answer = solveSampleSize(options);
  if (options.json) {
    printJson(answer);
    return;
  }
  const unit = answer.design === 'paired' ? 'pairs of seeds (same seeds for both arms)' : 'seeds per arm';
  const settings = `two-sided alpha ${answer.alpha}, power ${answer.power}, sd ${answer.sd}, ${answer.design}`;
  process.stdout.write(
    answer.solvedFor === 'n'
      ? `n = ${answer.n} ${unit} to detect an effect of ${formatNumber(answer.effect, 6)} (${settings}; power reached ${formatNumber(answer.achievedPower, 4)})\n`
      : `minimum detectable effect = ${formatNumber(answer.effect, 6)} with ${answer.n} ${unit} (${settings})\n`,
  );
}

export function solveSampleSize(options: SampleSizeOptions): SampleSizeAnswer {
  if ((options.effect === undefined) === (options.n === undefined)) {
    throw configError('sample-size needs exactly one of --effect and --n', [
      { path: ['effect'], message: `expected --effect <number> or --n <count>, found ${options.effect === undefined ? 'neither' : 'both'}` },
    ]);
  }
  if (options.power <= options.alpha / 2) {
    throw configError('the power is too low', [{ path: ['power'], message: `expected a power above alpha/2 = ${options.alpha / 2}, found ${options.power}` }]);
  }
  const paired = options.paired === true;
  const common = { sd: options.sd, alpha: options.alpha, power: options.power, paired };
  const solvedFor = options.effect === undefined ? 'effect' : 'n';
  const n = options.n ?? sampleSize({ ...common, effect: options.effect as number });
  const effect = options.effect === undefined ? minimumDetectableEffect({ ...common, n }) : Math.abs(options.effect);
  const achievedPower = powerOfTTest({ sd: options.sd, effect, n, alpha: options.alpha, paired });
  return { design: paired ? 'paired' : 'two-sample', sd: options.sd, alpha: options.alpha, power: options.power, n, effect, solvedFor, achievedPower };
}

function positiveNumber(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed <= 0) throw new InvalidArgumentError(`expected a number greater than 0, found "${value}"`);
  return parsed;
}

function nonZeroNumber(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed === 0) throw new InvalidArgumentError(`expected a non-zero number, found "${value}"`);
  return parsed;
}

function unitInterval(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !(parsed > 0 && parsed < 1)) throw new InvalidArgumentError(`expected a number strictly between 0 and 1, found "${value}"`);
  return parsed;
}

function atLeastTwo(value: string): number {
  const parsed = positiveInteger(value);
  if (parsed < 2) throw new InvalidArgumentError(`expected a whole number of at least 2, found "${value}"`);
  return parsed;
}
