/**
 * Card: linear least squares for the calibration, streamed one row at a time (a million
 * rows need no n x k matrix): ordinary least squares by Householder QR (ml-matrix) with the
 * R factor carried from chunk to chunk; the cluster-robust sandwich G / (G - 1) bread meat
 * bread' with the meat summed per cluster (period); OLS with those standard errors; two-stage
 * least squares with one endogenous regressor; and the first-stage F of the excluded
 * instruments (weak below 10, Staiger and Stock 1997). Used by the control function
 * (endogeneity.ts) and the inverted shares (inverted-shares.ts).
 */
import { Matrix, QrDecomposition, inverse } from 'ml-matrix';

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
export function exclusionTest(unrestricted: LeastSquaresFit, restricted: LeastSquaresFit, instruments: number): FirstStageTest {
  const denominatorDegrees = unrestricted.rowsUsed - unrestricted.columnNames.length;
  const statistic = ((restricted.residualSumOfSquares - unrestricted.residualSumOfSquares) / instruments) / (unrestricted.residualSumOfSquares / denominatorDegrees);
  return { statistic, numeratorDegrees: instruments, denominatorDegrees, weak: !(statistic >= weakInstrumentF) };
}

/** Staiger and Stock's rule of thumb: a first-stage F below 10 means weak instruments. */
export const weakInstrumentF = 10;

export function sandwich(bread: Matrix, meat: Matrix, clusters: number): Matrix {
  const correction = clusters > 1 ? clusters / (clusters - 1) : Number.NaN;
  return bread.mmul(meat).mmul(bread.transpose()).mul(correction);
}

export function dot(left: ArrayLike<number>, right: ArrayLike<number>): number {
  let total = 0;
  for (let index = 0; index < left.length; index++) total += (left[index] ?? 0) * (right[index] ?? 0);
  return total;
}
