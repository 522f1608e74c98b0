/**
 * Returns: step 7 of the day (env/market.ts). Today's sales schedule their returns, and the
 * returns that fall due today are refunded.
 *
 * A unit sold at price p to segment s comes back with probability
 *   sigmoid(baseLogit + discountLogit * max(0, 1 - p / listPrice) + festivalLogit * festive + offset_s),
 * after minLagDays + L days (L: a truncated, discretised exponential, env/return-lags.ts),
 * refunded at p; with probability resellableFraction it is back in stock refurbishDays
 * later (restocked at unit cost), else it is written off. Each returned unit costs
 * handlingCost when it comes back. Deterministic scenarios book the expected returns,
 * spread over the lags.
 *
 * Draws (stream 'returns'): one uniform per segment group per day, whatever the sales:
 * the group's returned units are Binomial(units sold to the group, p) (its segments share
 * p, and a sum of binomials with a common p is one binomial: exact). Each returned unit's
 * lag and resellability come from one uniform derived by hashing the day's first group
 * uniform that returned units (core/random.ts: the stream position stays fixed).
 */
import { RandomStream, derivedUniform, uniformToKey } from '../../core/random.js';
import { binomialFromUniform, sigmoid } from '../sampling.js';
import { ReturnLagSampler } from '../return-lags.js';
import type { MarketModel } from '../model.js';
import type { Returns } from '../../scenarios/schema.js';
import type { StepOutcome } from './outcome.js';
import { powerOfTwoAtLeast, type OperationsParameters } from './operations.js';
import type { SegmentGroups } from './segment-groups.js';

export class ReturnsStage {
  /** Units sold and not yet returned that may still come back. */
  returnsPending = 0;
  private readonly stream = new RandomStream(0, 'returns');
  private readonly operations: OperationsParameters;
  private readonly returns: Returns | undefined;
  private readonly model: MarketModel;
  private readonly groups: SegmentGroups;
  private readonly deterministic: boolean;
  private readonly ladderSize: number;
  private readonly segmentCount: number;
  private readonly lags: ReturnLagSampler;
  /** Units, refunds and restocked units due per day: rings indexed by day & ringMask. */
  private readonly ringMask: number;
  private readonly returnsDue: Float64Array;
  private readonly refundsDue: Float64Array;
  private readonly restockDue: Float64Array;
  /** returnTable[(festive * ladder + index) * segments + segment]: return probability at ladder prices; returnLogTable its log-complement. */
  private readonly returnTable: Float64Array;
  private readonly returnLogTable: Float64Array;
  /** Return probability per segment and its log-complement at a price off the ladder, cached for one (price, festive) pair. */
  private readonly returnProbability: Float64Array;
  private readonly returnLogComplement: Float64Array;
  private returnCacheKey = Number.NaN;

  constructor(model: MarketModel, operations: OperationsParameters, groups: SegmentGroups) {
    this.model = model;
    this.operations = operations;
    this.returns = model.scenario.returns;
    this.groups = groups;
    this.deterministic = model.deterministic;
    const returns = this.returns;
    const ringSize = powerOfTwoAtLeast(returns ? returns.maxLagDays + returns.refurbishDays + 2 : 1);
    this.ringMask = ringSize - 1;
    this.returnsDue = new Float64Array(ringSize);
    this.refundsDue = new Float64Array(ringSize);
    this.restockDue = new Float64Array(ringSize);
    this.lags = returns ? new ReturnLagSampler(returns.minLagDays, returns.maxLagDays, returns.meanLagDays, returns.resellableFraction) : new ReturnLagSampler(0, 0, 1, 0);
    const segments = Math.max(1, model.segments.length);
    const ladder = model.ladder;
    this.segmentCount = segments;
    this.ladderSize = ladder.length;
    this.returnProbability = new Float64Array(segments);
    this.returnLogComplement = new Float64Array(segments);
    this.returnTable = new Float64Array(2 * ladder.length * segments);
    this.returnLogTable = new Float64Array(2 * ladder.length * segments);
    for (let festive = 0; festive < 2; festive++) {
      ladder.forEach((price, index) => {
        for (let segment = 0; segment < segments; segment++) {
          const probability = this.segmentReturnProbability(price, festive, segment);
          this.returnTable[(festive * ladder.length + index) * segments + segment] = probability;
          this.returnLogTable[(festive * ladder.length + index) * segments + segment] = Math.log1p(-probability);
        }
      });
    }
  }

