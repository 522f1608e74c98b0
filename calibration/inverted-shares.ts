/**
 * Card: demand on inverted shares (Berry 1994), beside the likelihood fit, when a traffic
 * column measures the market size M_t (visits).
 *
 * The logit share inverts to a linear equation in the utilities:
 *   log(s_t) - log(s_0t) = a - b p_t + sum_m gamma_m z_mt + sum_k c_k r_kt + xi_t
 * with s_t = units_t / M_t our share and s_0t = 1 - s_t everything else (the outside option,
 * and the rivals when there are rival columns: their units are not observed, so their shares
 * cannot be taken out of s_0t; their prices then enter linearly, c_k a first-order stand-in
 * for -log(1 + sum_k exp(a_k - b r_k)), and a is not the likelihood's quality). With no rival
 * columns this is exactly the simulator's logit, and a and b are the likelihood's.
 * Shares use the empirical logit log((units + 1/2) / (M - units + 1/2)) (Cox 1970), so days
 * without sales stay in; rows with units above M + 1/2 are dropped (counted), and stockout
 * (censored) rows are left out: their share is only a lower bound.
 *
 * Estimators, each with 95% Wald intervals from standard errors clustered by period:
 *   - OLS (streaming Householder QR, calibration/endogeneity.ts's leastSquares);
 *   - 2SLS with the price instruments of calibration/endogeneity.ts (cost; other stores'
 *     mean price), on the rows where every instrument is defined, with its first-stage F;
 *     with weak instruments (F < 10) only the F is reported, as for the control function.
 * The error xi_t holds the unobserved demand shock and the binomial sampling noise of the
 * share (variance about 1 / (M s (1 - s))): unweighted least squares stays consistent; the
 * robust standard errors carry the heteroskedasticity.
 *
 * The least squares ask for rows in increasing order: a blocked design is read block by block
 * (`designRowReader`), so nothing per row is kept here.
 */
import type { CalibrationRecord } from '../scenarios/calibration-record.js';
import { designBlocks, waldZ95, type DemandData, type LogitPoissonData } from './logit-poisson.js';
import { clusterRobustLeastSquares, twoStageLeastSquares, weakInstrumentF, type PriceInstrument } from './endogeneity.js';
import { RowCursor, type SalesBlock, type SalesBlockSource } from './sales-blocks.js';
import type { Matrix } from 'ml-matrix';

export type InvertedSharesRecord = NonNullable<CalibrationRecord['invertedShares']>;

export interface InvertedSharesOptions {
  /** The demand design, in memory or block by block (read in row order); its logMarketSize must be log traffic (the observed market). */
  readonly design: DemandData;
  readonly instruments: readonly PriceInstrument[];
  /** Cluster (period) per row. */
  readonly cluster: ArrayLike<number>;
  /** The sales rows the design was made from: an instrument made per block (`inBlock`) is then read block by block beside them. */
  readonly sales?: SalesBlockSource;
}

/** An instrument that can also be made for one block of the sales rows (calibration/price-instruments.ts, when it offers it). */
type BlockInstrument = PriceInstrument & { readonly inBlock?: (block: SalesBlock, values: Float64Array, defined: Uint8Array) => void };

/** The empirical logit log((y + 1/2) / (M - y + 1/2)); NaN when units exceed M + 1/2. */
export function invertedShare(units: number, marketSize: number): number {
  const outside = marketSize - units + 0.5;
  return outside > 0 ? Math.log((units + 0.5) / outside) : Number.NaN;
}

/** A row of a design (in memory, or read block by block in row order): the block that holds it and the row's index in it. */
function designRowReader(design: DemandData): (row: number) => { readonly data: LogitPoissonData; readonly local: number } {
  let iterator: Iterator<LogitPoissonData> | undefined;
  let current: LogitPoissonData | undefined;
  let start = 0;
  let end = 0;
  return (row) => {
    if (!current || row < start) {
      iterator = designBlocks(design)[Symbol.iterator]();
      current = undefined;
      start = 0;
      end = 0;
    }
    while (!current || row >= end) {
      const next = iterator?.next();
      if (!next || next.done) throw new RangeError(`row ${row} is past the design's last row`);
      start = end;
      current = next.value;
      end = start + current.rows;
    }
    return { data: current, local: row - start };
  };
}

