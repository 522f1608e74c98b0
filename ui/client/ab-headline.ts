/**
 * The A-vs-B headline on the dashboard: which interval and which verdict a reader sees first.
 *
 * The session sends two intervals for B - A (ui/shared/events.ts, Difference):
 *   - the always-valid interval, a running intersection of a confidence sequence: it never
 *     widens, but it assumes one steady daily difference;
 *   - the interval for the average daily difference over the days so far (the latest C_n
 *     alone), which may widen.
 * In a seasonal market (singles-day-v1: B loses ~370 a day in the first 60 days and ~50 later)
 * the steady-difference assumption fails, the intersection pins where the early days put it
 * (0.07 wide at day 365) and the session raises `drifting`. Then the headline is the days-so-far
 * interval, with a plain statement why, and the verdict says on which day the always-valid
 * interval first reached it and what the days so far say now (it never silently flips).
 * Without drift the never-widening interval is the headline, as before.
 *
 * No DOM here: node tests import it.
 */
import type { Difference } from '../shared/events.js';
import { formatMoney, formatNumber } from './format.js';

export interface AbHeadline {
  /** Which interval is the headline. */
  basis: 'always-valid' | 'days-so-far' | 'none';
  /** What the interval is, e.g. "95% always-valid interval". */
  label: string;
  low: number | null;
  high: number | null;
  /** "A earns more (decided day 16)", "no difference shown yet", ... */
  verdict: string;
  /** Why the days-so-far interval is the headline (empty without drift). */
  note: string;
}

/** -1: A earns more, 1: B earns more, 0: not shown (or unbounded). */
const sideOf = (low: number | null, high: number | null): -1 | 0 | 1 => (low !== null && low > 0 ? 1 : high !== null && high < 0 ? -1 : 0);
const earner = (side: -1 | 1): string => (side > 0 ? 'B' : 'A');
const interval = (low: number | null, high: number | null): string => `[${formatNumber(low ?? Number.NaN)}, ${formatNumber(high ?? Number.NaN)}]`;

/** The headline interval and verdict for a day's difference (pure). */
export function headlineOf(difference: Difference): AbHeadline {
  const percent = Math.round(difference.level * 100);
  const decided = difference.decidedDay === null ? '' : ` (decided day ${difference.decidedDay})`;
  const steady = sideOf(difference.low, difference.high);
  if (difference.low === null || difference.high === null) {
    return { basis: 'none', label: `${percent}% always-valid interval`, low: null, high: null, verdict: 'no difference shown yet', note: 'The always-valid interval starts once 10 days differ.' };
  }
  const soFarBounded = difference.latestLow !== null && difference.latestHigh !== null;
  if (!difference.drifting || !soFarBounded) {
    const verdict = steady === 0 ? 'no difference shown yet' : `${earner(steady)} earns more${decided}`;
    return { basis: 'always-valid', label: `${percent}% always-valid interval`, low: difference.low, high: difference.high, verdict, note: '' };
  }
  const soFar = sideOf(difference.latestLow, difference.latestHigh);
  let verdict: string;
  if (steady === 0) verdict = soFar === 0 ? 'no difference shown yet' : `${earner(soFar)} earns more on average over the days so far`;
  else if (soFar === steady) verdict = `${earner(steady)} earns more${decided}, and over the days so far`;
  else if (soFar === 0) verdict = `${earner(steady)} earned more early on${decided}; over the days so far the difference is not shown`;
  else verdict = `${earner(steady)} earned more early on${decided}; over the days so far ${earner(soFar)} earns more`;
  const note = `The daily difference changes over time (as in a seasonal market), so the always-valid interval ${interval(difference.low, difference.high)}, which assumes it does not, is not the headline.`;
  return { basis: 'days-so-far', label: `${percent}% interval for the average daily difference so far`, low: difference.latestLow, high: difference.latestHigh, verdict, note };
}

/** The A-vs-B line: the estimate, the headline interval, the verdict it supports and, under drift, why. */
export function summaryOf(difference: Difference): string {
  const headline = headlineOf(difference);
  const head = `A vs B after ${difference.n} days: B - A = ${formatNumber(difference.estimate)} profit per day`;
  const tail = `; cumulative ${formatMoney(difference.cumulative)}.`;
  if (headline.basis === 'none') return `${head}${tail} ${headline.note.replace(/\.$/, '')} (${headline.verdict}).`;
  const note = headline.note === '' ? '' : ` ${headline.note}`;
  return `${head}, ${headline.label} ${interval(headline.low, headline.high)}${tail} ${headline.verdict[0]?.toUpperCase() ?? ''}${headline.verdict.slice(1)}.${note}`;
}
