/**
 * Card: the price instruments, columns that move our price but not demand: the unit cost or
 * wholesale price when mapped; without one, with several stores, the Hausman instrument (the
 * mean price of the same product in the other stores in the same period; Hausman 1996, Nevo
 * 2001), defined where another store has a row in that period. Never both (see
 * priceInstruments).
 */
import type { SalesData } from './reader.js';

export interface PriceInstrument {
  readonly name: string;
  readonly values: Float64Array;
  /** 1 where the instrument is defined for the row; every row when absent. */
  readonly defined?: Uint8Array;
}

/** Name of the Hausman instrument. */
export const otherStoresInstrumentName = 'mean price of the other stores in the period (Hausman)';

/**
 * The price instruments the history offers: the cost column when mapped; otherwise, with
 * two or more stores, each row's mean price of the other stores in the same period
 * (`period`: the period index per row), defined where another store has a row in that
 * period. Not both: the other stores' price fails under common demand shocks, and beside
 * the cost it would bias the estimate the cost alone gets right; telling the two apart
 * needs an overidentification test, not done.
 */
export function priceInstruments(sales: SalesData, period: ArrayLike<number>): PriceInstrument[] {
  if (sales.cost) return [{ name: `cost (${sales.map.cost ?? 'cost'})`, values: sales.cost }];
  if (sales.storeNames.length >= 2) return [{ name: otherStoresInstrumentName, ...otherStoresMeanPrice(sales.price, period) }];
  return [];
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
