/**
 * Inventory and orders: steps 5, 8 and the costs of step 9 of the day (env/market.ts).
 *
 * Stock on hand starts at the scenario's initialStock (unlimited without an inventory).
 *   5. sales = min(demand, stock on hand); lost sales = the rest. Sales are split across the
 *      segment groups pro rata (whole units when censored, the remainder to the first groups
 *      with unmet demand), because returns are drawn per group.
 *   8. resellable returns due today go back into stock (at unit cost: restockedValue); the
 *      order placed leadTimeDays ago arrives; on a review day the (s, S) policy orders up to S
 *      when stock on hand + on order <= s (lead time 0: straight into stock).
 *   9. holding cost on closing stock, stockout penalty per lost sale, and on the last day
 *      salvage (salvageValue - unitCost) on stock on hand and on order.
 * Only firm 0 (ours) holds stock; rivals have unlimited stock.
 */
import type { MarketModel } from '../model.js';
import type { StepOutcome } from './outcome.js';
import { powerOfTwoAtLeast, type OperationsParameters } from './operations.js';

export class InventoryStage {
  stockOnHand = 0;
  stockOnOrder = 0;
  /** Our units sold per segment group today. */
  readonly groupSold: Float64Array;
  private readonly operations: OperationsParameters;
  private readonly reviewDay: Uint8Array;
  private readonly horizon: number;
  private readonly deterministic: boolean;
  /** Units arriving per day, a ring indexed by day & pipelineMask. */
  private readonly orderPipeline: Float64Array;
  private readonly pipelineMask: number;

  constructor(model: MarketModel, operations: OperationsParameters, groupCount: number) {
    this.operations = operations;
    this.reviewDay = model.reviewDay;
    this.horizon = model.horizon;
    this.deterministic = model.deterministic;
    this.groupSold = new Float64Array(groupCount);
    this.orderPipeline = new Float64Array(powerOfTwoAtLeast(operations.leadTimeDays + 1));
    this.pipelineMask = this.orderPipeline.length - 1;
  }

  reset(): void {
    this.stockOnHand = this.operations.initialStock;
    this.stockOnOrder = 0;
    this.orderPipeline.fill(0);
  }

  /**
   * Step 5: sells outcome.demand units from stock (capped), split across groups in
   * groupSold; writes sold, lostSales, revenue and costOfGoods at our price outcome.prices[0].
   */
  sell(outcome: StepOutcome, groupDemand: Float64Array): void {
    const demand = outcome.demand;
    const sold = Math.min(demand, this.stockOnHand);
    this.stockOnHand -= sold;
    const soldShare = demand > 0 ? sold / demand : 0;
    allocateSales(groupDemand, this.groupSold, sold, soldShare, this.deterministic, groupDemand.length);
    const price = outcome.prices[0] ?? 0;
    outcome.sold = sold;
    outcome.lostSales = demand - sold;
    outcome.revenue = price * sold;
    outcome.costOfGoods = this.operations.unitCost * sold;
  }

  /**
   * Step 8: restocks outcome.unitsRestocked (set by the returns stage), receives today's
   * order arrivals and runs the (s, S) review; writes restockedValue, unitsArrivedFromOrders
   * and unitsOrdered; then step 9's stock costs on the closing stock.
   */
  receiveAndOrder(day: number, outcome: StepOutcome): void {
    const operations = this.operations;
    this.stockOnHand += outcome.unitsRestocked;
    outcome.restockedValue = operations.unitCost * outcome.unitsRestocked;
    let unitsArrivedFromOrders = 0;
    let unitsOrdered = 0;
    if (operations.periodicReview) {
      const pipelineSlot = day & this.pipelineMask;
      unitsArrivedFromOrders = this.orderPipeline[pipelineSlot] ?? 0;
      this.orderPipeline[pipelineSlot] = 0;
      this.stockOnHand += unitsArrivedFromOrders;
      this.stockOnOrder -= unitsArrivedFromOrders;
      if (this.reviewDay[day] === 1) {
        const position = this.stockOnHand + this.stockOnOrder;
        if (position <= operations.reorderPoint) {
          unitsOrdered = operations.orderUpTo - position;
          if (operations.leadTimeDays === 0) this.stockOnHand += unitsOrdered;
          else {
            const arrivalSlot = (day + operations.leadTimeDays) & this.pipelineMask;
            this.orderPipeline[arrivalSlot] = (this.orderPipeline[arrivalSlot] ?? 0) + unitsOrdered;
            this.stockOnOrder += unitsOrdered;
          }
        }
      }
    }
    outcome.unitsArrivedFromOrders = unitsArrivedFromOrders;
    outcome.unitsOrdered = unitsOrdered;
    outcome.stockOnHand = this.stockOnHand;
    outcome.stockOnOrder = this.stockOnOrder;
    this.chargeCosts(day, outcome);
  }

  /** Step 9's stock costs on closing stock: holdingCost, stockoutPenalty and (last day) salvage. */
  private chargeCosts(day: number, outcome: StepOutcome): void {
    const operations = this.operations;
    const finiteStock = operations.finiteStock;
    const lastDay = day === this.horizon - 1;
    outcome.holdingCost = finiteStock ? operations.holdingCost * this.stockOnHand : 0;
    outcome.stockoutPenalty = finiteStock ? operations.stockoutPenalty * outcome.lostSales : 0;
    outcome.salvage = finiteStock && lastDay ? (operations.salvageValue - operations.unitCost) * (this.stockOnHand + this.stockOnOrder) : 0;
  }
}

function allocateSales(demand: Float64Array, sold: Float64Array, totalSold: number, share: number, deterministic: boolean, groups: number): void {
  if (share >= 1 || deterministic) {
    for (let index = 0; index < groups; index++) sold[index] = (demand[index] ?? 0) * share;
    return;
  }
  // Censored: whole units pro rata, the remainder to the first groups with unmet demand.
  let allocated = 0;
  for (let index = 0; index < groups; index++) {
    const units = Math.floor((demand[index] ?? 0) * share);
    sold[index] = units;
    allocated += units;
  }
  for (let index = 0; index < groups && allocated < totalSold; index++) {
    if ((sold[index] ?? 0) < (demand[index] ?? 0)) {
      sold[index] = (sold[index] ?? 0) + 1;
      allocated++;
    }
  }
}
