/**
 * Where the results store and the policy registry live: the embedded default, one SQLite
 * file in the pricelab home (`PRICELAB_HOME/pricelab.db`), or a team's PostgreSQL database
 * (`PRICELAB_STORE=postgres://user:password@host:port/database`). Files (checkpoints,
 * registered artifacts) stay in a folder either way: the home, or with PostgreSQL the
 * artifact root `PRICELAB_ARTIFACT_ROOT` (a folder every machine of the team mounts),
 * which defaults to the home.
 */
import { resolve } from 'node:path';
import { PricelabError } from './errors.js';
import { resultsHome } from './home-database.js';

/** A value a store method returns: SQLite answers at once, PostgreSQL through a promise; callers always await. */
export type Awaitable<T> = T | Promise<T>;

export type StoreLocation =
  /** The embedded default: pricelab.db in the home, files beside it. */
  | { readonly kind: 'sqlite'; readonly home: string }
  /** A PostgreSQL database (its URL), files under the artifact root `home`. */
  | { readonly kind: 'postgres'; readonly url: string; readonly home: string };

const postgresUrl = /^postgres(ql)?:\/\//i;

/**
 * The store the environment names: `PRICELAB_STORE` (a postgres:// or postgresql:// URL)
 * with files under `PRICELAB_ARTIFACT_ROOT` (default: the home), or, when it is unset or
 * empty, the SQLite file of the home. `home` overrides PRICELAB_HOME (a test's folder, the
 * dashboard's --home). Anything else in PRICELAB_STORE is a config error (exit 2).
 */
export function storeLocation(options: { readonly home?: string; readonly env?: NodeJS.ProcessEnv } = {}): StoreLocation {
  const env = options.env ?? process.env;
  const home = options.home === undefined ? resultsHome(env) : resolve(options.home);
  const configured = env.PRICELAB_STORE?.trim() ?? '';
  if (configured === '' || configured === 'sqlite') return { kind: 'sqlite', home };
  if (!postgresUrl.test(configured)) {
    throw new PricelabError('config', 'PRICELAB_STORE is not a store pricelab knows', [
      { path: ['PRICELAB_STORE'], message: `expected a PostgreSQL URL (postgres://user:password@host:5432/database), or nothing for the SQLite file in PRICELAB_HOME, found "${redactedUrl(configured)}"` },
    ]);
  }
  const root = env.PRICELAB_ARTIFACT_ROOT?.trim() ?? '';
  return { kind: 'postgres', url: configured, home: root === '' ? home : resolve(root) };
}

/** A URL as messages show it: the password replaced by ***. */
export function redactedUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@]*@/i, '$1***@');
}

/** Where a store lives, for messages: the SQLite file, or the PostgreSQL URL without its password. */
export function describeLocation(location: StoreLocation): string {
  return location.kind === 'sqlite' ? resolve(location.home, 'pricelab.db') : redactedUrl(location.url);
}
