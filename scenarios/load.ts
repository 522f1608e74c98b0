/**
 * Loading scenarios: read a file (or a built-in id), parse JSON, validate with the schema
 * and check every curve expression, then return the scenario or a PricelabError that lists
 * every problem by path (what was expected, what was found). Loading never writes anything.
 */
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { PricelabError, configError, type Problem } from '../env/errors.js';
import { checkCurve } from '../env/curves.js';
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
  readonly source: string;
}

export function builtInScenarioIds(): string[] {
  return readdirSync(builtInScenarioFolder)
    .filter((file) => file.endsWith('.json'))
    .map((file) => file.slice(0, -'.json'.length))
    .sort();
}

/** Loads a built-in scenario by id, or a scenario file by path. */
export function loadScenario(idOrPath: string): LoadedScenario {
  const builtIn = join(builtInScenarioFolder, `${idOrPath}.json`);
  const path = existsSync(builtIn) && !idOrPath.includes('/') && !idOrPath.endsWith('.json') ? builtIn : resolve(idOrPath);
  if (!existsSync(path)) {
    throw new PricelabError('not-found', `no scenario "${idOrPath}": expected a built-in id (${builtInScenarioIds().join(', ')}) or a path to a JSON file`);
  }
  const text = readFileSync(path, 'utf8');
  return { scenario: parseScenario(text, path), contentHash: createHash('sha256').update(text).digest('hex'), source: path };
}

/** Parses and validates scenario JSON text; `origin` names the file in error messages. */
export function parseScenario(text: string, origin = 'scenario'): Scenario {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw configError(`${origin} is not valid JSON`, [{ path: [], message: `expected JSON, found a syntax error: ${(error as Error).message}` }]);
  }
  return validateScenario(json, origin);
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
