/**
 * Card: price endogeneity. When a shop sets its price knowing something about demand that the
 * analyst does not see (a local event, a good week), price and the unobserved demand shock
 * move together and the likelihood fit (calibration/logit-poisson.ts) mistakes part of the
 * shock's effect for a weaker price response. This module puts an instrumented estimate
 * beside that naive one, tests whether they differ, and says which one the scenario uses.
 *
 * Instruments (excluded from demand, moving our price):
 *   - the unit cost or wholesale price column, when mapped: cost shifts price, not demand;
 *   - without one, with several stores, the Hausman instrument: the mean price of the same
 *     product in the OTHER stores in the same period (Hausman 1996; Nevo 2001): common cost
 *     shocks move it, a store's local demand shock does not. Rows whose period has no other
 *     store are left out. Not beside the cost (see priceInstruments).
 *   An instrument collinear with the exogenous regressors adds nothing and is dropped.
 *
 * Method: control function for the logit-Poisson (Petrin and Train 2010; Wooldridge 2010,
 * section 18.5). Demand utility u_0t = a - b p_t + gamma z_t + xi_t with E[xi_t | p_t] != 0;
 * price p_t = W_t pi + v_t with W = (1, instruments, exogenous regressors: promotions, rival
 * prices, weekday dummies, calendar covariates, log market size when it varies).
 *   1. First stage: OLS of price on W (streaming Householder QR from ml-matrix, constant
 *      memory in the rows); the residual v_t; the F statistic of the instruments' exclusion
 *      (weak instruments below 10, Staiger and Stock 1997).
 *   2. Second stage: the same likelihood fit with v_t as one more utility regressor
 *      (the `controlFunctionResidual` lift): it absorbs E[xi_t | v_t] = lambda v_t, so b is
 *      consistent when xi given v is (close to) independent of price.
 *   3. Standard errors: the two stages stacked as one M-estimator (first-stage normal
 *      equations, second-stage scores), the sandwich J^-1 B J^-T with J the Jacobian of the
 *      stacked estimating equations (in the second stage's parameters minus its analytic
 *      observed information; in the first stage's, central differences of the analytic row
 *      scores) and B the outer product of their sums over each period (clustered by period:
 *      stores in one period share shocks), times G / (G - 1). This is Murphy and
 *      Topel's (1985) correction for the generated regressor, made robust to overdispersion
 *      and to heteroskedasticity (Newey and McFadden 1994, section 6).
 *   4. Durbin-Wu-Hausman: the Wald t test of lambda = 0 (exogenous price) with that standard
 *      error; two-sided normal p-value.
 *   5. Choice: instrumented when the instruments are strong (F >= 10), the test rejects at
 *      5% and a cost column is among the instruments; otherwise naive (more efficient when
 *      the price is exogenous). With weak instruments steps 2 to 4 are skipped: the estimate
 *      and the test would be unreliable (and the second stage is the costly part); so they
 *      are when the first stage fits the price exactly (no shock can be in it). The Hausman
 *      instrument alone never switches the scenario: it is valid only if demand shocks are
 *      store-specific, and a chain-wide shock (advertising, a holiday) moves the other
 *      stores' prices too (Bresnahan 1997); with one instrument that cannot be tested. Its
 *      estimate and test are shown.
 * The instrumented fit's quality, lifts and rival qualities are those at v = 0 (the first
 * stage's mean residual): the market without the unobserved shock, as the simulator draws it.
 *
 * Linear tools shared with calibration/inverted-shares.ts: `leastSquares` (streaming QR),
 * `clusterMeat`, `clusterRobustLeastSquares`, `twoStageLeastSquares`.
 */
import { Matrix, QrDecomposition, inverse } from 'ml-matrix';
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import type { CalibrationRecord } from '../scenarios/calibration-record.js';
import { censoredTerm, logLikelihoodDerivatives, rowLogMarketSize, waldZ95, type LogitPoissonData, type LogitPoissonFit, type ParameterEstimate } from './logit-poisson.js';
import type { SalesData } from './reader.js';

// ---------------------------------------------------------------------------------------
// Linear least squares, streamed

/** A linear regression read one row at a time (so a million rows need no n x k matrix). */
export interface LinearDesign {
  readonly rows: number;
  readonly columnNames: readonly string[];
  /** Writes the row's regressors into `into` and returns its response; NaN leaves the row out. */
  readonly fill: (row: number, into: Float64Array) => number;
}

export interface LeastSquaresFit {
  readonly columnNames: readonly string[];
  readonly coefficients: Float64Array;
  readonly residualSumOfSquares: number;
  readonly rowsUsed: number;
  /** X'X and its inverse, from the R factor (X'X = R'R). */
  readonly gram: Matrix;
  readonly inverseGram: Matrix;
  /** Columns collinear with earlier ones (R's diagonal below 1e-9 of the column's norm); the coefficients are NaN when any is. */
  readonly collinear: readonly number[];
}

const chunkRows = 2048;

/**
 * Ordinary least squares by Householder QR (ml-matrix), streamed: rows are taken in chunks,
 * each chunk stacked under the R factor so far ([R; chunk] = Q R'), so memory is the chunk,
 * not the rows. The response rides along as the last column: the last entry of R is +-sqrt(RSS).
 */
