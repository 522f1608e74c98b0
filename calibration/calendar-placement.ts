/**
 * Card: the calendar estimates placed in the scenario's own blocks (festivals,
 * curves.seasonality, curves.temperature, curves.demandMultiplier, weather and the segment's
 * weather multipliers), with every estimate and default recorded (the model as a whole:
 * calibration/calendar-effects.ts).
 *
 * Placement (`placeCalendarEffects`), with m = exp(beta) the window multipliers, D the
 * festival's days and K = k x days per period:
 *   m_before < 1 -> deferralShare = 1 - m_before over deferralDays = K (no pre-sale);
 *   m_before > 1 -> a pre-sale of K days, presaleUplift = m_before;
 *   uplift = max(1, m_during - moved / D), moved = K (1 - m_before)+ + K (1 - m_after)+
 *     (the simulator adds the deferred and dipped demand to the event days);
 *   m_after < 1 -> dipShare = K (1 - m_after) / ((uplift - 1) D) over dipDays = K;
 * so the scenario's mean multiplier over each window equals the fitted one (the dip decays
 * linearly in the simulator; its mean over the K days is what is matched). A post-event
 * boost (m_after > 1) has no place in the festival block and is listed as not placed.
 * Intervals of the placed values: the delta method on the window coefficients' covariance.
 * Season -> curves.seasonality = exp(sum of the Fourier terms); temperature ->
 * curves.demandMultiplier = exp(beta (temperature - Tbar)) and curves.temperature = the
 * least-squares Fourier fit of the temperatures (their mean when the history is short);
 * weather states -> a weather block whose transitions are the observed daily transition
 * frequencies per northern season (a Markov chain's maximum likelihood) and the segment's
 * multipliers exp(beta_state). Whatever has no place or no data is listed among defaults.
 * The rivals' festival discount is a two-sample comparison of their log prices (`rivalDiscount`).
 * Every pass over the rows reads the history block by block, the design's columns computed
 * per block (`designColumnBlocks`).
 */

/** Each block of the history with the design's columns over its rows (buffers reused: valid until the next block). */
function* designColumnBlocks(sales: SalesData, design: CalendarDesign): Generator<{ readonly block: SalesBlock; readonly columns: readonly Float64Array[] }> {
  let buffers: Float64Array[] = [];
  for (const block of salesBlocks(sales)) {
    if ((buffers[0]?.length ?? 0) < block.rows) buffers = design.names.map(() => new Float64Array(block.rows));
    const columns = buffers.map((buffer) => buffer.subarray(0, block.rows));
    design.fillBlock(block, columns);
    yield { block, columns };
  }
}
import { Matrix, inverse } from 'ml-matrix';
import tQuantile from '@stdlib/stats-base-dists-t-quantile';
import type { CalibrationRecord } from '../scenarios/calibration-record.js';
import type { ScenarioInput } from '../scenarios/schema.js';
import { seasonNames, yearDays, type CalendarDesign } from './calendar-design.js';
import type { CalendarFit } from './calendar-traffic-fit.js';
import type { SalesData } from './reader.js';
import { salesBlocks, type SalesBlock } from './sales-blocks.js';

type Estimates = CalibrationRecord['estimates'];
type Defaults = CalibrationRecord['defaults'];
type FestivalInput = NonNullable<ScenarioInput['festivals']>[number];
type WeatherInput = NonNullable<ScenarioInput['weather']>;

const z95 = 1.959963984540054;

export interface CalendarPlacement {
  readonly festivals: FestivalInput[];
  readonly curves: { seasonality?: string; temperature?: string | number; demandMultiplier?: string };
  readonly weather: WeatherInput | undefined;
  /** The segment's arrival multiplier per weather state. */
  readonly segmentWeather: Record<string, number> | undefined;
  readonly estimates: Estimates;
  readonly defaults: Defaults;
  /** Mean over rows of the fitted calendar multiplier exp(X beta). */
  readonly meanMultiplier: number;
}

const round = (value: number) => Number(value.toPrecision(6));
const coefficient = (value: number) => {
  const text = String(round(value));
  return text.startsWith('-') ? `(${text})` : text;
};

