/**
 * GET /api/queue: the "Distributed sweep" panel's data (ui/shared/queue-panel.ts). With a
 * queue URL (--queue, PRICELAB_QUEUE) it starts a poller (experiments/queue/queue-poller.ts:
 * one Redis connection kept open, a poll every 1.5 s) and serves its latest snapshot; an
 * unreachable Redis is a state of the answer, never a server failure. BullMQ is imported
 * only then (a dynamic import), so a dashboard without --queue starts as before.
 */
import { Router } from 'express';
import { queuePanelHint, queuePanelSchema, type QueuePanel } from '../shared/queue-panel.js';

export interface QueuePanelSource {
  readonly router: Router;
  close(): Promise<void>;
}

export interface QueuePanelOptions {
  /** A redis:// URL; undefined: the panel says how to enable it. A malformed URL is a config error (exit 2). */
  readonly url: string | undefined;
  /** Milliseconds between polls (default 1500). */
  readonly intervalMs?: number | undefined;
}

export async function queuePanelSource(options: QueuePanelOptions): Promise<QueuePanelSource> {
  const router = Router();
  if (options.url === undefined) {
    const answer: QueuePanel = { enabled: false, hint: queuePanelHint };
    router.get('/', (_request, response) => void response.json(answer));
    return { router, close: async () => undefined };
  }
  const { parseRedisUrl } = await import('../../experiments/queue/connection.js');
  parseRedisUrl(options.url);
  const { startQueuePoller } = await import('../../experiments/queue/queue-poller.js');
  const poller = startQueuePoller({ url: options.url }, { ...(options.intervalMs !== undefined ? { intervalMs: options.intervalMs } : {}) });
  router.get('/', (_request, response) => {
    const parsed = queuePanelSchema.safeParse({ enabled: true, ...poller.latest() });
    if (parsed.success) response.json(parsed.data);
    else response.status(500).json({ message: 'the queue status did not match its schema', problems: parsed.error.issues.map((issue) => ({ path: issue.path.map(String), message: issue.message })) });
  });
  return { router, close: () => poller.close() };
}
