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
 * Order of events each day t (tests rely on it), one stage module each (env/day/):
 *   1. weather_t (drawn for the whole episode at reset; tomorrow's is the forecast)
 *   2. rival prices_t (set at the end of day t-1 from every firm's prices of t-1, so the
 *      agent observes them before it prices, as a shop that scrapes its rivals does)
 *   3. our price_t (the agent's ladder index, or any price in the multi-firm view)
 *   4. arrivals and choice (demand.ts): our units drawn per segment group, rivals' at their
 *      expectation (or drawn, in the multi-firm view)
 *   5. sales = min(demand, stock), pro rata across segment groups; lost sales = the rest (inventory.ts)
 *   6. reference prices and the loyal base update, after the customers saw today's price (loyalty.ts)
 *   7. today's sales schedule their returns; returns that fall due today are refunded (returns.ts)
 *   8. resellable returns and replenishment orders that arrive today go into stock;
 *      the (s, S) review places an order (inventory.ts)
 *   9. costs (holding on closing stock, stockout penalty, salvage on the last day: inventory.ts,
 *      charged at the end of step 8) and reward (outcome.ts)
 *
 * Spaces: action = index into the price ladder (Discrete); observation: see env/observation.ts.
 * Rival firms hold unlimited stock and no returns model; operations are modelled for firm 0.
 * Demand shock (optional, scenario.demandShock): every day's arrivals (all segments, rivals'
 *   expected units, textbook means) are multiplied by the period's Gamma(k, 1/k) shock, drawn
 *   for the whole episode at reset (env/demand-shock.ts): units become NB2 with size k.
 * Randomness: four streams (customers: demand.ts, returns: returns.ts, weather, competitors),
 * fixed draws per day, and a fifth (demand-shocks), drawn at reset only when the scenario has a shock.
 */
import { RandomStream } from '../core/random.js';
import { drawWeatherPath } from './weather.js';
import { drawDemandShockPath } from './demand-shock.js';
import { Rival } from './competitors/rival.js';
import { createStrategy } from './competitors/create.js';
import { protocolError } from '../core/errors.js';
import type { MarketModel } from './model.js';
import { EpisodeKpiAccumulator, type EpisodeKpis } from './kpis.js';
import { DemandStage, type UnitsBySegment } from './day/demand.js';
import { InventoryStage } from './day/inventory.js';
import { LoyaltyStage } from './day/loyalty.js';
import { OperationsParameters } from './day/operations.js';
import { emptyOutcome, settleReward, type RewardTerms, type StepOutcome } from './day/outcome.js';
import { ReturnsStage } from './day/returns.js';
import { SegmentGroups } from './day/segment-groups.js';

export type { RewardTerms, StepOutcome };

export class MarketSimulation {
  readonly model: MarketModel;
  readonly firmCount: number;
  readonly outcome: StepOutcome;

  day = 0;
  ended = false;
  lastPrice = 0;
  lastSold = 0;
  /** Every firm's posted price yesterday (ours first). */
  readonly lastPrices: Float64Array;
  /** Rival prices already set for today (index 0 unused). */
  readonly pricesToday: Float64Array;
  readonly weatherStates: Int8Array;
  readonly temperatures: Float64Array;
  /** Reference price per segment (env/day/loyalty.ts). */
  readonly referencePrice: Float64Array;
  /** Share of each segment's customers still active (env/day/loyalty.ts). */
  readonly activeShare: Float64Array;
  /** Draw rivals' units (multi-firm view) or use their expectation (single-agent view). */
  readonly sampleRivalUnits: boolean;

  private readonly demand: DemandStage;
  private readonly inventory: InventoryStage;
  private readonly loyalty: LoyaltyStage;
  private readonly returns: ReturnsStage;
  private readonly operations: OperationsParameters;
  private readonly competitors = new RandomStream(0, 'competitors');
  private readonly weatherStream = new RandomStream(0, 'weather');
  private readonly shockStream = new RandomStream(0, 'demand-shocks');
  /** Arrival multiplier per day (the period's shock); all ones without a shock. */
  private readonly demandShocks: Float64Array;
  private readonly rivals: Rival[];
  /** Unit cost per firm (ours first). */
  private readonly firmUnitCost: Float64Array;
  private readonly kpis: EpisodeKpiAccumulator;
  /** 1 if our price today differs from yesterday's (never on day 0), else 0: read by loyalty and the KPIs. */
  private priceChanged = 0;

  constructor(model: MarketModel, options: { sampleRivalUnits?: boolean } = {}) {
    this.model = model;
    this.sampleRivalUnits = options.sampleRivalUnits ?? false;
    this.firmCount = 1 + model.rivals.length;
    const firms = this.firmCount;
    this.outcome = emptyOutcome(firms);
    this.lastPrices = new Float64Array(firms);
    this.pricesToday = new Float64Array(firms);
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
    this.firmUnitCost = Float64Array.from([model.unitCost, ...model.rivals.map((rival) => rival.config.unitCost)]);
    this.kpis = new EpisodeKpiAccumulator(model);
    this.operations = new OperationsParameters(model);
    const groups = new SegmentGroups(model);
    this.loyalty = new LoyaltyStage(model);
    this.referencePrice = this.loyalty.referencePrice;
    this.activeShare = this.loyalty.activeShare;
    this.demand = new DemandStage(
      model,
      groups,
      { outcome: this.outcome, referencePrice: this.referencePrice, activeShare: this.activeShare, temperatures: this.temperatures, demandShocks: this.demandShocks },
      this.sampleRivalUnits,
    );
    this.inventory = new InventoryStage(model, this.operations, groups.count);
    this.returns = new ReturnsStage(model, this.operations, groups);
  }

  /** Stock on hand after the last day (Infinity without an inventory). */
  get stockOnHand(): number {
    return this.inventory.stockOnHand;
  }

  get stockOnOrder(): number {
    return this.inventory.stockOnOrder;
  }

  /** Units sold that may still be returned. */
  get returnsPending(): number {
    return this.returns.returnsPending;
  }

  /** Starts a new episode. The seed fixes every random number the market will draw. */
  reset(seed: number | string): void {
    const model = this.model;
    this.demand.reset(seed);
    this.returns.reset(seed);
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
    this.inventory.reset();
    this.loyalty.reset();
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
    if (price === undefined || !Number.isInteger(action)) throw actionError(this.model.ladder.length, action);
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
   * No random number is drawn; the demand shock is averaged over (env/day/demand.ts).
   */
  expectedUnitsAt(price: number): number {
    const day = Math.min(this.day, this.model.horizon - 1);
    return this.demand.expectedUnitsAt(day, price, this.weatherStates[day] ?? 0, this.pricesToday);
  }

  /** Today's return probability of a unit sold at `price` (sales-weighted over segments by their arrival rates). */
  returnProbabilityAt(price: number): number {
    return this.returns.returnProbabilityAt(Math.min(this.day, this.model.horizon - 1), price);
  }

  /**
   * Today's units by segment: demanded, sold and lost (a group's units split by its
   * segments' expected shares: env/day/demand.ts). For display and logging.
   */
  segmentUnits(): UnitsBySegment[] {
    return this.demand.segmentUnits(this.inventory.groupSold);
  }

  /** Mean reference price over the segments that keep one (the list price if none does). */
  meanReferencePrice(): number {
    return this.loyalty.meanReferencePrice();
  }

  /** The episode's KPIs so far (complete once the episode has ended). */
  episodeKpis(): EpisodeKpis {
    return this.kpis.summary(this);
  }

  /** One day, in the order of events: one stage call each. Our price is outcome.prices[0], set by the caller. */
  private advance(ladderIndex: number, overrides: ArrayLike<number> | undefined): StepOutcome {
    const outcome = this.outcome;
    const day = this.day;
    this.postPrices(day, overrides); // 1-3: today's weather and festivals, every firm's price
    this.demand.draw(day, ladderIndex, outcome.weatherState); // 4
    this.inventory.sell(outcome, this.demand.groupDemand); // 5
    this.loyalty.update(day, this.priceChanged, outcome); // 6
    this.returns.process(day, ladderIndex, outcome.eventDay || outcome.presaleDay ? 1 : 0, this.inventory.groupSold, outcome); // 7
    this.inventory.receiveAndOrder(day, outcome); // 8, and 9's stock costs
    settleReward(outcome, this.operations, this.firmUnitCost); // 9: reward
    this.endDay(day);
    return outcome;
  }

  /** Steps 1-3: today's conditions into the outcome; rivals' prices (or the caller's overrides) beside ours; whether our price changed. */
  private postPrices(day: number, overrides: ArrayLike<number> | undefined): void {
    const model = this.model;
    const outcome = this.outcome;
    const prices = outcome.prices;
    for (let firm = 1; firm < this.firmCount; firm++) {
      const override = overrides?.[firm] ?? Number.NaN;
      prices[firm] = Number.isNaN(override) ? (this.pricesToday[firm] ?? 0) : override;
    }
    outcome.day = day;
    outcome.price = prices[0] ?? 0;
    outcome.weatherState = this.weatherStates[day] ?? 0;
    outcome.temperature = this.temperatures[day] ?? 15;
    outcome.eventDay = model.festivals.eventDay[day] === 1;
    outcome.presaleDay = model.festivals.presaleDay[day] === 1;
    outcome.lastDay = day === model.horizon - 1;
    this.priceChanged = day > 0 && Math.abs(outcome.price - this.lastPrice) > 1e-9 ? 1 : 0;
  }

  /** The day's bookkeeping: termination, KPIs, yesterday's prices, and tomorrow's rival prices. */
  private endDay(day: number): void {
    const outcome = this.outcome;
    const terminated = this.operations.sellsOut && this.inventory.stockOnHand <= 0 && this.returns.returnsPending <= 0;
    outcome.terminated = terminated;
    this.kpis.record(outcome, this.priceChanged);
    this.lastPrice = outcome.price;
    this.lastSold = outcome.sold;
    const prices = outcome.prices;
    for (let firm = 0; firm < this.firmCount; firm++) this.lastPrices[firm] = prices[firm] ?? 0;
    this.day = day + 1;
    if (terminated || outcome.lastDay) this.ended = true;
    else this.setRivalPricesFor(this.day);
  }

  /** Draws the rivals' prices for `day` from every firm's prices of the day before. */
  private setRivalPricesFor(day: number): void {
    const discount = this.model.festivals.competitorDiscount[day] ?? 0;
    for (const rival of this.rivals) {
      const uniform = this.competitors.next();
      this.pricesToday[rival.firmIndex] = rival.priceToday(day, this.lastPrices, discount, uniform);
    }
  }
}

/** Out of line, as endedError: the step's bytecode stays small enough for V8 to inline the day's stages into the vector env's loop. */
function actionError(actions: number, action: number) {
  return protocolError(`expected an action in Discrete(${actions}) (an integer 0..${actions - 1}), found ${action}`);
}

function endedError() {
  return protocolError('the episode has ended: call reset() before step()');
}
