/**
 * MarketSimulation: one e-commerce market, one day per step. The heart of env/.
 *
 * What it models (formulas and sources: docs/market-model.md):
 *   customer segments arriving by Poisson, choosing by multinomial logit among our offer,
 *   each rival's offer and not buying; reference prices with loss aversion; censored demand
 *   (sales capped by stock, lost sales recorded); rivals with strategies, latency, festival
 *   discounts and a sanity ceiling; festivals; weather; returns with lagged refunds and
 *   restocking; inventory with an (s, S) order pipeline; loyal customers who churn.
 *   Textbook single-firm demand (linear, constant elasticity, exponential) replaces the
 *   logit for known-answer scenarios.
 *
 * Order of events each day t (tests rely on it):
 *   1. weather_t (drawn for the whole episode at reset; tomorrow's is the forecast)
 *   2. rival prices_t (set at the end of day t-1 from every firm's prices of t-1, so the
 *      agent observes them before it prices, as a shop that scrapes its rivals does)
 *   3. our price_t (the agent's ladder index, or any price in the multi-firm view)
 *   4. arrivals and choice: units demanded from firm j in segment s are
 *      Poisson(lambda_s,t * P_s(j)), independent across j and s: exactly Binomial(Poisson(lambda), P)
 *      by Poisson thinning. Segments that share a return probability form a group, and only
 *      a group's total matters downstream, so ours are drawn per group as Poisson(sum of the
 *      segments' means) (exact), one stream uniform per group whatever the prices (streams
 *      stay aligned). Rivals' units: their expectation (single-agent view), or Poisson around
 *      it from uniforms derived from the first group's by hashing (multi-firm view)
 *   5. sales = min(demand, stock), pro rata across segment groups; lost sales = the rest
 *   6. reference prices and the loyal base update (after the customers saw today's price)
 *   7. today's sales schedule their returns; returns that fall due today are refunded
 *   8. resellable returns and replenishment orders that arrive today go into stock;
 *      the (s, S) review places an order
 *   9. costs (holding on closing stock, stockout penalty, salvage on the last day) and reward
 *
 * Spaces: action = index into the price ladder (Discrete); observation: see env/observation.ts.
 * Rival firms hold unlimited stock and no returns model; operations are modelled for firm 0.
 * Demand shock (optional, scenario.demandShock): every day's arrivals (all segments, rivals'
 *   expected units, textbook means) are multiplied by the period's Gamma(k, 1/k) shock, drawn
 *   for the whole episode at reset (env/demand-shock.ts): units become NB2 with size k.
 * Randomness: four streams (customers, returns, weather, competitors), fixed draws per day,
 * and a fifth (demand-shocks), drawn at reset only when the scenario has a shock.
 */
import { RandomStream, uniformToKey, derivedUniform } from '../core/random.js';
import { binomialFromUniform, poissonFromUniform, sigmoid } from './sampling.js';
import { fastExp } from './fast-exp.js';
import { ReturnLagSampler } from './return-lags.js';
import { drawWeatherPath } from './weather.js';
import { drawDemandShockPath } from './demand-shock.js';
import { Rival } from './competitors/rival.js';
import { createStrategy } from './competitors/create.js';
import { protocolError } from '../core/errors.js';
import type { MarketModel } from './model.js';
import { EpisodeKpiAccumulator, type EpisodeKpis } from './kpis.js';

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

export class MarketSimulation {
  readonly model: MarketModel;
  readonly firmCount: number;
  readonly outcome: StepOutcome;

  day = 0;
  ended = false;
  stockOnHand = 0;
  stockOnOrder = 0;
  lastPrice = 0;
  lastSold = 0;
  returnsPending = 0;
  /** Every firm's posted price yesterday (ours first). */
  readonly lastPrices: Float64Array;
  /** Rival prices already set for today (index 0 unused). */
  readonly pricesToday: Float64Array;
  readonly referencePrice: Float64Array;
  readonly activeShare: Float64Array;
  readonly weatherStates: Int8Array;
  readonly temperatures: Float64Array;

  private readonly customers = new RandomStream(0, 'customers');
  private readonly returnsStream = new RandomStream(0, 'returns');
  private readonly competitors = new RandomStream(0, 'competitors');
  private readonly weatherStream = new RandomStream(0, 'weather');
  private readonly shockStream = new RandomStream(0, 'demand-shocks');
  /** Arrival multiplier per day (the period's shock); all ones without a shock. */
  private readonly demandShocks: Float64Array;
  private readonly rivals: Rival[];
  private readonly orderPipeline: Float64Array;
  /** Ring buffers have power-of-two sizes and are indexed with `& mask`: a `%` by a variable compiles to an integer division, the slowest instruction of the day. */
  private readonly ringMask: number;
  private readonly pipelineMask: number;
  private readonly changeWindow: number;
  private readonly changeMask: number;
  private readonly returnsDue: Float64Array;
  private readonly refundsDue: Float64Array;
  private readonly restockDue: Float64Array;
  private readonly changeHistory: Uint8Array;
  private changesInWindow = 0;
  private readonly expUtility: Float64Array;
  private readonly returnLags: ReturnLagSampler;
  private readonly rivalQuality: Float64Array;
  private readonly rivalUnitCost: Float64Array;
  /** Return probability per segment and its log-complement, cached for one (price, festive) pair. */
  private readonly returnProbability: Float64Array;
  private readonly returnLogComplement: Float64Array;
  private returnCacheKey = Number.NaN;
  /** returnTable[(festive * ladder + index) * segments + segment]: return probability at ladder prices. */
  private readonly returnTable: Float64Array;
  private readonly returnLogTable: Float64Array;
  /**
   * Segments grouped by return logit offset, so by return probability. Our units demanded
   * and sold are kept per group: nothing downstream of choice tells a group's segments apart.
   */
  private readonly segmentGroup: Int32Array;
  /** A segment of each group, to read the group's return probability. */
  private readonly groupRepresentative: Int32Array;
  private readonly groupMean: Float64Array;
  private readonly groupDemand: Float64Array;
  private readonly groupSold: Float64Array;
  /** Today's expected units demanded from us per segment (for the per-segment breakdown of info only). */
  private readonly segmentMean: Float64Array;
  private readonly ourQuality: number;
  /** Per segment: the largest quality, subtracted from utilities so exp() stays in range. */
  private readonly utilityShift: Float64Array;
  private readonly outsideWeight: Float64Array;
  /** 1 / mu_s per segment: a multiplication on the hot path instead of a division. */
  private readonly inverseScale: Float64Array;
  /** ourWeightTable[segment * ladder + index] = exp((a - b p - shift) / mu) for ladder prices. */
  private readonly ourWeightTable: Float64Array;
  private readonly rivalWeightPrice: Float64Array;
  private readonly rivalWeight: Float64Array;
  private stableDenominator = 1;
  /** Expected arrivals today over all segments and units demanded from us (uncensored), set by drawDemand. */
  private arrivalsToday = 0;
  private demandToday = 0;
  /** Today's first customers uniform (the key of the rivals' derived uniforms in the multi-firm view). */
  private firstGroupUniform = 0;
  /** Draw rivals' units (multi-firm view) or use their expectation (single-agent view). */
  readonly sampleRivalUnits: boolean;
  private readonly kpis: EpisodeKpiAccumulator;
  /** The scenario's operations as scalars on one class: the hot path reads no scenario object (their shapes differ by scenario). */
  private readonly operations: OperationsParameters;

