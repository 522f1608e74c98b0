/**
 * Card: the store attribute table of the partial pooling (`--stores <file>`): one row of
 * numbers per store, keyed by the sales file's store column, read from CSV (plain or
 * gzipped) with its SHA-256 for the record; and the key a store id is matched by, so "2" in
 * the attribute table is store "2.0" of the sales file.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { PricelabError, configError, type Problem } from '../core/errors.js';

/** A store attribute table: one row of numbers per store key. */
export interface StoreAttributes {
  readonly file: string;
  readonly sha256: string;
  readonly columns: readonly string[];
  /** store key (as written in the sales file's store column) -> the attribute values in `columns` order. */
  readonly values: ReadonlyMap<string, readonly number[]>;
}

/** The key a store id is matched by: numbers by value ("2" and "2.0" are the same store), text as written. */
export function storeKey(text: string): string {
  const trimmed = text.trim();
  const number = Number(trimmed);
  return trimmed !== '' && Number.isFinite(number) ? String(number) : trimmed;
}

/**
 * Reads a store attribute table (CSV, plain or gzipped): one row per store, keyed by the
 * column named like the sales file's store column (case-insensitively), every other column
 * (or those in `columns`) a number. Bad values are config errors naming the row and column.
 */
export function readStoreAttributes(path: string, storeColumn: string, columns?: readonly string[]): StoreAttributes {
  let bytes: Buffer;
  try {
    if (!statSync(path).isFile()) throw configError(`cannot read ${path}`, [{ path: ['stores'], message: 'expected a regular file, found something else' }]);
    bytes = readFileSync(path);
  } catch (error) {
    if (error instanceof PricelabError) throw error;
    throw new PricelabError('not-found', `no store attribute file at ${path}`);
  }
  // A table of stores is small (one row per store): read whole, gunzipped when the magic bytes say so.
  let records: Record<string, string>[];
  try {
    const text = bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;
    records = parse(text, { columns: true, skip_empty_lines: true, trim: true }) as Record<string, string>[];
  } catch (error) {
    throw configError(`${path} could not be read as CSV`, [{ path: ['stores'], message: `expected CSV (plain or gzipped) with a header row, found an error: ${(error as Error).message}` }]);
  }
  const header = Object.keys(records[0] ?? {});
  const key = header.find((name) => name.toLowerCase() === storeColumn.toLowerCase());
  const problems: Problem[] = [];
  if (!key) problems.push({ path: ['stores', storeColumn], message: `expected a store column named ${storeColumn} (any case) in ${path}, found columns ${header.join(', ') || 'none'}` });
  const chosen = columns ?? header.filter((name) => name !== key);
  for (const name of chosen) if (!header.includes(name)) problems.push({ path: ['store-attributes', name], message: `expected an attribute column ${name} in ${path}, found columns ${header.join(', ')}` });
  if (chosen.length === 0) problems.push({ path: ['stores'], message: `expected at least one attribute column besides the store in ${path}, found none` });
  if (problems.length > 0) throw configError(`${path} is not a store attribute table`, problems);
  const values = new Map<string, number[]>();
  records.forEach((record, index) => {
    const store = storeKey(record[key!] ?? '');
    if (values.has(store) && problems.length < 20) problems.push({ path: [`row[${index + 1}]`, key!], message: `expected one row per store, found store ${store} again` });
    values.set(
      store,
      chosen.map((name) => {
        const value = Number(record[name]);
        if ((record[name] === undefined || record[name] === '' || !Number.isFinite(value)) && problems.length < 20) {
          problems.push({ path: [`row[${index + 1}]`, name], message: `expected a number, found ${JSON.stringify(record[name] ?? '')}` });
        }
        return value;
      }),
    );
  });
  if (problems.length > 0) throw configError(`${path} has bad store attributes`, problems);
  return { file: path, sha256: createHash('sha256').update(bytes).digest('hex'), columns: chosen, values };
}
