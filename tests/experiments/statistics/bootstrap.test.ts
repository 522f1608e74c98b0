/**
 * BCa bootstrap: Efron and Tibshirani (1993), An Introduction to the Bootstrap, ch. 14, work
 * the spatial test data A (Table 14.1, n = 26) with the plug-in variance: theta_hat = 171.5,
 * jackknife acceleration a = 0.061, and a 90% BCa interval of about (115.8, 259.6) from
 * B = 2000 resamples (Table 14.2). The acceleration is deterministic and matched to 1e-3; the
 * interval depends on the resamples and is matched to 5%.
 * Coverage: on skewed data (exponential, n = 30) the 95% BCa interval of the mean should cover
 * the true mean about 95% of the time (BCa is second-order accurate; Efron 1987, JASA 82).
 */
import { describe, expect, it } from 'vitest';
import { PricelabError } from '../../../core/errors.js';
import { bootstrapBca, interquartileMean, jackknifeAcceleration, mean } from '../../../experiments/statistics/index.js';
import { exponentialDraws } from './normal-draws.js';

const spatialA = [48, 36, 20, 29, 42, 42, 20, 42, 22, 41, 45, 14, 6, 0, 33, 28, 34, 4, 32, 24, 47, 41, 24, 26, 30, 41];
const plugInVariance = (sample: readonly number[]) => {
  const centre = mean(sample);
  return sample.reduce((total, value) => total + (value - centre) ** 2, 0) / sample.length;
};

describe('BCa bootstrap', () => {
  it('reproduces Efron and Tibshirani (1993) on the spatial test data: theta 171.5, a = 0.061, 90% interval ~ (115.8, 259.6)', () => {
    const interval = bootstrapBca(spatialA, plugInVariance, { level: 0.9, resamples: 2000 });
    expect(interval.estimate).toBeCloseTo(171.534, 3);
    expect(interval.acceleration).toBeCloseTo(0.061, 3);
    expect(jackknifeAcceleration(spatialA, plugInVariance)).toBe(interval.acceleration);
    expect(interval.low / 115.8).toBeGreaterThan(0.95);
    expect(interval.low / 115.8).toBeLessThan(1.05);
    expect(interval.high / 259.6).toBeGreaterThan(0.95);
    expect(interval.high / 259.6).toBeLessThan(1.05);
    expect(interval).toMatchObject({ level: 0.9, resamples: 2000, method: 'bca' });
  });

  it('covers the mean of an exponential law about 95% of the time (300 data sets of n = 30)', () => {
    const dataSets = 300;
    let covered = 0;
    for (let set = 0; set < dataSets; set += 1) {
      const interval = bootstrapBca(exponentialDraws(set, 30), mean, { resamples: 500, seed: set });
      if (interval.low <= 1 && 1 <= interval.high) covered += 1;
    }
    const coverage = covered / dataSets;
    expect(coverage).toBeGreaterThan(0.9);
    expect(coverage).toBeLessThan(0.98);
  });

  it('is reproducible from its seed and changes with it', () => {
    const data = exponentialDraws(7, 25);
    expect(bootstrapBca(data, mean, { seed: 3 })).toEqual(bootstrapBca(data, mean, { seed: 3 }));
    expect(bootstrapBca(data, mean, { seed: 4 }).low).not.toBe(bootstrapBca(data, mean, { seed: 3 }).low);
  });

  it('has no acceleration for a symmetric sample and the mean, and brackets the estimate', () => {
    const symmetric = [-3, -2, -1, 0, 1, 2, 3];
    const interval = bootstrapBca(symmetric, mean);
    expect(interval.acceleration).toBeCloseTo(0, 12);
    expect(interval.low).toBeLessThan(0);
    expect(interval.high).toBeGreaterThan(0);
  });

  it('works with any statistic (IQM) and collapses on constant data', () => {
    const data = exponentialDraws(11, 40);
    const interval = bootstrapBca(data, (sample) => interquartileMean(sample), { resamples: 500 });
    expect(interval.low).toBeLessThanOrEqual(interval.estimate);
    expect(interval.high).toBeGreaterThanOrEqual(interval.estimate);
    expect(bootstrapBca([2, 2, 2, 2], mean)).toMatchObject({ estimate: 2, low: 2, high: 2 });
  });

  it('refuses bad options, naming each', () => {
    try {
      bootstrapBca([1], mean, { level: 95, resamples: 3 });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(PricelabError);
      expect((error as PricelabError).problems.map((problem) => problem.path[0])).toEqual(['values', 'level', 'resamples']);
    }
  });
});
