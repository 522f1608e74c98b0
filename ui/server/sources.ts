/**
 * What a browser may ask the dashboard to read. The page names scenarios and policies by
 * string, and those strings come from whoever drives the page, so they are resolved here
 * and nowhere else:
 *
 *   scenarios  a built-in id, or a file under the configured scenarios folder (by file name
 *              relative to it, or by the scenario id inside a `*.json` file there). Nothing
 *              else: not an absolute path, not `..`, not a symlink that leads out.
 *   artifacts  `artifact:<folder>` only under the configured runs folder (relative to it,
 *              or absolute inside it), the same containment check.
 *
 * Hidden entries (a path part starting with '.', such as a results home `.pricelab` with
 * its tokens) are outside, whatever folder was configured.
 *
 * Containment is checked on the text first (nothing outside is ever stat-ed, so the page
 * cannot probe which paths exist), then on the real path (symlinks resolved). Files are read
 * by scenarios/load.ts, which takes only regular files of at most 1 MiB, and errors name the
 * string the page sent, never a file's contents.
 */
import { createHash } from 'node:crypto';
import { readdirSync, realpathSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { scenarioFileName } from '../../agents/artifact.js';
import { PricelabError, configError } from '../../core/errors.js';
import { builtInScenarioIds, isBuiltInScenarioId, loadScenario, maxScenarioFileBytes, parseScenario, readRegularFile, type LoadedScenario } from '../../scenarios/load.js';
import type { PolicyRegistryBackend } from '../../serving/registry.js';
import type { Scenario } from '../../scenarios/schema.js';

export interface DashboardFolders {
  /** Scenario files the page may load (besides the built-in ones); none when undefined. */
  readonly scenariosFolder?: string | undefined;
  /** Trained artifacts the page may load as `artifact:<folder>`; none when undefined. */
  readonly runsFolder?: string | undefined;
}

/** The most `*.json` files of the scenarios folder read when looking a scenario up by id or listing them. */
export const maxScenarioFilesListed = 200;

/** Loads the scenario the page named: a built-in id or a file under the scenarios folder. */
export function loadDashboardScenario(name: string, folders: DashboardFolders): LoadedScenario {
  if (isBuiltInScenarioId(name)) return loadScenario(name);
  const folder = folders.scenariosFolder;
  if (folder === undefined) {
    throw configError(`the dashboard loads only built-in scenarios`, [
      { path: ['scenario'], message: `expected a built-in scenario id (${builtInScenarioIds().join(', ')}), found "${name}"; to load your own files start the dashboard with --scenarios <folder>` },
    ]);
  }
  if (name.endsWith('.json')) return loadScenario(insideFolder(folder, name, 'scenario', 'scenarios folder'));
  const byFileName = scenarioFiles(folder).find((file) => file === `${name}.json`);
  if (byFileName !== undefined) return loadScenario(insideFolder(folder, byFileName, 'scenario', 'scenarios folder'));
  for (const file of scenarioFiles(folder)) {
    const loaded = tryLoad(insideFolderOrUndefined(folder, file));
    if (loaded?.scenario.id === name) return loaded;
  }
  throw new PricelabError('not-found', `no scenario "${name}"`, [
    { path: ['scenario'], message: `expected a built-in scenario id (${builtInScenarioIds().join(', ')}), a scenario id of a file in the scenarios folder, or a file name there ending in .json; found "${name}"` },
  ]);
}

/**
 * The session's scenario: as loadDashboardScenario, or else the scenario a trained policy of
 * the session carries under that id (a policy trained on the user's own file, registered:
 * the file need not exist anywhere the server can read).
 */
export function loadSessionScenario(name: string, folders: DashboardFolders, carried: () => readonly { scenario: Scenario; contentHash: string }[]): { scenario: Scenario; contentHash: string } {
  try {
    return loadDashboardScenario(name, folders);
  } catch (error) {
    const match = carried().find((trainedOn) => trainedOn.scenario.id === name);
    if (match && error instanceof PricelabError && error.kind !== 'integrity') return match;
    throw error;
  }
}

/**
 * The scenarios registered versions were trained on, by id (the newest version's first):
 * each version's embedded scenario.json, read only if its sha256 is the one the registry
 * recorded for that version. Versions without one (trained on a built-in scenario by an
 * older pricelab) or with a damaged one are left out: loading the policy says why.
 */
export async function registeredScenarios(registry: PolicyRegistryBackend): Promise<Map<string, { scenario: Scenario; contentHash: string }>> {
  const byId = new Map<string, { scenario: Scenario; contentHash: string }>();
  for (const policy of await registry.list()) {
    for (const version of [...(await registry.versions(policy.name))].reverse()) {
      if (byId.has(version.lineage.scenario.id)) continue;
      try {
        const bytes = readRegularFile(join(version.path, scenarioFileName), maxScenarioFileBytes);
        const contentHash = createHash('sha256').update(bytes).digest('hex');
        if (contentHash !== version.lineage.scenario.contentHash) continue;
        const scenario = parseScenario(bytes.toString('utf8'), `${scenarioFileName} of ${version.name}@${version.version}`);
        if (scenario.id === version.lineage.scenario.id) byId.set(scenario.id, { scenario, contentHash });
      } catch {
        continue;
      }
    }
  }
  return byId;
}

/** The valid scenario files of the scenarios folder (their file name relative to it, and the scenario). */
export function folderScenarios(folders: DashboardFolders): { file: string; loaded: LoadedScenario }[] {
  const folder = folders.scenariosFolder;
  if (folder === undefined) return [];
  return scenarioFiles(folder).flatMap((file) => {
    const loaded = tryLoad(insideFolderOrUndefined(folder, file));
    return loaded ? [{ file, loaded }] : [];
  });
}

/** The real path of an `artifact:<folder>` the page named, which must lie in the runs folder. */
export function dashboardArtifactFolder(folder: string, folders: DashboardFolders): string {
  if (folders.runsFolder === undefined) {
    throw configError('the dashboard loads no artifact folders', [
      { path: ['policies'], message: `expected a rule or a registered policy (registry:<name>@<version>), found an artifact folder; to load trained artifacts start the dashboard with --runs <folder>` },
    ]);
  }
  return insideFolder(folders.runsFolder, folder, 'policies', 'runs folder');
}

/**
 * The real path of `name` (relative to `folder`, or absolute) when it lies inside `folder`;
 * a config error naming `field` otherwise, a not-found error when it does not exist.
 */
export function insideFolder(folder: string, name: string, field: string, folderLabel: string): string {
  const outside = () => configError(`"${name}" is outside the dashboard's ${folderLabel}`, [{ path: [field], message: `expected a path inside the ${folderLabel}, found "${name}"` }]);
  if (name.includes('\0')) throw outside();
  const root = resolve(folder);
  const target = resolve(root, name);
  if (!contains(root, target)) throw outside();
  let realRoot: string;
  let realTarget: string;
  try {
    realRoot = realpathSync(root);
    realTarget = realpathSync(target);
  } catch {
    throw new PricelabError('not-found', `no "${name}" in the ${folderLabel}`, [{ path: [field], message: `expected a path that exists in the ${folderLabel}, found "${name}"` }]);
  }
  if (!contains(realRoot, realTarget)) throw outside();
  return realTarget;
}

function insideFolderOrUndefined(folder: string, name: string): string | undefined {
  try {
    return insideFolder(folder, name, 'scenario', 'scenarios folder');
  } catch {
    return undefined;
  }
}

/** `target` lies strictly inside `root`, through no hidden entry (a name starting with '.', such as .pricelab or ..). */
function contains(root: string, target: string): boolean {
  const path = relative(root, target);
  return path !== '' && !isAbsolute(path) && path.split(sep).every((part) => part !== '' && !part.startsWith('.'));
}

function scenarioFiles(folder: string): string[] {
  try {
    return readdirSync(folder, { withFileTypes: true })
      .filter((entry) => (entry.isFile() || entry.isSymbolicLink()) && entry.name.endsWith('.json') && !entry.name.startsWith('.'))
      .map((entry) => entry.name)
      .sort()
      .slice(0, maxScenarioFilesListed);
  } catch {
    return [];
  }
}

function tryLoad(path: string | undefined): LoadedScenario | undefined {
  if (path === undefined) return undefined;
  try {
    return loadScenario(path);
  } catch {
    return undefined;
  }
}