  constructor(model: MarketModel, options: { sampleRivalUnits?: boolean } = {}) {
    this.model = model;
    this.sampleRivalUnits = options.sampleRivalUnits ?? false;
    this.firmCount = 1 + model.rivals.length;
    const firms = this.firmCount;
    this.outcome = emptyOutcome(firms);
    this.lastPrices = new Float64Array(firms);
    this.pricesToday = new Float64Array(firms);
    const segments = Math.max(1, model.segments.length);
    this.referencePrice = new Float64Array(segments);
    this.activeShare = new Float64Array(segments).fill(1);
    this.expUtility = new Float64Array(firms);
    this.weatherStates = new Int8Array(model.horizon + 1);
    this.temperatures = new Float64Array(model.horizon + 1);
    this.demandShocks = new Float64Array(model.horizon + 1).fill(1);
    const firmIndexByName = (name: string) => (name === 'focal' ? 0 : model.rivals.find((rival) => rival.name === name)?.firmIndex);
    this.rivals = model.rivals.map(
      (rival) =>
        new Rival({
          firmIndex: rival.firmIndex,
          unitCost: rival.config.unitCost,
          initialPrice: rival.config.initialPrice,
          latencyDays: rival.config.latencyDays,
          priceCeiling: rival.priceCeiling,
          strategy: createStrategy(rival.config.strategy, model.stageGame ? { firmIndexByName, bestResponder: model.stageGame } : { firmIndexByName }),
        }),
    );
    const replenishment = model.scenario.inventory?.replenishment;
    this.orderPipeline = new Float64Array(powerOfTwoAtLeast((replenishment?.kind === 'periodic-review' ? replenishment.leadTimeDays : 0) + 1));
    this.pipelineMask = this.orderPipeline.length - 1;
    const returns = model.scenario.returns;
    const ringSize = powerOfTwoAtLeast(returns ? returns.maxLagDays + returns.refurbishDays + 2 : 1);
    this.ringMask = ringSize - 1;
    this.returnsDue = new Float64Array(ringSize);
    this.refundsDue = new Float64Array(ringSize);
    this.restockDue = new Float64Array(ringSize);
    this.returnLags = returns
      ? new ReturnLagSampler(returns.minLagDays, returns.maxLagDays, returns.meanLagDays, returns.resellableFraction)
      : new ReturnLagSampler(0, 0, 1, 0);
    this.changeWindow = Math.max(1, ...model.segments.map((segment) => segment.loyalty?.changeWindowDays ?? 1));
    this.changeHistory = new Uint8Array(powerOfTwoAtLeast(this.changeWindow + 1));
    this.changeMask = this.changeHistory.length - 1;
    this.kpis = new EpisodeKpiAccumulator(model);
    this.operations = new OperationsParameters(model);
    this.rivalQuality = Float64Array.from([0, ...model.rivals.map((rival) => rival.quality)]);
    this.rivalUnitCost = Float64Array.from([model.unitCost, ...model.rivals.map((rival) => rival.config.unitCost)]);
    this.returnProbability = new Float64Array(segments);
    this.returnLogComplement = new Float64Array(segments);
    const demand = model.scenario.demand;
    this.ourQuality = demand.kind === 'logit' ? demand.quality : 0;
    const outsideUtility = demand.kind === 'logit' ? demand.outsideUtility : 0;
    const shift = Math.max(this.ourQuality, outsideUtility, ...model.rivals.map((rival) => rival.quality));
    this.utilityShift = new Float64Array(segments).fill(shift);
    this.inverseScale = Float64Array.from(model.segments.map((segment) => 1 / segment.scale));
    this.outsideWeight = Float64Array.from(model.segments.map((segment) => Math.exp((outsideUtility - shift) / segment.scale)));
    const ladder = model.ladder;
    this.ourWeightTable = new Float64Array(model.segments.length * ladder.length);
    model.segments.forEach((segment, segmentIndex) => {
      ladder.forEach((price, index) => {
        this.ourWeightTable[segmentIndex * ladder.length + index] = Math.exp((this.ourQuality - segment.priceSensitivity * price - shift) / segment.scale);
      });
    });
    const offsets = Array.from({ length: segments }, (_, index) => model.segments[index]?.returnLogitOffset ?? 0);
    const distinctOffsets = [...new Set(offsets)];
    this.segmentGroup = Int32Array.from(offsets, (offset) => distinctOffsets.indexOf(offset));
    this.groupRepresentative = Int32Array.from(distinctOffsets, (value) => offsets.indexOf(value));
    this.groupMean = new Float64Array(distinctOffsets.length);
    this.groupDemand = new Float64Array(distinctOffsets.length);
    this.groupSold = new Float64Array(distinctOffsets.length);
    this.segmentMean = new Float64Array(segments);
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
    this.rivalWeightPrice = new Float64Array(segments * firms).fill(Number.NaN);
    this.rivalWeight = new Float64Array(segments * firms);
  }

