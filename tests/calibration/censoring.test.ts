/**
 * Censored demand at stockouts (calibration/censoring.ts, the censored terms of
 * calibration/logit-poisson.ts).
 *
 * 1. The censored term log P(Y >= y), its derivative and curvature in eta = log lambda,
 *    against central differences (Poisson and negative binomial, whole and fractional units,
 *    the far tail); the whole log-likelihood's gradient and Hessian with censored rows,
 *    rivals and a promotion against differences of the log-likelihood.
 * 2. Known answers: years of daily sales simulated by the market with limited stock (the
 *    shop restocks to 15 units every night, so low-price days sell out), logged as a shop
 *    sees them (units sold, stock at the start of the day), calibrated. The censored 95%
 *    intervals cover the true quality and price sensitivity in >= 90% of the repetitions;
 *    the naive fit (stockout days taken as demand) is biased: it sees too little price
 *    response, and its intervals seldom cover the truth.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { calibrateFile } from '../../calibration/calibrate.js';
import { censoredRows, censoringSummaryLines, withoutCensoring } from '../../calibration/censoring.js';
import { defaultColumnMap, parseColumnMap } from '../../calibration/column-map.js';
import { readSales } from '../../calibration/reader.js';
import { PricelabError } from '../../core/errors.js';
import { censoredTerm, fitLogitPoisson, logLikelihoodDerivatives, type LogitPoissonData } from '../../calibration/logit-poisson.js';
import { MarketSimulation } from '../../env/market.js';
import { buildMarketModel } from '../../env/model.js';
import { RandomStream } from '../../core/random.js';
import { validateScenario } from '../../scenarios/load.js';
import type { Scenario } from '../../scenarios/schema.js';
import { oneSegmentScenario } from './simulated-log.js';

const folder = mkdtempSync(join(tmpdir(), 'pricelab-censoring-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('censored term log P(Y >= y)', () => {
  const check = (units: number, logLambda: number, size: number) => {
    const step = 1e-4;
    const term = censoredTerm(units, logLambda, size);
    const up = censoredTerm(units, logLambda + step, size).logSurvival;
    const down = censoredTerm(units, logLambda - step, size).logSurvival;
    const slope = (up - down) / (2 * step);
    // The curvature against the central difference of the analytic score (itself held to the
    // first difference of log S below), not a second difference of log S: that one turns the
    // last digits of a log S in the hundreds into errors of 1e-3.
    const curvature = -(censoredTerm(units, logLambda + 1e-3, size).score - censoredTerm(units, logLambda - 1e-3, size).score) / 2e-3;
    // Relative: the score reaches about y (190 and more) in the far tail, where the central
    // difference carries about 3e-6 of evaluation noise.
    expect(Math.abs(term.score - slope)).toBeLessThan(1e-6 * (1 + Math.abs(slope)));
    expect(Math.abs(term.curvature - curvature)).toBeLessThan(2e-4 * (1 + Math.abs(curvature)));
    // log P(Y >= y) is concave in eta (log-concave laws): the curvature is never negative.
    expect(term.curvature).toBeGreaterThanOrEqual(-1e-12);
  };

  it('matches numerical derivatives under the Poisson and the negative binomial', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: 1, max: 200 }), fc.double({ min: 0.5, max: 200, noNaN: true })),
        fc.double({ min: -1, max: 5.5, noNaN: true }),
        fc.oneof(fc.constant(Number.POSITIVE_INFINITY), fc.double({ min: 0.3, max: 500, noNaN: true })),
        (units, logLambda, size) => {
          // Below S = 1e-130 stdlib's incomplete beta loses digits at moderate sizes (at log S
          // = -600, units 190 to 198, size 38 to 39: the curvature off by 3e-4 relative against
          // any finite difference); no censored row of a sales history sits that far in the
          // tail. The far tail's limits are the next test's.
          fc.pre(censoredTerm(units, logLambda, size).logSurvival > -300);
          check(units, logLambda, size);
        },
      ),
      { numRuns: 300 },
    );
  });


  it('is log P(Y >= y) itself: the Poisson and negative binomial tails summed term by term', () => {
    const poissonTail = (units: number, lambda: number) => {
      let total = 0;
      let term = Math.exp(-lambda);
      for (let count = 0; count < units; count++) {
        total += term;
        term *= lambda / (count + 1);
      }
      return 1 - total;
    };
    expect(censoredTerm(7, Math.log(5)).logSurvival).toBeCloseTo(Math.log(poissonTail(7, 5)), 10);
    // NB2 with size 2 and mean 4: P(Y = n) = C(n + 1, n) (1/3)^2 (2/3)^n.
    let below = 0;
    for (let count = 0; count < 6; count++) below += (count + 1) * (1 / 9) * (2 / 3) ** count;
    expect(censoredTerm(6, Math.log(4), 2).logSurvival).toBeCloseTo(Math.log(1 - below), 10);
    // A censored row with nothing sold says nothing.
    expect(censoredTerm(0, Math.log(3))).toEqual({ logSurvival: 0, score: 0, curvature: 0 });
    // Far in the tail the term stays finite and its slope tends to y.
    const far = censoredTerm(600, Math.log(2));
    expect(Number.isFinite(far.logSurvival)).toBe(true);
    expect(far.score).toBeGreaterThan(595);
  });

  it('gives the log-likelihood gradient and Hessian with censored rows, rivals and a promotion (checked by differences)', () => {
    const stream = new RandomStream(7, 'exploration');
    const rows = 60;
    const price = Float64Array.from({ length: rows }, () => 1 + stream.next() * 3);
    const promotion = Float64Array.from({ length: rows }, () => (stream.next() < 0.3 ? 1 : 0));
    const rival = Float64Array.from({ length: rows }, () => 1.5 + stream.next() * 2);
    const units = Float64Array.from({ length: rows }, () => Math.floor(stream.next() * 30));
    const censored = Uint8Array.from({ length: rows }, () => (stream.next() < 0.4 ? 1 : 0));
    const data: LogitPoissonData = {
      rows,
      units,
      logMarketSize: new Float64Array(rows).fill(Math.log(80)),
      price,
      promotions: [promotion],
      promotionNames: ['feature'],
      rivalPrices: [rival],
      rivalNames: ['rival'],
      censored,
    };
    const theta = [1.2, 0.7, 0.4, 0.9];
    for (const size of [Number.POSITIVE_INFINITY, 3.5]) {
      const at = logLikelihoodDerivatives(data, theta, size);
      const step = 1e-5;
      const shifted = (index: number, by: number) => theta.map((value, position) => (position === index ? value + by : value));
      for (let p = 0; p < theta.length; p++) {
        const up = logLikelihoodDerivatives(data, shifted(p, step), size);
        const down = logLikelihoodDerivatives(data, shifted(p, -step), size);
        const slope = (up.logLikelihood - down.logLikelihood) / (2 * step);
        expect(Math.abs((at.gradient[p] ?? 0) - slope)).toBeLessThan(1e-5 * (1 + Math.abs(slope)));
        for (let q = 0; q < theta.length; q++) {
          // Minus the Hessian from differences of the analytic gradient.
          const curvature = -((up.gradient[q] ?? 0) - (down.gradient[q] ?? 0)) / (2 * step);
          expect(Math.abs((at.negativeHessian[p * theta.length + q] ?? 0) - curvature)).toBeLessThan(1e-5 * (1 + Math.abs(curvature)));
        }
      }
      // Censoring changes the likelihood: the same rows taken as exact give another value.
      expect(logLikelihoodDerivatives(withoutCensoring(data), theta, size).gradient[1]).not.toBeCloseTo(at.gradient[1] ?? 0, 3);
    }
  });
});

describe('stock, stockout and returns columns', () => {
  it('are read, and a negative stock or return, or a flag other than 0 or 1, is refused naming its row and column', async () => {
    const good = join(folder, 'columns.csv');
    writeFileSync(good, 'period,units,price,stock,stockout,returned\n1,3,2,5,0,0\n2,5,2.5,5,1,1\n');
    const map = parseColumnMap({ period: 'period', units: 'units', price: 'price', stock: 'stock', stockout: 'stockout', returns: 'returned' }, 'map');
    const sales = await readSales(good, { map });
    expect(Array.from(sales.stock ?? [])).toEqual([5, 5]);
    expect(Array.from(sales.stockout ?? [])).toEqual([0, 1]);
    expect(Array.from(sales.returns ?? [])).toEqual([0, 1]);
    // The default map picks the columns up by name.
    const byName = join(folder, 'by-name.csv');
    writeFileSync(byName, 'period,units,price,stock,returns\n1,3,2,5,0\n');
    const defaults = await readSales(byName, { map: parseColumnMap(defaultColumnMap, 'map'), defaultMap: true });
    expect(defaults.stock && defaults.returns && defaults.stockout === undefined).toBe(true);
    const bad = join(folder, 'bad-columns.csv');
    writeFileSync(bad, 'period,units,price,stock,stockout,returned\n1,3,2,-1,0,0\n2,5,2.5,5,2,1\n3,5,2.5,5,0,-2\n');
    const error = await readSales(bad, { map }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(PricelabError);
    const problems = (error as PricelabError).problems.map((problem) => `${problem.path.join('.')}: ${problem.message}`);
    expect(problems).toEqual(['row.1.stock: expected a number >= 0, found -1', 'row.2.stockout: expected a stockout flag 0 or 1, found 2', 'row.3.returned: expected a number >= 0, found -2']);
  });
});

describe('censoredRows', () => {
  it('censors a row when its stockout flag is 1 or its units sold reach the stock', () => {
    const units = Float64Array.from([3, 5, 0, 9]);
    expect(Array.from(censoredRows({ rows: 4, units, stock: Float64Array.from([4, 5, 0, 20]) }) ?? [])).toEqual([0, 1, 1, 0]);
    expect(Array.from(censoredRows({ rows: 4, units, stockout: Float64Array.from([0, 0, 0, 1]) }) ?? [])).toEqual([0, 0, 0, 1]);
    expect(censoredRows({ rows: 4, units, stock: Float64Array.from([9, 9, 9, 10]) })).toBeUndefined();
    expect(censoredRows({ rows: 4, units })).toBeUndefined();
  });
});

/** steady-state-v1 with one segment, restocked every night to `stock` units (no lead time). */
function limitedStockScenario(stock: number): Scenario {
  const scenario = oneSegmentScenario();
  return validateScenario(
    { ...scenario, inventory: { initialStock: stock, replenishment: { kind: 'periodic-review', reorderPoint: stock - 1, orderUpTo: stock, reviewEveryDays: 1, leadTimeDays: 0 }, holdingCost: 0, stockoutPenalty: 0, salvageValue: 0 } },
    'limited stock',
  );
}

