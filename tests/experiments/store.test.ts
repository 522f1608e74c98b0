import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { ResultsStore, databasePath, resultsHome, schemaVersion, storeFileError, type RunDefinition } from '../../experiments/store.js';
import { PricelabError } from '../../core/errors.js';
import { checkpointFormat, readCheckpoint, writeCheckpoint } from '../../experiments/checkpoint.js';
import { cliWith, ensureBuilt } from '../fixtures/cli.js';

const homes: string[] = [];
const freshHome = () => {
  const home = mkdtempSync(join(tmpdir(), 'pricelab-store-'));
  homes.push(home);
  return home;
};
afterEach(() => {
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});

const runDefinition = (id: string, seed = 1): RunDefinition => ({
  id,
  experiment: 'demo',
  scenario: { id: 'steady-state-v1', contentHash: 'abc' },
  agent: { name: 'q', kind: 'q-learning', config: { alpha: 0.1 } },
  seed,
  manifest: { seed },
});

describe('resultsHome', () => {
  it('is PRICELAB_HOME when set, else ./.pricelab, always absolute', () => {
    expect(resultsHome({ PRICELAB_HOME: 'some/where' })).toBe(resolve('some/where'));
    expect(resultsHome({})).toBe(resolve('.pricelab'));
    expect(resultsHome({ PRICELAB_HOME: '' })).toBe(resolve('.pricelab'));
  });
});

