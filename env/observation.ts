/**
 * The observation: a Box of named, normalised features describing the market at the
 * moment the agent prices day t (after the weather and the rivals' prices of day t are
 * known). Which features exist depends on the scenario (no weather, no weather features).
 * Each feature is declared once here (name, meaning, scale, bounds, and the market field it
 * reads), and one writer reads them all: the spec and the values cannot drift apart.
 */
import type { MarketSimulation } from './market.js';
import type { MarketModel } from './model.js';
import { farAway } from './festivals.js';

/** Where a feature's raw value comes from. */
export enum FeatureSource {
  LastPrice,
  MeanReferencePrice,
  RivalPrice,
  StockOnHand,
  StockOnOrder,
  ReorderHeadroom,
  SalesYesterday,
  ReturnsPending,
  DaysLeft,
  LastDays,
  DayTable,
  WeatherToday,
  WeatherTomorrow,
  Temperature,
  ActiveShare,
}

export interface ObservationFeature {
  readonly name: string;
  readonly description: string;
  /** The observed value is the raw value divided by this. */
  readonly scale: number;
  readonly low: number;
  readonly high: number;
  readonly source: FeatureSource;
  /** Firm, weather state or segment index, where the source needs one. */
  readonly argument: number;
  /** Per-day values, for DayTable features (calendar and festival features, tabulated once). */
  readonly table: Float64Array | undefined;
}

export const FESTIVAL_LOOKAHEAD = 60;
/**
 * The end of the horizon, resolved: daysLeft / horizon tells the last day of a year from the
 * one before by 0.003, too little for a network to act on, yet the last days are where the
 * books are settled (salvage of left-over stock, a last review) and a different price pays
 * (docs/agents/dqn.md). Pardo et al. 2018 ("Time limits in reinforcement learning"): a
 * finite-horizon task should show the time left in a form the learner can use.
 */
const LAST_DAYS = 7;

export function buildObservationFeatures(model: MarketModel): ObservationFeature[] {
  const priceScale = model.ladder[model.ladder.length - 1] ?? 1;
  const priceHigh = Math.max(1, ...model.rivals.map((rival) => rival.priceCeiling / priceScale));
  const features: ObservationFeature[] = [];
  const add = (name: string, description: string, scale: number, low: number, high: number, source: FeatureSource, argument = 0, table?: Float64Array) =>
    features.push({ name, description, scale, low, high, source, argument, table });
  const dayTable = (value: (day: number) => number) => Float64Array.from({ length: model.horizon }, (_, day) => value(day));

  add('lastPrice', 'our price yesterday / top of the ladder', priceScale, 0, 1, FeatureSource.LastPrice);
  if (model.segments.some((segment) => segment.reference)) {
    add('referencePrice', 'mean reference price of the segments that keep one / top of the ladder', priceScale, 0, priceHigh, FeatureSource.MeanReferencePrice);
  }
  for (const rival of model.rivals) {
    add(`rivalPrice:${rival.name}`, `${rival.name}'s price today / top of the ladder`, priceScale, 0, priceHigh, FeatureSource.RivalPrice, rival.firmIndex);
  }
  if (model.scenario.inventory) {
    add('stockOnHand', 'units on hand / typical stock', model.stockScale, 0, Number.POSITIVE_INFINITY, FeatureSource.StockOnHand);
    if (model.scenario.inventory.replenishment.kind !== 'none') {
      add('stockOnOrder', 'units ordered, not yet arrived / typical stock', model.stockScale, 0, Number.POSITIVE_INFINITY, FeatureSource.StockOnOrder);
      const replenishment = model.scenario.inventory.replenishment;
      if (replenishment.kind === 'periodic-review') {
        add('reorderHeadroom', `stock position (on hand + on order) minus the reorder point ${replenishment.reorderPoint}, / typical stock: at or below 0 at a review, an order is placed`, model.stockScale, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, FeatureSource.ReorderHeadroom, replenishment.reorderPoint);
      }
    }
  }
  add('salesYesterday', 'units sold yesterday / typical daily units', model.salesScale, 0, Number.POSITIVE_INFINITY, FeatureSource.SalesYesterday);
  if (model.scenario.returns) {
    add('returnsPending', 'units sold and still expected back / typical daily units', model.salesScale, 0, Number.POSITIVE_INFINITY, FeatureSource.ReturnsPending);
  }
  add('daysLeft', 'days left in the horizon / horizon', model.horizon, 0, 1, FeatureSource.DaysLeft);
  if (model.horizon > LAST_DAYS) add('lastDays', `days left in the horizon, capped at ${LAST_DAYS}, / ${LAST_DAYS}`, LAST_DAYS, 0, 1, FeatureSource.LastDays);
  if (model.horizon > 7 && model.segments.length > 0) {
    const weekdayAngle = (day: number) => (2 * Math.PI * (model.calendar.weekday[day] ?? 0)) / 7;
    const yearAngle = (day: number) => (2 * Math.PI * (model.calendar.dayOfYear[day] ?? 0)) / 365.25;
    add('weekdaySin', 'sin(2 pi weekday / 7), Monday = 0', 1, -1, 1, FeatureSource.DayTable, 0, dayTable((day) => Math.sin(weekdayAngle(day))));
    add('weekdayCos', 'cos(2 pi weekday / 7)', 1, -1, 1, FeatureSource.DayTable, 0, dayTable((day) => Math.cos(weekdayAngle(day))));
    add('yearSin', 'sin(2 pi dayOfYear / 365.25)', 1, -1, 1, FeatureSource.DayTable, 0, dayTable((day) => Math.sin(yearAngle(day))));
    add('yearCos', 'cos(2 pi dayOfYear / 365.25)', 1, -1, 1, FeatureSource.DayTable, 0, dayTable((day) => Math.cos(yearAngle(day))));
  }
  if (model.festivals.occurrences.length > 0) {
    const festivals = model.festivals;
    add('eventDay', '1 on a festival event day', 1, 0, 1, FeatureSource.DayTable, 0, dayTable((day) => festivals.eventDay[day] ?? 0));
    add('presaleDay', '1 on a festival pre-sale day', 1, 0, 1, FeatureSource.DayTable, 0, dayTable((day) => festivals.presaleDay[day] ?? 0));
    add('daysToEvent', `days to the next event day, capped at ${FESTIVAL_LOOKAHEAD}, / ${FESTIVAL_LOOKAHEAD}`, 1, 0, 1, FeatureSource.DayTable, 0, dayTable((day) => Math.min(FESTIVAL_LOOKAHEAD, festivals.daysToNextEvent[day] ?? farAway) / FESTIVAL_LOOKAHEAD));
  }
  if (model.weather) {
    model.weather.stateNames.forEach((state, index) => add(`weather:${state}`, `1 if today is ${state}`, 1, 0, 1, FeatureSource.WeatherToday, index));
    model.weather.stateNames.forEach((state, index) => add(`forecast:${state}`, `1 if tomorrow is forecast ${state}`, 1, 0, 1, FeatureSource.WeatherTomorrow, index));
    add('temperature', 'temperature today, degrees C / 40', 40, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, FeatureSource.Temperature);
  }
  model.segments.forEach((segment, index) => {
    if (segment.loyalty) add(`activeShare:${segment.name}`, `share of the ${segment.name} base still active`, 1, 0, 1, FeatureSource.ActiveShare, index);
  });
  return features;
}