interface StockLog {
  readonly csv: string;
  readonly data: Omit<LogitPoissonData, 'censored'>;
  readonly stock: Float64Array;
  readonly stockout: Float64Array;
}

/** A year of daily sales under random ladder prices, logged with the stock at the start of each day and a stockout flag (as a CSV and as the fit's arrays). */
function simulateWithStock(scenario: Scenario, seed: number): StockLog {
  const model = buildMarketModel(scenario);
  const market = new MarketSimulation(model);
  market.reset(seed);
  const exploration = new RandomStream(seed, 'exploration');
  const days = scenario.horizonDays;
  const rivalCount = model.rivals.length;
  const units = new Float64Array(days);
  const price = new Float64Array(days);
  const logMarketSize = new Float64Array(days);
  const stock = new Float64Array(days);
  const stockout = new Float64Array(days);
  const rivalPrices = model.rivals.map(() => new Float64Array(days));
  const lines = [['date', 'units', 'price', 'traffic', 'stock', 'stockout', ...model.rivals.map((rival) => `price_${rival.name}`)].join(',')];
  const start = Date.parse(`${scenario.startDate}T00:00:00Z`);
  for (let day = 0; day < days; day++) {
    stock[day] = market.stockOnHand;
    const outcome = market.stepIndex(Math.floor(exploration.next() * model.ladder.length));
    stockout[day] = outcome.lostSales > 0 ? 1 : 0;
    units[day] = outcome.sold;
    price[day] = outcome.price;
    logMarketSize[day] = Math.log(outcome.arrivals);
    rivalPrices.forEach((column, index) => (column[day] = outcome.prices[1 + index] ?? 0));
    const date = new Date(start + day * 86_400_000).toISOString().slice(0, 10);
    lines.push([date, outcome.sold, outcome.price, outcome.arrivals, stock[day], stockout[day], ...Array.from(outcome.prices.subarray(1, 1 + rivalCount))].join(','));
  }
  const data = { rows: days, units, logMarketSize, price, promotions: [], promotionNames: [], rivalPrices, rivalNames: model.rivals.map((rival) => `price_${rival.name}`) };
  return { csv: `${lines.join('\n')}\n`, data, stock, stockout };
}

