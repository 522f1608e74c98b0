/**
 * The policy registry's audit log as a hash chain: each entry stores the hash of the entry
 * before it (`previous_hash`, 64 zeros for the first) and the hash of its own content with
 * that link (`entry_hash`), so a removed, replaced, reordered or edited entry breaks the
 * chain. `verifyAuditChain` also checks that every version, alias, retirement and stored
 * gate policy is what the log says (`pricelab policy audit --verify`).
 */
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import { PricelabError, type Problem } from '../core/errors.js';
import type { AuditRow, VersionRow } from './registry-schema.js';

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

/** The link of the first entry. */
export const genesisHash = '0'.repeat(64);

/** Reads a JSON column of the registry's tables (one that does not parse is an integrity error naming the cell). */
export type StoredJsonReader = (text: string, table: string, row: string, column: string) => unknown;

/** sha256 over the link to the previous entry and every stored field of this one. */
export function entryHashOf(previousHash: string, row: Pick<AuditRow, 'at' | 'actor' | 'action' | 'name' | 'version' | 'alias' | 'reason' | 'details'>): string {
  return createHash('sha256').update(JSON.stringify([previousHash, row.at, row.actor, row.action, row.name, row.version, row.alias, row.reason, row.details])).digest('hex');
}

/** Appends one entry linked to the last one; call inside an IMMEDIATE transaction. */
export function appendAuditEntry(db: Database.Database, entry: Omit<AuditEntry, 'id' | 'at' | 'previousHash' | 'entryHash'>, at: string): void {
  const previous = db.prepare<[], { entry_hash: string }>('SELECT entry_hash FROM policy_audit ORDER BY id DESC LIMIT 1').get()?.entry_hash ?? genesisHash;
  const row = { at, actor: entry.actor, action: entry.action, name: entry.name, version: entry.version, alias: entry.alias, reason: entry.reason, details: JSON.stringify(entry.details ?? null) };
  db.prepare('INSERT INTO policy_audit (at, actor, action, name, version, alias, reason, details, previous_hash, entry_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').run(row.at, row.actor, row.action, row.name, row.version, row.alias, row.reason, row.details, previous, entryHashOf(previous, row));
}

/**
 * Checks the audit log: every entry links to the one before it and its hash matches its
 * content; every version has its register entry (same content hash); every alias,
 * retirement and stored gate policy is what the last entry about it says.
 */
export function verifyAuditChain(db: Database.Database, storedJson: StoredJsonReader): AuditVerification {
  return verifyAuditTables(
    {
      audit: db.prepare<[], AuditRow>('SELECT * FROM policy_audit ORDER BY id').all(),
      versions: db.prepare<[], VersionRow>('SELECT * FROM policy_versions ORDER BY name, version').all(),
      aliases: db.prepare<[], { name: string; alias: string; version: number }>('SELECT name, alias, version FROM policy_aliases').all(),
      retirements: db.prepare<[], { name: string }>('SELECT name FROM policy_retirements').all(),
      gates: db.prepare<[], { name: string; gates: string }>('SELECT name, gates FROM policy_gates').all(),
    },
    storedJson,
  );
}

/** The registry's tables as verifyAuditTables reads them (any backend). */
export interface RegistryTables {
  /** By id. */
  readonly audit: readonly AuditRow[];
  /** By name, version. */
  readonly versions: readonly VersionRow[];
  readonly aliases: readonly { name: string; alias: string; version: number }[];
  readonly retirements: readonly { name: string }[];
  readonly gates: readonly { name: string; gates: string }[];
}

/** verifyAuditChain over tables already read (the PostgreSQL registry reads them itself). */
export function verifyAuditTables(tables: RegistryTables, storedJson: StoredJsonReader): AuditVerification {
  const rows = tables.audit;
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
  const registered = new Set(rows.filter((row) => row.action === 'register').map((row) => `${row.name}@${row.version}:${(storedJson(row.details, 'policy_audit', `id=${row.id}`, 'details') as { contentHash?: string } | null)?.contentHash}`));
  for (const version of tables.versions) {
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
  const aliasRows = new Map(tables.aliases.map((row) => [`${row.name}@${row.alias}`, row.version]));
  for (const key of new Set([...aliasRows.keys(), ...lastAliasEntry.keys()])) {
    const entry = lastAliasEntry.get(key);
    const logged = entry === undefined || entry.action === 'alias-remove' ? undefined : (entry.version ?? undefined);
    const found = aliasRows.get(key);
    if (logged !== found) problems.push({ path: ['aliases', key], message: `expected ${logged === undefined ? 'no alias' : `version ${logged}`} (the last audit entry about it), found ${found === undefined ? 'no alias' : `version ${found}`}: the alias was changed outside the registry` });
  }
  for (const row of tables.retirements) {
    if (!retireEntries.has(row.name)) problems.push({ path: ['retirements', row.name], message: 'expected a retire entry in the audit log, found none' });
  }
  const gateRows = new Map(tables.gates.map((row) => [row.name, JSON.stringify(storedJson(row.gates, 'policy_gates', `name=${row.name}`, 'gates'))]));
  for (const name of new Set([...gateRows.keys(), ...lastGates.keys()])) {
    const entry = lastGates.get(name);
    const logged = entry ? JSON.stringify((storedJson(entry.details, 'policy_audit', `id=${entry.id}`, 'details') as { gates?: unknown } | null)?.gates ?? null) : undefined;
    if (logged !== gateRows.get(name)) problems.push({ path: ['gates', name], message: `expected ${logged === undefined ? 'no stored gates' : 'the gates of the last set-gates entry in the audit log'}, found ${gateRows.has(name) ? 'other gates' : 'none'}: they were changed outside the registry` });
  }
  return { ok: problems.length === 0, entries: rows.length, firstBroken, problems };
}

export function auditBroken(verification: AuditVerification, file: string): PricelabError {
  const where = verification.firstBroken === null ? 'the registry does not match its audit log' : `the audit log's hash chain is broken at entry #${verification.firstBroken}`;
  return new PricelabError('integrity', `the policy registry in ${file} failed its audit check: ${where}; refusing to use it (pricelab policy audit --verify lists every problem)`, verification.problems.slice(0, 20));
}

