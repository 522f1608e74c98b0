/**
 * One queue job, in a worker thread of `pricelab worker` (a piscina task): an experiment run
 * through the very function a local sweep uses (experiments/sweep-worker.ts runSweepTask,
 * with the scenario's bytes from the job and no checkpoints), or one Calvano session
 * (agents/calvano.ts runCalvanoSession). Training never yields to the event loop, so it runs
 * here and not in the process's main thread, which keeps renewing the job's lock in Redis.
 */
import { parseCalvanoConfig, resolveCalvanoConfig, runCalvanoSession } from '../../agents/calvano.js';
import { parseScenario } from '../../scenarios/load.js';
import runSweepTask, { type RunOutcome, type SweepTask } from '../sweep-worker.js';
import type { CalvanoSessionJson, CalvanoSessionJob } from './job-payload.js';

export type JobThreadTask = { readonly kind: 'experiment-run'; readonly task: SweepTask } | { readonly kind: 'calvano-session'; readonly job: CalvanoSessionJob };

export type JobThreadOutcome = { readonly kind: 'experiment-run'; readonly outcome: RunOutcome } | { readonly kind: 'calvano-session'; readonly result: CalvanoSessionJson };

export default async function runJobThreadTask(task: JobThreadTask): Promise<JobThreadOutcome> {
  if (task.kind === 'experiment-run') return { kind: 'experiment-run', outcome: await runSweepTask(task.task) };
  const { job } = task;
  const scenario = parseScenario(Buffer.from(job.scenario.bytes, 'base64').toString('utf8'), `scenario ${job.scenario.id}`);
  const config = resolveCalvanoConfig(parseCalvanoConfig(job.config), scenario);
  const result = runCalvanoSession(config, job.seed);
  return {
    kind: 'calvano-session',
    result: {
      seed: result.seed,
      converged: result.converged,
      periods: result.periods,
      periodsToConvergence: result.periodsToConvergence,
      profitGain: result.profitGain,
      profitGains: [...result.profitGains],
      averagePrice: result.averagePrice,
      finalState: result.finalState,
      cycleStates: [...result.cycleStates],
      finalStrategies: result.finalStrategies.map((strategy) => Array.from(strategy)),
      seconds: result.seconds,
    },
  };
}