  reset(seed: number | string): void {
    this.stream.reseed(seed, 'returns');
    this.returnsDue.fill(0);
    this.refundsDue.fill(0);
    this.restockDue.fill(0);
    this.returnsPending = 0;
  }

  /**
   * Step 7: today's sales (groupSold, at our price outcome.prices[0]) schedule their returns;
   * the returns due today are booked into outcome.unitsReturned, refunds, unitsRestocked and
   * handlingCost. A method of its own so that V8 optimises it with its own inlining budget.
   */
  process(day: number, ladderIndex: number, festive: number, groupSold: Float64Array, outcome: StepOutcome): void {
    const price = outcome.prices[0] ?? 0;
    if (!this.operations.hasReturns) {
      outcome.unitsReturned = 0;
      outcome.refunds = 0;
      outcome.unitsRestocked = 0;
      outcome.handlingCost = 0;
      return;
    }
    // Return probabilities: straight from the table at ladder prices, else computed and cached.
    let probabilities = this.returnTable;
    let logComplements = this.returnLogTable;
    let offset = (festive * this.ladderSize + ladderIndex) * this.segmentCount;
    if (ladderIndex < 0) {
      this.setReturnProbabilities(price, festive);
      probabilities = this.returnProbability;
      logComplements = this.returnLogComplement;
      offset = 0;
    }
    const deterministic = this.deterministic;
    const representative = this.groups.representative;
    let returned = 0;
    let key = 0;
    for (let group = 0; group < groupSold.length; group++) {
      const uniform = this.stream.next();
      const units = groupSold[group] ?? 0;
      if (!(units > 0)) continue;
      const segment = representative[group] ?? 0;
      const probability = probabilities[offset + segment] ?? 0;
      if (deterministic) {
        this.scheduleExpectedReturns(day, units * probability, price);
        continue;
      }
      const count = binomialFromUniform(units, probability, uniform, logComplements[offset + segment]);
      if (count > 0 && returned === 0) key = uniformToKey(uniform);
      returned += count;
    }
    if (returned > 0) this.scheduleReturnedUnits(day, returned, key | 0, outcome.prices);
    const slot = day & this.ringMask;
    const unitsReturned = this.returnsDue[slot] ?? 0;
    outcome.unitsReturned = unitsReturned;
    outcome.refunds = this.refundsDue[slot] ?? 0;
    outcome.unitsRestocked = this.restockDue[slot] ?? 0;
    this.returnsDue[slot] = 0;
    this.refundsDue[slot] = 0;
    this.restockDue[slot] = 0;
    this.returnsPending -= unitsReturned;
    outcome.handlingCost = this.operations.returnHandlingCost * unitsReturned;
  }

  /** Today's return probability of a unit sold at `price` (sales-weighted over segments by their arrival rates). */
  returnProbabilityAt(day: number, price: number): number {
    if (!this.returns) return 0;
    const model = this.model;
    const festive = model.festivals.eventDay[day] === 1 || model.festivals.presaleDay[day] === 1 ? 1 : 0;
    let weighted = 0;
    let total = 0;
    for (let segment = 0; segment < this.segmentCount; segment++) {
      const weight = model.segments[segment]?.rates[day] ?? 1;
      weighted += weight * this.segmentReturnProbability(price, festive, segment);
      total += weight;
    }
    return total > 0 ? weighted / total : 0;
  }

