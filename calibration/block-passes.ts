/**
 * Card: passes over a sales history one block of rows at a time, for the estimators that
 * used to index whole columns (endogeneity, reference prices, pooling, competitors, returns,
 * the aggregate segment test), so that their memory is one block plus what they keep per
 * period or per store, not per row.
 *
 * - `RowValues`: a per-row input given whole (an array in memory: tests, one-block
 *   histories) or made per block from the block's own columns (a function of the block).
 * - `keyedBlocks`: a demand design's blocks beside the sales blocks they were made from
 *   (calibration/design-blocks.ts builds one from the other, block for block), with the
 *   index of each block's first row; an in-memory design is cut at the sales blocks' bounds.
 * - `mappedDesign`: a design derived block by block from another (more utility regressors,
 *   other units, a row mask), read afresh at each pass; in memory when the rows are one block.
 * - `BlockCursor`: serves a reader that asks for rows one at a time in increasing order
 *   (least-squares.ts's LinearDesign) from blocks, starting a new pass when asked for row 0.
 * Sums run over the blocks in row order, so a pass gives the whole-column sum to the last bit.
 */
import { designBlocks, rowLogMarketSize, shapeOf, type BlockedLogitPoissonData, type DemandData, type LogitPoissonData } from './demand-design.js';
import { periodNumber, type PeriodNumbering } from './design-blocks.js';
import { blockView, salesBlocks, type SalesBlock, type ScratchBlocks } from './sales-blocks.js';

/** What `salesBlocks` reads: a SalesData (its scratch file when it has one), or plain columns. */
export type SalesRows = Parameters<typeof salesBlocks>[0];

/** The columns of a block a pass may read. */
export type BlockColumn = Exclude<keyof SalesBlock, 'start' | 'rows'>;

/** Some columns of the sales rows (whole, in memory), or a SalesData read from its scratch file. */
export type SomeColumns<Key extends BlockColumn> = Pick<SalesBlock, Key | 'rows'> & { readonly scratch?: ScratchBlocks | undefined };

/**
 * The rows of `sales` block by block, with the columns asked for: the blocks of its scratch
 * file when it has one (its whole columns are never touched), else its columns as one block.
 */
export function* rowBlocks<Key extends BlockColumn>(sales: SomeColumns<Key>): Generator<Pick<SalesBlock, Key | 'rows' | 'start'>> {
  if (sales.scratch) {
    // salesBlocks reads only the scratch file of a history that has one.
    yield* salesBlocks(sales as unknown as SalesRows);
    return;
  }
  yield { ...sales, start: 0 } as Pick<SalesBlock, Key | 'rows' | 'start'>;
}

/** True when the rows have column `name` of the scratch layout (a history in memory: `inMemory()` says). */
export function hasScratchColumn(sales: SalesRows, name: string, inMemory: () => boolean): boolean {
  return sales.scratch ? sales.scratch.layout.names.includes(name) : inMemory();
}

/**
 * The blocks of `sales` beside one more column that blocks do not carry (the festival label
 * of the reader's layout), read from the same scratch-file block; for a history in memory,
 * `whole()` gives that column whole (one block).
 */
export function* blocksWithColumn(sales: SalesRows, name: string, whole: () => ArrayLike<number> | undefined): Generator<{ readonly block: SalesBlock; readonly column: ArrayLike<number> | undefined }> {
  const scratch = sales.scratch;
  if (!scratch) {
    for (const block of salesBlocks(sales)) yield { block, column: whole() };
    return;
  }
  const index = scratch.layout.names.indexOf(name);
  const buffer = new Float64Array(scratch.blockRows * scratch.layout.names.length);
  const store = new Int32Array(scratch.blockRows);
  for (let block = 0; block < scratch.blocks; block++) {
    const rows = scratch.read(block, buffer);
    yield { block: blockView(scratch.layout, buffer, rows, block * scratch.blockRows, store), column: index < 0 ? undefined : buffer.subarray(index * rows, index * rows + rows) };
  }
}

/** A per-row input: whole, or made for each block of the sales rows (valid until the next block). */
export type RowValues = ArrayLike<number> | ((block: SalesBlock) => ArrayLike<number>);

