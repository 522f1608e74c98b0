/** Cost-plus: unit cost x (1 + markup), the nearest ladder price. The accountant's rule. */
import { z } from 'zod';
import { defineAgent } from './definition.js';
import { nearestIndex, ruleAgent } from './rule-agent.js';

const configSchema = z.strictObject({ markup: z.number().gt(-1).default(0.3).describe('price = unitCost * (1 + markup)') });
const build = (config: z.output<typeof configSchema>, ladder: Float64Array, unitCost: number) =>
  ruleAgent('cost-plus', config, () => nearestIndex(ladder, unitCost * (1 + config.markup)));

export const costPlusDefinition = defineAgent({
  kind: 'cost-plus',
  description: 'unit cost times (1 + markup)',
  configSchema,
  create: (config, context) => build(config, context.ladder, context.unitCost),
  restore: (exported, context) => build(configSchema.parse(exported.config), context.ladder, context.unitCost),
});
