/**
 * Starting the dashboard from the command line (issue 14.7, 14.11): a busy port is a
 * message that says so and how to choose another, exit 2, for `pricelab dashboard` and for
 * `npm start` (dist/ui/server/main.js) alike, never a stack trace; `--host` picks the
 * address and the allow-list follows it; anything but loopback is warned about (no
 * authentication); bad folders exit 2. Spawns the built CLI (dist/, rebuilt when stale by ensureBuilt).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboard, type DashboardServer } from '../../ui/server/app.js';
import { isLoopbackHost } from '../../ui/server/access.js';
import { exposureWarning } from '../../ui/server/launch.js';
import { ensureBuilt } from '../fixtures/cli.js';

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

let busy: DashboardServer;
let home: string;

beforeAll(async () => {
  ensureBuilt();
  home = mkdtempSync(join(tmpdir(), 'pricelab-dashboard-cli-'));
  busy = await startDashboard({ port: 0, resultsHome: home });
}, 600_000);

afterAll(async () => {
  await busy.close();
  rmSync(home, { recursive: true, force: true });
});

/** Runs a script until it exits, or until `until` holds for its stdout (then stops it with SIGINT). */
function runNode(args: string[], until?: (stdout: string) => boolean): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, PRICELAB_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (until?.(stdout)) child.kill('SIGINT');
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const noStackTrace = (text: string) => expect(text).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/);

describe('the dashboard on the command line', () => {
  it('a busy port: says it is in use and how to choose another, exit 2, from pricelab dashboard and npm start', async () => {
    for (const args of [['dist/cli/main.js', 'dashboard', '--port', String(busy.port)], ['dist/ui/server/main.js', '--port', String(busy.port)]]) {
      const ran = await runNode(args);
      expect(ran.code, args.join(' ')).toBe(2);
      expect(ran.stderr).toContain(`port ${busy.port} on 127.0.0.1 is already in use`);
      expect(ran.stderr).toContain('--port <n>');
      expect(ran.stderr).not.toContain('EADDRINUSE');
      noStackTrace(ran.stderr);
    }
  }, 90_000);

  it('--host picks the address (loopback: no warning)', async () => {
    const ran = await runNode(['dist/cli/main.js', 'dashboard', '--port', '0', '--host', '127.0.0.2'], (stdout) => /http:\/\/127\.0\.0\.2:\d+/.test(stdout));
    expect(ran.stdout).toMatch(/pricelab dashboard: http:\/\/127\.0\.0\.2:\d+/);
    expect(ran.stderr).not.toContain('warning');
  }, 60_000);

  it('warns that a dashboard beyond loopback has no authentication; an address not of this machine exits 2', async () => {
    const ran = await runNode(['dist/ui/server/main.js', '--port', '0', '--host', '203.0.113.7']);
    expect(ran.code).toBe(2);
    expect(ran.stderr).toContain('has no authentication');
    expect(ran.stderr).toContain('cannot listen on 203.0.113.7');
    noStackTrace(ran.stderr);
    expect(exposureWarning('0.0.0.0', 3000)).toContain('0.0.0.0:3000 and has no authentication');
    expect(exposureWarning('127.0.0.1', 3000)).toBeUndefined();
    expect(exposureWarning('::1', 3000)).toBeUndefined();
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '192.168.1.10', 'example.com', '128.0.0.1']) expect(isLoopbackHost(host), host).toBe(false);
  }, 60_000);

  it('a bad --scenarios folder or --port exits 2 naming it', async () => {
    const folder = await runNode(['dist/cli/main.js', 'dashboard', '--port', '0', '--scenarios', join(home, 'no-such-folder')]);
    expect(folder.code).toBe(2);
    expect(folder.stderr).toContain('scenarios: expected an existing folder');
    const port = await runNode(['dist/ui/server/main.js', '--port', '70000']);
    expect(port.code).toBe(2);
    expect(port.stderr).toContain('expected an integer from 0 to 65535');
    // Not a number at all: the message quotes what was typed (it said "found NaN").
    const typo = await runNode(['dist/ui/server/main.js', '--port', 'abc']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('port: expected an integer from 0 to 65535, found "abc"');
  }, 60_000);

  it('npm start -- --help lists the options and exits 0; an unknown option points to it', async () => {
    const help = await runNode(['dist/ui/server/main.js', '--help']);
    expect(help.code).toBe(0);
    for (const option of ['--port <n>', '--host <address>', '--allow-host', '--allow-origin', '--scenarios <folder>', '--runs <folder>']) expect(help.stdout).toContain(option);
    const unknown = await runNode(['dist/ui/server/main.js', '--prot', '3001']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('npm start -- --help');
  }, 60_000);
});
