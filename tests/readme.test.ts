/**
 * Every command block of README.md runs as written, in order, in a fresh folder, with
 * CI's small budgets (tests/fixtures/readme.ts): `npx pricelab` is the built CLI, a
 * server command (`serve`, `dashboard`) runs in the background on a free port until the
 * block's later lines have run, and each command must exit 0.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, main, root } from './fixtures/cli.js';
import { applyBudgets, budgetRules, commandsOf, readReadme, readmeBlocks, withoutComment } from './fixtures/readme.js';

const blocks = readmeBlocks(readReadme(root));
const [setupBlock, ...userBlocks] = blocks;
const usedRules = new Set<string>();
const servers: ChildProcess[] = [];
let folder = '';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function environment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' };
  delete env.PRICELAB_HOME; // as a user runs it: the store in ./.pricelab
  return env;
}

function run(command: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile('bash', ['-c', command], { cwd: folder, env: environment(), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 240_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, output: `${stdout}\n${stderr}` });
    });
  });
}

async function waitUntilUp(port: number, server: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`the server exited with ${server.exitCode}:\n${output()}`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/`);
      await response.body?.cancel();
      return;
    } catch {
      await new Promise((resolveWait) => setTimeout(resolveWait, 200));
    }
  }
  throw new Error(`the server did not answer on port ${port}:\n${output()}`);
}

function stopServers(): void {
  for (const server of servers.splice(0)) {
    if (server.pid !== undefined && server.exitCode === null) {
      try {
        process.kill(-server.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  }
}

beforeAll(() => {
  ensureBuilt();
  folder = mkdtempSync(join(tmpdir(), 'pricelab-readme-'));
  symlinkSync(join(root, 'scenarios'), join(folder, 'scenarios'));
});

afterAll(() => {
  stopServers();
  if (folder !== '') rmSync(folder, { recursive: true, force: true });
});

describe('the README parser', () => {
  it('joins continuations and drops comments outside quotes only', () => {
    expect(commandsOf(['npx a --x 1 \\', '  --y "2 # not a comment" # a comment', '', '# only a comment'])).toEqual(['npx a --x 1 --y "2 # not a comment"']);
    expect(withoutComment("echo 'a#b' #c")).toBe("echo 'a#b' ");
  });

  it('finds the two commands first and the user blocks after them', () => {
    expect(setupBlock?.commands).toEqual(['npm install && npm start', 'npm test']);
    expect(userBlocks.length).toBeGreaterThanOrEqual(3);
  });
});

describe('every README command block runs as written', () => {
  for (const [blockIndex, block] of userBlocks.entries()) {
    it(`block ${blockIndex + 1} (${block.section})`, async () => {
      let port = 0;
      try {
        for (const written of block.commands) {
          let command = applyBudgets(written, usedRules).replaceAll('npx pricelab', `node "${main}"`);
          const isServer = /\bmain\.js" (serve|dashboard)\b/.test(command);
          if (isServer || /(localhost|127\.0\.0\.1):\d+/.test(command)) {
            if (isServer) port = await freePort();
            command = command.replace(/--port \d+/, `--port ${port}`).replace(/(localhost|127\.0\.0\.1):\d+/g, `127.0.0.1:${port}`);
          }
          if (isServer) {
            let output = '';
            const server = spawn('bash', ['-c', `exec ${command}`], { cwd: folder, env: environment(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
            server.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
            server.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
            servers.push(server);
            await waitUntilUp(port, server, () => output);
            continue;
          }
          const { code, output } = await run(command);
          expect(code, `\`${written}\` (run as \`${command}\`) exited ${code}:\n${output.slice(-4000)}`).toBe(0);
        }
      } finally {
        stopServers();
      }
    }, 900_000);
  }

  it('applies every budget rule (the table follows the README)', () => {
    const unused = budgetRules.filter((rule) => !usedRules.has(rule.why)).map((rule) => rule.why);
    expect(unused).toEqual([]);
  });
});
