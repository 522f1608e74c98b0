/**
 * Card: the kept numbers of a sales history, in blocks of rows, so that memory does not grow
 * with the file.
 *
 * The reader (calibration/reader.ts) fills one block of `blockRows` rows at a time (default
 * 32,768), every column a float64. A history of one block stays in memory; a longer one is
 * written block by block to a binary scratch file in os.tmpdir() (column-major within a
 * block: block b holds its rows' first column, then its second, ...), and every pass over
 * the rows (`salesBlocks`) reads it back one block at a time into buffers reused from block
 * to block. The scratch file is unlinked as soon as it is open (only its descriptor holds
 * it), so it is gone when `releaseSales` closes it, when reading fails, or when the process
 * ends in any way.
 *
 * Estimators that still index rows at random get the whole column from the SalesData
 * fields, materialized from the scratch file on first use and kept (per-row memory again:
 * docs/performance.md, Calibration, lists which ones still do); each column so materialized
 * is named in `ScratchBlocks.materialized`, which tests read to hold the calibration's own
 * passes to blocks. A pass that must visit rows in order but was written against row
 * indices can use a `RowCursor`, which moves through the blocks as the row index grows.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const defaultBlockRows = 32_768;

/** One block of rows: the SalesData columns over rows start .. start + rows - 1. */
export interface SalesBlock {
  /** Index of the block's first row among all kept rows. */
  readonly start: number;
  readonly rows: number;
  readonly period: Float64Array;
  readonly units: Float64Array;
  readonly price: Float64Array;
  readonly cost: Float64Array | undefined;
  readonly traffic: Float64Array | undefined;
  readonly rivalPrices: readonly Float64Array[];
  readonly promotions: readonly Float64Array[];
  readonly store: Int32Array;
  readonly stock?: Float64Array | undefined;
  readonly stockout?: Float64Array | undefined;
  readonly returns?: Float64Array | undefined;
  /** Festival label per row (an index into SalesData.festival.names, -1 for none), when the map names a festival column. */
  readonly festivalLabel?: ArrayLike<number> | undefined;
  /** The weather cell as a number (NaN when it is a state label), when the map names a weather column. */
  readonly weatherValue?: ArrayLike<number> | undefined;
  /** The weather cell as a label index (SalesData.weather.names), when the map names a weather column of states. */
  readonly weatherLabel?: ArrayLike<number> | undefined;
}

/** The columns a block store keeps, in their order within a block. */
export interface BlockLayout {
  readonly names: readonly string[];
}

/** Where the blocks of a long history are: a scratch file of whole blocks. */
export class ScratchBlocks {
  private readonly folder: string;
  readonly path: string;
  private descriptor: number | undefined;
  private released = false;
  blocks = 0;
  rows = 0;
  /** The columns read whole (`column`) so far, for tests that hold a pass to blocks. */
  readonly materialized = new Set<string>();
  /** Block buffers no pass is using, reused by the next pass (a pass per fit evaluation would otherwise leave one behind for the collector each time). */
  private readonly idle: { buffer: Float64Array; store: Int32Array }[] = [];

  constructor(
    readonly layout: BlockLayout,
    readonly blockRows: number,
  ) {
    this.folder = mkdtempSync(join(tmpdir(), 'pricelab-sales-'));
    this.path = join(this.folder, 'rows.f64');
    try {
      this.descriptor = openSync(this.path, 'w+');
    } finally {
      // Unlinked at once: the open descriptor keeps the bytes until it is closed or the process
      // ends, so not even a kill (SIGINT, SIGTERM, SIGKILL) leaves a scratch file behind.
      rmSync(this.folder, { recursive: true, force: true });
    }
  }

  /** Appends a block: `columns` holds layout.names.length columns of `rows` values each, column after column. */
  append(columns: Float64Array, rows: number): void {
    const descriptor = this.open();
    const bytes = new Uint8Array(columns.buffer, columns.byteOffset, rows * this.layout.names.length * 8);
    const position = this.rows * this.layout.names.length * 8;
    let written = 0;
    while (written < bytes.length) written += writeSync(descriptor, bytes, written, bytes.length - written, position + written);
    this.rows += rows;
    this.blocks++;
  }

