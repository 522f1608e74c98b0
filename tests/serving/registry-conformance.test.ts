/**
 * One conformance suite for every policy-registry backend (serving/registry-backend.ts):
 * the SQLite file of the home and PostgreSQL give the same answers to the same calls, and
 * both check an artifact's content hash at every load. Then what only PostgreSQL needs
 * showing: the database itself refuses to change or drop audit entries, concurrent changes
 * from many connections each record the state they really changed, and an unreachable
 * server is a config error within seconds. The server is the test's own
 * (tests/fixtures/postgres.ts), one for the file.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PricelabError } from '../../core/errors.js';
import { openPolicyRegistry, type PolicyRegistryBackend } from '../../serving/registry-backend.js';
import { ServedPolicy } from '../../serving/served-policy.js';
import { freePort, postgresMissing, startPostgres, type PostgresServer } from '../fixtures/postgres.js';
import { trainedPolicyArtifact } from '../fixtures/policy-artifact.js';

const scratch = mkdtempSync(join(tmpdir(), 'pricelab-registry-conformance-'));
let server: PostgresServer | undefined;
let first: string;
let second: string;

beforeAll(async () => {
  if (postgresMissing === undefined) server = await startPostgres();
  first = (await trainedPolicyArtifact(scratch, { seed: 1, steps: 1000 })).folder;
  second = (await trainedPolicyArtifact(scratch, { seed: 2, steps: 1000 })).folder;
}, 120_000);
afterAll(async () => {
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

interface Backend {
  readonly name: string;
  readonly skip: string | undefined;
  /** A fresh, empty registry (its artifact folder new too); `url` for PostgreSQL. */
  open(): Promise<{ registry: PolicyRegistryBackend; url?: string }>;
}

let folders = 0;
const backends: Backend[] = [
  { name: 'sqlite', skip: undefined, open: async () => ({ registry: await openPolicyRegistry({ kind: 'sqlite', home: join(scratch, `home-${++folders}`) }) }) },
  {
    name: 'postgres',
    skip: postgresMissing,
    open: async () => {
      const url = await server!.database();
      return { registry: await openPolicyRegistry({ kind: 'postgres', url, home: join(scratch, `artifacts-${++folders}`) }), url };
    },
  },
];

async function failureOf(call: () => unknown): Promise<unknown> {
  try {
    await call();
    return undefined;
  } catch (error) {
    return error;
  }
}

async function using(backend: Backend, body: (registry: PolicyRegistryBackend, url: string | undefined) => Promise<void>): Promise<void> {
  const { registry, url } = await backend.open();
  try {
    await body(registry, url);
  } finally {
    await registry.close();
  }
}

