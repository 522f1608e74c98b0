/**
 * loadScenario reads only small regular files, for every caller (CLI, dashboard, workers):
 * a FIFO, a device, a folder or a file over 1 MiB is refused before it is read (at once,
 * never blocking or growing), and a JSON syntax error gives its line and column without
 * quoting the file. Symlinks to a regular file still load (the CLI's paths are the user's).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PricelabError } from '../../core/errors.js';
import { builtInScenarioFolder, jsonSyntaxErrorAt, loadScenario, maxScenarioFileBytes, readRegularFile } from '../../scenarios/load.js';

let folder: string;

beforeAll(() => {
  folder = mkdtempSync(join(tmpdir(), 'pricelab-load-safety-'));
});

afterAll(() => rmSync(folder, { recursive: true, force: true }));

const refusal = (idOrPath: string): PricelabError => {
  const started = performance.now();
  try {
    loadScenario(idOrPath);
  } catch (error) {
    expect(performance.now() - started, idOrPath).toBeLessThan(500);
    expect(error).toBeInstanceOf(PricelabError);
    return error as PricelabError;
  }
  throw new Error(`${idOrPath} was loaded`);
};

describe('loadScenario reads only small regular files', () => {
  it('refuses devices, a FIFO and a folder without opening them', () => {
    const fifo = join(folder, 'pipe.json');
    execFileSync('mkfifo', [fifo]);
    // A FIFO with no writer would block an open() forever: refused at once instead.
    expect(refusal(fifo).problems[0]?.message).toBe('expected a regular file, found a FIFO (named pipe)');
    expect(refusal('/dev/zero').problems[0]?.message).toBe('expected a regular file, found a character device');
    expect(refusal('/dev/null').kind).toBe('config');
    expect(refusal(folder).problems[0]?.message).toBe('expected a regular file, found a folder');
    const link = join(folder, 'zero-link.json');
    symlinkSync('/dev/zero', link);
    expect(refusal(link).problems[0]?.message).toBe('expected a regular file, found a character device');
  });

  it('refuses /dev/stdin at once, though its writer keeps it open (reading it would wait forever)', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', `import('${join(process.cwd(), 'scenarios/load.ts')}').then((m) => { try { m.loadScenario('/dev/stdin'); console.log('loaded'); } catch (e) { console.log(e.kind); } })`], { stdio: ['pipe', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        child.kill();
        resolve(null);
      }, 25_000);
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
    child.stdin.end();
    expect(exited).toBe(0);
    expect(output.trim()).toBe('config');
  }, 30_000);

  it('refuses a file over the size cap, and loads one just under it', () => {
    const huge = join(folder, 'huge.json');
    writeFileSync(huge, Buffer.alloc(maxScenarioFileBytes + 1, 0x20));
    expect(refusal(huge).problems[0]?.message).toBe(`expected at most ${maxScenarioFileBytes} bytes, found ${maxScenarioFileBytes + 1} bytes`);
    const text = readFileSync(join(builtInScenarioFolder, 'steady-state-v1.json'), 'utf8');
    const padded = join(folder, 'padded.json');
    writeFileSync(padded, text.padEnd(maxScenarioFileBytes, ' '));
    expect(loadScenario(padded).scenario.id).toBe('steady-state-v1');
    expect(readRegularFile(padded, maxScenarioFileBytes).length).toBe(maxScenarioFileBytes);
  });

  it('loads through a symlink to a regular file, and says a missing path is not found', () => {
    const link = join(folder, 'link.json');
    symlinkSync(join(builtInScenarioFolder, 'markdown-gvr-v1.json'), link);
    expect(loadScenario(link).scenario.id).toBe('markdown-gvr-v1');
    expect(refusal(join(folder, 'missing.json')).kind).toBe('not-found');
    expect(loadScenario('steady-state-v1').source).toBe(join(builtInScenarioFolder, 'steady-state-v1.json'));
  });

  it('a JSON syntax error names its line and column and quotes nothing of the file', () => {
    const passwd = readFileSync('/etc/passwd', 'utf8');
    const error = refusal('/etc/passwd');
    expect(error.message).toContain('is not valid JSON');
    expect(error.message).toMatch(/at line 1, column 1/);
    expect(error.message).not.toContain(passwd.slice(0, 8));
    expect(jsonSyntaxErrorAt('{\n  "a": 1,\n  oops\n}')).toBe('a syntax error (InvalidSymbol) at line 3, column 3');
    expect(jsonSyntaxErrorAt('{"a": 1')).toMatch(/at line 1, column 8$/);
    // Whatever the text, the message is made of the error's kind and its position only.
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 60 }), (secret) => {
        const text = `{"id": ${JSON.stringify(secret)} ${secret}`;
        let isJson = true;
        try {
          JSON.parse(text);
        } catch {
          isJson = false;
        }
        fc.pre(!isJson);
        expect(jsonSyntaxErrorAt(text)).toMatch(/^a syntax error( \([A-Za-z]+\) at line \d+, column \d+)?$/);
      }),
      { numRuns: 300 },
    );
  });
});
