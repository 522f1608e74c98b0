/** `pricelab check`: the env checker on scenarios (built-in ids or files); non-zero exit on any failure. */
import type { Command } from 'commander';
import { checkScenario, type CheckReport } from '../../env/checker.js';
import { PricelabError, configError, formatProblems } from '../../core/errors.js';
import { builtInScenarioIds, loadScenario } from '../../scenarios/load.js';
import { exitCodes, positiveInteger, printJson, run } from '../output.js';

/** A file that does not load is bad input (2), or not found (3); a failed check is 1. */
function worstExitCode(reports: readonly CheckReport[], loadErrors: ReadonlyMap<string, PricelabError>): number {
  if ([...loadErrors.values()].some((error) => error.kind === 'config' || error.kind === 'protocol')) return exitCodes.badInput;
  if ([...loadErrors.values()].some((error) => error.kind === 'not-found')) return exitCodes.notFound;
  return reports.every((report) => report.passed) ? exitCodes.ok : exitCodes.failed;
}

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('run the env checker: spaces, reward terms, determinism, horizon, refusal after the end')
    .argument('[scenarios...]', 'built-in scenario ids or paths to scenario files')
    .option('--all', 'check every built-in scenario')
    .option('--steps <n>', 'check at most this many steps per episode', positiveInteger)
    .option('--json', 'print the reports as JSON')
    .action(
      run((names: string[], options: { all?: boolean; steps?: number; json?: boolean }) => {
        const targets = options.all ? [...builtInScenarioIds(), ...names] : names;
        if (targets.length === 0) throw configError('nothing to check', [{ path: ['scenarios'], message: 'expected scenario ids, files or --all, found none' }]);
        const loadErrors = new Map<string, PricelabError>();
        const reports: CheckReport[] = targets.map((target) => {
          try {
            return checkScenario(loadScenario(target).scenario, options.steps === undefined ? {} : { maxSteps: options.steps });
          } catch (error) {
            if (!(error instanceof PricelabError)) throw error;
            loadErrors.set(target, error);
            const detail = error.problems.length > 0 ? `${error.message.split('\n')[0]}\n${formatProblems(error.problems)}` : error.message;
            return { scenarioId: target, passed: false, checks: [{ name: 'loads', status: 'failed', detail }] };
          }
        });
        if (options.json) printJson(reports);
        else {
          for (const report of reports) {
            process.stdout.write(`${report.passed ? 'PASS' : 'FAIL'} ${report.scenarioId}\n`);
            for (const check of report.checks) {
              const mark = check.status === 'passed' ? 'ok  ' : check.status === 'skipped' ? 'skip' : 'FAIL';
              process.stdout.write(`  ${mark} ${check.name}: ${check.detail.replace(/\n/g, '\n       ')}\n`);
            }
          }
          const failed = reports.filter((report) => !report.passed).length;
          process.stdout.write(`${reports.length - failed} passed, ${failed} failed\n`);
        }
        return worstExitCode(reports, loadErrors);
      }),
    );
}
