/**
 * Registered versions for the commands that load a policy folder themselves (`pricelab
 * evaluate --policy`, `pricelab compare --agents`): `registry:name@version` (or
 * `registry:name@alias`) names a version, and a plain folder that lies inside
 * `<home>/policies/` is one too. Either resolves to the version's folder and the content
 * hash recorded at registration, which readArtifact checks against sha256(policy.json)
 * before reading anything else, as serving does (PolicyRegistry.loadVersion): a version
 * edited after registration is refused with an integrity error naming `name@version`.
 * A folder inside the registry that is no registered version is refused too.
 */
import { existsSync, realpathSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { ExpectedContent } from '../agents/artifact.js';
import { PricelabError } from '../core/errors.js';
import { registryPrefix } from '../experiments/compare/arms.js';
import { databasePath } from '../experiments/store.js';
import { storeLocation, type StoreLocation } from '../core/store-url.js';
import { usingPolicyRegistry, type PolicyRegistryBackend } from './registry-backend.js';
import type { PolicyVersion } from './registry.js';

export interface RegisteredArtifact {
  readonly folder: string;
  readonly expected: ExpectedContent;
  readonly version: PolicyVersion;
}

const realOrUndefined = (path: string): string | undefined => {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
};

const toArtifact = (version: PolicyVersion): RegisteredArtifact => ({ folder: version.path, expected: { contentHash: version.contentHash, label: `${version.name}@${version.version}` }, version });

async function withRegistry<T>(location: StoreLocation, use: (registry: PolicyRegistryBackend) => Promise<T>): Promise<T> {
  if (location.kind === 'sqlite' && !existsSync(databasePath(location.home))) throw new PricelabError('not-found', `no policy registry in ${location.home} (set PRICELAB_HOME, or register a policy with pricelab policy register)`);
  return usingPolicyRegistry(location, use);
}

/**
 * `registry:name@version|alias` -> that version; a folder inside `<home>/policies/` (the
 * artifact root with PostgreSQL) -> the registered version stored there (an integrity
 * error when none is); anything else -> undefined (an ordinary folder or spec, for the
 * caller to handle).
 */
export async function registeredArtifactFor(spec: string, location: StoreLocation = storeLocation()): Promise<RegisteredArtifact | undefined> {
  if (spec.startsWith(registryPrefix)) return withRegistry(location, async (registry) => toArtifact(await registry.resolve(spec.slice(registryPrefix.length))));
  const folder = realOrUndefined(spec);
  const policies = realOrUndefined(join(location.home, 'policies'));
  if (folder === undefined || policies === undefined || !folder.startsWith(policies + sep)) return undefined;
  return withRegistry(location, async (registry) => {
    for (const entry of await registry.list()) {
      for (const version of await registry.versions(entry.name)) {
        if (realOrUndefined(version.path) === folder) return toArtifact(version);
      }
    }
    throw new PricelabError('integrity', `policies/${relative(policies, folder).split(sep).join('/')} lies inside the policy registry but is no registered version: refused`, [
      { path: ['policy'], message: `expected a registered version's folder (or ${registryPrefix}name@version), found a folder no registry row names` },
    ]);
  });
}

/**
 * A synchronous resolver over specs resolved beforehand (compare's arms are parsed
 * synchronously): each spec's registered artifact, or the error resolving it threw,
 * thrown again where the arm is parsed so that it is listed with the arm's index.
 */
export async function registeredArtifactResolver(specs: readonly string[], location: StoreLocation = storeLocation()): Promise<(spec: string) => RegisteredArtifact | undefined> {
  const resolved = new Map<string, { artifact: RegisteredArtifact | undefined } | { error: unknown }>();
  for (const spec of new Set(specs)) {
    try {
      resolved.set(spec, { artifact: await registeredArtifactFor(spec, location) });
    } catch (error) {
      resolved.set(spec, { error });
    }
  }
  return (spec) => {
    const found = resolved.get(spec);
    if (found === undefined) return undefined;
    if ('error' in found) throw found.error;
    return found.artifact;
  };
}
