/**
 * Worker thread of experiments/calvano-grid.ts (a piscina task): one session of the
 * Calvano grid, a pure function of (config, seed). The task carries the resolved config
 * (the scenario's game spelled out), so the worker reads nothing from disk; it returns the
 * session's outcome and never touches the results store.
 */
import { runCalvanoSession, type CalvanoSessionResult, type ResolvedCalvanoConfig } from '../agents/calvano.js';

export interface CalvanoGridTask {
  readonly config: ResolvedCalvanoConfig;
  readonly seed: number;
}

export default function runGridSession(task: CalvanoGridTask): CalvanoSessionResult {
  return runCalvanoSession(task.config, task.seed);
}
