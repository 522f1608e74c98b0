/**
 * Reading a JSON file a user named (a config, an experiment, evidence, a gates file): a
 * missing file is a not-found error (exit 3), a syntax error a config error (exit 2)
 * naming the file, so every command refuses bad files the same way.
 */
import { existsSync, readFileSync } from 'node:fs';
import { PricelabError, configError } from './errors.js';

export function readJsonFile(path: string, what: string): unknown {
  if (!existsSync(path)) throw new PricelabError('not-found', `no ${what} at ${path}`);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch (error) {
    throw configError(`${path} is not valid JSON`, [{ path: [], message: `expected a ${what} in JSON, found a syntax error: ${(error as Error).message}` }]);
  }
}

/**
 * JSON with object keys sorted and undefined members left out, so equal values give equal
 * text whatever their key order: run keys (experiment-file.ts runKey) and the promotion
 * gates' guardrail comparison hash or compare it. Changing it changes every stored run key.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, entry]) => entry !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, entry]) => `${JSON.stringify(key)}:${canonicalJson(entry)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