export function estimateInvertedShares(options: InvertedSharesOptions): InvertedSharesRecord {
  const { design } = options;
  const { promotionNames, rivalNames } = design;
  const promotionCount = promotionNames.length;
  const rivalCount = rivalNames.length;
  const exogenousNames = ['intercept', ...promotionNames.map((name) => `lift:${name}`), ...rivalNames.map((name) => `rivalPrice:${name}`)];
  const exogenousCount = exogenousNames.length;
  const responseOfRow = (data: LogitPoissonData, row: number) =>
    (data.include && data.include[row] !== 1) || data.censored?.[row] === 1 ? Number.NaN : invertedShare(data.units[row] ?? 0, Math.exp(data.logMarketSize[row] ?? 0));
  // Each least squares pass asks for rows 0, 1, 2, ...: one reader per use, each moving through the blocks.
  const filler = () => {
    const rowOf = designRowReader(design);
    return (row: number, into: Float64Array) => {
      const { data, local } = rowOf(row);
      into[0] = 1;
      for (let index = 0; index < promotionCount; index++) into[1 + index] = data.promotions[index]?.[local] ?? 0;
      for (let index = 0; index < rivalCount; index++) into[1 + promotionCount + index] = data.rivalPrices[index]?.[local] ?? 0;
      into[exogenousCount] = data.price[local] ?? 0;
      return responseOfRow(data, local);
    };
  };
  let rowsDropped = 0;
  let rowsCensored = 0;
  for (const data of designBlocks(design)) {
    for (let row = 0; row < data.rows; row++) {
      if (data.include && data.include[row] !== 1) continue;
      if (data.censored?.[row] === 1) rowsCensored++;
      else if (Number.isNaN(responseOfRow(data, row))) rowsDropped++;
    }
  }
  const fillOrdinary = filler();
  const ordinary = clusterRobustLeastSquares(
    {
      rows: design.rows,
      columnNames: [...exogenousNames, 'price'],
      fill: fillOrdinary,
    },
    options.cluster,
  );
  const method =
    'inverted shares (Berry 1994): log(s) - log(1 - s) with s = units / traffic (empirical logit, + 1/2) regressed on the price, promotions' +
    (rivalCount > 0 ? ' and rival prices (entering linearly: rival units are not observed, so quality is not the likelihood\'s)' : '') +
    (rowsCensored > 0 ? `; ${rowsCensored} stockout rows left out (their share is only a lower bound)` : '') +
    '; 95% Wald intervals, standard errors clustered by period';
  const record: InvertedSharesRecord = {
    method,
    rows: ordinary.rowsUsed,
    rowsDropped,
    ordinaryLeastSquares: { estimates: estimatesOf(ordinary.columnNames, ordinary.coefficients, ordinary.covariance), method: 'ordinary least squares (Householder QR)' },
  };
  const instruments = options.instruments;
  if (instruments.length === 0) return record;
  const fillInstrumented = filler();
  // Instruments made per block are read beside the sales rows (nothing per row kept); else their whole columns.
  const perBlock = options.sales !== undefined && instruments.every((instrument) => (instrument as BlockInstrument).inBlock !== undefined);
  const cursor = perBlock && options.sales ? new RowCursor(options.sales) : undefined;
  let instrumentStart = -1;
  let instrumentValues = instruments.map(() => new Float64Array(0));
  let instrumentDefined = instruments.map(() => new Uint8Array(0));
  const instrumentAt = (index: number, row: number): number => {
    const instrument = instruments[index] as BlockInstrument;
    if (!cursor || !instrument.inBlock) return instrument.defined && instrument.defined[row] !== 1 ? Number.NaN : (instrument.values[row] ?? Number.NaN);
    const block = cursor.at(row);
    if (block.start !== instrumentStart) {
      if ((instrumentValues[0]?.length ?? 0) < block.rows) {
        instrumentValues = instruments.map(() => new Float64Array(block.rows));
        instrumentDefined = instruments.map(() => new Uint8Array(block.rows));
      }
      instruments.forEach((each, position) => (each as BlockInstrument).inBlock?.(block, (instrumentValues[position] as Float64Array).subarray(0, block.rows), (instrumentDefined[position] as Uint8Array).subarray(0, block.rows)));
      instrumentStart = block.start;
    }
    const local = row - block.start;
    return instrumentDefined[index]?.[local] !== 1 ? Number.NaN : (instrumentValues[index]?.[local] ?? Number.NaN);
  };
  const iv = twoStageLeastSquares({
    rows: design.rows,
    exogenousNames,
    endogenousName: 'price',
    instrumentNames: instruments.map((instrument) => instrument.name),
    cluster: options.cluster,
    stopWhenWeak: true,
    fill: (row, into) => {
      const response = fillInstrumented(row, into);
      for (let index = 0; index < instruments.length; index++) into[exogenousCount + 1 + index] = instrumentAt(index, row);
      return response;
    },
  });
  if (!Number.isFinite(iv.firstStage.statistic)) return record;
  const firstStage = { instruments: instruments.map((instrument) => instrument.name), rows: iv.rowsUsed, firstStageF: Number(iv.firstStage.statistic.toPrecision(6)), weak: iv.firstStage.weak };
  if (iv.firstStage.weak) {
    return { ...record, twoStageLeastSquares: { ...firstStage, estimates: [], method: `not computed: weak instruments (first-stage F < ${weakInstrumentF}), an instrumented estimate would be unreliable` } };
  }
  const estimates = estimatesOf(iv.columnNames, iv.coefficients, iv.covariance);
  if (estimates.length < iv.columnNames.length) return record;
  return {
    ...record,
    twoStageLeastSquares: {
      ...firstStage,
      estimates,
      method: 'two-stage least squares: the price\'s first stage on the instruments and the exogenous regressors, then OLS on its fitted values; residuals from the actual price',
    },
  };
}

