/**
 * Weather: a Markov chain over states (e.g. sunny, cloudy, rain, storm) with one
 * transition matrix per season, and a daily temperature = seasonal mean (a scenario curve)
 * + the state's offset + Gaussian noise. Segments carry an arrival multiplier per state,
 * scaled on weekends (for online fashion good weather lowers demand more than bad weather
 * raises it, and more so on weekends: Steinker, Hoberg & Thonemann 2017).
 *
 * The whole path (one day past the horizon, for tomorrow's forecast) is drawn at reset from
 * the weather stream, three uniforms a day: the weather never depends on the agent.
 */
import type { Weather } from '../scenarios/schema.js';
import type { Calendar } from './calendar.js';
import type { RandomStream } from '../core/random.js';
import { indexFromCumulative } from './sampling.js';

export interface WeatherModel {
  readonly stateNames: readonly string[];
  readonly temperatureOffset: Float64Array;
  /** cumulative[season][from] = cumulative transition probabilities to each state */
  readonly cumulative: readonly (readonly Float64Array[])[];
  readonly temperatureNoise: number;
  readonly initialState: number;
}

export function buildWeatherModel(weather: Weather): WeatherModel {
  const stateNames = weather.states.map((state) => state.name);
  const seasons = [weather.transitions.winter, weather.transitions.spring, weather.transitions.summer, weather.transitions.autumn];
  const cumulative = seasons.map((matrix) =>
    matrix.map((row) => {
      const sums = new Float64Array(row.length);
      let total = 0;
      row.forEach((probability, index) => {
        total += probability;
        sums[index] = total;
      });
      sums[row.length - 1] = 1;
      return sums;
    }),
  );
  return {
    stateNames,
    temperatureOffset: Float64Array.from(weather.states.map((state) => state.temperatureOffset)),
    cumulative,
    temperatureNoise: weather.temperatureNoise,
    initialState: Math.max(0, stateNames.indexOf(weather.initialState)),
  };
}

/** Fills states[0..n) and temperatures[0..n) for days 0..n-1 of the calendar (day n-1 may be past it). */
export function drawWeatherPath(
  model: WeatherModel,
  calendar: Calendar,
  temperatureMean: Float64Array,
  random: RandomStream,
  states: Int8Array,
  temperatures: Float64Array,
): void {
  let state = model.initialState;
  const lastCalendarDay = calendar.days - 1;
  // Box-Muller gives two normals per logarithm: day 2d uses the cosine, day 2d+1 the sine of
  // the pair drawn on day 2d. Every day still draws three uniforms, so the stream is aligned.
  let pairedNormal = 0;
  for (let day = 0; day < states.length; day++) {
    const calendarDay = Math.min(day, lastCalendarDay);
    const transition = random.next();
    const noiseFirst = random.next();
    const noiseSecond = random.next();
    let normal: number;
    if ((day & 1) === 0) {
      const radius = Math.sqrt(-2 * Math.log(1 - noiseFirst));
      const angle = 2 * Math.PI * noiseSecond;
      normal = radius * Math.cos(angle);
      pairedNormal = radius * Math.sin(angle);
    } else normal = pairedNormal;
    if (day > 0) {
      const rows = model.cumulative[calendar.season[calendarDay] ?? 0];
      const row = rows?.[state];
      if (row) state = indexFromCumulative(row, transition);
    }
    states[day] = state;
    temperatures[day] = (temperatureMean[calendarDay] ?? 0) + (model.temperatureOffset[state] ?? 0) + model.temperatureNoise * normal;
  }
}
