/**
 * experiments/statistics/: the statistics of comparing arms (policies) across seeds: t-tests,
 * BCa bootstrap, Holm and Benjamini-Hochberg adjustment, IQM and probability of improvement,
 * power (MDE and sample size), always-valid sequential intervals, and the verdict.
 * docs/statistics.md gives every formula and its source.
 */
export { welchTTest, pairedTTest, oneSampleTTest, type TTestResult } from './t-tests.js';
export { bootstrapBca, jackknifeAcceleration, sortedQuantile, type BootstrapInterval, type BootstrapOptions } from './bootstrap.js';
export { holmAdjust, benjaminiHochbergAdjust } from './multiple-comparisons.js';
export { interquartileMean, probabilityOfImprovement, type InterquartileMeanOptions } from './robust.js';
export { minimumDetectableEffect, sampleSize, powerOfTTest, type PowerOptions } from './power.js';
export { alwaysValidInterval, alwaysValidPValue, ConfidenceSequence, type AlwaysValidInterval, type AlwaysValidOptions } from './sequential.js';
export { verdictOf, type Verdict, type VerdictOptions } from './verdict.js';
export { mean, sampleVariance, sampleStandardDeviation } from './moments.js';
