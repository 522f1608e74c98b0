/**
 * The policy registry: named policies, each a list of immutable versions (verified policy
 * artifacts copied into the pricelab home), aliases (candidate, staging, production) that
 * move between versions, the lineage of each version (scenario, training run, comparison
 * evidence), and an append-only audit log of every change (who, when, what, why).
 *
 * Storage: the results store's SQLite database (PRICELAB_HOME/pricelab.db) holds the
 * registry's tables (own schema version in `registry_schema`, migrations applied in order
 * on open); the artifacts live under PRICELAB_HOME/policies/<name>/<version>/, recorded
 * relative to the home, so a copied home reads its own files. Immutability and
 * append-only are enforced by the database itself (triggers refuse UPDATE, DELETE and
 * INSERT OR REPLACE), not only by this code.
 *
 * The audit log is a hash chain: each entry stores the hash of the entry before it and
 * the hash of its own content with that link, so a removed, replaced, reordered or edited
 * entry breaks the chain (`verifyAudit`, `pricelab policy audit --verify`). Opening the
 * registry verifies the chain, that every version, alias, retirement and stored gate
 * policy is what the log says, and that no registry table has vanished; it refuses
 * (integrity) otherwise.
 *
 * Every change is one IMMEDIATE transaction that reads the state it changes inside it
 * (two concurrent alias moves record their true `from`). A registration copies the
 * verified bytes (never links) into a temporary folder, verifies the copy, then numbers
 * the version and renames the folder into place; a failure removes the copy. Registering
 * the same content again under the same name returns the existing version. Loading a
 * registered version (`loadVersion`) checks sha256(policy.json) against the recorded hash.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { userInfo } from 'node:os';
import { isAbsolute, join } from 'node:path';
import type Database from 'better-sqlite3';
import { artifactFileBytes, fileNameProblems, manifestFileName, readArtifact, verifyArtifact, writeFilesInto, type ReadPolicyArtifact } from '../agents/artifact.js';
import { PricelabError, type Problem } from '../core/errors.js';
import { databasePath, openHomeDatabase, parseStoredJson, resultsHome } from '../experiments/store.js';
import { ServedPolicy } from './served-policy.js';

export const aliasNames = ['candidate', 'staging', 'production'] as const;
export type AliasName = (typeof aliasNames)[number];

export interface Lineage {
  readonly scenario: { readonly id: string; readonly contentHash: string };
  readonly trainingRun?: string | undefined;
  readonly comparison?: string | undefined;
}

export interface PolicyVersion {
  readonly name: string;
  readonly version: number;
  /** sha256 of the artifact's policy.json (which holds the sha256 of every weights file). */
  readonly contentHash: string;
  readonly agentKind: string;
  readonly path: string;
  readonly lineage: Lineage;
  readonly registeredAt: string;
  readonly registeredBy: string;
}

export interface AuditEntry {
  readonly id: number;
  readonly at: string;
  readonly actor: string;
  readonly action: 'register' | 'promote' | 'rollback' | 'set-gates' | 'alias-remove' | 'retire';
  readonly name: string;
  readonly version: number | null;
  readonly alias: string | null;
  readonly reason: string;
  readonly details: unknown;
  /** The entry_hash of the entry before it (64 zeros for the first). */
  readonly previousHash: string;
  /** sha256 over previousHash and this entry's content: the chain link. */
  readonly entryHash: string;
}

/** The outcome of checking the audit log (`verifyAudit`). */
export interface AuditVerification {
  readonly ok: boolean;
  readonly entries: number;
  /** The id of the first entry whose link or content is broken, if any. */
  readonly firstBroken: number | null;
  readonly problems: readonly Problem[];
}

/** A retired policy: no aliases, cannot be promoted or served; its versions stay for the audit. */
export interface Retirement {
  readonly at: string;
  readonly actor: string;
  readonly reason: string;
}

export interface RegisterOptions extends ChangeOptions {
  /** The policy name (default: the name in policy.json). */
  readonly name?: string | undefined;
  readonly lineage?: Partial<Omit<Lineage, 'scenario'>> | undefined;
}

export interface ChangeOptions {
  /** Who made the change (default: the operating-system user). */
  readonly actor?: string | undefined;
  readonly reason: string;
}

