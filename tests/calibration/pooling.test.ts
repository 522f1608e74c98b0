/**
 * Partial pooling across stores (calibration/pooling.ts), on known answers:
 * - many simulated stores whose price sensitivities are drawn from a known distribution
 *   around a line in one store attribute (b_s = 1 + 0.3 x_s + tau e_s), a third of them with
 *   few rows: the shrunken estimates have a lower mean squared error than the stores' own,
 *   tau's interval covers the true tau, and the attribute coefficient's interval covers the
 *   truth, each counted over 60 seeded repetitions;
 * - closed forms: the second level with equal variances (tau^2 = S^2 / (n - 1) - v and the
 *   shrinkage formula), and one store's fit in a saturated two-price design;
 * - bad input: a store missing from the attribute table, a non-numeric attribute, an unknown --store;
 * - Dominick's orange juice (skipped when ../shared/data/orangejuice is absent): the 83 stores
 *   of Tropicana Premium 64 oz pooled, with the store demographics.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseColumnMap } from '../../calibration/column-map.js';
import { fitLogitNegativeBinomial, fitLogitPoisson } from '../../calibration/logit-poisson.js';
import { readSales } from '../../calibration/reader.js';
import { applyPooling, fitSecondLevel, fitStore, poolingOptionsFromFlags, poolingRecord, poolStores, readStoreAttributes, shrink, type PoolingSales, type StoreAttributes } from '../../calibration/pooling.js';
import { RandomStream } from '../../core/random.js';
import { normalFromUniforms, poissonFromUniform } from '../../env/sampling.js';
import { validateScenario } from '../../scenarios/load.js';

const truth = { intercept: 1, slope: 0.3, tau: 0.15, quality: 2, rivalQuality: 1.5 };

interface SimulatedStores {
  readonly sales: PoolingSales;
  readonly logMarketSize: Float64Array;
  readonly sensitivity: Float64Array;
  readonly attributes: StoreAttributes;
  readonly small: boolean[];
}

/** 60 stores: 20 with 5 weeks of sales at a market of 40, 40 with 40 weeks at 150; one rival, random prices. */
function simulateStores(seed: number): SimulatedStores {
  const uniform = new RandomStream(seed, 'pooling-test');
  const storeCount = 60;
  const attribute = Float64Array.from({ length: storeCount }, () => normalFromUniforms(uniform.next(), uniform.next()));
  const sensitivity = attribute.map((x) => truth.intercept + truth.slope * x + truth.tau * normalFromUniforms(uniform.next(), uniform.next()));
  const small = Array.from({ length: storeCount }, (_, store) => store % 3 === 0);
  const rowsPerStore = small.map((isSmall) => (isSmall ? 5 : 40));
  const rows = rowsPerStore.reduce((total, count) => total + count, 0);
  const units = new Float64Array(rows);
  const price = new Float64Array(rows);
  const rival = new Float64Array(rows);
  const store = new Int32Array(rows);
  const logMarketSize = new Float64Array(rows);
  let row = 0;
  rowsPerStore.forEach((count, index) => {
    const b = sensitivity[index] ?? 0;
    const market = small[index] ? 40 : 150;
    for (let week = 0; week < count; week++, row++) {
      price[row] = 1 + 3 * uniform.next();
      rival[row] = 1 + 3 * uniform.next();
      const ours = Math.exp(truth.quality - b * (price[row] ?? 0));
      const theirs = Math.exp(truth.rivalQuality - b * (rival[row] ?? 0));
      units[row] = poissonFromUniform((market * ours) / (1 + ours + theirs), uniform.next());
      store[row] = index;
      logMarketSize[row] = Math.log(market);
    }
  });
  const storeNames = Array.from({ length: storeCount }, (_, index) => String(index + 1));
  return {
    sales: { rows, units, price, promotions: [], rivalPrices: [rival], store, storeNames },
    logMarketSize,
    sensitivity,
    attributes: { file: 'simulated', sha256: '0'.repeat(64), columns: ['x'], values: new Map(storeNames.map((name, index) => [name, [attribute[index] ?? 0]])) },
    small,
  };
}

