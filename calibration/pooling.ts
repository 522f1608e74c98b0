/**
 * Card: partial pooling across stores (hierarchical shrinkage, empirical Bayes) and store
 * elasticities explained by store attributes.
 *
 * Model, two levels (the first is the simulator's logit, calibration/logit-poisson.ts):
 *   level 1, store s:  units ~ Poisson or NB(M_t s_t), u_0t = a_s - b_s p_t + sum_m gamma_m z_mt,
 *                      u_kt = a_k - b_s r_kt    (the store's customers have one price sensitivity)
 *   level 2:           b_s ~ Normal(x_s' beta, tau^2),   a_s ~ Normal(alpha, tau_a^2)
 * x_s is 1 and the store's attributes, centred on their mean over the stores (so beta_0 is the
 * sensitivity of a store with average attributes); without attributes, x_s = 1.
 *
 * Method:
 * 1. Per store, (a_s, b_s) by maximum likelihood on the store's rows with everything else
 *    (promotion lifts, rival qualities, the negative binomial size) held at the pooled fit's
 *    values: Newton-Raphson on two parameters (Fisher scoring when the observed information
 *    is not positive definite, step halving). Variances v_s from the inverse observed
 *    information (times the Pearson dispersion when the pooled fit is quasi-Poisson). A store
 *    whose fit does not converge or has no information (one price, no sales) is kept out of
 *    level 2 and gets the level-2 prediction (it borrows everything).
 * 2. Level 2 by restricted maximum likelihood (REML, the marginal likelihood of the
 *    estimates b_s ~ N(x_s' beta, v_s + tau^2) with beta integrated out): tau by a grid and a
 *    golden-section search on tau >= 0; beta by weighted least squares at tau (weights
 *    1 / (v_s + tau^2), ml-matrix solves). tau's 95% interval: the profile REML likelihood
 *    ratio (2 delta loglik <= 3.84), 0 as its lower end when 0 is inside. beta's intervals:
 *    Student t with (stores - coefficients) degrees of freedom on (X'WX)^-1.
 * 3. Shrunken store estimates (the empirical Bayes posterior mean):
 *      b~_s = x_s' beta + w_s (b^_s - x_s' beta),  w_s = tau^2 / (tau^2 + v_s)
 *    with variance w_s v_s + (1 - w_s)^2 x_s' Cov(beta) x_s (Morris's correction for the
 *    estimated beta; tau's own uncertainty is not added). Small or noisy stores (large v_s)
 *    move furthest towards the prediction from their attributes. Qualities alike, with an
 *    intercept only.
 * Elasticities: store s's own-price elasticity is -b_s times the mean over its rows of
 * p (1 - s_0) at its own estimates; an attribute coefficient in elasticity units is the
 * coefficient times minus the mean of that factor over the stores.
 *
 * Modules: level 1 in pooling-store-fit.ts, level 2 and the shrinkage in
 * pooling-second-level.ts, the two put together into the store table in pool-stores.ts, the
 * attribute table in store-attributes.ts; this file puts the result into the scenario and
 * its record, and re-exports the pieces.
 *
 * Passes: the rows are read block by block (calibration/block-passes.ts), every store's Newton
 * step served by one pass; what is kept is per store. `logMarketSize` may be whole or made
 * per block.
 *
 * Limits: level 1 holds the common parameters fixed (their uncertainty is not carried into
 * v_s); a_s and b_s are shrunk separately (their correlation within a store is ignored).
 */
import { PricelabError, configError } from '../core/errors.js';
import type { CalibrationRecord } from '../scenarios/calibration-record.js';
import type { ScenarioInput } from '../scenarios/schema.js';
import type { Interval, SecondLevelFit } from './pooling-second-level.js';
import type { PooledFitSummary, PoolingSales } from './pooling-store-fit.js';
import { minimumStores, poolStores, type PoolingResult } from './pool-stores.js';
import { readStoreAttributes, storeKey, type StoreAttributes } from './store-attributes.js';
import type { RowValues } from './block-passes.js';

export { fitStore, type PooledFitSummary, type PoolingSales } from './pooling-store-fit.js';
export { fitSecondLevel, shrink, z95, type Interval, type SecondLevelFit } from './pooling-second-level.js';
export { minimumStores, poolStores, type PoolingResult, type StorePooling } from './pool-stores.js';
export { readStoreAttributes, storeKey, type StoreAttributes } from './store-attributes.js';

// ---------------------------------------------------------------- into the scenario and its record

export interface PoolingOptions {
  /** false: no pooling; default: pool whenever the history has at least `minimumStores` stores. */
  readonly enabled?: boolean;
  readonly attributes?: StoreAttributes;
  /** Write this store's market (its shrunken quality and sensitivity, its own arrivals) instead of the pooled one. */
  readonly store?: string;
}

const round = (value: number) => Number(value.toPrecision(6));
const roundInterval = (entry: Interval) => ({ value: round(entry.value), standardError: round(entry.standardError), lower: round(entry.lower), upper: round(entry.upper) });
const roundTau = (tau: SecondLevelFit['tau']) => ({ value: round(tau.value), lower: round(tau.lower), upper: round(tau.upper) });

