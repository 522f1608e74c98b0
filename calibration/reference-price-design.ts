/**
 * Card: the reference price each row's customers held, and the demand design with gain and
 * loss as two more utility regressors (for calibration/reference-prices.ts's profile likelihood).
 *
 * Model (the simulator's, docs/market-model.md step 6, env/market.ts): each store's customers
 * keep a reference price r, updated after each period from the price p they saw,
 *   r_{t+1} = z r_t + (1 - z) p_t,     r_0 = the store's first observed price;
 * a period missing from a store's history is taken to have kept the last price:
 * r <- z^gap r + (1 - z^gap) p_last. At a fixed memory z, gain = max(r - p, 0) and
 * loss = max(p - r, 0) are appended to the design's utility regressors (after any promotions).
 *
 * Passes: the rows are read block by block (calibration/block-passes.ts): the reference price
 * is carried per store from row to row, so when each store's rows come in period order (a
 * file sorted by period, or by store then period) every design is made block by block with
 * the store's state alone; otherwise the period, store and price of every row are kept
 * (per-row memory) to sort them.
 *
 * Nothing here draws random numbers.
 */
import type { DemandData, LogitPoissonData } from './logit-poisson.js';
import { shapeOf } from './demand-design.js';
import { BlockBuffer, keyedBlocks, mappedDesign, rowValuesIn, type KeyedBlock, type RowValues, type SalesRows } from './block-passes.js';

/** Row order by store, then period: the order in which each store's customers saw the prices. */
function storeOrder(period: Float64Array, store: Int32Array): Int32Array {
  const order = Int32Array.from({ length: period.length }, (_, index) => index);
  order.sort((left, right) => (store[left] ?? 0) - (store[right] ?? 0) || (period[left] ?? 0) - (period[right] ?? 0));
  return order;
}

/**
 * The reference price each row's customers held before seeing its price: per store, from the
 * store's first price, r <- z^gap r + (1 - z^gap) p_last after each period (gap = periods since
 * the last row; 1 when none is missing).
 */
export function referencePriceSeries(price: Float64Array, period: Float64Array, store: Int32Array, memory: number, order = storeOrder(period, store)): Float64Array {
  const reference = new Float64Array(price.length);
  let currentStore = Number.NaN;
  let current = 0;
  let lastPeriod = 0;
  let lastPrice = 0;
  for (const row of order) {
    const rowStore = store[row] ?? 0;
    const rowPeriod = period[row] ?? 0;
    if (rowStore !== currentStore) {
      currentStore = rowStore;
      current = price[row] ?? 0;
    } else {
      const decay = memory ** Math.max(1, rowPeriod - lastPeriod);
      current = decay * current + (1 - decay) * lastPrice;
    }
    reference[row] = current;
    lastPeriod = rowPeriod;
    lastPrice = price[row] ?? 0;
  }
  return reference;
}

/** Rises and cuts between consecutive rows of the same store. */
function priceChanges(price: Float64Array, store: Int32Array, order: Int32Array): { rises: number; cuts: number } {
  let rises = 0;
  let cuts = 0;
  for (let position = 1; position < order.length; position++) {
    const row = order[position] ?? 0;
    const previous = order[position - 1] ?? 0;
    if (store[row] !== store[previous]) continue;
    const change = (price[row] ?? 0) - (price[previous] ?? 0);
    if (change > 1e-9) rises++;
    else if (change < -1e-9) cuts++;
  }
  return { rises, cuts };
}

/** The design with gain and loss appended to the utility regressors (after any promotions). */
export function withReferenceColumns(base: LogitPoissonData, reference: Float64Array): LogitPoissonData {
  const gain = new Float64Array(base.rows);
  const loss = new Float64Array(base.rows);
  for (let row = 0; row < base.rows; row++) {
    const difference = (reference[row] ?? 0) - (base.price[row] ?? 0);
    if (difference > 0) gain[row] = difference;
    else loss[row] = -difference;
  }
  return { ...base, promotions: [...base.promotions, gain, loss], promotionNames: [...base.promotionNames, 'referenceGain', 'referenceLoss'] };
}

/**
 * Each store's reference price, last period and last price as its rows go by (in period
 * order): in arrays indexed by the store when it is a small whole number (the reader's store
 * index), else by a slot given to it on first sight.
 */
class StoreStates {
  private readonly slots = new Map<number, number>();
  private values = new Float64Array(0);
  private seenSlots = new Uint8Array(0);
  slot(store: number): number {
    if (Number.isInteger(store) && store >= 0 && store < 1 << 16) return store;
    let slot = this.slots.get(store);
    if (slot === undefined) {
      slot = (1 << 16) + this.slots.size;
      this.slots.set(store, slot);
    }
    return slot;
  }
  seen(slot: number): boolean {
    return this.seenSlots[slot] === 1;
  }
  reference(slot: number): number {
    return this.values[3 * slot] ?? 0;
  }
  lastPeriod(slot: number): number {
    return this.values[3 * slot + 1] ?? 0;
  }
  lastPrice(slot: number): number {
    return this.values[3 * slot + 2] ?? 0;
  }
  set(slot: number, reference: number, period: number, price: number): void {
    if (slot >= this.seenSlots.length) {
      const size = Math.max(slot + 1, 2 * this.seenSlots.length, 16);
      const values = new Float64Array(3 * size);
      values.set(this.values);
      const seen = new Uint8Array(size);
      seen.set(this.seenSlots);
      this.values = values;
      this.seenSlots = seen;
    }
    this.seenSlots[slot] = 1;
    this.values[3 * slot] = reference;
    this.values[3 * slot + 1] = period;
    this.values[3 * slot + 2] = price;
  }
  clear(): void {
    this.seenSlots.fill(0);
  }
}