export function leastSquares(design: LinearDesign): LeastSquaresFit {
  const size = design.columnNames.length;
  const width = size + 1;
  const regressors = new Float64Array(size);
  const squares = new Float64Array(size);
  let factor: number[][] | undefined;
  let buffer: number[][] = [];
  let rowsUsed = 0;
  const flush = () => {
    const stacked = factor ? factor.concat(buffer) : buffer;
    if (stacked.length < width) return;
    factor = new QrDecomposition(new Matrix(stacked)).upperTriangularMatrix.to2DArray();
    buffer = [];
  };
  for (let row = 0; row < design.rows; row++) {
    const response = design.fill(row, regressors);
    if (!Number.isFinite(response) || !regressors.every(Number.isFinite)) continue;
    rowsUsed++;
    for (let column = 0; column < size; column++) squares[column] = (squares[column] ?? 0) + (regressors[column] ?? 0) ** 2;
    buffer.push([...regressors, response]);
    if (buffer.length >= chunkRows) flush();
  }
  flush();
  const coefficients = new Float64Array(size).fill(Number.NaN);
  const nanMatrix = () => new Matrix(size, size).fill(Number.NaN);
  if (!factor) return { columnNames: design.columnNames, coefficients, residualSumOfSquares: Number.NaN, rowsUsed, gram: nanMatrix(), inverseGram: nanMatrix(), collinear: [] };
  const upper = factor;
  const at = (row: number, column: number) => upper[row]?.[column] ?? 0;
  const collinear: number[] = [];
  for (let column = 0; column < size; column++) {
    if (!(Math.abs(at(column, column)) > 1e-9 * Math.sqrt(squares[column] ?? 0))) collinear.push(column);
  }
  const residualSumOfSquares = at(size, size) ** 2;
  const r = new Matrix(Array.from({ length: size }, (_, row) => Array.from({ length: size }, (_, column) => at(row, column))));
  const gram = r.transpose().mmul(r);
  if (collinear.length > 0) return { columnNames: design.columnNames, coefficients, residualSumOfSquares, rowsUsed, gram, inverseGram: nanMatrix(), collinear };
  // Back substitution: R beta = Q'y (the last column of the augmented R).
  for (let row = size - 1; row >= 0; row--) {
    let value = at(row, size);
    for (let column = row + 1; column < size; column++) value -= at(row, column) * (coefficients[column] ?? 0);
    coefficients[row] = value / at(row, row);
  }
  const rInverse = inverse(r);
  return { columnNames: design.columnNames, coefficients, residualSumOfSquares, rowsUsed, gram, inverseGram: rInverse.mmul(rInverse.transpose()), collinear };
}

/**
 * The meat of a cluster-robust sandwich: sum over clusters of (sum of the rows' estimating-
 * equation contributions)(the same)'. `contribution` writes a row's vector and returns false
 * to leave the row out. Clusters are the distinct values of `cluster`.
 */
export function clusterMeat(rows: number, size: number, contribution: (row: number, into: Float64Array) => boolean, cluster: ArrayLike<number>): { meat: Matrix; clusters: number } {
  const ids = new Map<number, number>();
  const sums: Float64Array[] = [];
  const vector = new Float64Array(size);
  for (let row = 0; row < rows; row++) {
    vector.fill(0);
    if (!contribution(row, vector)) continue;
    const key = cluster[row] ?? 0;
    let id = ids.get(key);
    if (id === undefined) {
      id = sums.length;
      ids.set(key, id);
      sums.push(new Float64Array(size));
    }
    const sum = sums[id] as Float64Array;
    for (let index = 0; index < size; index++) sum[index] = (sum[index] ?? 0) + (vector[index] ?? 0);
  }
  const meat = new Matrix(size, size);
  for (const sum of sums) {
    for (let row = 0; row < size; row++) {
      for (let column = 0; column < size; column++) meat.set(row, column, meat.get(row, column) + (sum[row] ?? 0) * (sum[column] ?? 0));
    }
  }
  return { meat, clusters: sums.length };
}

export interface RobustLinearFit extends LeastSquaresFit {
  /** Cluster-robust covariance: G / (G - 1) (X'X)^-1 B (X'X)^-1. */
  readonly covariance: Matrix;
  readonly clusters: number;
}

/** OLS with standard errors robust to heteroskedasticity and to correlation within a cluster (period). */
export function clusterRobustLeastSquares(design: LinearDesign, cluster: ArrayLike<number>): RobustLinearFit {
  const fit = leastSquares(design);
  const size = design.columnNames.length;
  const regressors = new Float64Array(size);
  const { meat, clusters } = clusterMeat(
    design.rows,
    size,
    (row, into) => {
      const response = design.fill(row, regressors);
      if (!Number.isFinite(response) || !regressors.every(Number.isFinite)) return false;
      const residual = response - dot(regressors, fit.coefficients);
      for (let index = 0; index < size; index++) into[index] = (regressors[index] ?? 0) * residual;
      return true;
    },
    cluster,
  );
  return { ...fit, covariance: sandwich(fit.inverseGram, meat, clusters), clusters };
}

