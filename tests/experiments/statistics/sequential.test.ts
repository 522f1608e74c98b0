/**
 * Always-valid inference: the asymptotic confidence sequence of Waudby-Smith et al. 2021
 * (the sd estimated from the differences seen so far), the normal mixture of Howard et al.
 * 2021 when the sd is known, and the running intersection reported on top.
 *
 * What is checked: the closed form on a hand-worked case; the interval never widens and a
 * verdict never flips back, whatever the stream (fast-check); coverage under peeking at every
 * step, by simulation (true mean outside the interval at ANY time in at most alpha + slack of
 * the streams); the p-value agrees with the interval; mSPRT keeps the type-I error below alpha
 * where repeated t-tests do not.
 */
import tQuantile from '@stdlib/stats-base-dists-t-quantile';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PricelabError } from '../../../core/errors.js';
import { alwaysValidInterval, alwaysValidPValue, ConfidenceSequence, oneSampleTTest } from '../../../experiments/statistics/index.js';
import { mixingVarianceFor, unitBoundary } from '../../../experiments/statistics/sequential.js';
import { exponentialDraws, normalDraws } from './normal-draws.js';

/** Fraction of streams whose true mean falls outside the reported interval at some step. */
function missedAtAnyTime(streams: number, length: number, draw: (stream: number) => number[], trueMean: number): number {
  let missed = 0;
  for (let stream = 0; stream < streams; stream += 1) {
    const sequence = new ConfidenceSequence();
    for (const value of draw(stream).slice(0, length)) {
      const interval = sequence.push(value);
      if (interval.low > trueMean || interval.high < trueMean) {
        missed += 1;
        break;
      }
    }
  }
  return missed / streams;
}

const verdictOf = (low: number, high: number): number => (low > 0 ? 1 : high < 0 ? -1 : 0);

