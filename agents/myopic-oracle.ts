/**
 * Myopic oracle: knows the true demand model and today's state (weather, rivals' prices,
 * reference prices, loyal base) and picks the ladder price that maximises today's expected
 * profit, ignoring tomorrow (reference-price drift, churn, stock for later days):
 *   E[profit](p) = min(E[units](p), stock) * (p - c - q(p) * (p - resellable * c + handling))
 * where q(p) is today's return probability. An upper baseline for greedy policies, and a
 * lower one for planners: where it loses to a learner, the future mattered.
 */
import { z } from 'zod';
import { configError } from '../core/errors.js';
import type { AgentContext } from './agent.js';
import { defineAgent } from './definition.js';
import { ruleAgent } from './rule-agent.js';

const configSchema = z.strictObject({});

function build(config: z.output<typeof configSchema>, context: AgentContext) {
  const market = context.market;
  const model = context.model;
  if (!market || !model) throw configError('the myopic oracle needs the true market model', [{ path: ['agent'], message: 'expected an oracle context (model and live market), found a learner context' }]);
  const returns = model.scenario.returns;
  const resellableCost = returns ? returns.resellableFraction * context.unitCost : 0;
  const handling = returns?.handlingCost ?? 0;
  return ruleAgent('myopic-oracle', config, () => {
    let best = 0;
    let bestProfit = Number.NEGATIVE_INFINITY;
    context.ladder.forEach((price, index) => {
      const units = Math.min(market.expectedUnitsAt(price), market.stockOnHand);
      const returnProbability = market.returnProbabilityAt(price);
      const profit = units * (price - context.unitCost - returnProbability * (price - resellableCost + handling));
      if (profit > bestProfit + 1e-12) {
        best = index;
        bestProfit = profit;
      }
    });
    return best;
  });
}

export const myopicOracleDefinition = defineAgent({
  kind: 'myopic-oracle',
  description: "maximises today's expected profit with the true demand model",
  configSchema,
  needsModel: true,
  create: build,
  restore: (exported, context) => build(configSchema.parse(exported.config), context),
});
