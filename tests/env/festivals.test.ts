import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildCalendar } from '../../env/calendar.js';
import { applyFestivalsToRates, buildFestivalCalendar } from '../../env/festivals.js';
import { festivalSchema, type Festival } from '../../scenarios/schema.js';
import { loadScenario } from '../../scenarios/load.js';
import { buildMarketModel } from '../../env/model.js';

const calendar = buildCalendar('2026-01-01', 365);
const sum = (values: Float64Array) => values.reduce((total, value) => total + value, 0);
const baseRates = Float64Array.from({ length: 365 }, (_, day) => 20 + 10 * Math.sin(day / 30));

const festivalArbitrary = fc.record({
  month: fc.integer({ min: 1, max: 12 }),
  day: fc.integer({ min: 1, max: 28 }),
  durationDays: fc.integer({ min: 1, max: 3 }),
  presaleLead: fc.integer({ min: 0, max: 25 }),
  deferralShare: fc.double({ min: 0, max: 0.5, noNaN: true }),
  deferralDays: fc.integer({ min: 0, max: 20 }),
  dipShare: fc.double({ min: 0, max: 1, noNaN: true }),
  dipDays: fc.integer({ min: 0, max: 14 }),
});

type FestivalInput = typeof festivalArbitrary extends fc.Arbitrary<infer T> ? T : never;

function festival(input: FestivalInput, uplift: number, presaleUplift: number): Festival {
  const date = `${String(input.month).padStart(2, '0')}-${String(input.day).padStart(2, '0')}`;
  const presale = new Date(Date.UTC(2026, input.month - 1, input.day - input.presaleLead));
  const presaleStart = `${String(presale.getUTCMonth() + 1).padStart(2, '0')}-${String(presale.getUTCDate()).padStart(2, '0')}`;
  return festivalSchema.parse({
    name: 'test', date, durationDays: input.durationDays, ...(input.presaleLead > 0 ? { presaleStart } : {}), presaleUplift, uplift,
    deferralShare: input.deferralShare, deferralDays: input.deferralDays, dipShare: input.dipShare, dipDays: input.dipDays, competitorDiscount: 0.1,
  });
}

describe('festivals', () => {
  it('deferral and dips move demand without creating it (uplift 1: totals unchanged)', () => {
    fc.assert(
      fc.property(fc.array(festivalArbitrary, { minLength: 1, maxLength: 3 }), fc.double({ min: 0, max: 2, noNaN: true }), (inputs, sensitivity) => {
        const festivals = buildFestivalCalendar(inputs.map((input) => festival(input, 1, 1)), calendar);
        const rates = applyFestivalsToRates(baseRates, festivals, sensitivity);
        expect(sum(rates)).toBeCloseTo(sum(baseRates), 6);
        for (const rate of rates) expect(rate).toBeGreaterThanOrEqual(0);
      }),
    );
  });

  it('only the uplift creates demand: the total grows by exactly the created traffic', () => {
    fc.assert(
      fc.property(festivalArbitrary, fc.double({ min: 1, max: 8, noNaN: true }), (input, uplift) => {
        const withMoves = applyFestivalsToRates(baseRates, buildFestivalCalendar([festival(input, uplift, 1)], calendar), 1);
        const upliftOnly = applyFestivalsToRates(baseRates, buildFestivalCalendar([festival({ ...input, deferralShare: 0, dipShare: 0 }, uplift, 1)], calendar), 1);
        expect(sum(withMoves)).toBeCloseTo(sum(upliftOnly), 6);
      }),
    );
  });

  it('11.11 in singles-day-v1: pre-sale from Oct 20, deferral before it, the event peak, a dip after, rivals discount', () => {
    const model = buildMarketModel(loadScenario('singles-day-v1').scenario);
    const day = (monthDay: string) => model.calendar.monthDay.indexOf(monthDay);
    const event = day('11-11');
    const deal = model.segments[0]!.rates;
    expect(model.festivals.eventDay[event]).toBe(1);
    expect(model.festivals.presaleDay[day('10-20')]).toBe(1);
    expect(model.festivals.presaleDay[day('10-19')]).toBe(0);
    expect(model.festivals.competitorDiscount[day('10-25')]).toBeCloseTo(0.2, 12);
    expect(deal[event]!).toBeGreaterThan(5 * deal[day('09-15')]!);
    expect(deal[day('10-10')]!).toBeLessThan(deal[day('09-15')]! * 0.95); // deferral window
    expect(deal[day('11-12')]!).toBeLessThan(deal[day('11-25')]!); // the dip
    expect(model.festivals.daysToNextEvent[day('11-01')]).toBe(10);
  });
});
