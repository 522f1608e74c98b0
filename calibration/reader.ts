/**
 * Reading a sales history, streamed: CSV (plain or gzipped, told apart by the gzip magic
 * bytes 1f 8b, not by the name) or JSON Lines (`.jsonl` / `.ndjson`, optionally `.gz`), one
 * row per period x product (x store). Rows are parsed one at a time (csv-parse's streaming
 * API, or one JSON document per line) and only the numbers the estimators need are kept,
 * never the text: 8 bytes per number, in blocks of `blockRows` rows (calibration/sales-blocks.ts).
 * A history of one block stays in memory; a longer one goes block by block to a scratch
 * file that `salesBlocks` reads back one block at a time, so reading holds one block
 * whatever the file's length (festival and weather labels are kept once each and indexed).
 * The file's sha256 is computed over its raw bytes on the way through.
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
import { BlockWriter, defaultBlockRows, promotionColumn, rivalColumn, type ScratchBlocks } from './sales-blocks.js';

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
  /** The festival labels (names of `festival.label`), without reading the column. */
  readonly festivalNames?: readonly string[];
  /** The weather column's kind and state names (`weather`), without reading the column. */
  readonly weatherKind?: 'temperature' | 'state';
  readonly weatherNames?: readonly string[];
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
  /**
   * The scratch file of a history longer than one block: passes over the rows read it block
   * by block (salesBlocks); the column fields above are materialized from it on first use.
   * Absent when every row fits one block (the columns are then plain arrays).
   */
  readonly scratch?: ScratchBlocks;
}

/** How each lazily materialized column of a SalesData is made (kept for `wholeColumns`). */
const columnRecipes = new WeakMap<SalesData, (target: SalesData, track: boolean) => void>();

/**
 * The same history with its whole columns materialized (on first use, from the scratch file)
 * on a separate object, so that materializing them does not mark `sales` (ScratchBlocks.materialized):
 * for the estimators that still index rows at random, handed this view at their call sites.
 * A history of one block is returned as it is.
 */
export function wholeColumns(sales: SalesData): SalesData {
  const recipe = columnRecipes.get(sales);
  if (!sales.scratch || !recipe) return sales;
  const view = { ...Object.fromEntries(Object.entries(Object.getOwnPropertyDescriptors(sales)).filter(([, descriptor]) => 'value' in descriptor && !ArrayBuffer.isView(descriptor.value)).map(([key, descriptor]) => [key, descriptor.value as unknown])) } as unknown as SalesData;
  recipe(view, false);
  return view;
}

/** Removes the scratch file of a long history (also removed on process exit); its columns can no longer be read after. */
export function releaseSales(sales: Pick<SalesData, 'scratch'>): void {
  sales.scratch?.release();
}

