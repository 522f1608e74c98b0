/**
 * Every agent kind, by name. Creating an agent validates its config (every problem listed)
 * and hands oracle kinds the true model; restoring rebuilds one from an artifact.
 */
import { configError, type Problem } from '../core/errors.js';
import type { Agent, AgentContext, AgentExport } from './agent.js';
import type { AgentDefinition } from './definition.js';
import { competitorFollowerDefinition } from './competitor-follower.js';
import { costPlusDefinition } from './cost-plus.js';
import { dpOptimalDefinition } from './dp-optimal.js';
import { festivalRuleDefinition } from './festival-rule.js';
import { fixedPriceDefinition } from './fixed-price.js';
import { inventoryMarkdownDefinition } from './inventory-markdown.js';
import { myopicOracleDefinition } from './myopic-oracle.js';
import { qLearningDefinition } from './q-learning.js';
import { epsilonGreedyDefinition } from './epsilon-greedy.js';
import { ucb1Definition } from './ucb1.js';
import { thompsonDefinition } from './thompson.js';
import { linUcbDefinition } from './linucb.js';
import { dqnDefinition } from './dqn.js';
import { phasedDefinition } from './phased.js';
import { historicalDefinition } from './historical.js';
import { didYouMean } from '../core/suggest.js';

export const agentDefinitions: ReadonlyMap<string, AgentDefinition> = new Map(
  [
    fixedPriceDefinition,
    costPlusDefinition,
    competitorFollowerDefinition,
    inventoryMarkdownDefinition,
    festivalRuleDefinition,
    myopicOracleDefinition,
    dpOptimalDefinition,
    historicalDefinition,
    qLearningDefinition,
    epsilonGreedyDefinition,
    ucb1Definition,
    thompsonDefinition,
    linUcbDefinition,
    dqnDefinition,
    phasedDefinition((kind) => agentDefinition(kind)),
  ].map((definition) => [definition.kind, definition]),
);

export function agentDefinition(kind: string): AgentDefinition {
  const definition = agentDefinitions.get(kind);
  if (!definition) {
    throw configError(`unknown agent "${kind}"${didYouMean(kind, agentDefinitions.keys())}`, [{ path: ['agent'], message: `expected one of ${[...agentDefinitions.keys()].join(', ')}, found "${kind}"` }]);
  }
  return definition;
}

export async function createAgent(kind: string, rawConfig: unknown, context: AgentContext): Promise<Agent> {
  const definition = agentDefinition(kind);
  const parsed = definition.configSchema.safeParse(rawConfig ?? {});
  if (!parsed.success) {
    const problems: Problem[] = parsed.error.issues.map((issue) => ({
      path: ['config', ...issue.path.map((part) => (typeof part === 'symbol' ? String(part) : part))],
      message: issue.message,
    }));
    throw configError(`the ${kind} config is not valid`, problems);
  }
  return definition.create(parsed.data, context);
}

export async function restoreAgent(exported: AgentExport, context: AgentContext): Promise<Agent> {
  return agentDefinition(exported.kind).restore(exported, context);
}
