/**
 * Putting an agent in a market: the agent context from the env's spaces and the
 * scenario's public facts; oracle kinds (needsModel) also get the true model and the live
 * market. Learners never do. The coupon market (env/coupons/coupon-env.ts) has no day-kernel
 * model: its agents see the price of each action as their ladder, and oracles are refused.
 */
import type { TimeLimit } from '../env/env.js';
import { CouponEnv } from '../env/coupons/coupon-env.js';
import type { Agent, AgentContext, AgentExport } from '../agents/agent.js';
import { agentContextOf } from '../agents/agent.js';
import { agentDefinition, createAgent, restoreAgent } from '../agents/registry.js';
import { configError } from '../core/errors.js';

/** The envs an agent can be put in: the day kernel's (inside its TimeLimit) or the coupon market. */
export type AgentEnv = TimeLimit | CouponEnv;

export function contextFor(env: AgentEnv, kind: string, seed: number): AgentContext {
  if (env instanceof CouponEnv) {
    if (agentDefinition(kind).needsModel) throw configError(`the ${kind} agent cannot price the coupon market`, [{ path: ['agent'], message: `expected an agent that reads only the observation, found ${kind}, which needs the day kernel's market model (the coupon market has none)` }]);
    return { observationSpace: env.observationSpace, actionSpace: env.actionSpace, ladder: env.actionPrices(), unitCost: env.model.unitCost, listPrice: env.listPrice, seed };
  }
  const model = env.model;
  const oracle = agentDefinition(kind).needsModel ? { market: env.market } : undefined;
  return agentContextOf(model, env.observationSpace, env.actionSpace, seed, oracle);
}

export async function agentFor(env: AgentEnv, kind: string, config: unknown, seed: number): Promise<Agent> {
  return createAgent(kind, config, contextFor(env, kind, seed));
}

export async function restoredAgentFor(env: AgentEnv, exported: AgentExport, seed: number): Promise<Agent> {
  return restoreAgent(exported, contextFor(env, exported.kind, seed));
}
