/**
 * The policy registry: named policies, each a list of immutable versions (verified policy
 * artifacts copied into the pricelab home), aliases (candidate, staging, production) that
 * move between versions, the lineage of each version (scenario, training run, comparison
 * evidence), and an append-only audit log of every change (who, when, what, why).
 *
 * Storage: the results store's SQLite database (PRICELAB_HOME/pricelab.db) holds the
 * registry's tables (own schema version in `registry_schema`); the artifacts live under
 * PRICELAB_HOME/policies/<name>/<version>/. Immutability and append-only are enforced by
 * the database itself (triggers refuse UPDATE and DELETE), not only by this code.
 *
 * Every change is one transaction: the artifact is copied into place first (atomically:
 * a temporary folder renamed), then the rows are written; a failure removes the copy.
 * Registering the same content again under the same name returns the existing version.
 */
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { artifactFileBytes, fileNameProblems, manifestFileName, readArtifact, verifyArtifact, writeFilesInto, type ReadPolicyArtifact } from '../agents/artifact.js';
import { PricelabError } from '../env/errors.js';
import { databasePath, resultsHome } from '../experiments/store.js';
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
  readonly action: 'register' | 'promote' | 'rollback' | 'set-gates';
  readonly name: string;
  readonly version: number | null;
  readonly alias: string | null;
  readonly reason: string;
  readonly details: unknown;
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

