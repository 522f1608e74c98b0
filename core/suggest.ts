/**
 * "Did you mean": the known names nearest to an unknown one (a scenario id, an agent kind, a
 * policy name), for error messages. A name is near when it matches ignoring case, when one
 * starts with the other (`steady-state` for `steady-state-v1`), or when few edits separate
 * them (Levenshtein distance, case-insensitive, at most a third of the longer name, 1 at least).
 * Nearest first; ties keep the candidates' order.
 */
import { distance } from 'fastest-levenshtein';

export function nearestNames(input: string, candidates: Iterable<string>, limit = 3): string[] {
  const wanted = input.trim().toLowerCase();
  if (wanted === '') return [];
  const scored: { name: string; score: number; order: number }[] = [];
  let order = 0;
  for (const name of candidates) {
    const known = name.toLowerCase();
    const edits = distance(wanted, known);
    const score = known === wanted ? 0 : known.startsWith(wanted) || wanted.startsWith(known) ? 1 : edits <= Math.max(1, Math.floor(Math.max(wanted.length, known.length) / 3)) ? 1 + edits : Number.POSITIVE_INFINITY;
    if (Number.isFinite(score)) scored.push({ name, score, order });
    order++;
  }
  return scored
    .sort((left, right) => left.score - right.score || left.order - right.order)
    .slice(0, limit)
    .map((entry) => entry.name);
}

/** ` (did you mean "a" or "b"?)`, or '' when nothing is near. */
export function didYouMean(input: string, candidates: Iterable<string>): string {
  const names = nearestNames(input, candidates);
  if (names.length === 0) return '';
  const quoted = names.map((name) => `"${name}"`);
  return ` (did you mean ${quoted.length === 1 ? quoted[0] : `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)}`}?)`;
}