/**
 * How the rows reach the reference prices: in streaming order (each store's rows come in
 * period order: a state per store suffices), or sorted (whole columns kept to sort them);
 * with the price rises and cuts between consecutive rows of a store.
 */
export type ReferenceRows =
  | { readonly kind: 'streamed'; readonly rises: number; readonly cuts: number }
  | { readonly kind: 'sorted'; readonly rises: number; readonly cuts: number; readonly price: Float64Array; readonly period: Float64Array; readonly store: Int32Array; readonly order: Int32Array };

/** One pass: are each store's rows in period order, and how many rises and cuts; else the whole columns, sorted. */
export function referenceRows(base: DemandData, period: RowValues, store: RowValues, sales: SalesRows | undefined): ReferenceRows {
  const last = new Map<number, { period: number; price: number }>();
  let rises = 0;
  let cuts = 0;
  let ordered = true;
  for (const keyed of keyedBlocks(base, sales)) {
    const periods = rowValuesIn(period, keyed.start, keyed.rows, keyed.sales);
    const stores = rowValuesIn(store, keyed.start, keyed.rows, keyed.sales);
    const price = keyed.design.price;
    for (let row = 0; row < keyed.rows && ordered; row++) {
      const key = stores[row] ?? 0;
      const rowPeriod = periods[row] ?? 0;
      const rowPrice = price[row] ?? 0;
      const previous = last.get(key);
      if (previous) {
        if (rowPeriod < previous.period) ordered = false;
        const change = rowPrice - previous.price;
        if (change > 1e-9) rises++;
        else if (change < -1e-9) cuts++;
        previous.period = rowPeriod;
        previous.price = rowPrice;
      } else last.set(key, { period: rowPeriod, price: rowPrice });
    }
    if (!ordered) break;
  }
  if (ordered) return { kind: 'streamed', rises, cuts };
  // A store's rows out of period order: keep every row's period, store and price, and sort.
  const rows = base.rows;
  const wholePrice = new Float64Array(rows);
  const wholePeriod = new Float64Array(rows);
  const wholeStore = new Int32Array(rows);
  for (const keyed of keyedBlocks(base, sales)) {
    const periods = rowValuesIn(period, keyed.start, keyed.rows, keyed.sales);
    const stores = rowValuesIn(store, keyed.start, keyed.rows, keyed.sales);
    for (let row = 0; row < keyed.rows; row++) {
      wholePrice[keyed.start + row] = keyed.design.price[row] ?? 0;
      wholePeriod[keyed.start + row] = periods[row] ?? 0;
      wholeStore[keyed.start + row] = stores[row] ?? 0;
    }
  }
  const order = storeOrder(wholePeriod, wholeStore);
  const changes = priceChanges(wholePrice, wholeStore, order);
  return { kind: 'sorted', rises: changes.rises, cuts: changes.cuts, price: wholePrice, period: wholePeriod, store: wholeStore, order };
}

/**
 * The design with gain and loss appended to the utility regressors at memory `memory`, made
 * block by block: each row's reference from its store's state (reset at the first block of
 * each pass), or from the sorted series.
 */
export function referenceDesign(base: DemandData, period: RowValues, store: RowValues, sales: SalesRows | undefined, rows: ReferenceRows, memory: number): DemandData {
  const names = [...shapeOf(base).promotionNames, 'referenceGain', 'referenceLoss'];
  const whole = rows.kind === 'sorted' ? referencePriceSeries(rows.price, rows.period, rows.store, memory, rows.order) : undefined;
  const gainBuffer = new BlockBuffer((length) => new Float64Array(length));
  const lossBuffer = new BlockBuffer((length) => new Float64Array(length));
  const states = new StoreStates();
  return mappedDesign(base, sales, names, (keyed: KeyedBlock) => {
    const { design, rows: count } = keyed;
    const gain = gainBuffer.take(count, true);
    const loss = lossBuffer.take(count, true);
    if (whole) {
      for (let row = 0; row < count; row++) {
        const difference = (whole[keyed.start + row] ?? 0) - (design.price[row] ?? 0);
        if (difference > 0) gain[row] = difference;
        else loss[row] = -difference;
      }
    } else {
      if (keyed.start === 0) states.clear();
      const periods = rowValuesIn(period, keyed.start, count, keyed.sales);
      const stores = rowValuesIn(store, keyed.start, count, keyed.sales);
      for (let row = 0; row < count; row++) {
        const rowPrice = design.price[row] ?? 0;
        const rowPeriod = periods[row] ?? 0;
        const slot = states.slot(stores[row] ?? 0);
        let reference: number;
        if (!states.seen(slot)) reference = rowPrice;
        else {
          const gap = Math.max(1, rowPeriod - states.lastPeriod(slot));
          const decay = gap === 1 ? memory : memory ** gap;
          reference = decay * states.reference(slot) + (1 - decay) * states.lastPrice(slot);
        }
        states.set(slot, reference, rowPeriod, rowPrice);
        const difference = reference - rowPrice;
        if (difference > 0) gain[row] = difference;
        else loss[row] = -difference;
      }
    }
    return { ...design, promotions: [...design.promotions, gain, loss], promotionNames: [...design.promotionNames, 'referenceGain', 'referenceLoss'] };
  });
}
