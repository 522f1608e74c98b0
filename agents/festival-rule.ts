/**
 * Festival rule: list price on ordinary days, a discount on festival event days and a
 * (smaller, by default equal) discount during the pre-sale, as shops run 11.11 by hand.
 */
import { z } from 'zod';
import type { AgentContext } from './agent.js';
import { defineAgent } from './definition.js';
import { FeatureReader, nearestIndex, ruleAgent } from './rule-agent.js';

const configSchema = z.strictObject({
  discount: z.number().min(0).max(0.9).default(0.15).describe('share off the list price on event days'),
  presaleDiscount: z.number().min(0).max(0.9).optional().describe('share off during the pre-sale (default: the event discount)'),
});

function build(config: z.output<typeof configSchema>, context: AgentContext) {
  const reader = new FeatureReader(context);
  const event = reader.has('eventDay') ? reader.index('eventDay', 'festival-rule') : -1;
  const presale = reader.has('presaleDay') ? reader.index('presaleDay', 'festival-rule') : -1;
  const regular = nearestIndex(context.ladder, context.listPrice);
  const onEvent = nearestIndex(context.ladder, context.listPrice * (1 - config.discount));
  const onPresale = nearestIndex(context.ladder, context.listPrice * (1 - (config.presaleDiscount ?? config.discount)));
  return ruleAgent('festival-rule', config, (observation) => {
    if (event >= 0 && observation[event] === 1) return onEvent;
    if (presale >= 0 && observation[presale] === 1) return onPresale;
    return regular;
  });
}

export const festivalRuleDefinition = defineAgent({
  kind: 'festival-rule',
  description: 'list price, discounted on festival and pre-sale days',
  configSchema,
  create: build,
  restore: (exported, context) => build(configSchema.parse(exported.config), context),
});
