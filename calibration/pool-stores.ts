/**
 * Card: the partial pooling estimate (calibration/pooling.ts has the model): every store
 * fitted on its own rows (pooling-store-fit.ts), the store variances scaled by the
 * within-store Pearson dispersion under quasi-Poisson, the second-level design from the
 * centred store attributes, the second level for the sensitivities (with attributes) and
 * the qualities (intercept only) (pooling-second-level.ts), and the store table: each
 * store's own and shrunken estimates, its weight, its elasticity -b_s mean(p (1 - s_0)) and
 * its market size; beside it the pooled fit's elasticity and the attribute effects in
 * elasticity units.
 */
import { configError, type Problem } from '../core/errors.js';
import { fitSecondLevel, shrink, z95, type Interval, type SecondLevelFit } from './pooling-second-level.js';
import { addStoreRow, emptyPass, pooledSize, storeFitOf, storeNewton, type PooledFitSummary, type PoolingSales, type StoreFit } from './pooling-store-fit.js';
import { rowBlocks, rowValuesIn, type RowValues } from './block-passes.js';
import type { SalesBlock } from './sales-blocks.js';
import { storeKey, type StoreAttributes } from './store-attributes.js';

export interface StorePooling {
  readonly store: string;
  readonly rows: number;
  /** The store's own estimates (level 1); undefined when the store could not be fitted. */
  readonly own: { readonly quality: Interval; readonly priceSensitivity: Interval } | undefined;
  readonly shrunken: { readonly quality: Interval; readonly priceSensitivity: Interval; readonly elasticity: Interval };
  /** w_s = tau^2 / (tau^2 + v_s): the weight on the store's own sensitivity (0: fully pooled). */
  readonly weight: number;
  /** Mean market size (arrivals) per period over the store's rows. */
  readonly marketPerPeriod: number;
}

export interface PoolingResult {
  readonly method: string;
  readonly stores: number;
  readonly storesEstimated: number;
  readonly priceSensitivity: { readonly tau: SecondLevelFit['tau']; readonly mean: Interval };
  readonly quality: { readonly tau: SecondLevelFit['tau']; readonly mean: Interval };
  readonly attributes:
    | {
        readonly file: string;
        readonly sha256: string;
        readonly coefficients: readonly (Interval & { readonly name: string; readonly elasticityPerUnit: number })[];
      }
    | undefined;
  /** Mean over stores of the shrunken store elasticities. */
  readonly meanElasticity: number;
  /** The same from the pooled fit (one sensitivity for every store): mean over rows of -b p (1 - s). */
  readonly pooledElasticity: number;
  readonly storeTable: readonly StorePooling[];
}

export const minimumStores = 3;

function quadratic(covariance: readonly (readonly number[])[], row: readonly number[]): number {
  let total = 0;
  row.forEach((left, p) => row.forEach((right, q) => (total += left * right * (covariance[p]?.[q] ?? 0))));
  return total;
}

type PoolingColumn = 'units' | 'price' | 'promotions' | 'rivalPrices' | 'store';

/**
 * Every store's (a_s, b_s) at once: each store's Newton (pooling-store-fit.ts) asks for its
 * next pass, and one pass over the blocks of rows serves every request (a store's sums run
 * over its rows in row order, as a pass over its rows alone would). Also, per store, its
 * rows, its market size summed over them, and the elasticity factor at the pooled fit (the
 * first request of every store is the pooled fit's (a, b)).
 */
