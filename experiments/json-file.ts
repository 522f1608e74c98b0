/**
 * Reading a JSON file a user named (a config, an experiment, evidence, a gates file): a
 * missing file is a not-found error (exit 3), a syntax error a config error (exit 2)
 * naming the file, so every command refuses bad files the same way.
 */
import { existsSync, readFileSync } from 'node:fs';
import { PricelabError, configError } from '../env/errors.js';

export function readJsonFile(path: string, what: string): unknown {
  if (!existsSync(path)) throw new PricelabError('not-found', `no ${what} at ${path}`);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch (error) {
    throw configError(`${path} is not valid JSON`, [{ path: [], message: `expected a ${what} in JSON, found a syntax error: ${(error as Error).message}` }]);
  }
}
