import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../agents/artifact.js';
import { PricelabError } from '../../env/errors.js';
import { databasePath } from '../../experiments/store.js';
import { PolicyRegistry, parsePolicyReference } from '../../serving/registry.js';
import { ServedPolicy } from '../../serving/served-policy.js';
import { hostileFileNames, trainedPolicyArtifact } from '../fixtures/policy-artifact.js';

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
        fc.pre(name !== 'policy.json' || !upload);
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
