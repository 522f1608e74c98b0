/**
 * The scenario's operations (inventory, returns, objective) as scalars on one class, copied
 * once per market. Every field is always set, so every market of every scenario has one
 * object shape: V8 keeps the day's property loads monomorphic when a process runs several
 * scenarios (scenario objects differ in shape). The stages read these, never the scenario.
 */
import type { MarketModel } from '../model.js';

export const OBJECTIVE_PROFIT = 0;
export const OBJECTIVE_REVENUE = 1;
export const OBJECTIVE_PROFIT_WITH_CHURN_PENALTY = 2;

export class OperationsParameters {
  readonly finiteStock: boolean;
  readonly initialStock: number;
  readonly periodicReview: boolean;
  /** Replenishment 'none': the market ends once stock and pending returns are gone. */
  readonly sellsOut: boolean;
  readonly reorderPoint: number;
  readonly orderUpTo: number;
  readonly leadTimeDays: number;
  readonly holdingCost: number;
  readonly stockoutPenalty: number;
  readonly salvageValue: number;
  readonly unitCost: number;
  readonly hasReturns: boolean;
  readonly returnHandlingCost: number;
  readonly returnMinLagDays: number;
  readonly returnMaxLagDays: number;
  /** Days a resellable return spends being refurbished before it is back in stock. */
  readonly returnRefurbishDays: number;
  readonly returnResellableFraction: number;
  readonly objective: number;
  readonly penaltyPerCustomer: number;

  constructor(model: MarketModel) {
    const inventory = model.scenario.inventory;
    const replenishment = inventory?.replenishment;
    this.finiteStock = inventory !== undefined;
    this.initialStock = inventory?.initialStock ?? Number.POSITIVE_INFINITY;
    this.periodicReview = replenishment?.kind === 'periodic-review';
    this.sellsOut = replenishment?.kind === 'none';
    this.reorderPoint = replenishment?.kind === 'periodic-review' ? replenishment.reorderPoint : 0;
    this.orderUpTo = replenishment?.kind === 'periodic-review' ? replenishment.orderUpTo : 0;
    this.leadTimeDays = replenishment?.kind === 'periodic-review' ? replenishment.leadTimeDays : 0;
    this.holdingCost = inventory?.holdingCost ?? 0;
    this.stockoutPenalty = inventory?.stockoutPenalty ?? 0;
    this.salvageValue = inventory?.salvageValue ?? 0;
    this.unitCost = model.unitCost;
    const returns = model.scenario.returns;
    this.hasReturns = returns !== undefined;
    this.returnHandlingCost = returns?.handlingCost ?? 0;
    this.returnMinLagDays = returns?.minLagDays ?? 0;
    this.returnMaxLagDays = returns?.maxLagDays ?? 0;
    this.returnRefurbishDays = returns?.refurbishDays ?? 0;
    this.returnResellableFraction = returns?.resellableFraction ?? 0;
    const objective = model.scenario.objective;
    this.objective = objective.kind === 'revenue' ? OBJECTIVE_REVENUE : objective.kind === 'profit-with-churn-penalty' ? OBJECTIVE_PROFIT_WITH_CHURN_PENALTY : OBJECTIVE_PROFIT;
    this.penaltyPerCustomer = objective.kind === 'profit-with-churn-penalty' ? objective.penaltyPerCustomer : 0;
  }
}

/**
 * Ring buffers (returns due, the order pipeline, the price-change window) have power-of-two
 * sizes and are indexed with `& mask`: a `%` by a variable compiles to an integer division,
 * the slowest instruction of the day.
 */
export function powerOfTwoAtLeast(size: number): number {
  let power = 1;
  while (power < size) power *= 2;
  return power;
}