/** Values, standard errors and intervals of a function of some coefficients by the delta method (numeric gradient). */
function deltaMethod(fit: CalendarFit, indices: readonly number[], transform: (values: readonly number[]) => number): { value: number; standardError: number; lower: number; upper: number } {
  const base = indices.map((index) => fit.estimates[index]?.value ?? 0);
  const value = transform(base);
  const gradient = indices.map((_, position) => {
    const step = 1e-6 * Math.max(1, Math.abs(base[position] ?? 0));
    const up = base.slice();
    const down = base.slice();
    up[position] = (up[position] ?? 0) + step;
    down[position] = (down[position] ?? 0) - step;
    return (transform(up) - transform(down)) / (2 * step);
  });
  let variance = 0;
  indices.forEach((row, left) => indices.forEach((column, right) => (variance += (gradient[left] ?? 0) * (gradient[right] ?? 0) * (fit.covariance[row]?.[column] ?? Number.NaN))));
  const standardError = Math.sqrt(Math.max(0, variance));
  return { value, standardError, lower: value - z95 * standardError, upper: value + z95 * standardError };
}

/** The calendar estimates placed in the scenario's blocks, with every estimate and default recorded. */
export function placeCalendarEffects(sales: SalesData, design: CalendarDesign, fit: CalendarFit | undefined): CalendarPlacement {
  const estimates: Estimates = [];
  const defaults: Defaults = [...design.defaults];
  const festivals: FestivalInput[] = [];
  const curves: CalendarPlacement['curves'] = {};
  const indexOf = (name: string) => design.names.indexOf(name);
  const valueOf = (name: string) => (indexOf(name) >= 0 ? (fit?.estimates[indexOf(name)]?.value ?? 0) : 0);
  const record = (parameter: string, scenarioPath: string | undefined, value: { value: number; standardError: number; lower: number; upper: number }, method: string) => {
    estimates.push({
      parameter,
      ...(scenarioPath === undefined ? {} : { scenarioPath }),
      value: round(value.value),
      standardError: round(Number.isFinite(value.standardError) ? value.standardError : 0),
      lower: round(value.lower),
      upper: round(value.upper),
      method,
    });
  };
  if (!fit || design.names.length === 0) return { festivals, curves, weather: undefined, segmentWeather: undefined, estimates, defaults, meanMultiplier: 1 };

  // Every coefficient, as fitted (log multipliers of arrivals).
  fit.estimates.forEach((estimate, index) => {
    const term = design.terms[index];
    const path = term?.kind === 'season' ? 'curves.seasonality' : term?.kind === 'temperature' ? 'curves.demandMultiplier' : undefined;
    record(estimate.name, path, estimate, `log arrival multiplier; ${fit.method}`);
  });

  // Festivals.
  const windowDays = design.windowPeriods * design.daysPerPeriod;
  design.festivals.forEach((festival) => {
    const position = festivals.length;
    const at = `festivals[${position}]`;
    const indices = (['before', 'during', 'after'] as const).map((window) => indexOf(`festival:${festival.name}:${window}`));
    const duringIndex = indices[1] ?? -1;
    if (duringIndex < 0) {
      defaults.push({ field: `festival ${festival.name}`, value: 'not placed', reason: 'its during multiplier is not identified' });
      return;
    }
    const durationDays = festival.durationPeriods * design.daysPerPeriod;
    // Work on the log multipliers of the three windows (a missing window is 0, multiplier 1).
    const present = indices.filter((index) => index >= 0);
    const pick = (values: readonly number[], window: number) => {
      const index = indices[window] ?? -1;
      return index >= 0 ? Math.exp(values[present.indexOf(index)] ?? 0) : 1;
    };
    const moved = (values: readonly number[]) => windowDays * (Math.max(0, 1 - pick(values, 0)) + Math.max(0, 1 - pick(values, 2)));
    const uplift = (values: readonly number[]) => Math.max(1, pick(values, 1) - moved(values) / durationDays);
    const method = `from the window multipliers m = exp(beta) (before, during, after; k = ${design.windowPeriods} period(s)): ${fit.method}; interval by the delta method`;
    const before = pick(present.map((index) => fit.estimates[index]?.value ?? 0), 0);
    const after = pick(present.map((index) => fit.estimates[index]?.value ?? 0), 2);
    const block: FestivalInput = {
      name: festival.name,
      date: festival.monthDay,
      durationDays: Math.max(1, durationDays),
      uplift: 1,
      deferralShare: 0,
      deferralDays: 0,
      dipShare: 0,
      dipDays: 0,
      competitorDiscount: 0,
    };
    const upliftValue = uplift(present.map((index) => fit.estimates[index]?.value ?? 0));
    block.uplift = round(Math.min(100, upliftValue));
    record(`festival:${festival.name}:uplift`, `${at}.uplift`, deltaMethod(fit, present, uplift), `uplift = max(1, m_during - moved / D) with moved = K (1 - m_before)+ + K (1 - m_after)+, D = ${durationDays} day(s), K = ${windowDays} day(s), ${method}`);
    if ((indices[0] ?? -1) >= 0) {
      if (before < 1) {
        block.deferralShare = round(Math.min(0.5, 1 - before));
        block.deferralDays = windowDays;
        record(`festival:${festival.name}:deferralShare`, `${at}.deferralShare`, deltaMethod(fit, present, (values) => 1 - pick(values, 0)), `deferralShare = 1 - m_before over the ${windowDays} day(s) before, ${method}`);
        if (1 - before > 0.5) defaults.push({ field: `${at}.deferralShare`, value: 0.5, reason: `the fitted share ${round(1 - before)} exceeds the schema's 0.5: capped` });
        defaults.push({ field: `${at}.presaleUplift`, value: 1, reason: 'the before window lowers arrivals (deferral): a pre-sale and a deferral cannot be told apart in one window, so no pre-sale' });
      } else {
        block.presaleStart = new Date(Date.UTC(2025, Number(festival.monthDay.slice(0, 2)) - 1, Number(festival.monthDay.slice(3)) - windowDays)).toISOString().slice(5, 10);
        block.presaleUplift = round(Math.min(100, before));
        record(`festival:${festival.name}:presaleUplift`, `${at}.presaleUplift`, deltaMethod(fit, present, (values) => pick(values, 0)), `presaleUplift = m_before over a pre-sale of the ${windowDays} day(s) before, ${method}`);
        defaults.push({ field: `${at}.deferralShare`, value: 0, reason: 'the before window raises arrivals (a pre-sale): a deferral within it cannot be told apart' });
      }
    }
    if ((indices[2] ?? -1) >= 0) {
      if (after < 1 && upliftValue > 1) {
        const dipShare = (values: readonly number[]) => (windowDays * (1 - pick(values, 2))) / ((uplift(values) - 1) * durationDays);
        const value = dipShare(present.map((index) => fit.estimates[index]?.value ?? 0));
        block.dipShare = round(Math.min(1, value));
        block.dipDays = windowDays;
        record(`festival:${festival.name}:dipShare`, `${at}.dipShare`, deltaMethod(fit, present, dipShare), `dipShare = K (1 - m_after) / ((uplift - 1) D), the dip's mean over dipDays = K matching m_after, ${method}`);
        if (value > 1) defaults.push({ field: `${at}.dipShare`, value: 1, reason: `the fitted share ${round(value)} exceeds 1: capped (the after-dip is larger than the festival's created bump)` });
      } else {
        defaults.push({
          field: `${at}.dipShare`,
          value: 0,
          reason: after >= 1 ? `the after window raises arrivals (multiplier ${round(after)}): a post-event boost has no place in the festival block, not placed` : 'the event creates no demand (uplift 1): a dip cannot be placed as a share of it',
        });
      }
    }
    const discount = rivalDiscount(sales, design, festival.name);
    if (discount) record(`festival:${festival.name}:competitorDiscount`, discount.value > 0 ? `${at}.competitorDiscount` : undefined, discount, discount.method);
    if (discount && discount.value > 0) block.competitorDiscount = round(Math.min(0.9, discount.value));
    else {
      defaults.push({
        field: `${at}.competitorDiscount`,
        value: 0,
        reason: discount ? `rivals did not price lower on the festival (fitted discount ${round(discount.value)}): no discount` : 'no rival price column, or no festival or ordinary row to compare',
      });
    }
    if (sales.periodKind !== 'date') defaults.push({ field: `${at}.date`, value: festival.monthDay, reason: 'the history has period numbers: the festival is placed on the scenario\'s own calendar (day 0 is 2026-01-01)' });
    const otherDays = [...new Set(festival.monthDays)].filter((day) => day !== festival.monthDay);
    if (otherDays.length > 0) defaults.push({ field: `${at}.date`, value: festival.monthDay, reason: `occurrences start on different days (${[...new Set(festival.monthDays)].join(', ')}): the simulator repeats one month-day each year, the first occurrence's` });
    festivals.push(block);
  });

  // Season.
  if (design.seasonOrder > 0) {
    const parts: string[] = [];
    design.terms.forEach((term, index) => {
      if (term.kind !== 'season') return;
      parts.push(`${coefficient(fit.estimates[index]?.value ?? 0)} * ${term.wave}(2 * pi * ${term.harmonic} * dayOfYear / ${yearDays})`);
    });
    curves.seasonality = `exp(${parts.join(' + ')})`;
  }

  // Weather.
  let weather: WeatherInput | undefined;
  let segmentWeather: Record<string, number> | undefined;
  if (design.temperatureReference !== undefined && indexOf('temperature') >= 0) {
    curves.demandMultiplier = `exp(${coefficient(valueOf('temperature'))} * (temperature - ${coefficient(design.temperatureReference)}))`;
    if ((sales.weatherKind ?? sales.weather?.kind) === 'temperature') {
      const mean = temperatureCurve(sales, design);
      curves.temperature = mean.curve;
      mean.estimates.forEach((estimate) => estimates.push(estimate));
      defaults.push({
        field: 'weather',
        value: 'none',
        reason: `the day-to-day spread of the temperature around its mean curve (sd ${round(mean.residualSd)} C) has no place without weather states: the simulator's temperature is the mean curve`,
      });
    }
  }
  const weatherNames = sales.weatherNames ?? (sales.weather?.kind === 'state' ? sales.weather.names : []);
  if (design.weatherStates.length >= 2 && (sales.weatherKind ?? sales.weather?.kind) === 'state') {
    segmentWeather = {};
    for (const [index, term] of design.terms.entries()) {
      if (term.kind !== 'weather') continue;
      const name = weatherNames[term.state] ?? '';
      const estimate = fit.estimates[index];
      if (!estimate) continue;
      segmentWeather[name] = round(Math.min(100, Math.exp(estimate.value)));
      record(`weather:${name}:multiplier`, design.daysPerPeriod === 1 ? `demand.segments[0].weather.${name}` : undefined, deltaMethod(fit, [index], (values) => Math.exp(values[0] ?? 0)), `exp(beta) against the most frequent state (${design.weatherStates[0]}, multiplier 1); ${fit.method}; interval by the delta method`);
    }
    if (design.daysPerPeriod === 1) {
      const chain = weatherChain(sales, design, weatherNames);
      weather = chain.weather;
      chain.estimates.forEach((estimate) => estimates.push(estimate));
      chain.defaults.forEach((entry) => defaults.push(entry));
    } else {
      segmentWeather = undefined;
      defaults.push({ field: 'weather', value: 'not placed', reason: 'weekly weather states cannot give the simulator\'s daily Markov chain: the state multipliers are recorded only' });
    }
    defaults.push({ field: 'demand.segments[0].weekendWeatherAmplifier', value: 1, reason: 'the weekend amplification of the weather effect is not fitted' });
  }

  let total = 0;
  for (const { block, columns } of designColumnBlocks(sales, design)) {
    for (let row = 0; row < block.rows; row++) {
      let eta = 0;
      columns.forEach((column, index) => (eta += (fit.estimates[index]?.value ?? 0) * (column[row] ?? 0)));
      total += Math.exp(eta);
    }
  }
  return { festivals, curves, weather, segmentWeather, estimates, defaults, meanMultiplier: total / Math.max(1, sales.rows) };
}

