/**
 * The policy registry in a team's PostgreSQL database (`PRICELAB_STORE=postgres://...`),
 * shared by every `pricelab serve` replica and every machine that registers or promotes:
 * the same versions, aliases, retirements, stored gates and hash-chained audit log as the
 * SQLite registry (serving/registry.ts; tests/serving/registry-conformance.test.ts holds
 * the two together). Tables and triggers: serving/registry-postgres-schema.ts.
 *
 * Artifacts live on disk under the artifact root (`PRICELAB_ARTIFACT_ROOT`, a folder every
 * machine mounts), at policies/<name>/<version>/, recorded relative to it; every load checks
 * sha256(policy.json) against the row, then every file, as with SQLite.
 *
 * Every change is one transaction holding one advisory lock (the registry's), so changes
 * from any number of machines are applied one at a time, each reading the state it changes
 * inside it, and audit ids grow in commit order: `changeCount` (the newest audit id) is
 * what serving replicas poll. A registration copies the verified bytes into a staging
 * folder named after this machine and process, verifies the copy, then numbers the version
 * and renames the folder into place.
 */
import { mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Pool } from 'pg';
import { artifactFileBytes, readArtifact, writeFilesInto, type ReadPolicyArtifact } from '../agents/artifact.js';
import { PricelabError } from '../core/errors.js';
import { inTransaction, lockTransaction, migratePostgres, openPostgres, type Queryable } from '../core/postgres.js';
import { parseStoredJson } from '../core/stored-json.js';
import { describeLocation, type StoreLocation } from '../core/store-url.js';
import { auditBroken, entryHashOf, genesisHash, verifyAuditTables, type AuditEntry, type AuditVerification } from './audit-chain.js';
import { versionPath } from './artifact-folders.js';
import { defaultActor, parsePolicyReference, type AliasName } from './policy-reference.js';
import type { PolicyRegistryBackend, RegisteredPolicySummary } from './registry-backend.js';
import { registryComponent, registryMigrations, registryTables } from './registry-postgres-schema.js';
import type { AuditRow, VersionRow } from './registry-schema.js';
import { checkedName, verifiedUpload, versionOfRow, type ChangeOptions, type Lineage, type PolicyVersion, type RegisterOptions, type Retirement } from './registry.js';
import { ServedPolicy } from './served-policy.js';

/** The advisory lock every change holds. */
const registryLock = 'pricelab-policy-registry';
/** Names sort as bytes, as in SQLite. */
const byName = 'COLLATE "C"';

type PostgresLocation = StoreLocation & { kind: 'postgres' };

export class PostgresPolicyRegistry implements PolicyRegistryBackend {
  private readonly where: string;

  private constructor(
    readonly location: PostgresLocation,
    private readonly pool: Pool,
  ) {
    this.where = describeLocation(location);
  }

  get home(): string {
    return this.location.home;
  }

