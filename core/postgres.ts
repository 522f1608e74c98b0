/**
 * A team's PostgreSQL database (node-postgres), opened one way by the results store and
 * the policy registry: a small pool that fails fast when the server cannot be reached (a
 * config error naming the URL without its password, exit 2, within a few seconds, never a
 * hang), 64-bit integers read as numbers, and versioned migrations per component recorded
 * in `pricelab_migrations` (component, version, applied_at), applied in order inside one
 * transaction under an advisory lock so two processes opening a new database at once never
 * apply one twice.
 */
import pg from 'pg';
import type { Pool, PoolClient, QueryResultRow } from 'pg';
import { PricelabError } from './errors.js';
import { redactedUrl } from './store-url.js';

/** How long connecting may take before the URL is reported unreachable. */
export const connectTimeoutMs = 5_000;

/** A pool or one client inside a transaction: what store code queries through. */
export interface Queryable {
  query<Row extends QueryResultRow>(text: string, values?: readonly unknown[]): Promise<{ rows: Row[]; rowCount: number | null }>;
}

const int8 = 20;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === int8 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format ?? 'text'))) as typeof pg.types.getTypeParser,
};

/**
 * Opens a pool on `url` and checks that it answers (one round trip): an unreachable host,
 * a refused port, bad credentials or a missing database is a config error (exit 2) naming
 * the URL without its password and what to fix.
 */
export async function openPostgres(url: string): Promise<Pool> {
  const pool = new pg.Pool({ connectionString: url, connectionTimeoutMillis: connectTimeoutMs, max: 4, idleTimeoutMillis: 10_000, types, application_name: 'pricelab' });
  // An idle client losing its server must not crash the process: the next query reports it.
  pool.on('error', () => undefined);
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw unreachable(error, url);
  }
  guardAgainstLostServer(pool, url);
  return pool;
}

/** Connection failures (SQLSTATE class 08, the server shutting down, a socket error), not a query's own error. */
function isConnectionFailure(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (/^08/.test(code) || code === '57P01' || code === '57P03' || /^E[A-Z]+$/.test(code))) return true;
  return error instanceof Error && /Connection terminated|timeout exceeded when trying to connect/i.test(error.message);
}

/**
 * A server that goes away after opening (a restart, the network) is the same config error
 * as at open, naming the URL, at the next query or transaction, instead of a driver stack
 * trace; serving reports it once and keeps what it loaded.
 */
function guardAgainstLostServer(pool: Pool, url: string): void {
  // Promise calls only: the pool calls itself with callbacks (query -> connect), left as they are.
  const query = pool.query.bind(pool) as (...args: unknown[]) => Promise<unknown> | undefined;
  const connect = pool.connect.bind(pool) as (...args: unknown[]) => Promise<PoolClient> | undefined;
  const translate = (error: unknown): never => {
    throw isConnectionFailure(error) ? unreachable(error, url) : error;
  };
  const withCallback = (args: unknown[]) => typeof args.at(-1) === 'function';
  (pool as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => (withCallback(args) ? query(...args) : query(...args)?.catch(translate));
  (pool as unknown as { connect: (...args: unknown[]) => unknown }).connect = (...args: unknown[]) => (withCallback(args) ? connect(...args) : connect(...args)?.catch(translate));
}

/** A connection failure as the config error the CLI prints (exit 2). */
export function unreachable(error: unknown, url: string): PricelabError {
  const code = (error as { code?: string }).code;
  const message = error instanceof Error ? error.message : String(error);
  const advice =
    code === '28P01' || code === '28000'
      ? 'check the user name and password in the URL'
      : code === '3D000'
        ? 'create the database first (createdb), or name one that exists'
        : 'check the host and port, that the server runs and accepts TCP connections from this machine (listen_addresses, pg_hba.conf)';
  return new PricelabError('config', `the PostgreSQL store ${redactedUrl(url)} cannot be reached`, [
    { path: ['PRICELAB_STORE'], message: `expected a PostgreSQL server answering within ${connectTimeoutMs / 1000} s, found: ${code === undefined ? '' : `${code} `}${message || 'no answer'}; ${advice}` },
  ]);
}

/** Runs `work` in one transaction on one client (rolled back when it throws). */
export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** Serialises the transaction it is called in against every other holding `key` (released at COMMIT or ROLLBACK). */
export async function lockTransaction(client: Queryable, key: string): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [key]);
}

/**
 * Applies a component's migrations past its recorded version, in order, in one transaction
 * under an advisory lock; returns the version reached. A database recording a newer
 * version than this pricelab knows is refused (integrity, exit 4).
 */
export async function migratePostgres(pool: Pool, component: string, migrations: readonly string[], where: string): Promise<number> {
  return inTransaction(pool, async (client) => {
    await lockTransaction(client, 'pricelab-migrations');
    await client.query(`CREATE TABLE IF NOT EXISTS pricelab_migrations (
      component TEXT NOT NULL,
      version INTEGER NOT NULL,
      applied_at TEXT NOT NULL,
      PRIMARY KEY (component, version)
    )`);
    const recorded = (await client.query<{ version: number | null }>('SELECT MAX(version) AS version FROM pricelab_migrations WHERE component = $1', [component])).rows[0]?.version ?? 0;
    if (recorded > migrations.length) {
      throw new PricelabError('integrity', `the ${component} in ${where} has schema version ${recorded}, newer than this pricelab knows (${migrations.length}); upgrade pricelab`);
    }
    for (let version = recorded + 1; version <= migrations.length; version++) {
      await client.query(migrations[version - 1]!);
      await client.query('INSERT INTO pricelab_migrations (component, version, applied_at) VALUES ($1, $2, $3)', [component, version, new Date().toISOString()]);
    }
    return migrations.length;
  });
}
