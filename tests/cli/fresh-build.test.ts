/**
 * tests/fixtures/fresh-build.ts, what ensureBuilt() runs before every CLI test: the build runs
 * when its output is missing or older than a source, not otherwise; files of other kinds in
 * the source folders do not count; test files asking at once build once (the lock), and a
 * lock left by a dead process is taken over. On a scratch tree with a build script that
 * counts its runs; then once on the real tree (dist/ fresh after ensureBuilt).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureBuilt, root, serverBuild } from '../fixtures/cli.js';
import { buildIfStale, buildSources, isFresh, type BuildTarget } from '../fixtures/fresh-build.js';

const buildScript = `
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
appendFileSync('builds.log', process.pid + '\\n');
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(process.env.BUILD_MILLISECONDS ?? '0'));
mkdirSync('out', { recursive: true });
writeFileSync('out/built.txt', 'built');
`;

let scratch = '';
let target: BuildTarget;
const builds = () => readFileSync(join(scratch, 'builds.log'), 'utf8').split('\n').filter((line) => line !== '').length;
/** Sets a file's times `seconds` from now (negative: the past). */
const age = (path: string, seconds: number) => {
  const time = new Date(Date.now() + seconds * 1000);
  utimesSync(join(scratch, path), time, time);
};

beforeEach(() => {
  scratch = mkdtempSync(join(tmpdir(), 'pricelab-fresh-build-'));
  mkdirSync(join(scratch, 'src', 'nested'), { recursive: true });
  writeFileSync(join(scratch, 'src', 'nested', 'a.ts'), 'export {};');
  writeFileSync(join(scratch, 'src', 'notes.md'), 'notes');
  writeFileSync(join(scratch, 'config.json'), '{}');
  writeFileSync(join(scratch, 'build.mjs'), buildScript);
  writeFileSync(join(scratch, 'builds.log'), '');
  for (const source of [join('src', 'nested', 'a.ts'), join('src', 'notes.md'), 'config.json']) age(source, -120);
  target = { root: scratch, sources: ['src', 'config.json', 'missing-folder'], extensions: ['.ts'], output: join('out', 'built.txt'), command: 'node build.mjs', lock: join('out', '.lock') };
});

afterEach(() => rmSync(scratch, { recursive: true, force: true }));

describe('buildIfStale', () => {
  it('builds a missing output once, then leaves a fresh one alone', () => {
    expect(isFresh(target)).toBe(false);
    expect(buildIfStale(target)).toBe(true);
    expect(buildIfStale(target)).toBe(false);
    expect(builds()).toBe(1);
    expect(isFresh(target)).toBe(true);
  });

  it('rebuilds when a source in a nested folder, or a listed file, is newer than the output; not for other kinds of file', () => {
    buildIfStale(target);
    age(join('out', 'built.txt'), -60);
    age(join('src', 'notes.md'), -1);
    expect(buildIfStale(target)).toBe(false); // a .md file is not a source of this build
    expect(builds()).toBe(1);
    age(join('src', 'nested', 'a.ts'), -1);
    expect(isFresh(target)).toBe(false);
    expect(buildIfStale(target)).toBe(true);
    expect(builds()).toBe(2);
    age(join('out', 'built.txt'), -60);
    age('config.json', -1); // listed by name: counts whatever its ending
    expect(buildIfStale(target)).toBe(true);
    expect(builds()).toBe(3);
  });

  it('builds once when four processes ask at once', async () => {
    const module = join(root, 'tests', 'fixtures', 'fresh-build.ts');
    const script = `import(${JSON.stringify(module)}).then((m) => console.log(m.buildIfStale(${JSON.stringify(target)})))`;
    const outputs = await Promise.all(
      Array.from({ length: 4 }, () => new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { cwd: root, env: { ...process.env, BUILD_MILLISECONDS: '1500' }, stdio: ['ignore', 'pipe', 'inherit'] });
        let stdout = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.on('error', reject);
        child.on('close', (code) => (code === 0 ? resolve(stdout.trim()) : reject(new Error(`exit ${code}`))));
      })),
    );
    expect(outputs.sort()).toEqual(['false', 'false', 'false', 'true']);
    expect(builds()).toBe(1);
    expect(isFresh(target)).toBe(true);
  }, 60_000);

  it('fails with what the build printed, and leaves no lock behind', () => {
    const failing = { ...target, command: `node -e "console.log('src/a.ts(1,1): error TS2322'); process.exit(2)"` };
    expect(() => buildIfStale(failing)).toThrow(/error TS2322/);
    expect(buildIfStale(target)).toBe(true);
  });

  it('takes over a lock whose process has died', () => {
    const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
    mkdirSync(join(scratch, 'out', '.lock'), { recursive: true });
    writeFileSync(join(scratch, 'out', '.lock', 'pid'), dead.stdout.trim());
    expect(buildIfStale({ ...target, waitSeconds: 5 })).toBe(true);
    expect(builds()).toBe(1);
  });

  it('gives up on a live lock after waitSeconds, naming the lock to remove', () => {
    mkdirSync(join(scratch, 'out', '.lock'), { recursive: true });
    writeFileSync(join(scratch, 'out', '.lock', 'pid'), String(process.pid));
    expect(() => buildIfStale({ ...target, waitSeconds: 0.5 })).toThrow(/lock .*\.lock/);
    expect(builds()).toBe(0);
  });
});

describe('the real tree', () => {
  it('watches every folder tsconfig.build.json compiles, and dist/ is fresh after ensureBuilt', () => {
    const include = (JSON.parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8')) as { include: string[] }).include;
    expect(buildSources(root)).toEqual(expect.arrayContaining([...include, 'tsconfig.build.json']));
    ensureBuilt();
    expect(isFresh(serverBuild)).toBe(true);
    expect(statSync(join(root, serverBuild.output)).mode & 0o100).not.toBe(0); // make-executable ran
  }, 600_000);
});
