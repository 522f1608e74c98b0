/**
 * The Experiments tab's "Distributed sweep" panel: GET /api/queue (ui/shared/queue-panel.ts)
 * every 1.5 s while the tab is shown, validated before it is drawn: the workers (by name),
 * queued, active, done and failed runs, a progress bar (done and failed of all the jobs in
 * Redis), the latest failures' reasons; an unreachable Redis is shown as such with the last
 * counts seen. Without --queue it says how to enable it.
 */
import { queuePanelSchema, type QueuePanel, type QueueStatusView } from '../shared/queue-panel.js';
import { byId, element, table } from './dom.js';

const refreshMs = 1500;
let timer: ReturnType<typeof setInterval> | undefined;

/** Draws the panel now and keeps it updated while the Experiments tab is shown. */
export async function followQueue(): Promise<void> {
  timer ??= setInterval(() => {
    if (!byId('experiments-view').hidden) void refresh();
  }, refreshMs);
  await refresh();
}

async function refresh(): Promise<void> {
  const holder = byId('queue-panel');
  let panel: QueuePanel;
  try {
    const response = await fetch('/api/queue');
    const parsed = queuePanelSchema.safeParse(await response.json());
    if (!parsed.success) {
      holder.replaceChildren(heading(), element('p', { class: 'warning' }, `The server sent an invalid queue status: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`));
      return;
    }
    panel = parsed.data;
  } catch (error) {
    holder.replaceChildren(heading(), element('p', { class: 'warning' }, `Cannot reach the dashboard server: ${(error as Error).message}`));
    return;
  }
  holder.dataset['state'] = panel.enabled ? panel.state : 'disabled';
  if (!panel.enabled) {
    holder.replaceChildren(heading(), element('p', { class: 'note', id: 'queue-hint' }, panel.hint));
    return;
  }
  const checked = panel.checkedAt === null ? '' : `, checked ${panel.checkedAt.slice(11, 19)} UTC`;
  const state =
    panel.state === 'ok'
      ? element('p', { class: 'note', id: 'queue-state' }, `Queue ${panel.status?.queue ?? ''} on ${panel.url}: connected${checked}.`)
      : panel.state === 'connecting'
        ? element('p', { class: 'note', id: 'queue-state' }, `Connecting to ${panel.url}...`)
        : element('p', { class: 'warning', id: 'queue-state' }, `Redis at ${panel.url} is unreachable: ${panel.reason ?? 'no answer'}${checked}.${panel.status ? ' The counts below are the last ones seen.' : ''}`);
  holder.replaceChildren(heading(), state, ...(panel.status ? counts(panel.status) : []));
}

function heading(): HTMLElement {
  return element('h3', {}, 'Distributed sweep');
}

function counts(status: QueueStatusView): HTMLElement[] {
  const total = status.queued + status.active + status.done + status.failed;
  const finished = status.done + status.failed;
  const cell = (name: string, value: number) => element('span', { id: `queue-${name}`, class: 'number' }, String(value));
  const numbers = table(['workers', 'queued', 'active', 'done', 'failed'], [[cell('workers', status.workers), cell('queued', status.queued), cell('active', status.active), cell('done', status.done), cell('failed', status.failed)]]);
  numbers.id = 'queue-counts';
  const percent = total === 0 ? 0 : (100 * finished) / total;
  const progress = element('p', { class: 'queue-progress' }, element('progress', { id: 'queue-progress', max: String(Math.max(total, 1)), value: String(finished) }), ` ${finished} of ${total} finished (${percent.toFixed(0)}%)${status.failed > 0 ? `, ${status.failed} failed` : ''}`);
  const workers = element('p', { class: 'note', id: 'queue-workers-names' }, status.workerNames.length === 0 ? 'No worker connected: start some with `pricelab worker --queue <url>`.' : `Workers: ${status.workerNames.join(', ')}`);
  const failures =
    status.failures.length === 0
      ? []
      : [
          element('h4', {}, 'Latest failures'),
          Object.assign(
            table(
              ['job', 'kind', 'attempts', 'reason'],
              status.failures.slice(0, 5).map((failure) => [element('span', { title: failure.jobId }, failure.jobId.slice(0, 24)), failure.kind, String(failure.attempts), failure.reason]),
            ),
            { id: 'queue-failures' },
          ),
        ];
  return [numbers, progress, workers, ...failures];
}
