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
 *
 * Memory: the design keeps what is per period or per label (the festival windows' marks per
 * period, the season's table per day of the year), never per row: `fillBlock` computes a
 * block's columns from its own rows (calibration/sales-blocks.ts), and the few passes that
 * build the design read the history block by block. `columns`, `dayOfYear` and `season`
 * give the whole per-row columns on demand (computed when read; the calibration never reads them).
 */
import type { CalibrationRecord } from '../scenarios/calibration-record.js';
import type { SalesData } from './reader.js';
import { salesBlocks, type SalesBlock } from './sales-blocks.js';

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
  /** The whole per-row columns, computed when read (the calibration's passes use fillBlock). */
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
  /** Day of the year (1..366) and northern season (0 winter .. 3 autumn) per row, on the scenario's calendar (whole columns, computed when read). */
  readonly dayOfYear: Int16Array;
  readonly season: Int8Array;
  /** What cannot be identified, at its default. */
  readonly defaults: Defaults;
  /** Fills `into` (one array per column, at least block.rows long) with the block's rows of every column. */
  fillBlock(block: SalesBlock, into: readonly Float64Array[]): void;
  /** Day of the year and northern season of a row's period key, on the scenario's calendar. */
  dayOf(period: number): { readonly dayOfYear: number; readonly season: number };
}

export interface CalendarOptions {
  /** k: periods before and after a festival that form its windows (default 7 daily, 1 weekly). */
  readonly festivalWindowPeriods?: number;
}

/** A column's rule for one row of a block: the value of the design column at that row. */
type RowRule = (block: SalesBlock, row: number, periodIndex: number, dayOfYear: number) => number;