/**
 * The fast writer: the same features, written straight through in their declared order,
 * the calendar and festival columns copied from one day-major table. The reference
 * writer below (`writeObservation`, one switch per feature) defines the values; a test
 * holds the two equal on every scenario. Written for speed: the observation was a fifth of
 * a vector-env step with the switch (see docs/performance.md).
 */
export class ObservationWriter {
  readonly features: readonly ObservationFeature[];
  private readonly inversePriceScale: number;
  private readonly referenceSegments: Int32Array;
  private readonly rivalFirms: Int32Array;
  private readonly inverseStockScale: number;
  private readonly hasStock: boolean;
  private readonly hasOnOrder: boolean;
  private readonly reorderPoint: number | undefined;
  private readonly inverseSalesScale: number;
  private readonly hasReturns: boolean;
  private readonly horizon: number;
  private readonly hasLastDays: boolean;
  private readonly dayTableWidth: number;
  private readonly dayTable: Float32Array;
  private readonly weatherStates: number;
  private readonly hasTemperature: boolean;
  private readonly loyalSegments: Int32Array;

  constructor(model: MarketModel, features: readonly ObservationFeature[] = buildObservationFeatures(model)) {
    this.features = features;
    const of = (source: FeatureSource) => features.filter((feature) => feature.source === source);
    this.inversePriceScale = 1 / (features[0]?.scale ?? 1);
    this.referenceSegments = Int32Array.from(model.segments.flatMap((segment, index) => (segment.reference ? [index] : [])));
    this.rivalFirms = Int32Array.from(of(FeatureSource.RivalPrice).map((feature) => feature.argument));
    this.inverseStockScale = 1 / model.stockScale;
    this.hasStock = of(FeatureSource.StockOnHand).length > 0;
    this.hasOnOrder = of(FeatureSource.StockOnOrder).length > 0;
    this.reorderPoint = of(FeatureSource.ReorderHeadroom)[0]?.argument;
    this.inverseSalesScale = 1 / model.salesScale;
    this.hasReturns = of(FeatureSource.ReturnsPending).length > 0;
    this.horizon = model.horizon;
    this.hasLastDays = of(FeatureSource.LastDays).length > 0;
    const dayFeatures = of(FeatureSource.DayTable);
    this.dayTableWidth = dayFeatures.length;
    this.dayTable = new Float32Array(model.horizon * dayFeatures.length);
    for (let day = 0; day < model.horizon; day++) dayFeatures.forEach((feature, column) => (this.dayTable[day * dayFeatures.length + column] = feature.table?.[day] ?? 0));
    this.weatherStates = of(FeatureSource.WeatherToday).length;
    this.hasTemperature = of(FeatureSource.Temperature).length > 0;
    this.loyalSegments = Int32Array.from(of(FeatureSource.ActiveShare).map((feature) => feature.argument));
  }

