/**
 * Card: the price instruments, columns that move our price but not demand: the unit cost or
 * wholesale price when mapped; without one, with several stores, the Hausman instrument (the
 * mean price of the same product in the other stores in the same period; Hausman 1996, Nevo
 * 2001), defined where another store has a row in that period. Never both (see
 * priceInstruments).
 *
 * Made block by block (calibration/block-passes.ts): the cost is the block's own column; the
 * Hausman instrument needs the price sum and row count of each period (one pass, kept per
 * period), then each row's value comes from its block. The whole column (`values`) is built
 * only when a caller indexes it (per-row memory: calibration/inverted-shares.ts still does).
 */
import type { SalesData } from './reader.js';
import { salesBlocks, type SalesBlock } from './sales-blocks.js';
import { rowValuesIn, type RowValues, type SalesRows } from './block-passes.js';

export interface PriceInstrument {
  readonly name: string;
  /** The instrument per row, whole (built on first read when the instrument is made per block). */
  readonly values: Float64Array;
  /** 1 where the instrument is defined for the row; every row when absent. */
  readonly defined?: Uint8Array;
  /**
   * The instrument over one block of the sales rows, into `values` (length block.rows) and
   * `defined` (1 where defined): what the blocked passes read instead of the whole column.
   */
  readonly inBlock?: (block: SalesBlock, values: Float64Array, defined: Uint8Array) => void;
}

/** Name of the Hausman instrument. */
export const otherStoresInstrumentName = 'mean price of the other stores in the period (Hausman)';

/**
 * The price instruments the history offers: the cost column when mapped; otherwise, with
 * two or more stores, each row's mean price of the other stores in the same period
 * (`period`: the period index per row, whole or per block), defined where another store has
 * a row in that period. Not both: the other stores' price fails under common demand shocks,
 * and beside the cost it would bias the estimate the cost alone gets right; telling the two
 * apart needs an overidentification test, not done. Reads the rows block by block.
 */
export function priceInstruments(sales: SalesData, period: RowValues): PriceInstrument[] {
  if (sales.map.cost !== undefined) {
    return [
      madePerBlock(`cost (${sales.map.cost})`, sales, false, (block, values, defined) => {
        const cost = block.cost;
        for (let row = 0; row < block.rows; row++) {
          values[row] = cost?.[row] ?? 0;
          defined[row] = 1;
        }
      }),
    ];
  }
  if (sales.storeNames.length >= 2) {
    const sum = new Map<number, number>();
    const count = new Map<number, number>();
    for (const block of salesBlocks(sales)) {
      const periods = rowValuesIn(period, block.start, block.rows, block);
      for (let row = 0; row < block.rows; row++) {
        const key = periods[row] ?? 0;
        sum.set(key, (sum.get(key) ?? 0) + (block.price[row] ?? 0));
        count.set(key, (count.get(key) ?? 0) + 1);
      }
    }
    return [
      madePerBlock(otherStoresInstrumentName, sales, true, (block, values, defined) => {
        const periods = rowValuesIn(period, block.start, block.rows, block);
        for (let row = 0; row < block.rows; row++) {
          const key = periods[row] ?? 0;
          const others = (count.get(key) ?? 0) - 1;
          values[row] = others < 1 ? 0 : ((sum.get(key) ?? 0) - (block.price[row] ?? 0)) / others;
          defined[row] = others < 1 ? 0 : 1;
        }
      }),
    ];
  }
  return [];
}

/** An instrument made per block, its whole column built on first read of `values` or `defined`. */
function madePerBlock(name: string, sales: SalesRows & { readonly rows: number }, hasDefined: boolean, inBlock: NonNullable<PriceInstrument['inBlock']>): PriceInstrument {
  let whole: { values: Float64Array; defined: Uint8Array } | undefined;
  const materialize = () => {
    if (whole) return whole;
    const values = new Float64Array(sales.rows);
    const defined = new Uint8Array(sales.rows);
    for (const block of salesBlocks(sales)) inBlock(block, values.subarray(block.start, block.start + block.rows), defined.subarray(block.start, block.start + block.rows));
    whole = { values, defined };
    return whole;
  };
  const instrument = {
    name,
    inBlock,
    get values() {
      return materialize().values;
    },
  };
  if (hasDefined) Object.defineProperty(instrument, 'defined', { get: () => materialize().defined, enumerable: true });
  return instrument;
}

/** Each row's mean of the price over the other rows of its period (the other stores); defined where there is one. */
export function otherStoresMeanPrice(price: Float64Array, period: ArrayLike<number>): { values: Float64Array; defined: Uint8Array } {
  const sum = new Map<number, number>();
  const count = new Map<number, number>();
  for (let row = 0; row < price.length; row++) {
    const key = period[row] ?? 0;
    sum.set(key, (sum.get(key) ?? 0) + (price[row] ?? 0));
    count.set(key, (count.get(key) ?? 0) + 1);
  }
  const values = new Float64Array(price.length);
  const defined = new Uint8Array(price.length);
  for (let row = 0; row < price.length; row++) {
    const key = period[row] ?? 0;
    const others = (count.get(key) ?? 0) - 1;
    if (others < 1) continue;
    values[row] = ((sum.get(key) ?? 0) - (price[row] ?? 0)) / others;
    defined[row] = 1;
  }
  return { values, defined };
}
