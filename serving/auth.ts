/**
 * Bearer tokens for the endpoint. Tokens are never stored: only their sha256, hashed at
 * rest, in a token file (one `name sha256` per line, written by `pricelab token create`,
 * default PRICELAB_HOME/tokens) or in the environment (PRICELAB_TOKEN_SHA256, comma-
 * separated hashes). A request's `Authorization: Bearer <token>` is hashed and compared in
 * constant time with each known hash.
 *
 * Mutating endpoints (register, promote, rollback) always need a token; with no token
 * configured they are refused (403), never open. Reads need one when the config says so.
 *
 * The token file is re-read whenever it changes (its size, mtime, ctime or inode, checked
 * on each use: a stat, a few microseconds), so a token removed from the file stops working
 * at once, without a restart. A file that turns invalid while serving fails closed: its
 * tokens are refused until it is fixed (the environment's still count).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync, statSync, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import { PricelabError } from '../core/errors.js';

export interface TokenHash {
  readonly name: string;
  readonly sha256: Buffer;
}

export interface TokenStore {
  /** Known token hashes now, by name (file entries) or "env" (environment). */
  readonly hashes: readonly TokenHash[];
}

export const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

export const defaultTokenFile = (home: string): string => join(home, 'tokens');

const hexHash = /^[0-9a-f]{64}$/;

function tokensFromEnv(env: NodeJS.ProcessEnv | undefined): TokenHash[] {
  const fromEnv = env?.PRICELAB_TOKEN_SHA256;
  if (!fromEnv) return [];
  return fromEnv
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((hash, index) => {
      if (!hexHash.test(hash)) throw new PricelabError('config', 'PRICELAB_TOKEN_SHA256 is not valid', [{ path: ['PRICELAB_TOKEN_SHA256', index], message: `expected a sha256 in hex (64 characters 0-9a-f), found "${hash.slice(0, 12)}…"` }]);
      return { name: 'env', sha256: Buffer.from(hash, 'hex') };
    });
}

/** What a bad token-file line holds, without echoing the second field (it may be a raw token). */
function describeTokenLine(name: string | undefined, hash: string | undefined): string {
  if (!hash) return `only one field ("${name ?? ''}")`;
  return `"${name}" then ${hash.length} characters that are not 64 of 0-9a-f`;
}

function parseTokenFile(file: string, text: string): TokenHash[] {
  const hashes: TokenHash[] = [];
  text.split('\n').forEach((line, index) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const [name, hash] = trimmed.split(/\s+/, 2);
    if (!name || !hash || !hexHash.test(hash)) throw new PricelabError('config', `${file} is not a valid token file`, [{ path: [`line ${index + 1}`], message: `expected "<name> <sha256 in hex>", found ${describeTokenLine(name, hash)}` }]);
    hashes.push({ name, sha256: Buffer.from(hash, 'hex') });
  });
  return hashes;
}

const sameFile = (a: Stats | undefined, b: Stats | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino);

/** Tokens from a file (re-read when it changes) and the environment (read once). */
class FileTokenStore implements TokenStore {
  private seen: Stats | undefined;
  private fromFile: readonly TokenHash[] = [];
  private current: readonly TokenHash[];

  constructor(
    private readonly file: string | undefined,
    private readonly fromEnv: readonly TokenHash[],
    private readonly onReloadError: (error: PricelabError) => void,
  ) {
    this.current = fromEnv;
    this.reload(true);
  }

  get hashes(): readonly TokenHash[] {
    this.reload(false);
    return this.current;
  }

  private reload(strict: boolean): void {
    if (this.file === undefined) return;
    const stats = statSync(this.file, { throwIfNoEntry: false });
    if (sameFile(stats, this.seen)) return;
    this.seen = stats;
    try {
      this.fromFile = stats === undefined ? [] : parseTokenFile(this.file, readFileSync(this.file, 'utf8'));
    } catch (error) {
      if (strict || !(error instanceof PricelabError)) throw error;
      this.fromFile = []; // fail closed: a token file that cannot be read grants nothing
      this.onReloadError(error);
    }
    this.current = [...this.fromEnv, ...this.fromFile];
  }
}

/**
 * The tokens the endpoint accepts. A bad file or environment at start-up is a config error;
 * later changes to the file are picked up on the next use (see the header).
 */
export function loadTokens(options: { file?: string | undefined; env?: NodeJS.ProcessEnv; onReloadError?: (error: PricelabError) => void }): TokenStore {
  const report = options.onReloadError ?? ((error: PricelabError) => process.stderr.write(`serving: ${error.message}; its tokens are refused until it is fixed\n`));
  return new FileTokenStore(options.file, tokensFromEnv(options.env), report);
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