export interface ReadSalesOptions {
  readonly map: ColumnMap;
  /** True when the map is the default one: optional columns are then picked up by name. */
  readonly defaultMap?: boolean;
  readonly maxProblems?: number;
  /** Rows per block (default 32,768): a history of more rows goes to a scratch file, one block at a time. */
  readonly blockRows?: number;
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
  } catch (error) {
    collector.discard();
    throw error;
  }
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
  private readonly blockRows: number;
  private writer: BlockWriter | undefined;
  private storeIndex = new Map<string, number>();
  private readonly products = new Set<string>();
  private readonly festivalLabels = new LabelIndex();
  private readonly weatherLabels = new LabelIndex();
  /** False once a weather cell is not a finite number (the column is then a state label). */
  private weatherNumeric = true;

  constructor(options: ReadSalesOptions) {
    this.map = options.map;
    this.defaultMap = options.defaultMap ?? false;
    this.maxProblems = options.maxProblems ?? 20;
    this.blockRows = Math.max(1, Math.floor(options.blockRows ?? defaultBlockRows));
  }

  discard(): void {
    this.writer?.discard();
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
    const map = this.map;
    const columns = ['period', 'units', 'price'];
    if (map.cost !== undefined) columns.push('cost');
    if (map.traffic !== undefined) columns.push('traffic');
    map.rivalPrices.forEach((_, index) => columns.push(rivalColumn(index)));
    map.promotions.forEach((_, index) => columns.push(promotionColumn(index)));
    columns.push('store');
    if (map.festival !== undefined) columns.push('festival');
    if (map.weather !== undefined) columns.push('weatherValue', 'weatherLabel');
    if (map.stock !== undefined) columns.push('stock');
    if (map.stockout !== undefined) columns.push('stockout');
    if (map.returns !== undefined) columns.push('returns');
    this.writer = new BlockWriter({ names: columns }, this.blockRows);
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
    const writer = this.writer;
    if (!writer) return;
    let storeIndex = 0;
    if (map.store !== undefined) {
      const name = raw(map.store) ?? '';
      storeIndex = this.storeIndex.get(name) ?? this.storeIndex.size;
      if (!this.storeIndex.has(name)) this.storeIndex.set(name, storeIndex);
    }
    const put = (name: string, value: number) => writer.set(writer.offset(name), value);
    put('period', period);
    put('units', units);
    put('price', price);
    if (map.cost !== undefined) put('cost', cost);
    if (map.traffic !== undefined) put('traffic', traffic);
    rivals.forEach((value, index) => put(rivalColumn(index), value));
    promotions.forEach((value, index) => put(promotionColumn(index), value));
    put('store', storeIndex);
    if (map.festival !== undefined) put('festival', this.festivalLabels.indexOf(festival));
    if (map.weather !== undefined) {
      const value = Number(weather);
      if (!Number.isFinite(value)) this.weatherNumeric = false;
      put('weatherValue', value);
      put('weatherLabel', this.weatherLabels.indexOf(weather));
    }
    if (map.stock !== undefined) put('stock', stock);
    if (map.stockout !== undefined) put('stockout', stockout);
    if (map.returns !== undefined) put('returns', returned);
    writer.endRow();
  }

  finish(source: SalesData['source']): SalesData {
    if (!this.hasHeader) this.problem(['columns'], 'expected a header row (CSV) or a first JSON object, found an empty file');
    const writer = this.writer;
    const kept = writer?.rows ?? 0;
    if (this.problems.length === 0 && kept === 0) {
      this.problem(['rows'], `expected at least one row${Object.keys(this.map.filter).length > 0 ? ' matching the filter' : ''}, found none (${this.rowsRead} read)`);
    }
    if (this.problems.length > 0 || !writer) {
      throw configError(`${source.path}: the sales history has ${this.problems.length}${this.stopped && this.problems.length >= this.maxProblems ? '+' : ''} problem(s)`, this.problems);
    }
    const storeNames: string[] = [];
    for (const [name, index] of this.storeIndex) storeNames[index] = name;
    // One block: plain arrays. Longer: the last block to the scratch file, each column read back from it on first use.
    if (writer.scratch) writer.flush();
    const scratch = writer.scratch;
    const column = (name: string, track: boolean): Float64Array => (scratch ? scratch.column(name, track) : writer.column(name));
    const int32Column = (name: string, track: boolean): Int32Array => Int32Array.from(column(name, track));
    const map = this.map;
    const festivalNames = this.festivalLabels.names();
    const weatherNames = this.weatherLabels.names();
    const weatherNumeric = this.weatherNumeric;
    const sales = {
      rows: kept,
      periodKind: map.date !== undefined ? 'date' : 'index',
      rivalNames: map.rivalPrices,
      promotionNames: map.promotions,
      storeNames: storeNames.length > 0 ? storeNames : ['all'],
      product: map.product !== undefined ? [...this.products][0] : undefined,
      map,
      source,
      rowsRead: this.rowsRead,
      rowsFiltered: this.rowsFiltered,
      ...(map.festival !== undefined ? { festivalNames } : {}),
      ...(map.weather !== undefined ? { weatherKind: weatherNumeric ? 'temperature' : 'state', weatherNames: weatherNumeric ? [] : weatherNames } : {}),
      ...(scratch ? { scratch } : {}),
    } as Partial<SalesData> as SalesData;
    // The columns: plain arrays for one block; for a scratch file, read on first use and a plain property from then on.
    const recipe = (target: SalesData, track: boolean): void => {
      const columns: [keyof SalesData, () => unknown][] = [
        ['period', () => column('period', track)],
        ['units', () => column('units', track)],
        ['price', () => column('price', track)],
        ['cost', () => (map.cost !== undefined ? column('cost', track) : undefined)],
        ['traffic', () => (map.traffic !== undefined ? column('traffic', track) : undefined)],
        ['rivalPrices', () => map.rivalPrices.map((_, index) => column(rivalColumn(index), track))],
        ['promotions', () => map.promotions.map((_, index) => column(promotionColumn(index), track))],
        ['store', () => int32Column('store', track)],
      ];
      if (map.festival !== undefined) columns.push(['festival', () => ({ label: int32Column('festival', track), names: festivalNames })]);
      if (map.weather !== undefined) {
        columns.push(['weather', () => (weatherNumeric ? { kind: 'temperature', temperature: column('weatherValue', track) } : { kind: 'state', state: int32Column('weatherLabel', track), names: weatherNames })]);
      }
      if (map.stock !== undefined) columns.push(['stock', () => column('stock', track)]);
      if (map.stockout !== undefined) columns.push(['stockout', () => column('stockout', track)]);
      if (map.returns !== undefined) columns.push(['returns', () => column('returns', track)]);
      for (const [name, compute] of columns) {
        if (!scratch) {
          Object.defineProperty(target, name, { value: compute(), enumerable: true });
          continue;
        }
        Object.defineProperty(target, name, {
          get() {
            const value = compute();
            Object.defineProperty(target, name, { value, enumerable: true });
            return value;
          },
          enumerable: true,
          configurable: true,
        });
      }
    };
    recipe(sales, true);
    if (scratch) columnRecipes.set(sales, recipe);
    return sales;
  }
}

/** Text labels as indices into the distinct labels (an empty label is -1). */
class LabelIndex {
  private readonly index = new Map<string, number>();
  indexOf(label: string): number {
    if (label === '') return -1;
    let index = this.index.get(label);
    if (index === undefined) {
      index = this.index.size;
      this.index.set(label, index);
    }
    return index;
  }
  names(): string[] {
    return [...this.index.keys()];
  }
}
