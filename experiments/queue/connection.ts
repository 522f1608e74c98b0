/**
 * The Redis connection of the queue (BullMQ over ioredis), with bounded retries.
 *
 * ioredis reconnects forever by default, so an unreachable URL would hang a command. Here:
 * - `checkRedisReachable` answers within `connectSeconds` (default 3): a PING, or a
 *   not-found PricelabError (exit 3) naming the URL and the reason (refused, unknown host,
 *   timed out, authentication).
 * - `connectionOptions` gives the options every BullMQ object uses: after a connection is
 *   lost, ioredis retries (every 0.2 to 1 s) for at most `reconnectSeconds` (default 60),
 *   long enough for Redis to restart (its append-only file replayed), then gives up, and
 *   `watchConnection` reports the loss so the command can stop with a clear error.
 *
 * URLs: redis://[user:password@]host[:port][/db] (rediss:// for TLS); port 6379 and db 0 by
 * default. Every BullMQ key lives under the prefix `pricelab`, in the queue `runs`.
 */
import type { ConnectionOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { PricelabError, configError } from '../../core/errors.js';

/** BullMQ's key prefix and the queue's name: keys pricelab:runs:*. */
export const queuePrefix = 'pricelab';
export const queueName = 'runs';

export interface QueueConnectionSettings {
  /** The URL as given (shown in messages, without its password). */
  readonly url: string;
  /** Seconds to wait for the first answer (default 3). */
  readonly connectSeconds?: number;
  /** Seconds to keep reconnecting after a connection is lost (default 60). */
  readonly reconnectSeconds?: number;
}

export interface ParsedRedisUrl {
  readonly host: string;
  readonly port: number;
  readonly db: number;
  readonly username?: string;
  readonly password?: string;
  readonly tls: boolean;
}

/** Reads a redis:// URL; a URL that is not one is a config error (exit 2) naming --queue. */
export function parseRedisUrl(url: string): ParsedRedisUrl {
  const refuse = (found: string) => configError(`--queue ${JSON.stringify(url)} is not a Redis URL`, [{ path: ['--queue'], message: `expected redis://host:port[/db] (or rediss:// for TLS), found ${found}` }]);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw refuse('text that is not a URL');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw refuse(`the scheme "${parsed.protocol.replace(/:$/, '')}"`);
  if (parsed.hostname === '') throw refuse('no host');
  const port = parsed.port === '' ? 6379 : Number(parsed.port);
  const dbText = parsed.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0 || db > 15 || !/^\d*$/.test(dbText)) throw refuse(`the database "${dbText}" (expected a number 0 to 15)`);
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port,
    db,
    ...(parsed.username !== '' ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password !== '' ? { password: decodeURIComponent(parsed.password) } : {}),
    tls: parsed.protocol === 'rediss:',
  };
}

/** The URL without its password, for messages and status output. */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

/** The connection BullMQ's queues and workers open (ioredis options; see redisOptions). */
export function connectionOptions(settings: QueueConnectionSettings): ConnectionOptions {
  return redisOptions(settings) as ConnectionOptions;
}

/**
 * ioredis's options without replyMapping: ioredis 6 declares it `| undefined` in RedisOptions
 * but not in its constructor, which exactOptionalPropertyTypes refuses.
 */
export type QueueRedisOptions = Omit<RedisOptions, 'replyMapping'>;

