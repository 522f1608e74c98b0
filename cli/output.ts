/**
 * What every command shares: running an action with errors turned into clear messages and
 * exit codes a pipeline can rely on, option parsers that name the bad value, JSON output,
 * and writing files atomically (a temporary file renamed into place, so a failed or killed
 * run never leaves a half-written file).
 *
 * Exit codes: 0 success; 1 a check or comparison failed; 2 bad input (arguments, scenario
 * files, protocol misuse); 3 not found; 4 integrity; 70 an unexpected internal error.
 *
 * Errors always go to stderr as text. When the command was given --json, they also go to
 * stdout as one JSON object, `{"error": {"kind", "message", "problems"}}` (kind: config,
 * protocol, not-found, integrity, usage for a bad command line, internal), with the same
 * exit code: a pipeline reading stdout sees an error, not an empty document.
 */
import { Command, InvalidArgumentError } from 'commander';
import { PricelabError, formatProblems, type ErrorKind, type Problem } from '../core/errors.js';

/** The commands write their files through core's one atomic write. */
export { writeFileAtomically } from '../core/atomic-write.js';

export const exitCodes = { ok: 0, failed: 1, badInput: 2, notFound: 3, integrity: 4, internal: 70 } as const;

/** The error document of --json output. */
export interface JsonError {
  readonly error: { readonly kind: ErrorKind | 'usage' | 'internal'; readonly message: string; readonly problems: readonly Problem[] };
}

let jsonErrors = false;

/** Whether a command line asks for JSON output: --json anywhere before a bare `--`. */
export function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).some((argument) => argument === '--json' || argument.startsWith('--json='));
}

export function printJsonError(error: JsonError['error']): void {
  process.stdout.write(`${JSON.stringify({ error } satisfies JsonError, null, 2)}\n`);
}

export function run<Args extends unknown[]>(action: (...args: Args) => number | void | Promise<number | void>) {
  return async (...args: Args): Promise<void> => {
    // Commander passes the command last: its --json decides the error format.
    const command = args.at(-1);
    if (command instanceof Command) {
      const json = (command.opts() as { json?: unknown }).json;
      jsonErrors = json !== undefined && json !== false;
    }
    try {
      const code = await action(...args);
      process.exitCode = code ?? exitCodes.ok;
    } catch (error) {
      process.exitCode = reportError(error);
    }
  };
}

export function reportError(error: unknown): number {
  if (error instanceof PricelabError) {
    const head = error.message.split('\n')[0] ?? '';
    process.stderr.write(`error: ${head}\n${error.problems.length > 0 ? `${formatProblems(error.problems)}\n` : ''}`);
    if (jsonErrors) printJsonError({ kind: error.kind, message: head, problems: error.problems });
    switch (error.kind) {
      case 'not-found':
        return exitCodes.notFound;
      case 'integrity':
        return exitCodes.integrity;
      default:
        return exitCodes.badInput;
    }
  }
  process.stderr.write(`internal error: ${(error as Error).stack ?? String(error)}\n`);
  if (jsonErrors) printJsonError({ kind: 'internal', message: error instanceof Error ? error.message : String(error), problems: [] });
  return exitCodes.internal;
}

export function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError(`expected a positive whole number, found "${value}"`);
  return parsed;
}

export function nonNegativeInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new InvalidArgumentError(`expected a whole number of at least 0, found "${value}"`);
  return parsed;
}

export function integer(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed)) throw new InvalidArgumentError(`expected a whole number, found "${value}"`);
  return parsed;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function formatNumber(value: number | null | undefined, digits = 2): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '-';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  return Math.abs(value) >= 1e12 ? value.toExponential(3) : value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, index) => (widths[index] = Math.max(widths[index] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, index) => (index === 0 ? cell.padEnd(widths[index] ?? 0) : cell.padStart(widths[index] ?? 0))).join('  ')).join('\n');
}