  /**
   * The slow, always-safe path for extreme parameters where the shifted weights overflow
   * or underflow: logit weights with the largest utility subtracted.
   */
  private stableWeights(segmentIndex: number, price: number, prices: Float64Array): void {
    const segment = this.model.segments[segmentIndex]!;
    const outsideUtility = this.model.scenario.demand.kind === 'logit' ? this.model.scenario.demand.outsideUtility : 0;
    const referencePrice = this.referencePrice[segmentIndex] ?? price;
    let ourUtility = this.ourQuality - segment.priceSensitivity * price;
    if (segment.reference) ourUtility += price < referencePrice ? segment.reference.gain * (referencePrice - price) : -segment.reference.loss * (price - referencePrice);
    const utilities = [ourUtility];
    for (let firm = 1; firm < this.firmCount; firm++) utilities.push((this.rivalQuality[firm] ?? 0) - segment.priceSensitivity * (prices[firm] ?? 0));
    const largest = Math.max(outsideUtility, ...utilities);
    let denominator = Math.exp((outsideUtility - largest) / segment.scale);
    utilities.forEach((utility, firm) => {
      const weight = Math.exp((utility - largest) / segment.scale);
      this.expUtility[firm] = weight;
      denominator += weight;
      if (firm > 0) this.rivalWeightPrice[segmentIndex * this.firmCount + firm] = Number.NaN;
    });
    this.stableDenominator = denominator;
  }

  /** Starts a new episode. The seed fixes every random number the market will draw. */
  reset(seed: number | string): void {
    const model = this.model;
    this.customers.reseed(seed, 'customers');
    this.returnsStream.reseed(seed, 'returns');
    this.competitors.reseed(seed, 'competitors');
    this.weatherStream.reseed(seed, 'weather');
    if (model.demandShock) {
      this.shockStream.reseed(seed, 'demand-shocks');
      drawDemandShockPath(model.demandShock, this.shockStream, this.demandShocks);
    }
    if (model.weather) drawWeatherPath(model.weather, model.calendar, model.temperatureMean, this.weatherStream, this.weatherStates, this.temperatures);
    else for (let day = 0; day <= model.horizon; day++) this.temperatures[day] = model.temperatureMean[Math.min(day, model.horizon - 1)] ?? 15;
    this.day = 0;
    this.ended = false;
    this.stockOnHand = model.scenario.inventory?.initialStock ?? Number.POSITIVE_INFINITY;
    this.stockOnOrder = 0;
    this.orderPipeline.fill(0);
    this.returnsDue.fill(0);
    this.refundsDue.fill(0);
    this.restockDue.fill(0);
    this.returnsPending = 0;
    this.changeHistory.fill(0);
    this.changesInWindow = 0;
    this.activeShare.fill(1);
    model.segments.forEach((segment, index) => {
      this.referencePrice[index] = segment.reference?.initial ?? model.listPrice;
    });
    const middle = model.ladder[Math.floor(model.ladder.length / 2)] ?? model.listPrice;
    this.lastPrice = middle;
    this.lastSold = 0;
    this.lastPrices[0] = middle;
    for (const rival of this.rivals) {
      rival.reset();
      this.lastPrices[rival.firmIndex] = rival.regularPrice;
    }
    this.kpis.reset();
    this.setRivalPricesFor(0);
  }

  /** Single-agent step: our price is a ladder index, rivals follow their strategies. */
  stepIndex(action: number): StepOutcome {
    const price = this.model.ladder[action];
    if (price === undefined || !Number.isInteger(action)) {
      throw protocolError(`expected an action in Discrete(${this.model.ladder.length}) (an integer 0..${this.model.ladder.length - 1}), found ${action}`);
    }
    if (this.ended) throw endedError();
    this.outcome.prices[0] = price; // passed in the array: a float argument is boxed on every call
    return this.advance(action, undefined);
  }

  /**
   * Multi-firm step: prices[0] is ours, prices[k] rival k's. A NaN leaves that rival to its
   * own strategy, so learners and rule rivals can share one market.
   */
  stepPrices(prices: ArrayLike<number>): StepOutcome {
    if (prices.length !== this.firmCount) throw protocolError(`expected ${this.firmCount} prices (one per firm, ours first), found ${prices.length}`);
    const ours = prices[0] ?? Number.NaN;
    if (!(ours > 0) || !Number.isFinite(ours)) throw protocolError(`expected a positive finite price for firm 0, found ${ours}`);
    for (let firm = 1; firm < this.firmCount; firm++) {
      const price = prices[firm] ?? Number.NaN;
      if (!Number.isNaN(price) && !(price > 0 && Number.isFinite(price))) throw protocolError(`expected a positive finite price (or NaN for its strategy) for firm ${firm}, found ${price}`);
    }
    if (this.ended) throw endedError();
    this.outcome.prices[0] = ours;
    return this.advance(-1, prices);
  }

