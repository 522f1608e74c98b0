/**
 * An arm of an online experiment: a rule policy given as a command-line spec
 * (`fixed:18.99`, `cost-plus:0.6`, `match`, ...: agents/policy-spec.ts), put in a market.
 * Every design (switchback, unit split, customer split) and the truth they are compared
 * with build their arms here, so "policy A" means the same agent everywhere.
 */
import type { TimeLimit } from '../../env/env.js';
import { configError } from '../../core/errors.js';
import type { Agent } from '../../agents/agent.js';
import { parsePolicySpec } from '../../agents/policy-spec.js';
import { agentDefinition } from '../../agents/registry.js';
import { agentFor } from '../setup.js';

export type ArmName = 'A' | 'B';

export interface ArmSpecs {
  /** Policy A (control), a rule spec. */
  readonly a: string;
  /** Policy B (treatment), a rule spec. */
  readonly b: string;
}

/** The rule agent of a spec in this env's market (oracle kinds read this env's live market). */
export async function armAgent(env: TimeLimit, spec: string, seed: number, options: { allowOracle?: boolean } = {}): Promise<Agent> {
  const model = env.model;
  const { kind, config } = parsePolicySpec(spec, { listPrice: model.listPrice, ladder: model.ladder });
  if (options.allowOracle === false && agentDefinition(kind).needsModel) {
    throw configError(`cannot use policy "${spec}" here`, [
      { path: ['policy'], message: `expected a rule that reads only the observation, found "${spec}", an oracle that reads the live market (not available in this design)` },
    ]);
  }
  return agentFor(env, kind, config, seed);
}
