/**
 * Always-valid (mSPRT) inference (Johari, Koomen, Pekelis and Walsh 2017, "Peeking at A/B
 * tests", KDD, section 4; Howard et al. 2021, Annals of Statistics 49(2), the normal mixture).
 * Hand-checked values from the closed forms with sigma = tau = 1; the defining property,
 * checked by simulation: under the null, peeking after every observation up to n = 500 keeps
 * the type-I error below alpha, while a fixed-n t-test repeated at every peek far exceeds it.
 */
import tQuantile from '@stdlib/stats-base-dists-t-quantile';
import { describe, expect, it } from 'vitest';
import { PricelabError } from '../../../env/errors.js';
import { alwaysValidInterval, alwaysValidPValue, oneSampleTTest } from '../../../experiments/statistics/index.js';
import { normalDraws } from './normal-draws.js';

describe('always-valid p-value and interval', () => {
  it('match the closed forms on four differences of 1 (sigma = tau = 1)', () => {
    // Lambda_4(0) = sqrt(1/5) exp(16 / 10), the largest of Lambda_1..Lambda_4
    expect(alwaysValidPValue([1, 1, 1, 1], { sd: 1, mixingVariance: 1 })).toBeCloseTo(Math.sqrt(5) * Math.exp(-1.6), 12);
    // h_4 = sqrt(5/16 (2 log 20 + log 5)), the narrowest of h_1..h_4, all centred on 1
    const halfWidth = Math.sqrt((5 / 16) * (2 * Math.log(20) + Math.log(5)));
    const interval = alwaysValidInterval([1, 1, 1, 1], { sd: 1, mixingVariance: 1 });
    expect(interval.low).toBeCloseTo(1 - halfWidth, 12);
    expect(interval.high).toBeCloseTo(1 + halfWidth, 12);
    expect(interval).toMatchObject({ estimate: 1, n: 4, level: 0.95 });
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

  it('excludes 0 exactly when the p-value is at most alpha', () => {
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const differences = normalDraws(seed, 100).map((value) => 0.25 + value);
      const interval = alwaysValidInterval(differences, { sd: 1 });
      const p = alwaysValidPValue(differences, { sd: 1 });
      expect(interval.low > 0 || interval.high < 0).toBe(p <= 0.05);
    }
  });

  it('keeps the type-I error below alpha under peeking at every n up to 500; repeated t-tests do not', () => {
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

  it('with the plug-in sd, stays near alpha when peeking every 10 observations (approximate: sigma estimated)', () => {
    const simulations = 200;
    let rejections = 0;
    for (let simulation = 0; simulation < simulations; simulation += 1) {
      const differences = normalDraws(simulation, 300, 'plug-in');
      for (let n = 10; n <= 300; n += 10) {
        const interval = alwaysValidInterval(differences.slice(0, n));
        if (interval.low > 0 || interval.high < 0) {
          rejections += 1;
          break;
        }
      }
    }
    expect(rejections / simulations).toBeLessThan(0.1);
  });

  it('detects a real effect eventually', () => {
    const differences = normalDraws(9, 400).map((value) => 0.5 + value);
    expect(alwaysValidPValue(differences)).toBeLessThan(0.001);
    expect(alwaysValidInterval(differences).low).toBeGreaterThan(0);
  });

  it('refuses a bad level and sd, naming them', () => {
    try {
      alwaysValidInterval([1, 2], { level: 1.5, sd: 0 });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(PricelabError);
      expect((error as PricelabError).problems.map((problem) => problem.path[0])).toEqual(['level', 'sd']);
    }
  });
});