/** The design columns of the calendar and weather effects for these rows. */
export function calendarDesign(sales: SalesData, periodLength: PeriodLength, options: CalendarOptions = {}): CalendarDesign {
  const daysPerPeriod = periodLength === 'week' ? 7 : 1;
  const windowPeriods = options.festivalWindowPeriods ?? (periodLength === 'week' ? 1 : 7);
  const festivalNames = sales.festivalNames ?? (sales.map.festival !== undefined ? (sales.festival?.names ?? []) : undefined);
  const weatherKind = sales.map.weather === undefined ? undefined : (sales.weatherKind ?? sales.weather?.kind);
  const weatherNames = sales.weatherNames ?? (sales.weather?.kind === 'state' ? sales.weather.names : []);
  // Pass 1: the period range, the temperature's total, the weather states' counts.
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  let temperatureTotal = 0;
  const stateCounts = new Float64Array(weatherNames.length);
  for (const block of salesBlocks(sales)) {
    for (let row = 0; row < block.rows; row++) {
      const value = block.period[row] ?? 0;
      if (value < first) first = value;
      if (value > last) last = value;
    }
    if (weatherKind === 'temperature' && block.weatherValue) for (let row = 0; row < block.rows; row++) temperatureTotal += block.weatherValue[row] ?? 0;
    if (weatherKind === 'state' && block.weatherLabel) {
      for (let row = 0; row < block.rows; row++) {
        const state = block.weatherLabel[row] ?? 0;
        stateCounts[state] = (stateCounts[state] ?? 0) + 1;
      }
    }
  }
  const dated = sales.periodKind === 'date';
  const divisor = dated && periodLength === 'week' ? 7 : 1;
  const periodOf = (value: number) => Math.floor((value - first) / divisor);
  const periods = Number.isFinite(first) ? (last - first) / divisor + 1 : 0;
  // The calendar day of a row: its date, or the scenario's own day for period numbers; mid-week for weekly rows.
  const middle = periodLength === 'week' ? 3 : 0;
  const dayNumber = (period: number) => (dated ? period : undatedStart + (period - first) * daysPerPeriod) + middle;
  const cache = new Map<number, { dayOfYear: number; season: number }>();
  const dayOf = (period: number) => {
    const day = dayNumber(period);
    let entry = cache.get(day);
    if (!entry) {
      const date = new Date(day * dayMs);
      const month = date.getUTCMonth();
      entry = { dayOfYear: Math.floor((date.getTime() - Date.UTC(date.getUTCFullYear(), 0, 1)) / dayMs) + 1, season: month === 11 || month <= 1 ? 0 : month <= 4 ? 1 : month <= 7 ? 2 : 3 };
      cache.set(day, entry);
    }
    return entry;
  };
  const spanDays = dated ? last - first + 1 : (last - first + 1) * daysPerPeriod;
  const temperatureReference = weatherKind === 'temperature' ? Number((temperatureTotal / Math.max(1, sales.rows)).toFixed(1)) : undefined;

  // Pass 2: the periods present, each festival's labelled periods and rows, whether the temperature varies.
  const present = new Uint8Array(periods);
  const labelled = (festivalNames ?? []).map(() => new Uint8Array(periods));
  const labelledRows = new Float64Array(festivalNames?.length ?? 0);
  let firstTemperature = Number.NaN;
  let firstCentred = Number.NaN;
  let temperatureVaries = false;
  let rowsSeen = 0;
  if (festivalNames || weatherKind === 'temperature') {
    for (const block of salesBlocks(sales)) {
      for (let row = 0; row < block.rows; row++) {
        const period = periodOf(block.period[row] ?? 0);
        present[period] = 1;
        const label = block.festivalLabel?.[row] ?? -1;
        if (label >= 0) {
          const marks = labelled[label];
          if (marks) marks[period] = 1;
          labelledRows[label] = (labelledRows[label] ?? 0) + 1;
        }
        if (weatherKind === 'temperature') {
          const centred = (block.weatherValue?.[row] ?? 0) - (temperatureReference ?? 0);
          if (rowsSeen === 0) {
            firstCentred = centred;
            firstTemperature = block.weatherValue?.[row] ?? 0;
          } else if (centred !== firstCentred) temperatureVaries = true;
        }
        rowsSeen++;
      }
    }
  }

  const names: string[] = [];
  const rules: RowRule[] = [];
  const terms: CalendarTerm[] = [];
  const defaults: Defaults = [];
  const add = (name: string, rule: RowRule, term: CalendarTerm) => {
    names.push(name);
    rules.push(rule);
    terms.push(term);
  };

  // Festival windows.
  const festivals: FestivalInfo[] = [];
  if (!festivalNames) {
    defaults.push({ field: 'festivals', value: 'none', reason: 'no festival column: festival windows (before, during, after) are not estimated; map a `festival` label column to fit them' });
  } else {
    festivalNames.forEach((festivalName, festival) => {
      const marked = labelled[festival] ?? new Uint8Array(periods);
      const runs: { start: number; end: number }[] = [];
      for (let period = 0; period < periods; period++) {
        if (marked[period] !== 1) continue;
        const previous = runs[runs.length - 1];
        if (previous && previous.end === period - 1) previous.end = period;
        else runs.push({ start: period, end: period });
      }
      const before = new Uint8Array(periods);
      const after = new Uint8Array(periods);
      for (const { start, end } of runs) {
        for (let period = Math.max(0, start - windowPeriods); period < start; period++) if (marked[period] !== 1) before[period] = 1;
        for (let period = end + 1; period <= Math.min(periods - 1, end + windowPeriods); period++) if (marked[period] !== 1) after[period] = 1;
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
      // A window column varies when the periods present carry both marks (during: some rows labelled, some not).
      const marksVary = (marks: Uint8Array) => {
        let seen = 0;
        for (let period = 0; period < periods; period++) if (present[period] === 1) seen |= marks[period] === 1 ? 2 : 1;
        return seen === 3;
      };
      const windows = { before, during: undefined, after } as const;
      for (const window of ['before', 'during', 'after'] as const) {
        const marks = windows[window];
        const varies = marks ? marksVary(marks) : (labelledRows[festival] ?? 0) > 0 && (labelledRows[festival] ?? 0) < sales.rows;
        const rule: RowRule = marks ? (_, __, period) => marks[period] ?? 0 : (block, row) => ((block.festivalLabel?.[row] ?? -1) === festival ? 1 : 0);
        if (varies) add(`festival:${festivalName}:${window}`, rule, { kind: 'festival', festival, window });
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
      add(`season:${wave}${harmonic}`, (_, __, ___, dayOfYear) => table[dayOfYear] ?? 0, { kind: 'season', harmonic, wave });
    }
  }

  // Weather.
  let weatherStates: string[] = [];
  if (!weatherKind) {
    defaults.push({ field: 'weather', value: 'none', reason: 'no weather column: no temperature or weather-state effect is estimated; map a `weather` column (a temperature or a state label) to fit one' });
  } else if (weatherKind === 'temperature') {
    if (temperatureVaries) add('temperature', (block, row) => (block.weatherValue?.[row] ?? 0) - (temperatureReference ?? 0), { kind: 'temperature' });
    else defaults.push({ field: 'curves.demandMultiplier', value: 'none', reason: `the temperature is ${firstTemperature} in every row: its effect is not identified` });
  } else {
    const order = weatherNames.map((_, index) => index).sort((left, right) => (stateCounts[right] ?? 0) - (stateCounts[left] ?? 0) || left - right);
    weatherStates = order.map((index) => weatherNames[index] ?? '');
    if (order.length < 2) defaults.push({ field: 'weather', value: 'none', reason: `one weather state (${weatherStates[0] ?? ''}) in every row: no weather effect is identified` });
    order.slice(1).forEach((state) => {
      add(`weather:${weatherNames[state] ?? ''}`, (block, row) => ((block.weatherLabel?.[row] ?? -1) === state ? 1 : 0), { kind: 'weather', state });
    });
  }

  const fillBlock = (block: SalesBlock, into: readonly Float64Array[]): void => {
    if (rules.length === 0) return;
    for (let row = 0; row < block.rows; row++) {
      const key = block.period[row] ?? 0;
      const period = periodOf(key);
      const dayOfYear = seasonOrder > 0 ? dayOf(key).dayOfYear : 0;
      for (let index = 0; index < rules.length; index++) {
        const column = into[index];
        if (column) column[row] = (rules[index] as RowRule)(block, row, period, dayOfYear);
      }
    }
  };
  // The whole per-row columns, for callers that index rows (computed when read, once).
  let whole: { columns: Float64Array[]; dayOfYear: Int16Array; season: Int8Array } | undefined;
  const wholeColumns = () => {
    if (!whole) {
      const columns = names.map(() => new Float64Array(sales.rows));
      const dayOfYear = new Int16Array(sales.rows);
      const season = new Int8Array(sales.rows);
      for (const block of salesBlocks(sales)) {
        fillBlock(block, columns.map((column) => column.subarray(block.start, block.start + block.rows)));
        for (let row = 0; row < block.rows; row++) {
          const entry = dayOf(block.period[row] ?? 0);
          dayOfYear[block.start + row] = entry.dayOfYear;
          season[block.start + row] = entry.season;
        }
      }
      whole = { columns, dayOfYear, season };
    }
    return whole;
  };
  return {
    names,
    get columns() {
      return wholeColumns().columns;
    },
    terms,
    windowPeriods,
    daysPerPeriod,
    festivals,
    seasonOrder,
    spanDays,
    temperatureReference,
    weatherStates,
    get dayOfYear() {
      return wholeColumns().dayOfYear;
    },
    get season() {
      return wholeColumns().season;
    },
    defaults,
    fillBlock,
    dayOf,
  };
}