  write(market: MarketSimulation, out: Float32Array, offset = 0): void {
    const horizon = this.horizon;
    const day = market.day < horizon ? market.day : horizon - 1;
    let index = offset;
    out[index++] = market.lastPrice * this.inversePriceScale;
    if (this.referenceSegments.length > 0) {
      let sum = 0;
      for (let position = 0; position < this.referenceSegments.length; position++) sum += market.referencePrice[this.referenceSegments[position]!] ?? 0;
      out[index++] = (sum / this.referenceSegments.length) * this.inversePriceScale;
    }
    for (let position = 0; position < this.rivalFirms.length; position++) out[index++] = (market.pricesToday[this.rivalFirms[position]!] ?? 0) * this.inversePriceScale;
    if (this.hasStock) out[index++] = market.stockOnHand * this.inverseStockScale;
    if (this.hasOnOrder) out[index++] = market.stockOnOrder * this.inverseStockScale;
    if (this.reorderPoint !== undefined) out[index++] = (market.stockOnHand + market.stockOnOrder - this.reorderPoint) * this.inverseStockScale;
    out[index++] = market.lastSold * this.inverseSalesScale;
    if (this.hasReturns) out[index++] = market.returnsPending * this.inverseSalesScale;
    out[index++] = (horizon - market.day) / horizon;
    if (this.hasLastDays) out[index++] = Math.min(LAST_DAYS, horizon - market.day) / LAST_DAYS;
    const row = day * this.dayTableWidth;
    for (let column = 0; column < this.dayTableWidth; column++) out[index++] = this.dayTable[row + column] ?? 0;
    if (this.weatherStates > 0) {
      // One-hot: clear both blocks, then set today's and tomorrow's state.
      const states = this.weatherStates;
      for (let column = 0; column < 2 * states; column++) out[index + column] = 0;
      const today = market.weatherStates[day] ?? -1;
      const tomorrow = market.weatherStates[day + 1] ?? -1;
      if (today >= 0 && today < states) out[index + today] = 1;
      if (tomorrow >= 0 && tomorrow < states) out[index + states + tomorrow] = 1;
      index += 2 * states;
    }
    if (this.hasTemperature) out[index++] = (market.temperatures[day] ?? 0) / 40;
    for (let position = 0; position < this.loyalSegments.length; position++) out[index++] = market.activeShare[this.loyalSegments[position]!] ?? 1;
  }
}

/** The reference writer: every feature's observed value for the market's current day, by its declared source. */
export function writeObservation(features: readonly ObservationFeature[], market: MarketSimulation, out: Float32Array, offset = 0): void {
  const horizon = market.model.horizon;
  const day = market.day < horizon ? market.day : horizon - 1;
  for (let index = 0; index < features.length; index++) {
    const feature = features[index]!;
    let raw: number;
    switch (feature.source) {
      case FeatureSource.LastPrice:
        raw = market.lastPrice;
        break;
      case FeatureSource.MeanReferencePrice:
        raw = market.meanReferencePrice();
        break;
      case FeatureSource.RivalPrice:
        raw = market.pricesToday[feature.argument] ?? 0;
        break;
      case FeatureSource.StockOnHand:
        raw = market.stockOnHand;
        break;
      case FeatureSource.StockOnOrder:
        raw = market.stockOnOrder;
        break;
      case FeatureSource.ReorderHeadroom:
        raw = market.stockOnHand + market.stockOnOrder - feature.argument;
        break;
      case FeatureSource.SalesYesterday:
        raw = market.lastSold;
        break;
      case FeatureSource.ReturnsPending:
        raw = market.returnsPending;
        break;
      case FeatureSource.DaysLeft:
        raw = horizon - market.day;
        break;
      case FeatureSource.LastDays:
        raw = Math.min(LAST_DAYS, horizon - market.day);
        break;
      case FeatureSource.DayTable:
        raw = feature.table?.[day] ?? 0;
        break;
      case FeatureSource.WeatherToday:
        raw = market.weatherStates[day] === feature.argument ? 1 : 0;
        break;
      case FeatureSource.WeatherTomorrow:
        raw = market.weatherStates[day + 1] === feature.argument ? 1 : 0;
        break;
      case FeatureSource.Temperature:
        raw = market.temperatures[day] ?? 0;
        break;
      case FeatureSource.ActiveShare:
        raw = market.activeShare[feature.argument] ?? 1;
        break;
    }
    out[offset + index] = feature.scale === 1 ? raw : raw / feature.scale;
  }
}
