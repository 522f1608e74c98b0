/**
 * Fixed price: the same ladder price every day, the nearest to `price`. The everyday
 * baseline every learner must beat (the best fixed price, found by evaluating each).
 */
import { z } from 'zod';
import { defineAgent } from './definition.js';
import { nearestIndex, ruleAgent } from './rule-agent.js';

const configSchema = z.strictObject({ price: z.number().positive().describe('the price to charge; the nearest ladder price is used') });

export const fixedPriceDefinition = defineAgent({
  kind: 'fixed-price',
  description: 'the same (nearest ladder) price every day',
  configSchema,
  create: (config, context) => ruleAgent('fixed-price', config, () => nearestIndex(context.ladder, config.price)),
  restore: (exported, context) => {
    const config = configSchema.parse(exported.config);
    return ruleAgent('fixed-price', config, () => nearestIndex(context.ladder, config.price));
  },
});