/** The `pooling` block of the calibration record (numbers to six significant digits). */
export function poolingRecord(result: PoolingResult, scenarioStore: string | undefined): NonNullable<CalibrationRecord['pooling']> {
  return {
    method: result.method,
    stores: result.stores,
    storesEstimated: result.storesEstimated,
    ...(scenarioStore === undefined ? {} : { scenarioStore }),
    priceSensitivity: { tau: roundTau(result.priceSensitivity.tau), mean: roundInterval(result.priceSensitivity.mean) },
    quality: { tau: roundTau(result.quality.tau), mean: roundInterval(result.quality.mean) },
    meanElasticity: round(result.meanElasticity),
    pooledElasticity: round(result.pooledElasticity),
    ...(result.attributes
      ? {
          attributes: {
            file: result.attributes.file,
            sha256: result.attributes.sha256,
            coefficients: result.attributes.coefficients.map((entry) => ({ name: entry.name, ...roundInterval(entry), elasticityPerUnit: round(entry.elasticityPerUnit) })),
          },
        }
      : {}),
    storeEstimates: result.storeTable.map((entry) => ({
      store: entry.store,
      rows: entry.rows,
      weight: round(entry.weight),
      ...(entry.own ? { own: { quality: roundInterval(entry.own.quality), priceSensitivity: roundInterval(entry.own.priceSensitivity) } } : {}),
      quality: roundInterval(entry.shrunken.quality),
      priceSensitivity: roundInterval(entry.shrunken.priceSensitivity),
      elasticity: roundInterval(entry.shrunken.elasticity),
    })),
  };
}

/**
 * Pools the stores of a calibrated history and puts the result in the record; with
 * `options.store`, the scenario becomes that store's market: its shrunken quality and price
 * sensitivity, its own arrivals per day (the rivals, promotions and everything else stay
 * the pooled fit's). When pooling was not asked for (no attributes, no store) and fails, the
 * scenario is the pooled one and the record says why among the defaults; when it was asked
 * for, the failure is the caller's error (exit 2).
 */
export function applyPooling(
  sales: PoolingSales,
  logMarketSize: RowValues,
  fit: PooledFitSummary,
  daysPerPeriod: number,
  options: PoolingOptions | undefined,
  built: { readonly scenario: ScenarioInput; readonly record: CalibrationRecord },
): { scenario: ScenarioInput; record: CalibrationRecord; pooling: PoolingResult | undefined } {
  const asked = options?.attributes !== undefined || options?.store !== undefined;
  if (options?.enabled === false || (!asked && sales.storeNames.length < minimumStores)) return { ...built, pooling: undefined };
  let pooling: PoolingResult;
  try {
    pooling = poolStores(sales, logMarketSize, fit, options?.attributes);
    const nonFinite = firstNonFinite(poolingRecord(pooling, undefined), 'pooling');
    if (nonFinite !== undefined) throw configError('the pooling across stores is degenerate', [{ path: ['pooling'], message: `expected finite estimates, found ${nonFinite} not finite` }]);
  } catch (error) {
    // Asked for (attributes, a store), a failure is the command's error; on by default, it is a listed default.
    if (asked) throw error;
    const reason = error instanceof PricelabError ? `${error.message}: ${error.problems.map((problem) => problem.message).join('; ')}` : `the pooling failed: ${(error as Error).message}`;
    return { ...built, record: { ...built.record, defaults: [...built.record.defaults, { field: 'pooling', value: 'not done', reason }] }, pooling: undefined };
  }
  if (built.record.endogeneity?.choice === 'instrumented') {
    pooling = {
      ...pooling,
      method: `${pooling.method}; the stores' sensitivities take prices as exogenous within each store (as the naive fit does, pooledElasticity), while the pooled scenario's is instrumented (calibration.endogeneity)`,
    };
  }
  const store = options?.store;
  if (store === undefined) return { scenario: { ...built.scenario, calibration: { ...built.record, pooling: poolingRecord(pooling, undefined) } }, record: { ...built.record, pooling: poolingRecord(pooling, undefined) }, pooling };

  const entry = pooling.storeTable.find((candidate) => storeKey(candidate.store) === storeKey(store));
  if (!entry) {
    throw configError(`no store ${store} in the sales file`, [{ path: ['store'], message: `expected one of the ${pooling.stores} stores (${pooling.storeTable.slice(0, 10).map((candidate) => candidate.store).join(', ')}${pooling.stores > 10 ? ', ...' : ''}), found ${store}` }]);
  }
  const demand = built.scenario.demand;
  if (demand.kind !== 'logit') return { ...built, pooling };
  const method = `${pooling.method}; store ${entry.store}'s shrunken estimate (the scenario is this store's market)`;
  const arrivalRate = round(entry.marketPerPeriod / daysPerPeriod);
  const storeEstimates: CalibrationRecord['estimates'] = [
    { parameter: `store:${entry.store}:quality`, scenarioPath: 'demand.quality', ...roundInterval(entry.shrunken.quality), method },
    { parameter: `store:${entry.store}:priceSensitivity`, scenarioPath: 'demand.segments[0].priceSensitivity', ...roundInterval(entry.shrunken.priceSensitivity), method },
  ];
  const record: CalibrationRecord = {
    ...built.record,
    // The pooled quality and sensitivity stay in the record, no longer placed in the scenario.
    estimates: [
      ...built.record.estimates.map((estimate) =>
        estimate.scenarioPath === 'demand.quality' || estimate.scenarioPath === 'demand.segments[0].priceSensitivity' ? withoutScenarioPath(estimate) : estimate,
      ),
      ...storeEstimates,
    ],
    derived: [...built.record.derived, { name: 'storeArrivalRatePerDay', value: arrivalRate, method: `store ${entry.store}: mean market size per period over its rows / days per period` }],
    defaults: built.record.defaults.map((entryDefault) => (entryDefault.field === 'demand.segments[0].arrivalRate' ? { ...entryDefault, value: arrivalRate } : entryDefault)),
    pooling: poolingRecord(pooling, entry.store),
  };
  const scenario: ScenarioInput = {
    ...built.scenario,
    description: `${built.scenario.description} (store ${entry.store} of ${pooling.stores}, partial pooling)`,
    demand: {
      ...demand,
      quality: round(entry.shrunken.quality.value),
      segments: demand.segments.map((segment, index) => (index === 0 ? { ...segment, priceSensitivity: round(entry.shrunken.priceSensitivity.value), arrivalRate } : segment)),
    },
    calibration: record,
  };
  return { scenario, record, pooling };
}

