/**
 * Price endogeneity and inverted shares against known answers.
 *
 * Simulated logs: one market of M = 400 arrivals a day, logit demand with quality 2.5 and
 * price sensitivity 0.5, and a demand shock xi_t ~ N(0, 0.3^2) in our utility that the
 * analyst does not see. Endogenous prices: the shop sets p_t = 3 + cost_t + 1.2 xi_t + eta_t
 * (it raises prices on good days; eta_t ~ N(0, 0.3^2) is its own noise); cost_t ~ U(2, 4) is
 * logged. Exogenous prices: p_t = 3 + cost_t + eta'_t with the same spread, eta' independent
 * of xi. Units ~ Poisson(M s_t). Uniforms from seeded streams (core/random.ts).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { calibrateFile } from '../../calibration/calibrate.js';
import { defaultColumnMap, parseColumnMap } from '../../calibration/column-map.js';
import { calibrationRecordSchema } from '../../scenarios/calibration-record.js';
import {
  addRowScore,
  clusterRobustLeastSquares,
  endogeneitySummaryLines,
  estimateEndogeneity,
  leastSquares,
  otherStoresInstrumentName,
  otherStoresMeanPrice,
  priceInstruments,
  totalScore,
  twoStageLeastSquares,
  type PriceInstrument,
} from '../../calibration/endogeneity.js';
import { estimateInvertedShares, invertedShare, invertedSharesSummaryLines } from '../../calibration/inverted-shares.js';
import { fitLogitNegativeBinomial, fitLogitPoisson, type LogitPoissonData } from '../../calibration/logit-poisson.js';
import { readSales } from '../../calibration/reader.js';
import { RandomStream } from '../../core/random.js';
import { normalFromUniforms, poissonFromUniform } from '../../env/sampling.js';

const truth = { quality: 2.5, priceSensitivity: 0.5 };
const marketSize = 400;
const periods = 150;

interface SimulatedLog {
  readonly design: LogitPoissonData;
  readonly cost: Float64Array;
  readonly period: Float64Array;
}

function simulate(seed: number, endogenous: boolean, days = periods): SimulatedLog {
  const stream = new RandomStream(seed, 'endogeneity-test');
  const normal = () => normalFromUniforms(stream.next(), stream.next());
  const units = new Float64Array(days);
  const price = new Float64Array(days);
  const cost = new Float64Array(days);
  for (let day = 0; day < days; day++) {
    const shock = 0.3 * normal();
    const ownNoise = 0.3 * normal();
    cost[day] = 2 + 2 * stream.next();
    // Same price spread either way: 1.2^2 0.09 + 0.09 = 0.2196.
    price[day] = 3 + (cost[day] ?? 0) + (endogenous ? 1.2 * shock + ownNoise : Math.sqrt(0.2196) * normal());
    const utility = truth.quality - truth.priceSensitivity * (price[day] ?? 0) + shock;
    const share = 1 / (1 + Math.exp(-utility));
    units[day] = poissonFromUniform(marketSize * share, stream.next());
  }
  return {
    design: { rows: days, units, logMarketSize: new Float64Array(days).fill(Math.log(marketSize)), price, promotions: [], promotionNames: [], rivalPrices: [], rivalNames: [] },
    cost,
    period: Float64Array.from({ length: days }, (_, day) => day),
  };
}

const fitter = (data: LogitPoissonData) => fitLogitPoisson(data);

function instrumented(log: SimulatedLog, instruments: PriceInstrument[] = [{ name: 'cost', values: log.cost }]) {
  const naive = fitter(log.design);
  return { naive, result: estimateEndogeneity({ design: log.design, naive, instruments, cluster: log.period, fit: fitter }) };
}

const covers = (interval: { lower: number; upper: number } | undefined, value: number) => interval !== undefined && interval.lower <= value && value <= interval.upper;

describe('price endogeneity: control function', () => {
  it('with prices set in response to the shock, the naive estimate is biased and the instrumented one covers the truth (60 logs)', () => {
    const repetitions = 60;
    let naiveCovers = 0;
    let instrumentedCovers = 0;
    let rejected = 0;
    let chosen = 0;
    let naiveMean = 0;
    let instrumentedMean = 0;
    for (let seed = 1; seed <= repetitions; seed++) {
      const { naive, result } = instrumented(simulate(seed, true));
      const record = result.record;
      expect(record.firstStage?.weak).toBe(false);
      if (covers(naive.parameters[1], truth.priceSensitivity)) naiveCovers++;
      if (covers(record.instrumented?.priceSensitivity, truth.priceSensitivity)) instrumentedCovers++;
      if ((record.durbinWuHausman?.pValue ?? 1) < 0.05) rejected++;
      if (record.choice === 'instrumented') chosen++;
      naiveMean += (naive.theta[1] ?? 0) / repetitions;
      instrumentedMean += (record.instrumented?.priceSensitivity.value ?? 0) / repetitions;
    }
    // The shop prices up on good days: the naive price response is far too weak.
    expect(naiveMean).toBeLessThan(0.8 * truth.priceSensitivity);
    expect(naiveCovers / repetitions).toBeLessThanOrEqual(0.1);
    expect(instrumentedCovers / repetitions).toBeGreaterThanOrEqual(0.9);
    expect(Math.abs(instrumentedMean - truth.priceSensitivity)).toBeLessThan(0.05);
    expect(rejected / repetitions).toBeGreaterThanOrEqual(0.9);
    expect(chosen).toBe(rejected);
  });

  it('with exogenous prices, the Durbin-Wu-Hausman test rejects in about 5% of 200 logs and the naive estimate is kept', () => {
    const repetitions = 200;
    let rejected = 0;
    let instrumentedCovers = 0;
    for (let seed = 1001; seed <= 1000 + repetitions; seed++) {
      const { result } = instrumented(simulate(seed, false));
      if ((result.record.durbinWuHausman?.pValue ?? 1) < 0.05) rejected++;
      else expect(result.record.choice).toBe('naive');
      if (covers(result.record.instrumented?.priceSensitivity, truth.priceSensitivity)) instrumentedCovers++;
    }
    // 5% of 200 is 10; a binomial(200, 0.05) exceeds 20 with probability below 0.1%.
    expect(rejected).toBeLessThanOrEqual(20);
    expect(rejected).toBeGreaterThanOrEqual(2);
    expect(instrumentedCovers / repetitions).toBeGreaterThanOrEqual(0.9);
  });

  it('an instrument unrelated to the price is weak (F < 10): no instrumented estimate, the naive one is kept', () => {
    const log = simulate(7, true);
    const stream = new RandomStream(7, 'irrelevant-instrument');
    const noise = Float64Array.from({ length: log.design.rows }, () => stream.next());
    const { result } = instrumented(log, [{ name: 'noise', values: noise }]);
    expect(result.record.firstStage?.weak).toBe(true);
    expect(result.record.firstStage?.fStatistic).toBeLessThan(10);
    expect(result.record.choice).toBe('naive');
    expect(result.record.reason).toMatch(/weak instruments/);
    // Neither the unreliable estimate nor its test is computed.
    expect(result.record.instrumented).toBeUndefined();
    expect(result.record.durbinWuHausman).toBeUndefined();
    expect(result.chosenFit.theta[1]).toBe(fitter(log.design).theta[1]);
    const inverted = estimateInvertedShares({ design: log.design, instruments: [{ name: 'noise', values: noise }], cluster: log.period });
    expect(inverted.twoStageLeastSquares?.weak).toBe(true);
    expect(inverted.twoStageLeastSquares?.firstStageF).toBe(result.record.firstStage?.fStatistic);
    expect(inverted.twoStageLeastSquares?.estimates).toEqual([]);
  });

  it('the other stores\' price alone is shown but does not switch the scenario; with the cost beside it the test decides', () => {
    const log = simulate(4, true);
    const { result } = instrumented(log, [{ name: otherStoresInstrumentName, values: log.cost }]);
    expect(result.record.durbinWuHausman?.pValue).toBeLessThan(0.05);
    expect(result.record.instrumented).toBeDefined();
    expect(result.record.choice).toBe('naive');
    expect(result.record.reason).toMatch(/common to the stores/);
    const both = instrumented(log, [
      { name: 'cost', values: log.cost },
      { name: otherStoresInstrumentName, values: log.cost.map((value, day) => value + 0.1 * Math.sin(day)) },
    ]).result;
    expect(both.record.instruments).toHaveLength(2);
    expect(both.record.choice).toBe('instrumented');
  });

  it('a constant instrument is dropped (collinear with the intercept) and nothing is estimated', () => {
    const log = simulate(8, true);
    const { result } = instrumented(log, [{ name: 'flat cost', values: new Float64Array(log.design.rows).fill(3) }]);
    expect(result.record.choice).toBe('naive');
    expect(result.record.reason).toMatch(/no usable instrument/);
    expect(result.record.instrumented).toBeUndefined();
  });

  it('a cost that is a fixed share of the price explains it exactly: the price is exogenous, the naive estimate is kept', () => {
    const log = simulate(9, true);
    const { naive, result } = instrumented(log, [{ name: 'cost', values: log.design.price.map((price) => 0.6 * price) }]);
    expect(result.record.choice).toBe('naive');
    expect(result.record.reason).toMatch(/determine the price exactly/);
    expect(result.record.instrumented).toBeUndefined();
    expect(result.chosenFit).toBe(naive);
  });

  it('the instrumented fit for the scenario drops the control and keeps the price response', () => {
    const { result } = instrumented(simulate(3, true));
    expect(result.record.choice).toBe('instrumented');
    const fit = result.chosenFit;
    expect(fit.parameters.map((parameter) => parameter.name)).toEqual(['quality', 'priceSensitivity']);
    expect(fit.theta.length).toBe(2);
    expect(fit.parameters[1]?.value).toBeCloseTo(result.record.instrumented?.priceSensitivity.value ?? Number.NaN, 4);
    expect(fit.intervalMethod).toMatch(/control function/);
  });

  it('the row scores sum to zero at the maximum-likelihood fit (promotions, rivals, weekday effects, a calendar covariate, stockout rows; Poisson and negative binomial)', () => {
    const stream = new RandomStream(11, 'score-check');
    const rows = 400;
    const price = Float64Array.from({ length: rows }, () => 4 + 4 * stream.next());
    const rival = Float64Array.from({ length: rows }, () => 5 + 3 * stream.next());
    const promotion = Float64Array.from({ length: rows }, () => (stream.next() < 0.3 ? 1 : 0));
    const level = Int8Array.from({ length: rows }, (_, row) => (row % 3) - 1);
    const warm = Float64Array.from({ length: rows }, () => stream.next());
    const units = Float64Array.from({ length: rows }, (_, row) => {
      const ours = Math.exp(1.5 - 0.4 * (price[row] ?? 0) + 0.5 * (promotion[row] ?? 0));
      const theirs = Math.exp(1 - 0.4 * (rival[row] ?? 0));
      const arrivals = 200 * Math.exp(0.2 * ((level[row] ?? -1) + 1) + 0.3 * (warm[row] ?? 0));
      return poissonFromUniform((arrivals * ours) / (1 + ours + theirs), stream.next());
    });
    const data: LogitPoissonData = {
      rows,
      units,
      logMarketSize: new Float64Array(rows).fill(Math.log(200)),
      price,
      promotions: [promotion],
      promotionNames: ['feature'],
      rivalPrices: [rival],
      rivalNames: ['rival'],
      arrivalEffects: { names: ['b', 'c'], level },
      arrivalCovariates: { names: ['warm'], columns: [warm] },
      // A few stockout days: demand at least the units sold (log P(Y >= y) in the likelihood).
      censored: Uint8Array.from({ length: rows }, (_, row) => (row % 17 === 0 ? 1 : 0)),
    };
    for (const fit of [fitLogitPoisson(data), fitLogitNegativeBinomial(data)]) {
      const size = fit.dispersionSize?.value ?? Number.POSITIVE_INFINITY;
      const score = totalScore(data, fit.theta, size);
      for (const value of score) expect(Math.abs(value)).toBeLessThan(1e-4);
      // Each parameter moved up from the optimum turns its own score negative (concavity): every entry is live.
      fit.theta.forEach((_, parameter) => {
        const moved = totalScore(data, fit.theta.map((value, index) => (index === parameter ? value + 0.01 : value)), size);
        expect(moved[parameter]).toBeLessThan(-1e-3);
      });
      const single = new Float64Array(fit.theta.length);
      addRowScore(data, fit.theta, 0, size, single);
      expect(single.some((value) => value !== 0)).toBe(true);
    }
  });
});

describe('pricelab calibrate with a cost and a traffic column', () => {
  it('records the endogeneity test and the inverted shares, and the scenario takes the instrumented price response', async () => {
    const log = simulate(21, true, 200);
    const lines = ['period,units,price,cost,traffic'];
    for (let day = 0; day < log.design.rows; day++) lines.push([day + 1, log.design.units[day], log.design.price[day], log.cost[day], marketSize].join(','));
    const path = join(mkdtempSync(join(tmpdir(), 'pricelab-endogeneity-')), 'sales.csv');
    writeFileSync(path, `${lines.join('\n')}\n`);
    const result = await calibrateFile(path, { map: parseColumnMap(defaultColumnMap, 'default map'), defaultMap: true });
    const record = calibrationRecordSchema.parse(result.record);
    expect(record.endogeneity?.instruments).toEqual(['cost (cost)']);
    expect(record.endogeneity?.choice).toBe('instrumented');
    const instrumentedSensitivity = record.endogeneity?.instrumented?.priceSensitivity;
    expect(covers(instrumentedSensitivity, truth.priceSensitivity)).toBe(true);
    expect(covers(record.endogeneity?.naive?.priceSensitivity, truth.priceSensitivity)).toBe(false);
    expect(result.scenario.demand.kind === 'logit' && result.scenario.demand.segments[0]?.priceSensitivity).toBeCloseTo(instrumentedSensitivity?.value ?? Number.NaN, 3);
    expect(record.estimates.find((estimate) => estimate.parameter === 'priceSensitivity')?.method).toMatch(/control function/);
    const inverted = record.invertedShares;
    expect(inverted?.rows).toBe(200);
    expect(covers(inverted?.twoStageLeastSquares?.estimates.find((estimate) => estimate.parameter === 'priceSensitivity'), truth.priceSensitivity)).toBe(true);
    // The command's summary says which estimate the scenario uses, and shows both regressions on inverted shares.
    expect(endogeneitySummaryLines(record.endogeneity).join('\n')).toMatch(/scenario uses the instrumented estimate: the Durbin-Wu-Hausman test rejects/);
    expect(invertedSharesSummaryLines(record.invertedShares).join('\n')).toMatch(/OLS .*2SLS .*first-stage F/);
    expect(endogeneitySummaryLines(undefined)).toEqual([]);
  });
});

describe('priceInstruments', () => {
  async function salesOf(header: string, rows: string[]) {
    const path = join(mkdtempSync(join(tmpdir(), 'pricelab-instruments-')), 'sales.csv');
    writeFileSync(path, `${[header, ...rows].join('\n')}\n`);
    return readSales(path, { map: parseColumnMap(defaultColumnMap, 'default map'), defaultMap: true });
  }

  it('offers the cost when mapped, else the other stores\' price (defined where another store has the period), else nothing', async () => {
    const rows = ['1,A,10,2.0,1.2', '1,B,12,3.0,1.5', '2,A,11,2.5,1.3', '2,B,9,3.5,1.6', '3,A,8,4.0,1.4'];
    const withCost = priceInstruments(await salesOf('period,store,units,price,cost', rows), [1, 1, 2, 2, 3]);
    expect(withCost.map((instrument) => instrument.name)).toEqual(['cost (cost)']);
    const stores = priceInstruments(await salesOf('period,store,units,price', rows.map((row) => row.split(',').slice(0, 4).join(','))), [1, 1, 2, 2, 3]);
    expect(stores.map((instrument) => instrument.name)).toEqual([otherStoresInstrumentName]);
    expect(Array.from(stores[0]?.values ?? [])).toEqual([3, 2, 3.5, 2.5, 0]);
    expect(Array.from(stores[0]?.defined ?? [])).toEqual([1, 1, 1, 1, 0]);
    const single = await salesOf('period,units,price', ['1,10,2', '2,11,2.5']);
    expect(priceInstruments(single, [1, 2])).toEqual([]);
  });
});

describe('linear instrumental variables: closed forms', () => {
  // A textbook just-identified case: beta_IV = cov(z, y) / cov(z, x), alpha = mean(y) - beta mean(x).
  const x = [1, 2, 4, 5, 7, 8];
  const z = [0, 1, 1, 2, 3, 3];
  const y = [3, 4, 9, 10, 14, 18];
  const mean = (values: number[]) => values.reduce((total, value) => total + value, 0) / values.length;
  const covariance = (left: number[], right: number[]) => left.reduce((total, value, index) => total + (value - mean(left)) * ((right[index] ?? 0) - mean(right)), 0);

  it('two-stage least squares is cov(z, y) / cov(z, x) with its intercept', () => {
    const fit = twoStageLeastSquares({
      rows: x.length,
      exogenousNames: ['intercept'],
      endogenousName: 'x',
      instrumentNames: ['z'],
      cluster: x.map((_, row) => row),
      fill: (row, into) => {
        into[0] = 1;
        into[1] = x[row] ?? 0;
        into[2] = z[row] ?? 0;
        return y[row] ?? 0;
      },
    });
    const slope = covariance(z, y) / covariance(z, x);
    expect(fit.coefficients[1]).toBeCloseTo(slope, 10);
    expect(fit.coefficients[0]).toBeCloseTo(mean(y) - slope * mean(x), 10);
    // Just-identified robust variance of the slope: sum (z - zbar)^2 e^2 / cov(z, x)^2, times G / (G - 1).
    const residuals = y.map((value, index) => value - (mean(y) - slope * mean(x)) - slope * (x[index] ?? 0));
    const meat = z.reduce((total, value, index) => total + (value - mean(z)) ** 2 * (residuals[index] ?? 0) ** 2, 0);
    expect(fit.covariance.get(1, 1)).toBeCloseTo(((meat / covariance(z, x) ** 2) * x.length) / (x.length - 1), 8);
    // The first stage: x on (1, z), F = t^2 of z.
    const firstSlope = covariance(z, x) / covariance(z, z);
    const firstResiduals = x.map((value, index) => value - mean(x) - firstSlope * ((z[index] ?? 0) - mean(z)));
    const residualVariance = firstResiduals.reduce((total, value) => total + value * value, 0) / (x.length - 2);
    expect(fit.firstStage.statistic).toBeCloseTo(firstSlope ** 2 / (residualVariance / covariance(z, z)), 8);
  });

  it('streamed least squares matches the closed form across chunk boundaries; HC standard errors with one row per cluster', () => {
    const stream = new RandomStream(5, 'ols-check');
    const rows = 5000;
    const xs = Array.from({ length: rows }, () => stream.next() * 10);
    const ys = xs.map((value) => 2 + 0.7 * value + normalFromUniforms(stream.next(), stream.next()) * (0.5 + value / 5));
    const design = {
      rows,
      columnNames: ['intercept', 'x'],
      fill: (row: number, into: Float64Array) => {
        into[0] = 1;
        into[1] = xs[row] ?? 0;
        return ys[row] ?? 0;
      },
    };
    const fit = clusterRobustLeastSquares(design, xs.map((_, row) => row));
    const slope = covariance(xs, ys) / covariance(xs, xs);
    expect(fit.coefficients[1]).toBeCloseTo(slope, 10);
    expect(fit.coefficients[0]).toBeCloseTo(mean(ys) - slope * mean(xs), 10);
    const residuals = ys.map((value, index) => value - (fit.coefficients[0] ?? 0) - (fit.coefficients[1] ?? 0) * (xs[index] ?? 0));
    expect(fit.residualSumOfSquares).toBeCloseTo(residuals.reduce((total, value) => total + value * value, 0), 6);
    const meat = xs.reduce((total, value, index) => total + (value - mean(xs)) ** 2 * (residuals[index] ?? 0) ** 2, 0);
    expect(fit.covariance.get(1, 1)).toBeCloseTo(((meat / covariance(xs, xs) ** 2) * rows) / (rows - 1), 10);
    expect(leastSquares({ ...design, columnNames: ['intercept', 'x', 'twice x'], fill: (row, into) => { into[0] = 1; into[1] = xs[row] ?? 0; into[2] = 2 * (xs[row] ?? 0); return ys[row] ?? 0; } }).collinear).toEqual([2]);
  });

  it('the Hausman instrument is the mean price of the other stores in the same period', () => {
    const price = Float64Array.from([2, 4, 9, 5, 7]);
    const period = [1, 1, 1, 2, 3];
    const { values, defined } = otherStoresMeanPrice(price, period);
    expect(Array.from(values.subarray(0, 3))).toEqual([6.5, 5.5, 3]);
    expect(Array.from(defined)).toEqual([1, 1, 1, 0, 0]);
  });
});

describe('inverted shares (Berry 1994)', () => {
  it('OLS on inverted shares is biased under endogenous prices; 2SLS with the cost covers the truth (60 logs)', () => {
    const repetitions = 60;
    let ordinaryCovers = 0;
    let instrumentedCovers = 0;
    let qualityCovers = 0;
    for (let seed = 1; seed <= repetitions; seed++) {
      const log = simulate(seed, true);
      const record = estimateInvertedShares({ design: log.design, instruments: [{ name: 'cost', values: log.cost }], cluster: log.period });
      const find = (estimates: { parameter: string; lower: number; upper: number }[] | undefined, name: string) => estimates?.find((estimate) => estimate.parameter === name);
      if (covers(find(record.ordinaryLeastSquares.estimates, 'priceSensitivity'), truth.priceSensitivity)) ordinaryCovers++;
      if (covers(find(record.twoStageLeastSquares?.estimates, 'priceSensitivity'), truth.priceSensitivity)) instrumentedCovers++;
      if (covers(find(record.twoStageLeastSquares?.estimates, 'quality'), truth.quality)) qualityCovers++;
      expect(record.twoStageLeastSquares?.weak).toBe(false);
    }
    expect(ordinaryCovers / repetitions).toBeLessThanOrEqual(0.1);
    expect(instrumentedCovers / repetitions).toBeGreaterThanOrEqual(0.9);
    expect(qualityCovers / repetitions).toBeGreaterThanOrEqual(0.9);
  });

  it('with exogenous prices OLS covers the truth, and a day without sales stays in (empirical logit)', () => {
    const repetitions = 60;
    let covered = 0;
    for (let seed = 2001; seed <= 2000 + repetitions; seed++) {
      const log = simulate(seed, false);
      const record = estimateInvertedShares({ design: log.design, instruments: [], cluster: log.period });
      if (covers(record.ordinaryLeastSquares.estimates.find((estimate) => estimate.parameter === 'priceSensitivity'), truth.priceSensitivity)) covered++;
      expect(record.twoStageLeastSquares).toBeUndefined();
    }
    expect(covered / repetitions).toBeGreaterThanOrEqual(0.9);
    expect(invertedShare(0, 100)).toBeCloseTo(Math.log(0.5 / 100.5), 12);
    expect(Number.isNaN(invertedShare(101, 100))).toBe(true);
  });
});
