/**
 * Known answers for calendar and weather effects (calibration/calendar-effects.ts): two years
 * of daily sales whose arrivals carry a known annual season (exp of Fourier terms), a known
 * temperature or weather-state effect and a festival applied by the simulator's own festival
 * code (env/festivals.ts: a deferral before, an uplift during, a linearly decaying dip after),
 * priced at random. Calibrated with and without a traffic column, the 95% intervals must
 * cover the truth in >= 90% of the repetitions for every effect; the scenario written passes
 * the env checker, and its festival block, replayed by the simulator's festival code,
 * reproduces the fitted window multipliers.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { calendarDesign, calendarFromDemandFit, fitTrafficCalendar, placeCalendarEffects } from '../../calibration/calendar-effects.js';
import { calibrateFile } from '../../calibration/calibrate.js';
import { parseColumnMap } from '../../calibration/column-map.js';
import { fitLogitPoisson, logitShare } from '../../calibration/logit-poisson.js';
import { readSales } from '../../calibration/reader.js';
import { buildCalendar } from '../../env/calendar.js';
import { checkScenario } from '../../env/checker.js';
import { applyFestivalsToRates, buildFestivalCalendar } from '../../env/festivals.js';
import { RandomStream } from '../../core/random.js';
import { poissonFromUniform } from '../../env/sampling.js';
import { validateScenario } from '../../scenarios/load.js';
import type { Festival, Scenario } from '../../scenarios/schema.js';

const folder = mkdtempSync(join(tmpdir(), 'pricelab-calendar-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const days = 730;
const startDate = '2025-01-01';
const yearDays = 365.25;
const truth = {
  quality: 1,
  sensitivity: 0.4,
  rivalQuality: 0.5,
  arrivals: 150,
  season: { sin1: 0.25, cos1: -0.15, sin2: 0, cos2: 0 } as Record<string, number>,
  temperature: 0.03,
  weather: { sunny: 1, cloudy: 1.15, rain: 1.4 } as Record<string, number>,
};
const festival: Festival = {
  name: '11.11',
  date: '11-11',
  durationDays: 1,
  presaleUplift: 1,
  uplift: 3,
  deferralShare: 0.15,
  deferralDays: 7,
  dipShare: 0.25,
  dipDays: 7,
  competitorDiscount: 0.2,
};

interface Log {
  readonly csv: string;
  /** log of the true mean multiplier of each festival window: sum of festive rates / sum of base rates over its days. */
  readonly windows: { before: number; during: number; after: number };
}

/** Two years of daily sales with a season, a festival, weather, random prices; units ~ Poisson(arrivals x logit share). */
function simulate(seed: number, weatherKind: 'temperature' | 'state', withTraffic: boolean): Log {
  const random = new RandomStream(seed, 'calendar-test');
  const calendar = buildCalendar(startDate, days);
  const festive = buildFestivalCalendar([festival], calendar);
  const seasonal = Float64Array.from(calendar.dayOfYear, (day) =>
    truth.arrivals *
    Math.exp(
      Object.entries(truth.season).reduce((total, [name, value]) => total + value * (name.startsWith('sin') ? Math.sin : Math.cos)((2 * Math.PI * Number(name.slice(3)) * day) / yearDays), 0),
    ),
  );
  const rates = applyFestivalsToRates(seasonal, festive, 1);
  const windows = { before: [0, 0], during: [0, 0], after: [0, 0] };
  for (const occurrence of festive.occurrences) {
    const add = (window: keyof typeof windows, from: number, to: number) => {
      for (let day = Math.max(0, from); day < Math.min(days, to); day++) {
        windows[window][0] = (windows[window][0] ?? 0) + (rates[day] ?? 0);
        windows[window][1] = (windows[window][1] ?? 0) + (seasonal[day] ?? 0);
      }
    };
    add('before', occurrence.eventStart - 7, occurrence.eventStart);
    add('during', occurrence.eventStart, occurrence.eventEnd);
    add('after', occurrence.eventEnd, occurrence.eventEnd + 7);
  }
  const states = Object.keys(truth.weather);
  let state = 0;
  const header = ['date', 'units', 'price', 'rival', 'festival', 'weather', ...(withTraffic ? ['traffic'] : [])];
  const lines = [header.join(',')];
  for (let day = 0; day < days; day++) {
    const price = 4 + 4 * random.next();
    // Rivals cut their price by competitorDiscount on the event days, as the simulator's rivals do.
    const rival = (4 + 4 * random.next()) * ((festive.eventDay[day] ?? 0) === 1 ? 1 - festival.competitorDiscount : 1);
    let weather: string;
    let multiplier: number;
    if (weatherKind === 'temperature') {
      const normal = Math.sqrt(-2 * Math.log(1 - random.next())) * Math.cos(2 * Math.PI * random.next());
      const temperature = 12 + 8 * Math.cos((2 * Math.PI * ((calendar.dayOfYear[day] ?? 1) - 200)) / yearDays) + 4 * normal;
      weather = temperature.toFixed(2);
      multiplier = Math.exp(truth.temperature * Number(weather));
    } else {
      // A sticky chain that is sunny about half the time.
      const draw = random.next();
      if (draw > 0.6) state = draw > 0.9 ? 2 : draw > 0.8 ? 1 : 0;
      weather = states[state] ?? 'sunny';
      multiplier = truth.weather[weather] ?? 1;
    }
    const arrivals = (rates[day] ?? 0) * multiplier;
    const share = logitShare([truth.quality, truth.sensitivity, truth.rivalQuality], price, [], [rival]);
    let units: number;
    let traffic = 0;
    if (withTraffic) {
      traffic = poissonFromUniform(arrivals, random.next());
      units = 0;
      for (let visitor = 0; visitor < traffic; visitor++) if (random.next() < share) units++;
    } else units = poissonFromUniform(arrivals * share, random.next());
    const date = new Date(Date.parse(`${startDate}T00:00:00Z`) + day * 86_400_000).toISOString().slice(0, 10);
    const label = (festive.eventDay[day] ?? 0) === 1 ? festival.name : '';
    lines.push([date, units, price.toFixed(3), rival.toFixed(3), label, weather, ...(withTraffic ? [traffic] : [])].join(','));
  }
  const log = (window: keyof typeof windows) => Math.log((windows[window][0] ?? 0) / (windows[window][1] ?? 1));
  return { csv: `${lines.join('\n')}\n`, windows: { before: log('before'), during: log('during'), after: log('after') } };
}

