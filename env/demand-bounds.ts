/**
 * Demand bounds: the largest expected daily demand a market may have, checked once when the
 * market model is built (env/model.ts), so a careless scenario is refused with the field to
 * change instead of running for hours.
 *
 * Each factor of a day's expected arrivals is bounded by the schema (arrivalRate <= 1e6
 * customers a day, multipliers <= 100: scenarios/schema.ts, scenarios/curves.ts), but their
 * product is not: 1e6 x seasonality x weekday x demand multiplier x festival uplift x
 * weather reaches 1e16. The simulator's work per day grows with the units it sells
 * (a binomial over sold units for returns, a lag per returned unit), so the product is
 * bounded here: at most `maxDailyCustomers` (1e6) expected customers a day, summed over
 * segments at each day's worst weather and temperature, or, for textbook demand, expected
 * units at the lowest ladder price. At the bound a simulated year takes about 15 s (measured:
 * 8e5 units a day, 95% of them returned, each return drawn per unit), not hours.
 */
import { configError, type Problem } from '../core/errors.js';
import type { MarketModel } from './model.js';

/** The largest expected number of customers (or units, for textbook demand) in one day. */
export const maxDailyCustomers = 1e6;

const temperatureGrid = { min: -30, max: 50 };

/** Refuses a market whose expected daily demand exceeds maxDailyCustomers on some day (a config error, exit 2). */
export function assertDemandWithinBounds(model: MarketModel): void {
  const problems = demandBoundProblems(model);
  if (problems.length > 0) throw configError(`scenario ${model.scenario.id} asks for more demand than the simulator runs in bounded time`, problems);
}

/** The problems of demandBoundProblems' check: empty when every day stays within the bound. */
export function demandBoundProblems(model: MarketModel): Problem[] {
  const demand = model.scenario.demand;
  const days = model.calendar.days;
  const describeDay = (day: number) => `day ${day} (${model.calendar.year[day] ?? ''}-${model.calendar.monthDay[day] ?? ''})`;
  if (demand.kind === 'logit') {
    const temperatureFactor = new Float64Array(days).fill(1);
    const table = model.temperatureMultiplier;
    if (table) {
      for (let day = 0; day < days; day++) {
        let largest = 0;
        for (let degree = temperatureGrid.min; degree <= temperatureGrid.max; degree++) largest = Math.max(largest, table.valueAt(day, degree));
        temperatureFactor[day] = largest;
      }
    }
    let worst = { total: 0, day: 0, segment: 0 };
    for (let day = 0; day < days; day++) {
      let total = 0;
      let largestSegment = 0;
      let largestShare = -1;
      model.segments.forEach((segment, index) => {
        const weather = segment.weatherMultiplier.reduce((largest, value) => Math.max(largest, value), 0) || 1;
        const expected = (segment.rates[day] ?? 0) * weather * (temperatureFactor[day] ?? 1);
        total += expected;
        if (expected > largestShare) {
          largestShare = expected;
          largestSegment = index;
        }
      });
      if (total > worst.total) worst = { total, day, segment: largestSegment };
    }
    if (!(worst.total <= maxDailyCustomers)) {
      return [
        {
          path: ['demand', 'segments', worst.segment, 'arrivalRate'],
          message: `expected at most ${maxDailyCustomers} customers a day over all segments (arrivalRate x seasonality x dayOfWeek x demandMultiplier x festivals x weather), found ${worst.total.toPrecision(4)} on ${describeDay(worst.day)}; lower the arrival rates or the multipliers`,
        },
      ];
    }
    return [];
  }
  // Textbook demand with noise 'none' sells its expected units: no draw per unit, and with no
  // returns nothing per unit either, so its size costs nothing (the known-answer tests run
  // constant elasticity down to 0.05, millions of units a day).
  if ('noise' in demand && demand.noise === 'none' && model.scenario.returns === undefined) return [];
  const lowest = model.ladder[0] ?? model.listPrice;
  let atLowest: number;
  let field: string;
  switch (demand.kind) {
    case 'linear':
      atLowest = Math.max(0, demand.intercept - demand.slope * lowest);
      field = 'intercept';
      break;
    case 'constant-elasticity':
      atLowest = demand.scale * Math.pow(lowest, demand.elasticity);
      field = 'scale';
      break;
    case 'exponential':
      atLowest = demand.scale * demand.periodLength * Math.exp(-demand.sensitivity * lowest);
      field = 'scale';
      break;
  }
  let worst = { total: 0, day: 0 };
  for (let day = 0; day < days; day++) {
    const total = atLowest * (model.textbookRates[day] ?? 1);
    if (total > worst.total) worst = { total, day };
  }
  if (!(worst.total <= maxDailyCustomers)) {
    return [
      {
        path: ['demand', field],
        message: `expected at most ${maxDailyCustomers} units a day at the lowest ladder price (${lowest}) after seasonality, dayOfWeek, demandMultiplier and festivals, found ${worst.total.toPrecision(4)} on ${describeDay(worst.day)}`,
      },
    ];
  }
  return [];
}
