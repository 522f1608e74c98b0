/**
 * The A-vs-B headline (ui/client/ab-headline.ts, issue 14.4 follow-up): while the daily
 * difference drifts (a seasonal market), the headline is the interval for the average daily
 * difference so far, not the 0.07-wide always-valid one, and the verdict says on which day it
 * was reached and what the days so far say now; without drift nothing changes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Difference } from '../../ui/shared/events.js';
import { headlineOf, summaryOf } from '../../ui/client/ab-headline.js';

// singles-day-v1, A fixed:108.99, B festival:0.15, seed 1, at day 365 (as the reviewer saw it).
const seasonal: Difference = { day: 364, estimate: -89.31, low: -169.52, high: -169.45, latestLow: -221.3, latestHigh: 42.68, drifting: true, decidedDay: 16, n: 365, level: 0.95, cumulative: -32_598 };

describe('the A-vs-B headline', () => {
  it('under drift shows the days-so-far interval, says why, and does not flip the verdict silently', () => {
    const headline = headlineOf(seasonal);
    expect(headline).toMatchObject({ basis: 'days-so-far', low: -221.3, high: 42.68, label: '95% interval for the average daily difference so far' });
    expect(headline.verdict).toBe('A earned more early on (decided day 16); over the days so far the difference is not shown');
    const text = summaryOf(seasonal);
    expect(text).toContain('95% interval for the average daily difference so far [-221.3, 42.68]');
    expect(text).toContain('The daily difference changes over time');
    expect(text).not.toMatch(/always-valid interval \[-169.52, -169.45\];/); // not the headline
    expect(text.indexOf('[-221.3, 42.68]')).toBeLessThan(text.indexOf('[-169.52, -169.45]'));
  });

  it('under drift, when the days so far agree or disagree, says both', () => {
    expect(headlineOf({ ...seasonal, latestHigh: -20 }).verdict).toBe('A earns more (decided day 16), and over the days so far');
    expect(headlineOf({ ...seasonal, latestLow: 5, latestHigh: 60 }).verdict).toBe('A earned more early on (decided day 16); over the days so far B earns more');
    expect(headlineOf({ ...seasonal, low: -10, high: 3, decidedDay: null, latestLow: 1, latestHigh: 9 }).verdict).toBe('B earns more on average over the days so far');
  });

  it('without drift keeps the never-widening interval as the headline, with the day it was decided', () => {
    const steady: Difference = { ...seasonal, drifting: false, estimate: -169.5 };
    const headline = headlineOf(steady);
    expect(headline).toMatchObject({ basis: 'always-valid', low: -169.52, high: -169.45, label: '95% always-valid interval', verdict: 'A earns more (decided day 16)', note: '' });
    expect(summaryOf(steady)).toContain('95% always-valid interval [-169.52, -169.45]; cumulative -32,598. A earns more (decided day 16).');
  });

  it('picks the interval from the drift flag alone, and never drops a reached verdict (fast-check)', () => {
    const bound = fc.option(fc.double({ min: -1e4, max: 1e4, noNaN: true }), { nil: null });
    const difference = fc.record({ day: fc.nat(400), estimate: fc.double({ min: -1e4, max: 1e4, noNaN: true }), low: bound, high: bound, latestLow: bound, latestHigh: bound, drifting: fc.boolean(), decidedDay: fc.option(fc.integer({ min: 10, max: 400 }), { nil: null }), n: fc.integer({ min: 1, max: 400 }), level: fc.constant(0.95), cumulative: fc.double({ min: -1e6, max: 1e6, noNaN: true }) });
    fc.assert(
      fc.property(difference, (day) => {
        const headline = headlineOf(day);
        const bounded = day.low !== null && day.high !== null;
        const soFar = day.latestLow !== null && day.latestHigh !== null;
        expect(headline.basis).toBe(!bounded ? 'none' : day.drifting && soFar ? 'days-so-far' : 'always-valid');
        if (headline.basis === 'always-valid') expect([headline.low, headline.high]).toEqual([day.low, day.high]);
        if (headline.basis === 'days-so-far') expect([headline.low, headline.high]).toEqual([day.latestLow, day.latestHigh]);
        const reached = !bounded ? null : (day.low ?? 0) > 0 ? 'B' : (day.high ?? 0) < 0 ? 'A' : null;
        if (reached !== null) {
          expect(headline.verdict.startsWith(`${reached} earn`)).toBe(true);
          if (day.decidedDay !== null) expect(headline.verdict).toContain(`decided day ${day.decidedDay}`);
        }
      }),
    );
  });
});