describe.each(backends)('policy registry conformance: $name', (backend) => {
  const test = backend.skip === undefined ? it : it.skip;
  if (backend.skip !== undefined) it.skip(`skipped: ${backend.skip}`, () => undefined);

  test('registers numbered versions with lineage under its folder; the same content twice is one version', () =>
    using(backend, async (registry) => {
      const one = await registry.register(first, { reason: 'first', actor: 'ana', lineage: { trainingRun: 'run-1' } });
      expect(one).toMatchObject({ created: true, version: { name: 'everyday', version: 1, agentKind: 'q-learning', registeredBy: 'ana', lineage: { scenario: { id: 'steady-state-v1' }, trainingRun: 'run-1' } } });
      expect(one.version.path).toBe(join(registry.home, 'policies', 'everyday', '1'));
      expect(await registry.register(first, { reason: 'again', actor: 'ana' })).toMatchObject({ created: false, version: { version: 1 } });
      const files = new Map(readdirSync(second).map((name) => [name, new Uint8Array(readFileSync(join(second, name)))]));
      expect(await registry.registerFiles(files, { reason: 'upload', actor: 'ben', name: 'other' })).toMatchObject({ created: true, version: { name: 'other', version: 1 } });
      expect((await registry.register(second, { reason: 'retrained' })).version.version).toBe(2);
      expect(await registry.list()).toEqual([
        { name: 'everyday', versions: 2, aliases: {}, retired: false },
        { name: 'other', versions: 1, aliases: {}, retired: false },
      ]);
      expect((await registry.versions('everyday')).map((version) => version.version)).toEqual([1, 2]);
      expect((await failureOf(() => registry.register(first, { reason: 'x', name: 'Bad Name' })) as PricelabError).kind).toBe('config');
    }));

  test('moves aliases, rolls back, removes an alias, and logs every change in a verified hash chain', () =>
    using(backend, async (registry) => {
      await registry.register(first, { reason: 'v1' });
      await registry.register(second, { reason: 'v2' });
      const before = await registry.changeCount();
      expect(await registry.moveAlias('everyday', 1, 'production', { reason: 'ship', actor: 'ana' })).toEqual({ from: null, to: 1 });
      expect(await registry.moveAlias('everyday', 2, 'production', { reason: 'better', actor: 'ana', details: { gates: [] } })).toEqual({ from: 1, to: 2 });
      expect(await registry.changeCount()).toBeGreaterThan(before);
      expect((await registry.version('everyday')).version).toBe(2);
      expect((await registry.resolve('everyday@production')).version).toBe(2);
      expect(await registry.rollback('everyday', 'production', { reason: 'worse live', actor: 'ben' })).toEqual({ from: 2, to: 1 });
      expect(await registry.aliases('everyday')).toEqual({ production: 1 });
      await registry.moveAlias('everyday', 2, 'staging', { reason: 'try' });
      expect(await registry.removeAlias('everyday', 'staging', { reason: 'done' })).toEqual({ removed: 2 });
      const log = await registry.auditLog('everyday');
      expect(log.map((entry) => `${entry.action}:${entry.alias ?? '-'}:${entry.version ?? '-'}`)).toEqual([
        'register:-:1',
        'register:-:2',
        'promote:production:1',
        'promote:production:2',
        'rollback:production:1',
        'promote:staging:2',
        'alias-remove:staging:2',
      ]);
      expect(log[3]?.details).toEqual({ from: 1, to: 2, evidence: { gates: [] } });
      expect(log.every((entry, index) => index === 0 || entry.previousHash === log[index - 1]?.entryHash)).toBe(true);
      expect(await registry.verifyAudit()).toMatchObject({ ok: true, entries: 7, firstBroken: null });
      expect(await registry.changeCount()).toBe(log.at(-1)?.id);
    }));

  test('says what exists when a version or alias is missing', () =>
    using(backend, async (registry) => {
      expect(await failureOf(() => registry.version('nobody', 1))).toMatchObject({ kind: 'not-found', message: 'no policy named "nobody" is registered' });
      await registry.register(first, { reason: 'v1' });
      expect(await failureOf(() => registry.version('everyday', 'production'))).toMatchObject({ kind: 'not-found', message: 'policy "everyday" has no production alias (versions: 1; aliases: {})' });
      expect(await failureOf(() => registry.rollback('everyday', 'production', { reason: 'x' }))).toMatchObject({ kind: 'not-found' });
      expect(await failureOf(() => registry.removeAlias('everyday', 'staging', { reason: 'x' }))).toMatchObject({ kind: 'not-found' });
      expect(await failureOf(() => registry.moveAlias('everyday', 9, 'production', { reason: 'x' }))).toMatchObject({ kind: 'not-found' });
    }));

  test('stores gates per name (audited) and retires a policy for good', () =>
    using(backend, async (registry) => {
      await registry.register(first, { reason: 'v1' });
      await registry.moveAlias('everyday', 1, 'production', { reason: 'ship' });
      await registry.setGates('everyday', { primaryKpi: 'profit' }, { reason: 'ours', actor: 'ana' });
      await registry.setGates('everyday', { primaryKpi: 'units' }, { reason: 'changed', actor: 'ana' });
      expect(await registry.gates('everyday')).toMatchObject({ gates: { primaryKpi: 'units' }, setBy: 'ana' });
      expect((await registry.auditLog('everyday')).at(-1)?.details).toEqual({ gates: { primaryKpi: 'units' }, previous: { primaryKpi: 'profit' } });
      expect(await registry.retire('everyday', { reason: 'gone', actor: 'ben' })).toEqual({ removedAliases: { production: 1 } });
      expect(await registry.retirement('everyday')).toMatchObject({ actor: 'ben', reason: 'gone' });
      expect(await registry.list()).toEqual([{ name: 'everyday', versions: 1, aliases: {}, retired: true }]);
      expect(await failureOf(() => registry.moveAlias('everyday', 1, 'production', { reason: 'x' }))).toMatchObject({ kind: 'config' });
      expect(await failureOf(() => registry.register(second, { reason: 'x' }))).toMatchObject({ kind: 'config' });
      expect(await failureOf(() => registry.loadVersion('everyday', 1))).toMatchObject({ kind: 'not-found' });
      expect((await registry.verifyAudit()).ok).toBe(true);
    }));

  test('checks the content hash at every load: a version edited after registration is refused, naming it', () =>
    using(backend, async (registry) => {
      const { version } = await registry.register(first, { reason: 'v1' });
      const served = await registry.loadVersion('everyday', 1);
      expect(served).toBeInstanceOf(ServedPolicy);
      expect(served.contentHash).toBe(version.contentHash);
      served.dispose();
      const manifest = join(version.path, 'policy.json');
      writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('"everyday"', '"everyday "'));
      const refused = await failureOf(() => registry.loadVersion('everyday', 1));
      expect(refused).toMatchObject({ kind: 'integrity' });
      expect((refused as Error).message).toMatch(/everyday@1/);
    }));
});