const baseMap = { date: 'date', units: 'units', price: 'price', rivalPrices: ['rival'], festival: 'festival', weather: 'weather' };

async function calibrate(log: Log, name: string, withTraffic: boolean) {
  const path = join(folder, `${name}.csv`);
  writeFileSync(path, log.csv);
  return calibrateFile(path, { map: parseColumnMap(withTraffic ? { ...baseMap, traffic: 'traffic' } : baseMap, 'map'), periodLength: 'day', holdout: 0 });
}

interface Recorded {
  readonly record: { readonly estimates: readonly { parameter: string; scenarioPath?: string | undefined; value: number; lower: number; upper: number }[] };
}
const estimateOf = (result: Recorded, parameter: string) => {
  const found = result.record.estimates.find((estimate) => estimate.parameter === parameter);
  if (!found) throw new Error(`no estimate ${parameter} in ${result.record.estimates.map((estimate) => estimate.parameter).join(', ')}`);
  return found;
};
const covers = (result: Recorded, parameter: string, value: number) => {
  const estimate = estimateOf(result, parameter);
  return estimate.lower <= value && value <= estimate.upper;
};

/**
 * The calendar estimator alone, as calibrate.ts runs it (without the rest of the pipeline, to
 * keep 100 repetitions fast): the design, then either the logit likelihood with the calendar
 * columns as arrival covariates (market size 3 x mean units; the simulated weekday profile is
 * flat, so no weekday levels) or the traffic model; then the placement and its record.
 */
async function fitCalendar(log: Log, name: string, withTraffic: boolean): Promise<Recorded> {
  const path = join(folder, `${name}.csv`);
  writeFileSync(path, log.csv);
  const sales = await readSales(path, { map: parseColumnMap(withTraffic ? { ...baseMap, traffic: 'traffic' } : baseMap, 'map') });
  const design = calendarDesign(sales, 'day');
  let fit;
  if (withTraffic) fit = fitTrafficCalendar(sales, design, 'day');
  else {
    let units = 0;
    for (const value of sales.units) units += value;
    const demand = fitLogitPoisson({
      rows: sales.rows,
      units: sales.units,
      logMarketSize: new Float64Array(sales.rows).fill(Math.log((3 * units) / sales.rows)),
      price: sales.price,
      promotions: [],
      promotionNames: [],
      rivalPrices: sales.rivalPrices,
      rivalNames: sales.rivalNames,
      arrivalCovariates: { names: design.names, columns: design.columns },
    });
    expect(demand.converged).toBe(true);
    fit = calendarFromDemandFit(demand, design);
  }
  return { record: { estimates: placeCalendarEffects(sales, design, fit).estimates } };
}

