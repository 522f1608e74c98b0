/**
 * The policy registry's tables in the home's pricelab.db: their shapes, the triggers that
 * make versions immutable and the audit log append-only in the database itself, and the
 * migrations (own schema version in `registry_schema`, applied in order on open inside an
 * IMMEDIATE transaction). Opening refuses a database where a table of the recorded schema
 * has vanished.
 */
import type Database from 'better-sqlite3';
import { PricelabError } from '../core/errors.js';
import { entryHashOf, genesisHash, type AuditEntry } from './audit-chain.js';

/** The newest registry schema; each number is a migration applied in order on open. */
export const registrySchemaVersion = 4;

/** Tables every schema version has (created on a fresh database; their loss is refused). */
const baseTables = `
  CREATE TABLE IF NOT EXISTS policy_versions (
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    agent_kind TEXT NOT NULL,
    path TEXT NOT NULL,
    lineage TEXT NOT NULL,
    registered_at TEXT NOT NULL,
    registered_by TEXT NOT NULL,
    PRIMARY KEY (name, version),
    UNIQUE (name, content_hash)
  );
  CREATE TABLE IF NOT EXISTS policy_aliases (
    name TEXT NOT NULL,
    alias TEXT NOT NULL,
    version INTEGER NOT NULL,
    moved_at TEXT NOT NULL,
    PRIMARY KEY (name, alias),
    FOREIGN KEY (name, version) REFERENCES policy_versions (name, version)
  );
  CREATE TABLE IF NOT EXISTS policy_audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    name TEXT NOT NULL,
    version INTEGER,
    alias TEXT,
    reason TEXT NOT NULL,
    details TEXT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS policy_gates (
    name TEXT PRIMARY KEY,
    gates TEXT NOT NULL,
    set_at TEXT NOT NULL,
    set_by TEXT NOT NULL
  );
`;

const versionTriggers = `
  CREATE TRIGGER IF NOT EXISTS policy_versions_immutable BEFORE UPDATE ON policy_versions
    BEGIN SELECT RAISE(ABORT, 'policy versions are immutable'); END;
  CREATE TRIGGER IF NOT EXISTS policy_versions_kept BEFORE DELETE ON policy_versions
    BEGIN SELECT RAISE(ABORT, 'policy versions are never deleted'); END;
`;

const auditTriggers = `
  CREATE TRIGGER IF NOT EXISTS policy_audit_append_only_update BEFORE UPDATE ON policy_audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
  CREATE TRIGGER IF NOT EXISTS policy_audit_append_only_delete BEFORE DELETE ON policy_audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
`;

/** Migrations by the version they lead to; each runs inside the opening IMMEDIATE transaction. */
const migrations: Readonly<Record<number, (db: Database.Database) => void>> = {
  // 2: the audit log becomes a hash chain; INSERT OR REPLACE refused (a REPLACE deletes the
  // old row without firing DELETE triggers), and an insert must link to the last entry.
  2: (db) => {
    db.exec("ALTER TABLE policy_audit ADD COLUMN previous_hash TEXT NOT NULL DEFAULT ''; ALTER TABLE policy_audit ADD COLUMN entry_hash TEXT NOT NULL DEFAULT '';");
    db.exec('DROP TRIGGER IF EXISTS policy_audit_append_only_update;');
    let previous = genesisHash;
    const link = db.prepare('UPDATE policy_audit SET previous_hash = ?, entry_hash = ? WHERE id = ?');
    for (const row of db.prepare<[], AuditRow>('SELECT * FROM policy_audit ORDER BY id').all()) {
      const hash = entryHashOf(previous, row);
      link.run(previous, hash, row.id);
      previous = hash;
    }
    db.exec(`${auditTriggers}
      -- SQLite fires the trigger created last first: the replacement refusal speaks first.
      CREATE TRIGGER policy_audit_linked BEFORE INSERT ON policy_audit
        WHEN NEW.previous_hash IS NOT COALESCE((SELECT entry_hash FROM policy_audit ORDER BY id DESC LIMIT 1), '${genesisHash}')
        BEGIN SELECT RAISE(ABORT, 'the audit log is a hash chain: a new entry must link to the last one'); END;
      CREATE TRIGGER policy_audit_no_replace BEFORE INSERT ON policy_audit
        WHEN EXISTS (SELECT 1 FROM policy_audit WHERE id = NEW.id)
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: an entry is never replaced'); END;
      CREATE TRIGGER policy_versions_no_replace BEFORE INSERT ON policy_versions
        WHEN EXISTS (SELECT 1 FROM policy_versions WHERE (name = NEW.name AND version = NEW.version) OR (name = NEW.name AND content_hash = NEW.content_hash))
        BEGIN SELECT RAISE(ABORT, 'policy versions are immutable: a version is never replaced'); END;`);
  },
  // 3: artifact paths relative to the home (they are always policies/<name>/<version>).
  3: (db) => {
    db.exec(`DROP TRIGGER IF EXISTS policy_versions_immutable;
      UPDATE policy_versions SET path = 'policies/' || name || '/' || version;
      ${versionTriggers}`);
  },
  // 4: retired policies (permanent: no aliases, no promotion, not served).
  4: (db) => {
    db.exec(`CREATE TABLE policy_retirements (
        name TEXT PRIMARY KEY,
        retired_at TEXT NOT NULL,
        retired_by TEXT NOT NULL,
        reason TEXT NOT NULL
      );
      CREATE TRIGGER policy_retirements_kept_update BEFORE UPDATE ON policy_retirements
        BEGIN SELECT RAISE(ABORT, 'a retirement is permanent'); END;
      CREATE TRIGGER policy_retirements_kept_delete BEFORE DELETE ON policy_retirements
        BEGIN SELECT RAISE(ABORT, 'a retirement is permanent'); END;
      CREATE TRIGGER policy_retirements_no_replace BEFORE INSERT ON policy_retirements
        WHEN EXISTS (SELECT 1 FROM policy_retirements WHERE name = NEW.name)
        BEGIN SELECT RAISE(ABORT, 'a retirement is permanent'); END;`);
  },
};