  /**
   * The return probability per segment at a price off the ladder, sigmoid(t0 + t1 depth +
   * t2 festive + t_s), and its log-complement, kept while the (price, festive) pair holds.
   * Ladder prices read returnTable instead.
   */
  private setReturnProbabilities(price: number, festive: number): void {
    const cacheKey = festive === 1 ? -price : price;
    if (cacheKey === this.returnCacheKey) return;
    for (let segment = 0; segment < this.segmentCount; segment++) {
      const probability = this.segmentReturnProbability(price, festive, segment);
      this.returnProbability[segment] = probability;
      this.returnLogComplement[segment] = Math.log1p(-probability);
    }
    this.returnCacheKey = cacheKey;
  }

  private segmentReturnProbability(price: number, festive: number, segment: number): number {
    const returns = this.returns;
    if (!returns) return 0;
    const discountDepth = Math.max(0, 1 - price / this.model.listPrice);
    const offset = this.model.segments[segment]?.returnLogitOffset ?? 0;
    return sigmoid(returns.baseLogit + returns.discountLogit * discountDepth + returns.festivalLogit * festive + offset);
  }

  /** Deterministic scenarios: the expected returns spread over the lags, refunded at the price paid. */
  private scheduleExpectedReturns(day: number, expected: number, price: number): void {
    const cumulative = this.lags.cumulative;
    const resellableFraction = this.operations.returnResellableFraction;
    let previous = 0;
    for (let lagIndex = 0; lagIndex < cumulative.length; lagIndex++) {
      const share = (cumulative[lagIndex] ?? 1) - previous;
      previous = cumulative[lagIndex] ?? 1;
      this.bookExpectedReturn(day + this.operations.returnMinLagDays + lagIndex, expected * share, price, expected * share * resellableFraction);
    }
    this.returnsPending += expected;
  }

  private bookExpectedReturn(returnDay: number, units: number, price: number, resellableUnits: number): void {
    const slot = returnDay & this.ringMask;
    this.returnsDue[slot] = (this.returnsDue[slot] ?? 0) + units;
    this.refundsDue[slot] = (this.refundsDue[slot] ?? 0) + units * price;
    if (resellableUnits > 0) {
      const restockSlot = (returnDay + this.operations.returnRefurbishDays) & this.ringMask;
      this.restockDue[restockSlot] = (this.restockDue[restockSlot] ?? 0) + resellableUnits;
    }
  }

  /**
   * Books `count` units returned from today's sales: each unit's lag and resellability from
   * one uniform derived from `key` (the stream stays put), refunds at today's price (prices[0]).
   */
  private scheduleReturnedUnits(day: number, count: number, key: number, prices: Float64Array): void {
    const price = prices[0] ?? 0;
    const ringMask = this.ringMask;
    const firstReturnDay = day + this.operations.returnMinLagDays;
    const refurbishDays = this.operations.returnRefurbishDays;
    const returnsDue = this.returnsDue;
    const refundsDue = this.refundsDue;
    const restockDue = this.restockDue;
    const lags = this.lags;
    const resellableBelow = lags.resellableBelow;
    for (let unit = 0; unit < count; unit++) {
      // One derived uniform per unit decides its lag and, within the lag, its resellability.
      const unitUniform = derivedUniform(key, unit);
      const lagIndex = lags.lagIndex(unitUniform);
      const slot = (firstReturnDay + lagIndex) & ringMask;
      returnsDue[slot] = returnsDue[slot]! + 1;
      refundsDue[slot] = refundsDue[slot]! + price;
      if (unitUniform < resellableBelow[lagIndex]!) {
        const restockSlot = (firstReturnDay + lagIndex + refurbishDays) & ringMask;
        restockDue[restockSlot] = restockDue[restockSlot]! + 1;
      }
    }
    this.returnsPending += count;
  }
}