/** Mean multiplier of each window when the scenario's festival block is replayed by the simulator on flat arrivals. */
function replayedWindows(scenario: Scenario): { before: number; during: number; after: number } {
  const calendar = buildCalendar(scenario.startDate, scenario.horizonDays);
  const festive = buildFestivalCalendar(scenario.festivals, calendar);
  const rates = applyFestivalsToRates(new Float64Array(calendar.days).fill(1), festive, 1);
  const occurrence = festive.occurrences[0]!;
  const mean = (from: number, to: number) => {
    let total = 0;
    for (let day = from; day < to; day++) total += rates[day] ?? 0;
    return total / (to - from);
  };
  return { before: mean(occurrence.eventStart - 7, occurrence.eventStart), during: mean(occurrence.eventStart, occurrence.eventEnd), after: mean(occurrence.eventEnd, occurrence.eventEnd + 7) };
}

const repetitions = 100;

describe('calendar and weather effects (known answers)', () => {
  it(`without traffic (arrival covariates of the logit fit): intervals cover festival windows, season and temperature in >= 90% of ${repetitions} repetitions`, async () => {
    const covered: Record<string, number> = {};
    const count = (name: string, hit: boolean) => (covered[name] = (covered[name] ?? 0) + (hit ? 1 : 0));
    for (let repetition = 0; repetition < repetitions; repetition++) {
      const log = simulate(100 + repetition, 'temperature', false);
      const result = repetition === 0 ? await calibrate(log, 'temperature-end-to-end', false) : await fitCalendar(log, `temperature-${repetition}`, false);
      for (const window of ['before', 'during', 'after'] as const) count(window, covers(result, `festival:11.11:${window}`, log.windows[window]));
      for (const [name, value] of Object.entries(truth.season)) count(name, covers(result, `season:${name}`, value));
      count('temperature', covers(result, 'temperature', truth.temperature));
      count('competitorDiscount', covers(result, 'festival:11.11:competitorDiscount', festival.competitorDiscount));
      if (repetition === 0) {
        // The scenario passes the env checker, and its festival block reproduces the fitted windows.
        if (!('scenario' in result)) throw new Error('the first repetition runs end to end');
        const scenario = validateScenario(result.scenario, 'calibrated');
        const report = checkScenario(scenario, { maxSteps: 40 });
        expect(report.checks.filter((check) => check.status === 'failed')).toEqual([]);
        expect(scenario.festivals).toHaveLength(1);
        expect(scenario.festivals[0]?.date).toBe('11-11');
        const replayed = replayedWindows(scenario);
        for (const window of ['before', 'during', 'after'] as const) {
          expect(replayed[window]).toBeCloseTo(Math.exp(estimateOf(result, `festival:11.11:${window}`).value), 3);
        }
        expect(scenario.festivals[0]?.deferralShare).toBeGreaterThan(0);
        expect(scenario.festivals[0]?.dipShare).toBeGreaterThan(0);
        expect(scenario.festivals[0]?.competitorDiscount).toBe(estimateOf(result, 'festival:11.11:competitorDiscount').value);
        expect(scenario.curves.seasonality).toMatch(/^exp\(/);
        expect(scenario.curves.demandMultiplier).toMatch(/temperature/);
        expect(result.record.estimates.find((estimate) => estimate.parameter === 'festival:11.11:uplift')?.scenarioPath).toBe('festivals[0].uplift');
      }
    }
    for (const [name, hits] of Object.entries(covered)) expect(hits / repetitions, name).toBeGreaterThanOrEqual(0.9);
  }, 120_000);

  it(`with traffic (effects fitted to the arrivals): intervals cover festival windows, season and weather states in >= 90% of ${repetitions} repetitions`, async () => {
    const covered: Record<string, number> = {};
    const count = (name: string, hit: boolean) => (covered[name] = (covered[name] ?? 0) + (hit ? 1 : 0));
    for (let repetition = 0; repetition < repetitions; repetition++) {
      const log = simulate(500 + repetition, 'state', true);
      const result = repetition === 0 ? await calibrate(log, 'state-end-to-end', true) : await fitCalendar(log, `state-${repetition}`, true);
      for (const window of ['before', 'during', 'after'] as const) count(window, covers(result, `festival:11.11:${window}`, log.windows[window]));
      for (const [name, value] of Object.entries(truth.season)) count(name, covers(result, `season:${name}`, value));
      for (const state of ['cloudy', 'rain']) count(state, covers(result, `weather:${state}:multiplier`, (truth.weather[state] ?? 1) / (truth.weather.sunny ?? 1)));
      if (repetition === 0) {
        if (!('scenario' in result)) throw new Error('the first repetition runs end to end');
        const scenario = validateScenario(result.scenario, 'calibrated');
        expect(checkScenario(scenario, { maxSteps: 40 }).checks.filter((check) => check.status === 'failed')).toEqual([]);
        expect(scenario.weather?.states[0]?.name).toBe('sunny');
        expect(scenario.weather?.states.map((state) => state.name).sort()).toEqual(['cloudy', 'rain', 'sunny']);
        if (scenario.demand.kind !== 'logit') throw new Error('logit expected');
        expect(Object.keys(scenario.demand.segments[0]?.weather ?? {}).sort()).toEqual(['cloudy', 'rain']);
        const replayed = replayedWindows(scenario);
        for (const window of ['before', 'during', 'after'] as const) {
          expect(replayed[window]).toBeCloseTo(Math.exp(estimateOf(result, `festival:11.11:${window}`).value), 3);
        }
      }
    }
    for (const [name, hits] of Object.entries(covered)) expect(hits / repetitions, name).toBeGreaterThanOrEqual(0.9);
  }, 120_000);

  it('records weekly weather-state multipliers without placing them (no daily chain to give the simulator)', async () => {
    const path = join(folder, 'weekly-states.csv');
    writeFileSync(path, simulate(11, 'state', false).csv);
    const result = await calibrateFile(path, { map: parseColumnMap(baseMap, 'map'), periodLength: 'week', holdout: 0 });
    expect(result.scenario.weather).toBeUndefined();
    const rain = estimateOf(result, 'weather:rain:multiplier');
    expect(rain.scenarioPath).toBeUndefined();
    expect(result.record.defaults).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'weather', value: 'not placed' })]));
    // The weekly festival window is a week: its block lasts 7 days.
    expect(validateScenario(result.scenario, 'weekly').festivals[0]?.durationDays).toBe(7);
  });

  it('reads festival labels and weather (numbers: a temperature; any label: states) and refuses an empty weather cell, naming row and column', async () => {
    const path = join(folder, 'columns.csv');
    writeFileSync(path, 'date,units,price,festival,weather\n2026-01-01,3,5,,12.5\n2026-01-02,4,5,11.11,sunny\n2026-01-03,2,5,,\n');
    const map = parseColumnMap({ date: 'date', units: 'units', price: 'price', festival: 'festival', weather: 'weather' }, 'map');
    await expect(readSales(path, { map })).rejects.toMatchObject({ kind: 'config', problems: [{ path: ['row', 3, 'weather'], message: 'expected a temperature or a weather state, found an empty cell' }] });
    writeFileSync(path, 'date,units,price,festival,weather\n2026-01-01,3,5,,12.5\n2026-01-02,4,5,11.11,sunny\n');
    const states = await readSales(path, { map });
    expect(states.festival).toEqual({ label: Int32Array.from([-1, 0]), names: ['11.11'] });
    expect(states.weather).toEqual({ kind: 'state', state: Int32Array.from([0, 1]), names: ['12.5', 'sunny'] });
    writeFileSync(path, 'date,units,price,festival,weather\n2026-01-01,3,5,,12.5\n2026-01-02,4,5,11.11,-3\n');
    expect((await readSales(path, { map })).weather).toEqual({ kind: 'temperature', temperature: Float64Array.from([12.5, -3]) });
  });

  it('leaves what the data cannot identify at documented defaults', async () => {
    const log = simulate(7, 'temperature', false);
    // Keep 200 days, drop the festival and weather columns: no festival, too short for a season, no weather.
    const short = log.csv.split('\n').slice(0, 201).map((line) => line.split(',').slice(0, 4).join(',')).join('\n');
    const path = join(folder, 'short.csv');
    writeFileSync(path, `${short}\n`);
    const result = await calibrateFile(path, { map: parseColumnMap({ date: 'date', units: 'units', price: 'price', rivalPrices: ['rival'] }, 'map'), periodLength: 'day', holdout: 0 });
    const fields = result.record.defaults.map((entry) => entry.field);
    expect(fields).toEqual(expect.arrayContaining(['festivals', 'curves.seasonality', 'weather']));
    expect(result.record.estimates.filter((estimate) => /^(festival|season|weather|temperature)/.test(estimate.parameter))).toEqual([]);
    expect(result.scenario.festivals).toBeUndefined();
    expect(result.scenario.curves?.seasonality).toBeUndefined();
  });
});
