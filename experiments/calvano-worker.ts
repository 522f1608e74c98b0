/**
 * Worker thread of experiments/reproduce-calvano.ts: receives seeds one at a time, runs
 * each session with the config of its workerData, and posts the result back. A session
 * is a pure function of (config, seed), so which worker runs it does not matter.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runCalvanoSession, type ResolvedCalvanoConfig } from '../agents/calvano.js';

export interface CalvanoWorkerData {
  readonly config: ResolvedCalvanoConfig;
}

export type CalvanoWorkerRequest = { readonly type: 'run'; readonly seed: number } | { readonly type: 'stop' };

const port = parentPort;
if (port) {
  const { config } = workerData as CalvanoWorkerData;
  port.on('message', (request: CalvanoWorkerRequest) => {
    if (request.type === 'stop') {
      port.close();
      return;
    }
    port.postMessage({ type: 'result', result: runCalvanoSession(config, request.seed) });
  });
}
