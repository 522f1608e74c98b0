/**
 * Card: the design columns of the calendar and weather effects on arrivals, built from a sales
 * history's rows (the model as a whole: calibration/calendar-effects.ts).
 *
 * Every effect multiplies the market size (arrivals), as the simulator's festivals,
 * season and weather do (docs/market-model.md): log M_t gains sum_j beta_j x_jt with
 *   festival windows, per festival label L (a non-empty cell of the `festival` column):
 *     during: 1 on rows labelled L;
 *     before: 1 on the k periods before each run of L-labelled periods (not labelled L);
 *     after:  1 on the k periods after each run (not labelled L);
 *     k = 7 periods for daily rows, 1 for weekly rows (`festivalWindowPeriods`);
 *   season: low-order annual Fourier terms sin(2 pi h d / 365.25), cos(2 pi h d / 365.25),
 *     h = 1..H, d the day of the year (mid-week for weekly rows; for period numbers the
 *     scenario's own calendar from 2026-01-01): H = 1 when the history spans 365 to 729
 *     days, H = 2 from 730 days, none below 365 (an annual cycle is then not told apart
 *     from level and trend). Fourier terms rather than month effects: 2H parameters, smooth,
 *     and the sum is a curve expression the simulator evaluates as it is;
 *   weather: a temperature column (every cell a number) gives beta (T_t - Tbar), a log
 *     multiplier per degree C around the history's mean temperature; a state column gives
 *     one indicator per state but the most frequent (the baseline, multiplier 1).
 * A column that does not vary is left out and its effect listed among the defaults.
 */
import type { CalibrationRecord } from '../scenarios/calibration-record.js';
import type { SalesData } from './reader.js';

export type PeriodLength = 'day' | 'week';
type Defaults = CalibrationRecord['defaults'];

const dayMs = 86_400_000;
export const yearDays = 365.25;
/** Day 0 of the scenario when the history has period numbers, not dates (as calibrate.ts writes startDate). */
const undatedStart = Date.UTC(2026, 0, 1) / dayMs;
export const seasonNames = ['winter', 'spring', 'summer', 'autumn'] as const;

export type CalendarTerm =
  | { readonly kind: 'festival'; readonly festival: number; readonly window: 'before' | 'during' | 'after' }
  | { readonly kind: 'season'; readonly harmonic: number; readonly wave: 'sin' | 'cos' }
  | { readonly kind: 'temperature' }
  | { readonly kind: 'weather'; readonly state: number };

export interface FestivalInfo {
  readonly name: string;
  /** Month-day ("11-11") of the first period of the first occurrence, on the scenario's calendar. */
  readonly monthDay: string;
  /** Every occurrence's first month-day. */
  readonly monthDays: readonly string[];
  readonly durationPeriods: number;
  readonly occurrences: number;
}

export interface CalendarDesign {
  /** Parameter names, one per column: festival:<label>:before|during|after, season:sin1, season:cos1, ..., temperature, weather:<state>. */
  readonly names: readonly string[];
  readonly columns: readonly Float64Array[];
  readonly terms: readonly CalendarTerm[];
  readonly windowPeriods: number;
  readonly daysPerPeriod: number;
  readonly festivals: readonly FestivalInfo[];
  readonly seasonOrder: number;
  readonly spanDays: number;
  /** The mean temperature the temperature effect is centred on. */
  readonly temperatureReference: number | undefined;
  /** Weather states (the baseline first), for a state column. */
  readonly weatherStates: readonly string[];
  /** Day of the year (1..366) and northern season (0 winter .. 3 autumn) per row, on the scenario's calendar. */
  readonly dayOfYear: Int16Array;
  readonly season: Int8Array;
  /** What cannot be identified, at its default. */
  readonly defaults: Defaults;
}

export interface CalendarOptions {
  /** k: periods before and after a festival that form its windows (default 7 daily, 1 weekly). */
  readonly festivalWindowPeriods?: number;
}

