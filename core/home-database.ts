/**
 * The pricelab home (`PRICELAB_HOME`, default `./.pricelab`) and its one SQLite file,
 * pricelab.db, opened alike by the results store and the policy registry: WAL, foreign
 * keys, one busy timeout, and SQLite's damage and set-up codes turned into errors that
 * name the file (integrity, exit 4; config, exit 2) at open and at every later statement.
 */
import { mkdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { PricelabError } from './errors.js';

/** The pricelab home folder: PRICELAB_HOME, or ./.pricelab, as an absolute path. */
export function resultsHome(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.PRICELAB_HOME;
  return resolve(configured !== undefined && configured !== '' ? configured : '.pricelab');
}

export const databaseFileName = 'pricelab.db';

/**
 * Opens the home's pricelab.db as the results store and the policy registry both do: the
 * folder made if needed, WAL, foreign keys, one busy timeout (10 s) for every process that
 * shares the file; `prepare` migrates and checks its own tables. A file SQLite cannot open
 * or write is exit 2 naming it, a damaged one exit 4 (storeFileError); later statements
 * are guarded the same way (guardAgainstDamage).
 */
export function openHomeDatabase(home: string, prepare: (database: Database.Database, file: string) => void): { folder: string; file: string; database: Database.Database } {
  const folder = resolve(home);
  ensureHomeFolder(folder);
  const file = databasePath(folder);
  let database: Database.Database | undefined;
  try {
    database = new Database(file);
    database.pragma('journal_mode = WAL');
    database.pragma('foreign_keys = ON');
    database.pragma('busy_timeout = 10000');
    prepare(database, file);
  } catch (error) {
    database?.close();
    throw storeFileError(error, file) ?? error;
  }
  guardAgainstDamage(database, file);
  return { folder, file, database };
}

/** The database file of a home folder. */
export function databasePath(home: string): string {
  return join(home, databaseFileName);
}

/** Creates the pricelab home folder if needed; a path that cannot be one (a file, say) is a config error (exit 2) naming it. */
export function ensureHomeFolder(folder: string): void {
  try {
    mkdirSync(folder, { recursive: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new PricelabError('config', `the pricelab home ${folder} cannot be created`, [
      { path: ['PRICELAB_HOME'], message: `expected a folder (or a path where one can be made), found ${whatIsAt(folder)} (${code}); set PRICELAB_HOME to a folder` },
    ]);
  }
}

/**
 * SQLite's result codes (https://sqlite.org/rescode.html, extended codes included) by what
 * they say about the store's file. Damage (exit 4): not a database (NOTADB), damaged pages
 * (CORRUPT), a file the disk cannot read back (IOERR). The user's set-up (exit 2): a path
 * SQLite cannot open (CANTOPEN: a folder, a missing or unwritable folder), a file or folder
 * it may not write (READONLY, PERM, AUTH), a full disk (FULL). Nothing stored is damaged
 * then: fixing the path or the permissions is enough.
 */
const damageCodes = /^SQLITE_(NOTADB|CORRUPT|IOERR)/;
const setupCodes = /^SQLITE_(CANTOPEN|READONLY|PERM|AUTH|FULL)/;

/** What is at a path, in words, for a message: "a folder", "a file of 12 bytes", "nothing". */
function whatIsAt(path: string): string {
  try {
    const found = statSync(path);
    if (found.isDirectory()) return 'a folder';
    if (found.isFile()) return `a file of ${found.size} bytes`;
    return 'something that is neither a file nor a folder';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOTDIR' ? 'a path through a file (where a folder should be)' : 'nothing (or nothing pricelab may look at)';
  }
}

/**
 * The error naming the store's file for SQLite's damage and set-up codes (see above):
 * integrity (exit 4) for a damaged file, config (exit 2) for one that cannot be opened or
 * written; undefined for any other error. The policy registry, in the same file, uses it too.
 */
export function storeFileError(error: unknown, file: string): PricelabError | undefined {
  if (!(error instanceof Database.SqliteError)) return undefined;
  const found = `${error.code} (${error.message})`;
  if (damageCodes.test(error.code)) {
    return new PricelabError('integrity', `the results store ${file} is damaged`, [
      { path: [], message: `expected a SQLite database, found ${found}; restore the file from a backup, or move it aside to start an empty store` },
    ]);
  }
  if (!setupCodes.test(error.code)) return undefined;
  const atPath = whatIsAt(file);
  const advice = atPath === 'a folder'
    ? 'move the folder aside, or set PRICELAB_HOME to another folder'
    : `check that the file and its folder ${dirname(file)} exist and may be read and written by this user (SQLite writes ${basename(file)}-wal and ${basename(file)}-shm beside it), and that the disk has space`;
  return new PricelabError('config', `the results store ${file} cannot be opened`, [
    { path: [], message: `expected a SQLite database file pricelab may read and write, found ${atPath}: ${found}; ${advice}` },
  ]);
}

/**
 * Damage inside a page shows only when the page is read: every statement the store
 * prepares (now or in a later method) turns SQLite's damage codes into the integrity
 * error naming the file, instead of an internal error with a stack trace. The policy
 * registry, in the same file, opens its connection the same way.
 */
export function guardAgainstDamage(database: Database.Database, file: string): void {
  const guarded = <Arguments extends unknown[], Result>(call: (...args: Arguments) => Result) => (...args: Arguments): Result => {
    try {
      return call(...args);
    } catch (error) {
      throw storeFileError(error, file) ?? error;
    }
  };
  const prepare = database.prepare.bind(database);
  database.prepare = ((source: string) => {
    const statement = prepare(source) as Database.Statement<unknown[], unknown>;
    statement.run = guarded(statement.run.bind(statement));
    statement.get = guarded(statement.get.bind(statement));
    statement.all = guarded(statement.all.bind(statement));
    return statement;
  }) as typeof database.prepare;
  database.exec = guarded(database.exec.bind(database));
  database.pragma = guarded(database.pragma.bind(database)) as typeof database.pragma;
}
