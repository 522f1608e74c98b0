/**
 * Inventory-aware markdown: the more days of cover on hand, the lower the price. Days of
 * cover = stock on hand / recent daily sales (an exponential average of salesYesterday).
 * At or below the target cover it charges the list price; each further `stepPerCover` of
 * excess cover ratio moves one ladder step down, never below unitCost * (1 + floorMargin).
 * With a finite horizon and no replenishment the target is the days left (sell through).
 */
import { z } from 'zod';
import type { AgentContext } from './agent.js';
import { defineAgent } from './definition.js';
import { FeatureReader, nearestIndex, ruleAgent } from './rule-agent.js';

const configSchema = z.strictObject({
  targetCoverDays: z.number().positive().optional().describe('days of cover considered healthy (default: days left if the scenario has no replenishment, else 30)'),
  stepPerCover: z.number().positive().default(0.25).describe('excess cover ratio per ladder step down'),
  smoothing: z.number().min(0).max(0.99).default(0.8).describe('weight of the past in the sales average'),
  floorMargin: z.number().min(0).default(0).describe('never below unitCost * (1 + floorMargin)'),
});

function build(config: z.output<typeof configSchema>, context: AgentContext) {
  const reader = new FeatureReader(context);
  const stock = reader.index('stockOnHand', 'inventory-markdown');
  const sales = reader.index('salesYesterday', 'inventory-markdown');
  const daysLeft = reader.index('daysLeft', 'inventory-markdown');
  const replenished = reader.has('stockOnOrder');
  const top = nearestIndex(context.ladder, context.listPrice);
  const floor = nearestIndex(context.ladder, context.unitCost * (1 + config.floorMargin));
  let averageSales = -1;
  return ruleAgent('inventory-markdown', config, (observation) => {
    if ((observation[daysLeft] ?? 0) >= 1 - 1e-6) averageSales = -1; // a new episode
    const sold = reader.raw(observation, sales);
    averageSales = averageSales < 0 ? Math.max(sold, 1e-9) : config.smoothing * averageSales + (1 - config.smoothing) * sold;
    const target = config.targetCoverDays ?? (replenished ? 30 : Math.max(1, reader.raw(observation, daysLeft)));
    const cover = reader.raw(observation, stock) / Math.max(averageSales, 1e-9);
    const stepsDown = Math.floor(Math.max(0, cover / target - 1) / config.stepPerCover);
    return Math.max(Math.min(floor, top), top - stepsDown);
  });
}

export const inventoryMarkdownDefinition = defineAgent({
  kind: 'inventory-markdown',
  description: 'price falls as days of cover rise',
  configSchema,
  create: build,
  restore: (exported, context) => build(configSchema.parse(exported.config), context),
});