/** The path of the first number that is not finite in a JSON-like value, or undefined. */
function firstNonFinite(value: unknown, path: string): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : path;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      const found = firstNonFinite(value[index], `${path}[${index}]`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, entry] of Object.entries(value)) {
      const found = firstNonFinite(entry, `${path}.${key}`);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

function withoutScenarioPath(estimate: CalibrationRecord['estimates'][number]): CalibrationRecord['estimates'][number] {
  const { scenarioPath: _placed, ...rest } = estimate;
  void _placed;
  return rest;
}

/**
 * The pooling options from the command line's --stores, --store-attributes and --store.
 * Without --map the default map reads a column named `store` when there is one.
 */
export function poolingOptionsFromFlags(flags: { readonly stores?: string; readonly storeAttributes?: string; readonly store?: string; readonly map?: string }, mappedStoreColumn: string | undefined): PoolingOptions | undefined {
  const storeColumn = mappedStoreColumn ?? (flags.map === undefined ? 'store' : undefined);
  if (flags.stores === undefined && flags.store === undefined) {
    if (flags.storeAttributes !== undefined) throw configError('--store-attributes needs --stores', [{ path: ['store-attributes'], message: 'expected --stores <file> with it, found none' }]);
    return undefined;
  }
  if (storeColumn === undefined) {
    throw configError('pooling across stores needs a store column', [{ path: [flags.stores === undefined ? 'store' : 'stores'], message: 'expected the column map to name a store column ("store"), found none' }]);
  }
  const columns = flags.storeAttributes?.split(',').map((name) => name.trim()).filter((name) => name.length > 0);
  return {
    ...(flags.stores === undefined ? {} : { attributes: readStoreAttributes(flags.stores, storeColumn, columns) }),
    ...(flags.store === undefined ? {} : { store: flags.store }),
  };
}

/** Lines for the command's text output: tau, the mean, the attribute effects, the scenario's store. */
export function poolingSummaryLines(pooling: CalibrationRecord['pooling']): string[] {
  if (!pooling) return [];
  const figure = (value: number) => Number(value.toPrecision(4)).toString();
  const sensitivity = pooling.priceSensitivity;
  const lines = [
    '',
    `partial pooling: ${pooling.storesEstimated} of ${pooling.stores} stores fitted; store price sensitivities ${figure(sensitivity.mean.value)} (${figure(sensitivity.mean.lower)} .. ${figure(sensitivity.mean.upper)}) on average, spread tau ${figure(sensitivity.tau.value)} (${figure(sensitivity.tau.lower)} .. ${figure(sensitivity.tau.upper)}); mean store elasticity ${figure(pooling.meanElasticity)}${pooling.pooledElasticity === undefined ? '' : ` (the fit pooled around: ${figure(pooling.pooledElasticity)})`}`,
  ];
  for (const coefficient of pooling.attributes?.coefficients ?? []) {
    const clear = coefficient.lower > 0 || coefficient.upper < 0;
    lines.push(`  ${coefficient.name}: ${figure(coefficient.value)} (${figure(coefficient.lower)} .. ${figure(coefficient.upper)}) per unit, elasticity ${figure(coefficient.elasticityPerUnit)} per unit${clear ? ' *' : ''}`);
  }
  lines.push(pooling.scenarioStore === undefined ? '  the scenario is the pooled market (--store <id> writes one store\'s)' : `  the scenario is store ${pooling.scenarioStore}'s market (its shrunken quality and sensitivity, its arrivals)`);
  return lines;
}