/**
 * The rivals' festival discount: with x_t the mean over rivals of log price on row t,
 * d = mean x on the festival's rows - mean x on rows outside its windows, discount = 1 - exp(d)
 * (the simulator posts regular x (1 - discount)); interval from Student's two-sample t with
 * the pooled variance (a festival has few rows: Welch's variance from two of them is too
 * unstable; a multiplicative discount leaves the spread of log prices as it is), mapped
 * through 1 - exp; optimistic when rival prices are autocorrelated.
 */
function rivalDiscount(sales: SalesData, design: CalendarDesign, name: string): { value: number; standardError: number; lower: number; upper: number; method: string } | undefined {
  if (sales.rivalNames.length === 0) return undefined;
  const at = (window: string) => design.names.indexOf(`festival:${name}:${window}`);
  const duringIndex = at('during');
  if (duringIndex < 0) return undefined;
  const windowIndices = [at('before'), at('after')];
  const groups = [{ count: 0, sum: 0, squares: 0 }, { count: 0, sum: 0, squares: 0 }];
  for (const { block, columns } of designColumnBlocks(sales, design)) {
    const during = columns[duringIndex] as Float64Array;
    const windows = windowIndices.map((index) => (index >= 0 ? columns[index] : undefined));
    for (let row = 0; row < block.rows; row++) {
      const festive = during[row] === 1;
      if (!festive && windows.some((window) => window?.[row] === 1)) continue;
      let x = 0;
      for (const prices of block.rivalPrices) x += Math.log(prices[row] ?? 1);
      x /= block.rivalPrices.length;
      const group = groups[festive ? 0 : 1]!;
      group.count++;
      group.sum += x;
      group.squares += x * x;
    }
  }
  const [festive, ordinary] = groups as [(typeof groups)[number], (typeof groups)[number]];
  if (festive.count < 1 || ordinary.count < 2) return undefined;
  const mean = (group: typeof festive) => group.sum / group.count;
  const squaredDeviations = (group: typeof festive) => Math.max(0, group.squares - group.count * mean(group) ** 2);
  const freedom = festive.count + ordinary.count - 2;
  const pooledVariance = (squaredDeviations(festive) + squaredDeviations(ordinary)) / freedom;
  const difference = mean(festive) - mean(ordinary);
  const t = tQuantile(0.975, freedom);
  const standardError = Math.sqrt(pooledVariance * (1 / festive.count + 1 / ordinary.count));
  const value = 1 - Math.exp(difference);
  return {
    value,
    standardError: Math.exp(difference) * standardError,
    lower: 1 - Math.exp(difference + t * standardError),
    upper: 1 - Math.exp(difference - t * standardError),
    method: `1 - exp(mean log rival price on the festival's ${festive.count} rows - on the ${ordinary.count} rows outside its windows), the rivals averaged per row; interval from Student's t with the pooled variance (${freedom} degrees of freedom) on the difference, through 1 - exp (optimistic when rival prices are autocorrelated)`,
  };
}

