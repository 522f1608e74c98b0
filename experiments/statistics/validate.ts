/**
 * Input checks shared by the statistics: every function refuses bad input with a
 * PricelabError (kind 'config') whose problems name the argument, what was expected and
 * what was found, so a caller fixes every problem in one pass.
 */
import { PricelabError, type Problem } from '../../core/errors.js';

/** Problems with a sample: too short, or holding a value that is not a finite number. */
export function sampleProblems(name: string, values: readonly number[], minimumLength: number): Problem[] {
  const problems: Problem[] = [];
  if (values.length < minimumLength) problems.push({ path: [name], message: `expected at least ${minimumLength} values, found ${values.length}` });
  values.forEach((value, index) => {
    if (!Number.isFinite(value)) problems.push({ path: [name, index], message: `expected a finite number, found ${String(value)}` });
  });
  return problems;
}

/** A problem if `value` is not strictly between 0 and 1 (a level, alpha, power or probability). */
export function openUnitProblems(name: string, value: number): Problem[] {
  return value > 0 && value < 1 ? [] : [{ path: [name], message: `expected a number strictly between 0 and 1, found ${String(value)}` }];
}

/** A problem if `value` is not a finite number greater than 0. */
export function positiveProblems(name: string, value: number): Problem[] {
  return Number.isFinite(value) && value > 0 ? [] : [{ path: [name], message: `expected a finite number greater than 0, found ${String(value)}` }];
}

/** Throws one PricelabError listing every problem, if there are any. */
export function refuse(what: string, problems: readonly Problem[]): void {
  if (problems.length > 0) throw new PricelabError('config', `${what}: invalid input`, problems);
}
