/**
 * The "Distributed sweep" panel's data: GET /api/queue answers with a `queuePanelSchema`
 * object, validated by the server before it is sent and by the page before it is drawn.
 *
 * Without --queue (or PRICELAB_QUEUE) it is { enabled: false, hint }: how to enable the
 * panel. With it, the latest poll of the queue (experiments/queue/queue-poller.ts):
 * 'connecting', 'ok', or 'unreachable' with the reason and the last status seen.
 */
import { z } from 'zod';

const count = z.number().int().min(0);

export const queueStatusSchema = z.strictObject({
  url: z.string(),
  queue: z.string(),
  workers: count,
  queued: count,
  active: count,
  done: count,
  failed: count,
  workerNames: z.array(z.string()),
  /** The most recent failures, newest first. */
  failures: z.array(z.strictObject({ jobId: z.string(), kind: z.string(), attempts: count, reason: z.string() })),
});

export const queuePanelSchema = z.discriminatedUnion('enabled', [
  z.strictObject({ enabled: z.literal(false), hint: z.string() }),
  z.strictObject({
    enabled: z.literal(true),
    url: z.string(),
    state: z.enum(['connecting', 'ok', 'unreachable']),
    reason: z.string().nullable(),
    checkedAt: z.string().nullable(),
    /** The latest status read; stale while 'unreachable'; null before the first answer. */
    status: queueStatusSchema.nullable(),
  }),
]);

export type QueuePanel = z.infer<typeof queuePanelSchema>;
export type QueueStatusView = z.infer<typeof queueStatusSchema>;

export const queuePanelHint = 'Start the dashboard with --queue redis://host:port[/db] (or set PRICELAB_QUEUE) to follow a distributed sweep here: workers, queued, active, done and failed runs.';