export interface TwoStageLeastSquaresFit {
  readonly columnNames: readonly string[];
  readonly coefficients: Float64Array;
  readonly covariance: Matrix;
  readonly rowsUsed: number;
  readonly clusters: number;
  /** The first stage of the endogenous column on the instruments and the exogenous columns. */
  readonly firstStage: FirstStageTest;
}

export interface FirstStageTest {
  /** F statistic of the excluded instruments in the first stage (homoskedastic form). */
  readonly statistic: number;
  readonly numeratorDegrees: number;
  readonly denominatorDegrees: number;
  readonly weak: boolean;
}

/**
 * Two-stage least squares with one endogenous regressor: y = X beta + e, X = (exogenous...,
 * endogenous), instruments Z = (exogenous..., excluded instruments). First stage: the
 * endogenous column on Z by OLS, fitted values x-hat; second stage: OLS of y on X-hat;
 * residuals from X (not X-hat); covariance G / (G - 1) (X-hat'X-hat)^-1 B (X-hat'X-hat)^-1
 * with B clustered. `fill` writes the exogenous columns, then the endogenous one, then the
 * instruments, into one vector, and returns y (NaN leaves the row out).
 */
export function twoStageLeastSquares(options: {
  readonly rows: number;
  readonly exogenousNames: readonly string[];
  readonly endogenousName: string;
  readonly instrumentNames: readonly string[];
  readonly fill: (row: number, into: Float64Array) => number;
  readonly cluster: ArrayLike<number>;
  /** Stop after the first stage when the instruments are weak (F < 10): coefficients and covariance NaN. */
  readonly stopWhenWeak?: boolean;
}): TwoStageLeastSquaresFit {
  const exogenous = options.exogenousNames.length;
  const instruments = options.instrumentNames.length;
  const all = new Float64Array(exogenous + 1 + instruments);
  const keep = (row: number) => {
    const response = options.fill(row, all);
    return Number.isFinite(response) && all.every(Number.isFinite) ? response : Number.NaN;
  };
  const firstStageDesign: LinearDesign = {
    rows: options.rows,
    columnNames: [...options.exogenousNames, ...options.instrumentNames],
    fill: (row, into) => {
      if (Number.isNaN(keep(row))) return Number.NaN;
      for (let index = 0; index < exogenous; index++) into[index] = all[index] ?? 0;
      for (let index = 0; index < instruments; index++) into[exogenous + index] = all[exogenous + 1 + index] ?? 0;
      return all[exogenous] ?? 0;
    },
  };
  const firstStage = leastSquares(firstStageDesign);
  const restricted = leastSquares({ ...firstStageDesign, columnNames: options.exogenousNames });
  const firstStageTest = exclusionTest(firstStage, restricted, instruments);
  const names = [...options.exogenousNames, options.endogenousName];
  if (options.stopWhenWeak && firstStageTest.weak) {
    return { columnNames: names, coefficients: new Float64Array(names.length).fill(Number.NaN), covariance: new Matrix(names.length, names.length).fill(Number.NaN), rowsUsed: firstStage.rowsUsed, clusters: 0, firstStage: firstStageTest };
  }
  const zRow = new Float64Array(exogenous + instruments);
  const fitted = (row: number, into: Float64Array): number => {
    const response = firstStageDesign.fill(row, zRow);
    if (Number.isNaN(response)) return Number.NaN;
    for (let index = 0; index < exogenous; index++) into[index] = all[index] ?? 0;
    into[exogenous] = dot(zRow, firstStage.coefficients);
    return keep(row);
  };
  const second = leastSquares({ rows: options.rows, columnNames: names, fill: fitted });
  const hat = new Float64Array(exogenous + 1);
  const { meat, clusters } = clusterMeat(
    options.rows,
    exogenous + 1,
    (row, into) => {
      const response = fitted(row, hat);
      if (Number.isNaN(response)) return false;
      // all[] now holds the row's actual X (exogenous, then the endogenous column).
      let prediction = 0;
      for (let index = 0; index <= exogenous; index++) prediction += (all[index] ?? 0) * (second.coefficients[index] ?? 0);
      const residual = response - prediction;
      for (let index = 0; index <= exogenous; index++) into[index] = (hat[index] ?? 0) * residual;
      return true;
    },
    options.cluster,
  );
  return { columnNames: names, coefficients: second.coefficients, covariance: sandwich(second.inverseGram, meat, clusters), rowsUsed: second.rowsUsed, clusters, firstStage: firstStageTest };
}

/** F = ((RSS_restricted - RSS) / q) / (RSS / (n - k)): the instruments' exclusion from the first stage. */
function exclusionTest(unrestricted: LeastSquaresFit, restricted: LeastSquaresFit, instruments: number): FirstStageTest {
  const denominatorDegrees = unrestricted.rowsUsed - unrestricted.columnNames.length;
  const statistic = ((restricted.residualSumOfSquares - unrestricted.residualSumOfSquares) / instruments) / (unrestricted.residualSumOfSquares / denominatorDegrees);
  return { statistic, numeratorDegrees: instruments, denominatorDegrees, weak: !(statistic >= weakInstrumentF) };
}

/** Staiger and Stock's rule of thumb: a first-stage F below 10 means weak instruments. */
export const weakInstrumentF = 10;

