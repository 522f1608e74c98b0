/**
 * The calendar: which day of the year, weekday and season each simulated day falls on.
 * Day 0 is the scenario's startDate. Weekdays run Monday = 0 .. Sunday = 6. Seasons are
 * northern: winter (Dec-Feb) = 0, spring (Mar-May) = 1, summer (Jun-Aug) = 2, autumn (Sep-Nov) = 3.
 * Everything is tabulated once per scenario, so the market's hot path only reads arrays.
 */
export interface Calendar {
  readonly days: number;
  /** 1..366 */
  readonly dayOfYear: Int16Array;
  /** Monday = 0 .. Sunday = 6 */
  readonly weekday: Int8Array;
  /** 0 winter, 1 spring, 2 summer, 3 autumn */
  readonly season: Int8Array;
  /** "MM-DD" of each day */
  readonly monthDay: readonly string[];
  /** Year of each day (festivals recur every year). */
  readonly year: Int16Array;
}

const MILLISECONDS_PER_DAY = 86_400_000;

export function buildCalendar(startDate: string, days: number): Calendar {
  const start = Date.parse(`${startDate}T00:00:00Z`);
  if (Number.isNaN(start)) throw new Error(`expected a date like "2026-01-01", found "${startDate}"`);
  const dayOfYear = new Int16Array(days);
  const weekday = new Int8Array(days);
  const season = new Int8Array(days);
  const year = new Int16Array(days);
  const monthDay: string[] = [];
  for (let day = 0; day < days; day++) {
    const date = new Date(start + day * MILLISECONDS_PER_DAY);
    const yearStart = Date.UTC(date.getUTCFullYear(), 0, 1);
    dayOfYear[day] = Math.floor((date.getTime() - yearStart) / MILLISECONDS_PER_DAY) + 1;
    weekday[day] = (date.getUTCDay() + 6) % 7;
    const month = date.getUTCMonth();
    season[day] = month === 11 || month <= 1 ? 0 : month <= 4 ? 1 : month <= 7 ? 2 : 3;
    year[day] = date.getUTCFullYear();
    monthDay.push(`${String(month + 1).padStart(2, '0')}-${String(date.getUTCDate()).padStart(2, '0')}`);
  }
  return { days, dayOfYear, weekday, season, monthDay, year };
}