  /**
   * Connects (a config error within seconds when the server cannot be reached), migrates,
   * refuses a database where a registry table vanished, and verifies the audit log
   * (integrity) unless `{ verify: false }` (for `pricelab policy audit --verify` to report).
   */
  static async open(location: PostgresLocation, options: { verify?: boolean } = {}): Promise<PostgresPolicyRegistry> {
    const pool = await openPostgres(location.url);
    const registry = new PostgresPolicyRegistry(location, pool);
    try {
      await migratePostgres(pool, registryComponent, registryMigrations, registry.where);
      const { rows } = await pool.query<{ table: string; found: string | null }>('SELECT name AS table, to_regclass(name) AS found FROM unnest($1::text[]) AS name', [registryTables]);
      const missing = rows.filter((row) => row.found === null).map((row) => row.table);
      if (missing.length > 0) {
        throw new PricelabError('integrity', `the policy registry in ${registry.where} is damaged: registry tables are missing; refusing to open it (restore the database from a backup)`, missing.map((table) => ({ path: ['tables', table], message: 'expected the table, found none (dropped?)' })));
      }
      if (options.verify !== false) {
        const verification = await registry.verifyAudit();
        if (!verification.ok) throw auditBroken(verification, registry.where);
      }
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw error;
    }
    return registry;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  async register(folder: string, options: RegisterOptions): Promise<{ version: PolicyVersion; created: boolean }> {
    return this.store(readArtifact(folder), options);
  }

  async registerFiles(files: ReadonlyMap<string, Uint8Array>, options: RegisterOptions): Promise<{ version: PolicyVersion; created: boolean }> {
    return this.store(verifiedUpload(files), options);
  }

  async loadVersion(name: string, selector: number | AliasName): Promise<ServedPolicy> {
    const retired = await this.retirement(name);
    if (retired) throw new PricelabError('not-found', `policy "${name}" is retired (${retired.at} by ${retired.actor}: ${retired.reason}): it is not served`);
    const version = await this.version(name, selector);
    return ServedPolicy.load(version.path, { contentHash: version.contentHash, label: `${version.name}@${version.version}` });
  }

  private async store(artifact: ReadPolicyArtifact, options: RegisterOptions): Promise<{ version: PolicyVersion; created: boolean }> {
    const name = checkedName(options.name ?? artifact.manifest.name);
    const contentHash = artifact.contentHash;
    const existing = (await this.pool.query<VersionRow>('SELECT * FROM policy_versions WHERE name = $1 AND content_hash = $2', [name, contentHash])).rows[0];
    if (existing) return { version: this.toVersion(existing), created: false };
    await this.refuseRetired(this.pool, name, 'registered');

    const lineage: Lineage = { scenario: artifact.manifest.scenario, trainingRun: options.lineage?.trainingRun, comparison: options.lineage?.comparison };
    const actor = options.actor ?? defaultActor();
    const at = new Date().toISOString();
    const parent = join(this.home, 'policies', name);
    removeOwnAbandonedStaging(parent);
    const staging = join(parent, `${stagingPrefix()}${process.pid}-${contentHash.slice(0, 12)}-${Date.now()}`);
    let outcome: { version: number; created: boolean };
    try {
      mkdirSync(staging, { recursive: true });
      writeFilesInto(staging, artifactFileBytes(artifact, artifact.manifestBytes));
      readArtifact(staging, { contentHash, label: `the copy of ${name}` });
      outcome = await this.change(async (client) => {
        const raced = (await client.query<{ version: number }>('SELECT version FROM policy_versions WHERE name = $1 AND content_hash = $2', [name, contentHash])).rows[0];
        if (raced) return { version: raced.version, created: false };
        await this.refuseRetired(client, name, 'registered');
        const next = ((await client.query<{ latest: number | null }>('SELECT MAX(version) AS latest FROM policy_versions WHERE name = $1', [name])).rows[0]?.latest ?? 0) + 1;
        const relative = versionPath(name, next).split('\\').join('/');
        await client.query('INSERT INTO policy_versions (name, version, content_hash, agent_kind, path, lineage, registered_at, registered_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [
          name,
          next,
          contentHash,
          artifact.manifest.agentKind,
          relative,
          JSON.stringify(lineage),
          at,
          actor,
        ]);
        await appendEntry(client, { actor, action: 'register', name, version: next, alias: null, reason: options.reason, details: { contentHash, agentKind: artifact.manifest.agentKind, lineage } }, at);
        const target = join(this.home, relative);
        rmSync(target, { recursive: true, force: true });
        renameSync(staging, target);
        return { version: next, created: true };
      });
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
    return { version: await this.version(name, outcome.version), created: outcome.created };
  }

  async list(): Promise<RegisteredPolicySummary[]> {
    const { rows } = await this.pool.query<{ name: string; versions: number }>(`SELECT name, COUNT(*) AS versions FROM policy_versions GROUP BY name ORDER BY name ${byName}`);
    const aliases = await this.pool.query<{ name: string; alias: string; version: number }>(`SELECT name, alias, version FROM policy_aliases ORDER BY alias ${byName}`);
    const retired = new Set((await this.pool.query<{ name: string }>('SELECT name FROM policy_retirements')).rows.map((row) => row.name));
    return rows.map((row) => ({
      name: row.name,
      versions: row.versions,
      aliases: Object.fromEntries(aliases.rows.filter((alias) => alias.name === row.name).map((alias) => [alias.alias, alias.version])),
      retired: retired.has(row.name),
    }));
  }

  async versions(name: string): Promise<PolicyVersion[]> {
    const { rows } = await this.pool.query<VersionRow>('SELECT * FROM policy_versions WHERE name = $1 ORDER BY version', [name]);
    return rows.map((row) => this.toVersion(row));
  }

  retirement(name: string): Promise<Retirement | undefined> {
    return this.retirementWith(this.pool, name);
  }

  aliases(name: string): Promise<Record<string, number>> {
    return this.aliasesWith(this.pool, name);
  }

  async version(name: string, selector: number | AliasName = 'production'): Promise<PolicyVersion> {
    return this.toVersion(await this.versionRowWith(this.pool, name, selector));
  }

  async resolve(reference: string): Promise<PolicyVersion> {
    const parsed = parsePolicyReference(reference);
    return this.version(parsed.name, parsed.version ?? parsed.alias ?? 'production');
  }

  async moveAlias(name: string, version: number, alias: AliasName, options: ChangeOptions & { action?: 'promote' | 'rollback'; details?: unknown }): Promise<{ from: number | null; to: number }> {
    const actor = options.actor ?? defaultActor();
    const at = new Date().toISOString();
    return this.change((client) => this.moveAliasInside(client, name, version, alias, { ...options, actor }, at));
  }

  async rollback(name: string, alias: AliasName, options: ChangeOptions): Promise<{ from: number; to: number }> {
    const actor = options.actor ?? defaultActor();
    const at = new Date().toISOString();
    return this.change(async (client) => {
      const current = (await this.aliasesWith(client, name))[alias];
      if (current === undefined) throw new PricelabError('not-found', `policy "${name}" has no ${alias} alias to roll back`);
      const last = (
        await client.query<{ action: string; details: string }>("SELECT action, details FROM policy_audit WHERE name = $1 AND alias = $2 AND action IN ('promote', 'rollback', 'alias-remove') ORDER BY id DESC LIMIT 1", [name, alias])
      ).rows[0];
      const previous = last && last.action !== 'alias-remove' ? (this.storedJson(last.details, 'policy_audit', `name=${name}, alias=${alias} (last move)`, 'details') as { from?: number | null } | null)?.from : null;
      if (previous === null || previous === undefined) throw new PricelabError('not-found', `policy "${name}"'s ${alias} alias has no earlier version to roll back to`);
      await this.moveAliasInside(client, name, previous, alias, { ...options, actor, action: 'rollback' }, at);
      return { from: current, to: previous };
    });
  }

  async removeAlias(name: string, alias: AliasName, options: ChangeOptions): Promise<{ removed: number }> {
    const actor = options.actor ?? defaultActor();
    const at = new Date().toISOString();
    return this.change(async (client) => {
      const aliases = await this.aliasesWith(client, name);
      const current = aliases[alias];
      if (current === undefined) {
        const known = ((await client.query<{ count: number }>('SELECT COUNT(*) AS count FROM policy_versions WHERE name = $1', [name])).rows[0]?.count ?? 0) > 0;
        throw new PricelabError('not-found', known ? `policy "${name}" has no ${alias} alias to remove (aliases: ${JSON.stringify(aliases)})` : `no policy named "${name}" is registered`);
      }
      await client.query('DELETE FROM policy_aliases WHERE name = $1 AND alias = $2', [name, alias]);
      await appendEntry(client, { actor, action: 'alias-remove', name, version: current, alias, reason: options.reason, details: { from: current } }, at);
      return { removed: current };
    });
  }

  async retire(name: string, options: ChangeOptions): Promise<{ removedAliases: Record<string, number> }> {
    const actor = options.actor ?? defaultActor();
    const at = new Date().toISOString();
    return this.change(async (client) => {
      const versions = (await client.query<{ version: number }>('SELECT version FROM policy_versions WHERE name = $1 ORDER BY version', [name])).rows.map((row) => row.version);
      if (versions.length === 0) throw new PricelabError('not-found', `no policy named "${name}" is registered`);
      await this.refuseRetired(client, name, 'retired again');
      const removedAliases = await this.aliasesWith(client, name);
      for (const [alias, version] of Object.entries(removedAliases)) {
        await client.query('DELETE FROM policy_aliases WHERE name = $1 AND alias = $2', [name, alias]);
        await appendEntry(client, { actor, action: 'alias-remove', name, version, alias, reason: options.reason, details: { from: version, retiring: true } }, at);
      }
      await client.query('INSERT INTO policy_retirements (name, retired_at, retired_by, reason) VALUES ($1, $2, $3, $4)', [name, at, actor, options.reason]);
      await appendEntry(client, { actor, action: 'retire', name, version: null, alias: null, reason: options.reason, details: { versions, removedAliases } }, at);
      return { removedAliases };
    });
  }

  async verifyAudit(): Promise<AuditVerification> {
    // One snapshot of every table: a change committed meanwhile is seen whole or not at all.
    const tables = await inTransaction(this.pool, async (client) => {
      await client.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
      return {
        audit: (await client.query<AuditRow>('SELECT * FROM policy_audit ORDER BY id')).rows,
        versions: (await client.query<VersionRow>(`SELECT * FROM policy_versions ORDER BY name ${byName}, version`)).rows,
        aliases: (await client.query<{ name: string; alias: string; version: number }>('SELECT name, alias, version FROM policy_aliases')).rows,
        retirements: (await client.query<{ name: string }>('SELECT name FROM policy_retirements')).rows,
        gates: (await client.query<{ name: string; gates: string }>('SELECT name, gates FROM policy_gates')).rows,
      };
    });
    return verifyAuditTables(tables, (text, table, row, column) => this.storedJson(text, table, row, column));
  }

  async auditLog(name?: string): Promise<AuditEntry[]> {
    const { rows } = name === undefined ? await this.pool.query<AuditRow>('SELECT * FROM policy_audit ORDER BY id') : await this.pool.query<AuditRow>('SELECT * FROM policy_audit WHERE name = $1 ORDER BY id', [name]);
    return rows.map(({ previous_hash: previousHash, entry_hash: entryHash, ...row }) => ({ ...row, details: this.storedJson(row.details, 'policy_audit', `id=${row.id}`, 'details'), previousHash, entryHash }));
  }

  async setGates(name: string, gates: unknown, options: ChangeOptions): Promise<void> {
    checkedName(name);
    const actor = options.actor ?? defaultActor();
    const at = new Date().toISOString();
    await this.change(async (client) => {
      await this.refuseRetired(client, name, 'given gates');
      const before = (await client.query<{ gates: string }>('SELECT gates FROM policy_gates WHERE name = $1', [name])).rows[0];
      await client.query('INSERT INTO policy_gates (name, gates, set_at, set_by) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO UPDATE SET gates = excluded.gates, set_at = excluded.set_at, set_by = excluded.set_by', [
        name,
        JSON.stringify(gates),
        at,
        actor,
      ]);
      const previous = before ? this.storedJson(before.gates, 'policy_gates', `name=${name}`, 'gates') : null;
      await appendEntry(client, { actor, action: 'set-gates', name, version: null, alias: null, reason: options.reason, details: { gates, previous } }, at);
    });
  }

  async gates(name: string): Promise<{ gates: unknown; setAt: string; setBy: string } | undefined> {
    const row = (await this.pool.query<{ gates: string; set_at: string; set_by: string }>('SELECT gates, set_at, set_by FROM policy_gates WHERE name = $1', [name])).rows[0];
    return row ? { gates: this.storedJson(row.gates, 'policy_gates', `name=${name}`, 'gates'), setAt: row.set_at, setBy: row.set_by } : undefined;
  }

  async changeCount(): Promise<number> {
    return (await this.pool.query<{ latest: number | null }>('SELECT MAX(id) AS latest FROM policy_audit')).rows[0]?.latest ?? 0;
  }

  /** One change: a transaction holding the registry's lock. */
  private change<T>(work: (client: Queryable) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, async (client) => {
      await lockTransaction(client, registryLock);
      return work(client);
    });
  }

