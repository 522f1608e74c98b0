/**
 * Bearer tokens for the endpoint. Tokens are never stored: only their sha256, hashed at
 * rest, in a token file (one `name sha256` per line, written by `pricelab token create`,
 * default PRICELAB_HOME/tokens) or in the environment (PRICELAB_TOKEN_SHA256, comma-
 * separated hashes). A request's `Authorization: Bearer <token>` is hashed and compared in
 * constant time with each known hash.
 *
 * Mutating endpoints (register, promote, rollback) always need a token; with no token
 * configured they are refused (403), never open. Reads need one when the config says so.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PricelabError } from '../env/errors.js';

export interface TokenStore {
  /** Known token hashes, by name (file entries) or "env" (environment). */
  readonly hashes: readonly { readonly name: string; readonly sha256: Buffer }[];
}

export const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

export const defaultTokenFile = (home: string): string => join(home, 'tokens');

const hexHash = /^[0-9a-f]{64}$/;

export function loadTokens(options: { file?: string | undefined; env?: NodeJS.ProcessEnv }): TokenStore {
  const hashes: { name: string; sha256: Buffer }[] = [];
  const fromEnv = options.env?.PRICELAB_TOKEN_SHA256;
  if (fromEnv) {
    fromEnv.split(',').map((part) => part.trim()).filter(Boolean).forEach((hash, index) => {
      if (!hexHash.test(hash)) throw new PricelabError('config', 'PRICELAB_TOKEN_SHA256 is not valid', [{ path: ['PRICELAB_TOKEN_SHA256', index], message: `expected a sha256 in hex (64 characters 0-9a-f), found "${hash.slice(0, 12)}…"` }]);
      hashes.push({ name: 'env', sha256: Buffer.from(hash, 'hex') });
    });
  }
  if (options.file && existsSync(options.file)) {
    readFileSync(options.file, 'utf8')
      .split('\n')
      .forEach((line, index) => {
        const trimmed = line.trim();
        if (trimmed === '' || trimmed.startsWith('#')) return;
        const [name, hash] = trimmed.split(/\s+/, 2);
        if (!name || !hash || !hexHash.test(hash)) throw new PricelabError('config', `${options.file} is not a valid token file`, [{ path: [`line ${index + 1}`], message: 'expected "<name> <sha256 in hex>", found something else' }]);
        hashes.push({ name, sha256: Buffer.from(hash, 'hex') });
      });
  }
  return { hashes };
}

/** The name of the token a request carries, or undefined when it carries none that is known. */
export function authenticate(header: string | undefined, tokens: TokenStore): string | undefined {
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
  if (!match?.[1]) return undefined;
  const presented = createHash('sha256').update(match[1], 'utf8').digest();
  let found: string | undefined;
  for (const known of tokens.hashes) if (timingSafeEqual(presented, known.sha256) && found === undefined) found = known.name;
  return found;
}

/** Creates a token, appends its hash to the file, and returns the token (shown once). */
export function createToken(file: string, name: string): string {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(name)) throw new PricelabError('config', `bad token name "${name}"`, [{ path: ['name'], message: `expected letters, digits, '.', '_' or '-' (at most 64), found "${name}"` }]);
  const token = `plb_${randomBytes(24).toString('base64url')}`;
  mkdirSync(dirname(file), { recursive: true });
  appendFileSync(file, `${name} ${hashToken(token)}\n`, { mode: 0o600 });
  return token;
}