function fitEveryStore(sales: PoolingSales, logMarketSize: RowValues, fit: PooledFitSummary): { fits: StoreFit[]; rows: Float64Array; market: Float64Array; pooledFactor: Float64Array } {
  const storeCount = sales.storeNames.length;
  const rows = new Float64Array(storeCount);
  const units = new Float64Array(storeCount);
  const market = new Float64Array(storeCount);
  for (const block of rowBlocks<PoolingColumn>(sales)) {
    const logs = rowValuesIn(logMarketSize, block.start, block.rows, block as SalesBlock);
    for (let row = 0; row < block.rows; row++) {
      const store = block.store[row] ?? 0;
      rows[store] = (rows[store] ?? 0) + 1;
      units[store] = (units[store] ?? 0) + (block.units[row] ?? 0);
      market[store] = (market[store] ?? 0) + Math.exp(logs[row] ?? 0);
    }
  }
  const size = pooledSize(fit);
  const newtons = Array.from({ length: storeCount }, () => storeNewton(fit));
  const requests: ([number, number] | undefined)[] = newtons.map((newton) => {
    const request = newton.next(emptyPass());
    return request.done ? undefined : request.value;
  });
  const fits: StoreFit[] = new Array<StoreFit>(storeCount);
  const pooledFactor = new Float64Array(storeCount);
  let utilities = new Float64Array(1);
  for (let round = 0; requests.some((request) => request !== undefined); round++) {
    const passes = requests.map((request) => (request ? emptyPass() : undefined));
    for (const block of rowBlocks<PoolingColumn>(sales)) {
      if (utilities.length < block.rivalPrices.length + 1) utilities = new Float64Array(block.rivalPrices.length + 1);
      const logs = rowValuesIn(logMarketSize, block.start, block.rows, block as SalesBlock);
      for (let row = 0; row < block.rows; row++) {
        const store = block.store[row] ?? 0;
        const request = requests[store];
        const pass = passes[store];
        if (request && pass) addStoreRow(pass, block, row, logs[row] ?? 0, fit.theta, request, size, utilities);
      }
    }
    passes.forEach((pass, store) => {
      if (!pass) return;
      if (round === 0) pooledFactor[store] = pass.elasticityFactor;
      const next = (newtons[store] as ReturnType<typeof storeNewton>).next(pass);
      if (next.done) {
        fits[store] = storeFitOf(next.value, rows[store] ?? 0, units[store] ?? 0);
        requests[store] = undefined;
      } else requests[store] = next.value;
    });
  }
  return { fits, rows, market, pooledFactor };
}

/**
 * Partial pooling of the store qualities and price sensitivities around the pooled fit.
 * `logMarketSize` is each row's effective log market size under the pooled fit (arrival
 * effects included), whole or made per block. Attributes, when given, must cover every store.
 * The rows are read block by block: per store sums only.
 */
