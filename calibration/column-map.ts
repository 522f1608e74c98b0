/**
 * The column map: which column of a user's sales export holds what, so that an export is
 * calibrated as it is, without reformatting. A JSON file given with `--map`; without one,
 * the default names below are used (and optional columns are picked up when a column of
 * that name exists). Every field has a description: docs/calibration.md lists them.
 */
import { z } from 'zod';
import { configError, type Problem } from '../core/errors.js';

const columnName = z.string().min(1);

export const columnMapSchema = z
  .strictObject({
    period: columnName.optional().describe('a whole-number period index (week 1, 2, ...); give this or `date`'),
    date: columnName.optional().describe('an ISO date (YYYY-MM-DD) per row; give this or `period`'),
    units: columnName.optional().describe('units sold in the period (a count, never negative); give this or `logUnits`'),
    logUnits: columnName.optional().describe('natural log of units sold (as in scanner panels such as Dominick\'s `logmove`)'),
    price: columnName.describe('our price paid per unit in the period'),
    cost: columnName.optional().describe('our unit cost or wholesale price (the scenario\'s unit cost is its mean)'),
    rivalPrices: z.array(columnName).default([]).describe('one column per rival offer: its price in the same period (and store)'),
    promotions: z
      .array(columnName)
      .default([])
      .describe('promotion indicators or intensities (feature, display, deal, coupon), each a number >= 0; each gets a utility lift'),
    store: columnName.optional().describe('store id: rows of one period and several stores are separate markets'),
    product: columnName.optional().describe('product id: one product is calibrated at a time (pick it with `filter`)'),
    traffic: columnName.optional().describe('visits or customers in the period: the market size of the logit shares'),
    festival: columnName.optional().describe('festival label per row: a non-empty label (e.g. "11.11") marks the festival period, an empty cell an ordinary one'),
    weather: columnName.optional().describe('weather per row: a temperature in degrees C (every cell a number) or a state label (e.g. sunny, rain)'),
    stock: columnName.optional().describe('units on hand at the start of the period: a period whose units sold reach it stocked out (demand censored)'),
    stockout: columnName.optional().describe('stockout flag per period, 0 or 1: 1 marks a period whose demand is censored at the units sold'),
    returns: columnName.optional().describe('units returned in the period (from earlier sales): the return rate and lag distribution are fitted from it'),
    filter: z
      .record(z.string(), z.union([z.string(), z.number()]))
      .default({})
      .describe('keep only rows whose column equals this value, e.g. {"brand": 1}'),
  })
  .superRefine((map, context) => {
    if ((map.period === undefined) === (map.date === undefined)) {
      context.addIssue({ code: 'custom', path: ['period'], message: `expected exactly one of "period" and "date", found ${map.period === undefined ? 'neither' : 'both'}` });
    }
    if ((map.units === undefined) === (map.logUnits === undefined)) {
      context.addIssue({ code: 'custom', path: ['units'], message: `expected exactly one of "units" and "logUnits", found ${map.units === undefined ? 'neither' : 'both'}` });
    }
  });

export type ColumnMap = z.output<typeof columnMapSchema>;
export type ColumnMapInput = z.input<typeof columnMapSchema>;

/** The map used without --map: columns named period, units, price (cost, traffic, store, festival, weather when present). */
export const defaultColumnMap: ColumnMapInput = { period: 'period', units: 'units', price: 'price' };

/** Optional columns picked up by name when the default map is used and the header has them. */
export const optionalDefaultColumns = ['cost', 'traffic', 'store', 'festival', 'weather', 'stock', 'stockout', 'returns'] as const;

export function parseColumnMap(value: unknown, source: string): ColumnMap {
  const result = columnMapSchema.safeParse(value);
  if (result.success) return result.data;
  const problems: Problem[] = result.error.issues.map((issue) => ({
    path: issue.path.filter((part): part is string | number => typeof part !== 'symbol'),
    message: issue.message,
  }));
  throw configError(`${source} is not a valid column map`, problems);
}

/** Every column the map reads, with the role it plays (for error messages). */
export function mappedColumns(map: ColumnMap): { role: string; column: string }[] {
  const columns: { role: string; column: string }[] = [];
  const add = (role: string, column: string | undefined) => {
    if (column !== undefined) columns.push({ role, column });
  };
  add('period', map.period);
  add('date', map.date);
  add('units', map.units);
  add('logUnits', map.logUnits);
  add('price', map.price);
  add('cost', map.cost);
  map.rivalPrices.forEach((column, index) => add(`rivalPrices[${index}]`, column));
  map.promotions.forEach((column, index) => add(`promotions[${index}]`, column));
  add('store', map.store);
  add('product', map.product);
  add('traffic', map.traffic);
  add('festival', map.festival);
  add('weather', map.weather);
  add('stock', map.stock);
  add('stockout', map.stockout);
  add('returns', map.returns);
  for (const column of Object.keys(map.filter)) add('filter', column);
  return columns;
}
