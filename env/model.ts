/**
 * The market model: a validated scenario turned into the tables the simulation reads.
 *
 * Everything that does not depend on the random draws or on the agent is computed here,
 * once per scenario: the price ladder, the calendar, each segment's expected arrivals per
 * day (base rate x seasonality x weekday x deterministic demand multiplier, then festivals
 * moved in), weather multipliers per (state, weekend), the demand shock's law (size k and
 * period; its path is drawn per episode), the rivals' specs, the stage game
 * and its Nash / monopoly benchmarks. The hot path (env/market.ts) only reads arrays.
 */
import type { Scenario, Competitor, Segment } from '../scenarios/schema.js';
import { buildCalendar, type Calendar } from './calendar.js';
import { assertDemandWithinBounds } from './demand-bounds.js';
import { compileCurve, tabulateCurve, type CurveTable } from '../scenarios/curves.js';
import { applyFestivalsToRates, buildFestivalCalendar, type FestivalCalendar } from './festivals.js';
import { buildPriceLadder } from './ladder.js';
import { LogitStageGame, type PriceProfile } from './stage-game.js';
import { buildWeatherModel, type WeatherModel } from './weather.js';
import type { DemandShockSpec } from './demand-shock.js';

export interface SegmentModel {
  readonly name: string;
  /** Expected arrivals per day before weather, temperature and churn (festivals applied). */
  readonly rates: Float64Array;
  readonly priceSensitivity: number;
  readonly scale: number;
  readonly reference: { readonly memory: number; readonly gain: number; readonly loss: number; readonly initial: number } | undefined;
  /** Arrival multiplier indexed by state * 2 + (weekend ? 1 : 0). */
  readonly weatherMultiplier: Float64Array;
  readonly returnLogitOffset: number;
  readonly loyalty: Segment['loyalty'];
}

export interface RivalSpec {
  readonly name: string;
  readonly firmIndex: number;
  readonly quality: number;
  readonly config: Competitor;
  readonly priceCeiling: number;
}

export interface Benchmarks {
  readonly nash: PriceProfile;
  readonly monopoly: PriceProfile;
}

export interface MarketModel {
  readonly scenario: Scenario;
  readonly calendar: Calendar;
  readonly horizon: number;
  readonly ladder: Float64Array;
  readonly deterministic: boolean;
  readonly unitCost: number;
  readonly listPrice: number;
  readonly segments: readonly SegmentModel[];
  /** Base expected units per day for textbook (non-logit) demand: seasonality x weekday x multiplier. */
  readonly textbookRates: Float64Array;
  /** The market-level arrival shock (env/demand-shock.ts); undefined when absent or deterministic (the shock's mean, 1). */
  readonly demandShock: DemandShockSpec | undefined;
  readonly rivals: readonly RivalSpec[];
  readonly festivals: FestivalCalendar;
  readonly weather: WeatherModel | undefined;
  readonly temperatureMean: Float64Array;
  /** The demand multiplier when it depends on temperature (else folded into the rates). */
  readonly temperatureMultiplier: CurveTable | undefined;
  readonly stageGame: LogitStageGame | undefined;
  readonly benchmarks: Benchmarks | undefined;
  /** 1 on days when the (s, S) policy reviews stock. */
  readonly reviewDay: Uint8Array;
  /** Typical daily units, used to scale sales in the observation. */
  readonly salesScale: number;
  /** Typical stock, used to scale stock in the observation. */
  readonly stockScale: number;
}

