/** `pricelab policy promote` without a version: exit 2, the problem names the field, what it expected and what it found. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cliWith, ensureBuilt } from '../fixtures/cli.js';

const home = mkdtempSync(join(tmpdir(), 'pricelab-promote-reference-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));
beforeAll(() => ensureBuilt());

it('a reference without @version is refused naming what was typed', async () => {
  const ran = await cliWith({ PRICELAB_HOME: home }, 'policy', 'promote', 'everyday', '--to', 'staging', '--reason', 'test');
  expect(ran.code).toBe(2);
  expect(ran.stderr).toContain('policy: expected name@version or name@alias, found "everyday" (no version)');
}, 60_000);