/** The mean temperature over the year: least squares on the season's Fourier terms (a constant when there are none). */
function temperatureCurve(sales: SalesData, design: CalendarDesign): { curve: string | number; estimates: Estimates; residualSd: number } {
  const seasonColumns = design.terms.flatMap((term, index) => (term.kind === 'season' ? [{ term, index }] : []));
  const rows = sales.rows;
  const size = seasonColumns.length + 1;
  const xtx = Matrix.zeros(size, size);
  const xty = Matrix.zeros(size, 1);
  const x = new Float64Array(size);
  for (const { block, columns } of designColumnBlocks(sales, design)) {
    const temperature = block.weatherValue;
    for (let row = 0; row < block.rows; row++) {
      x[0] = 1;
      seasonColumns.forEach(({ index }, position) => (x[position + 1] = columns[index]?.[row] ?? 0));
      for (let p = 0; p < size; p++) {
        xty.set(p, 0, xty.get(p, 0) + (x[p] ?? 0) * (temperature?.[row] ?? 0));
        for (let q = 0; q < size; q++) xtx.set(p, q, xtx.get(p, q) + (x[p] ?? 0) * (x[q] ?? 0));
      }
    }
  }
  const inverted = inverse(xtx);
  const beta = inverted.mmul(xty).getColumn(0);
  let residuals = 0;
  for (const { block, columns } of designColumnBlocks(sales, design)) {
    const temperature = block.weatherValue;
    for (let row = 0; row < block.rows; row++) {
      let fitted = beta[0] ?? 0;
      seasonColumns.forEach(({ index }, position) => (fitted += (beta[position + 1] ?? 0) * (columns[index]?.[row] ?? 0)));
      residuals += ((temperature?.[row] ?? 0) - fitted) ** 2;
    }
  }
  const variance = residuals / Math.max(1, rows - size);
  const method = 'ordinary least squares of the temperature on a constant and the season\'s Fourier terms; Wald interval from sigma^2 (X\'X)^-1 (optimistic when temperatures are autocorrelated)';
  const names = ['temperatureMean', ...seasonColumns.map(({ term }) => (term.kind === 'season' ? `temperature:${term.wave}${term.harmonic}` : ''))];
  const estimates: Estimates = names.map((parameter, index) => {
    const value = beta[index] ?? 0;
    const standardError = Math.sqrt(variance * inverted.get(index, index));
    return { parameter, scenarioPath: 'curves.temperature', value: round(value), standardError: round(standardError), lower: round(value - z95 * standardError), upper: round(value + z95 * standardError), method };
  });
  const curve =
    seasonColumns.length === 0
      ? round(beta[0] ?? 0)
      : [coefficient(beta[0] ?? 0), ...seasonColumns.map(({ term }, index) => (term.kind === 'season' ? `${coefficient(beta[index + 1] ?? 0)} * ${term.wave}(2 * pi * ${term.harmonic} * dayOfYear / ${yearDays})` : ''))].join(' + ');
  return { curve, estimates, residualSd: Math.sqrt(variance) };
}