function sandwich(bread: Matrix, meat: Matrix, clusters: number): Matrix {
  const correction = clusters > 1 ? clusters / (clusters - 1) : Number.NaN;
  return bread.mmul(meat).mmul(bread.transpose()).mul(correction);
}

function dot(left: ArrayLike<number>, right: ArrayLike<number>): number {
  let total = 0;
  for (let index = 0; index < left.length; index++) total += (left[index] ?? 0) * (right[index] ?? 0);
  return total;
}

// ---------------------------------------------------------------------------------------
// Instruments

export interface PriceInstrument {
  readonly name: string;
  readonly values: Float64Array;
  /** 1 where the instrument is defined for the row; every row when absent. */
  readonly defined?: Uint8Array;
}

/** Name of the Hausman instrument. */
export const otherStoresInstrumentName = 'mean price of the other stores in the period (Hausman)';

/**
 * The price instruments the history offers: the cost column when mapped; otherwise, with
 * two or more stores, each row's mean price of the other stores in the same period
 * (`period`: the period index per row), defined where another store has a row in that
 * period. Not both: the other stores' price fails under common demand shocks, and beside
 * the cost it would bias the estimate the cost alone gets right; telling the two apart
 * needs an overidentification test, not done.
 */
export function priceInstruments(sales: SalesData, period: ArrayLike<number>): PriceInstrument[] {
  if (sales.cost) return [{ name: `cost (${sales.map.cost ?? 'cost'})`, values: sales.cost }];
  if (sales.storeNames.length >= 2) return [{ name: otherStoresInstrumentName, ...otherStoresMeanPrice(sales.price, period) }];
  return [];
}

/** Each row's mean of the price over the other rows of its period (the other stores); defined where there is one. */
export function otherStoresMeanPrice(price: Float64Array, period: ArrayLike<number>): { values: Float64Array; defined: Uint8Array } {
  const sum = new Map<number, number>();
  const count = new Map<number, number>();
  for (let row = 0; row < price.length; row++) {
    const key = period[row] ?? 0;
    sum.set(key, (sum.get(key) ?? 0) + (price[row] ?? 0));
    count.set(key, (count.get(key) ?? 0) + 1);
  }
  const values = new Float64Array(price.length);
  const defined = new Uint8Array(price.length);
  for (let row = 0; row < price.length; row++) {
    const key = period[row] ?? 0;
    const others = (count.get(key) ?? 0) - 1;
    if (others < 1) continue;
    values[row] = ((sum.get(key) ?? 0) - (price[row] ?? 0)) / others;
    defined[row] = 1;
  }
  return { values, defined };
}

// ---------------------------------------------------------------------------------------
// The control function

export type EndogeneityRecord = NonNullable<CalibrationRecord['endogeneity']>;

export interface EndogeneityResult {
  readonly record: EndogeneityRecord;
  /** The instrumented fit without the control (quality, sensitivity, lifts, rivals at v = 0) with its robust covariance; absent when it could not be estimated. */
  readonly instrumentedFit?: LogitPoissonFit;
  /** The fit the scenario should use: the instrumented one when chosen, else the naive one. */
  readonly chosenFit: LogitPoissonFit;
  /** The naive fit on the rows the instruments cover (the given one when they cover all). */
  readonly naiveFit: LogitPoissonFit;
  /** The first stage: coefficients over `firstStageNames`. */
  readonly firstStage?: { readonly names: readonly string[]; readonly coefficients: Float64Array };
}

export interface EndogeneityOptions {
  /** The demand design of the naive fit (no include mask: every row). */
  readonly design: LogitPoissonData;
  /** The naive fit of `design`. */
  readonly naive: LogitPoissonFit;
  readonly instruments: readonly PriceInstrument[];
  /** Cluster (period) per row for the robust covariance. */
  readonly cluster: ArrayLike<number>;
  /** The likelihood fit to use for the second stage (the one that gave `naive`). */
  readonly fit: (data: LogitPoissonData) => LogitPoissonFit;
  /** Significance level of the Durbin-Wu-Hausman test (default 0.05). */
  readonly level?: number;
}

export const controlName = 'controlFunctionResidual';