  private async moveAliasInside(client: Queryable, name: string, version: number, alias: AliasName, options: ChangeOptions & { actor: string; action?: 'promote' | 'rollback'; details?: unknown }, at: string): Promise<{ from: number | null; to: number }> {
    await this.refuseRetired(client, name, 'promoted');
    await this.versionRowWith(client, name, version);
    const from = (await this.aliasesWith(client, name))[alias] ?? null;
    await client.query('INSERT INTO policy_aliases (name, alias, version, moved_at) VALUES ($1, $2, $3, $4) ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version, moved_at = excluded.moved_at', [name, alias, version, at]);
    await appendEntry(client, { actor: options.actor, action: options.action ?? 'promote', name, version, alias, reason: options.reason, details: { from, to: version, ...(options.details === undefined ? {} : { evidence: options.details }) } }, at);
    return { from, to: version };
  }

  private async retirementWith(client: Queryable, name: string): Promise<Retirement | undefined> {
    const row = (await client.query<{ retired_at: string; retired_by: string; reason: string }>('SELECT retired_at, retired_by, reason FROM policy_retirements WHERE name = $1', [name])).rows[0];
    return row ? { at: row.retired_at, actor: row.retired_by, reason: row.reason } : undefined;
  }

  private async aliasesWith(client: Queryable, name: string): Promise<Record<string, number>> {
    const { rows } = await client.query<{ alias: string; version: number }>(`SELECT alias, version FROM policy_aliases WHERE name = $1 ORDER BY alias ${byName}`, [name]);
    return Object.fromEntries(rows.map((row) => [row.alias, row.version]));
  }