export function buildMarketModel(scenario: Scenario): MarketModel {
  const calendar = buildCalendar(scenario.startDate, scenario.horizonDays);
  const festivals = buildFestivalCalendar(scenario.festivals, calendar);
  const stageGame = scenario.demand.kind === 'logit' ? buildStageGame(scenario) : undefined;
  const equilibria = stageGame ? { nash: stageGame.nash(), monopoly: stageGame.monopoly() } : undefined;
  const ladder = buildPriceLadder(scenario.priceLadder, equilibria);
  // The profit-gain index compares with the stage game, which is only the market's own
  // per-period game when the market is stationary.
  const benchmarks = equilibria && isStationary(scenario) ? equilibria : undefined;

  const curves = scenario.curves;
  const table = (source: number | string | undefined, path: string[]) =>
    source === undefined ? undefined : tabulateCurve(compileCurve(source, path), calendar);
  const seasonality = table(curves.seasonality, ['curves', 'seasonality']);
  const dayOfWeek = Array.isArray(curves.dayOfWeek) ? undefined : table(curves.dayOfWeek, ['curves', 'dayOfWeek']);
  const weekdayProfile = Array.isArray(curves.dayOfWeek) ? curves.dayOfWeek : undefined;
  const temperatureCurve = table(curves.temperature ?? 15, ['curves', 'temperature']);
  const multiplier = table(curves.demandMultiplier, ['curves', 'demandMultiplier']);
  const temperatureMean = new Float64Array(calendar.days);
  const deterministicRates = new Float64Array(calendar.days);
  for (let day = 0; day < calendar.days; day++) {
    temperatureMean[day] = temperatureCurve?.valueAt(day, 15) ?? 15;
    const weekday = calendar.weekday[day] ?? 0;
    const weekdayFactor = weekdayProfile ? (weekdayProfile[weekday] ?? 1) : (dayOfWeek?.valueAt(day, 15) ?? 1);
    const multiplierFactor = multiplier && !multiplier.usesTemperature ? multiplier.valueAt(day, 15) : 1;
    deterministicRates[day] = (seasonality?.valueAt(day, 15) ?? 1) * weekdayFactor * multiplierFactor;
  }
  const weather = scenario.weather ? buildWeatherModel(scenario.weather) : undefined;
  const stateCount = weather?.stateNames.length ?? 1;

  const segments: SegmentModel[] = [];
  if (scenario.demand.kind === 'logit') {
    for (const segment of scenario.demand.segments) {
      const base = deterministicRates.map((factor) => factor * segment.arrivalRate);
      const weatherMultiplier = new Float64Array(stateCount * 2);
      for (let state = 0; state < stateCount; state++) {
        const stateName = weather?.stateNames[state] ?? '';
        const effect = (segment.weather?.[stateName] ?? 1) - 1;
        weatherMultiplier[state * 2] = Math.max(0, 1 + effect);
        weatherMultiplier[state * 2 + 1] = Math.max(0, 1 + effect * segment.weekendWeatherAmplifier);
      }
      segments.push({
        name: segment.name,
        rates: applyFestivalsToRates(base, festivals, segment.festivalSensitivity),
        priceSensitivity: segment.priceSensitivity,
        scale: segment.scale,
        reference: segment.referencePrice
          ? { memory: segment.referencePrice.memory, gain: segment.referencePrice.gain, loss: segment.referencePrice.loss, initial: segment.referencePrice.initial ?? scenario.listPrice }
          : undefined,
        weatherMultiplier,
        returnLogitOffset: segment.returnLogitOffset,
        loyalty: segment.loyalty,
      });
    }
  }
  const textbookRates = scenario.demand.kind === 'logit' ? new Float64Array(0) : applyFestivalsToRates(deterministicRates, festivals, 1);

  const topOfLadder = ladder[ladder.length - 1] ?? scenario.listPrice;
  const rivals = scenario.competitors.map((competitor, index) => ({
    name: competitor.name,
    firmIndex: index + 1,
    quality: competitor.quality,
    config: competitor,
    priceCeiling: competitor.priceCeiling ?? 5 * topOfLadder,
  }));

  const model: MarketModel = {
    scenario,
    calendar,
    horizon: scenario.horizonDays,
    ladder,
    deterministic: scenario.deterministic,
    unitCost: scenario.unitCost,
    listPrice: scenario.listPrice,
    segments,
    textbookRates,
    demandShock: scenario.demandShock && !scenario.deterministic ? { size: scenario.demandShock.size, periodDays: scenario.demandShock.periodDays } : undefined,
    rivals,
    festivals,
    weather,
    temperatureMean,
    temperatureMultiplier: multiplier?.usesTemperature ? multiplier : undefined,
    stageGame,
    benchmarks,
    reviewDay: Uint8Array.from({ length: calendar.days }, (_, day) => {
      const replenishment = scenario.inventory?.replenishment;
      return replenishment?.kind === 'periodic-review' && day % replenishment.reviewEveryDays === 0 ? 1 : 0;
    }),
    salesScale: typicalDailyUnits(scenario, ladder),
    stockScale: typicalStock(scenario),
  };
  assertDemandWithinBounds(model);
  return model;
}

/**
 * Stationary: every day is the same stage game (no calendar effects, weather, stock,
 * returns, churn or reference prices). Only then is the profit-gain index meaningful.
 */
export function isStationary(scenario: Scenario): boolean {
  const curves = scenario.curves;
  return (
    scenario.demand.kind === 'logit' &&
    scenario.demand.segments.every((segment) => !segment.loyalty && !segment.referencePrice) &&
    scenario.festivals.length === 0 &&
    !scenario.weather &&
    !scenario.returns &&
    !scenario.inventory &&
    curves.seasonality === undefined &&
    curves.dayOfWeek === undefined &&
    curves.demandMultiplier === undefined
  );
}

/** The stage game at the segments' base arrival rates, reference terms at their steady state (r = p). */
export function buildStageGame(scenario: Scenario): LogitStageGame {
  if (scenario.demand.kind !== 'logit') throw new Error('the stage game needs logit demand');
  return new LogitStageGame({
    firms: [{ quality: scenario.demand.quality, unitCost: scenario.unitCost }, ...scenario.competitors.map((rival) => ({ quality: rival.quality, unitCost: rival.unitCost }))],
    segments: scenario.demand.segments.map((segment) => ({ weight: segment.arrivalRate, priceSensitivity: segment.priceSensitivity, scale: segment.scale })),
    outsideUtility: scenario.demand.outsideUtility,
  });
}

function typicalDailyUnits(scenario: Scenario, ladder: Float64Array): number {
  const demand = scenario.demand;
  const middle = ladder[Math.floor(ladder.length / 2)] ?? scenario.listPrice;
  switch (demand.kind) {
    case 'logit':
      return Math.max(1, demand.segments.reduce((total, segment) => total + segment.arrivalRate, 0) / 2);
    case 'linear':
      return Math.max(1, demand.intercept / 2);
    case 'constant-elasticity':
      return Math.max(1, demand.scale * Math.pow(middle, demand.elasticity));
    case 'exponential':
      return 1;
  }
}

function typicalStock(scenario: Scenario): number {
  const inventory = scenario.inventory;
  if (!inventory) return 1;
  const replenishment = inventory.replenishment;
  return Math.max(1, inventory.initialStock, replenishment.kind === 'periodic-review' ? replenishment.orderUpTo : 0);
}