/** The newest registry schema; each number is a migration applied in order on open. */
const registrySchemaVersion = 4;
const genesisHash = '0'.repeat(64);

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

/** sha256 over the link to the previous entry and every stored field of this one. */
function entryHashOf(previousHash: string, row: Pick<AuditRow, 'at' | 'actor' | 'action' | 'name' | 'version' | 'alias' | 'reason' | 'details'>): string {
  return createHash('sha256').update(JSON.stringify([previousHash, row.at, row.actor, row.action, row.name, row.version, row.alias, row.reason, row.details])).digest('hex');
}

/**
 * The registry's recorded schema version (null before any), refusing a database where a
 * table the recorded schema has is missing (dropped: `CREATE TABLE IF NOT EXISTS` would
 * silently start an empty audit log). Reads only.
 */
function inspect(db: Database.Database, file: string): number | null {
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
function migrate(db: Database.Database, file: string): void {
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

interface VersionRow {
  name: string;
  version: number;
  content_hash: string;
  agent_kind: string;
  path: string;
  lineage: string;
  registered_at: string;
  registered_by: string;
}

interface AuditRow {
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

const namePattern = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export const defaultActor = (): string => {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
};

/** `name@version` or `name@alias` or `name` (production). */
export function parsePolicyReference(reference: string): { name: string; version?: number; alias?: AliasName } {
  const [name = '', selector] = reference.split('@', 2);
  if (!namePattern.test(name)) throw new PricelabError('config', `bad policy reference "${reference}"`, [{ path: ['policy'], message: `expected name[@version|@alias] with a name of lowercase letters, digits, '.', '_' or '-', found "${reference}"` }]);
  if (selector === undefined) return { name };
  if (/^\d+$/.test(selector)) return { name, version: Number(selector) };
  if ((aliasNames as readonly string[]).includes(selector)) return { name, alias: selector as AliasName };
  throw new PricelabError('config', `bad policy reference "${reference}"`, [{ path: ['policy'], message: `expected a version number or one of ${aliasNames.join(', ')} after '@', found "${selector}"` }]);
}

export class PolicyRegistry {
  private constructor(
    readonly home: string,
    private readonly db: Database.Database,
  ) {}

  /**
   * Opens (creating or migrating) the registry in `home`. Refuses with an integrity error
   * when a registry table vanished or the audit log does not verify (`verifyAudit`);
   * `{ verify: false }` opens it anyway, for `pricelab policy audit --verify` to report.
   */
  /** Opens the registry, hands it to `use`, and closes it whatever happens (the one way to borrow it). */
  static using<T>(home: string, use: (registry: PolicyRegistry) => T, options: { verify?: boolean } = {}): T {
    const registry = PolicyRegistry.open(home, options);
    try {
      return use(registry);
    } finally {
      registry.close();
    }
  }

  static open(home: string = resultsHome(), options: { verify?: boolean } = {}): PolicyRegistry {
    const { folder, file, database: db } = openHomeDatabase(home, (db, file) => {
      // Only a database that needs creating or migrating takes the write lock.
      if (inspect(db, file) !== registrySchemaVersion) db.transaction(() => migrate(db, file)).immediate();
    });
    const registry = new PolicyRegistry(folder, db);
    if (options.verify !== false) {
      const verification = registry.verifyAudit();
      if (!verification.ok) {
        db.close();
        throw auditBroken(verification, file);
      }
    }
    return registry;
  }

  close(): void {
    this.db.close();
  }

  /**
   * Verifies the artifact in `folder` and stores a copy of its bytes as the next version of
   * `name` (regular files only: links, folders, pipes and devices are refused, as are
   * file names outside the folder).
   */
  register(folder: string, options: RegisterOptions): { version: PolicyVersion; created: boolean } {
    return this.store(readArtifact(folder), options);
  }

  /**
   * Verifies an uploaded artifact (file name -> bytes: policy.json and every file it lists,
   * nothing else) and stores it as the next version of `name`. Nothing is written before
   * every name and hash has been checked.
   */
  registerFiles(files: ReadonlyMap<string, Uint8Array>, options: RegisterOptions): { version: PolicyVersion; created: boolean } {
    const names = [...files.keys()];
    const problems = fileNameProblems(names.filter((name) => name !== manifestFileName));
    if (problems.length > 0) throw new PricelabError('config', 'the upload has files an artifact cannot hold', problems);
    const manifestBytes = files.get(manifestFileName);
    if (manifestBytes === undefined) throw new PricelabError('config', 'the upload has no policy.json', [{ path: ['files', manifestFileName], message: 'expected the manifest among the files, found none' }]);
    const artifact = verifyArtifact(manifestBytes, (name) => files.get(name), 'the upload');
    const unlisted = names.filter((name) => name !== manifestFileName && !Object.hasOwn(artifact.manifest.files, name));
    if (unlisted.length > 0) throw new PricelabError('config', 'the upload has files policy.json does not list', unlisted.map((name) => ({ path: ['files', name], message: 'expected only policy.json and the files it lists, found an unlisted file' })));
    return this.store(artifact, options);
  }

  /**
   * A registered version, loaded for serving: the sha256 of its policy.json must equal the
   * content hash recorded at registration (an edited version is refused with an integrity
   * error naming `name@version`), then every file's hash as at any load.
   */
  async loadVersion(name: string, selector: number | AliasName): Promise<ServedPolicy> {
    const retired = this.retirement(name);
    if (retired) throw new PricelabError('not-found', `policy "${name}" is retired (${retired.at} by ${retired.actor}: ${retired.reason}): it is not served`);
    const version = this.version(name, selector);
    return ServedPolicy.load(version.path, { contentHash: version.contentHash, label: `${version.name}@${version.version}` });
  }

  private store(artifact: ReadPolicyArtifact, options: RegisterOptions): { version: PolicyVersion; created: boolean } {
    const name = options.name ?? artifact.manifest.name;
    if (!namePattern.test(name)) throw new PricelabError('config', `bad policy name "${name}"`, [{ path: ['name'], message: `expected lowercase letters, digits, '.', '_' or '-' (at most 64), found "${name}"` }]);
    const contentHash = artifact.contentHash;
    const existing = this.db.prepare<[string, string], VersionRow>('SELECT * FROM policy_versions WHERE name = ? AND content_hash = ?').get(name, contentHash);
    if (existing) return { version: this.toVersion(existing), created: false };
    this.refuseRetired(name, 'registered');

    const lineage: Lineage = { scenario: artifact.manifest.scenario, trainingRun: options.lineage?.trainingRun, comparison: options.lineage?.comparison };
    const actor = options.actor ?? defaultActor();
    const at = new Date().toISOString();
    // Copy the verified bytes (never links) into a folder no other registration uses and
    // verify the copy, then number the version inside an immediate transaction, so two
    // concurrent registrations never take one number nor store one content twice.
    const parent = join(this.home, 'policies', name);
    removeAbandonedCopies(parent);
    const staging = join(parent, `.partial-${process.pid}-${contentHash.slice(0, 12)}-${Date.now()}`);
    let outcome: { version: number; created: boolean } | undefined;
    try {
      mkdirSync(staging, { recursive: true });
      writeFilesInto(staging, artifactFileBytes(artifact, artifact.manifestBytes));
      readArtifact(staging, { contentHash, label: `the copy of ${name}` });
      outcome = this.db
        .transaction((): { version: number; created: boolean } => {
          const raced = this.db.prepare<[string, string], { version: number }>('SELECT version FROM policy_versions WHERE name = ? AND content_hash = ?').get(name, contentHash);
          if (raced) return { version: raced.version, created: false };
          this.refuseRetired(name, 'registered');
          const next = (this.db.prepare<[string], { latest: number | null }>('SELECT MAX(version) AS latest FROM policy_versions WHERE name = ?').get(name)?.latest ?? 0) + 1;
          const relative = versionPath(name, next);
          const target = join(this.home, relative);
          this.db
            .prepare('INSERT INTO policy_versions (name, version, content_hash, agent_kind, path, lineage, registered_at, registered_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
            .run(name, next, contentHash, artifact.manifest.agentKind, relative, JSON.stringify(lineage), at, actor);
          this.audit({ actor, action: 'register', name, version: next, alias: null, reason: options.reason, details: { contentHash, agentKind: artifact.manifest.agentKind, lineage } }, at);
          rmSync(target, { recursive: true, force: true });
          renameSync(staging, target);
          return { version: next, created: true };
        })
        .immediate();
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
    return { version: this.version(name, outcome.version), created: outcome.created };
  }

  list(): { name: string; versions: number; aliases: Record<string, number>; retired: boolean }[] {
    const names = this.db.prepare<[], { name: string; versions: number }>('SELECT name, COUNT(*) AS versions FROM policy_versions GROUP BY name ORDER BY name').all();
    return names.map((row) => ({ ...row, aliases: this.aliases(row.name), retired: this.retirement(row.name) !== undefined }));
  }

  versions(name: string): PolicyVersion[] {
    return this.db.prepare<[string], VersionRow>('SELECT * FROM policy_versions WHERE name = ? ORDER BY version').all(name).map((row) => this.toVersion(row));
  }

  /** When, by whom and why `name` was retired, or undefined when it is not. */
  retirement(name: string): Retirement | undefined {
    const row = this.db.prepare<[string], { retired_at: string; retired_by: string; reason: string }>('SELECT retired_at, retired_by, reason FROM policy_retirements WHERE name = ?').get(name);
    return row ? { at: row.retired_at, actor: row.retired_by, reason: row.reason } : undefined;
  }

  aliases(name: string): Record<string, number> {
    const rows = this.db.prepare<[string], { alias: string; version: number }>('SELECT alias, version FROM policy_aliases WHERE name = ? ORDER BY alias').all(name);
    return Object.fromEntries(rows.map((row) => [row.alias, row.version]));
  }

  /** A version by number, or what an alias points at; a not-found error says what exists. */
  version(name: string, selector: number | AliasName = 'production'): PolicyVersion {
    const number = typeof selector === 'number' ? selector : this.aliases(name)[selector];
    const row = number === undefined ? undefined : this.db.prepare<[string, number], VersionRow>('SELECT * FROM policy_versions WHERE name = ? AND version = ?').get(name, number);
    if (!row) {
      const known = this.versions(name);
      const what = typeof selector === 'number' ? `version ${selector}` : `${selector} alias`;
      throw new PricelabError('not-found', known.length === 0 ? `no policy named "${name}" is registered` : `policy "${name}" has no ${what} (versions: ${known.map((version) => version.version).join(', ')}; aliases: ${JSON.stringify(this.aliases(name))})`);
    }
    return this.toVersion(row);
  }

  resolve(reference: string): PolicyVersion {
    const parsed = parsePolicyReference(reference);
    return this.version(parsed.name, parsed.version ?? parsed.alias ?? 'production');
  }

  /**
   * Points `alias` at `version`. Gates are the caller's (serving/promotion-gates.ts): the
   * registry records the move, with the evidence it was given, in the audit log.
   */
  moveAlias(name: string, version: number, alias: AliasName, options: ChangeOptions & { action?: 'promote' | 'rollback'; details?: unknown }): { from: number | null; to: number } {
    const actor = options.actor ?? defaultActor();
    const at = new Date().toISOString();
    return this.db.transaction(() => this.moveAliasInside(name, version, alias, { ...options, actor }, at)).immediate();
  }

  /** Moves `alias` back to the version it pointed at before its last move. */
  rollback(name: string, alias: AliasName, options: ChangeOptions): { from: number; to: number } {
    const actor = options.actor ?? defaultActor();
    const at = new Date().toISOString();
    return this.db
      .transaction(() => {
        const current = this.aliases(name)[alias];
        if (current === undefined) throw new PricelabError('not-found', `policy "${name}" has no ${alias} alias to roll back`);
        const last = this.db
          .prepare<[string, string], { action: string; details: string }>("SELECT action, details FROM policy_audit WHERE name = ? AND alias = ? AND action IN ('promote', 'rollback', 'alias-remove') ORDER BY id DESC LIMIT 1")
          .get(name, alias);
        const previous = last && last.action !== 'alias-remove' ? (this.storedJson(last.details, 'policy_audit', `name=${name}, alias=${alias} (last move)`, 'details') as { from?: number | null } | null)?.from : null;
        if (previous === null || previous === undefined) throw new PricelabError('not-found', `policy "${name}"'s ${alias} alias has no earlier version to roll back to`);
        this.moveAliasInside(name, previous, alias, { ...options, actor, action: 'rollback' }, at);
        return { from: current, to: previous };
      })
      .immediate();
  }

  /** Removes `alias` from `name` (audited); what it pointed at stays registered. */
  removeAlias(name: string, alias: AliasName, options: ChangeOptions): { removed: number } {
    const actor = options.actor ?? defaultActor();
    const at = new Date().toISOString();
    return this.db
      .transaction(() => {
        const current = this.aliases(name)[alias];
        if (current === undefined) {
          const known = this.versions(name).length > 0;
          throw new PricelabError('not-found', known ? `policy "${name}" has no ${alias} alias to remove (aliases: ${JSON.stringify(this.aliases(name))})` : `no policy named "${name}" is registered`);
        }
        this.db.prepare('DELETE FROM policy_aliases WHERE name = ? AND alias = ?').run(name, alias);
        this.audit({ actor, action: 'alias-remove', name, version: current, alias, reason: options.reason, details: { from: current } }, at);
        return { removed: current };
      })
      .immediate();
  }

  /**
   * Retires `name` for good (audited): every alias is removed (each removal in the audit
   * log), it can no longer be promoted, registered or served; its versions stay.
   */
  retire(name: string, options: ChangeOptions): { removedAliases: Record<string, number> } {
    const actor = options.actor ?? defaultActor();
    const at = new Date().toISOString();
    return this.db
      .transaction(() => {
        const versions = this.versions(name);
        if (versions.length === 0) throw new PricelabError('not-found', `no policy named "${name}" is registered`);
        this.refuseRetired(name, 'retired again');
        const removedAliases = this.aliases(name);
        for (const [alias, version] of Object.entries(removedAliases)) {
          this.db.prepare('DELETE FROM policy_aliases WHERE name = ? AND alias = ?').run(name, alias);
          this.audit({ actor, action: 'alias-remove', name, version, alias, reason: options.reason, details: { from: version, retiring: true } }, at);
        }
        this.db.prepare('INSERT INTO policy_retirements (name, retired_at, retired_by, reason) VALUES (?, ?, ?, ?)').run(name, at, actor, options.reason);
        this.audit({ actor, action: 'retire', name, version: null, alias: null, reason: options.reason, details: { versions: versions.map((version) => version.version), removedAliases } }, at);
        return { removedAliases };
      })
      .immediate();
  }

  /**
   * Checks the audit log: every entry links to the one before it and its hash matches its
   * content; every version has its register entry (same content hash); every alias,
   * retirement and stored gate policy is what the last entry about it says.
   */
  verifyAudit(): AuditVerification {
    const rows = this.db.prepare<[], AuditRow>('SELECT * FROM policy_audit ORDER BY id').all();
    const problems: Problem[] = [];
    let firstBroken: number | null = null;
    let previous = genesisHash;
    for (const row of rows) {
      const brokenLink = row.previous_hash !== previous;
      const brokenContent = row.entry_hash !== entryHashOf(row.previous_hash, row);
      if (brokenLink || brokenContent) {
        firstBroken ??= row.id;
        if (brokenLink) problems.push({ path: ['audit', row.id, 'previousHash'], message: `expected ${previous} (the hash of the entry before it), found ${row.previous_hash || 'none'}: an entry before it was removed, replaced or reordered` });
        if (brokenContent) problems.push({ path: ['audit', row.id, 'entryHash'], message: `expected the hash of the entry's content, found ${row.entry_hash || 'none'}: the entry was changed or inserted outside the registry` });
      }
      previous = row.entry_hash;
    }
    const registered = new Set(rows.filter((row) => row.action === 'register').map((row) => `${row.name}@${row.version}:${(this.storedJson(row.details, 'policy_audit', `id=${row.id}`, 'details') as { contentHash?: string } | null)?.contentHash}`));
    for (const version of this.db.prepare<[], VersionRow>('SELECT * FROM policy_versions ORDER BY name, version').all()) {
      if (!registered.has(`${version.name}@${version.version}:${version.content_hash}`)) problems.push({ path: ['versions', `${version.name}@${version.version}`], message: `expected a register entry with content hash ${version.content_hash} in the audit log, found none` });
    }
    const lastAliasEntry = new Map<string, AuditRow>();
    const lastGates = new Map<string, AuditRow>();
    const retireEntries = new Set<string>();
    for (const row of rows) {
      if (row.alias !== null && ['promote', 'rollback', 'alias-remove'].includes(row.action)) lastAliasEntry.set(`${row.name}@${row.alias}`, row);
      if (row.action === 'set-gates') lastGates.set(row.name, row);
      if (row.action === 'retire') retireEntries.add(row.name);
    }
    const aliasRows = new Map(this.db.prepare<[], { name: string; alias: string; version: number }>('SELECT name, alias, version FROM policy_aliases').all().map((row) => [`${row.name}@${row.alias}`, row.version]));
    for (const key of new Set([...aliasRows.keys(), ...lastAliasEntry.keys()])) {
      const entry = lastAliasEntry.get(key);
      const logged = entry === undefined || entry.action === 'alias-remove' ? undefined : (entry.version ?? undefined);
      const found = aliasRows.get(key);
      if (logged !== found) problems.push({ path: ['aliases', key], message: `expected ${logged === undefined ? 'no alias' : `version ${logged}`} (the last audit entry about it), found ${found === undefined ? 'no alias' : `version ${found}`}: the alias was changed outside the registry` });
    }
    for (const row of this.db.prepare<[], { name: string }>('SELECT name FROM policy_retirements').all()) {
      if (!retireEntries.has(row.name)) problems.push({ path: ['retirements', row.name], message: 'expected a retire entry in the audit log, found none' });
    }
    const gateRows = new Map(this.db.prepare<[], { name: string; gates: string }>('SELECT name, gates FROM policy_gates').all().map((row) => [row.name, JSON.stringify(this.storedJson(row.gates, 'policy_gates', `name=${row.name}`, 'gates'))]));
    for (const name of new Set([...gateRows.keys(), ...lastGates.keys()])) {
      const entry = lastGates.get(name);
      const logged = entry ? JSON.stringify((this.storedJson(entry.details, 'policy_audit', `id=${entry.id}`, 'details') as { gates?: unknown } | null)?.gates ?? null) : undefined;
      if (logged !== gateRows.get(name)) problems.push({ path: ['gates', name], message: `expected ${logged === undefined ? 'no stored gates' : 'the gates of the last set-gates entry in the audit log'}, found ${gateRows.has(name) ? 'other gates' : 'none'}: they were changed outside the registry` });
    }
    return { ok: problems.length === 0, entries: rows.length, firstBroken, problems };
  }

  auditLog(name?: string): AuditEntry[] {
    const rows = name === undefined ? this.db.prepare<[], AuditRow>('SELECT * FROM policy_audit ORDER BY id').all() : this.db.prepare<[string], AuditRow>('SELECT * FROM policy_audit WHERE name = ? ORDER BY id').all(name);
    return rows.map(({ previous_hash: previousHash, entry_hash: entryHash, ...row }) => ({ ...row, details: this.storedJson(row.details, 'policy_audit', `id=${row.id}`, 'details'), previousHash, entryHash }));
  }

  /**
   * Stores the promotion gates of a policy name (serving/promotion-gates.ts; the caller
   * validates them), replacing earlier ones; the audit log keeps each set with the gates.
   */
  setGates(name: string, gates: unknown, options: ChangeOptions): void {
    if (!namePattern.test(name)) throw new PricelabError('config', `bad policy name "${name}"`, [{ path: ['name'], message: `expected lowercase letters, digits, '.', '_' or '-' (at most 64), found "${name}"` }]);
    const actor = options.actor ?? defaultActor();
    const at = new Date().toISOString();
    this.db.transaction(() => {
      this.refuseRetired(name, 'given gates');
      const before = this.gates(name);
      this.db.prepare('INSERT INTO policy_gates (name, gates, set_at, set_by) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET gates = excluded.gates, set_at = excluded.set_at, set_by = excluded.set_by').run(name, JSON.stringify(gates), at, actor);
      this.audit({ actor, action: 'set-gates', name, version: null, alias: null, reason: options.reason, details: { gates, previous: before?.gates ?? null } }, at);
    }).immediate();
  }

  /** The promotion gates stored for a policy name, if any. */
  gates(name: string): { gates: unknown; setAt: string; setBy: string } | undefined {
    const row = this.db.prepare<[string], { gates: string; set_at: string; set_by: string }>('SELECT gates, set_at, set_by FROM policy_gates WHERE name = ?').get(name);
    return row ? { gates: this.storedJson(row.gates, 'policy_gates', `name=${name}`, 'gates'), setAt: row.set_at, setBy: row.set_by } : undefined;
  }

  /** A change counter: serving polls it to pick up promotions and rollbacks without a restart. */
  changeCount(): number {
    return this.db.prepare<[], { latest: number | null }>('SELECT MAX(id) AS latest FROM policy_audit').get()?.latest ?? 0;
  }

  /** Appends one entry linked to the last one; call inside an IMMEDIATE transaction. */
  private audit(entry: Omit<AuditEntry, 'id' | 'at' | 'previousHash' | 'entryHash'>, at: string): void {
    const previous = this.db.prepare<[], { entry_hash: string }>('SELECT entry_hash FROM policy_audit ORDER BY id DESC LIMIT 1').get()?.entry_hash ?? genesisHash;
    const row = { at, actor: entry.actor, action: entry.action, name: entry.name, version: entry.version, alias: entry.alias, reason: entry.reason, details: JSON.stringify(entry.details ?? null) };
    this.db
      .prepare('INSERT INTO policy_audit (at, actor, action, name, version, alias, reason, details, previous_hash, entry_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(row.at, row.actor, row.action, row.name, row.version, row.alias, row.reason, row.details, previous, entryHashOf(previous, row));
  }

  /** The move itself, reading the alias's current target inside the caller's transaction. */
  private moveAliasInside(name: string, version: number, alias: AliasName, options: ChangeOptions & { actor: string; action?: 'promote' | 'rollback'; details?: unknown }, at: string): { from: number | null; to: number } {
    this.refuseRetired(name, 'promoted');
    this.version(name, version);
    const from = this.aliases(name)[alias] ?? null;
    this.db
      .prepare('INSERT INTO policy_aliases (name, alias, version, moved_at) VALUES (?, ?, ?, ?) ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version, moved_at = excluded.moved_at')
      .run(name, alias, version, at);
    this.audit({ actor: options.actor, action: options.action ?? 'promote', name, version, alias, reason: options.reason, details: { from, to: version, ...(options.details === undefined ? {} : { evidence: options.details }) } }, at);
    return { from, to: version };
  }

  private refuseRetired(name: string, what: string): void {
    const retired = this.retirement(name);
    if (retired) throw new PricelabError('config', `policy "${name}" is retired and cannot be ${what}`, [{ path: ['name'], message: `expected a policy that is not retired, found "${name}" retired at ${retired.at} by ${retired.actor} (${retired.reason})` }]);
  }

  /** A JSON column of the registry's tables; one that does not parse is the store's integrity error naming the cell. */
  private storedJson(text: string, table: string, row: string, column: string): unknown {
    return parseStoredJson(text, databasePath(this.home), { table, row, column });
  }

  private toVersion(row: VersionRow): PolicyVersion {
    return {
      name: row.name,
      version: row.version,
      contentHash: row.content_hash,
      agentKind: row.agent_kind,
      // Recorded relative to the home (absolute in databases from before schema 3).
      path: isAbsolute(row.path) ? row.path : join(this.home, row.path),
      lineage: this.storedJson(row.lineage, 'policy_versions', `name=${row.name}, version=${row.version}`, 'lineage') as Lineage,
      registeredAt: row.registered_at,
      registeredBy: row.registered_by,
    };
  }
}

/** Removes `.partial-<pid>-*` copies left by registrations whose process is gone (killed mid-copy). */
function removeAbandonedCopies(parent: string): void {
  let entries: string[];
  try {
    entries = readdirSync(parent);
  } catch {
    return;
  }
  for (const entry of entries) {
    const pid = /^\.partial-(\d+)-/.exec(entry)?.[1];
    if (pid === undefined || Number(pid) === process.pid || processAlive(Number(pid))) continue;
    rmSync(join(parent, entry), { recursive: true, force: true });
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Where a version's artifact lives, relative to the home. */
const versionPath = (name: string, version: number): string => join('policies', name, String(version));

function auditBroken(verification: AuditVerification, file: string): PricelabError {
  const where = verification.firstBroken === null ? 'the registry does not match its audit log' : `the audit log's hash chain is broken at entry #${verification.firstBroken}`;
  return new PricelabError('integrity', `the policy registry in ${file} failed its audit check: ${where}; refusing to use it (pricelab policy audit --verify lists every problem)`, verification.problems.slice(0, 20));
}

