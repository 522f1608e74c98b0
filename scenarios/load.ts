/**
 * Loading scenarios: read a file (or a built-in id), parse JSON, validate with the schema
 * and check every curve expression, then return the scenario or a PricelabError that lists
 * every problem by path (what was expected, what was found). Loading never writes anything.
 *
 * Reading is careful for every caller (CLI, dashboard, workers): only a regular file of at
 * most `maxScenarioFileBytes` is read. The path is resolved and stat-ed before anything is
 * opened, so a FIFO, a device (/dev/stdin, /dev/zero), a socket or a folder is refused
 * without being opened; the file is then opened without blocking and without following a
 * last symlink, checked again on its descriptor, and read up to the cap. Errors never quote
 * the file's text: a JSON syntax error gives its line and column only.
 */
import { closeSync, constants, existsSync, fstatSync, openSync, readSync, readdirSync, realpathSync, statSync, type Stats } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseJsonc, printParseErrorCode, type ParseError } from 'jsonc-parser';
import type { z } from 'zod';
import { PricelabError, configError, type Problem } from '../core/errors.js';
import { checkCurve } from './curves.js';
import { didYouMean } from '../core/suggest.js';
import { scenarioSchema, type Scenario } from './schema.js';

/** The folder holding the built-in scenario files (works from the sources and from dist/). */
export const builtInScenarioFolder = findScenarioFolder();

function findScenarioFolder(): string {
  let folder = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 4; depth++) {
    const candidate = join(folder, 'scenarios');
    if (existsSync(join(candidate, 'schema.ts')) || existsSync(join(candidate, 'calvano-duopoly-v1.json'))) return candidate;
    if (existsSync(join(folder, 'calvano-duopoly-v1.json'))) return folder;
    folder = dirname(folder);
  }
  return join(process.cwd(), 'scenarios');
}

export interface LoadedScenario {
  readonly scenario: Scenario;
  /** sha256 of the file's bytes: what a run manifest records. */
  readonly contentHash: string;
  /** The file's bytes as read (what contentHash hashes): embed these rather than reading the file again. */
  readonly bytes: Uint8Array;
  readonly source: string;
}

export function builtInScenarioIds(): string[] {
  return readdirSync(builtInScenarioFolder)
    .filter((file) => file.endsWith('.json'))
    .map((file) => file.slice(0, -'.json'.length))
    .sort();
}

/** The largest scenario file read (1 MiB; the built-in ones are under 6 KiB). */
export const maxScenarioFileBytes = 1024 * 1024;

/** True when `id` names a built-in scenario (a plain name, no folder, no extension). */
export function isBuiltInScenarioId(id: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(id) && !id.endsWith('.json') && existsSync(join(builtInScenarioFolder, `${id}.json`));
}

/** Loads a built-in scenario by id, or a scenario file by path (a regular file of at most maxScenarioFileBytes). */
export function loadScenario(idOrPath: string): LoadedScenario {
  const path = isBuiltInScenarioId(idOrPath) ? join(builtInScenarioFolder, `${idOrPath}.json`) : resolve(idOrPath);
  const bytes = readRegularFile(path, maxScenarioFileBytes, () => `no scenario "${idOrPath}"${didYouMean(idOrPath, builtInScenarioIds())}: expected a built-in id (${builtInScenarioIds().join(', ')}) or a path to a JSON file`);
  const text = bytes.toString('utf8');
  return { scenario: parseScenario(text, path), contentHash: createHash('sha256').update(bytes).digest('hex'), bytes: new Uint8Array(bytes), source: path };
}

/**
 * Reads a regular file of at most `maxBytes` bytes, refusing anything else before opening
 * it: a missing path is 'not-found' (`missing` gives the message), a FIFO, device, socket or
 * folder, an unreadable file or one over the cap is 'config'. Messages name the path, never
 * the contents.
 */
