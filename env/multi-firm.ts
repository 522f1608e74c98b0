/**
 * The multi-firm view: every firm sets its price in the same period, as in the Calvano et
 * al. (2020) duopoly and in markets with learning competitors. It steps the same
 * MarketSimulation as the single-agent env; rivals given NaN keep their rule strategy.
 * Each firm's reward is its profit: ours under the scenario's objective, rivals' (p - c) q.
 */
import { protocolError } from '../core/errors.js';
import { MarketSimulation } from './market.js';
import { buildMarketModel, type MarketModel } from './model.js';
import type { Scenario } from '../scenarios/schema.js';

export interface MultiFirmStep {
  /** Every firm's price this period. */
  readonly prices: Float64Array;
  /** Every firm's units sold this period. */
  readonly units: Float64Array;
  /** Every firm's reward this period. */
  readonly rewards: Float64Array;
  readonly terminated: boolean;
  readonly truncated: boolean;
}

export class MultiFirmMarket {
  readonly model: MarketModel;
  readonly market: MarketSimulation;
  readonly firmCount: number;
  readonly ladder: Float64Array;
  private readonly prices: Float64Array;
  private readonly rewards: Float64Array;
  private readonly units: Float64Array;

  constructor(source: Scenario | MarketModel) {
    this.model = 'calendar' in source ? source : buildMarketModel(source);
    this.market = new MarketSimulation(this.model, { sampleRivalUnits: true });
    this.firmCount = this.market.firmCount;
    this.ladder = this.model.ladder;
    this.prices = new Float64Array(this.firmCount);
    this.rewards = new Float64Array(this.firmCount);
    this.units = new Float64Array(this.firmCount);
  }

  reset(seed: number | string = 0): void {
    this.market.reset(seed);
  }

  /** Every firm picks a ladder index (-1: that rival follows its own strategy). */
  stepIndices(indices: ArrayLike<number>): MultiFirmStep {
    if (indices.length !== this.firmCount) throw protocolError(`expected ${this.firmCount} ladder indices (one per firm), found ${indices.length}`);
    for (let firm = 0; firm < this.firmCount; firm++) {
      const index = indices[firm] ?? -1;
      if (index === -1 && firm > 0) {
        this.prices[firm] = Number.NaN;
        continue;
      }
      const price = this.ladder[index];
      if (price === undefined || !Number.isInteger(index)) throw protocolError(`expected firm ${firm}'s action in Discrete(${this.ladder.length}), found ${index}`);
      this.prices[firm] = price;
    }
    return this.stepPrices(this.prices);
  }

  /** Every firm sets any positive price (NaN: that rival follows its own strategy). */
  stepPrices(prices: ArrayLike<number>): MultiFirmStep {
    const outcome = this.market.stepPrices(prices);
    this.rewards.set(outcome.firmProfit);
    this.rewards[0] = outcome.reward;
    this.units[0] = outcome.sold;
    for (let firm = 1; firm < this.firmCount; firm++) this.units[firm] = outcome.firmDemand[firm] ?? 0;
    return {
      prices: outcome.prices,
      units: this.units,
      rewards: this.rewards,
      terminated: outcome.terminated,
      truncated: !outcome.terminated && outcome.lastDay,
    };
  }
}