  /** Reads block `index` into `into` (capacity blockRows x columns), column after column; returns its rows. */
  read(index: number, into: Float64Array): number {
    const descriptor = this.open();
    const rows = Math.min(this.blockRows, this.rows - index * this.blockRows);
    const width = this.layout.names.length;
    const bytes = new Uint8Array(into.buffer, into.byteOffset, rows * width * 8);
    const position = index * this.blockRows * width * 8;
    let read = 0;
    while (read < bytes.length) {
      const count = readSync(descriptor, bytes, read, bytes.length - read, position + read);
      if (count === 0) throw new Error(`the sales scratch file ${this.path} ended early (block ${index})`);
      read += count;
    }
    return rows;
  }

  /** One whole column, every row (what an estimator that indexes rows at random needs); `track` false leaves it out of `materialized`. */
  column(name: string, track = true): Float64Array {
    const column = this.layout.names.indexOf(name);
    if (track) this.materialized.add(name);
    const values = new Float64Array(this.rows);
    const buffer = new Float64Array(this.blockRows * this.layout.names.length);
    for (let block = 0; block < this.blocks; block++) {
      const rows = this.read(block, buffer);
      values.set(buffer.subarray(column * rows, column * rows + rows), block * this.blockRows);
    }
    return values;
  }

  /** A block buffer and store column for one pass: an idle one, or new. Give it back with `giveBack` when the pass ends. */
  borrow(): { buffer: Float64Array; store: Int32Array } {
    return this.idle.pop() ?? { buffer: new Float64Array(this.blockRows * this.layout.names.length), store: new Int32Array(this.blockRows) };
  }

  giveBack(buffers: { buffer: Float64Array; store: Int32Array }): void {
    if (this.idle.length < 4) this.idle.push(buffers);
  }

  release(): void {
    if (this.released) return;
    this.idle.length = 0;
    this.released = true;
    if (this.descriptor !== undefined) closeSync(this.descriptor);
    this.descriptor = undefined;
  }

  private open(): number {
    if (this.descriptor === undefined) throw new Error('the sales rows were released (releaseSales) and can no longer be read');
    return this.descriptor;
  }
}

/**
 * The kept rows, one block at a time: a block of `blockRows` rows x the layout's columns,
 * column after column; a full block goes to the scratch file (opened at the first).
 */
export class BlockWriter {
  readonly width: number;
  readonly buffer: Float64Array;
  filled = 0;
  rows = 0;
  scratch: ScratchBlocks | undefined;
  private readonly offsets: Map<string, number>;
  constructor(
    readonly layout: BlockLayout,
    readonly blockRows: number,
  ) {
    this.width = layout.names.length;
    this.buffer = new Float64Array(blockRows * this.width);
    this.offsets = new Map(layout.names.map((name, index) => [name, index * blockRows]));
  }
  /** The position of a column's cell in the current row (write with `set`). */
  offset(name: string): number {
    return this.offsets.get(name) ?? -1;
  }
  set(offset: number, value: number): void {
    if (offset >= 0) this.buffer[offset + this.filled] = value;
  }
  endRow(): void {
    this.filled++;
    this.rows++;
    if (this.filled === this.blockRows) this.flush();
  }
  /** The current block's rows packed (column after column, `filled` rows each). */
  packed(): Float64Array {
    if (this.filled === this.blockRows) return this.buffer;
    const packed = new Float64Array(this.filled * this.width);
    for (let column = 0; column < this.width; column++) packed.set(this.buffer.subarray(column * this.blockRows, column * this.blockRows + this.filled), column * this.filled);
    return packed;
  }
  flush(): void {
    if (this.filled === 0) return;
    this.scratch ??= new ScratchBlocks(this.layout, this.blockRows);
    this.scratch.append(this.packed(), this.filled);
    this.filled = 0;
  }
  /** One column of the in-memory block (a history of one block). */
  column(name: string): Float64Array {
    const start = this.offset(name);
    return this.buffer.slice(start, start + this.filled);
  }
  discard(): void {
    this.scratch?.release();
    this.scratch = undefined;
  }
}

/** The column names of a layout for a map's shape (rivals, promotions and the optional columns). */
export function columnOffsets(layout: BlockLayout): Map<string, number> {
  return new Map(layout.names.map((name, index) => [name, index]));
}

/** Column names of the block layout: fixed names for the fixed columns, `rival:i` and `promotion:i` for the rest. */
export const rivalColumn = (index: number) => `rival:${index}`;
export const promotionColumn = (index: number) => `promotion:${index}`;

