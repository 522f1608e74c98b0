/**
 * The agent contract: small and flat, the same for a rule, a bandit, a Q-table and a DQN.
 *
 *   act(observation, {explore}) -> ladder index
 *   observe(transition)          learn from one step (rules ignore it)
 *   export()                     what a policy artifact needs: kind, config, weight files
 *   dispose()                    free what the agent holds (tensors, workers)
 *   saveCheckpoint?()            optional: the whole learner state at an episode boundary
 *   restoreCheckpoint?(state)    (tables, counters, exploration stream), so a resumed run
 *                                acts and learns exactly as the uninterrupted one would
 *
 * Capabilities are declared as data; shared code (the training loop, the contract suite)
 * reads them and never branches on the agent's kind. Every random number an agent draws
 * comes from its own seeded stream ('exploration'), never from Math.random.
 */
import { z } from 'zod';
import type { BoxSpace, DiscreteSpace } from '../env/spaces.js';
import type { MarketModel } from '../env/model.js';
import { PricelabError } from '../core/errors.js';

export interface Transition {
  readonly observation: Float32Array;
  readonly action: number;
  readonly reward: number;
  readonly nextObservation: Float32Array;
  readonly terminated: boolean;
  readonly truncated: boolean;
}

export interface ActOptions {
  /** true while training (exploration on), false for greedy evaluation and serving. */
  readonly explore: boolean;
}

export interface AgentCapabilities {
  /** observe() changes the policy. */
  readonly learns: boolean;
}

/** What an agent knows about the market it prices: the spaces and the scenario's public facts. */
export interface AgentContext {
  readonly observationSpace: BoxSpace;
  readonly actionSpace: DiscreteSpace;
  readonly ladder: Float64Array;
  readonly unitCost: number;
  readonly listPrice: number;
  /** Seed of the agent's own exploration stream. */
  readonly seed: number;
  /**
   * The true market model. Only oracle agents (myopic oracle, DP-optimal) may read it;
   * learners must not.
   */
  readonly model?: MarketModel;
  /** The live market, for oracle agents only: what the true model expects today. */
  readonly market?: MarketView;
}

/** What an oracle may ask the live market (MarketSimulation implements it). */
export interface MarketView {
  readonly day: number;
  readonly stockOnHand: number;
  /** Expected units demanded from us today at `price`, with today's weather, rivals and customers. */
  expectedUnitsAt(price: number): number;
  /** Today's probability that a unit sold at `price` comes back (0 without a returns model). */
  returnProbabilityAt(price: number): number;
}

/** The agent-specific part of a policy artifact. */
export interface AgentExport {
  readonly kind: string;
  /** The agent's validated configuration, as JSON. */
  readonly config: unknown;
  /** Weight files by name: JSON for tables and bandit statistics, TF.js Layers format for networks. */
  readonly files: Readonly<Record<string, Uint8Array>>;
}

/**
 * The whole state of a learner, as JSON (numbers round-trip exactly through JSON), for
 * resuming a run where it stopped. Unlike an export (what serving needs), a checkpoint
 * also holds counters and the exploration stream's state.
 */
export interface AgentCheckpoint {
  readonly kind: string;
  readonly state: unknown;
}

/**
 * Why a greedy choice is what it is: the serving endpoint's `explanation` and the
 * dashboard's "why this price?". Learners offer their action values or arm statistics;
 * rules are explained by their kind and configuration (done by the caller).
 */
export type Explanation =
  | { readonly kind: 'action-values'; readonly values: readonly number[]; readonly chosen: number }
  | { readonly kind: 'arm-statistics'; readonly arms: readonly { readonly index: number; readonly pulls: number; readonly meanReward: number }[]; readonly chosen: number }
  | { readonly kind: 'rule'; readonly description: string; readonly chosen: number };

export interface Agent {
  readonly kind: string;
  readonly capabilities: AgentCapabilities;
  act(observation: Float32Array, options: ActOptions): number;
  /** Optional batched form (offered when cheaper per observation than act, e.g. one forward pass): observations row-major (count x features), actions written to `out`. */
  actBatch?(observations: Float32Array, count: number, options: ActOptions, out: Int32Array): void;
  observe(transition: Transition): void;
  /** Optional: the values behind the greedy choice for this observation. */
  explain?(observation: Float32Array): Explanation;
  export(): AgentExport | Promise<AgentExport>;
  dispose(): void;
  /** Optional capability: the full learner state (see AgentCheckpoint). Agents without it restart from scratch on resume. */
  saveCheckpoint?(): AgentCheckpoint;
  /** Loads a checkpoint into an agent freshly created with the same config and context. */
  restoreCheckpoint?(checkpoint: AgentCheckpoint): void;
}

/** Does the agent declare the checkpoint capability (both methods)? */
export function canCheckpoint(agent: Agent): agent is Agent & Required<Pick<Agent, 'saveCheckpoint' | 'restoreCheckpoint'>> {
  return typeof agent.saveCheckpoint === 'function' && typeof agent.restoreCheckpoint === 'function';
}

/** Reads a checkpoint's state with the kind's schema; another kind or a bad state is an integrity error listing every problem. */
export function checkpointState<Schema extends z.ZodType>(checkpoint: AgentCheckpoint, kind: string, schema: Schema): z.output<Schema> {
  if (checkpoint.kind !== kind) throw new PricelabError('integrity', `the checkpoint holds a ${checkpoint.kind} agent`, [{ path: ['kind'], message: `expected "${kind}", found "${checkpoint.kind}"` }]);
  const parsed = schema.safeParse(checkpoint.state);
  if (parsed.success) return parsed.data;
  throw new PricelabError(
    'integrity',
    `the ${kind} checkpoint is not valid`,
    parsed.error.issues.map((issue) => ({ path: ['state', ...issue.path.map((part) => (typeof part === 'symbol' ? String(part) : part))], message: issue.message })),
  );
}

/** The exploration stream's state, as checkpoints hold it. */
export const randomStateSchema = z.strictObject({ c: z.number(), s0: z.number(), s1: z.number(), s2: z.number() });

export function agentContextOf(
  model: MarketModel,
  observationSpace: BoxSpace,
  actionSpace: DiscreteSpace,
  seed: number,
  oracle?: { market: MarketView },
): AgentContext {
  return {
    observationSpace,
    actionSpace,
    ladder: model.ladder,
    unitCost: model.unitCost,
    listPrice: model.listPrice,
    seed,
    ...(oracle ? { model, market: oracle.market } : {}),
  };
}

export const jsonFile = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
export const readJsonFile = <T>(bytes: Uint8Array | undefined, name: string): T => {
  if (!bytes) throw new PricelabError('integrity', `expected the weights file "${name}" in the artifact, found none`);
  return JSON.parse(new TextDecoder().decode(bytes)) as T;
};
