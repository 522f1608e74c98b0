/**
 * Reading a sales history, streamed: CSV (plain or gzipped, told apart by the gzip magic
 * bytes 1f 8b, not by the name) or JSON Lines (`.jsonl` / `.ndjson`, optionally `.gz`), one
 * row per period x product (x store). Rows are parsed one at a time (csv-parse's streaming
 * API, or one JSON document per line) and only the numbers the estimators need are kept,
 * in typed arrays that double as they fill: 8 bytes x (5 + rivals + promotions) per kept
 * row (about 100 MB for a million rows with five rivals and two promotions; 8 more with a
 * festival column, 16 with a weather column, whose labels are kept once each and indexed),
 * never the text. The file's sha256 is computed over its raw bytes on the way through.
 *
 * Bad input is a PricelabError of kind config (exit 2) whose problems name the row and the
 * column: a missing column, a non-numeric, negative or non-finite value, a bad date, several
 * products without a filter. At most `maxProblems` problems are collected before reading stops.
 */
import { createHash } from 'node:crypto';
import { createReadStream, closeSync, openSync, readSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { PassThrough, pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { parse } from 'csv-parse';
import { PricelabError, configError, type Problem } from '../core/errors.js';
import { mappedColumns, optionalDefaultColumns, type ColumnMap } from './column-map.js';

/** The sales history as typed arrays, one entry per kept row, in file order. */
export interface SalesData {
  readonly rows: number;
  /** Period key per row: the period column as given, or days since 1970-01-01 for dates. */
  readonly period: Float64Array;
  readonly periodKind: 'index' | 'date';
  readonly units: Float64Array;
  readonly price: Float64Array;
  readonly cost: Float64Array | undefined;
  readonly traffic: Float64Array | undefined;
  /** One array per rival price column, in the map's order. */
  readonly rivalPrices: readonly Float64Array[];
  readonly rivalNames: readonly string[];
  readonly promotions: readonly Float64Array[];
  readonly promotionNames: readonly string[];
  /** Store index per row (0 when there is no store column), into storeNames. */
  readonly store: Int32Array;
  readonly storeNames: readonly string[];
  /** The product calibrated, when the map names a product column. */
  readonly product: string | undefined;
  /** Festival label per row (an index into names, -1 for an ordinary period), when the map names a festival column. */
  readonly festival?: { readonly label: Int32Array; readonly names: readonly string[] };
  /** Weather per row, when the map names a weather column: a temperature when every cell is a number, else a state label. */
  readonly weather?: { readonly kind: 'temperature'; readonly temperature: Float64Array } | { readonly kind: 'state'; readonly state: Int32Array; readonly names: readonly string[] };
  /** Units on hand at the start of the period, when the map names a stock column. */
  readonly stock?: Float64Array;
  /** Stockout flag per row (0 or 1), when the map names a stockout column. */
  readonly stockout?: Float64Array;
  /** Units returned in the period, when the map names a returns column. */
  readonly returns?: Float64Array;
  /** The column map actually used (defaults resolved). */
  readonly map: ColumnMap;
  readonly source: { readonly path: string; readonly sha256: string; readonly bytes: number; readonly format: 'csv' | 'csv.gz' | 'jsonl' | 'jsonl.gz' };
  /** Rows read (before the filter) and rows left out by the filter. */
  readonly rowsRead: number;
  readonly rowsFiltered: number;
}

export interface ReadSalesOptions {
  readonly map: ColumnMap;
  /** True when the map is the default one: optional columns are then picked up by name. */
  readonly defaultMap?: boolean;
  readonly maxProblems?: number;
}

/** A Float64Array that doubles when full. */
class GrowingColumn {
  private data = new Float64Array(1024);
  length = 0;
  push(value: number): void {
    if (this.length === this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = value;
  }
  finish(): Float64Array {
    return this.data.slice(0, this.length);
  }
}

const gzipMagic = [0x1f, 0x8b];

function isGzipped(path: string): boolean {
  const descriptor = openSync(path, 'r');
  try {
    const head = Buffer.alloc(2);
    const read = readSync(descriptor, head, 0, 2, 0);
    return read === 2 && head[0] === gzipMagic[0] && head[1] === gzipMagic[1];
  } finally {
    closeSync(descriptor);
  }
}

/** Reads and checks a sales file; throws a config error naming every bad row and column (up to maxProblems). */
export async function readSales(path: string, options: ReadSalesOptions): Promise<SalesData> {
  let bytes: number;
  try {
    const stats = statSync(path);
    if (!stats.isFile()) throw configError(`cannot read ${path}`, [{ path: [], message: 'expected a regular file, found something else (a folder, a pipe or a device)' }]);
    bytes = stats.size;
  } catch (error) {
    if (error instanceof PricelabError) throw error;
    throw new PricelabError('not-found', `no sales file at ${path}`);
  }
  const gzipped = isGzipped(path);
  const jsonLines = /\.(jsonl|ndjson)(\.gz)?$/i.test(path);
  const format = `${jsonLines ? 'jsonl' : 'csv'}${gzipped ? '.gz' : ''}` as SalesData['source']['format'];

  const hash = createHash('sha256');
  const file = createReadStream(path);
  file.on('data', (chunk) => hash.update(chunk));
  const decoded = new PassThrough();
  const finished = new Promise<void>((resolve, reject) => {
    const done = (error: NodeJS.ErrnoException | null) => (error && error.code !== 'ERR_STREAM_PREMATURE_CLOSE' ? reject(error) : resolve());
    if (gzipped) pipeline(file, createGunzip(), decoded, done);
    else pipeline(file, decoded, done);
  });
  finished.catch(() => undefined);

  const collector = new RowCollector(options);
  try {
    if (jsonLines) await collectJsonLines(decoded, collector);
    else await collectCsv(decoded, collector);
  } catch (error) {
    if (error instanceof PricelabError) throw error;
    throw configError(`${path} could not be read as ${format}`, [{ path: [], message: `expected ${jsonLines ? 'one JSON object per line' : 'CSV with a header row'}, found an error: ${(error as Error).message}` }]);
  } finally {
    decoded.destroy();
  }
  if (!collector.stopped) {
    try {
      await finished;
    } catch (error) {
      throw configError(`${path} could not be read`, [{ path: [], message: `expected ${format}, found an error: ${(error as Error).message}` }]);
    }
  }
  return collector.finish({ path, sha256: hash.digest('hex'), bytes, format });
}

async function collectCsv(input: Readable, collector: RowCollector): Promise<void> {
  const parser = input.pipe(parse({ trim: true, skip_empty_lines: true, bom: true }));
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      if (!collector.hasHeader) collector.setHeader(record);
      else collector.addRow((column) => record[column]);
      if (collector.stopped) break;
    }
  } finally {
    parser.destroy();
  }
}

async function collectJsonLines(input: Readable, collector: RowCollector): Promise<void> {
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let lineNumber = 0;
  try {
    for await (const line of lines) {
      lineNumber++;
      if (line.trim() === '') continue;
      let document: unknown;
      try {
        document = JSON.parse(line);
      } catch (error) {
        collector.problem(['line', lineNumber], `expected a JSON object, found a syntax error: ${(error as Error).message}`);
        if (collector.stopped) break;
        continue;
      }
      if (typeof document !== 'object' || document === null || Array.isArray(document)) {
        collector.problem(['line', lineNumber], `expected a JSON object, found ${Array.isArray(document) ? 'an array' : typeof document}`);
        if (collector.stopped) break;
        continue;
      }
      const row = document as Record<string, unknown>;
      if (!collector.hasHeader) collector.setHeader(Object.keys(row));
      collector.addRow((_, name) => {
        const value = row[name];
        return value === undefined || value === null ? undefined : typeof value === 'object' ? JSON.stringify(value) : String(value as string | number | boolean);
      });
      if (collector.stopped) break;
    }
  } finally {
    lines.close();
  }
}

const dayMs = 86_400_000;

/** Turns rows of strings into checked numbers, one row at a time. */
class RowCollector {
  hasHeader = false;
  stopped = false;
  private readonly problems: Problem[] = [];
  private readonly maxProblems: number;
  private map: ColumnMap;
  private readonly defaultMap: boolean;
  private indexOf = new Map<string, number>();
  private rowsRead = 0;
  private rowsFiltered = 0;
  private readonly period = new GrowingColumn();
  private readonly units = new GrowingColumn();
  private readonly price = new GrowingColumn();
  private readonly cost = new GrowingColumn();
  private readonly traffic = new GrowingColumn();
  private rivals: GrowingColumn[] = [];
  private promotions: GrowingColumn[] = [];
  private storeIndex = new Map<string, number>();
  private readonly products = new Set<string>();
  private storeColumn = new GrowingColumn();
  private readonly festivalLabels = new LabelColumn();
  private readonly weatherLabels = new LabelColumn();
  private readonly weatherValues = new GrowingColumn();
  private readonly stock = new GrowingColumn();
  private readonly stockout = new GrowingColumn();
  private readonly returns = new GrowingColumn();

  constructor(options: ReadSalesOptions) {
    this.map = options.map;
    this.defaultMap = options.defaultMap ?? false;
    this.maxProblems = options.maxProblems ?? 20;
  }

  problem(path: (string | number)[], message: string): void {
    this.problems.push({ path, message });
    if (this.problems.length >= this.maxProblems) this.stopped = true;
  }

  setHeader(names: readonly string[]): void {
    this.hasHeader = true;
    names.forEach((name, index) => this.indexOf.set(name, index));
    if (this.defaultMap) {
      const extra: Partial<Record<(typeof optionalDefaultColumns)[number], string>> = {};
      for (const name of optionalDefaultColumns) if (this.indexOf.has(name)) extra[name] = name;
      this.map = { ...this.map, ...extra };
    }
    const known = [...this.indexOf.keys()];
    for (const { role, column } of mappedColumns(this.map)) {
      if (!this.indexOf.has(column)) {
        this.problem(['columns', column], `expected a column "${column}" (the ${role} column of the map), found the columns ${known.join(', ')}`);
      }
    }
    if (this.problems.length > 0) this.stopped = true;
    this.rivals = this.map.rivalPrices.map(() => new GrowingColumn());
    this.promotions = this.map.promotions.map(() => new GrowingColumn());
  }

  /** `cell(index, name)` gives a row's raw value of a column, or undefined when absent. */
  addRow(cell: (index: number, name: string) => string | undefined): void {
    this.rowsRead++;
    const row = this.rowsRead;
    const raw = (name: string): string | undefined => cell(this.indexOf.get(name) ?? -1, name);
    for (const [column, wanted] of Object.entries(this.map.filter)) {
      const value = raw(column);
      const matches = value !== undefined && (value === String(wanted) || (value.trim() !== '' && Number(value) === Number(wanted)));
      if (!matches) {
        this.rowsFiltered++;
        return;
      }
    }
    const before = this.problems.length;
    const number = (column: string, rule: 'any' | 'non-negative' | 'positive'): number => {
      const text = raw(column);
      const value = text === undefined || text.trim() === '' ? Number.NaN : Number(text);
      if (!Number.isFinite(value)) {
        this.problem(['row', row, column], `expected a number, found ${text === undefined || text.trim() === '' ? 'an empty cell' : `"${text.slice(0, 40)}"`}`);
        return Number.NaN;
      }
      if (rule === 'non-negative' && value < 0) this.problem(['row', row, column], `expected a number >= 0, found ${value}`);
      if (rule === 'positive' && value <= 0) this.problem(['row', row, column], `expected a number > 0, found ${value}`);
      return value;
    };
    const map = this.map;
    let period: number;
    if (map.date !== undefined) {
      const text = raw(map.date) ?? '';
      const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(text.trim());
      const time = match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : Number.NaN;
      if (!Number.isFinite(time) || !match || new Date(time).getUTCDate() !== Number(match[3])) {
        this.problem(['row', row, map.date], `expected a date like 2026-01-31, found "${text.slice(0, 40)}"`);
      }
      period = Math.round(time / dayMs);
    } else {
      period = number(map.period ?? 'period', 'any');
      if (Number.isFinite(period) && !Number.isInteger(period)) this.problem(['row', row, map.period ?? 'period'], `expected a whole-number period, found ${period}`);
    }
    const units = map.units !== undefined ? number(map.units, 'non-negative') : Math.exp(number(map.logUnits ?? 'logUnits', 'any'));
    if (map.logUnits !== undefined && Number.isNaN(units) === false && !Number.isFinite(units)) {
      this.problem(['row', row, map.logUnits], `expected a log of units below 700 (units a finite number), found ${raw(map.logUnits)}`);
    }
    const price = number(map.price, 'positive');
    const cost = map.cost !== undefined ? number(map.cost, 'non-negative') : 0;
    const traffic = map.traffic !== undefined ? number(map.traffic, 'positive') : 0;
    const rivals = map.rivalPrices.map((column) => number(column, 'positive'));
    const promotions = map.promotions.map((column) => number(column, 'non-negative'));
    if (map.product !== undefined) {
      this.products.add(raw(map.product) ?? '');
      if (this.products.size > 1 && this.products.size === 2) {
        this.problem(['row', row, map.product], `expected one product (calibration fits one product at a time: add "filter": {"${map.product}": ...} to the column map), found ${[...this.products].map((name) => `"${name}"`).join(' and ')}`);
      }
    }
    const festival = map.festival !== undefined ? (raw(map.festival) ?? '').trim() : '';
    const weather = map.weather !== undefined ? (raw(map.weather) ?? '').trim() : '';
    if (map.weather !== undefined && weather === '') this.problem(['row', row, map.weather], 'expected a temperature or a weather state, found an empty cell');
    const stock = map.stock !== undefined ? number(map.stock, 'non-negative') : 0;
    const stockout = map.stockout !== undefined ? number(map.stockout, 'non-negative') : 0;
    if (map.stockout !== undefined && stockout !== 0 && stockout !== 1 && Number.isFinite(stockout)) this.problem(['row', row, map.stockout], `expected a stockout flag 0 or 1, found ${stockout}`);
    const returned = map.returns !== undefined ? number(map.returns, 'non-negative') : 0;
    if (this.problems.length > before) return;
    if (map.stock !== undefined) this.stock.push(stock);
    if (map.stockout !== undefined) this.stockout.push(stockout);
    if (map.returns !== undefined) this.returns.push(returned);
    if (map.festival !== undefined) this.festivalLabels.push(festival);
    if (map.weather !== undefined) {
      this.weatherLabels.push(weather);
      this.weatherValues.push(Number(weather));
    }
    let storeIndex = 0;
    if (map.store !== undefined) {
      const name = raw(map.store) ?? '';
      storeIndex = this.storeIndex.get(name) ?? this.storeIndex.size;
      if (!this.storeIndex.has(name)) this.storeIndex.set(name, storeIndex);
    }
    this.period.push(period);
    this.units.push(units);
    this.price.push(price);
    if (map.cost !== undefined) this.cost.push(cost);
    if (map.traffic !== undefined) this.traffic.push(traffic);
    rivals.forEach((value, index) => this.rivals[index]?.push(value));
    promotions.forEach((value, index) => this.promotions[index]?.push(value));
    this.storeColumn.push(storeIndex);
  }

  finish(source: SalesData['source']): SalesData {
    if (!this.hasHeader) this.problem(['columns'], 'expected a header row (CSV) or a first JSON object, found an empty file');
    const kept = this.period.length;
    if (this.problems.length === 0 && kept === 0) {
      this.problem(['rows'], `expected at least one row${Object.keys(this.map.filter).length > 0 ? ' matching the filter' : ''}, found none (${this.rowsRead} read)`);
    }
    if (this.problems.length > 0) {
      throw configError(`${source.path}: the sales history has ${this.problems.length}${this.stopped && this.problems.length >= this.maxProblems ? '+' : ''} problem(s)`, this.problems);
    }
    const storeNames: string[] = [];
    for (const [name, index] of this.storeIndex) storeNames[index] = name;
    return {
      rows: kept,
      period: this.period.finish(),
      periodKind: this.map.date !== undefined ? 'date' : 'index',
      units: this.units.finish(),
      price: this.price.finish(),
      cost: this.map.cost !== undefined ? this.cost.finish() : undefined,
      traffic: this.map.traffic !== undefined ? this.traffic.finish() : undefined,
      rivalPrices: this.rivals.map((column) => column.finish()),
      rivalNames: this.map.rivalPrices,
      promotions: this.promotions.map((column) => column.finish()),
      promotionNames: this.map.promotions,
      store: Int32Array.from(this.storeColumn.finish()),
      storeNames: storeNames.length > 0 ? storeNames : ['all'],
      product: this.map.product !== undefined ? [...this.products][0] : undefined,
      ...(this.map.festival !== undefined ? { festival: this.festivalLabels.finish() } : {}),
      ...(this.map.weather !== undefined ? { weather: this.weatherOf() } : {}),
      ...(this.map.stock !== undefined ? { stock: this.stock.finish() } : {}),
      ...(this.map.stockout !== undefined ? { stockout: this.stockout.finish() } : {}),
      ...(this.map.returns !== undefined ? { returns: this.returns.finish() } : {}),
      map: this.map,
      source,
      rowsRead: this.rowsRead,
      rowsFiltered: this.rowsFiltered,
    };
  }

  /** A temperature when every weather cell is a finite number, else state labels. */
  private weatherOf(): NonNullable<SalesData['weather']> {
    const values = this.weatherValues.finish();
    if (values.every((value) => Number.isFinite(value))) return { kind: 'temperature', temperature: values };
    const { label, names } = this.weatherLabels.finish();
    return { kind: 'state', state: label, names };
  }
}

/** A column of text labels kept as indices into the distinct labels (an empty label is -1). */
class LabelColumn {
  private readonly indices = new GrowingColumn();
  private readonly indexOf = new Map<string, number>();
  push(label: string): void {
    if (label === '') {
      this.indices.push(-1);
      return;
    }
    let index = this.indexOf.get(label);
    if (index === undefined) {
      index = this.indexOf.size;
      this.indexOf.set(label, index);
    }
    this.indices.push(index);
  }
  finish(): { label: Int32Array; names: string[] } {
    return { label: Int32Array.from(this.indices.finish()), names: [...this.indexOf.keys()] };
  }
}
