/**
 * The dashboard's A-vs-B verdict never flips back (issue 14.4): singles-day-v1, A fixed:108.99,
 * B festival:0.15, seed 1, one day at a time through the server's session. With the old
 * plug-in interval (the sd re-estimated from all days at every update) the verdict read
 * "A earns more" at day 315 with [-167.63, -54.06] and "no difference shown yet" at day 365
 * with [-239.49, 19.9]; the confidence sequence's running intersection only narrows.
 */
import { describe, expect, it } from 'vitest';
import type { Difference, Frame } from '../../ui/shared/events.js';
import { SimulationSession } from '../../ui/server/session.js';
import { headlineOf } from '../../ui/client/ab-headline.js';

const verdictOf = (difference: Difference): number => (difference.low !== null && difference.low > 0 ? 1 : difference.high !== null && difference.high < 0 ? -1 : 0);

describe('A vs B on the dashboard: singles-day-v1, fixed:108.99 against festival:0.15, seed 1', () => {
  it('reports an interval every day that never widens, and a verdict that never flips back', async () => {
    const frames: Frame[] = [];
    const session = new SimulationSession({ session: () => undefined, frame: (frame, delivered) => (frames.push(frame), delivered()), explanation: () => undefined, problem: (problem) => expect.unreachable(problem.message) }, '/nonexistent-results-home');
    try {
      await session.configure({ scenario: 'singles-day-v1', policies: ['fixed:108.99', 'festival:0.15'], seed: 1, guardrails: 'policy', loop: false });
      for (let day = 0; day < 365; day += 1) await session.step({ days: 1 }); // step may be asynchronous (sliced)
    } finally {
      session.close();
    }
    const daily = frames.flatMap((frame) => frame.differences);
    expect(daily.map((difference) => difference.n)).toEqual(Array.from({ length: 365 }, (_, index) => index + 1));
    let previous: Difference | undefined;
    for (const difference of daily) {
      if (previous) {
        expect(difference.low ?? Number.NEGATIVE_INFINITY).toBeGreaterThanOrEqual(previous.low ?? Number.NEGATIVE_INFINITY);
        expect(difference.high ?? Number.POSITIVE_INFINITY).toBeLessThanOrEqual(previous.high ?? Number.POSITIVE_INFINITY);
        if (verdictOf(previous) !== 0) expect(verdictOf(difference)).toBe(verdictOf(previous));
      }
      previous = difference;
    }
    const at315 = daily[314] as Difference;
    const at365 = daily[364] as Difference;
    expect(verdictOf(at315)).toBe(-1); // A earns more, as the issue saw
    expect(verdictOf(at365)).toBe(verdictOf(at315));
    // B loses far more in the first weeks than later: one steady difference does not fit, and the frame says so
    expect(at365.drifting).toBe(true);
    expect(at365.latestLow).toBeLessThanOrEqual(at365.estimate);
    expect(at365.latestHigh).toBeGreaterThanOrEqual(at365.estimate);
    // The day the verdict was reached is the first day whose interval left out 0, and it stays put.
    const firstDecided = daily.findIndex((difference) => verdictOf(difference) !== 0);
    expect(firstDecided).toBeGreaterThanOrEqual(0);
    for (const difference of daily) expect(difference.decidedDay).toBe(difference.n > firstDecided ? firstDecided + 1 : null);
    // Under drift the headline is the days-so-far interval, and the verdict says both what was reached and what the days say now.
    const headline = headlineOf(at365);
    expect(headline).toMatchObject({ basis: 'days-so-far', low: at365.latestLow, high: at365.latestHigh });
    expect(headline.verdict).toContain(`(decided day ${firstDecided + 1})`);
    expect(headline.verdict.startsWith('A earn')).toBe(true);
  });
});