describe('always-valid interval (confidence sequence, running intersection)', () => {
  it('matches the closed form with a known sd: the intersection of m_k -/+ sd u_k', () => {
    const differences = [1, 3, 2, 2];
    const rho2 = mixingVarianceFor(20, 0.05);
    let low = Number.NEGATIVE_INFINITY;
    let high = Number.POSITIVE_INFINITY;
    let total = 0;
    differences.forEach((value, index) => {
      total += value;
      const k = index + 1;
      // u_k = sqrt(2 (k rho^2 + 1) / (k^2 rho^2) log(sqrt(k rho^2 + 1) / alpha)), sd = 2
      const halfWidth = 2 * Math.sqrt(((2 * (k * rho2 + 1)) / (k * k * rho2)) * Math.log(Math.sqrt(k * rho2 + 1) / 0.05));
      low = Math.max(low, total / k - halfWidth);
      high = Math.min(high, total / k + halfWidth);
    });
    const interval = alwaysValidInterval(differences, { sd: 2, tunedFor: 20 });
    expect(interval.low).toBeCloseTo(low, 12);
    expect(interval.high).toBeCloseTo(high, 12);
    expect(interval).toMatchObject({ estimate: 2, n: 4, level: 0.95 });
    // rho^2 tuned for t* makes u_{t*} (nearly) the narrowest boundary for t* among rho^2 values
    const tuned = unitBoundary(20, rho2, 0.05);
    for (const factor of [0.5, 0.8, 1.25, 2]) expect(unitBoundary(20, rho2 * factor, 0.05)).toBeGreaterThan(tuned);
  });

  it('uses at step k only the first k differences: the interval after n lies inside the one after any k < n, so it never widens (fast-check)', () => {
    const streams = fc.record({
      scale: fc.constantFrom(0.01, 1, 100, 1e5),
      shift: fc.double({ min: -3, max: 3, noNaN: true }),
      values: fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: 2, maxLength: 120 }),
    });
    fc.assert(
      fc.property(streams, ({ scale, shift, values }) => {
        const differences = values.map((value) => (value + shift) * scale);
        const sequence = new ConfidenceSequence();
        let previous = sequence.current;
        for (let n = 1; n <= differences.length; n += 1) {
          const pushed = sequence.push(differences[n - 1] as number);
          const recomputed = alwaysValidInterval(differences.slice(0, n));
          expect(recomputed.low).toBe(pushed.low);
          expect(recomputed.high).toBe(pushed.high);
          expect(pushed.low).toBeGreaterThanOrEqual(previous.low);
          expect(pushed.high).toBeLessThanOrEqual(previous.high);
          expect(pushed.low).toBeLessThanOrEqual(pushed.high);
          // a verdict, once shown, stays
          const before = verdictOf(previous.low, previous.high);
          if (before !== 0) expect(verdictOf(pushed.low, pushed.high)).toBe(before);
          previous = pushed;
        }
      }),
      { numRuns: 300 },
    );
  });

  it('covers the mean at every step at once in at least 1 - alpha - 0.02 of 500 normal streams, at any scale', () => {
    for (const [scale, mean] of [[1, 0], [150, -40]] as const) {
      const missed = missedAtAnyTime(500, 365, (stream) => normalDraws(stream, 365, `coverage-${scale}`).map((value) => mean + scale * value), mean);
      expect(missed).toBeLessThanOrEqual(0.07);
    }
  });

  it('on skewed streams (centred exponential, skewness 2), misses at any time in at most 0.09 of 500: the asymptotic guarantee is looser there', () => {
    const missed = missedAtAnyTime(500, 365, (stream) => exponentialDraws(stream, 365, 'coverage-skewed').map((value) => 80 * (value - 1)), 0);
    expect(missed).toBeLessThanOrEqual(0.09);
  });

  it('flags a drifting mean (a seasonal market), where the latest interval still covers the average of the days so far', () => {
    // i.i.d. days: the mean stays inside the intersection (drifting at the end in at most 2% of 500 streams)
    let drifting = 0;
    for (let stream = 0; stream < 500; stream += 1) {
      const sequence = new ConfidenceSequence();
      for (const value of normalDraws(stream, 365, 'steady')) sequence.push(0.2 + value);
      if (sequence.current.drifting) drifting += 1;
    }
    expect(drifting / 500).toBeLessThanOrEqual(0.02);
    // B loses 370 a day for 60 days, then 50: one mean does not fit, and the flag says so
    const averageOfMeans = (60 * -370 + 305 * -50) / 365;
    for (let stream = 0; stream < 50; stream += 1) {
      const sequence = new ConfidenceSequence();
      normalDraws(stream, 365, 'seasonal').forEach((value, day) => sequence.push((day < 60 ? -370 : -50) + 300 * value));
      const interval = sequence.current;
      expect(interval.drifting).toBe(true);
      expect(interval.latest.low).toBeLessThanOrEqual(averageOfMeans);
      expect(interval.latest.high).toBeGreaterThanOrEqual(averageOfMeans);
      expect(interval.high).toBeLessThan(averageOfMeans); // the intersection pinned where the early days put it
    }
  });

  it('reports the step at which the interval first left out 0 (decidedAt), and keeps it', () => {
    for (let stream = 0; stream < 20; stream += 1) {
      const sequence = new ConfidenceSequence();
      let first: number | null = null;
      normalDraws(stream, 200, 'decided').forEach((value, index) => {
        const interval = sequence.push(0.4 + value);
        if (first === null && (interval.low > 0 || interval.high < 0)) first = index + 1;
        expect(interval.decidedAt).toBe(first);
      });
      expect(first).not.toBeNull(); // a mean of 0.4 sd is found within 200 steps
    }
    expect(alwaysValidInterval([1, -1, 2, -2, 1, -1, 2, -2, 1, -1, 2]).decidedAt).toBeNull();
  });

  it('stays unbounded during the burn-in and while every difference is equal', () => {
    const sequence = new ConfidenceSequence({ minimumObservations: 5 });
    for (let day = 0; day < 4; day += 1) expect(sequence.push(day % 2 === 0 ? 1 : -1).low).toBe(Number.NEGATIVE_INFINITY);
    expect(Number.isFinite(sequence.push(1).low)).toBe(true);
    const flat = new ConfidenceSequence();
    for (let day = 0; day < 30; day += 1) expect(flat.push(0).high).toBe(Number.POSITIVE_INFINITY);
    for (let day = 0; day < 30; day += 1) flat.push(day % 2 === 0 ? 2 : -2);
    expect(flat.current.low).toBeLessThan(0);
    expect(flat.current.high).toBeGreaterThan(0);
  });

  it('is wider than the fixed-n t interval on the same data', () => {
    for (const seed of [1, 2, 3]) {
      const differences = normalDraws(seed, 200).map((value) => 0.3 + value);
      const sequential = alwaysValidInterval(differences);
      const fixed = oneSampleTTest(differences);
      expect(sequential.high - sequential.low).toBeGreaterThan(fixed.high - fixed.low);
      expect(sequential.estimate).toBeCloseTo(fixed.estimate, 12);
    }
  });

  it('excludes 0 exactly when the p-value is at most alpha, with a known or an estimated sd', () => {
    let excluded = 0;
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const differences = normalDraws(seed, 100).map((value) => 0.35 + value);
      for (const options of [{ sd: 1 }, {}]) {
        const interval = alwaysValidInterval(differences, options);
        const p = alwaysValidPValue(differences, options);
        expect(interval.low > 0 || interval.high < 0).toBe(p <= 0.05);
        if (p <= 0.05) excluded += 1;
      }
    }
    expect(excluded).toBeGreaterThan(0);
    expect(excluded).toBeLessThan(16);
  });

  it('keeps the type-I error below alpha under peeking at every n up to 500 (known sd); repeated t-tests do not', () => {
    const simulations = 400;
    const horizon = 500;
    const critical = Array.from({ length: horizon + 1 }, (_, n) => (n >= 2 ? tQuantile(0.975, n - 1) : Number.POSITIVE_INFINITY));
    let sequentialRejections = 0;
    let naiveRejections = 0;
    for (let simulation = 0; simulation < simulations; simulation += 1) {
      const differences = normalDraws(simulation, horizon, 'null');
      // The p-value is a running minimum: p at n = 500 is at most alpha iff some peek rejected.
      if (alwaysValidPValue(differences, { sd: 1 }) <= 0.05) sequentialRejections += 1;
      let sum = 0;
      let squares = 0;
      for (let n = 1; n <= horizon; n += 1) {
        const value = differences[n - 1] as number;
        sum += value;
        squares += value * value;
        if (n < 2) continue;
        const centre = sum / n;
        const standardError = Math.sqrt((squares - n * centre * centre) / (n - 1) / n);
        if (Math.abs(centre) / standardError > (critical[n] as number)) {
          naiveRejections += 1;
          break;
        }
      }
    }
    expect(sequentialRejections / simulations).toBeLessThan(0.05);
    expect(naiveRejections / simulations).toBeGreaterThan(0.3);
  });

  it('detects a real effect eventually', () => {
    const differences = normalDraws(9, 400).map((value) => 0.5 + value);
    expect(alwaysValidPValue(differences)).toBeLessThan(0.001);
    expect(alwaysValidInterval(differences).low).toBeGreaterThan(0);
  });

  it('refuses a bad level, sd, tuning time and burn-in, naming them', () => {
    try {
      alwaysValidInterval([1, 2], { level: 1.5, sd: 0, tunedFor: -1, minimumObservations: 1 });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(PricelabError);
      expect((error as PricelabError).problems.map((problem) => problem.path[0])).toEqual(['level', 'tunedFor', 'minimumObservations', 'sd']);
    }
    expect(() => new ConfidenceSequence().push(Number.NaN)).toThrow(PricelabError);
  });
});
