/**
 * Summaries across episodes: mean, standard deviation and a 95% Student-t interval of the
 * mean, per KPI. (The full comparison statistics, paired and corrected, live beside this.)
 */
import tQuantile from '@stdlib/stats-base-dists-t-quantile';
import type { EpisodeKpis } from '../env/kpis.js';

export interface IntervalSummary {
  mean: number;
  sd: number;
  low: number;
  high: number;
  n: number;
}

export function summarise(values: readonly number[], level = 0.95): IntervalSummary {
  const n = values.length;
  const mean = values.reduce((total, value) => total + value, 0) / Math.max(1, n);
  if (n < 2) return { mean, sd: 0, low: mean, high: mean, n };
  const variance = values.reduce((total, value) => total + (value - mean) ** 2, 0) / (n - 1);
  const sd = Math.sqrt(variance);
  const half = tQuantile(1 - (1 - level) / 2, n - 1) * (sd / Math.sqrt(n));
  return { mean, sd, low: mean - half, high: mean + half, n };
}

export type KpiName = keyof EpisodeKpis;

export function summariseKpis(episodes: readonly EpisodeKpis[]): Partial<Record<KpiName, IntervalSummary>> {
  const summary: Partial<Record<KpiName, IntervalSummary>> = {};
  const first = episodes[0];
  if (!first) return summary;
  for (const key of Object.keys(first) as KpiName[]) {
    const values = episodes.map((episode) => episode[key]).filter((value): value is number => typeof value === 'number');
    if (values.length === episodes.length) summary[key] = summarise(values);
  }
  return summary;
}
