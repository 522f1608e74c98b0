/**
 * The policy registry: named policies, each a list of immutable versions (verified policy
 * artifacts copied into the pricelab home), aliases (candidate, staging, production) that
 * move between versions, the lineage of each version (scenario, training run, comparison
 * evidence), and an append-only audit log of every change (who, when, what, why).
 *
 * Storage: the results store's SQLite database (PRICELAB_HOME/pricelab.db) holds the
 * registry's tables (serving/registry-schema.ts: own schema version in `registry_schema`,
 * migrations applied in order on open); the artifacts live under PRICELAB_HOME/policies/<name>/<version>/, recorded
 * relative to the home, so a copied home reads its own files. Immutability and
 * append-only are enforced by the database itself (triggers refuse UPDATE, DELETE and
 * INSERT OR REPLACE), not only by this code.
 *
 * The audit log is a hash chain (serving/audit-chain.ts): each entry stores the hash of the entry before it and
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
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type Database from 'better-sqlite3';
import { artifactFileBytes, fileNameProblems, manifestFileName, readArtifact, verifyArtifact, writeFilesInto, type ReadPolicyArtifact } from '../agents/artifact.js';
import { PricelabError } from '../core/errors.js';
import { databasePath, openHomeDatabase, resultsHome } from '../core/home-database.js';
import { parseStoredJson } from '../core/stored-json.js';
import type { StoreLocation } from '../core/store-url.js';
import type { PolicyRegistryBackend } from './registry-backend.js';
import { ServedPolicy } from './served-policy.js';
import { appendAuditEntry, auditBroken, verifyAuditChain, type AuditEntry, type AuditVerification } from './audit-chain.js';
import { inspect, migrate, registrySchemaVersion, type AuditRow, type VersionRow } from './registry-schema.js';
import { defaultActor, namePattern, parsePolicyReference, type AliasName } from './policy-reference.js';
import { removeAbandonedCopies, versionPath } from './artifact-folders.js';

/** A policy_versions row as a version, in either backend: the path resolved against the home, the lineage read as checked JSON. */
export function versionOfRow(row: VersionRow, home: string, storedJson: (text: string, table: string, row: string, column: string) => unknown): PolicyVersion {
  return {
    name: row.name,
    version: row.version,
    contentHash: row.content_hash,
    agentKind: row.agent_kind,
    // Recorded relative to the home (absolute in databases from before schema 3).
    path: isAbsolute(row.path) ? row.path : join(home, row.path),
    lineage: storedJson(row.lineage, 'policy_versions', `name=${row.name}, version=${row.version}`, 'lineage') as Lineage,
    registeredAt: row.registered_at,
    registeredBy: row.registered_by,
  };
}

export { aliasNames, defaultActor, parsePolicyReference, type AliasName } from './policy-reference.js';
export type { AuditEntry, AuditVerification } from './audit-chain.js';
export { openPolicyRegistry, usingPolicyRegistry, type PolicyRegistryBackend, type RegisteredPolicySummary } from './registry-backend.js';

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

/**
 * An uploaded artifact (file name -> bytes: policy.json and every file it lists, nothing
 * else), every name and hash checked; nothing is written.
 */
export function verifiedUpload(files: ReadonlyMap<string, Uint8Array>): ReadPolicyArtifact {
  const names = [...files.keys()];
  const problems = fileNameProblems(names.filter((name) => name !== manifestFileName));
  if (problems.length > 0) throw new PricelabError('config', 'the upload has files an artifact cannot hold', problems);
  const manifestBytes = files.get(manifestFileName);
  if (manifestBytes === undefined) throw new PricelabError('config', 'the upload has no policy.json', [{ path: ['files', manifestFileName], message: 'expected the manifest among the files, found none' }]);
  const artifact = verifyArtifact(manifestBytes, (name) => files.get(name), 'the upload');
  const unlisted = names.filter((name) => name !== manifestFileName && !Object.hasOwn(artifact.manifest.files, name));
  if (unlisted.length > 0) throw new PricelabError('config', 'the upload has files policy.json does not list', unlisted.map((name) => ({ path: ['files', name], message: 'expected only policy.json and the files it lists, found an unlisted file' })));
  return artifact;
}

/** A policy name as given, or a config error saying what a name may hold. */
export function checkedName(name: string): string {
  if (!namePattern.test(name)) throw new PricelabError('config', `bad policy name "${name}"`, [{ path: ['name'], message: `expected lowercase letters, digits, '.', '_' or '-' (at most 64), found "${name}"` }]);
  return name;
}

export class PolicyRegistry implements PolicyRegistryBackend {
  readonly location: StoreLocation;

  private constructor(
    readonly home: string,
    private readonly db: Database.Database,
  ) {
    this.location = { kind: 'sqlite', home };
  }

  /** Opens the registry, hands it to `use`, and closes it whatever happens (the one way to borrow it). */
  static using<T>(home: string, use: (registry: PolicyRegistry) => T, options: { verify?: boolean } = {}): T {
    const registry = PolicyRegistry.open(home, options);
    try {
      return use(registry);
    } finally {
      registry.close();
    }
  }

  /**
   * Opens (creating or migrating) the registry in `home`. Refuses with an integrity error
   * when a registry table vanished or the audit log does not verify (`verifyAudit`);
   * `{ verify: false }` opens it anyway, for `pricelab policy audit --verify` to report.
   */
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
    return this.store(verifiedUpload(files), options);
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
    const name = checkedName(options.name ?? artifact.manifest.name);
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
          appendAuditEntry(this.db, { actor, action: 'register', name, version: next, alias: null, reason: options.reason, details: { contentHash, agentKind: artifact.manifest.agentKind, lineage } }, at);
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
        appendAuditEntry(this.db, { actor, action: 'alias-remove', name, version: current, alias, reason: options.reason, details: { from: current } }, at);
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
          appendAuditEntry(this.db, { actor, action: 'alias-remove', name, version, alias, reason: options.reason, details: { from: version, retiring: true } }, at);
        }
        this.db.prepare('INSERT INTO policy_retirements (name, retired_at, retired_by, reason) VALUES (?, ?, ?, ?)').run(name, at, actor, options.reason);
        appendAuditEntry(this.db, { actor, action: 'retire', name, version: null, alias: null, reason: options.reason, details: { versions: versions.map((version) => version.version), removedAliases } }, at);
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
    return verifyAuditChain(this.db, (text, table, row, column) => this.storedJson(text, table, row, column));
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
      appendAuditEntry(this.db, { actor, action: 'set-gates', name, version: null, alias: null, reason: options.reason, details: { gates, previous: before?.gates ?? null } }, at);
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

  /** The move itself, reading the alias's current target inside the caller's transaction. */
  private moveAliasInside(name: string, version: number, alias: AliasName, options: ChangeOptions & { actor: string; action?: 'promote' | 'rollback'; details?: unknown }, at: string): { from: number | null; to: number } {
    this.refuseRetired(name, 'promoted');
    this.version(name, version);
    const from = this.aliases(name)[alias] ?? null;
    this.db
      .prepare('INSERT INTO policy_aliases (name, alias, version, moved_at) VALUES (?, ?, ?, ?) ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version, moved_at = excluded.moved_at')
      .run(name, alias, version, at);
    appendAuditEntry(this.db, { actor: options.actor, action: options.action ?? 'promote', name, version, alias, reason: options.reason, details: { from, to: version, ...(options.details === undefined ? {} : { evidence: options.details }) } }, at);
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
    return versionOfRow(row, this.home, (text, table, rowName, column) => this.storedJson(text, table, rowName, column));
  }
}