/** ioredis options: commands wait through a reconnection, which is bounded in time. */
export function redisOptions(settings: QueueConnectionSettings): QueueRedisOptions {
  const target = parseRedisUrl(settings.url);
  const reconnectMs = (settings.reconnectSeconds ?? 60) * 1000;
  let lostAt: number | undefined;
  return {
    host: target.host,
    port: target.port,
    db: target.db,
    ...(target.username !== undefined ? { username: target.username } : {}),
    ...(target.password !== undefined ? { password: target.password } : {}),
    ...(target.tls ? { tls: {} } : {}),
    connectTimeout: (settings.connectSeconds ?? 3) * 1000,
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    // How long a closing connection may wait for its socket (ioredis: 2 s, which delays every exit).
    disconnectTimeout: 200,
    // Called with 1, 2, ... after each failed attempt; the count restarts once connected.
    retryStrategy: (times: number) => {
      const now = Date.now();
      if (times === 1 || lostAt === undefined) lostAt = now;
      if (now - lostAt > reconnectMs) return null;
      return Math.min(1000, 200 * times);
    },
  };
}

/**
 * Checks that Redis answers a PING within connectSeconds; otherwise a not-found error (exit 3)
 * with the reason. Never hangs: the client is told to stop retrying at the deadline.
 */
export async function checkRedisReachable(settings: QueueConnectionSettings): Promise<void> {
  const target = parseRedisUrl(settings.url);
  const seconds = settings.connectSeconds ?? 3;
  const deadline = Date.now() + seconds * 1000;
  let lastError: Error | undefined;
  let socketError: Error | undefined;
  const client = new Redis({
    ...redisOptions(settings),
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    // Each attempt gives up after a second (a host that drops packets), so no timer outlives the deadline.
    connectTimeout: Math.min(1000, seconds * 1000),
    retryStrategy: () => (Date.now() < deadline ? 250 : null),
  });
  client.on('error', (error: Error) => {
    socketError = error;
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    const answered = (async () => {
      for (;;) {
        try {
          if (client.status === 'wait') await client.connect();
          await client.ping();
          return;
        } catch (error) {
          lastError = error as Error;
          if (/NOAUTH|WRONGPASS|invalid password|ERR AUTH/i.test(lastError.message) || Date.now() >= deadline) throw lastError;
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      }
    })();
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer in ${seconds} s`)), seconds * 1000);
    });
    await Promise.race([answered, timedOut]);
  } catch (error) {
    // The socket's error says why (refused, unknown host); the command's only that it could not be sent.
    const commandError = lastError ?? (error as Error);
    const reason = socketError ? reasonOf(socketError) : /Stream isn't writeable|Connection is closed/.test(commandError.message) ? 'timed out' : reasonOf(commandError);
    throw new PricelabError('not-found', `no Redis answering at ${displayUrl(settings.url)} (${target.host}:${target.port}): ${reason}`, [
      { path: ['--queue'], message: `expected a reachable Redis 6.2 or later, found ${reason} after ${seconds} s; start one (redis-server --port ${target.port} --appendonly yes) or correct the URL` },
    ]);
  } finally {
    if (timer) clearTimeout(timer);
    client.disconnect();
  }
}

/** A connection error in a few words (refused, unknown host, timed out, authentication). */
export function reasonOf(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'unknown host';
  if (code === 'ETIMEDOUT' || /timed? ?out|no answer/i.test(error.message)) return 'timed out';
  if (/NOAUTH|WRONGPASS|invalid password/i.test(error.message)) return 'authentication refused';
  return error.message.split('\n')[0] ?? 'no answer';
}

/**
 * Watches a connection: calls `onLost` once when ioredis has given up reconnecting (after
 * reconnectSeconds), so a long-running command stops with a clear error instead of waiting.
 */
export function watchConnection(settings: QueueConnectionSettings, onLost: (message: string) => void): { close(): void } {
  const client = new Redis({ ...redisOptions(settings), maxRetriesPerRequest: 1 });
  let lastError = 'connection lost';
  let closing = false;
  client.on('error', (error: Error) => {
    lastError = reasonOf(error);
  });
  client.on('end', () => {
    if (!closing) onLost(`lost Redis at ${displayUrl(settings.url)} for more than ${settings.reconnectSeconds ?? 60} s (${lastError})`);
  });
  return {
    close() {
      closing = true;
      client.disconnect();
    },
  };
}
