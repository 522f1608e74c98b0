/** `pricelab serve` start-up refusals: a busy port (exit 2, names --port) and nothing servable (exit 4, names each policy). */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PolicyRegistry } from '../../serving/registry.js';
import { cliWith, ensureBuilt } from '../fixtures/cli.js';
import { trainedPolicyArtifact } from '../fixtures/policy-artifact.js';

const scratch = mkdtempSync(join(tmpdir(), 'pricelab-serve-cli-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
beforeAll(() => ensureBuilt(), 300_000);

const noStackTrace = (text: string) => expect(text).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);

describe('pricelab serve', () => {
  it('on a busy port says so and how to choose another (exit 2), without a stack trace', async () => {
    const busy: Server = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const address = busy.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const result = await cliWith({ PRICELAB_HOME: mkdtempSync(join(scratch, 'home-')) }, 'serve', '--port', String(port));
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(new RegExp(`port ${port} .*already in use`));
      expect(result.stderr).toMatch(/--port/);
      noStackTrace(result.stderr);
    } finally {
      await new Promise<void>((resolve) => busy.close(() => resolve()));
    }
  }, 60_000);

  it('refuses to start when no production version can be served (exit 4, each named)', async () => {
    const home = mkdtempSync(join(scratch, 'home-'));
    const trained = await trainedPolicyArtifact(scratch, { seed: 4, steps: 1000 });
    const registry = PolicyRegistry.open(home);
    try {
      registry.register(trained.folder, { reason: 'v1', name: 'everyday' });
      registry.moveAlias('everyday', 1, 'production', { reason: 'bootstrap' });
      const folder = registry.version('everyday', 1).path;
      const weights = readdirSync(folder).find((file) => file !== 'policy.json' && file !== 'scenario.json');
      writeFileSync(join(folder, weights ?? 'q-table.json'), '{"damaged": true}');
    } finally {
      registry.close();
    }
    const result = await cliWith({ PRICELAB_HOME: home }, 'serve', '--port', '0');
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/none of the 1 production policy can be served/);
    expect(result.stderr).toMatch(/everyday@1/);
    noStackTrace(result.stderr);
  }, 120_000);
});