  /**
   * Expected units demanded from us today at `price`, in today's state (weather, rivals'
   * prices, reference prices, loyal base): what an oracle that knows the true model sees.
   * No random number is drawn. Plain Math.exp: this is not the hot path. The demand shock
   * is not seen: this is the expectation over it (its mean is 1).
   */
  expectedUnitsAt(price: number): number {
    const model = this.model;
    const day = Math.min(this.day, model.horizon - 1);
    const demand = model.scenario.demand;
    if (demand.kind !== 'logit') return textbookMean(model, day, price);
    const weekend = (model.calendar.weekday[day] ?? 0) >= 5 ? 1 : 0;
    const weatherState = this.weatherStates[day] ?? 0;
    const temperatureFactor = model.temperatureMultiplier ? model.temperatureMultiplier.valueAt(day, this.temperatures[day] ?? 15) : 1;
    let units = 0;
    model.segments.forEach((segment, index) => {
      const rate = (segment.rates[day] ?? 0) * (segment.weatherMultiplier[weatherState * 2 + weekend] ?? 1) * temperatureFactor * (this.activeShare[index] ?? 1);
      const reference = this.referencePrice[index] ?? price;
      let ours = demand.quality - segment.priceSensitivity * price;
      if (segment.reference) ours += price < reference ? segment.reference.gain * (reference - price) : -segment.reference.loss * (price - reference);
      const utilities = [ours, demand.outsideUtility];
      for (let firm = 1; firm < this.firmCount; firm++) utilities.push((this.rivalQuality[firm] ?? 0) - segment.priceSensitivity * (this.pricesToday[firm] ?? 0));
      const largest = Math.max(...utilities);
      const weights = utilities.map((utility) => Math.exp((utility - largest) / segment.scale));
      units += (rate * (weights[0] ?? 0)) / weights.reduce((total, weight) => total + weight, 0);
    });
    return units;
  }

  /** Today's return probability of a unit sold at `price` (sales-weighted over segments by their arrival rates). */
  returnProbabilityAt(price: number): number {
    if (!this.model.scenario.returns) return 0;
    const day = Math.min(this.day, this.model.horizon - 1);
    const festive = this.model.festivals.eventDay[day] === 1 || this.model.festivals.presaleDay[day] === 1 ? 1 : 0;
    const segments = Math.max(1, this.model.segments.length);
    let weighted = 0;
    let total = 0;
    for (let segment = 0; segment < segments; segment++) {
      const weight = this.model.segments[segment]?.rates[day] ?? 1;
      weighted += weight * this.segmentReturnProbability(price, festive, segment);
      total += weight;
    }
    return total > 0 ? weighted / total : 0;
  }

  /** Mean reference price over the segments that keep one (the list price if none does). */
  /**
   * Today's units by segment: demanded, sold and lost. Segments that share a return
   * probability are drawn pooled (one Poisson per group), so a group's units are split
   * across its segments in proportion to their expected demand today: exact in
   * expectation, not a draw (no random number is used, so nothing shifts). For display
   * and logging; the market itself never needs it.
   */
  segmentUnits(): { name: string; demand: number; sold: number; lostSales: number }[] {
    const segments = this.model.segments;
    if (segments.length === 0) return [];
    const groupTotal = this.groupMean; // cleared after each day's draw: free to use as scratch
    for (let segment = 0; segment < segments.length; segment++) groupTotal[this.segmentGroup[segment] ?? 0]! += this.segmentMean[segment] ?? 0;
    const units = new Array<{ name: string; demand: number; sold: number; lostSales: number }>(segments.length);
    for (let segment = 0; segment < segments.length; segment++) {
      const group = this.segmentGroup[segment] ?? 0;
      const total = groupTotal[group] ?? 0;
      const share = total > 0 ? (this.segmentMean[segment] ?? 0) / total : 0;
      const demand = (this.groupDemand[group] ?? 0) * share;
      const sold = (this.groupSold[group] ?? 0) * share;
      units[segment] = { name: segments[segment]?.name ?? `segment ${segment}`, demand, sold, lostSales: demand - sold };
    }
    groupTotal.fill(0);
    return units;
  }

  meanReferencePrice(): number {
    let sum = 0;
    let count = 0;
    for (let index = 0; index < this.model.segments.length; index++) {
      if (!this.model.segments[index]!.reference) continue;
      sum += this.referencePrice[index] ?? 0;
      count++;
    }
    return count === 0 ? this.model.listPrice : sum / count;
  }

  /** The episode's KPIs so far (complete once the episode has ended). */
  episodeKpis(): EpisodeKpis {
    return this.kpis.summary(this);
  }

