/**
 * The policy registry's tables in PostgreSQL: the same tables and columns as in the SQLite
 * file (serving/registry-schema.ts, at its schema 4), and the same refusals enforced by the
 * database itself: triggers refuse UPDATE, DELETE and TRUNCATE of the audit log, of
 * versions and of retirements, and an audit entry that does not link to the last one.
 * Migrations are numbered and recorded in `pricelab_migrations` under the component
 * "policy-registry" (core/postgres.ts): registryMigrations[v] brings the tables from version
 * v to v + 1.
 *
 * The triggers hold against the registry's own role and any other that is not the tables'
 * owner or a superuser (who can disable triggers): give the serving replicas a role that
 * owns nothing (docs/distributed.md, "The team store").
 */
import { genesisHash } from './audit-chain.js';

export const registryComponent = 'policy-registry';

/** The tables every version has; opening refuses a database where one has vanished. */
export const registryTables = ['policy_versions', 'policy_aliases', 'policy_audit', 'policy_gates', 'policy_retirements'] as const;

const refuse = (table: string, message: string) => `
  CREATE TRIGGER ${table}_refuse_change BEFORE UPDATE OR DELETE ON ${table}
    FOR EACH ROW EXECUTE FUNCTION pricelab_refuse_change('${message}');
  CREATE TRIGGER ${table}_refuse_truncate BEFORE TRUNCATE ON ${table}
    FOR EACH STATEMENT EXECUTE FUNCTION pricelab_refuse_change('${message}');`;

export const registryMigrations: readonly string[] = [
  `CREATE TABLE policy_versions (
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
  CREATE TABLE policy_aliases (
    name TEXT NOT NULL,
    alias TEXT NOT NULL,
    version INTEGER NOT NULL,
    moved_at TEXT NOT NULL,
    PRIMARY KEY (name, alias),
    FOREIGN KEY (name, version) REFERENCES policy_versions (name, version)
  );
  CREATE TABLE policy_audit (
    id BIGSERIAL PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    name TEXT NOT NULL,
    version INTEGER,
    alias TEXT,
    reason TEXT NOT NULL,
    details TEXT NOT NULL,
    previous_hash TEXT NOT NULL,
    entry_hash TEXT NOT NULL
  );
  CREATE INDEX policy_audit_by_name ON policy_audit (name, alias, id);
  CREATE TABLE policy_gates (
    name TEXT PRIMARY KEY,
    gates TEXT NOT NULL,
    set_at TEXT NOT NULL,
    set_by TEXT NOT NULL
  );
  CREATE TABLE policy_retirements (
    name TEXT PRIMARY KEY,
    retired_at TEXT NOT NULL,
    retired_by TEXT NOT NULL,
    reason TEXT NOT NULL
  );
  CREATE FUNCTION pricelab_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    RAISE EXCEPTION '%', TG_ARGV[0];
  END $$;
  CREATE FUNCTION pricelab_audit_linked() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF NEW.previous_hash IS DISTINCT FROM COALESCE((SELECT entry_hash FROM policy_audit ORDER BY id DESC LIMIT 1), '${genesisHash}') THEN
      RAISE EXCEPTION 'the audit log is a hash chain: a new entry must link to the last one';
    END IF;
    RETURN NEW;
  END $$;
  CREATE TRIGGER policy_audit_linked BEFORE INSERT ON policy_audit
    FOR EACH ROW EXECUTE FUNCTION pricelab_audit_linked();
  ${refuse('policy_audit', 'the audit log is append-only')}
  ${refuse('policy_versions', 'policy versions are immutable')}
  ${refuse('policy_retirements', 'a retirement is permanent')}`,
];