export function poolStores(sales: PoolingSales, logMarketSize: RowValues, fit: PooledFitSummary, attributes?: StoreAttributes): PoolingResult {
  const storeCount = sales.storeNames.length;
  if (storeCount < minimumStores) {
    throw configError('too few stores to pool', [{ path: ['store'], message: `expected at least ${minimumStores} stores for partial pooling, found ${storeCount}` }]);
  }
  const everyStore = fitEveryStore(sales, logMarketSize, fit);
  const ownFits = everyStore.fits;
  // Quasi-Poisson: the Pearson dispersion of the store-level fits (not the pooled fit's, which
  // the spread between stores inflates) scales the store variances when it exceeds 1.
  const identifiedFits = ownFits.filter((storeFit) => storeFit.covariance !== undefined);
  const commonParameters = Math.max(0, fit.theta.length - 2);
  let pearson = 0;
  let rowsFitted = 0;
  ownFits.forEach((storeFit, store) => {
    if (!storeFit.covariance) return;
    pearson += storeFit.pearson;
    rowsFitted += everyStore.rows[store] ?? 0;
  });
  const withinDispersion = rowsFitted > 2 * identifiedFits.length + commonParameters ? pearson / (rowsFitted - 2 * identifiedFits.length - commonParameters) : Number.NaN;
  const scale = fit.likelihood === 'poisson' && withinDispersion > 1 ? withinDispersion : 1;
  const fits = ownFits.map((storeFit) => (storeFit.covariance ? { ...storeFit, covariance: storeFit.covariance.map((value) => value * scale) as [number, number, number] } : storeFit));
  const fitted = fits.map((storeFit, store) => ({ storeFit, store })).filter(({ storeFit }) => storeFit.covariance !== undefined);

  let design: number[][] = sales.storeNames.map(() => [1]);
  if (attributes) {
    const problems: Problem[] = [];
    const raw = sales.storeNames.map((name) => {
      const values = attributes.values.get(storeKey(name));
      if (!values && problems.length < 20) problems.push({ path: ['stores', name], message: `expected a row for store ${name} in ${attributes.file} (every store of the sales file needs its attributes), found none` });
      return values ?? [];
    });
    if (problems.length > 0) throw configError(`${attributes.file} lacks stores of the sales file`, problems);
    const means = attributes.columns.map((_, column) => fitted.reduce((total, { store }) => total + (raw[store]?.[column] ?? 0), 0) / Math.max(1, fitted.length));
    design = raw.map((values) => [1, ...values.map((value, column) => value - (means[column] ?? 0))]);
  }

  const secondLevel = (select: (storeFit: StoreFit) => { estimate: number; variance: number }, withAttributes: boolean) =>
    fitSecondLevel(
      fitted.map(({ storeFit }) => select(storeFit).estimate),
      fitted.map(({ storeFit }) => select(storeFit).variance),
      fitted.map(({ store }) => (withAttributes ? (design[store] ?? [1]) : [1])),
    );
  const sensitivityOf = (storeFit: StoreFit) => ({ estimate: storeFit.phi[1], variance: storeFit.covariance?.[2] ?? Number.POSITIVE_INFINITY });
  const qualityOf = (storeFit: StoreFit) => ({ estimate: storeFit.phi[0], variance: storeFit.covariance?.[0] ?? Number.POSITIVE_INFINITY });
  const sensitivityLevel = secondLevel(sensitivityOf, attributes !== undefined);
  const qualityLevel = secondLevel(qualityOf, false);

  const storeTable: StorePooling[] = fits.map((storeFit, store) => {
    const row = design[store] ?? [1];
    const own = storeFit.covariance ? { quality: interval(storeFit.phi[0], storeFit.covariance[0]), priceSensitivity: interval(storeFit.phi[1], storeFit.covariance[2]) } : undefined;
    const sensitivity = sensitivityOf(storeFit);
    const prior = row.reduce((total, value, p) => total + value * (sensitivityLevel.beta[p] ?? 0), 0);
    const shrunkSensitivity = shrink(sensitivity.estimate, sensitivity.variance, prior, quadratic(sensitivityLevel.betaCovariance, row), sensitivityLevel.tau.value);
    const quality = qualityOf(storeFit);
    const shrunkQuality = shrink(quality.estimate, quality.variance, qualityLevel.beta[0] ?? 0, qualityLevel.betaCovariance[0]?.[0] ?? 0, qualityLevel.tau.value);
    const factor = storeFit.elasticityFactor;
    const rowCount = everyStore.rows[store] ?? 0;
    const market = everyStore.market[store] ?? 0;
    const { weight, ...sensitivityInterval } = shrunkSensitivity;
    const qualityInterval: Interval = { value: shrunkQuality.value, standardError: shrunkQuality.standardError, lower: shrunkQuality.lower, upper: shrunkQuality.upper };
    return {
      store: sales.storeNames[store] ?? String(store),
      rows: rowCount,
      own,
      shrunken: {
        quality: qualityInterval,
        priceSensitivity: sensitivityInterval,
        elasticity: { value: -factor * sensitivityInterval.value, standardError: factor * sensitivityInterval.standardError, lower: -factor * sensitivityInterval.upper, upper: -factor * sensitivityInterval.lower },
      },
      weight,
      marketPerPeriod: rowCount > 0 ? market / rowCount : 0,
    };
  });
  let pooledElasticity = 0;
  for (const factor of everyStore.pooledFactor) pooledElasticity -= (fit.theta[1] ?? 0) * factor;
  const meanFactor = fits.reduce((total, storeFit) => total + storeFit.elasticityFactor, 0) / storeCount;
  const toMean = (level: SecondLevelFit): Interval => level.coefficients[0] ?? { value: Number.NaN, standardError: Number.NaN, lower: Number.NaN, upper: Number.NaN };
  return {
    method:
      'empirical Bayes partial pooling: per-store quality and price sensitivity by maximum likelihood (other parameters at the pooled fit), the between-store spread tau by restricted maximum likelihood (profile likelihood-ratio interval), store estimates shrunk by tau^2 / (tau^2 + v_s) towards the second-level mean' +
      (attributes ? ' (a weighted regression on the store attributes, centred; Student-t intervals)' : '') +
      (scale > 1 ? `; store variances scaled by the within-store Pearson dispersion ${scale.toPrecision(3)} (quasi-Poisson)` : ''),
    stores: storeCount,
    storesEstimated: fitted.length,
    priceSensitivity: { tau: sensitivityLevel.tau, mean: toMean(sensitivityLevel) },
    quality: { tau: qualityLevel.tau, mean: toMean(qualityLevel) },
    attributes: attributes
      ? {
          file: attributes.file,
          sha256: attributes.sha256,
          coefficients: attributes.columns.map((name, column) => {
            const coefficient = sensitivityLevel.coefficients[column + 1]!;
            return { name, ...coefficient, elasticityPerUnit: -meanFactor * coefficient.value };
          }),
        }
      : undefined,
    meanElasticity: storeTable.reduce((total, entry) => total + entry.shrunken.elasticity.value, 0) / storeCount,
    pooledElasticity: pooledElasticity / Math.max(1, sales.rows),
    storeTable,
  };
}

function interval(value: number, variance: number): Interval {
  const standardError = Math.sqrt(variance);
  return { value, standardError, lower: value - z95 * standardError, upper: value + z95 * standardError };
}
