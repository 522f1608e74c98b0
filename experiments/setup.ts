/**
 * Putting an agent in a market: the agent context from the env's spaces and the
 * scenario's public facts; oracle kinds (needsModel) also get the true model and the live
 * market. Learners never do.
 */
import type { TimeLimit } from '../env/env.js';
import type { Agent, AgentExport } from '../agents/agent.js';
import { agentContextOf } from '../agents/agent.js';
import { agentDefinition, createAgent, restoreAgent } from '../agents/registry.js';

export function contextFor(env: TimeLimit, kind: string, seed: number) {
  const model = env.model;
  const oracle = agentDefinition(kind).needsModel ? { market: env.market } : undefined;
  return agentContextOf(model, env.observationSpace, env.actionSpace, seed, oracle);
}

export async function agentFor(env: TimeLimit, kind: string, config: unknown, seed: number): Promise<Agent> {
  return createAgent(kind, config, contextFor(env, kind, seed));
}

export async function restoredAgentFor(env: TimeLimit, exported: AgentExport, seed: number): Promise<Agent> {
  return restoreAgent(exported, contextFor(env, exported.kind, seed));
}
