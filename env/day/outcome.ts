/**
 * The day's outcome: what one step of the market reports, in raw (unnormalised) units,
 * and the last stage of the day, the reward from its terms.
 *
 * Reward terms: profit = revenue - refunds - costOfGoods + restockedValue - holdingCost
 *   - handlingCost - stockoutPenalty + salvage. The reward is the profit ('profit'), the
 *   profit less churnPenalty ('profit-with-churn-penalty'), or revenue - refunds ('revenue').
 * One StepOutcome per market, reused between steps: the stages write their fields into it.
 */
import type { OperationsParameters } from './operations.js';
import { OBJECTIVE_PROFIT_WITH_CHURN_PENALTY, OBJECTIVE_REVENUE } from './operations.js';

/** The terms of the day's reward (profit = revenue - refunds - costOfGoods + restockedValue - holdingCost - handlingCost - stockoutPenalty + salvage). */
export interface RewardTerms {
  revenue: number;
  refunds: number;
  costOfGoods: number;
  restockedValue: number;
  holdingCost: number;
  handlingCost: number;
  stockoutPenalty: number;
  salvage: number;
  churnPenalty: number;
}

/** Everything that happened on one day, in raw (unnormalised) units. Reused between steps. */
export interface StepOutcome extends RewardTerms {
  day: number;
  price: number;
  /** Every firm's posted price today, ours first. */
  readonly prices: Float64Array;
  /** Units demanded from every firm today (ours uncensored). */
  readonly firmDemand: Float64Array;
  /** Every firm's profit today: ours is the full reward-basis profit, rivals' (p - c) * units. */
  readonly firmProfit: Float64Array;
  arrivals: number;
  demand: number;
  sold: number;
  lostSales: number;
  profit: number;
  reward: number;
  unitsReturned: number;
  unitsRestocked: number;
  unitsArrivedFromOrders: number;
  unitsOrdered: number;
  stockOnHand: number;
  stockOnOrder: number;
  customersLost: number;
  weatherState: number;
  temperature: number;
  eventDay: boolean;
  presaleDay: boolean;
  terminated: boolean;
  lastDay: boolean;
}

export function emptyOutcome(firms: number): StepOutcome {
  return {
    day: 0, price: 0, prices: new Float64Array(firms), firmDemand: new Float64Array(firms), firmProfit: new Float64Array(firms),
    arrivals: 0, demand: 0, sold: 0, lostSales: 0, revenue: 0, refunds: 0, costOfGoods: 0, restockedValue: 0, holdingCost: 0,
    handlingCost: 0, stockoutPenalty: 0, salvage: 0, churnPenalty: 0, profit: 0, reward: 0, unitsReturned: 0, unitsRestocked: 0,
    unitsArrivedFromOrders: 0, unitsOrdered: 0, stockOnHand: 0, stockOnOrder: 0, customersLost: 0, weatherState: 0, temperature: 0,
    eventDay: false, presaleDay: false, terminated: false, lastDay: false,
  };
}

/**
 * Step 9 of the day, the reward: profit from the terms the stages wrote, the churn penalty,
 * the objective's reward, and every firm's profit (rivals: (p - c) * units).
 */
export function settleReward(outcome: StepOutcome, operations: OperationsParameters, firmUnitCost: Float64Array): void {
  const profit =
    outcome.revenue - outcome.refunds - outcome.costOfGoods + outcome.restockedValue - outcome.holdingCost - outcome.handlingCost - outcome.stockoutPenalty + outcome.salvage;
  const churnPenalty = operations.objective === OBJECTIVE_PROFIT_WITH_CHURN_PENALTY ? operations.penaltyPerCustomer * outcome.customersLost : 0;
  outcome.profit = profit;
  outcome.churnPenalty = churnPenalty;
  outcome.reward = operations.objective === OBJECTIVE_REVENUE ? outcome.revenue - outcome.refunds : profit - churnPenalty;
  const prices = outcome.prices;
  const firmDemand = outcome.firmDemand;
  const firmProfit = outcome.firmProfit;
  firmProfit[0] = profit;
  for (let firm = 1; firm < firmProfit.length; firm++) firmProfit[firm] = ((prices[firm] ?? 0) - (firmUnitCost[firm] ?? 0)) * (firmDemand[firm] ?? 0);
}
