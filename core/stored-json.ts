/**
 * JSON columns of pricelab.db, read one way: parsed, checked against a shape when the
 * reader knows it, and refused as an integrity error naming the file, table, row and
 * column when damaged (never a SyntaxError).
 */
import type { z } from 'zod';
import { PricelabError } from './errors.js';

/** Where a JSON value sits in the store: table, the row's key (as column=value pairs) and column. */
export interface StoredCell {
  readonly table: string;
  readonly row: string;
  readonly column: string;
}

/**
 * The one way the store reads a JSON column: the parsed value, checked against a shape when
 * the store knows it; text that is not JSON (or not of the shape) is an integrity error
 * (exit 4) naming the file, the table, the row and the column, never a SyntaxError.
 */
export function parseStoredJson(text: string, file: string, cell: StoredCell): unknown;
export function parseStoredJson<T>(text: string, file: string, cell: StoredCell, schema: z.ZodType<T>): T;
export function parseStoredJson(text: string, file: string, cell: StoredCell, schema?: z.ZodType): unknown {
  const damaged = (found: string) =>
    new PricelabError('integrity', `the results store ${file} is damaged: table ${cell.table}, row ${cell.row}, column ${cell.column}`, [
      { path: [cell.table, cell.row, cell.column], message: `${found}; restore the file from a backup, or correct the row` },
    ]);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw damaged(`expected JSON, found ${text.length} characters that are not (${(error as Error).message})`);
  }
  if (schema === undefined) return value;
  const checked = schema.safeParse(value);
  if (checked.success) return checked.data;
  const issue = checked.error.issues[0]!;
  throw damaged(`expected JSON of the column's shape, found at ${issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)'}: ${issue.message}`);
}

