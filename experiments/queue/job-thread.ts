/**
 * One queue job, in a worker thread of `pricelab worker` (a piscina task): an experiment run
 * through the very function a local sweep uses (experiments/sweep-worker.ts runSweepTask,
 * with the scenario's bytes from the job and no checkpoints), or one Calvano session
 * (agents/calvano.ts runCalvanoSession), or one comparison arm at one seed through the very
 * function a local `pricelab compare` uses (experiments/compare/run.ts runArmSeed). Training never yields to the event loop, so it runs
 * here and not in the process's main thread, which keeps renewing the job's lock in Redis.
 */
import { parseCalvanoConfig, resolveCalvanoConfig, runCalvanoSession } from '../../agents/calvano.js';
import { parseScenario } from '../../scenarios/load.js';
import runSweepTask, { type RunOutcome, type SweepTask } from '../sweep-worker.js';
import type { MessagePort } from 'node:worker_threads';
import { buildMarketModel } from '../../env/model.js';
import { armLearns, runArmSeed, unitEnvs } from '../compare/run.js';
import type { Arm } from '../compare/arms.js';
import type { SweepMessage } from '../sweep-worker.js';
import type { CalvanoSessionJson, CalvanoSessionJob, ComparisonArmJob, ComparisonArmJson } from './job-payload.js';

export type JobThreadTask =
  | { readonly kind: 'experiment-run'; readonly task: SweepTask }
  | { readonly kind: 'calvano-session'; readonly job: CalvanoSessionJob }
  | { readonly kind: 'comparison-arm'; readonly job: ComparisonArmJob; readonly port: MessagePort };

export type JobThreadOutcome =
  | { readonly kind: 'experiment-run'; readonly outcome: RunOutcome }
  | { readonly kind: 'calvano-session'; readonly result: CalvanoSessionJson }
  | { readonly kind: 'comparison-arm'; readonly result: ComparisonArmJson };

export default async function runJobThreadTask(task: JobThreadTask): Promise<JobThreadOutcome> {
  if (task.kind === 'experiment-run') return { kind: 'experiment-run', outcome: await runSweepTask(task.task) };
  if (task.kind === 'comparison-arm') return { kind: 'comparison-arm', result: await runComparisonArm(task.job, task.port) };
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

/** One comparison arm at one seed, as `pricelab compare` runs it locally (the job's learns is checked against the agent's). */
async function runComparisonArm(job: ComparisonArmJob, port: MessagePort): Promise<ComparisonArmJson> {
  try {
    const scenario = parseScenario(Buffer.from(job.scenario.bytes, 'base64').toString('utf8'), `scenario ${job.scenario.id}`);
    const model = buildMarketModel(scenario);
    const envs = unitEnvs(model);
    // A policy artifact's files were checked against their sha256 with the payload (job-payload.ts).
    const files = job.arm.files === undefined ? undefined : Object.fromEntries(Object.entries(job.arm.files).map(([name, file]) => [name, new Uint8Array(Buffer.from(file.bytes, 'base64'))]));
    const arm: Arm = { name: job.arm.name, spec: job.arm.spec, source: job.arm.source, kind: job.arm.kind, config: job.arm.config, ...(files ? { exported: { kind: job.arm.kind, config: job.arm.config, files } } : {}) };
    const learns = await armLearns(arm, envs.training, job.seed);
    if (learns !== job.learns) throw new Error(`the job says arm ${arm.name} (${arm.kind}) ${job.learns ? 'learns' : 'does not learn'}, but its agent ${learns ? 'learns' : 'does not learn'}`);
    const totalSteps = job.plan.evaluationEpisodes * model.horizon + (learns ? job.plan.trainingSteps : 0);
    const plan = { ...job.plan, seeds: [job.seed] };
    const outcome = await runArmSeed(model, plan, { arm, seed: job.seed, learns, recordTrajectory: job.recordTrajectory }, envs, (steps) =>
      port.postMessage({ type: 'progress', runId: job.arm.name, steps, totalSteps } satisfies SweepMessage),
    );
    return { result: { ...outcome.result, kpis: { ...outcome.result.kpis } }, curves: [...outcome.curves], trajectory: [...outcome.trajectory], tally: outcome.tally, ...(outcome.priceCells ? { priceCells: outcome.priceCells.map((cell) => ({ ...cell })) } : {}), ...(outcome.coupons ? { coupons: { campaignDays: { ...outcome.coupons.campaignDays } } } : {}) };
  } finally {
    port.close();
  }
}