export function readRegularFile(path: string, maxBytes: number, missing: () => string = () => `no file ${path}`): Buffer {
  const unreadable = (error: unknown) => configError(`cannot read ${path}`, [{ path: [], message: `expected a readable regular file, found ${(error as NodeJS.ErrnoException).code ?? 'an error'}` }]);
  let stats: Stats;
  try {
    stats = statSync(path); // follows symlinks (and /proc's links to pipes) without opening anything
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') throw new PricelabError('not-found', missing());
    throw unreadable(error);
  }
  refuseUnlessSmallRegularFile(path, stats, maxBytes);
  let real: string;
  try {
    real = realpathSync(path);
  } catch (error) {
    throw unreadable(error);
  }
  let descriptor: number;
  try {
    // O_NONBLOCK: should the path have become a FIFO since the stat, opening it does not wait for a writer.
    descriptor = openSync(real, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    throw unreadable(error);
  }
  try {
    const opened = fstatSync(descriptor);
    if (opened.ino !== stats.ino || opened.dev !== stats.dev) throw configError(`cannot read ${path}`, [{ path: [], message: 'expected the file that was checked, found it replaced while opening' }]);
    refuseUnlessSmallRegularFile(path, opened, maxBytes);
    const buffer = Buffer.alloc(Math.min(opened.size, maxBytes) + 1);
    let length = 0;
    while (length < buffer.length) {
      const read = readSync(descriptor, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
    }
    if (length > maxBytes) throw tooLarge(path, maxBytes, `more than ${maxBytes} bytes`);
    return buffer.subarray(0, length);
  } finally {
    closeSync(descriptor);
  }
}

function refuseUnlessSmallRegularFile(path: string, stats: Stats, maxBytes: number): void {
  if (!stats.isFile()) throw configError(`${path} is not a regular file`, [{ path: [], message: `expected a regular file, found ${kindOf(stats)}` }]);
  if (stats.size > maxBytes) throw tooLarge(path, maxBytes, `${stats.size} bytes`);
}

const tooLarge = (path: string, maxBytes: number, found: string) => configError(`${path} is too large`, [{ path: [], message: `expected at most ${maxBytes} bytes, found ${found}` }]);

function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a folder';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'something else';
}

/** Parses and validates scenario JSON text; `origin` names the file in error messages. */
export function parseScenario(text: string, origin = 'scenario'): Scenario {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw configError(`${origin} is not valid JSON`, [{ path: [], message: `expected JSON, found ${jsonSyntaxErrorAt(text)}` }]);
  }
  return validateScenario(json, origin);
}

/** Where JSON text stops being JSON, as "a syntax error (<kind>) at line L, column C": never the text itself. */
export function jsonSyntaxErrorAt(text: string): string {
  const errors: ParseError[] = [];
  parseJsonc(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  const first = errors[0];
  if (!first) return 'a syntax error';
  const before = text.slice(0, first.offset);
  const line = before.split('\n').length;
  const column = first.offset - (before.lastIndexOf('\n') + 1) + 1;
  return `a syntax error (${printParseErrorCode(first.error)}) at line ${line}, column ${column}`;
}

export function validateScenario(json: unknown, origin = 'scenario'): Scenario {
  const result = scenarioSchema.safeParse(json);
  const problems: Problem[] = result.success ? [] : result.error.issues.map(issueToProblem);
  const curves = (json as { curves?: Record<string, unknown> } | null)?.curves;
  if (curves && typeof curves === 'object') {
    for (const [name, source] of Object.entries(curves)) {
      if (typeof source === 'string' || typeof source === 'number') problems.push(...checkCurve(source, ['curves', name]));
    }
  }
  if (problems.length > 0 || !result.success) {
    throw configError(`${origin} is not a valid scenario (${problems.length} problem${problems.length === 1 ? '' : 's'})`, problems);
  }
  return result.data;
}

function issueToProblem(issue: z.core.$ZodIssue): Problem {
  const path = issue.path.map((part) => (typeof part === 'symbol' ? String(part) : part));
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') message = `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => `"${key}"`).join(', ')}: expected only the documented fields`;
  return { path, message };
}