  private async versionRowWith(client: Queryable, name: string, selector: number | AliasName): Promise<VersionRow> {
    const number = typeof selector === 'number' ? selector : (await this.aliasesWith(client, name))[selector];
    const row = number === undefined ? undefined : (await client.query<VersionRow>('SELECT * FROM policy_versions WHERE name = $1 AND version = $2', [name, number])).rows[0];
    if (row) return row;
    const known = (await client.query<{ version: number }>('SELECT version FROM policy_versions WHERE name = $1 ORDER BY version', [name])).rows;
    const what = typeof selector === 'number' ? `version ${selector}` : `${selector} alias`;
    throw new PricelabError(
      'not-found',
      known.length === 0 ? `no policy named "${name}" is registered` : `policy "${name}" has no ${what} (versions: ${known.map((version) => version.version).join(', ')}; aliases: ${JSON.stringify(await this.aliasesWith(client, name))})`,
    );
  }

  private async refuseRetired(client: Queryable, name: string, what: string): Promise<void> {
    const retired = await this.retirementWith(client, name);
    if (retired) throw new PricelabError('config', `policy "${name}" is retired and cannot be ${what}`, [{ path: ['name'], message: `expected a policy that is not retired, found "${name}" retired at ${retired.at} by ${retired.actor} (${retired.reason})` }]);
  }