/** Control-function estimate of the price response beside the naive one, the DWH test and the choice (see the card). */
export function estimateEndogeneity(options: EndogeneityOptions): EndogeneityResult {
  const { design, instruments } = options;
  const level = options.level ?? 0.05;
  const include = new Uint8Array(design.rows).fill(1);
  for (let row = 0; row < design.rows; row++) {
    if (design.include && design.include[row] !== 1) include[row] = 0;
    for (const instrument of instruments) if (instrument.defined && instrument.defined[row] !== 1) include[row] = 0;
  }
  const rowsCovered = include.reduce((total, value) => total + value, 0);
  const allRows = rowsCovered === (design.include ? design.include.reduce((total, value) => total + value, 0) : design.rows);
  const naiveFit = allRows ? options.naive : options.fit({ ...design, include });
  const naiveMethod = `${naiveFit.likelihood === 'poisson' ? 'Poisson' : 'negative binomial'} maximum likelihood treating the price as exogenous; ${naiveFit.intervalMethod}`;
  const naiveRecord = { priceSensitivity: intervalOf(naiveFit.parameters[1]), method: naiveMethod };
  const naiveIfFinite = finiteInterval(naiveRecord.priceSensitivity) ? { naive: naiveRecord } : {};
  /** The naive fit kept, with the reason and whatever was learnt before stopping. */
  const keepNaive = (reason: string, learnt: Pick<EndogeneityRecord, 'instruments' | 'rows'> & Partial<Pick<EndogeneityRecord, 'firstStage'>> = { instruments: instruments.map((instrument) => instrument.name), rows: rowsCovered }): EndogeneityResult => ({
    record: { ...learnt, ...naiveIfFinite, choice: 'naive', reason },
    chosenFit: options.naive,
    naiveFit,
  });
  if (instruments.length === 0) return keepNaive('no instrument: map a cost column or give several stores');

  // First stage: price on (1, exogenous..., instruments...); instruments collinear with the exogenous columns are dropped.
  const exogenous = exogenousColumns(design, include);
  let usable = [...instruments];
  let firstStage: LeastSquaresFit | undefined;
  for (;;) {
    const candidate = leastSquares(firstStageDesign(design, include, exogenous, usable));
    const dropped = candidate.collinear.filter((column) => column >= exogenous.length).map((column) => usable[column - exogenous.length]?.name);
    if (candidate.collinear.some((column) => column < exogenous.length)) return keepNaive('the exogenous regressors are collinear among themselves');
    if (dropped.length === 0) {
      firstStage = candidate;
      break;
    }
    usable = usable.filter((instrument) => !dropped.includes(instrument.name));
    if (usable.length === 0) return keepNaive(`no usable instrument: ${instruments.map((instrument) => instrument.name).join(', ')} add nothing to the exogenous regressors (constant, or collinear with them)`);
  }
  const parametersInStage = exogenous.length + usable.length;
  if (firstStage.rowsUsed < Math.max(20, 3 * (parametersInStage + design.promotions.length + 3))) return keepNaive(`too few rows with every instrument (${firstStage.rowsUsed})`);
  const restricted = leastSquares(firstStageDesign(design, include, exogenous, []));
  const firstStageTest = exclusionTest(firstStage, restricted, usable.length);
  const firstStageRecord = {
    fStatistic: round(firstStageTest.statistic),
    numeratorDegrees: firstStageTest.numeratorDegrees,
    denominatorDegrees: firstStageTest.denominatorDegrees,
    weak: firstStageTest.weak,
    method: `OLS of the price on the instruments and the exogenous regressors (${exogenous.map((column) => column.name).join(', ')}); F of the instruments' exclusion; weak below ${weakInstrumentF}`,
  };
  const instrumentNames = usable.map((instrument) => instrument.name);
  const learnt = { instruments: instrumentNames, rows: firstStage.rowsUsed, firstStage: firstStageRecord };
  if (firstStage.residualSumOfSquares <= 1e-12 * restricted.residualSumOfSquares) {
    return keepNaive(
      'the instruments and regressors determine the price exactly (e.g. a cost recorded as a fixed share of the price): no price variation is left for a demand shock, so the price is as exogenous as they are; the naive estimate is kept',
      { instruments: instrumentNames, rows: firstStage.rowsUsed },
    );
  }
  if (firstStageTest.weak) {
    return keepNaive(
      `weak instruments (first-stage F ${round(firstStageTest.statistic)} < ${weakInstrumentF}): an instrumented estimate would be unreliable (and the Durbin-Wu-Hausman test with it), so neither is computed; the naive estimate is kept`,
      learnt,
    );
  }
  const stageColumns = firstStageDesign(design, include, exogenous, usable);
  const stageRow = new Float64Array(parametersInStage);
  const control = new Float64Array(design.rows);
  for (let row = 0; row < design.rows; row++) {
    const price = stageColumns.fill(row, stageRow);
    control[row] = Number.isNaN(price) ? 0 : price - dot(stageRow, firstStage.coefficients);
  }

  // Second stage: the same likelihood with the first-stage residual as a utility regressor.
  const controlDesign: LogitPoissonData = { ...design, include, promotions: [...design.promotions, control], promotionNames: [...design.promotionNames, controlName] };
  const controlFit = options.fit(controlDesign);
  if (!controlFit.converged) return keepNaive('the control-function fit did not converge', learnt);

  const covariance = stackedCovariance(controlDesign, controlFit, stageColumns, firstStage, control, options.cluster);
  const controlIndex = 2 + design.promotions.length;
  const standardErrorOf = (index: number) => Math.sqrt(covariance[index]?.[index] ?? Number.NaN);
  const sensitivity = estimateOf(controlFit.theta[1] ?? Number.NaN, standardErrorOf(1));
  const controlCoefficient = estimateOf(controlFit.theta[controlIndex] ?? Number.NaN, standardErrorOf(controlIndex));
  const statistic = controlCoefficient.value / controlCoefficient.standardError;
  const pValue = 2 * (1 - normalCdf(Math.abs(statistic), 0, 1));
  if (!Number.isFinite(statistic)) return keepNaive('the control-function fit has no finite standard error for the price or the control', learnt);

  const intervalMethod = `control function (first-stage residual of the price on ${instrumentNames.join(' and ')} as a utility regressor); standard errors from the two stages stacked (sandwich clustered by period over ${covariance.clusters} periods: the generated regressor's error included, Murphy-Topel made robust)`;
  const instrumentedFit = structuralFit(controlFit, covariance, controlIndex, intervalMethod);
  const rejected = pValue < level;
  // The Hausman instrument alone is not trusted to switch the scenario (see the card).
  const onlyOtherStores = usable.every((instrument) => instrument.name === otherStoresInstrumentName);
  const choice = rejected && !onlyOtherStores ? 'instrumented' : 'naive';
  const test = `the Durbin-Wu-Hausman test ${rejected ? 'rejects' : 'does not reject'} an exogenous price (p = ${pValue.toPrecision(3)} ${rejected ? '<' : '>='} ${level})`;
  const reason = !rejected
    ? `${test}: the naive estimate is consistent and more precise, it is kept`
    : onlyOtherStores
      ? `${test}, but the only instrument is the other stores' price, which is invalid when demand shocks are common to the stores (chain-wide advertising, holidays) and cannot be tested alone: the naive estimate is kept, the instrumented one is shown; map a cost column to let the test decide`
      : `${test}: the naive estimate is biased, the instrumented one is used`;
  return {
    record: {
      ...learnt,
      ...naiveIfFinite,
      instrumented: {
        priceSensitivity: recordInterval(sensitivity),
        controlCoefficient: recordInterval(controlCoefficient),
        method: `${controlFit.likelihood === 'poisson' ? 'Poisson' : 'negative binomial'} maximum likelihood with the ${intervalMethod}`,
      },
      durbinWuHausman: {
        statistic: round(statistic),
        pValue: round(pValue),
        method: 'Wald t of the control-function residual\'s coefficient (lambda = 0 when the price is exogenous), robust standard error, two-sided normal p-value',
      },
      choice,
      reason,
    },
    instrumentedFit,
    chosenFit: choice === 'instrumented' ? instrumentedFit : options.naive,
    naiveFit,
    firstStage: { names: stageColumns.columnNames, coefficients: firstStage.coefficients },
  };
}