const schema = `
  CREATE TABLE IF NOT EXISTS registry_schema (version INTEGER NOT NULL);
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
  CREATE TRIGGER IF NOT EXISTS policy_versions_immutable BEFORE UPDATE ON policy_versions
    BEGIN SELECT RAISE(ABORT, 'policy versions are immutable'); END;
  CREATE TRIGGER IF NOT EXISTS policy_versions_kept BEFORE DELETE ON policy_versions
    BEGIN SELECT RAISE(ABORT, 'policy versions are never deleted'); END;
  CREATE TRIGGER IF NOT EXISTS policy_audit_append_only_update BEFORE UPDATE ON policy_audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
  CREATE TRIGGER IF NOT EXISTS policy_audit_append_only_delete BEFORE DELETE ON policy_audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
`;

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

  static open(home: string = resultsHome()): PolicyRegistry {
    const folder = resolve(home);
    mkdirSync(folder, { recursive: true });
    const db = new Database(databasePath(folder));
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    db.exec(schema);
    return new PolicyRegistry(folder, db);
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
    const version = this.version(name, selector);
    return ServedPolicy.load(version.path, { contentHash: version.contentHash, label: `${version.name}@${version.version}` });
  }

  private store(artifact: ReadPolicyArtifact, options: RegisterOptions): { version: PolicyVersion; created: boolean } {
    const name = options.name ?? artifact.manifest.name;
    if (!namePattern.test(name)) throw new PricelabError('config', `bad policy name "${name}"`, [{ path: ['name'], message: `expected lowercase letters, digits, '.', '_' or '-' (at most 64), found "${name}"` }]);
    const contentHash = artifact.contentHash;
    const existing = this.db.prepare<[string, string], VersionRow>('SELECT * FROM policy_versions WHERE name = ? AND content_hash = ?').get(name, contentHash);
    if (existing) return { version: toVersion(existing), created: false };

    const lineage: Lineage = { scenario: artifact.manifest.scenario, trainingRun: options.lineage?.trainingRun, comparison: options.lineage?.comparison };
    const actor = options.actor ?? defaultActor();
    const at = new Date().toISOString();
    // Copy the verified bytes (never links) into a folder no other registration uses and
    // verify the copy, then number the version inside an immediate transaction, so two
    // concurrent registrations never take one number nor store one content twice.
    const parent = join(this.home, 'policies', name);
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
          const next = (this.db.prepare<[string], { latest: number | null }>('SELECT MAX(version) AS latest FROM policy_versions WHERE name = ?').get(name)?.latest ?? 0) + 1;
          const target = join(this.home, 'policies', name, String(next));
          this.db
            .prepare('INSERT INTO policy_versions (name, version, content_hash, agent_kind, path, lineage, registered_at, registered_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
            .run(name, next, contentHash, artifact.manifest.agentKind, target, JSON.stringify(lineage), at, actor);
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

  list(): { name: string; versions: number; aliases: Record<string, number> }[] {
    const names = this.db.prepare<[], { name: string; versions: number }>('SELECT name, COUNT(*) AS versions FROM policy_versions GROUP BY name ORDER BY name').all();
    return names.map((row) => ({ ...row, aliases: this.aliases(row.name) }));
  }

  versions(name: string): PolicyVersion[] {
    return this.db.prepare<[string], VersionRow>('SELECT * FROM policy_versions WHERE name = ? ORDER BY version').all(name).map(toVersion);
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
    return toVersion(row);
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
    this.version(name, version);
    const actor = options.actor ?? defaultActor();
    const at = new Date().toISOString();
    const from = this.aliases(name)[alias] ?? null;
    this.db.transaction(() => {
      this.db
        .prepare('INSERT INTO policy_aliases (name, alias, version, moved_at) VALUES (?, ?, ?, ?) ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version, moved_at = excluded.moved_at')
        .run(name, alias, version, at);
      this.audit({ actor, action: options.action ?? 'promote', name, version, alias, reason: options.reason, details: { from, to: version, ...(options.details === undefined ? {} : { evidence: options.details }) } }, at);
    })();
    return { from, to: version };
  }

  /** Moves `alias` back to the version it pointed at before its last move. */
  rollback(name: string, alias: AliasName, options: ChangeOptions): { from: number; to: number } {
    const current = this.aliases(name)[alias];
    if (current === undefined) throw new PricelabError('not-found', `policy "${name}" has no ${alias} alias to roll back`);
    const moves = this.db
      .prepare<[string, string], { version: number; details: string }>("SELECT version, details FROM policy_audit WHERE name = ? AND alias = ? AND action IN ('promote', 'rollback') ORDER BY id DESC")
      .all(name, alias);
    const last = moves[0];
    const previous = last ? (JSON.parse(last.details) as { from: number | null }).from : null;
    if (previous === null || previous === undefined) throw new PricelabError('not-found', `policy "${name}"'s ${alias} alias has no earlier version to roll back to`);
    this.moveAlias(name, previous, alias, { ...options, action: 'rollback' });
    return { from: current, to: previous };
  }

  auditLog(name?: string): AuditEntry[] {
    const rows = name === undefined ? this.db.prepare<[], AuditRow>('SELECT * FROM policy_audit ORDER BY id').all() : this.db.prepare<[string], AuditRow>('SELECT * FROM policy_audit WHERE name = ? ORDER BY id').all(name);
    return rows.map((row) => ({ ...row, details: JSON.parse(row.details) as unknown }));
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
      const before = this.gates(name);
      this.db.prepare('INSERT INTO policy_gates (name, gates, set_at, set_by) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET gates = excluded.gates, set_at = excluded.set_at, set_by = excluded.set_by').run(name, JSON.stringify(gates), at, actor);
      this.audit({ actor, action: 'set-gates', name, version: null, alias: null, reason: options.reason, details: { gates, previous: before?.gates ?? null } }, at);
    })();
  }

  /** The promotion gates stored for a policy name, if any. */
  gates(name: string): { gates: unknown; setAt: string; setBy: string } | undefined {
    const row = this.db.prepare<[string], { gates: string; set_at: string; set_by: string }>('SELECT gates, set_at, set_by FROM policy_gates WHERE name = ?').get(name);
    return row ? { gates: JSON.parse(row.gates) as unknown, setAt: row.set_at, setBy: row.set_by } : undefined;
  }

  /** A change counter: serving polls it to pick up promotions and rollbacks without a restart. */
  changeCount(): number {
    return this.db.prepare<[], { latest: number | null }>('SELECT MAX(id) AS latest FROM policy_audit').get()?.latest ?? 0;
  }

  private audit(entry: Omit<AuditEntry, 'id' | 'at'>, at: string): void {
    this.db
      .prepare('INSERT INTO policy_audit (at, actor, action, name, version, alias, reason, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(at, entry.actor, entry.action, entry.name, entry.version, entry.alias, entry.reason, JSON.stringify(entry.details ?? null));
  }
}

function toVersion(row: VersionRow): PolicyVersion {
  return {
    name: row.name,
    version: row.version,
    contentHash: row.content_hash,
    agentKind: row.agent_kind,
    path: row.path,
    lineage: JSON.parse(row.lineage) as Lineage,
    registeredAt: row.registered_at,
    registeredBy: row.registered_by,
  };
}