/** The values of rows start .. start + rows - 1 of `values` (a view of a whole column, or the block's own). */
export function rowValuesIn(values: RowValues, start: number, rows: number, block: SalesBlock | undefined): ArrayLike<number> {
  if (typeof values === 'function') {
    if (!block) throw new RangeError('row values made per block need the sales rows beside the design');
    return values(block);
  }
  if (start === 0 && values.length === rows) return values;
  if (ArrayBuffer.isView(values)) return (values as unknown as Float64Array).subarray(start, start + rows);
  return Array.prototype.slice.call(values, start, start + rows) as number[];
}

/** Each row's period number (0, 1, ... periods since the first) made per block: a RowValues in one buffer reused from block to block. */
export function periodNumbers(numbering: PeriodNumbering): (block: SalesBlock) => Float64Array {
  let buffer = new Float64Array(0);
  return (block) => {
    if (buffer.length < block.rows) buffer = new Float64Array(block.rows);
    const out = buffer.subarray(0, block.rows);
    for (let row = 0; row < block.rows; row++) out[row] = periodNumber(numbering, block.period[row] ?? 0);
    return out;
  };
}

/**
 * Each row's log market size under `theta` (its arrival effects and covariates included:
 * rowLogMarketSize) made per block of `sales`, from the design made of those rows: what the
 * pooling and the segment test take as `logMarketSize`. Blocks must be asked in row order.
 */
export function perBlockLogMarketSize(design: DemandData, sales: SalesRows, theta: ArrayLike<number>): (block: SalesBlock) => Float64Array {
  const cursor = new BlockCursor(() => keyedBlocks(design, sales));
  const buffer = new BlockBuffer((length) => new Float64Array(length));
  return (block) => {
    const keyed = cursor.at(block.start);
    if (keyed.start !== block.start || keyed.rows !== block.rows) throw new RangeError('the design was not made from these sales rows: their blocks differ');
    const out = buffer.take(block.rows);
    for (let row = 0; row < block.rows; row++) out[row] = rowLogMarketSize(keyed.design, theta, row);
    return out;
  };
}

/** A design block beside its sales block (undefined when no sales rows were given) and the index of its first row. */
export interface KeyedBlock {
  readonly start: number;
  readonly rows: number;
  readonly design: LogitPoissonData;
  readonly sales: SalesBlock | undefined;
}

/** Rows start .. start + rows - 1 of an in-memory design (views, no copies). */
export function sliceDesign(design: LogitPoissonData, start: number, rows: number): LogitPoissonData {
  if (start === 0 && rows === design.rows) return design;
  const cut = <T extends Float64Array | Uint8Array | Int8Array>(values: T): T => values.subarray(start, start + rows) as T;
  return {
    rows,
    units: cut(design.units),
    logMarketSize: cut(design.logMarketSize),
    price: cut(design.price),
    promotions: design.promotions.map(cut),
    promotionNames: design.promotionNames,
    rivalPrices: design.rivalPrices.map(cut),
    rivalNames: design.rivalNames,
    ...(design.include ? { include: cut(design.include) } : {}),
    ...(design.arrivalEffects ? { arrivalEffects: { names: design.arrivalEffects.names, level: cut(design.arrivalEffects.level) } } : {}),
    ...(design.arrivalCovariates ? { arrivalCovariates: { names: design.arrivalCovariates.names, columns: design.arrivalCovariates.columns.map(cut) } } : {}),
    ...(design.censored ? { censored: cut(design.censored) } : {}),
  };
}

/** True when the design and its sales rows are one block in memory (no pass needs to read a scratch file). */
export function inOneBlock(design: DemandData, sales: SalesRows | undefined): boolean {
  return !('blocks' in design) && sales?.scratch === undefined;
}

/**
 * The design's blocks in row order, each beside the sales block it was made from. A blocked
 * design must come from these sales rows (calibration/design-blocks.ts: the same blocks);
 * an in-memory design is cut at the sales blocks' bounds; without sales rows, the design's
 * own blocks.
 */
export function* keyedBlocks(design: DemandData, sales: SalesRows | undefined): Generator<KeyedBlock> {
  if (!sales) {
    let start = 0;
    for (const block of designBlocks(design)) {
      yield { start, rows: block.rows, design: block, sales: undefined };
      start += block.rows;
    }
    return;
  }
  if (!('blocks' in design)) {
    for (const block of salesBlocks(sales)) yield { start: block.start, rows: block.rows, design: sliceDesign(design, block.start, block.rows), sales: block };
    return;
  }
  const salesIterator = salesBlocks(sales);
  try {
    for (const block of design.blocks()) {
      const next = salesIterator.next();
      if (next.done || next.value.rows !== block.rows) throw new RangeError('the design was not made from these sales rows: their blocks differ');
      yield { start: next.value.start, rows: block.rows, design: block, sales: next.value };
    }
  } finally {
    salesIterator.return(undefined);
  }
}