interface Column {
  readonly name: string;
  readonly value: (row: number) => number;
}

/** The exogenous columns of the first stage: intercept, promotions, rival prices, weekday levels, arrival covariates, log market size when it varies. */
function exogenousColumns(design: LogitPoissonData, include: Uint8Array): Column[] {
  const columns: Column[] = [{ name: 'intercept', value: () => 1 }];
  design.promotions.forEach((values, index) => columns.push({ name: design.promotionNames[index] ?? `promotion ${index + 1}`, value: (row) => values[row] ?? 0 }));
  design.rivalPrices.forEach((values, index) => columns.push({ name: design.rivalNames[index] ?? `rival ${index + 1}`, value: (row) => values[row] ?? 0 }));
  const effects = design.arrivalEffects;
  effects?.names.forEach((name, level) => columns.push({ name, value: (row) => (effects.level[row] === level ? 1 : 0) }));
  const covariates = design.arrivalCovariates;
  covariates?.names.forEach((name, index) => columns.push({ name, value: (row) => covariates.columns[index]?.[row] ?? 0 }));
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  for (let row = 0; row < design.rows; row++) {
    if (include[row] !== 1) continue;
    const value = design.logMarketSize[row] ?? 0;
    if (value < low) low = value;
    if (value > high) high = value;
  }
  if (high - low > 1e-9 * Math.max(1, Math.abs(high))) columns.push({ name: 'log market size', value: (row) => design.logMarketSize[row] ?? 0 });
  return columns;
}

function firstStageDesign(design: LogitPoissonData, include: Uint8Array, exogenous: readonly Column[], instruments: readonly PriceInstrument[]): LinearDesign {
  return {
    rows: design.rows,
    columnNames: [...exogenous.map((column) => column.name), ...instruments.map((instrument) => instrument.name)],
    fill: (row, into) => {
      if (include[row] !== 1) return Number.NaN;
      exogenous.forEach((column, index) => (into[index] = column.value(row)));
      instruments.forEach((instrument, index) => (into[exogenous.length + index] = instrument.values[row] ?? Number.NaN));
      return design.price[row] ?? Number.NaN;
    },
  };
}

/** Scratch space for the rivals' utilities in addRowScore (one row at a time). */
let rivalUtilities = new Float64Array(16);

/**
 * Adds one row's score (the gradient of its log-likelihood in the utility parameters) to
 * `into`: r_t (d_0 - sum_j s_j d_j) as in calibration/logit-poisson.ts, with r_t = y - lambda
 * (Poisson) or k (y - lambda) / (k + lambda) (negative binomial of size k), or a censored
 * row's d log P(Y >= y) / d log lambda (`censoredTerm`); an arrival effect adds r_t to its own
 * entry, an arrival covariate r_t x_jt.
 */