/** The weather chain from the observed daily states: transition frequencies per northern season (the Markov chain MLE). */
function weatherChain(sales: SalesData, design: CalendarDesign, weatherNames: readonly string[]): { weather: WeatherInput; estimates: Estimates; defaults: Defaults } {
  const states = design.weatherStates;
  const count = states.length;
  const position = new Int32Array(weatherNames.length);
  weatherNames.forEach((name, index) => (position[index] = states.indexOf(name)));
  // counts[season][from][to], from consecutive days of the same store: the rows in (store, day) order, ties in row order.
  // Per store and day, the state of its first and last row (-1 for no row): stores x days cells, not rows.
  let firstDay = Number.POSITIVE_INFINITY;
  let lastDay = Number.NEGATIVE_INFINITY;
  for (const block of salesBlocks(sales)) {
    for (let row = 0; row < block.rows; row++) {
      const day = block.period[row] ?? 0;
      if (day < firstDay) firstDay = day;
      if (day > lastDay) lastDay = day;
    }
  }
  const days = sales.rows > 0 ? lastDay - firstDay + 1 : 0;
  const stores = sales.storeNames.length;
  const firstState = new Int16Array(stores * days).fill(-1);
  const lastState = new Int16Array(stores * days).fill(-1);
  const rowsInCell = new Uint8Array(stores * days);
  for (const block of salesBlocks(sales)) {
    for (let row = 0; row < block.rows; row++) {
      const cell = (block.store[row] ?? 0) * days + ((block.period[row] ?? 0) - firstDay);
      const state = block.weatherLabel?.[row] ?? 0;
      if ((firstState[cell] ?? -1) < 0) firstState[cell] = state;
      lastState[cell] = state;
      rowsInCell[cell] = Math.min(2, (rowsInCell[cell] ?? 0) + 1);
    }
  }
  const counts = seasonNames.map(() => Array.from({ length: count }, () => new Float64Array(count)));
  let initial = -1;
  let rowsSeen = 0;
  let previous = -1;
  for (let cell = 0; cell < stores * days; cell++) {
    if ((firstState[cell] ?? -1) < 0) continue;
    rowsSeen += rowsInCell[cell] ?? 0;
    if (initial < 0) initial = firstState[cell] ?? 0;
    // The previous row in (store, day) order is the last of the previous cell: a transition when it is the day before in the same store.
    if (previous >= 0 && previous === cell - 1 && cell % days !== 0) {
      const from = lastState[previous] ?? 0;
      const to = firstState[cell] ?? 0;
      const row = counts[design.dayOf(firstDay + (cell % days)).season]?.[position[from] ?? 0];
      if (row) row[position[to] ?? 0] = (row[position[to] ?? 0] ?? 0) + 1;
    }
    previous = cell;
  }
  // With one row there is no pair and the first state is not taken (as the sorted rows' pairs did).
  const firstStateIndex = rowsSeen >= 2 && initial >= 0 ? (position[initial] ?? 0) : -1;
  const estimates: Estimates = [];
  const defaults: Defaults = [];
  const pooled = Array.from({ length: count }, (_, from) => Array.from({ length: count }, (_, to) => counts.reduce((total, season) => total + (season[from]?.[to] ?? 0), 0)));
  const method = 'observed transition frequency between consecutive days in that season (the Markov chain\'s maximum likelihood); Wald interval sqrt(p (1 - p) / n), clipped to [0, 1]';
  const transitions = Object.fromEntries(
    seasonNames.map((season, seasonIndex) => [
      season,
      Array.from({ length: count }, (_, from) => {
        let row = Array.from(counts[seasonIndex]?.[from] ?? new Float64Array(count));
        let total = row.reduce((sum, value) => sum + value, 0);
        let source = 'season';
        if (total === 0) {
          row = pooled[from] ?? [];
          total = row.reduce((sum, value) => sum + value, 0);
          source = 'pooled';
        }
        if (total === 0) {
          row = Array.from({ length: count }, (_, to) => (to === from ? 1 : 0));
          total = 1;
          source = 'stay';
        }
        const probabilities = row.map((value) => value / total);
        if (source !== 'season') {
          defaults.push({
            field: `weather.transitions.${season}[${from}]`,
            value: source === 'pooled' ? 'all seasons pooled' : 'stays put',
            reason: `no day in ${season} follows a ${states[from]} day${source === 'pooled' ? ': the transitions from it over all seasons are used' : ' in any season: the state is kept'}`,
          });
        } else {
          probabilities.forEach((probability, to) => {
            const standardError = Math.sqrt((probability * (1 - probability)) / total);
            estimates.push({
              parameter: `weather:${season}:${states[from]}->${states[to]}`,
              scenarioPath: `weather.transitions.${season}[${from}][${to}]`,
              value: round(probability),
              standardError: round(standardError),
              lower: round(Math.max(0, probability - z95 * standardError)),
              upper: round(Math.min(1, probability + z95 * standardError)),
              method,
            });
          });
        }
        // Rounded entries must still sum to 1: the last takes the remainder.
        const rounded = probabilities.map((value) => round(value));
        const rest = 1 - rounded.slice(0, -1).reduce((sum, value) => sum + value, 0);
        rounded[count - 1] = Math.max(0, round(rest));
        return rounded;
      }),
    ]),
  ) as WeatherInput['transitions'];
  defaults.push({ field: 'weather.states[].temperatureOffset', value: 0, reason: 'a state column has no temperature: every state\'s offset is 0' });
  defaults.push({ field: 'weather.temperatureNoise', value: 0, reason: 'a state column has no temperature' });
  return {
    weather: {
      states: states.map((name) => ({ name, temperatureOffset: 0 })),
      transitions,
      temperatureNoise: 0,
      initialState: states[Math.max(0, firstStateIndex)] ?? states[0] ?? '',
    },
    estimates,
    defaults,
  };
}
