/**
 * The Calvano grid (experiments/calvano-grid.ts) on the queue: a GridSessionRunner that
 * submits one calvano-session job per grid session (its parsed config, the scenario's
 * bytes, its seed; job id the session's content hash) and reports each result to the grid,
 * which stores it under the grid's run key and draws the heatmap as for local threads.
 */
import type { CalvanoGridPlan, CalvanoGridSession } from '../calvano-grid-file.js';
import type { GridSessionRunner } from '../calvano-grid.js';
import type { QueueConnectionSettings } from './connection.js';
import { calvanoSessionKey, calvanoSessionResultSchema, jobFormat, type CalvanoSessionJob } from './job-payload.js';
import { sessionResultOf } from './submit-calvano.js';
import { submitAndFollow, type QueueItem, type SubmitEvent } from './submitter.js';

interface GridItem extends QueueItem {
  readonly session: CalvanoGridSession;
  readonly data: CalvanoSessionJob;
}

export function queueGridRunner(plan: CalvanoGridPlan, settings: QueueConnectionSettings & { readonly attempts?: number; readonly onEvent?: (event: SubmitEvent<GridItem>) => void }): GridSessionRunner {
  const scenario = { id: plan.scenario.scenario.id, contentHash: plan.scenario.contentHash, bytes: Buffer.from(plan.scenario.bytes).toString('base64') };
  return async (sessions, report, signal) => {
    const items: GridItem[] = sessions.map((session) => ({
      jobId: calvanoSessionKey(session.config, scenario.contentHash, session.seed),
      session,
      weight: 1,
      data: { format: jobFormat, kind: 'calvano-session', config: session.config as Record<string, unknown>, scenario, seed: session.seed },
    }));
    for (const session of sessions) report.started(session);
    await submitAndFollow<GridItem>({
      ...settings,
      items,
      ...(signal ? { signal } : {}),
      onFinished: async (item, returned) => {
        const parsed = calvanoSessionResultSchema.safeParse(returned);
        if (!parsed.success) throw new Error(`expected a Calvano session's result, found: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ')}`);
        report.finished(item.session, sessionResultOf(parsed.data, item.session.resolved));
      },
      onFailed: async (item, reason) => report.failed(item.session, reason),
    });
  };
}