export function addRowScore(data: LogitPoissonData, theta: ArrayLike<number>, row: number, dispersionSize: number, into: Float64Array): void {
  const promotionCount = data.promotions.length;
  const rivalCount = data.rivalPrices.length;
  const sensitivity = theta[1] ?? 0;
  const price = data.price[row] ?? 0;
  let ours = (theta[0] ?? 0) - sensitivity * price;
  for (let index = 0; index < promotionCount; index++) ours += (theta[2 + index] ?? 0) * (data.promotions[index]?.[row] ?? 0);
  let largest = Math.max(0, ours);
  if (rivalUtilities.length < rivalCount) rivalUtilities = new Float64Array(rivalCount);
  const utilities = rivalUtilities;
  for (let index = 0; index < rivalCount; index++) {
    const utility = (theta[2 + promotionCount + index] ?? 0) - sensitivity * (data.rivalPrices[index]?.[row] ?? 0);
    utilities[index] = utility;
    if (utility > largest) largest = utility;
  }
  let denominator = Math.exp(-largest) + Math.exp(ours - largest);
  for (let index = 0; index < rivalCount; index++) denominator += Math.exp((utilities[index] ?? 0) - largest);
  const ownShare = Math.exp(ours - largest) / denominator;
  const logLambda = rowLogMarketSize(data, theta, row) + ours - largest - Math.log(denominator);
  const lambda = Math.exp(logLambda);
  const units = data.units[row] ?? 0;
  const residual =
    data.censored?.[row] === 1
      ? censoredTerm(units, logLambda, dispersionSize).score
      : Number.isFinite(dispersionSize)
        ? (dispersionSize * (units - lambda)) / (dispersionSize + lambda)
        : units - lambda;
  into[0] = (into[0] ?? 0) + residual * (1 - ownShare);
  let priceScore = -price * (1 - ownShare);
  for (let index = 0; index < rivalCount; index++) {
    const rivalShare = Math.exp((utilities[index] ?? 0) - largest) / denominator;
    priceScore += rivalShare * (data.rivalPrices[index]?.[row] ?? 0);
    into[2 + promotionCount + index] = (into[2 + promotionCount + index] ?? 0) - residual * rivalShare;
  }
  into[1] = (into[1] ?? 0) + residual * priceScore;
  for (let index = 0; index < promotionCount; index++) into[2 + index] = (into[2 + index] ?? 0) + residual * (data.promotions[index]?.[row] ?? 0) * (1 - ownShare);
  const level = data.arrivalEffects?.level[row] ?? -1;
  if (level >= 0) into[2 + promotionCount + rivalCount + level] = (into[2 + promotionCount + rivalCount + level] ?? 0) + residual;
  const covariateOffset = 2 + promotionCount + rivalCount + (data.arrivalEffects?.names.length ?? 0);
  data.arrivalCovariates?.columns.forEach((column, index) => (into[covariateOffset + index] = (into[covariateOffset + index] ?? 0) + residual * (column[row] ?? 0)));
}

/** The score summed over the included rows. */
export function totalScore(data: LogitPoissonData, theta: ArrayLike<number>, dispersionSize: number): Float64Array {
  const total = new Float64Array(theta.length);
  for (let row = 0; row < data.rows; row++) {
    if (data.include && data.include[row] !== 1) continue;
    addRowScore(data, theta, row, dispersionSize, total);
  }
  return total;
}

/**
 * Covariance of the second stage's parameters with both stages stacked: estimating
 * equations psi = (W'(p - W pi), S(theta; v(pi))), Jacobian J (the first-stage block -W'W;
 * dS/dtheta minus the observed information; dS/dpi by central differences of the analytic
 * score), meat B clustered by period, covariance G/(G-1) J^-1 B J^-T; the theta block. Parameters that the second stage
 * cannot place (a rival quality at minus infinity: no information) get NaN and are left out.
 */