/**
 * A design made block by block from `base` by `map` (more utility regressors, other units,
 * a row mask): blocked when the base is, one in-memory design when everything is one block.
 * `promotionNames` are the derived design's (the base's plus any added).
 */
export function mappedDesign(base: DemandData, sales: SalesRows | undefined, promotionNames: readonly string[], map: (block: KeyedBlock) => LogitPoissonData): DemandData {
  if (inOneBlock(base, sales)) {
    for (const block of keyedBlocks(base, sales)) return map(block);
  }
  const shape = shapeOf(base);
  const blocked: BlockedLogitPoissonData = {
    rows: base.rows,
    promotionNames,
    rivalNames: shape.rivalNames,
    arrivalNames: shape.arrivalNames,
    covariateNames: shape.covariateNames,
    *blocks() {
      for (const block of keyedBlocks(base, sales)) yield map(block);
    },
  };
  return blocked;
}

/** A growable buffer of one block's values, reused from block to block. */
export class BlockBuffer<T extends Float64Array | Uint8Array> {
  private values: T;
  constructor(private readonly make: (length: number) => T) {
    this.values = make(0);
  }
  /** The first `rows` entries, zeroed when `clear`. */
  take(rows: number, clear = false): T {
    if (this.values.length < rows) this.values = this.make(Math.max(rows, 2 * this.values.length));
    const view = this.values.subarray(0, rows) as T;
    if (clear) view.fill(0);
    return view;
  }
}

/**
 * Rows asked one at a time, in increasing order, served from blocks: `at(row)` gives the block
 * that holds the row (asking for an earlier row than the current block's starts a new pass).
 */
export class BlockCursor<Block extends { readonly start: number; readonly rows: number }> {
  private iterator: Iterator<Block> | undefined;
  private current: Block | undefined;
  constructor(private readonly source: () => Iterable<Block>) {}

  at(row: number): Block {
    if (!this.iterator || !this.current || row < this.current.start) {
      this.iterator?.return?.(undefined);
      this.iterator = this.source()[Symbol.iterator]();
      this.current = undefined;
    }
    while (!this.current || row >= this.current.start + this.current.rows) {
      const next = this.iterator.next();
      if (next.done) throw new RangeError(`row ${row} is past the last block`);
      this.current = next.value;
    }
    return this.current;
  }
}

/**
 * The cluster-robust meat, summed block by block: per cluster (first seen first) the sum of
 * its rows' contributions, then the sum of their outer products, as least-squares.ts's
 * clusterMeat does over whole columns (same order, same bits). `contribution` writes the
 * vector of row `row` of the block and returns false to leave it out.
 */
export class ClusterSums {
  private readonly ids = new Map<number, number>();
  private readonly sums: Float64Array[] = [];
  private readonly vector: Float64Array;
  constructor(readonly size: number) {
    this.vector = new Float64Array(size);
  }
  add(key: number, contribution: (into: Float64Array) => boolean): void {
    this.vector.fill(0);
    if (!contribution(this.vector)) return;
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.sums.length;
      this.ids.set(key, id);
      this.sums.push(new Float64Array(this.size));
    }
    const sum = this.sums[id] as Float64Array;
    for (let index = 0; index < this.size; index++) sum[index] = (sum[index] ?? 0) + (this.vector[index] ?? 0);
  }
  get clusters(): number {
    return this.sums.length;
  }
  /** sum over clusters of s s' (rows of a 2-D array). */
  outer(): number[][] {
    const meat = Array.from({ length: this.size }, () => new Array<number>(this.size).fill(0));
    for (const sum of this.sums) {
      for (let row = 0; row < this.size; row++) {
        const line = meat[row] as number[];
        for (let column = 0; column < this.size; column++) line[column] = (line[column] ?? 0) + (sum[row] ?? 0) * (sum[column] ?? 0);
      }
    }
    return meat;
  }
}