/** Coefficients as estimates named as the likelihood's parameters (price sensitivity b = minus the price coefficient); non-finite ones left out. */
function estimatesOf(columnNames: readonly string[], coefficients: Float64Array, covariance: Matrix): InvertedSharesRecord['ordinaryLeastSquares']['estimates'] {
  return columnNames.flatMap((name, index) => {
    const sign = name === 'price' ? -1 : 1;
    const value = sign * (coefficients[index] ?? Number.NaN);
    const standardError = Math.sqrt(covariance.get(index, index));
    if (!Number.isFinite(value) || !Number.isFinite(standardError)) return [];
    const round = (number: number) => Number(number.toPrecision(6));
    return [
      {
        parameter: name === 'price' ? 'priceSensitivity' : name === 'intercept' ? 'quality' : name,
        value: round(value),
        standardError: round(standardError),
        lower: round(value - waldZ95 * standardError),
        upper: round(value + waldZ95 * standardError),
      },
    ];
  });
}

/** The inverted-shares block as lines for the `pricelab calibrate` summary (none without the block). */
export function invertedSharesSummaryLines(record: InvertedSharesRecord | undefined): string[] {
  if (!record) return [];
  const sensitivity = (estimates: InvertedSharesRecord['ordinaryLeastSquares']['estimates'] | undefined) => {
    const estimate = estimates?.find((entry) => entry.parameter === 'priceSensitivity');
    return estimate ? `${estimate.value.toPrecision(4)} (${estimate.lower.toPrecision(4)} .. ${estimate.upper.toPrecision(4)})` : 'n/a';
  };
  const iv = record.twoStageLeastSquares;
  return [
    '',
    `inverted shares (Berry 1994, ${record.rows} rows${record.rowsDropped > 0 ? `, ${record.rowsDropped} dropped` : ''}): price sensitivity OLS ${sensitivity(record.ordinaryLeastSquares.estimates)}${iv ? `, 2SLS ${sensitivity(iv.estimates)} (first-stage F ${iv.firstStageF.toPrecision(4)}${iv.weak ? ', weak' : ''})` : ''}`,
  ];
}
