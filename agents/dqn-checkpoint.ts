/**
 * DQN's checkpoint: the whole learner state of agents/dqn.ts (saveCheckpoint), unlike the
 * export: every flat parameter vector (online, target, Adam's moments, the policy average)
 * packed as float32 bytes, the counters (the Adam step is counters.updates), the reward
 * average, the replay buffer and the n-step accumulator's open episodes, and the exploration
 * and replay-sampling streams (the weights stream is spent at creation only). A resumed run
 * acts and learns exactly as the uninterrupted one.
 */
import { z } from 'zod';
import { PricelabError, type Problem } from '../core/errors.js';
import type { AgentCheckpoint } from './agent.js';
import { checkpointState, randomStateSchema } from './agent.js';
import type { NetworkLayout } from './dqn-network.js';
import { nStepStateSchema, replayStateSchema } from './replay-buffer.js';

const dqnCheckpointSchema = z.strictObject({
  featureCount: z.number().int().positive(),
  actionCount: z.number().int().positive(),
  parameterCount: z.number().int().positive(),
  counters: z.strictObject({ steps: z.number().int().nonnegative(), updates: z.number().int().nonnegative(), targetSyncs: z.number().int().nonnegative() }),
  averageReward: z.number(),
  lastLoss: z.number().nullable(),
  lastGradientNorm: z.number().nullable(),
  parameters: z.string(),
  targetParameters: z.string(),
  firstMoment: z.string(),
  secondMoment: z.string(),
  averageParameters: z.string().nullable(),
  exploration: randomStateSchema,
  replaySampling: randomStateSchema,
  replay: replayStateSchema,
  nStep: nStepStateSchema,
  /** Retired with explorationHold: checkpoints saved before carry them, empty unless holds were on (see readDqnCheckpoint). */
  holdRemaining: z.array(z.number().int().nonnegative()).optional(),
  heldActions: z.array(z.number().int().nonnegative()).optional(),
});
export type DqnCheckpointState = z.output<typeof dqnCheckpointSchema>;

/**
 * The state of a checkpoint saved by an agent of the same config and market, or an
 * integrity error listing every way it does not fit (`averaged`: the agent keeps a policy average).
 */
export function readDqnCheckpoint(checkpoint: AgentCheckpoint, layout: NetworkLayout, averaged: boolean): DqnCheckpointState {
  const state = checkpointState(checkpoint, 'dqn', dqnCheckpointSchema);
  const { featureCount, actionCount, parameterCount } = layout;
  const problems: Problem[] = [];
  if (state.featureCount !== featureCount) problems.push({ path: ['state', 'featureCount'], message: `expected ${featureCount} observation features, found ${state.featureCount}` });
  if (state.actionCount !== actionCount) problems.push({ path: ['state', 'actionCount'], message: `expected ${actionCount} prices, found ${state.actionCount}` });
  if (state.parameterCount !== parameterCount) problems.push({ path: ['state', 'parameterCount'], message: `expected ${parameterCount} parameters (this config's network), found ${state.parameterCount}` });
  if ((state.averageParameters === null) === averaged) {
    problems.push({ path: ['state', 'averageParameters'], message: `expected ${averaged ? 'the policy average (policyAveraging > 0)' : 'none (policyAveraging 0)'}, found ${state.averageParameters === null ? 'none' : 'one'}` });
  }
  // A checkpoint from before explorationHold was removed resumes as it would have unless a held exploring price was pending.
  const held = (state.holdRemaining ?? []).filter((days) => days > 0).length;
  if (held > 0) problems.push({ path: ['state', 'holdRemaining'], message: `expected no exploring price still held (explorationHold was removed, so the run cannot resume as it would have), found ${held}: start the run afresh` });
  if (problems.length > 0) throw new PricelabError('integrity', 'the DQN checkpoint does not fit this agent', problems);
  return state;
}
