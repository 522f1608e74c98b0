/**
 * The `historical:<sales file>[#<map.json>]` policy spec: a shop's sales history read with
 * the same reader and column map as `pricelab calibrate` (calibration/reader.ts; without
 * `#<map.json>`, the default columns period, units, price, and store when present), turned
 * into the price path that agents/historical.ts replays.
 *
 *   historical:sales.csv                 default column names
 *   historical:oj.csv.gz#tropicana.json  the column map in tropicana.json
 *   historical:"my, sales.csv"#map.json  a file name with a comma or '#': quote it
 *
 * The path: one price per period of one store and product. Day 0 is the history's first
 * period, or, on a calibrated scenario, the first period of the history it was calibrated
 * on (`calendar`: its calibration record's first and last period), so that a store whose
 * rows start later, or end earlier, is replayed on the scenario's own calendar: the first
 * price also covers the days before its row, the last one the days up to the calendar's
 * last period. A dated row's price holds from its date until the next dated row (so a weekly
 * dated history plays each week's price on each of its days); numbered periods last one
 * period length: `periodLength` (the scenario's calibration record says day or week; a
 * scenario not calibrated counts periods as days). A missing period keeps the price before
 * it; the last one lasts one period length; then the path repeats (agents/historical.ts).
 * Rows need not be sorted. Refused, exit 2, naming the column and row: everything the
 * calibration reader refuses, several stores (pick one with the map's `filter`), and two rows
 * of the same period with different prices. Nothing here is random.
 */
import { historicalConfigSchema, historicalPrefix, type HistoricalConfig } from '../agents/historical.js';
import { configError, type Problem } from '../core/errors.js';
import { readJsonFile } from '../core/json-file.js';
import { defaultColumnMap, parseColumnMap } from './column-map.js';
import { readSales, releaseSales, type SalesData } from './reader.js';

export { historicalPrefix };

export interface HistoricalSpec {
  /** The sales file. */
  readonly file: string;
  /** The column map file, after `#`. */
  readonly map?: string;
}

const syntax = 'historical:<sales file>[#<map.json>] (quote a file name holding a comma or #: historical:"my, file.csv")';

/** Splits `historical:<file>[#<map.json>]`; the file may be double-quoted. */
export function parseHistoricalSpec(spec: string): HistoricalSpec {
  const refuse = (why: string) => configError(`cannot use policy "${spec}": ${why}`, [{ path: ['policy'], message: `expected ${syntax}, found "${spec}"` }]);
  if (!spec.startsWith(historicalPrefix)) throw refuse(`it does not start with ${historicalPrefix}`);
  const rest = spec.slice(historicalPrefix.length);
  let file: string;
  let after: string;
  if (rest.startsWith('"')) {
    const closing = rest.indexOf('"', 1);
    if (closing < 0) throw refuse('the quoted file name has no closing quote');
    file = rest.slice(1, closing);
    after = rest.slice(closing + 1);
    if (after !== '' && !after.startsWith('#')) throw refuse('expected #<map.json> or nothing after the quoted file name');
  } else {
    const hash = rest.indexOf('#');
    file = hash < 0 ? rest : rest.slice(0, hash);
    after = hash < 0 ? '' : rest.slice(hash);
  }
  const map = after.startsWith('#') ? after.slice(1) : undefined;
  if (file === '') throw refuse('the sales file is missing');
  if (map === '') throw refuse('the column map after # is missing');
  return map === undefined ? { file } : { file, map };
}

export interface HistoricalOptions {
  /** The length of one numbered period of the history (default day). */
  readonly periodLength?: 'day' | 'week';
  /** The calendar to replay on: first and last period (a number, or a date YYYY-MM-DD for dated rows); default the history's own. */
  readonly calendar?: { readonly first: number | string; readonly last: number | string };
}

/** The options a scenario implies: its calibrated period length and calendar (none for a scenario not calibrated). */
export function historicalOptionsFor(scenario: { readonly calibration?: { readonly source: { readonly periodLength: 'day' | 'week'; readonly firstPeriod: number | string; readonly lastPeriod: number | string } } | undefined }): HistoricalOptions {
  const source = scenario.calibration?.source;
  return source ? { periodLength: source.periodLength, calendar: { first: source.firstPeriod, last: source.lastPeriod } } : { periodLength: 'day' };
}

/** Reads the spec's file (and map) and builds the price path. Throws config (exit 2) or not-found (exit 3) errors. */
export async function readHistoricalPolicy(spec: string, options: HistoricalOptions = {}): Promise<HistoricalConfig> {
  return readHistory(parseHistoricalSpec(spec), options);
}

