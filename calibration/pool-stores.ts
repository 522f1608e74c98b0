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
import { fitStore, storePass, type PooledFitSummary, type PoolingSales, type StoreFit } from './pooling-store-fit.js';
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

/** Rows of each store, grouped (a counting sort of the store index). */
function rowsByStore(sales: PoolingSales): Int32Array[] {
  const counts = new Int32Array(sales.storeNames.length);
  for (let row = 0; row < sales.rows; row++) counts[sales.store[row] ?? 0]! += 1;
  const groups = Array.from(counts, (count) => new Int32Array(count));
  const filled = new Int32Array(sales.storeNames.length);
  for (let row = 0; row < sales.rows; row++) {
    const store = sales.store[row] ?? 0;
    groups[store]![filled[store]!++] = row;
  }
  return groups;
}

/**
 * Partial pooling of the store qualities and price sensitivities around the pooled fit.
 * `logMarketSize` is each row's effective log market size under the pooled fit (arrival
 * effects included). Attributes, when given, must cover every store.
 */
export function poolStores(sales: PoolingSales, logMarketSize: Float64Array, fit: PooledFitSummary, attributes?: StoreAttributes): PoolingResult {
  const storeCount = sales.storeNames.length;
  if (storeCount < minimumStores) {
    throw configError('too few stores to pool', [{ path: ['store'], message: `expected at least ${minimumStores} stores for partial pooling, found ${storeCount}` }]);
  }
  const groups = rowsByStore(sales);
  const ownFits = groups.map((rowsOf) => fitStore(sales, logMarketSize, rowsOf, fit));
  // Quasi-Poisson: the Pearson dispersion of the store-level fits (not the pooled fit's, which
  // the spread between stores inflates) scales the store variances when it exceeds 1.
  const identifiedFits = ownFits.filter((storeFit) => storeFit.covariance !== undefined);
  const commonParameters = Math.max(0, fit.theta.length - 2);
  let pearson = 0;
  let rowsFitted = 0;
  ownFits.forEach((storeFit, store) => {
    if (!storeFit.covariance) return;
    pearson += storeFit.pearson;
    rowsFitted += groups[store]?.length ?? 0;
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
    const rowsOf = groups[store] ?? new Int32Array(0);
    let market = 0;
    for (const index of rowsOf) market += Math.exp(logMarketSize[index] ?? 0);
    const { weight, ...sensitivityInterval } = shrunkSensitivity;
    const qualityInterval: Interval = { value: shrunkQuality.value, standardError: shrunkQuality.standardError, lower: shrunkQuality.lower, upper: shrunkQuality.upper };
    return {
      store: sales.storeNames[store] ?? String(store),
      rows: rowsOf.length,
      own,
      shrunken: {
        quality: qualityInterval,
        priceSensitivity: sensitivityInterval,
        elasticity: { value: -factor * sensitivityInterval.value, standardError: factor * sensitivityInterval.standardError, lower: -factor * sensitivityInterval.upper, upper: -factor * sensitivityInterval.lower },
      },
      weight,
      marketPerPeriod: rowsOf.length > 0 ? market / rowsOf.length : 0,
    };
  });
  let pooledElasticity = 0;
  for (const rowsOf of groups) pooledElasticity -= (fit.theta[1] ?? 0) * storePass(sales, logMarketSize, rowsOf, fit.theta, [fit.theta[0] ?? 0, fit.theta[1] ?? 0], Number.POSITIVE_INFINITY).elasticityFactor;
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