  /** One day, in the order of events. Our price is outcome.prices[0], set by the caller. */
  private advance(ladderIndex: number, overrides: ArrayLike<number> | undefined): StepOutcome {
    const model = this.model;
    const outcome = this.outcome;
    const day = this.day;
    const firms = this.firmCount;
    const prices = outcome.prices;
    const price = prices[0] ?? 0;
    for (let firm = 1; firm < firms; firm++) {
      const override = overrides?.[firm] ?? Number.NaN;
      prices[firm] = Number.isNaN(override) ? (this.pricesToday[firm] ?? 0) : override;
    }
    const weatherState = this.weatherStates[day] ?? 0;
    const temperature = this.temperatures[day] ?? 15;
    const eventDay = model.festivals.eventDay[day] === 1;
    const presaleDay = model.festivals.presaleDay[day] === 1;
    const firmDemand = outcome.firmDemand;
    for (let firm = 0; firm < firms; firm++) firmDemand[firm] = 0;

    // 4. arrivals and choice
    this.drawDemand(day, ladderIndex, weatherState);
    const demand = this.demandToday;
    const arrivals = this.arrivalsToday;

    // 5. sales capped by stock
    const sold = Math.min(demand, this.stockOnHand);
    const lostSales = demand - sold;
    this.stockOnHand -= sold;
    const soldShare = demand > 0 ? sold / demand : 0;
    allocateSales(this.groupDemand, this.groupSold, sold, soldShare, model.deterministic, this.groupDemand.length);
    const revenue = price * sold;
    const costOfGoods = model.unitCost * sold;

    // 6. reference prices and loyalty
    let customersLost = 0;
    const priceChanged = day > 0 && Math.abs(price - this.lastPrice) > 1e-9 ? 1 : 0;
    // Changes over the last `changeWindow` days: add today's, drop the one that left the window.
    this.changeHistory[day & this.changeMask] = priceChanged;
    this.changesInWindow += priceChanged - (day >= this.changeWindow ? (this.changeHistory[(day - this.changeWindow) & this.changeMask] ?? 0) : 0);
    for (let segmentIndex = 0; segmentIndex < model.segments.length; segmentIndex++) {
      const segment = model.segments[segmentIndex]!;
      const reference = this.referencePrice[segmentIndex] ?? price;
      const loyalty = segment.loyalty;
      if (loyalty) {
        const active = this.activeShare[segmentIndex] ?? 1;
        const premium = price / reference - 1;
        let churn = loyalty.churnRate * Math.max(0, premium - loyalty.premiumThreshold) * active;
        if (this.changesInWindow > loyalty.maxChangesInWindow) churn += loyalty.changeChurnRate * active;
        churn = Math.min(churn, active);
        const recovery = churn === 0 && premium <= loyalty.premiumThreshold ? loyalty.recoveryRate * (1 - active) : 0;
        this.activeShare[segmentIndex] = active - churn + recovery;
        customersLost += churn * loyalty.population;
      }
      if (segment.reference) this.referencePrice[segmentIndex] = segment.reference.memory * reference + (1 - segment.reference.memory) * price;
    }

    // 7. returns: schedule today's, book those due today (into outcome.unitsReturned, refunds, unitsRestocked, handlingCost)
    this.processReturns(day, ladderIndex, eventDay || presaleDay ? 1 : 0);
    const unitsReturned = outcome.unitsReturned;
    const refunds = outcome.refunds;
    const unitsRestocked = outcome.unitsRestocked;
    const handlingCost = outcome.handlingCost;

    // 8. stock arrivals and ordering
    this.stockOnHand += unitsRestocked;
    const restockedValue = model.unitCost * unitsRestocked;
    let unitsArrivedFromOrders = 0;
    let unitsOrdered = 0;
    const operations = this.operations;
    if (operations.periodicReview) {
      const pipelineSlot = day & this.pipelineMask;
      unitsArrivedFromOrders = this.orderPipeline[pipelineSlot] ?? 0;
      this.orderPipeline[pipelineSlot] = 0;
      this.stockOnHand += unitsArrivedFromOrders;
      this.stockOnOrder -= unitsArrivedFromOrders;
      if (model.reviewDay[day] === 1) {
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

    // 9. costs and reward
    const lastDay = day === model.horizon - 1;
    const finiteStock = operations.finiteStock;
    const holdingCost = finiteStock ? operations.holdingCost * this.stockOnHand : 0;
    const stockoutPenalty = finiteStock ? operations.stockoutPenalty * lostSales : 0;
    const salvage = finiteStock && lastDay ? (operations.salvageValue - model.unitCost) * (this.stockOnHand + this.stockOnOrder) : 0;
    const profit = revenue - refunds - costOfGoods + restockedValue - holdingCost - handlingCost - stockoutPenalty + salvage;
    const churnPenalty = operations.objective === OBJECTIVE_PROFIT_WITH_CHURN_PENALTY ? operations.penaltyPerCustomer * customersLost : 0;
    const reward = operations.objective === OBJECTIVE_REVENUE ? revenue - refunds : profit - churnPenalty;
    const terminated = operations.sellsOut && this.stockOnHand <= 0 && this.returnsPending <= 0;

    outcome.day = day;
    outcome.price = price;
    outcome.arrivals = arrivals;
    outcome.demand = demand;
    outcome.sold = sold;
    outcome.lostSales = lostSales;
    outcome.revenue = revenue;
    outcome.refunds = refunds;
    outcome.costOfGoods = costOfGoods;
    outcome.restockedValue = restockedValue;
    outcome.holdingCost = holdingCost;
    outcome.handlingCost = handlingCost;
    outcome.stockoutPenalty = stockoutPenalty;
    outcome.salvage = salvage;
    outcome.churnPenalty = churnPenalty;
    outcome.profit = profit;
    outcome.reward = reward;
    outcome.unitsReturned = unitsReturned;
    outcome.unitsRestocked = unitsRestocked;
    outcome.unitsArrivedFromOrders = unitsArrivedFromOrders;
    outcome.unitsOrdered = unitsOrdered;
    outcome.stockOnHand = this.stockOnHand;
    outcome.stockOnOrder = this.stockOnOrder;
    outcome.customersLost = customersLost;
    outcome.weatherState = weatherState;
    outcome.temperature = temperature;
    outcome.eventDay = eventDay;
    outcome.presaleDay = presaleDay;
    outcome.terminated = terminated;
    outcome.lastDay = lastDay;
    const firmProfit = outcome.firmProfit;
    firmProfit[0] = profit;
    for (let firm = 1; firm < firms; firm++) firmProfit[firm] = ((prices[firm] ?? 0) - (this.rivalUnitCost[firm] ?? 0)) * (firmDemand[firm] ?? 0);

    this.kpis.record(outcome, priceChanged);
    this.lastPrice = price;
    this.lastSold = sold;
    for (let firm = 0; firm < firms; firm++) this.lastPrices[firm] = prices[firm] ?? 0;
    this.day = day + 1;
    if (terminated || lastDay) this.ended = true;
    else this.setRivalPricesFor(this.day);
    return outcome;
  }

  /**
   * Step 4 of the day: arrivals and choice. Fills groupDemand and outcome.firmDemand,
   * sets arrivalsToday and demandToday (units demanded from us, uncensored). A method of
   * its own so that V8 optimises it with its own inlining budget (see docs/performance.md).
   */
  private drawDemand(day: number, ladderIndex: number, weatherState: number): void {
    const model = this.model;
    // Prices and temperature read from arrays, not passed: a float argument is boxed on every call.
    const prices = this.outcome.prices;
    const price = prices[0] ?? 0;
    const temperature = this.temperatures[day] ?? 15;
    const shock = this.demandShocks[day] ?? 1;
    const firms = this.firmCount;
    const firmDemand = this.outcome.firmDemand;
    const groupMean = this.groupMean;
    const sampleRivals = this.sampleRivalUnits && !model.deterministic;
    let arrivals = 0;
    let demand: number;
    const segmentCount = model.segments.length;
    if (segmentCount > 0) {
      const weekend = (model.calendar.weekday[day] ?? 0) >= 5 ? 1 : 0;
      // The period's demand shock rides on the temperature factor: one multiplication of every segment's arrivals.
      const temperatureFactor = (model.temperatureMultiplier ? model.temperatureMultiplier.valueAt(day, temperature) : 1) * shock;
      const ladderSize = model.ladder.length;
      for (let segmentIndex = 0; segmentIndex < segmentCount; segmentIndex++) {
        const segment = model.segments[segmentIndex]!;
        const rate =
          (segment.rates[day] ?? 0) * (segment.weatherMultiplier[weatherState * 2 + weekend] ?? 1) * temperatureFactor * (this.activeShare[segmentIndex] ?? 1);
        arrivals += rate;
        // Logit weights exp((v - shift) / mu): ours from a table for ladder prices, rivals'
        // cached while their price holds, the outside option's constant. Transcendental
        // calls dominate the day's cost, so each is computed only when its input changed.
        const inverseScale = this.inverseScale[segmentIndex] ?? 1;
        let ourWeight =
          ladderIndex >= 0
            ? (this.ourWeightTable[segmentIndex * ladderSize + ladderIndex] ?? 0)
            : fastExp((this.ourQuality - segment.priceSensitivity * price - (this.utilityShift[segmentIndex] ?? 0)) * inverseScale);
        const reference = segment.reference;
        if (reference) {
          const referencePrice = this.referencePrice[segmentIndex] ?? price;
          const referenceTerm = price < referencePrice ? reference.gain * (referencePrice - price) : -reference.loss * (price - referencePrice);
          if (referenceTerm !== 0) ourWeight *= fastExp(referenceTerm * inverseScale);
        }
        this.expUtility[0] = ourWeight;
        let denominator = (this.outsideWeight[segmentIndex] ?? 0) + ourWeight;
        for (let firm = 1; firm < firms; firm++) {
          const slot = segmentIndex * firms + firm;
          const rivalPrice = prices[firm] ?? 0;
          if (this.rivalWeightPrice[slot] !== rivalPrice) {
            this.rivalWeightPrice[slot] = rivalPrice;
            this.rivalWeight[slot] = fastExp(((this.rivalQuality[firm] ?? 0) - segment.priceSensitivity * rivalPrice - (this.utilityShift[segmentIndex] ?? 0)) * inverseScale);
          }
          const weight = this.rivalWeight[slot] ?? 0;
          this.expUtility[firm] = weight;
          denominator += weight;
        }
        if (!(denominator > 0 && denominator < Number.POSITIVE_INFINITY)) this.stableWeights(segmentIndex, price, prices);
        const scaledRate = rate / (denominator > 0 && denominator < Number.POSITIVE_INFINITY ? denominator : this.stableDenominator);
        // Ours: drawn from one stream uniform per segment. Rivals: at their expectation in the
        // single-agent view; drawn in the multi-firm view from uniforms derived from ours by
        // hashing, so the stream advances by one uniform per segment in both views.
        // Ours: pooled into the segment's group (drawn below). Rivals: at their expectation,
        // summed over segments (drawn below in the multi-firm view).
        const group = this.segmentGroup[segmentIndex] ?? 0;
        const segmentMean = scaledRate * (this.expUtility[0] ?? 0);
        this.segmentMean[segmentIndex] = segmentMean;
        groupMean[group] = (groupMean[group] ?? 0) + segmentMean;
        for (let firm = 1; firm < firms; firm++) firmDemand[firm] = (firmDemand[firm] ?? 0) + scaledRate * (this.expUtility[firm] ?? 0);
      }
      demand = this.drawGroupDemand(model.deterministic);
      firmDemand[0] = demand;
      if (sampleRivals) {
        // Rivals' units: Poisson around their summed expectation, from uniforms derived from the
        // first group's (salted: the unsalted key's derived uniforms split large means, sampling.ts).
        const key = (uniformToKey(this.firstGroupUniform) ^ RIVAL_UNITS_SALT) >>> 0;
        for (let firm = 1; firm < firms; firm++) firmDemand[firm] = poissonFromUniform(firmDemand[firm] ?? 0, derivedUniform(key, firm));
      }
    } else {
      const mean = textbookMean(model, day, price) * shock;
      const uniform = this.customers.next();
      arrivals = mean;
      demand = model.deterministic ? mean : textbookDraw(model, mean, uniform);
      this.groupDemand[0] = demand;
      firmDemand[0] = demand;
    }

    this.arrivalsToday = arrivals;
    this.demandToday = demand;
  }

  /**
   * Units demanded from us: one Poisson per group of segments (a sum of independent Poissons
   * is the Poisson of the summed mean: exact), by inversion of one stream uniform per group.
   * Reads and clears groupMean, fills groupDemand, returns the total (an integer: no boxing).
   */
  private drawGroupDemand(deterministic: boolean): number {
    const groupMean = this.groupMean;
    let demand = 0;
    for (let group = 0; group < groupMean.length; group++) {
      const mean = groupMean[group] ?? 0;
      groupMean[group] = 0;
      const uniform = this.customers.next();
      if (group === 0) this.firstGroupUniform = uniform;
      const groupDemand = deterministic ? mean : poissonFromUniform(mean, uniform);
      this.groupDemand[group] = groupDemand;
      demand += groupDemand;
    }
    return demand;
  }

  /**
   * Step 7 of the day: today's sales schedule their returns (a binomial per segment, then
   * each returned unit's lag and resellability); the returns that fall due today are booked
   * into outcome.unitsReturned, refunds, unitsRestocked and handlingCost. A method of its own
   * so that V8 optimises it with its own inlining budget.
   */
  private processReturns(day: number, ladderIndex: number, festive: number): void {
    const outcome = this.outcome;
    const price = outcome.prices[0] ?? 0;
    if (!this.operations.hasReturns) {
      outcome.unitsReturned = 0;
      outcome.refunds = 0;
      outcome.unitsRestocked = 0;
      outcome.handlingCost = 0;
      return;
    }
    const returnSegments = Math.max(1, this.model.segments.length);
    // Return probabilities: straight from the table at ladder prices, else computed and cached.
    let probabilities = this.returnTable;
    let logComplements = this.returnLogTable;
    let offset = (festive * this.model.ladder.length + ladderIndex) * returnSegments;
    if (ladderIndex < 0) {
      this.setReturnProbabilities(price, festive);
      probabilities = this.returnProbability;
      logComplements = this.returnLogComplement;
      offset = 0;
    }
    const deterministic = this.model.deterministic;
    let returned = 0;
    let key = 0;
    // One binomial per group: its segments share a return probability, and a sum of binomials
    // with a common probability is one binomial over their units (exact). One uniform per group.
    for (let group = 0; group < this.groupSold.length; group++) {
      const uniform = this.returnsStream.next();
      const units = this.groupSold[group] ?? 0;
      if (!(units > 0)) continue;
      const representative = this.groupRepresentative[group] ?? 0;
      const probability = probabilities[offset + representative] ?? 0;
      if (deterministic) {
        this.scheduleExpectedReturns(day, units * probability, price);
        continue;
      }
      const count = binomialFromUniform(units, probability, uniform, logComplements[offset + representative]);
      if (count > 0 && returned === 0) key = uniformToKey(uniform);
      returned += count;
    }
    if (returned > 0) this.scheduleReturnedUnits(day, returned, key | 0);
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

  /**
   * Today's return probability per segment at a price off the ladder, sigmoid(t0 + t1 depth
   * + t2 festive + t_s), and its log-complement, kept while the (price, festive) pair holds.
   * Ladder prices read returnTable instead.
   */
  private setReturnProbabilities(price: number, festive: number): void {
    const segments = this.returnProbability.length;
    const cacheKey = festive === 1 ? -price : price;
    if (cacheKey === this.returnCacheKey) return;
    for (let segment = 0; segment < segments; segment++) {
      const probability = this.segmentReturnProbability(price, festive, segment);
      this.returnProbability[segment] = probability;
      this.returnLogComplement[segment] = Math.log1p(-probability);
    }
    this.returnCacheKey = cacheKey;
  }

  private segmentReturnProbability(price: number, festive: number, segment: number): number {
    const returns = this.model.scenario.returns;
    if (!returns) return 0;
    const discountDepth = Math.max(0, 1 - price / this.model.listPrice);
    const offset = this.model.segments[segment]?.returnLogitOffset ?? 0;
    return sigmoid(returns.baseLogit + returns.discountLogit * discountDepth + returns.festivalLogit * festive + offset);
  }

  /** Draws the rivals' prices for `day` from every firm's prices of the day before. */
  private setRivalPricesFor(day: number): void {
    const discount = this.model.festivals.competitorDiscount[day] ?? 0;
    for (const rival of this.rivals) {
      const uniform = this.competitors.next();
      this.pricesToday[rival.firmIndex] = rival.priceToday(day, this.lastPrices, discount, uniform);
    }
  }

  /** Deterministic scenarios: the expected returns spread over the lags, refunded at the price paid. */
  private scheduleExpectedReturns(day: number, expected: number, price: number): void {
    const returns = this.model.scenario.returns!;
    const cumulative = this.returnLags.cumulative;
    let previous = 0;
    for (let lagIndex = 0; lagIndex < cumulative.length; lagIndex++) {
      const share = (cumulative[lagIndex] ?? 1) - previous;
      previous = cumulative[lagIndex] ?? 1;
      this.bookReturn(day + returns.minLagDays + lagIndex, expected * share, price, expected * share * returns.resellableFraction);
    }
    this.returnsPending += expected;
  }

  /**
   * Books `count` units returned from today's sales: each unit's lag and resellability from
   * one uniform derived from `key` (the stream stays put), refunds at today's price (prices[0]).
   */
  private scheduleReturnedUnits(day: number, count: number, key: number): void {
    const price = this.outcome.prices[0] ?? 0;
    const ringMask = this.ringMask;
    const firstReturnDay = day + this.operations.returnMinLagDays;
    const refurbishDays = this.operations.returnRefurbishDays;
    const returnsDue = this.returnsDue;
    const refundsDue = this.refundsDue;
    const restockDue = this.restockDue;
    const lags = this.returnLags;
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

  private bookReturn(returnDay: number, units: number, price: number, resellableUnits: number): void {
    const slot = returnDay & this.ringMask;
    this.returnsDue[slot] = (this.returnsDue[slot] ?? 0) + units;
    this.refundsDue[slot] = (this.refundsDue[slot] ?? 0) + units * price;
    if (resellableUnits > 0) {
      const restockSlot = (returnDay + (this.model.scenario.returns?.refurbishDays ?? 0)) & this.ringMask;
      this.restockDue[restockSlot] = (this.restockDue[restockSlot] ?? 0) + resellableUnits;
    }
  }
}

const OBJECTIVE_PROFIT = 0;
const OBJECTIVE_REVENUE = 1;
const OBJECTIVE_PROFIT_WITH_CHURN_PENALTY = 2;

/**
 * Inventory, returns and objective parameters read on every day, copied from the scenario
 * once. Every field is always set, so every market of every scenario has one object shape:
 * V8 keeps the day's property loads monomorphic when a process runs several scenarios.
 */
class OperationsParameters {
  readonly finiteStock: boolean;
  readonly periodicReview: boolean;
  /** Replenishment 'none': the market ends once stock and pending returns are gone. */
  readonly sellsOut: boolean;
  readonly reorderPoint: number;
  readonly orderUpTo: number;
  readonly leadTimeDays: number;
  readonly holdingCost: number;
  readonly stockoutPenalty: number;
  readonly salvageValue: number;
  readonly hasReturns: boolean;
  readonly returnHandlingCost: number;
  readonly returnMinLagDays: number;
  readonly returnRefurbishDays: number;
  readonly objective: number;
  readonly penaltyPerCustomer: number;

  constructor(model: MarketModel) {
    const inventory = model.scenario.inventory;
    const replenishment = inventory?.replenishment;
    this.finiteStock = inventory !== undefined;
    this.periodicReview = replenishment?.kind === 'periodic-review';
    this.sellsOut = replenishment?.kind === 'none';
    this.reorderPoint = replenishment?.kind === 'periodic-review' ? replenishment.reorderPoint : 0;
    this.orderUpTo = replenishment?.kind === 'periodic-review' ? replenishment.orderUpTo : 0;
    this.leadTimeDays = replenishment?.kind === 'periodic-review' ? replenishment.leadTimeDays : 0;
    this.holdingCost = inventory?.holdingCost ?? 0;
    this.stockoutPenalty = inventory?.stockoutPenalty ?? 0;
    this.salvageValue = inventory?.salvageValue ?? 0;
    const returns = model.scenario.returns;
    this.hasReturns = returns !== undefined;
    this.returnHandlingCost = returns?.handlingCost ?? 0;
    this.returnMinLagDays = returns?.minLagDays ?? 0;
    this.returnRefurbishDays = returns?.refurbishDays ?? 0;
    const objective = model.scenario.objective;
    this.objective = objective.kind === 'revenue' ? OBJECTIVE_REVENUE : objective.kind === 'profit-with-churn-penalty' ? OBJECTIVE_PROFIT_WITH_CHURN_PENALTY : OBJECTIVE_PROFIT;
    this.penaltyPerCustomer = objective.kind === 'profit-with-churn-penalty' ? objective.penaltyPerCustomer : 0;
  }
}

function endedError() {
  return protocolError('the episode has ended: call reset() before step()');
}

/** XORed into a segment's uniform key before deriving the rivals' uniforms from it. */
const RIVAL_UNITS_SALT = 0x5bd1e995;

function powerOfTwoAtLeast(size: number): number {
  let power = 1;
  while (power < size) power *= 2;
  return power;
}

function allocateSales(demand: Float64Array, sold: Float64Array, totalSold: number, share: number, deterministic: boolean, segments: number): void {
  if (share >= 1 || deterministic) {
    for (let index = 0; index < segments; index++) sold[index] = (demand[index] ?? 0) * share;
    return;
  }
  // Censored: whole units pro rata, the remainder to the first segments with unmet demand.
  let allocated = 0;
  for (let index = 0; index < segments; index++) {
    const units = Math.floor((demand[index] ?? 0) * share);
    sold[index] = units;
    allocated += units;
  }
  for (let index = 0; index < segments && allocated < totalSold; index++) {
    if ((sold[index] ?? 0) < (demand[index] ?? 0)) {
      sold[index] = (sold[index] ?? 0) + 1;
      allocated++;
    }
  }
}

function textbookMean(model: MarketModel, day: number, price: number): number {
  const demand = model.scenario.demand;
  const factor = model.textbookRates[day] ?? 1;
  switch (demand.kind) {
    case 'linear':
      return Math.max(0, demand.intercept - demand.slope * price) * factor;
    case 'constant-elasticity':
      return demand.scale * Math.pow(price, demand.elasticity) * factor;
    case 'exponential':
      return demand.scale * demand.periodLength * Math.exp(-demand.sensitivity * price) * factor;
    case 'logit':
      return 0;
  }
}

function textbookDraw(model: MarketModel, mean: number, uniform: number): number {
  const demand = model.scenario.demand;
  if (demand.kind === 'exponential' && demand.arrivals === 'at-most-one') return uniform < mean ? 1 : 0;
  if ((demand.kind === 'linear' || demand.kind === 'constant-elasticity') && demand.noise === 'none') return mean;
  return poissonFromUniform(mean, uniform);
}

function emptyOutcome(firms: number): StepOutcome {
  return {
    day: 0, price: 0, prices: new Float64Array(firms), firmDemand: new Float64Array(firms), firmProfit: new Float64Array(firms),
    arrivals: 0, demand: 0, sold: 0, lostSales: 0, revenue: 0, refunds: 0, costOfGoods: 0, restockedValue: 0, holdingCost: 0,
    handlingCost: 0, stockoutPenalty: 0, salvage: 0, churnPenalty: 0, profit: 0, reward: 0, unitsReturned: 0, unitsRestocked: 0,
    unitsArrivedFromOrders: 0, unitsOrdered: 0, stockOnHand: 0, stockOnOrder: 0, customersLost: 0, weatherState: 0, temperature: 0,
    eventDay: false, presaleDay: false, terminated: false, lastDay: false,
  };
}
