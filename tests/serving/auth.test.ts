/** Bearer tokens: a token removed from the token file stops working without a restart. */
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { authenticate, createToken, loadTokens } from '../../serving/auth.js';
import { postJson, startEndpoint } from '../fixtures/serving.js';

const scratch = mkdtempSync(join(tmpdir(), 'pricelab-auth-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const bearer = (token: string) => `Bearer ${token}`;

/** Rewrites the token file without `name`'s line, in place or by rename (as an editor or a script would). */
function revoke(file: string, name: string, how: 'in place' | 'rename'): void {
  const kept = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => !line.startsWith(`${name} `))
    .join('\n');
  if (how === 'in place') writeFileSync(file, kept);
  else {
    writeFileSync(`${file}.new`, kept);
    renameSync(`${file}.new`, file);
  }
}

describe('the token store', () => {
  it('takes a revocation (in place or by rename) and a new token without a restart', () => {
    for (const how of ['in place', 'rename'] as const) {
      const file = join(mkdtempSync(join(scratch, 'home-')), 'tokens');
      const ci = createToken(file, 'ci');
      const ops = createToken(file, 'ops');
      const store = loadTokens({ file });
      expect(authenticate(bearer(ci), store)).toBe('ci');
      expect(authenticate(bearer(ops), store)).toBe('ops');
      revoke(file, 'ci', how);
      expect(authenticate(bearer(ci), store)).toBeUndefined();
      expect(authenticate(bearer(ops), store)).toBe('ops');
      const later = createToken(file, 'later');
      expect(authenticate(bearer(later), store)).toBe('later');
    }
  });

  it('fails closed when the file turns invalid while serving, and says so once', () => {
    const file = join(mkdtempSync(join(scratch, 'home-')), 'tokens');
    const ci = createToken(file, 'ci');
    const errors: string[] = [];
    const env = { PRICELAB_TOKEN_SHA256: '0'.repeat(64) };
    const store = loadTokens({ file, env, onReloadError: (error) => errors.push(error.message) });
    expect(authenticate(bearer(ci), store)).toBe('ci');
    writeFileSync(file, `${readFileSync(file, 'utf8')}garbage\n`);
    expect(authenticate(bearer(ci), store)).toBeUndefined();
    expect(authenticate(bearer(ci), store)).toBeUndefined();
    expect(store.hashes.map((hash) => hash.name)).toEqual(['env']);
    expect(errors.length).toBe(1);
    expect(errors[0]).toMatch(/not a valid token file/);
    // An invalid file at start-up is still a config error.
    expect(() => loadTokens({ file })).toThrow(/not a valid token file/);
  });

  it('names the line, what it expected and what it found, without echoing a raw token', () => {
    const file = join(mkdtempSync(join(scratch, 'home-')), 'tokens');
    const problemOf = (text: string): string => {
      writeFileSync(file, text);
      try {
        loadTokens({ file });
      } catch (error) {
        return (error as { problems: { path: unknown[]; message: string }[] }).problems.map((problem) => `${problem.path.join('.')}: ${problem.message}`).join('; ');
      }
      throw new Error('expected the token file to be refused');
    };
    expect(problemOf('# tokens\ngarbage\n')).toBe('line 2: expected "<name> <sha256 in hex>", found only one field ("garbage")');
    const secret = 'plsk_not_a_hash_but_a_raw_token';
    const message = problemOf(`ci ${secret}\n`);
    expect(message).toBe(`line 1: expected "<name> <sha256 in hex>", found "ci" then ${secret.length} characters that are not 64 of 0-9a-f`);
    expect(message).not.toContain(secret);
  });

  it('over HTTP: a revoked token is refused by the running endpoint (401)', async () => {
    const home = mkdtempSync(join(scratch, 'home-'));
    const file = join(home, 'tokens');
    const ci = createToken(file, 'ci');
    createToken(file, 'ops');
    const endpoint = await startEndpoint(home, {}, { tokens: loadTokens({ file }) });
    try {
      const rollback = (token: string) => postJson(`${endpoint.url}/v1/policies/everyday/rollback`, { alias: 'production', reason: 'test' }, { authorization: bearer(token) });
      expect((await rollback(ci)).status).toBe(404); // authenticated: nothing to roll back
      revoke(file, 'ci', 'in place');
      expect((await rollback(ci)).status).toBe(401);
      expect((await rollback(createToken(file, 'next'))).status).toBe(404);
    } finally {
      await endpoint.close();
    }
  });
});
