/**
 * `pricelab compare --queue`: the comparison's units (one arm at one seed: train it if it
 * learns, evaluate it on the seed's common evaluation episodes) become queue jobs, run by
 * `pricelab worker` through experiments/compare/run.ts runArmSeed, the function the local
 * path runs. The outcomes are handed back in the units' order, so experiments/compare.ts
 * assembles and analyses them as it does a local run: the same summary (but its createdAt).
 *
 * A job carries the scenario's bytes, the arm (rule spec or agent kind with its config), the
 * seed, the budget and the guardrails; its id is the content hash of those
 * (job-payload.ts comparisonArmKey), so a resubmission or a second submitter joins.
 * A policy artifact arm (a folder, a registry: reference; read and checked here as locally)
 * travels as its kind, config and weights files (base64) with each file's sha256, which the
 * worker checks before it runs anything; the worker needs no policy folder.
 * Nothing is stored per job: a unit that fails (after its attempts) fails the comparison.
 */
import { createHash } from 'node:crypto';
import type { UnitRunnerContext } from '../compare.js';
import type { KpiName } from '../compare/kpis.js';
import type { ArmSeedOutcome, ArmSeedRunner } from '../compare/run.js';
import { checkRedisReachable, type QueueConnectionSettings } from './connection.js';
import { comparisonArmKey, comparisonArmResultSchema, jobFormat, type ComparisonArmJob } from './job-payload.js';
import { passedSettings, submitAndFollow, type QueueItem, type SubmitEvent } from './submitter.js';

export interface QueuedArmItem extends QueueItem {
  readonly data: ComparisonArmJob;
  readonly index: number;
}

export interface QueueCompareOptions extends QueueConnectionSettings {
  readonly attempts?: number;
  readonly pollSeconds?: number;
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: SubmitEvent<QueuedArmItem>) => void;
}

/** A unit runner for compare(): refuses an unreachable Redis at once (before any training), then runs every unit on the queue. */
export function queueUnitRunner(options: QueueCompareOptions): (context: UnitRunnerContext) => Promise<ArmSeedRunner> {
  return async (context) => {
    await checkRedisReachable(options);
    const scenario = { id: context.scenario.scenario.id, contentHash: context.scenario.contentHash, bytes: Buffer.from(context.scenario.bytes).toString('base64') };
    const { evaluationEpisodes, trainingSteps, curvePoints, curveEpisodes, guardrails } = context.plan;
    const plan = { evaluationEpisodes, trainingSteps, curvePoints, curveEpisodes, guardrails };
    return async (units) => {
      const items: QueuedArmItem[] = units.map((unit, index) => {
        const { exported } = unit.arm;
        // A policy artifact's weights travel with the job, with their sha256 (checked by the worker).
        const files = exported ? Object.fromEntries(Object.entries(exported.files).map(([name, bytes]) => [name, { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: Buffer.from(bytes).toString('base64') }])) : undefined;
        const data: ComparisonArmJob = {
          format: jobFormat,
          kind: 'comparison-arm',
          scenario,
          arm: { name: unit.arm.name, spec: unit.arm.spec, source: unit.arm.source, kind: exported?.kind ?? unit.arm.kind, config: exported?.config ?? unit.arm.config, ...(files ? { files } : {}) },
          seed: unit.seed,
          learns: unit.learns,
          recordTrajectory: unit.recordTrajectory,
          plan,
        };
        return { jobId: comparisonArmKey(data), data, index, weight: unit.work };
      });
      const outcomes = new Map<number, ArmSeedOutcome>();
      const failures: string[] = [];
      const result = await submitAndFollow<QueuedArmItem>({
        ...passedSettings(options),
        items,
        onFinished: async (item, returned) => {
          const parsed = comparisonArmResultSchema.safeParse(returned);
          if (!parsed.success) throw new Error(`expected a comparison arm's result, found: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ')}`);
          const { result: seedResult, curves, trajectory, tally, priceCells, coupons } = parsed.data;
          if (seedResult.arm !== item.data.arm.name || seedResult.seed !== item.data.seed) throw new Error(`expected arm ${item.data.arm.name} at seed ${item.data.seed}, found arm ${seedResult.arm} at seed ${seedResult.seed}`);
          outcomes.set(item.index, {
            result: { ...seedResult, kpis: seedResult.kpis as Record<KpiName, number | null> },
            curves,
            trajectory,
            tally: tally as ArmSeedOutcome['tally'],
            ...(priceCells ? { priceCells } : {}),
            ...(coupons ? { coupons } : {}),
          });
          await Promise.resolve();
        },
        onFailed: async (item, reason) => {
          failures.push(`arm ${item.data.arm.name} seed ${item.data.seed} (job ${item.jobId}): ${reason}`);
          await Promise.resolve();
        },
      });
      if (failures.length > 0) throw new ComparisonJobsFailed(`${failures.length} of ${items.length} comparison jobs failed: ${failures.join('; ')}`, false);
      if (result.stopped || outcomes.size < items.length) throw new ComparisonJobsFailed(`stopped with ${items.length - outcomes.size} of ${items.length} comparison jobs not done: they stay in the queue, and the same command joins them`, true);
      return items.map((item) => outcomes.get(item.index)!);
    };
  };
}

/** The comparison could not be completed on the queue: a job failed (after its attempts), or following was stopped. */
export class ComparisonJobsFailed extends Error {
  constructor(
    message: string,
    readonly stopped: boolean,
  ) {
    super(message);
  }
}