/** The tables a database at schema `version` must have. */
const tablesAt = (version: number): string[] => ['policy_versions', 'policy_aliases', 'policy_audit', 'policy_gates', ...(version >= 4 ? ['policy_retirements'] : [])];

/**
 * The registry's recorded schema version (null before any), refusing a database where a
 * table the recorded schema has is missing (dropped: `CREATE TABLE IF NOT EXISTS` would
 * silently start an empty audit log). Reads only.
 */
export function inspect(db: Database.Database, file: string): number | null {
  const tables = new Set(db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'").all().map((row) => row.name));
  const recorded = tables.has('registry_schema') ? (db.prepare<[], { version: number | null }>('SELECT MAX(version) AS version FROM registry_schema').get()?.version ?? null) : null;
  const vanished = (names: readonly string[]) => names.filter((table) => !tables.has(table));
  const refuse = (missing: readonly string[], why: string) => {
    throw new PricelabError('integrity', `the policy registry in ${file} is damaged: ${why}; refusing to open it (restore the database from a backup)`, missing.map((table) => ({ path: ['tables', table], message: 'expected the table, found none (dropped?)' })));
  };
  if (recorded !== null && recorded >= 2 && vanished(tablesAt(recorded)).length > 0) refuse(vanished(tablesAt(recorded)), `registry tables of schema ${recorded} are missing`);
  const chained = tables.has('policy_audit') && db.prepare<[], { name: string }>("SELECT name FROM pragma_table_info('policy_audit')").all().some((column) => column.name === 'entry_hash');
  if (chained && (recorded === null || recorded < 2)) refuse([], 'the audit log is a hash chain but the registry schema record is missing');
  if (tables.has('policy_versions') && !tables.has('policy_audit') && (db.prepare<[], { count: number }>('SELECT COUNT(*) AS count FROM policy_versions').get()?.count ?? 0) > 0) refuse(['policy_audit'], 'versions exist without their audit log');
  return recorded;
}

/** Creates or migrates the registry's tables; run inside an IMMEDIATE transaction. */
export function migrate(db: Database.Database, file: string): void {
  const recorded = inspect(db, file);
  db.exec(`CREATE TABLE IF NOT EXISTS registry_schema (version INTEGER NOT NULL);
    ${baseTables}${versionTriggers}${auditTriggers}
    CREATE TRIGGER IF NOT EXISTS registry_schema_kept_update BEFORE UPDATE ON registry_schema
      BEGIN SELECT RAISE(ABORT, 'the registry schema record is append-only'); END;
    CREATE TRIGGER IF NOT EXISTS registry_schema_kept_delete BEFORE DELETE ON registry_schema
      BEGIN SELECT RAISE(ABORT, 'the registry schema record is append-only'); END;`);
  for (let version = Math.max(recorded ?? 1, 1) + 1; version <= registrySchemaVersion; version++) {
    migrations[version]?.(db);
    db.prepare('INSERT INTO registry_schema (version) VALUES (?)').run(version);
  }
}

export interface VersionRow {
  name: string;
  version: number;
  content_hash: string;
  agent_kind: string;
  path: string;
  lineage: string;
  registered_at: string;
  registered_by: string;
}

export interface AuditRow {
  id: number;
  at: string;
  actor: string;
  action: AuditEntry['action'];
  name: string;
  version: number | null;
  alias: string | null;
  reason: string;
  details: string;
  previous_hash: string;
  entry_hash: string;
}

