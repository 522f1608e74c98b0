/**
 * How an agent kind plugs in: its config schema (zod, a description on every field, so
 * CLI help and docs come from it), a factory, and a restore from an exported artifact.
 * agents/registry.ts lists every kind; nothing else needs to know them.
 */
import type { z } from 'zod';
import type { Agent, AgentContext, AgentExport } from './agent.js';

export interface AgentDefinition<Config = unknown> {
  readonly kind: string;
  /** One line for `pricelab train --help` and the docs. */
  readonly description: string;
  readonly configSchema: z.ZodType<Config>;
  create(config: Config, context: AgentContext): Agent | Promise<Agent>;
  /** Rebuilds the agent from its export; act(observation, {explore: false}) must equal the original's. */
  restore(exported: AgentExport, context: AgentContext): Agent | Promise<Agent>;
  /** Oracle agents read the true market model; learners never get it. */
  readonly needsModel?: boolean;
  /** Greedy-policy settings model selection may choose after training (experiments/margin-selection.ts); absent: none. */
  readonly greedyPolicy?: GreedyPolicySettings;
}

/** Settings that shape the greedy policy only, never what was learned, so one trained agent can be evaluated under each. */
export interface GreedyPolicySettings {
  /** The export with change margin `margin` (agents/change-margin.ts) and nothing else changed. */
  withChangeMargin(exported: AgentExport, margin: number): AgentExport;
  /** Why an agent of this config has no change margin after all (undefined when it has one), e.g. a phased agent's finale. */
  changeMarginMissing?(config: unknown): string | undefined;
}

/** Erases the config type so definitions of different kinds fit in one table. */
export function defineAgent<Config>(definition: AgentDefinition<Config>): AgentDefinition<unknown> {
  return definition as unknown as AgentDefinition<unknown>;
}