describe('the PostgreSQL registry', () => {
  const test = postgresMissing === undefined ? it : it.skip;
  const postgres = backends[1]!;

  test('the database refuses to change, delete or truncate audit entries and versions, and an entry that does not link to the last', () =>
    using(postgres, async (registry, url) => {
      await registry.register(first, { reason: 'v1' });
      await registry.moveAlias('everyday', 1, 'production', { reason: 'ship' });
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const refused = async (sql: string) => (await client.query(sql).then(() => 'accepted', (error: Error) => error.message)) as string;
        expect(await refused("UPDATE policy_audit SET reason = 'rewritten'")).toBe('the audit log is append-only');
        expect(await refused('DELETE FROM policy_audit')).toBe('the audit log is append-only');
        expect(await refused('TRUNCATE policy_audit')).toBe('the audit log is append-only');
        expect(await refused("UPDATE policy_versions SET agent_kind = 'x'")).toBe('policy versions are immutable');
        expect(await refused('DELETE FROM policy_versions')).toBe('policy versions are immutable');
        expect(await refused(`INSERT INTO policy_audit (at, actor, action, name, version, alias, reason, details, previous_hash, entry_hash) VALUES ('now', 'mallory', 'promote', 'everyday', 1, 'production', 'forged', '{}', '${'0'.repeat(64)}', 'x')`)).toBe(
          'the audit log is a hash chain: a new entry must link to the last one',
        );
        // An alias moved behind the registry's back (the alias table is mutable by design): caught by the audit check.
        await client.query("UPDATE policy_aliases SET version = 1, moved_at = 'later' WHERE name = 'everyday'");
        await registry.register(second, { reason: 'v2' });
        await client.query("UPDATE policy_aliases SET version = 2 WHERE name = 'everyday'");
      } finally {
        await client.end();
      }
      expect(await registry.verifyAudit()).toMatchObject({ ok: false, problems: [expect.objectContaining({ path: ['aliases', 'everyday@production'] })] });
      const reopened = await failureOf(() => openPolicyRegistry(registry.location));
      expect(reopened).toMatchObject({ kind: 'integrity' });
      const unverified = await openPolicyRegistry(registry.location, { verify: false });
      await unverified.close();
    }));

  test('concurrent changes from many connections each record the version the alias really left', () =>
    using(postgres, async (registry) => {
      await registry.register(first, { reason: 'v1' });
      await registry.register(second, { reason: 'v2' });
      const others = await Promise.all([1, 2, 3].map(() => openPolicyRegistry(registry.location)));
      try {
        const moves = await Promise.all(Array.from({ length: 12 }, (_, index) => others[index % 3]!.moveAlias('everyday', 1 + (index % 2), 'production', { reason: `move ${index}` })));
        // Applied one at a time: each move's `from` is the target of the move before it.
        const log = (await registry.auditLog('everyday')).filter((entry) => entry.action === 'promote');
        expect(log).toHaveLength(12);
        for (let index = 1; index < log.length; index++) expect((log[index]!.details as { from: number }).from).toBe(log[index - 1]!.version);
        expect(moves.map((move) => move.to).sort()).toEqual([1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2]);
        expect((await registry.verifyAudit()).ok).toBe(true);
      } finally {
        await Promise.all(others.map((other) => other.close()));
      }
    }));

  test('a server that goes away after opening is the same config error at the next call, not a driver stack trace', async () => {
    const own = await startPostgres();
    const registry = await openPolicyRegistry({ kind: 'postgres', url: await own.database(), home: scratch });
    try {
      expect(await registry.changeCount()).toBe(0);
      await own.stop();
      const lost = await failureOf(() => registry.changeCount());
      expect(lost).toBeInstanceOf(PricelabError);
      expect(lost).toMatchObject({ kind: 'config' });
      expect((lost as Error).message).toMatch(/cannot be reached/);
      expect(await failureOf(() => registry.moveAlias('everyday', 1, 'production', { reason: 'x' }))).toMatchObject({ kind: 'config' });
    } finally {
      await registry.close();
    }
  });

  it('an unreachable server is a config error naming the URL without its password, within seconds', async () => {
    const port = await freePort(); // nothing listens there
    const started = performance.now();
    const refused = await failureOf(() => openPolicyRegistry({ kind: 'postgres', url: `postgres://ana:secret@127.0.0.1:${port}/team`, home: scratch }));
    expect(performance.now() - started).toBeLessThan(6_000);
    expect(refused).toBeInstanceOf(PricelabError);
    expect(refused).toMatchObject({ kind: 'config' });
    expect((refused as Error).message).toContain(`postgres://ana:***@127.0.0.1:${port}/team cannot be reached`);
    expect((refused as Error).message).not.toContain('secret');
  });
});
