/**
 * How a policy that failed to load is described to operators: one line per failure
 * (`describeError`), with the pricelab home's absolute path taken out (`relativeToHome`),
 * since /readyz, which shows it, is open to anyone.
 */
import { realpathSync } from 'node:fs';
import { sep } from 'node:path';
import { formatPath, formatProblems, PricelabError, type ErrorKind } from '../core/errors.js';

/**
 * A load failure on one line: the summary, then up to three problems in brackets
 * ("policy.json ... (files.weights.json.sha256: expected ..., found ...; ...)"), not the
 * multi-line message joined into ";   - ".
 */
export function describeError(error: unknown): { kind: ErrorKind | 'internal'; message: string } {
  if (!(error instanceof PricelabError)) return { kind: 'internal', message: (error as Error).message ?? String(error) };
  const listed = error.problems.length === 0 ? '' : `\n${formatProblems(error.problems)}`;
  const summary = (listed !== '' && error.message.endsWith(listed) ? error.message.slice(0, -listed.length) : error.message).split('\n').map((line) => line.trim()).filter((line) => line !== '').join(' ');
  if (error.problems.length === 0) return { kind: error.kind, message: summary };
  const shown = error.problems.slice(0, 3).map((problem) => `${formatPath(problem.path)}: ${problem.message}`);
  const more = error.problems.length > 3 ? `; ${error.problems.length - 3} more` : '';
  return { kind: error.kind, message: `${summary.replace(/[\s:;.]+$/, '')} (${shown.join('; ')}${more})` };
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * `message` with the pricelab home's absolute path (as given and as resolved through
 * links) taken out: `<home>/policies/everyday/1` becomes `policies/everyday/1` and the
 * home itself `the pricelab home`. /readyz is open to anyone: it must not tell where the
 * home lives on the server.
 */
export function relativeToHome(message: string, home: string): string {
  let real = home;
  try {
    real = realpathSync(home);
  } catch {
    // A home that vanished: its path as given is all there is to hide.
  }
  const roots = [...new Set([home, real])].filter((root) => root.length > 1).sort((a, b) => b.length - a.length);
  if (roots.length === 0) return message;
  // The home followed by a separator (a path inside it), or by anything that cannot continue a file name.
  const pattern = new RegExp(`(?:${roots.map(escapeRegExp).join('|')})(?:${escapeRegExp(sep)}|(?![\\w.-]))`, 'g');
  return message.replace(pattern, (found) => (found.endsWith(sep) ? '' : 'the pricelab home'));
}