function pooledFit(simulated: SimulatedStores) {
  const { sales, logMarketSize } = simulated;
  return fitLogitPoisson({ rows: sales.rows, units: sales.units, logMarketSize, price: sales.price, promotions: [], promotionNames: [], rivalPrices: sales.rivalPrices, rivalNames: ['rival'] });
}

describe('partial pooling on simulated stores with known sensitivities', () => {
  it('shrinks towards the attribute line: lower error than the stores\' own fits; tau and the attribute coefficient covered in >= 90% of 60 repetitions', () => {
    const repetitions = 60;
    let ownSquares = 0;
    let shrunkSquares = 0;
    let smallOwnSquares = 0;
    let smallShrunkSquares = 0;
    let shrunkBetterReps = 0;
    let tauCovered = 0;
    let slopeCovered = 0;
    let interceptCovered = 0;
    let storeIntervalsCovered = 0;
    let storeIntervals = 0;
    let compared = 0;
    let smallCompared = 0;
    let unfitted = 0;
    for (let seed = 1; seed <= repetitions; seed++) {
      const simulated = simulateStores(seed);
      const result = poolStores(simulated.sales, simulated.logMarketSize, pooledFit(simulated), simulated.attributes);
      let repOwn = 0;
      let repShrunk = 0;
      result.storeTable.forEach((entry, store) => {
        const actual = simulated.sensitivity[store] ?? 0;
        const shrunk = entry.shrunken.priceSensitivity;
        storeIntervals++;
        if (shrunk.lower <= actual && actual <= shrunk.upper) storeIntervalsCovered++;
        // Errors are compared on the stores that have their own fit (a store with one price or no sales has none).
        if (!entry.own) {
          unfitted++;
          return;
        }
        const own = entry.own.priceSensitivity.value;
        compared++;
        repOwn += (own - actual) ** 2;
        repShrunk += (shrunk.value - actual) ** 2;
        if (simulated.small[store]) {
          smallCompared++;
          smallOwnSquares += (own - actual) ** 2;
          smallShrunkSquares += (shrunk.value - actual) ** 2;
        }
      });
      ownSquares += repOwn;
      shrunkSquares += repShrunk;
      if (repShrunk < repOwn) shrunkBetterReps++;
      const tau = result.priceSensitivity.tau;
      if (tau.lower <= truth.tau && truth.tau <= tau.upper) tauCovered++;
      const slope = result.attributes?.coefficients[0];
      if (slope && slope.lower <= truth.slope && truth.slope <= slope.upper) slopeCovered++;
      // The intercept is the sensitivity at the stores' mean attribute (the attributes are centred).
      const attributeMean = [...simulated.attributes.values.values()].reduce((total, values) => total + (values[0] ?? 0), 0) / result.stores;
      const mean = result.priceSensitivity.mean;
      const target = truth.intercept + truth.slope * attributeMean;
      if (mean.lower <= target && target <= mean.upper) interceptCovered++;
    }
    const figures = { ownMse: ownSquares / compared, shrunkMse: shrunkSquares / compared, smallOwnMse: smallOwnSquares / smallCompared, smallShrunkMse: smallShrunkSquares / smallCompared, unfitted, shrunkBetterReps, tauCovered, slopeCovered, interceptCovered, storeCoverage: storeIntervalsCovered / storeIntervals };
    if (process.env.PRICELAB_REPORT_FIGURES) writeFileSync(process.env.PRICELAB_REPORT_FIGURES, `${JSON.stringify(figures)}\n`);
    expect(unfitted, JSON.stringify(figures)).toBeLessThan(0.02 * storeIntervals);
    expect(figures.shrunkMse, JSON.stringify(figures)).toBeLessThan(figures.ownMse);
    expect(figures.smallShrunkMse, JSON.stringify(figures)).toBeLessThan(0.5 * figures.smallOwnMse);
    expect(shrunkBetterReps, JSON.stringify(figures)).toBeGreaterThanOrEqual(0.9 * repetitions);
    expect(tauCovered, JSON.stringify(figures)).toBeGreaterThanOrEqual(0.85 * repetitions);
    expect(slopeCovered, JSON.stringify(figures)).toBeGreaterThanOrEqual(0.9 * repetitions);
    expect(interceptCovered, JSON.stringify(figures)).toBeGreaterThanOrEqual(0.85 * repetitions);
    expect(figures.storeCoverage, JSON.stringify(figures)).toBeGreaterThan(0.85);
  }, 60_000);

  it('without attributes the second-level mean is the stores\' average sensitivity, and a one-store scenario holds that store\'s shrunken values', () => {
    const simulated = simulateStores(101);
    const fit = pooledFit(simulated);
    const result = poolStores(simulated.sales, simulated.logMarketSize, fit);
    expect(result.attributes).toBeUndefined();
    const average = simulated.sensitivity.reduce((total, value) => total + value, 0) / simulated.sensitivity.length;
    expect(Math.abs(result.priceSensitivity.mean.value - average)).toBeLessThan(3 * result.priceSensitivity.mean.standardError + 0.02);
    // tau without the attribute: the spread of 0.3 x + 0.15 e, about sqrt(0.09 + 0.0225) = 0.34.
    expect(result.priceSensitivity.tau.lower).toBeLessThan(0.335);
    expect(result.priceSensitivity.tau.upper).toBeGreaterThan(0.335);

    const scenario = {
      id: 'pooled-test-v1',
      version: 1,
      description: 'simulated stores',
      card: { models: 'm', purpose: 'p', sources: ['s'] },
      startDate: '2026-01-01',
      horizonDays: 280,
      objective: { kind: 'profit' as const },
      unitCost: 1,
      listPrice: 2.5,
      priceLadder: { kind: 'range' as const, min: 1, max: 4, count: 15 },
      demand: { kind: 'logit' as const, quality: fit.theta[0] ?? 0, outsideUtility: 0, segments: [{ name: 'calibrated', arrivalRate: 20, priceSensitivity: fit.theta[1] ?? 0, scale: 1 }] },
      competitors: [],
    };
    const record = {
      method: 'test',
      source: { file: 'x.csv', sha256: 'a'.repeat(64), format: 'csv', rows: simulated.sales.rows, rowsRead: simulated.sales.rows, firstPeriod: 1, lastPeriod: 40, periods: 40, periodLength: 'week' as const, stores: 60, columns: {} },
      estimates: [
        { parameter: 'quality', scenarioPath: 'demand.quality', value: 2, standardError: 0.1, lower: 1.8, upper: 2.2, method: 'm' },
        { parameter: 'priceSensitivity', scenarioPath: 'demand.segments[0].priceSensitivity', value: 1, standardError: 0.1, lower: 0.8, upper: 1.2, method: 'm' },
      ],
      derived: [],
      defaults: [],
      fit: { logLikelihood: 0, iterations: 1, converged: true, dispersion: 1, intervalMethod: 'm', seconds: 0 },
    };
    const pooled = applyPooling(simulated.sales, simulated.logMarketSize, fit, 7, { store: '2' }, { scenario: { ...scenario, calibration: record }, record });
    const storeTwo = pooled.pooling?.storeTable[1];
    const demand = pooled.scenario.demand;
    if (demand.kind !== 'logit' || !storeTwo) throw new Error('expected logit demand and store 2');
    expect(demand.segments[0]?.priceSensitivity).toBeCloseTo(storeTwo.shrunken.priceSensitivity.value, 4);
    expect(demand.quality).toBeCloseTo(storeTwo.shrunken.quality.value, 4);
    expect(demand.segments[0]?.arrivalRate).toBeCloseTo(150 / 7, 3);
    expect(pooled.record.pooling?.scenarioStore).toBe('2');
    expect(pooled.record.estimates.filter((estimate) => estimate.scenarioPath === 'demand.quality').map((estimate) => estimate.parameter)).toEqual(['store:2:quality']);
    const loaded = validateScenario(pooled.scenario, 'store scenario');
    expect(loaded.calibration?.pooling?.storeEstimates).toHaveLength(60);
    expect(() => applyPooling(simulated.sales, simulated.logMarketSize, fit, 7, { store: '999' }, { scenario: { ...scenario, calibration: record }, record })).toThrow(/store 999/);
  });
});