describe('ResultsStore', () => {
  it('creates the folder and a WAL database with foreign keys at the current schema version', () => {
    const home = join(freshHome(), 'nested', 'home');
    const store = ResultsStore.open(home);
    store.close();
    expect(existsSync(databasePath(home))).toBe(true);
    const database = new Database(databasePath(home), { readonly: true });
    expect(database.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(database.pragma('user_version', { simple: true })).toBe(schemaVersion);
    database.close();
    // Opening again does not migrate twice.
    ResultsStore.open(home).close();
  });

  it('records comparisons and reads them back', () => {
    const store = ResultsStore.open(freshHome());
    const first = store.recordComparison({ scenario: 's', arms: ['a', 'b'], baseline: 'a', summary: { lift: 1.5 } });
    const second = store.recordComparison({ scenario: 's', arms: ['a', 'c'], baseline: 'a', summary: null, reportPath: '/tmp/r.html' });
    expect(first).not.toBe(second);
    expect(store.getComparison(first)).toMatchObject({ id: first, scenario: 's', arms: ['a', 'b'], baseline: 'a', summary: { lift: 1.5 }, reportPath: null });
    expect(store.getComparison(second)?.reportPath).toBe('/tmp/r.html');
    expect(store.listComparisons().map((row) => row.id)).toEqual([first, second]);
    expect(store.getComparison('nope')).toBeUndefined();
    store.close();
  });

  it('registers runs once, finishes them in one transaction, and keeps metrics, evaluations and checkpoints', () => {
    const store = ResultsStore.open(freshHome());
    store.registerRuns([runDefinition('r1'), runDefinition('r2', 2)]);
    store.markRunning('r1');
    store.registerRuns([runDefinition('r1')]); // already there: untouched
    expect(store.getRun('r1')?.status).toBe('running');
    store.recordCheckpoint({ runId: 'r1', episodes: 3, steps: 90, path: join(store.home, 'checkpoints', 'r1', 'episode-3.json'), sha256: 'f'.repeat(64) });
    expect(store.checkpointOf('r1')).toMatchObject({ episodes: 3, steps: 90 });
    store.finishRun('r1', {
      manifest: { done: true },
      metrics: { 'train/steps': 90, 'eval/curve': { json: [1, 2] }, 'market/profitGain': null },
      evaluations: [{ episode: 0, seed: 7, totalReward: 12.5, kpis: { revenue: 3 } }],
    });
    expect(store.getRun('r1')).toMatchObject({ status: 'finished', manifest: { done: true } });
    expect(store.metricsOf('r1')).toEqual({ 'eval/curve': [1, 2], 'market/profitGain': null, 'train/steps': 90 });
    expect(store.evaluationsOf('r1')).toEqual([{ episode: 0, seed: 7, totalReward: 12.5, kpis: { revenue: 3 } }]);
    expect(store.checkpointOf('r1')).toBeUndefined();
    expect(store.listRuns({ status: 'pending' }).map((run) => run.id)).toEqual(['r2']);
    store.markRunning('r2');
    store.markInterrupted(['r1', 'r2']);
    expect(store.getRun('r1')?.status).toBe('finished');
    expect(store.getRun('r2')?.status).toBe('interrupted');
    store.close();
  });

  it('rolls a failed finish back: no half-written run', () => {
    const store = ResultsStore.open(freshHome());
    store.registerRuns([runDefinition('r1')]);
    expect(() =>
      store.finishRun('r1', {
        manifest: {},
        metrics: { 'train/steps': 1 },
        // The same episode twice violates the primary key after the metrics were written.
        evaluations: [
          { episode: 0, seed: 1, totalReward: 1, kpis: {} },
          { episode: 0, seed: 2, totalReward: 2, kpis: {} },
        ],
      }),
    ).toThrow();
    expect(store.getRun('r1')?.status).toBe('pending');
    expect(store.metricsOf('r1')).toEqual({});
    expect(store.evaluationsOf('r1')).toEqual([]);
    store.close();
  });

  it('refuses a database from a newer pricelab', () => {
    const home = freshHome();
    const database = new Database(databasePath(home));
    database.pragma(`user_version = ${schemaVersion + 1}`);
    database.close();
    expect(() => ResultsStore.open(home)).toThrow(/newer than this pricelab knows/);
  });
});

describe('a damaged store', () => {
  const garbage = (bytes: number) => Buffer.from(Array.from({ length: bytes }, (_, index) => (index * 7919 + 13) % 251));

  it('garbage in place of the database file: an integrity error naming the file, on open', () => {
    const home = freshHome();
    writeFileSync(databasePath(home), garbage(8192));
    let caught: unknown;
    try {
      ResultsStore.open(home);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(PricelabError);
    expect((caught as PricelabError).kind).toBe('integrity');
    expect((caught as PricelabError).message).toContain(`the results store ${databasePath(home)} is damaged`);
    expect((caught as PricelabError).problems[0]?.message).toMatch(/expected a SQLite database, found SQLITE_NOTADB/);
  });

  it('garbage over pages inside the file: an integrity error when a damaged page is read', () => {
    const home = freshHome();
    const store = ResultsStore.open(home);
    store.registerRuns(Array.from({ length: 400 }, (_, index) => ({ ...runDefinition(`run-${index}`, index), manifest: { padding: 'x'.repeat(200) } })));
    store.close();
    // Checkpoint the WAL into the main file, then overwrite every page after the schema's.
    const raw = new Database(databasePath(home));
    raw.pragma('wal_checkpoint(TRUNCATE)');
    raw.close();
    const bytes = readFileSync(databasePath(home));
    const pageSize = bytes.readUInt16BE(16);
    expect(bytes.length).toBeGreaterThan(8 * pageSize);
    garbage(bytes.length - 4 * pageSize).copy(bytes, 4 * pageSize);
    writeFileSync(databasePath(home), bytes);
    let caught: unknown;
    try {
      const damaged = ResultsStore.open(home);
      try {
        damaged.listRuns();
      } finally {
        damaged.close();
      }
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(PricelabError);
    expect((caught as PricelabError).kind).toBe('integrity');
    expect((caught as PricelabError).message).toContain(databasePath(home));
    expect((caught as PricelabError).problems[0]?.message).toMatch(/SQLITE_CORRUPT/);
  });

  it('the CLI says so with exit 4 and no stack trace', async () => {
    ensureBuilt();
    const home = freshHome();
    writeFileSync(databasePath(home), garbage(4096));
    const result = await cliWith({ PRICELAB_HOME: home }, 'runs', 'list');
    expect(result.code, result.stderr).toBe(4);
    expect(result.stderr).toContain(`the results store ${databasePath(home)} is damaged`);
    expect(result.stderr).toMatch(/restore the file from a backup, or move it aside/);
    expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
    // The policy registry lives in the same file and says the same.
    const registry = await cliWith({ PRICELAB_HOME: home }, 'policy', 'list');
    expect(registry.code, registry.stderr).toBe(4);
    expect(registry.stderr).toContain(`the results store ${databasePath(home)} is damaged`);
    expect(registry.stderr).not.toMatch(/internal error|\n\s+at /);
  });
});

describe('a store file SQLite cannot open or write', () => {
  const caughtFrom = (open: () => unknown): PricelabError => {
    try {
      open();
    } catch (error) {
      expect(error).toBeInstanceOf(PricelabError);
      return error as PricelabError;
    }
    throw new Error('expected an error');
  };

  it('a folder at pricelab.db: a config error (exit 2) naming the file and saying it is a folder', () => {
    const home = freshHome();
    mkdirSync(databasePath(home));
    const error = caughtFrom(() => ResultsStore.open(home));
    expect(error.kind).toBe('config');
    expect(error.message).toContain(`the results store ${databasePath(home)} cannot be opened`);
    expect(error.problems[0]?.message).toMatch(/found a folder: SQLITE_CANTOPEN/);
    expect(error.problems[0]?.message).toMatch(/move the folder aside/);
  });

  it('a home that is a file: a config error naming PRICELAB_HOME', () => {
    const home = join(freshHome(), 'home');
    writeFileSync(home, 'not a folder');
    const error = caughtFrom(() => ResultsStore.open(home));
    expect(error.kind).toBe('config');
    expect(error.message).toContain(`the pricelab home ${home} cannot be created`);
    expect(error.problems[0]).toMatchObject({ path: ['PRICELAB_HOME'] });
    expect(error.problems[0]?.message).toMatch(/found a file of 12 bytes/);
  });

  it('classifies SQLite codes: damage is integrity, set-up is config, anything else is left alone', () => {
    const file = '/some/home/pricelab.db';
    const kindOf = (code: string) => storeFileError(new Database.SqliteError('message', code), file)?.kind;
    for (const code of ['SQLITE_NOTADB', 'SQLITE_CORRUPT', 'SQLITE_CORRUPT_INDEX', 'SQLITE_IOERR', 'SQLITE_IOERR_SHORT_READ']) expect(kindOf(code), code).toBe('integrity');
    for (const code of ['SQLITE_CANTOPEN', 'SQLITE_CANTOPEN_ISDIR', 'SQLITE_READONLY', 'SQLITE_READONLY_DBMOVED', 'SQLITE_PERM', 'SQLITE_AUTH', 'SQLITE_FULL']) expect(kindOf(code), code).toBe('config');
    for (const code of ['SQLITE_CONSTRAINT_PRIMARYKEY', 'SQLITE_BUSY', 'SQLITE_ERROR']) expect(kindOf(code), code).toBeUndefined();
    expect(storeFileError(new Error('SQLITE_CORRUPT'), file)).toBeUndefined();
    const readonly = storeFileError(new Database.SqliteError('attempt to write a readonly database', 'SQLITE_READONLY'), file);
    expect(readonly?.message).toContain(`the results store ${file} cannot be opened`);
    expect(readonly?.problems[0]?.message).toMatch(/SQLITE_READONLY \(attempt to write a readonly database\).*may be read and written/);
  });

  it('a write refused by SQLite after opening is the same config error, not a stack trace', () => {
    const home = freshHome();
    ResultsStore.open(home).close();
    const store = ResultsStore.open(home);
    try {
      // query_only makes SQLite refuse every write with SQLITE_READONLY, as a read-only file would.
      (store as unknown as { database: Database.Database }).database.pragma('query_only = 1');
      const error = caughtFrom(() => store.registerRuns([runDefinition('r1')]));
      expect(error.kind).toBe('config');
      expect(error.message).toContain(databasePath(home));
    } finally {
      store.close();
    }
  });

  it('the CLI: a folder at pricelab.db exits 2 naming the file, without a stack trace (runs and registry)', async () => {
    ensureBuilt();
    const home = freshHome();
    mkdirSync(databasePath(home));
    for (const command of [['runs', 'list'], ['runs', 'show', 'x'], ['policy', 'list']]) {
      const result = await cliWith({ PRICELAB_HOME: home }, ...command);
      expect(result.code, `${command.join(' ')}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toContain(`the results store ${databasePath(home)} cannot be opened`);
      expect(result.stderr).toContain('found a folder');
      expect(result.stderr).not.toMatch(/internal error|SqliteError|\n\s+at /);
    }
  });
});

describe('rows holding invalid JSON', () => {
  /** A home with run r1 finished (metrics, a curve, an evaluation) and one comparison; `damage` then edits the raw database. */
  const storeWith = (damage: string, ...values: unknown[]) => {
    const home = freshHome();
    const store = ResultsStore.open(home);
    store.registerRuns([runDefinition('r1')]);
    store.finishRun('r1', { manifest: { policy: 'p' }, metrics: { 'train/steps': 90, 'eval/curve': { json: [{ steps: 1, meanReward: 2 }] }, 'eval/list': { json: [1] } }, evaluations: [{ episode: 0, seed: 7, totalReward: 1, kpis: { profit: 3 } }] });
    const comparison = store.recordComparison({ scenario: 's', arms: ['a', 'b'], baseline: 'a', summary: { lift: 1 } });
    store.close();
    const raw = new Database(databasePath(home));
    raw.prepare(damage).run(...values);
    raw.close();
    return { home, comparison };
  };
  const integrityError = (read: () => unknown): PricelabError => {
    try {
      read();
    } catch (error) {
      expect(error).toBeInstanceOf(PricelabError);
      expect((error as PricelabError).kind).toBe('integrity');
      return error as PricelabError;
    }
    throw new Error('expected an integrity error');
  };

  it('any text that is not JSON in runs.manifest: an integrity error naming the file, table, row and column', () => {
    fc.assert(
      fc.property(
        fc.string().filter((text) => {
          try {
            JSON.parse(text);
            return false;
          } catch {
            return true;
          }
        }),
        (text) => {
          const { home } = storeWith('UPDATE runs SET manifest = ? WHERE id = ?', text, 'r1');
          const store = ResultsStore.open(home);
          try {
            for (const read of [() => store.listRuns(), () => store.getRun('r1'), () => store.listRunsWithCurves()]) {
              const error = integrityError(read);
              expect(error.message).toContain(`the results store ${databasePath(home)} is damaged: table runs, row id=r1, column manifest`);
              expect(error.problems[0]).toMatchObject({ path: ['runs', 'id=r1', 'manifest'] });
              expect(error.problems[0]?.message).toMatch(/^expected JSON, found \d+ characters that are not/);
            }
          } finally {
            store.close();
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  it('every JSON column: runs.agent_config, metrics.json, evaluations.kpis, comparisons.arms and summary', () => {
    const cases: { damage: string; values: unknown[]; read: (store: ResultsStore, comparison: string) => unknown; names: string }[] = [
      { damage: 'UPDATE runs SET agent_config = ?', values: ['{"alpha":'], read: (store) => store.listRuns(), names: 'table runs, row id=r1, column agent_config' },
      { damage: "UPDATE metrics SET json = ? WHERE key = 'eval/list'", values: ['[1,'], read: (store) => store.metricsOf('r1'), names: 'table metrics, row run_id=r1, key=eval/list, column json' },
      { damage: "UPDATE metrics SET json = ? WHERE key = 'eval/curve'", values: ['nope'], read: (store) => store.listRunsWithCurves(), names: 'table metrics, row run_id=r1, key=eval/curve, column json' },
      { damage: 'UPDATE evaluations SET kpis = ?', values: ['{'], read: (store) => store.evaluationsOf('r1'), names: 'table evaluations, row run_id=r1, episode=0, column kpis' },
      { damage: 'UPDATE evaluations SET kpis = ?', values: ['{"profit":"lots"}'], read: (store) => store.evaluationsOf('r1'), names: 'table evaluations, row run_id=r1, episode=0, column kpis' },
      { damage: 'UPDATE comparisons SET arms = ?', values: ['["a",'], read: (store) => store.listComparisons(), names: 'column arms' },
      { damage: 'UPDATE comparisons SET arms = ?', values: ['{"a":1}'], read: (store, id) => store.getComparison(id), names: 'column arms' },
      { damage: 'UPDATE comparisons SET summary = ?', values: ['{lift: 1}'], read: (store) => store.listComparisons(), names: 'column summary' },
    ];
    for (const { damage, values, read, names } of cases) {
      const { home, comparison } = storeWith(damage, ...values);
      const store = ResultsStore.open(home);
      try {
        const error = integrityError(() => read(store, comparison));
        expect(error.message, damage).toContain(`the results store ${databasePath(home)} is damaged: table`);
        expect(error.message, damage).toContain(names);
      } finally {
        store.close();
      }
    }
  });

  it('the CLI: runs list and runs show exit 4 naming the file, table, row and column, without a stack trace', async () => {
    ensureBuilt();
    const cases: { damage: string; value: string; command: string[]; names: string }[] = [
      { damage: 'UPDATE runs SET manifest = ?', value: '{', command: ['runs', 'list'], names: 'table runs, row id=r1, column manifest' },
      { damage: 'UPDATE runs SET agent_config = ?', value: 'x', command: ['runs', 'list', '--json'], names: 'table runs, row id=r1, column agent_config' },
      { damage: "UPDATE metrics SET json = ? WHERE key = 'eval/list'", value: '[', command: ['runs', 'show', 'r1'], names: 'table metrics, row run_id=r1, key=eval/list, column json' },
      { damage: 'UPDATE evaluations SET kpis = ?', value: '{"profit":', command: ['runs', 'show', 'r1', '--json'], names: 'table evaluations, row run_id=r1, episode=0, column kpis' },
    ];
    await Promise.all(
      cases.map(async ({ damage, value, command, names }) => {
        const { home } = storeWith(damage, value);
        const result = await cliWith({ PRICELAB_HOME: home }, ...command);
        expect(result.code, `${command.join(' ')}: ${result.stderr}`).toBe(4);
        const said = `${result.stderr}${result.stdout}`;
        expect(said).toContain(`the results store ${databasePath(home)} is damaged: ${names}`);
        expect(said).not.toMatch(/internal error|SyntaxError|\n\s+at /);
      }),
    );
  });
});

describe('checkpoint paths', () => {
  const rawPath = (home: string, runId: string) => {
    const raw = new Database(databasePath(home), { readonly: true });
    try {
      return (raw.prepare('SELECT path FROM checkpoints WHERE run_id = ?').get(runId) as { path: string }).path;
    } finally {
      raw.close();
    }
  };

  it('are stored relative to the home: a copy of the home, the original removed, reads its own checkpoint', () => {
    const original = freshHome();
    const store = ResultsStore.open(original);
    store.registerRuns([runDefinition('r1')]);
    const written = writeCheckpoint(original, { format: checkpointFormat, runId: 'r1', boundary: { steps: 90, episodes: 3, episodeRewards: [1, 2, 3] }, agent: { kind: 'q-learning', state: { table: [] } } });
    store.recordCheckpoint({ runId: 'r1', episodes: 3, steps: 90, ...written });
    expect(store.checkpointOf('r1')?.path).toBe(written.path);
    store.close();
    expect(rawPath(original, 'r1')).toBe('checkpoints/r1/episode-3.json');

    const copy = join(freshHome(), 'copy');
    cpSync(original, copy, { recursive: true });
    rmSync(original, { recursive: true, force: true });
    const copied = ResultsStore.open(copy);
    try {
      const checkpoint = copied.checkpointOf('r1')!;
      expect(checkpoint.path).toBe(join(copy, 'checkpoints', 'r1', 'episode-3.json'));
      expect(readCheckpoint(checkpoint.path, checkpoint.sha256).boundary).toEqual({ steps: 90, episodes: 3, episodeRewards: [1, 2, 3] });
    } finally {
      copied.close();
    }
  });

  it('absolute paths of a schema-1 store are made relative on open (user_version 1 -> 2)', () => {
    const home = freshHome();
    const store = ResultsStore.open(home);
    store.registerRuns([runDefinition('r1'), runDefinition('r2', 2)]);
    store.close();
    // A schema-1 database: the same tables, checkpoint paths absolute (here from another home).
    const raw = new Database(databasePath(home));
    const insert = raw.prepare("INSERT INTO checkpoints (run_id, episodes, steps, path, sha256, written_at) VALUES (?, 1, 30, ?, ?, 'then')");
    insert.run('r1', '/elsewhere/old-home/checkpoints/r1/episode-1.json', 'a'.repeat(64));
    insert.run('r2', join(home, 'checkpoints', 'r2', 'episode-4.json'), 'b'.repeat(64));
    raw.pragma('user_version = 1');
    raw.close();

    const migrated = ResultsStore.open(home);
    try {
      expect(migrated.checkpointOf('r1')?.path).toBe(join(home, 'checkpoints', 'r1', 'episode-1.json'));
      expect(migrated.checkpointOf('r2')?.path).toBe(join(home, 'checkpoints', 'r2', 'episode-4.json'));
    } finally {
      migrated.close();
    }
    expect(rawPath(home, 'r1')).toBe('checkpoints/r1/episode-1.json');
    expect(rawPath(home, 'r2')).toBe('checkpoints/r2/episode-4.json');
    const check = new Database(databasePath(home), { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(schemaVersion);
    check.close();
  });

  it('a path outside the home is refused when recorded, and an integrity error when a row holds one', () => {
    const home = freshHome();
    const store = ResultsStore.open(home);
    try {
      store.registerRuns([runDefinition('r1')]);
      for (const outside of ['/etc/passwd', join(home, '..', 'other', 'episode-1.json'), '../episode-1.json', home]) {
        expect(() => store.recordCheckpoint({ runId: 'r1', episodes: 1, steps: 30, path: outside, sha256: 'c'.repeat(64) }), outside).toThrow(/lies outside the pricelab home/);
      }
      expect(store.checkpointOf('r1')).toBeUndefined();
      const raw = new Database(databasePath(home));
      raw.prepare("INSERT INTO checkpoints (run_id, episodes, steps, path, sha256, written_at) VALUES ('r1', 1, 30, '../../etc/passwd', ?, 'now')").run('c'.repeat(64));
      raw.close();
      let caught: unknown;
      try {
        store.checkpointOf('r1');
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(PricelabError);
      expect((caught as PricelabError).kind).toBe('integrity');
      expect((caught as PricelabError).message).toContain('table checkpoints, row run_id=r1, column path');
    } finally {
      store.close();
    }
  });
});
