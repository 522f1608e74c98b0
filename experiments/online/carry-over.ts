/**
 * Carry-over: the mechanisms by which today's price changes tomorrow's market in a
 * scenario (reference prices, churn, stock, returns, rivals that react to our price). A
 * market without any is a contextual bandit: each day's reward depends on that day's
 * context and price only, which is what makes a short switchback block or an off-policy
 * estimate from daily logs unbiased. Weather, calendar, festivals and rivals on fixed
 * prices or random walks are exogenous: they do not depend on our prices.
 */
import type { MarketModel } from '../../env/model.js';

/** The mechanisms by which yesterday's price changes today's market (empty: a contextual bandit). */
export function carryOverMechanisms(model: MarketModel): string[] {
  const scenario = model.scenario;
  const mechanisms: string[] = [];
  if (model.segments.some((segment) => segment.reference)) mechanisms.push('reference prices');
  if (model.segments.some((segment) => segment.loyalty)) mechanisms.push('loyal customers who churn');
  if (scenario.inventory) mechanisms.push('inventory');
  if (scenario.returns) mechanisms.push('returns and refunds');
  const reactive = model.rivals.filter((rival) => rival.config.strategy.kind !== 'fixed' && rival.config.strategy.kind !== 'random-walk');
  if (reactive.length > 0) mechanisms.push(`rivals reacting to our price (${reactive.map((rival) => rival.name).join(', ')})`);
  return mechanisms;
}

export function hasCarryOver(model: MarketModel): boolean {
  return carryOverMechanisms(model).length > 0;
}