describe('closed forms', () => {
  it('equal variances, intercept only: tau^2 = S^2 / (n - 1) - v, and the shrinkage formula', () => {
    const estimates = [1.0, 1.6, 2.9, 0.7];
    const variance = 0.2;
    const n = estimates.length;
    const average = estimates.reduce((total, value) => total + value, 0) / n;
    const squares = estimates.reduce((total, value) => total + (value - average) ** 2, 0);
    const tauSquared = squares / (n - 1) - variance;
    const fit = fitSecondLevel(estimates, estimates.map(() => variance), estimates.map(() => [1]));
    expect(fit.tau.value ** 2).toBeCloseTo(tauSquared, 7);
    expect(fit.beta[0]).toBeCloseTo(average, 10);
    expect(fit.coefficients[0]?.standardError ?? 0).toBeCloseTo(Math.sqrt((tauSquared + variance) / n), 7);
    const weight = tauSquared / (tauSquared + variance);
    const shrunk = shrink(estimates[2] ?? 0, variance, average, (tauSquared + variance) / n, Math.sqrt(tauSquared));
    expect(shrunk.value).toBeCloseTo(average + weight * ((estimates[2] ?? 0) - average), 7);
    expect(shrunk.standardError ** 2).toBeCloseTo(weight * variance + (1 - weight) ** 2 * ((tauSquared + variance) / n), 7);
    // Estimates closer together than their noise: tau = 0, every store gets the mean.
    const tight = fitSecondLevel([1, 1.1, 0.95, 1.05], [0.2, 0.2, 0.2, 0.2], [[1], [1], [1], [1]]);
    expect(tight.tau.value).toBeLessThan(1e-6);
    expect(tight.tau.lower).toBe(0);
    expect(shrink(1.1, 0.2, tight.beta[0] ?? 0, 0, tight.tau.value).value).toBeCloseTo(tight.beta[0] ?? 0, 5);
    // An unfitted store (infinite variance) gets the prediction, with tau^2 added to its variance.
    expect(shrink(Number.NaN, Number.POSITIVE_INFINITY, 2, 0.01, 0.3)).toMatchObject({ value: 2, weight: 0 });
  });

  it('one store, two prices, no rivals: the saturated logit gives b = (logit(m1 / M) - logit(m2 / M)) / (p2 - p1)', () => {
    const units = Float64Array.from([30, 34, 32, 12, 14, 10]);
    const price = Float64Array.from([1, 1, 1, 2, 2, 2]);
    const market = 100;
    const sales: PoolingSales = { rows: 6, units, price, promotions: [], rivalPrices: [], store: new Int32Array(6), storeNames: ['only'] };
    const logMarketSize = new Float64Array(6).fill(Math.log(market));
    const fit = fitStore(sales, logMarketSize, Int32Array.from([0, 1, 2, 3, 4, 5]), { theta: [0, 0.5], likelihood: 'poisson', dispersion: 1 });
    const logit = (share: number) => Math.log(share / (1 - share));
    const first = 32 / market;
    const second = 12 / market;
    expect(fit.phi[1]).toBeCloseTo((logit(first) - logit(second)) / (2 - 1), 8);
    expect(fit.phi[0]).toBeCloseTo(logit(first) + fit.phi[1] * 1, 8);
    // Var(logit s_j) = 1 / (n_j M s_j (1 - s_j)^2): the slope's variance is their sum.
    const varianceOf = (share: number) => 1 / (3 * market * share * (1 - share) ** 2);
    expect(fit.covariance?.[2] ?? 0).toBeCloseTo(varianceOf(first) + varianceOf(second), 8);
  });
});

