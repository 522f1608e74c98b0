/**
 * The Calvano et al. (2020) sessions on the queue (`pricelab reproduce calvano --queue`): one
 * job per session (config, scenario bytes, seed; job id the session's content hash), each
 * result stored in the results store as it arrives (experiments/queue/results-port.ts), and
 * the paper's summary computed from every stored session, as experiments/reproduce-calvano.ts
 * computes it from sessions run in threads: the same figures for the same seeds.
 * Sessions already stored (same config, scenario and seed) are not run again.
 */
import { createHash } from 'node:crypto';
import { parseCalvanoConfig, resolveCalvanoConfig, type CalvanoConfigInput, type CalvanoSessionResult, type ResolvedCalvanoConfig } from '../../agents/calvano.js';
import { configError, type Problem } from '../../core/errors.js';
import { canonicalJson } from '../../core/json-file.js';
import { loadScenario } from '../../scenarios/load.js';
import { buildCalvanoGame } from '../../agents/calvano.js';
import { summariseCalvano, type CalvanoSummary } from '../reproduce-calvano.js';
import type { QueueConnectionSettings } from './connection.js';
import { calvanoSessionKey, calvanoSessionResultSchema, jobFormat, type CalvanoSessionJob, type CalvanoSessionJson } from './job-payload.js';
import type { CalvanoSessionPlan, QueueResultsPort } from './results-port.js';
import { passedSettings, submitAndFollow, type QueueItem, type SubmitEvent } from './submitter.js';

export interface QueuedSessionItem extends QueueItem {
  readonly session: CalvanoSessionPlan;
  readonly data: CalvanoSessionJob;
}

export interface SubmitCalvanoOptions extends QueueConnectionSettings {
  readonly results: QueueResultsPort;
  readonly sessions: number;
  readonly firstSeed?: number;
  readonly config?: CalvanoConfigInput;
  readonly impulse?: { readonly deviatingFirm?: number; readonly periods?: number };
  readonly attempts?: number;
  readonly pollSeconds?: number;
  readonly signal?: AbortSignal;
  readonly onPlanned?: (planned: { readonly total: number; readonly stored: number; readonly toRun: number; readonly experiment: string }) => void;
  readonly onEvent?: (event: SubmitEvent<QueuedSessionItem>) => void;
}

export interface QueuedCalvanoReproduction {
  /** Null when stopped before every session was stored. */
  readonly summary: CalvanoSummary | null;
  readonly results: readonly CalvanoSessionResult[];
  readonly experiment: string;
  readonly stored: number;
  readonly failed: number;
  readonly stopped: boolean;
  readonly workersSeen: readonly string[];
  readonly wallSeconds: number;
}

export async function submitCalvano(options: SubmitCalvanoOptions): Promise<QueuedCalvanoReproduction> {
  const started = performance.now();
  const firstSeed = options.firstSeed ?? 1;
  const problems: Problem[] = [];
  if (!Number.isInteger(options.sessions) || options.sessions < 1) problems.push({ path: ['sessions'], message: `expected a positive whole number, found ${options.sessions}` });
  if (!Number.isInteger(firstSeed)) problems.push({ path: ['firstSeed'], message: `expected a whole number, found ${firstSeed}` });
  if (problems.length > 0) throw configError('invalid reproduction options', problems);
  const config = parseCalvanoConfig(options.config ?? {});
  const loaded = loadScenario(config.scenario);
  const resolved = resolveCalvanoConfig(config, loaded.scenario);
  buildCalvanoGame(resolved); // refuse here a config the game refuses, before anything is queued
  const experiment = `calvano-${createHash('sha256').update(canonicalJson({ calvano: config, scenario: loaded.contentHash })).digest('hex').slice(0, 8)}`;
  const scenario = { id: loaded.scenario.id, contentHash: loaded.contentHash };
  const bytes = Buffer.from(loaded.bytes).toString('base64');
  const plans: CalvanoSessionPlan[] = Array.from({ length: options.sessions }, (_, index) => {
    const seed = firstSeed + index;
    return { id: calvanoSessionKey(config, loaded.contentHash, seed), experiment, scenario, config, seed };
  });
  const { toDo, stored } = await options.results.sessionsToDo(plans);
  options.onPlanned?.({ total: plans.length, stored: stored.length, toRun: toDo.length, experiment });
  const bySeed = new Map<number, CalvanoSessionJson>(stored.map((result) => [result.seed, result]));
  const items: QueuedSessionItem[] = toDo.map((session) => ({
    jobId: session.id,
    session,
    weight: 1,
    data: { format: jobFormat, kind: 'calvano-session', config: config as Record<string, unknown>, scenario: { ...scenario, bytes }, seed: session.seed },
  }));
  let failed = 0;
  let stopped = false;
  let workersSeen: readonly string[] = [];
  if (items.length > 0) {
    const result = await submitAndFollow<QueuedSessionItem>({
      ...passedSettings(options),
      items,
      onFinished: async (item, returned) => {
        const parsed = calvanoSessionResultSchema.safeParse(returned);
        if (!parsed.success) throw new Error(`expected a Calvano session's result, found: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ')}`);
        if (parsed.data.seed !== item.session.seed) throw new Error(`expected the session of seed ${item.session.seed}, found seed ${parsed.data.seed}`);
        await options.results.recordSession(item.session, parsed.data);
        bySeed.set(parsed.data.seed, parsed.data);
      },
      onFailed: (item, reason) => options.results.recordFailed(item.session.id, reason),
    });
    failed = result.failed;
    stopped = result.stopped;
    workersSeen = result.workersSeen;
  }
  const results = plans.flatMap((plan) => {
    const json = bySeed.get(plan.seed);
    return json ? [sessionResultOf(json, resolved)] : [];
  });
  const complete = results.length === plans.length;
  return {
    summary: complete ? summariseCalvano(results, resolved, options.impulse ?? {}) : null,
    results,
    experiment,
    stored: results.length,
    failed,
    stopped,
    workersSeen,
    wallSeconds: (performance.now() - started) / 1000,
  };
}

/** A stored session as agents/calvano.ts returns it (strategies as Int8Array, the resolved config). */
export function sessionResultOf(json: CalvanoSessionJson, config: ResolvedCalvanoConfig): CalvanoSessionResult {
  return {
    seed: json.seed,
    converged: json.converged,
    periods: json.periods,
    periodsToConvergence: json.periodsToConvergence,
    profitGain: json.profitGain,
    profitGains: json.profitGains,
    averagePrice: json.averagePrice,
    finalState: json.finalState,
    cycleStates: json.cycleStates,
    finalStrategies: json.finalStrategies.map((strategy) => Int8Array.from(strategy)),
    seconds: json.seconds,
    config,
  };
}