/** The same, from a spec already split (the dashboard resolves its paths inside its scenarios folder first). */
export async function readHistory(parsed: HistoricalSpec, options: HistoricalOptions = {}): Promise<HistoricalConfig> {
  const map = parsed.map === undefined ? parseColumnMap(defaultColumnMap, 'the default column map') : parseColumnMap(readJsonFile(parsed.map, 'column map'), parsed.map);
  const sales = await readSales(parsed.file, { map, defaultMap: parsed.map === undefined });
  try {
    return historicalPath(sales, { periodLength: options.periodLength ?? 'day', ...(options.calendar ? { calendar: options.calendar } : {}), ...(parsed.map === undefined ? {} : { mapFile: parsed.map }) });
  } finally {
    // A history longer than one block lives in a scratch file: the price path is all we keep.
    releaseSales(sales);
  }
}

/** Where a kept row is in the file: its data row when nothing was filtered out, else its place among the kept rows. */
function rowName(sales: SalesData, row: number): string {
  return sales.rowsFiltered === 0 ? `row ${row + 1}` : `row ${row + 1} of those matching the filter`;
}

/** The replayed price path of a read history (pure). */
/** A calendar bound as the history's period key (days since 1970-01-01 for dates), or undefined when it is of the other kind. */
function periodKey(value: number | string, kind: SalesData['periodKind']): number | undefined {
  if (kind === 'index') return typeof value === 'number' ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const time = Date.parse(`${value.slice(0, 10)}T00:00:00Z`);
  return Number.isFinite(time) ? Math.round(time / 86_400_000) : undefined;
}

export function historicalPath(sales: SalesData, options: { periodLength: 'day' | 'week'; calendar?: HistoricalOptions['calendar']; mapFile?: string }): HistoricalConfig {
  const problems: Problem[] = [];
  if (sales.storeNames.length > 1) {
    const column = sales.map.store ?? 'store';
    problems.push({
      path: [column],
      message: `expected one store's price path (add "filter": {"${column}": ...} to a column map), found ${sales.storeNames.length} stores (${sales.storeNames.slice(0, 3).map((name) => `"${name}"`).join(', ')}${sales.storeNames.length > 3 ? ', ...' : ''})`,
    });
  }
  const periodDays = options.periodLength === 'week' ? 7 : 1;
  // Day offset of each row: dates are days already; numbered periods count periodDays each.
  const scale = sales.periodKind === 'date' ? 1 : periodDays;
  let historyFirst = Number.POSITIVE_INFINITY;
  for (const value of sales.period) historyFirst = Math.min(historyFirst, value);
  const calendarFirst = options.calendar === undefined ? undefined : periodKey(options.calendar.first, sales.periodKind);
  const calendarLast = options.calendar === undefined ? undefined : periodKey(options.calendar.last, sales.periodKind);
  const first = calendarFirst ?? historyFirst;
  const order = Array.from({ length: sales.rows }, (_, row) => row).sort((left, right) => (sales.period[left] ?? 0) - (sales.period[right] ?? 0) || left - right);
  const changes: { day: number; price: number }[] = [];
  let previousRow = -1;
  for (const row of order) {
    const day = ((sales.period[row] ?? 0) - first) * scale;
    const price = sales.price[row] ?? 0;
    const last = changes[changes.length - 1];
    if (previousRow >= 0 && sales.period[previousRow] === sales.period[row]) {
      if (price !== sales.price[previousRow] && problems.length < 20) {
        problems.push({
          path: [sales.rowsFiltered === 0 ? 'row' : 'rowAfterFilter', row + 1, sales.map.price],
          message: `expected one price per period, found ${price} here and ${sales.price[previousRow]} at ${rowName(sales, previousRow)} for the same ${sales.periodKind === 'date' ? 'date' : 'period'}`,
        });
      }
      continue;
    }
    previousRow = row;
    // Rows before the calendar's first period: only the last of them matters, as day 0's price.
    if (day <= 0) changes.length = 0;
    if (last === undefined || last.price !== price || day <= 0) changes.push({ day: Math.max(0, day), price });
  }
  if (problems.length > 0) throw configError(`${sales.source.path} is not one price path`, problems);
  // The first price covers the calendar's days before the history's first row.
  const opening = changes[0];
  if (opening) opening.day = 0;
  const lastDay = Math.max(((sales.period[order[order.length - 1] ?? 0] ?? 0) - first) * scale, calendarLast === undefined ? 0 : (calendarLast - first) * scale, 0);
  const config = {
    source: { file: sales.source.path, sha256: sales.source.sha256, rows: sales.rows, ...(options.mapFile === undefined ? {} : { map: options.mapFile }) },
    periodLength: options.periodLength,
    lengthDays: lastDay + periodDays,
    changes: changes.filter((change, index) => index === 0 || change.price !== changes[index - 1]?.price),
  };
  return historicalConfigSchema.parse(config);
}
