/**
 * The observation: a Box of named, normalised features describing the market at the
 * moment the agent prices day t (after the weather and the rivals' prices of day t are
 * known). Which features exist depends on the scenario (no weather, no weather features);
 * each is defined once here, with its name, meaning, bounds and how it is read, so the
 * observation spec and the values cannot drift apart.
 */
import type { MarketSimulation } from './market.js';
import type { MarketModel } from './model.js';
import { farAway } from './festivals.js';

export interface ObservationFeature {
  readonly name: string;
  readonly description: string;
  /** Divide the raw value by this to get the observed value. */
  readonly scale: number;
  readonly low: number;
  readonly high: number;
  readonly read: (market: MarketSimulation) => number;
}

const FESTIVAL_LOOKAHEAD = 60;

export function buildObservationFeatures(model: MarketModel): ObservationFeature[] {
  const priceScale = model.ladder[model.ladder.length - 1] ?? 1;
  const priceHigh = Math.max(1, ...model.rivals.map((rival) => rival.priceCeiling / priceScale));
  const features: ObservationFeature[] = [];
  const add = (name: string, description: string, scale: number, low: number, high: number, raw: (market: MarketSimulation) => number) =>
    features.push({ name, description, scale, low, high, read: (market) => raw(market) / scale });
  const dayOf = (market: MarketSimulation) => Math.min(market.day, model.horizon - 1);

  add('lastPrice', 'our price yesterday / top of the ladder', priceScale, 0, 1, (market) => market.lastPrice);
  if (model.segments.some((segment) => segment.reference)) {
    const withReference = model.segments.map((segment, index) => (segment.reference ? index : -1)).filter((index) => index >= 0);
    add('referencePrice', 'mean reference price of the segments that keep one / top of the ladder', priceScale, 0, priceHigh, (market) => {
      let sum = 0;
      for (const index of withReference) sum += market.referencePrice[index] ?? 0;
      return sum / withReference.length;
    });
  }
  for (const rival of model.rivals) {
    add(`rivalPrice:${rival.name}`, `${rival.name}'s price today / top of the ladder`, priceScale, 0, priceHigh, (market) => market.pricesToday[rival.firmIndex] ?? 0);
  }
  if (model.scenario.inventory) {
    add('stockOnHand', 'units on hand / typical stock', model.stockScale, 0, Number.POSITIVE_INFINITY, (market) => market.stockOnHand);
    if (model.scenario.inventory.replenishment.kind !== 'none') {
      add('stockOnOrder', 'units ordered, not yet arrived / typical stock', model.stockScale, 0, Number.POSITIVE_INFINITY, (market) => market.stockOnOrder);
    }
  }
  add('salesYesterday', 'units sold yesterday / typical daily units', model.salesScale, 0, Number.POSITIVE_INFINITY, (market) => market.lastSold);
  if (model.scenario.returns) {
    add('returnsPending', 'units sold and still expected back / typical daily units', model.salesScale, 0, Number.POSITIVE_INFINITY, (market) => market.returnsPending);
  }
  add('daysLeft', 'days left in the horizon / horizon', model.horizon, 0, 1, (market) => model.horizon - market.day);
  if (model.horizon > 7 && model.segments.length > 0) {
    add('weekdaySin', 'sin(2 pi weekday / 7)', 1, -1, 1, (market) => Math.sin((2 * Math.PI * (model.calendar.weekday[dayOf(market)] ?? 0)) / 7));
    add('weekdayCos', 'cos(2 pi weekday / 7)', 1, -1, 1, (market) => Math.cos((2 * Math.PI * (model.calendar.weekday[dayOf(market)] ?? 0)) / 7));
    add('yearSin', 'sin(2 pi dayOfYear / 365.25)', 1, -1, 1, (market) => Math.sin((2 * Math.PI * (model.calendar.dayOfYear[dayOf(market)] ?? 0)) / 365.25));
    add('yearCos', 'cos(2 pi dayOfYear / 365.25)', 1, -1, 1, (market) => Math.cos((2 * Math.PI * (model.calendar.dayOfYear[dayOf(market)] ?? 0)) / 365.25));
  }
  if (model.festivals.occurrences.length > 0) {
    add('eventDay', '1 on a festival event day', 1, 0, 1, (market) => model.festivals.eventDay[dayOf(market)] ?? 0);
    add('presaleDay', '1 on a festival pre-sale day', 1, 0, 1, (market) => model.festivals.presaleDay[dayOf(market)] ?? 0);
    add('daysToEvent', `days to the next event day, capped at ${FESTIVAL_LOOKAHEAD} / ${FESTIVAL_LOOKAHEAD}`, FESTIVAL_LOOKAHEAD, 0, 1, (market) =>
      Math.min(FESTIVAL_LOOKAHEAD, model.festivals.daysToNextEvent[dayOf(market)] ?? farAway),
    );
  }
  if (model.weather) {
    model.weather.stateNames.forEach((state, index) => {
      add(`weather:${state}`, `1 if today is ${state}`, 1, 0, 1, (market) => (market.weatherStates[dayOf(market)] === index ? 1 : 0));
    });
    model.weather.stateNames.forEach((state, index) => {
      add(`forecast:${state}`, `1 if tomorrow is forecast ${state}`, 1, 0, 1, (market) => (market.weatherStates[dayOf(market) + 1] === index ? 1 : 0));
    });
    add('temperature', 'temperature today, degrees C / 40', 40, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, (market) => market.temperatures[dayOf(market)] ?? 0);
  }
  model.segments.forEach((segment, index) => {
    if (segment.loyalty) add(`activeShare:${segment.name}`, `share of the ${segment.name} base still active`, 1, 0, 1, (market) => market.activeShare[index] ?? 1);
  });
  return features;
}

export function writeObservation(features: readonly ObservationFeature[], market: MarketSimulation, out: Float32Array, offset = 0): void {
  for (let index = 0; index < features.length; index++) out[offset + index] = features[index]!.read(market);
}
