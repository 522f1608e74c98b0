/**
 * DP-optimal policy of a finite-stock scenario: the oracle's table (env/oracle.ts, by
 * backward induction over period and stock on the scenario's ladder) as an agent. It
 * reads the period from daysLeft and the stock from stockOnHand, and plays the optimal
 * price; every learner's regret on markdown scenarios is measured against it.
 */
import { z } from 'zod';
import { configError } from '../core/errors.js';
import { oracleTable } from '../env/benchmarks.js';
import type { AgentContext } from './agent.js';
import { defineAgent } from './definition.js';
import { FeatureReader, ruleAgent } from './rule-agent.js';
import { jsonFile, readJsonFile } from './agent.js';

const configSchema = z.strictObject({});

function build(config: z.output<typeof configSchema>, context: AgentContext, policy?: number[][]) {
  const model = context.model;
  if (!policy && !model) throw configError('the DP-optimal agent needs the true market model', [{ path: ['agent'], message: 'expected an oracle context (model), found a learner context' }]);
  const table = policy ?? oracleTable(model!.scenario).policy.map((row) => Array.from(row));
  const reader = new FeatureReader(context);
  const daysLeft = reader.index('daysLeft', 'dp-optimal');
  const stock = reader.index('stockOnHand', 'dp-optimal');
  const periods = table.length;
  const agent = ruleAgent('dp-optimal', config, (observation) => {
    const period = Math.min(periods - 1, Math.max(0, periods - Math.round(reader.raw(observation, daysLeft))));
    const row = table[period] ?? [];
    const units = Math.min(row.length - 1, Math.max(0, Math.round(reader.raw(observation, stock))));
    return row[units] ?? 0;
  });
  return { ...agent, export: () => ({ kind: 'dp-optimal', config, files: { 'policy-table.json': jsonFile(table) } }) };
}

export const dpOptimalDefinition = defineAgent({
  kind: 'dp-optimal',
  description: 'the exact DP-optimal policy of a finite-stock scenario',
  configSchema,
  needsModel: true,
  create: (config, context) => build(config, context),
  restore: (exported, context) => build(configSchema.parse(exported.config), context, readJsonFile<number[][]>(exported.files['policy-table.json'], 'policy-table.json')),
});