describe('calibration with stockouts (known answers)', () => {
  const repetitions = 60;
  const scenario = limitedStockScenario(15);
  if (scenario.demand.kind !== 'logit') throw new Error('logit expected');
  const truth = { quality: scenario.demand.quality, sensitivity: scenario.demand.segments[0]!.priceSensitivity };
  const rivals = ['price_mass-merchant', 'price_boutique-roaster'];
  const covers = (interval: { lower: number; upper: number } | undefined, value: number) => interval !== undefined && interval.lower <= value && value <= interval.upper;

  it('records the naive fit beside the censored one, and the scenario uses the censored one (through calibrateFile)', async () => {
    const log = simulateWithStock(scenario, 4999);
    const path = join(folder, 'stock.csv');
    writeFileSync(path, log.csv);
    for (const stockColumn of [{ stock: 'stock' }, { stockout: 'stockout' }]) {
      const map = parseColumnMap({ date: 'date', units: 'units', price: 'price', traffic: 'traffic', rivalPrices: rivals, ...stockColumn }, 'map');
      const result = await calibrateFile(path, { map, periodLength: 'day', holdout: 0, likelihood: 'poisson' });
      const censoring = validateScenario(result.scenario, 'calibrated').calibration?.censoring;
      if (!censoring) throw new Error('expected a censoring record');
      const censored = censoredRows({ rows: log.data.rows, units: log.data.units, ...('stock' in stockColumn ? { stock: log.stock } : { stockout: log.stockout }) });
      expect(censoring.rowsCensored).toBe(censored?.reduce((total, flag) => total + flag, 0));
      const direct = fitLogitPoisson({ ...log.data, ...(censored ? { censored } : {}) });
      const naive = fitLogitPoisson(log.data);
      expect(censoring.censored.priceSensitivity.value).toBeCloseTo(direct.theta[1] ?? 0, 4);
      expect(censoring.naive.priceSensitivity.value).toBeCloseTo(naive.theta[1] ?? 0, 4);
      expect(result.fit.theta[1]).toBeCloseTo(direct.theta[1] ?? 0, 6);
      expect(result.scenario.demand.kind === 'logit' && result.scenario.demand.segments[0]?.priceSensitivity).toBeCloseTo(direct.theta[1] ?? 0, 4);
      // The predictive band is that of min(demand, stock): a stockout row is inside when its
      // units do not pass the upper end (read as demand, stockout rows fall below the band).
      expect(result.predictiveCoverage90).toBeGreaterThan(0.9);
      expect(censoringSummaryLines(censoring).join('\n')).toContain(`naive fit (shown):    quality ${censoring.naive.quality.value.toPrecision(4)}`);
    }
  }, 60_000);

  it(`censored intervals cover the true quality and price sensitivity in >= 90% of ${repetitions} years; the naive fit is biased`, () => {
    const counts = { censoredQuality: 0, censoredSensitivity: 0, naiveQuality: 0, naiveSensitivity: 0 };
    const sums = { censoredSensitivity: 0, naiveSensitivity: 0, share: 0 };
    for (let repetition = 0; repetition < repetitions; repetition++) {
      const log = simulateWithStock(scenario, 5000 + repetition);
      // Half the years tell stockouts by the stock column, half by the flag.
      const censored = censoredRows({ rows: log.data.rows, units: log.data.units, ...(repetition % 2 === 0 ? { stock: log.stock } : { stockout: log.stockout }) });
      if (!censored) throw new Error('expected stockouts');
      const fit = fitLogitPoisson({ ...log.data, censored });
      const naive = fitLogitPoisson(log.data);
      if (covers(fit.parameters[0], truth.quality)) counts.censoredQuality++;
      if (covers(fit.parameters[1], truth.sensitivity)) counts.censoredSensitivity++;
      if (covers(naive.parameters[0], truth.quality)) counts.naiveQuality++;
      if (covers(naive.parameters[1], truth.sensitivity)) counts.naiveSensitivity++;
      sums.censoredSensitivity += (fit.theta[1] ?? 0) / repetitions;
      sums.naiveSensitivity += (naive.theta[1] ?? 0) / repetitions;
      sums.share += censored.reduce((total, flag) => total + flag, 0) / censored.length / repetitions;
    }
    const report = { truth, ...counts, meanSensitivity: { censored: sums.censoredSensitivity, naive: sums.naiveSensitivity }, meanShareCensored: sums.share };
    // Both fits are shown in every failure message.
    const shown = `stockouts, ${repetitions} years: ${JSON.stringify(report)}`;
    if (process.env.PRICELAB_TEST_FIGURES) writeFileSync(process.env.PRICELAB_TEST_FIGURES, shown);
    expect(sums.share, shown).toBeGreaterThan(0.2);
    expect(counts.censoredQuality / repetitions, shown).toBeGreaterThanOrEqual(0.9);
    expect(counts.censoredSensitivity / repetitions, shown).toBeGreaterThanOrEqual(0.9);
    // Naive: lost sales read as no demand at low prices flatten the price response.
    expect(sums.naiveSensitivity, shown).toBeLessThan(0.9 * truth.sensitivity);
    expect(counts.naiveSensitivity / repetitions, shown).toBeLessThan(0.5);
    expect(counts.naiveQuality / repetitions, shown).toBeLessThan(0.5);
  }, 120_000);
});
