/**
 * Errors as data. One root class, a few kinds, and a list of problems, each naming the
 * field (path), what was expected and what was found. Callers print every problem, not
 * only the first: a scenario author fixes a file in one pass.
 */
export type ErrorKind = 'config' | 'protocol' | 'not-found' | 'integrity';

export interface Problem {
  /** Where the problem is: field names and array indices from the document's root. */
  readonly path: readonly (string | number)[];
  /** A sentence saying what was expected and what was found. */
  readonly message: string;
}

export class PricelabError extends Error {
  override readonly name = 'PricelabError';
  readonly kind: ErrorKind;
  readonly problems: readonly Problem[];

  constructor(kind: ErrorKind, message: string, problems: readonly Problem[] = []) {
    super(problems.length === 0 ? message : `${message}\n${formatProblems(problems)}`);
    this.kind = kind;
    this.problems = problems;
  }
}

export function formatPath(path: readonly (string | number)[]): string {
  if (path.length === 0) return '(root)';
  return path.map((part, index) => (typeof part === 'number' ? `[${part}]` : index === 0 ? part : `.${part}`)).join('');
}

export function formatProblems(problems: readonly Problem[]): string {
  return problems.map((problem) => `  - ${formatPath(problem.path)}: ${problem.message}`).join('\n');
}

export const configError = (message: string, problems: readonly Problem[] = []) => new PricelabError('config', message, problems);
export const protocolError = (message: string) => new PricelabError('protocol', message);
