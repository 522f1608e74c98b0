/**
 * Small terminal charts of an episode (asciichart): our price against the rivals' mean,
 * and units sold, averaged into at most `width` buckets so a year fits a terminal.
 */
import asciichart from 'asciichart';
import type { StepInfo } from '../env/env.js';

export function bucketMeans(values: readonly number[], width: number): number[] {
  const buckets = Math.min(width, values.length);
  const means: number[] = [];
  for (let bucket = 0; bucket < buckets; bucket++) {
    const start = Math.floor((bucket * values.length) / buckets);
    const end = Math.floor(((bucket + 1) * values.length) / buckets);
    let sum = 0;
    for (let index = start; index < end; index++) sum += values[index] ?? 0;
    means.push(sum / Math.max(1, end - start));
  }
  return means;
}

/** A series of a chart: its legend name and its colour in a terminal. */
interface ChartSeries {
  readonly name: string;
  readonly values: readonly number[];
  readonly color: asciichart.Color;
}

/** Line styles in order: a solid line, then dotted ones, so lines stay apart without colour. */
const lineStyles = [
  { legend: '──', symbols: undefined },
  { legend: '┄┄', symbols: ['┼', '┤', '┄', '┄', '┄', '┄', '┄', '┄', '┄', '┆'] },
] as const;

/**
 * Several series on one scale with a legend. In colour each series has its colour; without,
 * the second is drawn dotted where the first leaves room (both plots share the axis, so they
 * overlay character by character).
 */
export function lineChart(series: readonly ChartSeries[], options: { height: number; color: boolean; format: (value: number) => string }): string {
  const all = series.flatMap((entry) => entry.values);
  const scale = { min: Math.min(...all), max: Math.max(...all), height: options.height, format: options.format };
  let chart: string;
  if (options.color) chart = asciichart.plot(series.map((entry) => [...entry.values]), { ...scale, colors: series.map((entry) => entry.color) });
  else {
    const layers = series.map((entry, index) => {
      const symbols = lineStyles[Math.min(index, lineStyles.length - 1)]!.symbols;
      return asciichart.plot([...entry.values], { ...scale, ...(symbols ? { symbols: [...symbols] } : {}) }).split('\n');
    });
    chart = layers[0]!
      .map((line, row) =>
        Array.from(line, (character, column) => {
          if (character !== ' ') return character;
          for (const layer of layers.slice(1)) {
            const below = layer[row]?.[column];
            if (below !== undefined && below !== ' ') return below;
          }
          return character;
        }).join(''),
      )
      .join('\n');
  }
  const legend = series
    .map((entry, index) => (options.color ? `${entry.color}──${asciichart.reset} ${entry.name}` : `${lineStyles[Math.min(index, lineStyles.length - 1)]!.legend} ${entry.name}`))
    .join('   ');
  return `${chart}\n${' '.repeat(11)}${legend}`;
}

export function episodeCharts(steps: readonly StepInfo[], options: { width?: number; color?: boolean } = {}): string {
  const width = options.width ?? 72;
  const color = options.color ?? false;
  const days = steps.length;
  const perBucket = Math.max(1, Math.round(days / Math.min(width, days)));
  const ourPrice = bucketMeans(steps.map((step) => step.price), width);
  const hasRivals = (steps[0]?.prices.length ?? 0) > 1;
  const rivalMean = bucketMeans(steps.map((step) => (step.prices.length > 1 ? step.prices.slice(1).reduce((sum, price) => sum + price, 0) / (step.prices.length - 1) : step.price)), width);
  const units = bucketMeans(steps.map((step) => step.market.sold), width);
  const lost = bucketMeans(steps.map((step) => step.market.lostSales), width);
  const hasLost = lost.some((value) => value > 0);
  const priceChart = lineChart(
    [{ name: 'our price', values: ourPrice, color: asciichart.blue }, ...(hasRivals ? [{ name: "rivals' mean price", values: rivalMean, color: asciichart.red }] : [])],
    { height: 8, color, format: (value) => value.toFixed(2).padStart(9) },
  );
  const unitChart = lineChart(
    [{ name: 'units sold', values: units, color: asciichart.green }, ...(hasLost ? [{ name: 'lost sales (units)', values: lost, color: asciichart.red }] : [])],
    { height: 8, color, format: (value) => value.toFixed(1).padStart(9) },
  );
  return [
    `price (${hasRivals ? "ours, and the rivals' mean" : 'ours'}), mean per ${perBucket}-day bucket`,
    priceChart,
    `units sold per day${hasLost ? ' (and lost sales)' : ''}, mean per ${perBucket}-day bucket`,
    unitChart,
  ].join('\n');
}