describe('store attribute table: bad input', () => {
  const folder = mkdtempSync(join(tmpdir(), 'pricelab-pooling-'));
  it('names a missing store, a non-numeric value and a missing key column', () => {
    try {
      const simulated = simulateStores(7);
      const bad = join(folder, 'stores.csv');
      writeFileSync(bad, 'Store,income\n1,10\n2,abc\n');
      expect(() => readStoreAttributes(bad, 'store')).toThrow(expect.objectContaining({ kind: 'config', problems: [expect.objectContaining({ path: ['row[2]', 'income'] })] }));
      writeFileSync(bad, 'shop,income\n1,10\n');
      expect(() => readStoreAttributes(bad, 'store')).toThrow(expect.objectContaining({ kind: 'config', problems: [expect.objectContaining({ path: ['stores', 'store'] })] }));
      writeFileSync(bad, 'STORE,income\n1,10\n2,11\n3,9\n');
      const partial = readStoreAttributes(bad, 'store');
      expect(partial.columns).toEqual(['income']);
      expect(() => poolStores(simulated.sales, simulated.logMarketSize, pooledFit(simulated), partial)).toThrow(expect.objectContaining({ kind: 'config', problems: expect.arrayContaining([expect.objectContaining({ path: ['stores', '4'] })]) }));
      expect(() => readStoreAttributes(join(folder, 'absent.csv'), 'store')).toThrow(expect.objectContaining({ kind: 'not-found' }));
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

const dataFolder = fileURLToPath(new URL('../../../shared/data/orangejuice/', import.meta.url));
const missing = existsSync(join(dataFolder, 'orangejuice.csv.gz')) && existsSync(join(dataFolder, 'orangejuice-stores.csv.gz')) ? undefined : `skipped: ${dataFolder} is absent`;

describe('Dominick\'s orange juice: 83 stores of Tropicana Premium 64 oz', () => {
  it.skipIf(missing !== undefined)(`pooled with the store demographics: tau and attribute effects finite, the stores' mean elasticity near the pooled one${missing ? ` (${missing})` : ''}`, async () => {
    const map = parseColumnMap(
      { period: 'week', logUnits: 'logmove', price: 'price1', rivalPrices: Array.from({ length: 10 }, (_, index) => `price${index + 2}`), promotions: ['feat', 'deal'], store: 'store', product: 'brand', filter: { brand: 1 } },
      'map',
    );
    const attributes = readStoreAttributes(join(dataFolder, 'orangejuice-stores.csv.gz'), 'store');
    // The pooled fit as calibrate makes it (negative binomial, market 3 x the store's mean units), without the rest of the pipeline.
    const sales = await readSales(join(dataFolder, 'orangejuice.csv.gz'), { map });
    const total = new Float64Array(sales.storeNames.length);
    const count = new Float64Array(sales.storeNames.length);
    sales.store.forEach((store, row) => {
      total[store] = (total[store] ?? 0) + (sales.units[row] ?? 0);
      count[store] = (count[store] ?? 0) + 1;
    });
    const logMarketSize = Float64Array.from(sales.store, (store) => Math.log((3 * (total[store] ?? 0)) / (count[store] ?? 1)));
    const data = { rows: sales.rows, units: sales.units, logMarketSize, price: sales.price, promotions: sales.promotions, promotionNames: sales.promotionNames, rivalPrices: sales.rivalPrices, rivalNames: sales.rivalNames };
    const fit = fitLogitNegativeBinomial(data, { start: fitLogitPoisson(data).theta });
    const pooling = poolStores(sales, logMarketSize, fit, attributes);
    if (!pooling.attributes) throw new Error('expected attribute coefficients');
    const figures = {
      tau: pooling.priceSensitivity.tau,
      mean: pooling.priceSensitivity.mean,
      pooledSensitivity: fit.theta[1],
      storesElasticity: pooling.meanElasticity,
      pooledElasticity: pooling.pooledElasticity,
      attributes: pooling.attributes.coefficients.map((entry) => ({ name: entry.name, value: entry.value, lower: entry.lower, upper: entry.upper, elasticityPerUnit: entry.elasticityPerUnit })),
    };
    if (process.env.PRICELAB_REPORT_FIGURES) writeFileSync(process.env.PRICELAB_REPORT_FIGURES, `${JSON.stringify(figures)}\n`);
    expect(pooling.stores).toBe(83);
    expect(pooling.storesEstimated).toBe(83);
    expect(attributes.columns).toHaveLength(11);
    expect(pooling.priceSensitivity.tau.value).toBeGreaterThan(0);
    expect(Number.isFinite(pooling.priceSensitivity.tau.upper)).toBe(true);
    for (const entry of pooling.attributes.coefficients) expect(Number.isFinite(entry.value) && Number.isFinite(entry.standardError)).toBe(true);
    // The stores' mean elasticity near the elasticity of the fit they are pooled around (one sensitivity for all).
    expect(pooling.pooledElasticity).toBeLessThan(0);
    expect(Math.abs(pooling.meanElasticity - pooling.pooledElasticity) / Math.abs(pooling.pooledElasticity), JSON.stringify(figures)).toBeLessThan(0.15);
    expect(pooling.storeTable.every((entry) => entry.shrunken.elasticity.value < 0)).toBe(true);
    expect(poolingRecord(pooling, undefined).storeEstimates).toHaveLength(83);
  }, 60_000);
});

describe('when pooling runs', () => {
  it('not below 3 stores unless asked; asked for with 2 stores, it is an error naming the store column', () => {
    const simulated = simulateStores(11);
    const twoStores: PoolingSales = { ...simulated.sales, store: simulated.sales.store.map((store) => store % 2), storeNames: ['1', '2'] };
    const fit = pooledFit(simulated);
    const built = { scenario: {} as never, record: { defaults: [] } as never };
    expect(applyPooling(twoStores, simulated.logMarketSize, fit, 7, undefined, built).pooling).toBeUndefined();
    expect(applyPooling(simulated.sales, simulated.logMarketSize, fit, 7, { enabled: false }, built).pooling).toBeUndefined();
    expect(() => applyPooling(twoStores, simulated.logMarketSize, fit, 7, { store: '1' }, built)).toThrow(expect.objectContaining({ kind: 'config', problems: [expect.objectContaining({ path: ['store'] })] }));
  });
});

describe('poolingOptionsFromFlags', () => {
  it('reads the attribute table by the default map\'s store column, and refuses --stores when a given map has no store column', () => {
    const folder = mkdtempSync(join(tmpdir(), 'pricelab-pooling-flags-'));
    try {
      const file = join(folder, 'stores.csv');
      writeFileSync(file, 'STORE,income,age\n1,10,30\n2,11,40\n');
      // Without --map the default map reads a `store` column when the sales file has one.
      const options = poolingOptionsFromFlags({ stores: file, storeAttributes: 'age', store: '2' }, undefined);
      expect(options?.attributes?.columns).toEqual(['age']);
      expect(options?.attributes?.values.get('2')).toEqual([40]);
      expect(options?.store).toBe('2');
      expect(() => poolingOptionsFromFlags({ stores: file, map: 'columns.json' }, undefined)).toThrow(expect.objectContaining({ kind: 'config', problems: [expect.objectContaining({ path: ['stores'] })] }));
      expect(() => poolingOptionsFromFlags({ storeAttributes: 'age' }, 'store')).toThrow(/--store-attributes needs --stores/);
      expect(poolingOptionsFromFlags({}, 'store')).toBeUndefined();
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

describe('pooling on by default never breaks a calibration', () => {
  it('a degenerate pooling (no store has its own fit) is listed among the defaults, not thrown', () => {
    const simulated = simulateStores(12);
    // No store sold anything: none can place its own quality and sensitivity.
    const flat: PoolingSales = { ...simulated.sales, units: new Float64Array(simulated.sales.rows) };
    const fit = pooledFit(simulated);
    const built = { scenario: {} as never, record: { defaults: [] } as unknown as Parameters<typeof applyPooling>[5]['record'] };
    const result = applyPooling(flat, simulated.logMarketSize, fit, 7, undefined, built);
    expect(result.pooling).toBeUndefined();
    expect(result.record.defaults).toEqual([expect.objectContaining({ field: 'pooling', value: 'not done' })]);
    expect(() => applyPooling(flat, simulated.logMarketSize, fit, 7, { attributes: simulated.attributes }, built)).toThrow();
  });
});