  private storedJson(text: string, table: string, row: string, column: string): unknown {
    return parseStoredJson(text, this.where, { table, row, column });
  }

  private toVersion(row: VersionRow): PolicyVersion {
    return versionOfRow(row, this.home, (text, table, rowName, column) => this.storedJson(text, table, rowName, column));
  }
}

/** Appends one audit entry linked to the last one; call inside a change (the lock held). */
async function appendEntry(client: Queryable, entry: Omit<AuditEntry, 'id' | 'at' | 'previousHash' | 'entryHash'>, at: string): Promise<void> {
  const previous = (await client.query<{ entry_hash: string }>('SELECT entry_hash FROM policy_audit ORDER BY id DESC LIMIT 1')).rows[0]?.entry_hash ?? genesisHash;
  const row = { at, actor: entry.actor, action: entry.action, name: entry.name, version: entry.version, alias: entry.alias, reason: entry.reason, details: JSON.stringify(entry.details ?? null) };
  await client.query('INSERT INTO policy_audit (at, actor, action, name, version, alias, reason, details, previous_hash, entry_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)', [
    row.at,
    row.actor,
    row.action,
    row.name,
    row.version,
    row.alias,
    row.reason,
    row.details,
    previous,
    entryHashOf(previous, row),
  ]);
}

/** Staging folders of this machine: `.partial-<host>-<pid>-…` (the artifact root is shared; another machine's pids mean nothing here). */
const stagingPrefix = () => `.partial-${hostname().replace(/[^A-Za-z0-9.-]/g, '_')}-`;

/** Removes this machine's staging copies whose process is gone (a registration killed mid-copy). */
function removeOwnAbandonedStaging(parent: string): void {
  let entries: string[];
  try {
    entries = readdirSync(parent);
  } catch {
    return;
  }
  const prefix = stagingPrefix();
  for (const entry of entries) {
    if (!entry.startsWith(prefix)) continue;
    const pid = Number(/^(\d+)-/.exec(entry.slice(prefix.length))?.[1]);
    if (!Number.isInteger(pid) || pid === process.pid || alive(pid)) continue;
    rmSync(join(parent, entry), { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
