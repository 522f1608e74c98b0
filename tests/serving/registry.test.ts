import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactFileNameProblem, sha256 } from '../../agents/artifact.js';
import { PricelabError } from '../../core/errors.js';
import { databasePath } from '../../experiments/store.js';
import { PolicyRegistry, parsePolicyReference } from '../../serving/registry.js';
import { ServedPolicy } from '../../serving/served-policy.js';
import { hostileFileNames, trainedPolicyArtifact } from '../fixtures/policy-artifact.js';
import { refusalOf } from '../fixtures/refusal.js';

const scratch = mkdtempSync(join(tmpdir(), 'pricelab-registry-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let first: string;
let second: string;

beforeAll(async () => {
  first = (await trainedPolicyArtifact(scratch, { seed: 1, steps: 2000 })).folder;
  second = (await trainedPolicyArtifact(scratch, { seed: 2, steps: 2000 })).folder;
});

const freshHome = () => mkdtempSync(join(scratch, 'home-'));

describe('the policy registry', () => {
  it('registers verified artifacts as numbered, immutable versions with lineage; the same content twice is one version', async () => {
    const registry = PolicyRegistry.open(freshHome());
    const one = registry.register(first, { reason: 'first candidate', actor: 'ana', lineage: { trainingRun: 'run-1' } });
    expect(one).toMatchObject({ created: true, version: { name: 'everyday', version: 1, agentKind: 'q-learning', registeredBy: 'ana', lineage: { scenario: { id: 'steady-state-v1' }, trainingRun: 'run-1' } } });
    expect(registry.register(first, { reason: 'again', actor: 'ana' })).toMatchObject({ created: false, version: { version: 1 } });
    const two = registry.register(second, { reason: 'retrained', actor: 'ben' });
    expect(two.version.version).toBe(2);
    // The stored copy is a valid artifact with the same content hash, and serves.
    const served = await ServedPolicy.load(two.version.path);
    expect(served.contentHash).toBe(two.version.contentHash);
    served.dispose();
    expect(() => (registry as unknown as { db: Database.Database }).db.prepare("UPDATE policy_versions SET agent_kind = 'x'").run()).toThrow(/immutable/);
    registry.close();
  });

  it('refuses a tampered artifact at register and stores nothing', () => {
    const home = freshHome();
    const registry = PolicyRegistry.open(home);
    const tampered = join(scratch, 'tampered');
    rmSync(tampered, { recursive: true, force: true });
    // Copy, then change one byte of the weights.
    const copy = (name: string) => writeFileSync(join(tampered, name), readFileSync(join(first, name)));
    mkdirSync(tampered);
    copy('policy.json');
    copy('q-table.json');
    const bytes = readFileSync(join(tampered, 'q-table.json'));
    bytes[15] = bytes[15] === 49 ? 50 : 49;
    writeFileSync(join(tampered, 'q-table.json'), bytes);
    expect(() => registry.register(tampered, { reason: 'x' })).toThrow(/integrity check/);
    expect(registry.list()).toEqual([]);
    expect(registry.auditLog()).toEqual([]);
    expect(existsSync(join(home, 'policies')) ? readdirSync(join(home, 'policies')) : []).toEqual([]);
    registry.close();
  });

  it('moves aliases, rolls back to the previous version, and keeps an append-only audit log', () => {
    const home = freshHome();
    const registry = PolicyRegistry.open(home);
    registry.register(first, { reason: 'v1', actor: 'ana' });
    registry.register(second, { reason: 'v2', actor: 'ana' });
    registry.moveAlias('everyday', 1, 'production', { reason: 'first launch', actor: 'ana' });
    registry.moveAlias('everyday', 2, 'production', { reason: 'better profit', actor: 'ben', details: { comparison: 'c-1' } });
    expect(registry.resolve('everyday').version).toBe(2);
    expect(registry.resolve('everyday@production').version).toBe(2);
    expect(registry.rollback('everyday', 'production', { reason: 'returns up', actor: 'cat' })).toEqual({ from: 2, to: 1 });
    expect(registry.resolve('everyday@production').version).toBe(1);
    const log = registry.auditLog('everyday');
    expect(log.map((entry) => [entry.action, entry.actor, entry.version, entry.alias])).toEqual([
      ['register', 'ana', 1, null],
      ['register', 'ana', 2, null],
      ['promote', 'ana', 1, 'production'],
      ['promote', 'ben', 2, 'production'],
      ['rollback', 'cat', 1, 'production'],
    ]);
    expect(log[3]?.details).toMatchObject({ from: 1, to: 2, evidence: { comparison: 'c-1' } });
    registry.close();
    const db = new Database(databasePath(home));
    expect(() => db.prepare('DELETE FROM policy_audit').run()).toThrow(/append-only/);
    expect(() => db.prepare("UPDATE policy_audit SET actor = 'mallory'").run()).toThrow(/append-only/);
    db.close();
  });

  it('loadVersion refuses a version edited after registration (weights and their hashes in policy.json), naming name@version', async () => {
    const home = freshHome();
    const registry = PolicyRegistry.open(home);
    const { version } = registry.register(first, { reason: 'v1' });
    const served = await registry.loadVersion('everyday', 1);
    expect(served.contentHash).toBe(version.contentHash);
    served.dispose();
    const stored = version.path;
    const table = JSON.parse(readFileSync(join(stored, 'q-table.json'), 'utf8')) as { actions: number; values: number[] };
    table.values = table.values.map((_, index) => (index % table.actions === 13 ? 1 : 0));
    const bytes = new TextEncoder().encode(JSON.stringify(table));
    writeFileSync(join(stored, 'q-table.json'), bytes);
    const manifest = JSON.parse(readFileSync(join(stored, 'policy.json'), 'utf8'));
    manifest.files['q-table.json'] = { sha256: sha256(bytes), bytes: bytes.length };
    writeFileSync(join(stored, 'policy.json'), JSON.stringify(manifest, null, 2));
    const refusal = await registry.loadVersion('everyday', 1).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(PricelabError);
    expect((refusal as PricelabError).kind).toBe('integrity');
    expect((refusal as PricelabError).message).toMatch(/everyday@1 was changed after it was registered/);
    registry.close();
  });

  it('registers copies of regular files only: a folder of symbolic links is refused and nothing is stored', () => {
    const home = freshHome();
    const registry = PolicyRegistry.open(home);
    const linked = mkdtempSync(join(scratch, 'linked-'));
    for (const name of readdirSync(first)) symlinkSync(join(first, name), join(linked, name));
    expect(() => registry.register(linked, { reason: 'links' })).toThrow(/symbolic link/);
    // Only the weights linked: refused too (policy.json a regular file).
    rmSync(join(linked, 'policy.json'));
    writeFileSync(join(linked, 'policy.json'), readFileSync(join(first, 'policy.json')));
    expect(() => registry.register(linked, { reason: 'links' })).toThrow(/symbolic link/);
    // A folder where a weights file should be.
    rmSync(join(linked, 'q-table.json'));
    mkdirSync(join(linked, 'q-table.json'));
    expect(() => registry.register(linked, { reason: 'folder' })).toThrow(/q-table.json.*(folder|regular file)/s);
    expect(registry.list()).toEqual([]);
    expect(existsSync(join(home, 'policies')) ? readdirSync(join(home, 'policies'), { recursive: true }) : []).toEqual([]);
    // A registered version holds regular files, never links, whatever the source held.
    const { version } = registry.register(first, { reason: 'v1' });
    for (const name of readdirSync(version.path)) expect(lstatSync(join(version.path, name)).isFile()).toBe(true);
    registry.close();
  });

  it('refuses hostile file names at register and upload: a PricelabError, nothing copied anywhere, no .partial-* left (fast-check)', () => {
    const home = freshHome();
    const registry = PolicyRegistry.open(home);
    const root = mkdtempSync(join(scratch, 'hostile-'));
    const secret = new TextEncoder().encode('secret\n');
    mkdirSync(join(root, 'secret'));
    writeFileSync(join(root, 'secret', 'tokens'), secret);
    const source = join(root, 'a', 'policy');
    mkdirSync(source, { recursive: true });
    for (const name of readdirSync(first)) writeFileSync(join(source, name), readFileSync(join(first, name)));
    const pristine = readFileSync(join(first, 'policy.json'), 'utf8');
    const outside = () => readdirSync(root, { recursive: true }).map(String).sort();
    const before = outside();
    fc.assert(
      fc.property(hostileFileNames, fc.boolean(), (name, upload) => {
        fc.pre(artifactFileNameProblem(name) !== undefined || (name === 'policy.json' && !upload));
        const manifest = JSON.parse(pristine);
        manifest.files[name] = { sha256: sha256(secret), bytes: secret.length };
        const manifestBytes = new TextEncoder().encode(JSON.stringify(manifest));
        let refusal: unknown;
        try {
          if (upload) {
            const files = new Map<string, Uint8Array>([['policy.json', manifestBytes], ['q-table.json', new Uint8Array(readFileSync(join(first, 'q-table.json')))], ['scenario.json', new Uint8Array(readFileSync(join(first, 'scenario.json')))], [name, secret]]);
            registry.registerFiles(files, { reason: 'hostile upload' });
          } else {
            writeFileSync(join(source, 'policy.json'), manifestBytes);
            registry.register(source, { reason: 'hostile' });
          }
        } catch (error) {
          refusal = error;
        }
        expect(refusal).toBeInstanceOf(PricelabError);
        expect(['config', 'integrity']).toContain((refusal as PricelabError).kind);
        expect(registry.list()).toEqual([]);
        expect(outside()).toEqual(before);
        expect(existsSync(join(home, 'policies')) ? readdirSync(join(home, 'policies'), { recursive: true }).map(String).filter((entry) => entry.includes('.partial-')) : []).toEqual([]);
      }),
      { numRuns: 150 },
    );
    // Names equal but for case would collide on some file systems: refused, not a crash.
    const manifest = JSON.parse(pristine);
    manifest.files['Q-TABLE.json'] = manifest.files['q-table.json'];
    writeFileSync(join(source, 'policy.json'), JSON.stringify(manifest));
    writeFileSync(join(source, 'Q-TABLE.json'), readFileSync(join(first, 'q-table.json')));
    expect(() => registry.register(source, { reason: 'case' })).toThrow(/differ by more than case/);
    // An upload of '.' or '..' is bad input, not a crash.
    for (const name of ['.', '..', '../x']) expect(() => registry.registerFiles(new Map([['policy.json', new TextEncoder().encode(pristine)], [name, secret]]), { reason: 'dots' })).toThrow(/plain file name/);
    expect(registry.auditLog()).toEqual([]);
    registry.close();
  });

  it('removes copies abandoned by a registration that was killed, and only those', () => {
    const home = freshHome();
    const registry = PolicyRegistry.open(home);
    const gone = spawnSync(process.execPath, ['-e', '']).pid ?? 0; // a process that has exited
    const parent = join(home, 'policies', 'everyday');
    mkdirSync(join(parent, `.partial-${gone}-abc-1`, 'nested'), { recursive: true });
    mkdirSync(join(parent, `.partial-${process.ppid}-def-2`), { recursive: true }); // a live process's copy stays
    registry.register(first, { reason: 'v1' });
    expect(readdirSync(parent).sort()).toEqual([`.partial-${process.ppid}-def-2`, '1']);
    registry.close();
  });

  it('says what exists when a version or alias is missing', () => {
    const registry = PolicyRegistry.open(freshHome());
    expect(() => registry.resolve('nothing')).toThrow(/no policy named "nothing"/);
    registry.register(first, { reason: 'v1' });
    expect(() => registry.resolve('everyday@7')).toThrow(/has no version 7 \(versions: 1/);
    expect(() => registry.resolve('everyday@staging')).toThrow(/has no staging alias/);
    expect(() => registry.rollback('everyday', 'production', { reason: 'x' })).toThrow(/no production alias/);
    expect(() => parsePolicyReference('Bad Name@1')).toThrow(/name\[@version\|@alias\]/);
    expect(() => parsePolicyReference('ok@latest')).toThrow(/after '@'/);
    registry.close();
  });
});

const raw = (home: string) => new Database(databasePath(home));

describe('the audit log is a hash chain the registry checks', () => {
  it('refuses INSERT OR REPLACE of an audit entry or a version, from any connection', () => {
    const home = freshHome();
    const registry = PolicyRegistry.open(home);
    registry.register(first, { reason: 'v1', actor: 'ana' });
    registry.close();
    const db = raw(home);
    expect(() => db.prepare("INSERT OR REPLACE INTO policy_audit (id, at, actor, action, name, version, alias, reason, details) VALUES (1, 'x', 'mallory', 'register', 'everyday', 1, NULL, 'forged', '{}')").run()).toThrow(/append-only/);
    expect(() => db.prepare("INSERT OR REPLACE INTO policy_versions (name, version, content_hash, agent_kind, path, lineage, registered_at, registered_by) VALUES ('everyday', 1, 'f', 'q-learning', '/tmp/evil', '{}', 'x', 'mallory')").run()).toThrow(/immutable/);
    db.close();
    const reopened = PolicyRegistry.open(home);
    expect(reopened.auditLog().map((entry) => [entry.actor, entry.reason])).toEqual([['ana', 'v1']]);
    reopened.close();
  });

  it('refuses to open when the audit table was dropped (never recreates it empty)', () => {
    const home = freshHome();
    const registry = PolicyRegistry.open(home);
    registry.register(first, { reason: 'v1' });
    registry.close();
    const db = raw(home);
    db.exec('DROP TABLE policy_audit');
    db.close();
    const refusal = refusalOf(() => PolicyRegistry.open(home));
    expect(refusal.kind).toBe('integrity');
    expect(refusal.message).toMatch(/policy_audit/);
    const after = raw(home);
    expect(after.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'policy_audit'").all()).toEqual([]);
    after.close();
  });

  it('names the first broken entry: an edited entry, a forged one, an alias moved behind its back', () => {
    const home = freshHome();
    const registry = PolicyRegistry.open(home);
    registry.register(first, { reason: 'v1', actor: 'ana' });
    registry.register(second, { reason: 'v2', actor: 'ana' });
    registry.moveAlias('everyday', 1, 'production', { reason: 'launch', actor: 'ana' });
    registry.moveAlias('everyday', 2, 'production', { reason: 'better', actor: 'ben' });
    const intact = registry.verifyAudit();
    expect(intact).toEqual({ ok: true, entries: 4, firstBroken: null, problems: [] });
    const log = registry.auditLog();
    expect(log[0]?.previousHash).toBe('0'.repeat(64));
    for (let index = 1; index < log.length; index++) expect(log[index]?.previousHash).toBe(log[index - 1]?.entryHash);
    registry.close();

    // Edit entry 3 with the triggers out of the way: its own hash no longer matches.
    const db = raw(home);
    db.exec("DROP TRIGGER policy_audit_append_only_update; UPDATE policy_audit SET reason = 'nothing to see' WHERE id = 3;");
    db.close();
    const refusal = refusalOf(() => PolicyRegistry.open(home));
    expect(refusal.kind).toBe('integrity');
    expect(refusal.message).toMatch(/broken at entry #3/);
    const unverified = PolicyRegistry.open(home, { verify: false });
    expect(unverified.verifyAudit()).toMatchObject({ ok: false, firstBroken: 3 });
    unverified.close();

    // A forged entry that links correctly but whose hash is not its content's.
    const other = freshHome();
    const clean = PolicyRegistry.open(other);
    clean.register(first, { reason: 'v1' });
    const last = clean.auditLog().at(-1)?.entryHash ?? '';
    clean.close();
    const forge = raw(other);
    forge.prepare("INSERT INTO policy_audit (at, actor, action, name, version, alias, reason, details, previous_hash, entry_hash) VALUES ('x', 'mallory', 'promote', 'everyday', 1, 'production', 'forged', '{}', ?, ?)").run(last, 'f'.repeat(64));
    expect(() => forge.prepare("INSERT INTO policy_audit (at, actor, action, name, version, alias, reason, details, previous_hash, entry_hash) VALUES ('x', 'mallory', 'promote', 'everyday', 1, 'production', 'unlinked', '{}', ?, ?)").run('0'.repeat(64), 'f'.repeat(64))).toThrow(/hash chain/);
    forge.close();
    expect(refusalOf(() => PolicyRegistry.open(other)).message).toMatch(/broken at entry #2/);

    // An alias moved directly in its table: the log says otherwise.
    const third = freshHome();
    const moved = PolicyRegistry.open(third);
    moved.register(first, { reason: 'v1' });
    moved.register(second, { reason: 'v2' });
    moved.moveAlias('everyday', 1, 'production', { reason: 'launch' });
    moved.close();
    const sneak = raw(third);
    sneak.prepare("UPDATE policy_aliases SET version = 2 WHERE name = 'everyday' AND alias = 'production'").run();
    sneak.close();
    const aliasRefusal = refusalOf(() => PolicyRegistry.open(third));
    expect(aliasRefusal.problems.map((problem) => problem.path.join('.'))).toContain('aliases.everyday@production');
  });

  it('a JSON column damaged behind the registry is an integrity error naming its table, row and column', () => {
    const home = freshHome();
    const registry = PolicyRegistry.open(home);
    registry.register(first, { reason: 'v1' });
    registry.close();
    const db = raw(home);
    db.exec("DROP TRIGGER policy_versions_immutable; UPDATE policy_versions SET lineage = '{\"scenario\": ' WHERE name = 'everyday' AND version = 1;");
    db.close();
    const reopened = PolicyRegistry.open(home);
    try {
      const refusal = refusalOf(() => reopened.version('everyday', 1));
      expect(refusal.kind).toBe('integrity');
      expect(refusal.problems.map((problem) => problem.path.join('.'))).toEqual(['policy_versions.name=everyday, version=1.lineage']);
      expect(refusal.problems[0]?.message).toMatch(/^expected JSON, found 13 characters that are not/);
    } finally {
      reopened.close();
    }
  });

  it('stored gates changed or removed behind the registry are caught; opening a current registry takes no write lock', () => {
    const home = freshHome();
    const registry = PolicyRegistry.open(home);
    registry.register(first, { reason: 'v1' });
    registry.setGates('everyday', { alpha: 0.05 }, { reason: 'house rules' });
    registry.close();
    const db = raw(home);
    db.prepare("UPDATE policy_gates SET gates = '{\"alpha\":0.5}'").run();
    db.close();
    expect(refusalOf(() => PolicyRegistry.open(home)).problems.map((problem) => problem.path.join('.'))).toEqual(['gates.everyday']);
    const again = raw(home);
    again.prepare('DELETE FROM policy_gates').run();
    again.close();
    expect(refusalOf(() => PolicyRegistry.open(home)).problems.map((problem) => problem.message)).toEqual([expect.stringMatching(/found none: they were changed outside/)]);

    // Another connection holds the write lock: a current registry still opens and reads at once.
    const fresh = freshHome();
    PolicyRegistry.open(fresh).close();
    const writer = raw(fresh);
    writer.exec('BEGIN IMMEDIATE');
    const started = Date.now();
    const reader = PolicyRegistry.open(fresh);
    expect(reader.list()).toEqual([]);
    reader.close();
    expect(Date.now() - started).toBeLessThan(2000);
    writer.exec('ROLLBACK');
    writer.close();
  });

  it('migrates a registry from before the chain: hashes its entries, stores paths relative to the home; a copied home reads its own files', async () => {
    const home = freshHome();
    // The schema and rows as the registry wrote them before (absolute artifact paths).
    const target = join(home, 'policies', 'everyday', '1');
    mkdirSync(target, { recursive: true });
    for (const name of readdirSync(first)) writeFileSync(join(target, name), readFileSync(join(first, name)));
    const contentHash = sha256(readFileSync(join(first, 'policy.json')));
    const legacy = raw(home);
    legacy.exec(`CREATE TABLE registry_schema (version INTEGER NOT NULL);
      CREATE TABLE policy_versions (name TEXT NOT NULL, version INTEGER NOT NULL, content_hash TEXT NOT NULL, agent_kind TEXT NOT NULL, path TEXT NOT NULL, lineage TEXT NOT NULL, registered_at TEXT NOT NULL, registered_by TEXT NOT NULL, PRIMARY KEY (name, version), UNIQUE (name, content_hash));
      CREATE TABLE policy_aliases (name TEXT NOT NULL, alias TEXT NOT NULL, version INTEGER NOT NULL, moved_at TEXT NOT NULL, PRIMARY KEY (name, alias), FOREIGN KEY (name, version) REFERENCES policy_versions (name, version));
      CREATE TABLE policy_audit (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, name TEXT NOT NULL, version INTEGER, alias TEXT, reason TEXT NOT NULL, details TEXT NOT NULL);
      CREATE TRIGGER policy_versions_immutable BEFORE UPDATE ON policy_versions BEGIN SELECT RAISE(ABORT, 'policy versions are immutable'); END;
      CREATE TRIGGER policy_audit_append_only_update BEFORE UPDATE ON policy_audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;`);
    legacy.prepare('INSERT INTO policy_versions VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run('everyday', 1, contentHash, 'q-learning', target, JSON.stringify({ scenario: { id: 'steady-state-v1', contentHash: 'x' } }), '2026-01-01T00:00:00.000Z', 'ana');
    legacy.prepare('INSERT INTO policy_audit (at, actor, action, name, version, alias, reason, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run('2026-01-01T00:00:00.000Z', 'ana', 'register', 'everyday', 1, null, 'v1', JSON.stringify({ contentHash }));
    legacy.prepare('INSERT INTO policy_aliases VALUES (?, ?, ?, ?)').run('everyday', 'production', 1, '2026-01-01T00:00:00.000Z');
    legacy.prepare('INSERT INTO policy_audit (at, actor, action, name, version, alias, reason, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run('2026-01-01T00:00:01.000Z', 'ana', 'promote', 'everyday', 1, 'production', 'launch', JSON.stringify({ from: null, to: 1 }));
    legacy.close();

    const migrated = PolicyRegistry.open(home);
    expect(migrated.verifyAudit()).toMatchObject({ ok: true, entries: 2 });
    migrated.close();
    const stored = raw(home);
    expect(stored.prepare<[], { path: string }>('SELECT path FROM policy_versions').all()).toEqual([{ path: join('policies', 'everyday', '1') }]);
    expect(stored.prepare<[], { version: number }>('SELECT version FROM registry_schema ORDER BY version').all().map((row) => row.version)).toEqual([2, 3, 4]);
    stored.close();

    // Copy the home, then remove the original: the copy serves from its own folder.
    const copy = join(scratch, `copied-${Date.now()}`);
    cpSync(home, copy, { recursive: true });
    rmSync(home, { recursive: true, force: true });
    const copied = PolicyRegistry.open(copy);
    expect(copied.version('everyday', 1).path).toBe(join(copy, 'policies', 'everyday', '1'));
    const served = await copied.loadVersion('everyday', 'production');
    expect(served.contentHash).toBe(contentHash);
    served.dispose();
    // New versions are recorded relative too.
    copied.register(second, { reason: 'v2' });
    copied.close();
    const rows = raw(copy);
    expect(rows.prepare<[], { path: string }>('SELECT path FROM policy_versions ORDER BY version').all().map((row) => row.path)).toEqual([join('policies', 'everyday', '1'), join('policies', 'everyday', '2')]);
    rows.close();
  });
});

describe('removing an alias and retiring a policy', () => {
  it('removes an alias (audited); retires a policy: aliases gone, no promotion, registration or serving, versions kept', async () => {
    const home = freshHome();
    const registry = PolicyRegistry.open(home);
    registry.register(first, { reason: 'v1', actor: 'ana' });
    registry.register(second, { reason: 'v2', actor: 'ana' });
    registry.moveAlias('everyday', 1, 'staging', { reason: 'try', actor: 'ana' });
    registry.moveAlias('everyday', 2, 'production', { reason: 'launch', actor: 'ana' });
    expect(registry.removeAlias('everyday', 'staging', { reason: 'trial over', actor: 'ben' })).toEqual({ removed: 1 });
    expect(registry.aliases('everyday')).toEqual({ production: 2 });
    expect(refusalOf(() => registry.removeAlias('everyday', 'staging', { reason: 'again' })).kind).toBe('not-found');
    expect(refusalOf(() => registry.removeAlias('nobody', 'staging', { reason: 'x' })).message).toMatch(/no policy named "nobody"/);
    expect(refusalOf(() => registry.rollback('everyday', 'staging', { reason: 'x' })).kind).toBe('not-found');

    expect(registry.retire('everyday', { reason: 'replaced by everyday-v2', actor: 'cat' })).toEqual({ removedAliases: { production: 2 } });
    expect(registry.aliases('everyday')).toEqual({});
    expect(registry.retirement('everyday')).toMatchObject({ actor: 'cat', reason: 'replaced by everyday-v2' });
    expect(registry.list()).toEqual([{ name: 'everyday', versions: 2, aliases: {}, retired: true }]);
    expect(registry.versions('everyday').map((version) => version.version)).toEqual([1, 2]);
    expect(refusalOf(() => registry.moveAlias('everyday', 2, 'production', { reason: 'back' })).message).toMatch(/retired and cannot be promoted/);
    expect(refusalOf(() => registry.retire('everyday', { reason: 'twice' })).message).toMatch(/retired/);
    expect(refusalOf(() => registry.retire('nobody', { reason: 'x' })).kind).toBe('not-found');
    const third = await trainedPolicyArtifact(scratch, { seed: 3, steps: 500 });
    expect(refusalOf(() => registry.register(third.folder, { reason: 'v3' })).message).toMatch(/retired and cannot be registered/);
    await expect(registry.loadVersion('everyday', 2)).rejects.toThrow(/retired/);
    expect(registry.auditLog('everyday').slice(-4).map((entry) => [entry.action, entry.alias, entry.version, entry.actor])).toEqual([
      ['promote', 'production', 2, 'ana'],
      ['alias-remove', 'staging', 1, 'ben'],
      ['alias-remove', 'production', 2, 'cat'],
      ['retire', null, null, 'cat'],
    ]);
    expect(registry.verifyAudit().ok).toBe(true);
    registry.close();
    // A retirement removed behind the registry's back is caught... and cannot be removed at all.
    const db = raw(home);
    expect(() => db.prepare('DELETE FROM policy_retirements').run()).toThrow(/permanent/);
    db.close();
  });
});

describe('races between processes', () => {
  const tsx = join(process.cwd(), 'node_modules', '.bin', 'tsx');
  const worker = join(process.cwd(), 'tests', 'fixtures', 'registry-race-worker.ts');
  /** Starts every worker, lets them all go at once when all are ready, and collects their JSON. */
  const runWorkers = async (home: string, argumentLists: string[][]) => {
    const go = join(home, `go-${Date.now()}`);
    let ready = 0;
    const outcomes = argumentLists.map(
      (args) =>
        new Promise<{ ok: boolean; results?: unknown[]; error?: string }>((resolvePromise, reject) => {
          const child = spawn(tsx, [worker, go, ...args], { env: { ...process.env, PRICELAB_HOME: home } });
          let stdout = '';
          let stderr = '';
          child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
          child.stderr.on('data', (chunk: Buffer) => {
            stderr += chunk.toString();
            if (chunk.toString().includes('ready') && ++ready === argumentLists.length) writeFileSync(go, 'go');
          });
          child.once('exit', (code) => (code === 0 ? resolvePromise(JSON.parse(stdout) as { ok: boolean; results?: unknown[]; error?: string }) : reject(new Error(`worker exited ${code}: ${stderr}`))));
        }),
    );
    return Promise.all(outcomes);
  };

  it('concurrent alias moves each record the version the alias really left', async () => {
    const home = freshHome();
    const registry = PolicyRegistry.open(home);
    registry.register(first, { reason: 'v1' });
    registry.register(second, { reason: 'v2' });
    registry.moveAlias('everyday', 1, 'staging', { reason: 'start' });
    registry.close();
    const outcomes = await runWorkers(home, [
      ['move', 'everyday', 'staging', '1', '40'],
      ['move', 'everyday', 'staging', '2', '40'],
    ]);
    expect(outcomes.every((outcome) => outcome.ok)).toBe(true);
    const reopened = PolicyRegistry.open(home);
    const moves = reopened.auditLog('everyday').filter((entry) => entry.alias === 'staging');
    expect(moves).toHaveLength(81);
    for (let index = 1; index < moves.length; index++) expect((moves[index]?.details as { from: number }).from).toBe(moves[index - 1]?.version);
    reopened.close();
  }, 60_000);

  it('the same content registered at once by two processes is one version; the other hears "already registered"', async () => {
    const home = freshHome();
    PolicyRegistry.open(home).close();
    // Eight artifacts (different names) registered by both processes in the same order: eight chances to collide.
    const folders = await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map(async (seed) => (await trainedPolicyArtifact(scratch, { name: `race-${seed}`, seed, steps: 1, kind: 'fixed-price', config: { price: 17.99 } })).folder));
    const outcomes = await runWorkers(home, [
      ['register', ...folders],
      ['register', ...folders],
    ]);
    expect(outcomes.map((outcome) => outcome.error ?? '')).toEqual(['', '']);
    const results = outcomes.flatMap((outcome) => outcome.results as { name: string; version: number; created: boolean }[]);
    expect(results.every((result) => result.version === 1)).toBe(true);
    expect(results.filter((result) => result.created).map((result) => result.name).sort()).toEqual(folders.map((_, index) => `race-${index + 1}`).sort());
    const reopened = PolicyRegistry.open(home);
    expect(reopened.list().map((entry) => entry.versions)).toEqual(folders.map(() => 1));
    reopened.close();
    expect(readdirSync(join(home, 'policies'), { recursive: true }).map(String).filter((entry) => entry.includes('.partial-'))).toEqual([]);
  }, 90_000);
});

describe('a home that cannot be a folder', () => {
  it('is a config error naming PRICELAB_HOME, as for the results store', () => {
    const file = join(freshHome(), 'not-a-folder');
    writeFileSync(file, 'x');
    const error = refusalOf(() => PolicyRegistry.open(file));
    expect(error.kind).toBe('config');
    expect(JSON.stringify(error.problems)).toContain('PRICELAB_HOME');
  });
});