/**
 * A block's typed arrays over `buffer` (column after column, `rows` each), plus the store
 * column as Int32Array (into `store`, reused): the shape every pass sees.
 */
export function blockView(layout: BlockLayout, buffer: Float64Array, rows: number, start: number, store: Int32Array): SalesBlock {
  const offsets = columnOffsets(layout);
  const column = (name: string): Float64Array | undefined => {
    const index = offsets.get(name);
    return index === undefined ? undefined : buffer.subarray(index * rows, index * rows + rows);
  };
  const storeValues = column('store');
  const storeView = store.subarray(0, rows);
  if (storeValues) for (let row = 0; row < rows; row++) storeView[row] = storeValues[row] ?? 0;
  const rivalPrices: Float64Array[] = [];
  for (let index = 0; offsets.has(rivalColumn(index)); index++) rivalPrices.push(column(rivalColumn(index)) as Float64Array);
  const promotions: Float64Array[] = [];
  for (let index = 0; offsets.has(promotionColumn(index)); index++) promotions.push(column(promotionColumn(index)) as Float64Array);
  return {
    start,
    rows,
    period: column('period') as Float64Array,
    units: column('units') as Float64Array,
    price: column('price') as Float64Array,
    cost: column('cost'),
    traffic: column('traffic'),
    rivalPrices,
    promotions,
    store: storeView,
    stock: column('stock'),
    stockout: column('stockout'),
    returns: column('returns'),
    festivalLabel: column('festival'),
    weatherValue: column('weatherValue'),
    weatherLabel: column('weatherLabel'),
  };
}

/** What salesBlocks reads: a SalesData, or any value with its columns (and optionally its scratch file). */
export type SalesBlockSource = Omit<SalesBlock, 'start' | 'festivalLabel' | 'weatherValue' | 'weatherLabel'> & {
  readonly scratch?: ScratchBlocks | undefined;
  readonly festival?: { readonly label: ArrayLike<number> } | undefined;
  readonly weather?: { readonly kind: 'temperature'; readonly temperature: ArrayLike<number> } | { readonly kind: 'state'; readonly state: ArrayLike<number> } | undefined;
};

/** The rows of a SalesData-like value, block by block: one block for an in-memory history, else each block of its scratch file in turn. */
export function* salesBlocks(sales: SalesBlockSource): Generator<SalesBlock> {
  const scratch = sales.scratch;
  if (!scratch) {
    yield {
      start: 0,
      rows: sales.rows,
      period: sales.period,
      units: sales.units,
      price: sales.price,
      cost: sales.cost,
      traffic: sales.traffic,
      rivalPrices: sales.rivalPrices,
      promotions: sales.promotions,
      store: sales.store,
      stock: sales.stock,
      stockout: sales.stockout,
      returns: sales.returns,
      festivalLabel: sales.festival?.label,
      weatherValue: sales.weather?.kind === 'temperature' ? sales.weather.temperature : undefined,
      weatherLabel: sales.weather?.kind === 'state' ? sales.weather.state : undefined,
    };
    return;
  }
  // Reused from block to block (a block is valid until the next one is read), and from pass to pass.
  const buffers = scratch.borrow();
  try {
    for (let block = 0; block < scratch.blocks; block++) {
      const rows = scratch.read(block, buffers.buffer);
      yield blockView(scratch.layout, buffers.buffer, rows, block * scratch.blockRows, buffers.store);
    }
  } finally {
    scratch.giveBack(buffers);
  }
}

/**
 * Rows in increasing order, block by block: `at(row)` returns the block that holds `row`
 * (reading the next blocks as needed) for code written against row indices that visits
 * the rows in order (a fill callback of a streamed least squares, say). Going back to an
 * earlier block starts a new pass from the first block.
 */
export class RowCursor {
  private iterator: Iterator<SalesBlock> | undefined;
  private current: SalesBlock | undefined;
  constructor(private readonly sales: SalesBlockSource) {}
  at(row: number): SalesBlock {
    let block = this.current;
    if (!block || row < block.start) {
      this.iterator = salesBlocks(this.sales);
      block = undefined;
    }
    while (!block || row >= block.start + block.rows) {
      const next = this.iterator?.next();
      if (!next || next.done) throw new RangeError(`row ${row} is past the last row`);
      block = next.value;
    }
    this.current = block;
    return block;
  }
}