function stackedCovariance(
  data: LogitPoissonData,
  fit: LogitPoissonFit,
  stage: LinearDesign,
  firstStage: LeastSquaresFit,
  control: Float64Array,
  cluster: ArrayLike<number>,
): number[][] & { clusters: number } {
  const size = fit.theta.length;
  const stageSize = stage.columnNames.length;
  const dispersionSize = fit.dispersionSize?.value ?? Number.POSITIVE_INFINITY;
  const kept = Array.from({ length: size }, (_, index) => index).filter((index) => Number.isFinite(fit.parameters[index]?.standardError ?? Number.NaN));
  const total = kept.length + stageSize;
  const controlSlot = data.promotions.length - 1;
  const withControl = (values: Float64Array): LogitPoissonData => ({ ...data, promotions: data.promotions.map((column, index) => (index === controlSlot ? values : column)) });
  const stageRow = new Float64Array(stageSize);
  const jacobian = new Matrix(total, total);
  // First-stage block: d/dpi of W'(p - W pi) = -W'W.
  for (let row = 0; row < stageSize; row++) for (let column = 0; column < stageSize; column++) jacobian.set(row, column, -firstStage.gram.get(row, column));
  // dS/dpi_j: pi_j + h moves every v_t by -h W_jt.
  for (let column = 0; column < stageSize; column++) {
    const step = 1e-5 * Math.max(1, Math.abs(firstStage.coefficients[column] ?? 0));
    const shifted = (sign: number) => {
      const values = Float64Array.from(control);
      for (let row = 0; row < data.rows; row++) {
        if (Number.isNaN(stage.fill(row, stageRow))) continue;
        values[row] = (values[row] ?? 0) - sign * step * (stageRow[column] ?? 0);
      }
      return totalScore(withControl(values), fit.theta, dispersionSize);
    };
    const plus = shifted(1);
    const minus = shifted(-1);
    kept.forEach((parameter, index) => jacobian.set(stageSize + index, column, ((plus[parameter] ?? 0) - (minus[parameter] ?? 0)) / (2 * step)));
  }
  // dS/dtheta: minus the observed information of the second stage, analytic (calibration/logit-poisson.ts).
  const { negativeHessian } = logLikelihoodDerivatives(data, fit.theta, dispersionSize);
  kept.forEach((row, rowIndex) => kept.forEach((column, columnIndex) => jacobian.set(stageSize + rowIndex, stageSize + columnIndex, -(negativeHessian[row * size + column] ?? 0))));
  const score = new Float64Array(size);
  const { meat, clusters } = clusterMeat(
    data.rows,
    total,
    (row, into) => {
      const price = stage.fill(row, stageRow);
      if (Number.isNaN(price) || (data.include && data.include[row] !== 1)) return false;
      const residual = price - dot(stageRow, firstStage.coefficients);
      for (let index = 0; index < stageSize; index++) into[index] = (stageRow[index] ?? 0) * residual;
      score.fill(0);
      addRowScore(data, fit.theta, row, dispersionSize, score);
      kept.forEach((parameter, index) => (into[stageSize + index] = score[parameter] ?? 0));
      return true;
    },
    cluster,
  );
  const covariance = Array.from({ length: size }, () => new Array<number>(size).fill(Number.NaN));
  let jacobianInverse: Matrix;
  try {
    jacobianInverse = inverse(jacobian);
  } catch {
    return Object.assign(covariance, { clusters }); // singular: no standard errors, the naive fit is kept
  }
  const full = sandwich(jacobianInverse, meat, clusters);
  kept.forEach((row, rowIndex) => kept.forEach((column, columnIndex) => ((covariance[row] as number[])[column] = full.get(stageSize + rowIndex, stageSize + columnIndex))));
  return Object.assign(covariance, { clusters });
}

/** The control-function fit without the control: what the scenario takes, with the stacked covariance. */
function structuralFit(fit: LogitPoissonFit, covariance: number[][], controlIndex: number, intervalMethod: string): LogitPoissonFit {
  const keep = (index: number) => index !== controlIndex;
  const parameters: ParameterEstimate[] = fit.parameters.flatMap((parameter, index) => {
    if (!keep(index)) return [];
    const standardError = Math.sqrt(covariance[index]?.[index] ?? Number.NaN);
    return [{ name: parameter.name, value: parameter.value, standardError, lower: parameter.value - waldZ95 * standardError, upper: parameter.value + waldZ95 * standardError }];
  });
  return {
    ...fit,
    parameters,
    theta: fit.theta.filter((_, index) => keep(index)),
    covariance: covariance.filter((_, index) => keep(index)).map((row) => row.filter((_, index) => keep(index))),
    intervalMethod,
    promotionCount: fit.promotionCount - 1,
  };
}

interface Interval {
  readonly value: number;
  readonly standardError: number;
  readonly lower: number;
  readonly upper: number;
}

function estimateOf(value: number, standardError: number): Interval {
  return { value, standardError, lower: value - waldZ95 * standardError, upper: value + waldZ95 * standardError };
}

function intervalOf(parameter: ParameterEstimate | undefined): Interval {
  return recordInterval(parameter ?? estimateOf(Number.NaN, Number.NaN));
}

function recordInterval(interval: Interval): Interval {
  return { value: round(interval.value), standardError: round(interval.standardError), lower: round(interval.lower), upper: round(interval.upper) };
}

function finiteInterval(interval: Interval): boolean {
  return [interval.value, interval.standardError, interval.lower, interval.upper].every(Number.isFinite);
}

const round = (value: number) => Number(value.toPrecision(6));

/** The endogeneity block as lines for the `pricelab calibrate` summary (none without the block). */
export function endogeneitySummaryLines(record: EndogeneityRecord | undefined): string[] {
  if (!record) return [];
  const show = (interval: Interval | undefined) => (interval ? `${interval.value.toPrecision(4)} (${interval.lower.toPrecision(4)} .. ${interval.upper.toPrecision(4)})` : 'n/a');
  const lines = ['', `price endogeneity (instruments: ${record.instruments.join('; ') || 'none'}; ${record.rows} rows)`];
  if (record.firstStage) lines.push(`  first-stage F ${record.firstStage.fStatistic.toPrecision(4)}${record.firstStage.weak ? ' (weak)' : ''}`);
  lines.push(`  price sensitivity: naive ${show(record.naive?.priceSensitivity)}, instrumented ${show(record.instrumented?.priceSensitivity)}`);
  if (record.durbinWuHausman) lines.push(`  Durbin-Wu-Hausman t ${record.durbinWuHausman.statistic.toPrecision(3)}, p ${record.durbinWuHausman.pValue.toPrecision(3)}`);
  lines.push(`  scenario uses the ${record.choice} estimate: ${record.reason}`);
  return lines;
}
