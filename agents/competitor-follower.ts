/**
 * Competitor follower: match the lowest rival price, or undercut it by `amount`, never
 * below unitCost * (1 + floorMargin). Reads the rivals' prices from the observation
 * (rivalPrice:* features), as a repricing tool reads scraped prices.
 */
import { z } from 'zod';
import type { AgentContext } from './agent.js';
import { defineAgent } from './definition.js';
import { FeatureReader, nearestIndex, ruleAgent } from './rule-agent.js';
import { configError } from '../core/errors.js';

const configSchema = z.strictObject({
  mode: z.enum(['match', 'undercut']).default('match').describe('match the lowest rival, or go below it'),
  amount: z.number().nonnegative().default(0.5).describe('undercut by this much (currency)'),
  floorMargin: z.number().min(0).default(0.05).describe('never below unitCost * (1 + floorMargin)'),
});

function build(config: z.output<typeof configSchema>, context: AgentContext) {
  const reader = new FeatureReader(context);
  const rivals = reader.indicesWithPrefix('rivalPrice:');
  if (rivals.length === 0) throw configError('competitor-follower needs rivals', [{ path: ['agent'], message: 'expected a scenario with competitors, found none' }]);
  const floor = context.unitCost * (1 + config.floorMargin);
  const offset = config.mode === 'undercut' ? config.amount : 0;
  return ruleAgent('competitor-follower', config, (observation) => {
    let lowest = Number.POSITIVE_INFINITY;
    for (const index of rivals) lowest = Math.min(lowest, reader.raw(observation, index));
    return nearestIndex(context.ladder, Math.max(floor, lowest - offset));
  });
}

export const competitorFollowerDefinition = defineAgent({
  kind: 'competitor-follower',
  description: 'match or undercut the lowest rival price, with a floor',
  configSchema,
  create: build,
  restore: (exported, context) => build(configSchema.parse(exported.config), context),
});
