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
  const priceSeries = hasRivals ? [ourPrice, rivalMean] : [ourPrice];
  const colors = color ? [asciichart.blue, asciichart.red] : undefined;
  const priceChart = asciichart.plot(priceSeries, { height: 8, ...(colors ? { colors } : {}), format: (value: number) => value.toFixed(2).padStart(9) });
  const unitChart = asciichart.plot(lost.some((value) => value > 0) ? [units, lost] : [units], { height: 8, ...(colors ? { colors: [asciichart.green, asciichart.red] } : {}), format: (value: number) => value.toFixed(1).padStart(9) });
  return [
    `price (${hasRivals ? 'ours, and the rivals\' mean' : 'ours'}), mean per ${perBucket}-day bucket`,
    priceChart,
    `units sold per day${lost.some((value) => value > 0) ? ' (and lost sales)' : ''}, mean per ${perBucket}-day bucket`,
    unitChart,
  ].join('\n');
}
