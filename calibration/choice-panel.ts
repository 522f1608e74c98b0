/**
 * Card: the customer-level choice panel that customer segments are fitted from, and its reader.
 *
 * Input (the panel, docs/calibration.md "Segments"): one row per customer and period, CSV or
 * JSON Lines (optionally gzipped: .gz):
 *   CSV:        customer,period,choice,price_<option>,...   (choice: an option name or "none")
 *   JSON Lines: {"customer": "c1", "period": 3, "choice": "ours", "prices": {"ours": 9.99, "rival": 10.49}}
 * Every row offers the same options (one price each); "none" is the outside option (not buying).
 * Every row is checked (customer id, period, choice among the options, prices >= 0); bad rows
 * are reported together as a configuration error naming the column.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { configError, type Problem } from '../core/errors.js';

export interface ChoicePanel {
  /** Option names (prices per option); the outside option is not among them. */
  readonly options: readonly string[];
  /** Per customer: its rows' chosen option (index into options, -1 for none) and prices (rows x options). */
  readonly customers: readonly { readonly id: string; readonly choices: Int32Array; readonly prices: Float64Array }[];
  readonly rows: number;
}

function panelProblem(path: string, message: string): never {
  throw configError(`${path} is not a choice panel`, [{ path: [path], message }]);
}

/** Reads a choice panel (CSV or JSON Lines, optionally gzipped), checking every row. */
export function readChoicePanel(path: string): ChoicePanel {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw configError(`cannot read the choice panel ${path}`, [{ path: ['panel'], message: `expected a readable file, found ${(error as NodeJS.ErrnoException).code ?? 'an error'}` }]);
  }
  const text = (path.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
  const jsonLines = /\.(jsonl|ndjson)(\.gz)?$/.test(path);
  const records: { customer: string; period: number; choice: string; prices: Record<string, unknown> }[] = [];
  if (jsonLines) {
    text.split('\n').forEach((line, index) => {
      if (line.trim() === '') return;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        panelProblem(path, `line ${index + 1}: expected a JSON object, found text that is not JSON`);
      }
      const object = value as { customer?: unknown; period?: unknown; choice?: unknown; prices?: unknown };
      if (typeof object !== 'object' || object === null || typeof object.prices !== 'object' || object.prices === null) panelProblem(path, `line ${index + 1}: expected {"customer", "period", "choice", "prices": {...}}`);
      records.push({ customer: String(object.customer), period: Number(object.period), choice: String(object.choice), prices: object.prices as Record<string, unknown> });
    });
  } else {
    const rows = parse(text, { columns: true, skip_empty_lines: true, trim: true }) as Record<string, string>[];
    for (const row of rows) {
      const prices: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(row)) if (key.startsWith('price_')) prices[key.slice('price_'.length)] = value;
      records.push({ customer: String(row.customer), period: Number(row.period), choice: String(row.choice), prices });
    }
  }
  if (records.length === 0) panelProblem(path, 'expected at least one row, found none');
  const options = Object.keys(records[0]!.prices);
  if (options.length === 0) panelProblem(path, 'expected at least one option price (CSV columns price_<option>, or JSON "prices"), found none');
  const problems: Problem[] = [];
  const byCustomer = new Map<string, { choices: number[]; prices: number[] }>();
  records.forEach((record, index) => {
    const row = index + 1;
    if (problems.length >= 20) return;
    if (record.customer === 'undefined' || record.customer === '') problems.push({ path: ['customer'], message: `row ${row}: expected a customer id, found none` });
    if (!Number.isFinite(record.period)) problems.push({ path: ['period'], message: `row ${row}: expected a number, found ${String(record.period)}` });
    const choice = record.choice === 'none' ? -1 : options.indexOf(record.choice);
    if (choice === -1 && record.choice !== 'none') problems.push({ path: ['choice'], message: `row ${row}: expected one of ${[...options, 'none'].join(', ')}, found "${record.choice}"` });
    const prices = options.map((option) => Number(record.prices[option]));
    prices.forEach((price, column) => {
      if (!(Number.isFinite(price) && price >= 0)) problems.push({ path: [`price_${options[column]}`], message: `row ${row}: expected a price >= 0, found ${String(record.prices[options[column]!])}` });
    });
    const entry = byCustomer.get(record.customer) ?? { choices: [], prices: [] };
    entry.choices.push(choice);
    entry.prices.push(...prices);
    byCustomer.set(record.customer, entry);
  });
  if (problems.length > 0) throw configError(`${path} has bad rows`, problems);
  const customers = [...byCustomer.entries()].map(([id, entry]) => ({ id, choices: Int32Array.from(entry.choices), prices: Float64Array.from(entry.prices) }));
  return { options, customers, rows: records.length };
}
