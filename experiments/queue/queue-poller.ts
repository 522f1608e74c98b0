/**
 * Polls the queue's status (status.ts `readQueueStatus`) every interval over ONE connection
 * kept open, for a long-running watcher (the dashboard's "Distributed sweep" panel).
 *
 * Never throws and never gives up: the connection reconnects forever (every 0.2 to 2 s), a
 * command waits at most `timeoutMs` (no offline queue: while disconnected a poll fails at
 * once), and an unreachable or lost Redis is a state of the snapshot ('unreachable', with the
 * reason and the last status seen), not an error. Polls never overlap.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { displayUrl, queueName, queuePrefix, reasonOf, redisOptions, type QueueConnectionSettings } from './connection.js';
import { readQueueStatus, type QueueStatus } from './status.js';

export interface QueuePollSnapshot {
  /** The URL without its password. */
  readonly url: string;
  /** 'connecting' until the first poll answers or fails. */
  readonly state: 'connecting' | 'ok' | 'unreachable';
  /** Why the latest poll failed (state 'unreachable'); null otherwise. */
  readonly reason: string | null;
  /** When the latest poll ended (ISO time); null before the first. */
  readonly checkedAt: string | null;
  /** The latest status read (kept, stale, while unreachable); null before the first success. */
  readonly status: QueueStatus | null;
}

export interface QueuePollerOptions {
  /** Milliseconds between polls (default 1500). */
  readonly intervalMs?: number;
  /** Milliseconds a poll may take before it counts as unreachable (default 2000). */
  readonly timeoutMs?: number;
  /** Called after every poll with the new snapshot. */
  readonly onSnapshot?: (snapshot: QueuePollSnapshot) => void;
}

export interface QueuePoller {
  latest(): QueuePollSnapshot;
  /** Polls now (or waits for the poll in flight) and returns the snapshot after it. */
  pollNow(): Promise<QueuePollSnapshot>;
  close(): Promise<void>;
}

/** Starts polling at once; `settings.url` must be a redis:// URL (parseRedisUrl: a config error otherwise). */
export function startQueuePoller(settings: QueueConnectionSettings, options: QueuePollerOptions = {}): QueuePoller {
  const intervalMs = options.intervalMs ?? 1500;
  const timeoutMs = options.timeoutMs ?? 2000;
  const url = displayUrl(settings.url);
  let lastSocketError: string | undefined;
  const client = new Redis({
    ...redisOptions(settings),
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (times: number) => Math.min(2000, 200 * times),
  });
  client.on('error', (error: Error) => {
    lastSocketError = reasonOf(error);
  });
  client.on('ready', () => {
    lastSocketError = undefined;
  });
  const queue = new Queue(queueName, { connection: client, prefix: queuePrefix });
  queue.on('error', () => undefined);

  let snapshot: QueuePollSnapshot = { url, state: 'connecting', reason: null, checkedAt: null, status: null };
  let inFlight: Promise<QueuePollSnapshot> | undefined;
  let closed = false;

  const poll = (): Promise<QueuePollSnapshot> => {
    if (inFlight) return inFlight;
    let timer: NodeJS.Timeout | undefined;
    let onSocketError: ((error: Error) => void) | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
      // A poll waiting for the connection ends at its first socket error, not at the timeout.
      onSocketError = (error) => {
        if (client.status !== 'ready') reject(error);
      };
      client.on('error', onSocketError);
    });
    // Not connected after a socket error: unreachable now, not after the timeout (ioredis keeps reconnecting).
    const read = client.status !== 'ready' && lastSocketError !== undefined ? Promise.reject(new Error(lastSocketError)) : readQueueStatus(queue, settings.url);
    inFlight = Promise.race([read, timedOut])
      .then(
        (status): QueuePollSnapshot => ({ url, state: 'ok', reason: null, checkedAt: new Date().toISOString(), status }),
        (error: unknown): QueuePollSnapshot => ({
          url,
          state: 'unreachable',
          reason: client.status === 'ready' ? reasonOf(error as Error) : (lastSocketError ?? `not connected (${client.status})`),
          checkedAt: new Date().toISOString(),
          status: snapshot.status,
        }),
      )
      .then((next) => {
        clearTimeout(timer);
        if (onSocketError) client.off('error', onSocketError);
        inFlight = undefined;
        if (!closed) {
          snapshot = next;
          options.onSnapshot?.(next);
        }
        return snapshot;
      });
    return inFlight;
  };

  const ticker = setInterval(() => void poll(), intervalMs);
  ticker.unref();
  void poll();

  return {
    latest: () => snapshot,
    pollNow: () => (inFlight ?? Promise.resolve()).then(() => poll()),
    close: async () => {
      closed = true;
      clearInterval(ticker);
      await queue.close().catch(() => undefined);
      client.disconnect();
    },
  };
}