/** The design columns of the calendar and weather effects for these rows. */
export function calendarDesign(sales: SalesData, periodLength: PeriodLength, options: CalendarOptions = {}): CalendarDesign {
  const daysPerPeriod = periodLength === 'week' ? 7 : 1;
  const windowPeriods = options.festivalWindowPeriods ?? (periodLength === 'week' ? 1 : 7);
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const value of sales.period) {
    if (value < first) first = value;
    if (value > last) last = value;
  }
  const dated = sales.periodKind === 'date';
  const divisor = dated && periodLength === 'week' ? 7 : 1;
  const periodIndex = Int32Array.from(sales.period, (value) => Math.floor((value - first) / divisor));
  // The calendar day of a row: its date, or the scenario's own day for period numbers; mid-week for weekly rows.
  const middle = periodLength === 'week' ? 3 : 0;
  const dayOf = (row: number) => (dated ? (sales.period[row] ?? 0) : undatedStart + ((sales.period[row] ?? 0) - first) * daysPerPeriod) + middle;
  const dayOfYear = new Int16Array(sales.rows);
  const season = new Int8Array(sales.rows);
  const cache = new Map<number, [number, number]>();
  for (let row = 0; row < sales.rows; row++) {
    const day = dayOf(row);
    let entry = cache.get(day);
    if (!entry) {
      const date = new Date(day * dayMs);
      const month = date.getUTCMonth();
      entry = [Math.floor((date.getTime() - Date.UTC(date.getUTCFullYear(), 0, 1)) / dayMs) + 1, month === 11 || month <= 1 ? 0 : month <= 4 ? 1 : month <= 7 ? 2 : 3];
      cache.set(day, entry);
    }
    dayOfYear[row] = entry[0];
    season[row] = entry[1];
  }
  const spanDays = dated ? last - first + 1 : (last - first + 1) * daysPerPeriod;
  const names: string[] = [];
  const columns: Float64Array[] = [];
  const terms: CalendarTerm[] = [];
  const defaults: Defaults = [];
  const add = (name: string, column: Float64Array, term: CalendarTerm) => {
    names.push(name);
    columns.push(column);
    terms.push(term);
  };
  const varies = (column: Float64Array) => column.some((value) => value !== column[0]);

  // Festival windows.
  const festivals: FestivalInfo[] = [];
  if (!sales.festival) {
    defaults.push({ field: 'festivals', value: 'none', reason: 'no festival column: festival windows (before, during, after) are not estimated; map a `festival` label column to fit them' });
  } else {
    const { label, names: labels } = sales.festival;
    const periods = (last - first) / divisor + 1;
    labels.forEach((festivalName, festival) => {
      const labelled = new Uint8Array(periods);
      for (let row = 0; row < sales.rows; row++) if (label[row] === festival) labelled[periodIndex[row] ?? 0] = 1;
      const runs: { start: number; end: number }[] = [];
      for (let period = 0; period < periods; period++) {
        if (labelled[period] !== 1) continue;
        const previous = runs[runs.length - 1];
        if (previous && previous.end === period - 1) previous.end = period;
        else runs.push({ start: period, end: period });
      }
      const before = new Uint8Array(periods);
      const after = new Uint8Array(periods);
      for (const { start, end } of runs) {
        for (let period = Math.max(0, start - windowPeriods); period < start; period++) if (labelled[period] !== 1) before[period] = 1;
        for (let period = end + 1; period <= Math.min(periods - 1, end + windowPeriods); period++) if (labelled[period] !== 1) after[period] = 1;
      }
      const monthDayOfPeriod = (period: number) => {
        const day = dated ? first + period * divisor : undatedStart + period * daysPerPeriod;
        return new Date(day * dayMs).toISOString().slice(5, 10);
      };
      const lengths = runs.map((run) => run.end - run.start + 1).sort((left, right) => left - right);
      festivals.push({
        name: festivalName,
        monthDay: monthDayOfPeriod(runs[0]?.start ?? 0),
        monthDays: runs.map((run) => monthDayOfPeriod(run.start)),
        durationPeriods: lengths[Math.floor((lengths.length - 1) / 2)] ?? 1,
        occurrences: runs.length,
      });
      const windows = { before, during: undefined, after } as const;
      for (const window of ['before', 'during', 'after'] as const) {
        const column = new Float64Array(sales.rows);
        const marks = windows[window];
        for (let row = 0; row < sales.rows; row++) column[row] = marks ? (marks[periodIndex[row] ?? 0] ?? 0) : label[row] === festival ? 1 : 0;
        if (varies(column)) add(`festival:${festivalName}:${window}`, column, { kind: 'festival', festival, window });
        else {
          defaults.push({
            field: `festival ${festivalName} ${window}`,
            value: 1,
            reason: `no row ${window === 'during' ? 'outside the festival' : `in the ${windowPeriods} period(s) ${window} it`}: the ${window} multiplier is not identified and stays 1`,
          });
        }
      }
    });
  }

  // Season.
  const seasonOrder = spanDays >= 730 ? 2 : spanDays >= 365 ? 1 : 0;
  if (seasonOrder === 0) {
    defaults.push({ field: 'curves.seasonality', value: 'none', reason: `the history spans ${spanDays} days, fewer than 365: an annual season cannot be told apart from level and trend` });
  }
  for (let harmonic = 1; harmonic <= seasonOrder; harmonic++) {
    for (const wave of ['sin', 'cos'] as const) {
      // Tabulated per day of the year (367 entries) rather than per row.
      const table = Float64Array.from({ length: 367 }, (_, day) => (wave === 'sin' ? Math.sin : Math.cos)((2 * Math.PI * harmonic * day) / yearDays));
      const column = Float64Array.from(dayOfYear, (day) => table[day] ?? 0);
      add(`season:${wave}${harmonic}`, column, { kind: 'season', harmonic, wave });
    }
  }

  // Weather.
  let temperatureReference: number | undefined;
  let weatherStates: string[] = [];
  const weather = sales.weather;
  if (!weather) {
    defaults.push({ field: 'weather', value: 'none', reason: 'no weather column: no temperature or weather-state effect is estimated; map a `weather` column (a temperature or a state label) to fit one' });
  } else if (weather.kind === 'temperature') {
    let total = 0;
    for (const value of weather.temperature) total += value;
    temperatureReference = Number((total / Math.max(1, sales.rows)).toFixed(1));
    const column = Float64Array.from(weather.temperature, (value) => value - (temperatureReference ?? 0));
    if (varies(column)) add('temperature', column, { kind: 'temperature' });
    else defaults.push({ field: 'curves.demandMultiplier', value: 'none', reason: `the temperature is ${weather.temperature[0]} in every row: its effect is not identified` });
  } else {
    const counts = new Float64Array(weather.names.length);
    for (const state of weather.state) counts[state] = (counts[state] ?? 0) + 1;
    const order = weather.names.map((_, index) => index).sort((left, right) => (counts[right] ?? 0) - (counts[left] ?? 0) || left - right);
    weatherStates = order.map((index) => weather.names[index] ?? '');
    if (order.length < 2) defaults.push({ field: 'weather', value: 'none', reason: `one weather state (${weatherStates[0] ?? ''}) in every row: no weather effect is identified` });
    order.slice(1).forEach((state) => {
      add(`weather:${weather.names[state] ?? ''}`, Float64Array.from(weather.state, (value) => (value === state ? 1 : 0)), { kind: 'weather', state });
    });
  }
  return { names, columns, terms, windowPeriods, daysPerPeriod, festivals, seasonOrder, spanDays, temperatureReference, weatherStates, dayOfYear, season, defaults };
}
