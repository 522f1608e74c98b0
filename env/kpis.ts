/**
 * Episode KPIs (market-model.md, "Reward and KPIs"), accumulated day by day without
 * allocation and summarised at the end: GMV, net revenue after returns, gross margin,
 * units, return rate, stockout days, lost sales, inventory turnover, average price index
 * against rivals, price changes, customers lost and, where the market has Nash and
 * monopoly benchmarks, the profit-gain index (profit - nash) / (monopoly - nash) of our
 * firm's daily gross profit (p - c) * units against the stage game's.
 */
import type { MarketModel } from './model.js';
import type { StepOutcome } from './market.js';

export interface EpisodeKpis {
  days: number;
  /** Gross merchandise value: price x units sold. */
  gmv: number;
  refunds: number;
  /** GMV minus refunds. */
  netRevenue: number;
  /** Net revenue minus cost of goods plus restocked returns at cost. */
  grossProfit: number;
  /** Gross profit / net revenue (0 when nothing was sold). */
  grossMarginRate: number;
  /** Sum of daily profit (all reward terms of the profit objective). */
  profit: number;
  /** Sum of rewards under the scenario's objective. */
  totalReward: number;
  units: number;
  unitsReturned: number;
  /** Units returned / units sold. */
  returnRate: number;
  stockoutDays: number;
  lostSales: number;
  /** Cost of goods sold / average stock on hand at cost (null with unlimited stock). */
  inventoryTurnover: number | null;
  averagePrice: number;
  /** Mean of our price / the mean rival price (null without rivals). */
  priceIndex: number | null;
  priceChanges: number;
  customersLost: number;
  /** (profit - Nash) / (monopoly - Nash) of our daily gross profit (null without benchmarks). */
  profitGain: number | null;
}

export class EpisodeKpiAccumulator {
  private readonly model: MarketModel;
  private days = 0;
  private gmv = 0;
  private refunds = 0;
  private costOfGoods = 0;
  private restockedValue = 0;
  private profit = 0;
  private reward = 0;
  private units = 0;
  private unitsReturned = 0;
  private stockoutDays = 0;
  private lostSales = 0;
  private stockSum = 0;
  private priceSum = 0;
  private priceIndexSum = 0;
  private priceChanges = 0;
  private customersLost = 0;
  private grossStageProfit = 0;

  constructor(model: MarketModel) {
    this.model = model;
  }

  reset(): void {
    this.days = this.gmv = this.refunds = this.costOfGoods = this.restockedValue = this.profit = this.reward = 0;
    this.units = this.unitsReturned = this.stockoutDays = this.lostSales = this.stockSum = this.priceSum = 0;
    this.priceIndexSum = this.priceChanges = this.customersLost = this.grossStageProfit = 0;
  }

  record(outcome: StepOutcome, priceChanged: number): void {
    this.days++;
    this.gmv += outcome.revenue;
    this.refunds += outcome.refunds;
    this.costOfGoods += outcome.costOfGoods;
    this.restockedValue += outcome.restockedValue;
    this.profit += outcome.profit;
    this.reward += outcome.reward;
    this.units += outcome.sold;
    this.unitsReturned += outcome.unitsReturned;
    if (outcome.lostSales > 0) this.stockoutDays++;
    this.lostSales += outcome.lostSales;
    this.stockSum += Number.isFinite(outcome.stockOnHand) ? outcome.stockOnHand : 0;
    this.priceSum += outcome.price;
    const prices = outcome.prices;
    if (prices.length > 1) {
      let rivalSum = 0;
      for (let firm = 1; firm < prices.length; firm++) rivalSum += prices[firm] ?? 0;
      this.priceIndexSum += outcome.price / (rivalSum / (prices.length - 1));
    }
    this.priceChanges += priceChanged;
    this.customersLost += outcome.customersLost;
    this.grossStageProfit += (outcome.price - this.model.unitCost) * outcome.sold;
  }

  summary(market: { stockOnHand: number }): EpisodeKpis {
    const days = Math.max(1, this.days);
    const netRevenue = this.gmv - this.refunds;
    const grossProfit = netRevenue - this.costOfGoods + this.restockedValue;
    const finiteStock = Number.isFinite(market.stockOnHand) && this.model.scenario.inventory !== undefined;
    const averageStockValue = (this.stockSum / days) * this.model.unitCost;
    const benchmarks = this.model.benchmarks;
    let profitGain: number | null = null;
    if (benchmarks) {
      const nash = benchmarks.nash.profits[0] ?? 0;
      const monopoly = benchmarks.monopoly.profits[0] ?? 0;
      if (monopoly - nash > 1e-12) profitGain = (this.grossStageProfit / days - nash) / (monopoly - nash);
    }
    return {
      days: this.days,
      gmv: this.gmv,
      refunds: this.refunds,
      netRevenue,
      grossProfit,
      grossMarginRate: netRevenue > 0 ? grossProfit / netRevenue : 0,
      profit: this.profit,
      totalReward: this.reward,
      units: this.units,
      unitsReturned: this.unitsReturned,
      returnRate: this.units > 0 ? this.unitsReturned / this.units : 0,
      stockoutDays: this.stockoutDays,
      lostSales: this.lostSales,
      inventoryTurnover: finiteStock && averageStockValue > 0 ? this.costOfGoods / averageStockValue : null,
      averagePrice: this.priceSum / days,
      priceIndex: this.model.rivals.length > 0 ? this.priceIndexSum / days : null,
      priceChanges: this.priceChanges,
      customersLost: this.customersLost,
      profitGain,
    };
  }
}
