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
 * Modules: the linear tools (streamed least squares, the cluster-robust sandwich, two-stage
 * least squares, the first-stage F; shared with calibration/inverted-shares.ts) in
 * least-squares.ts, the instruments in price-instruments.ts, the stacked standard errors in
 * control-function-covariance.ts; this file runs the steps, the test and the choice, writes
 * the record, and re-exports the pieces.
 */
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import type { CalibrationRecord } from '../scenarios/calibration-record.js';
import { waldZ95, type DemandData, type LogitPoissonFit, type ParameterEstimate } from './logit-poisson.js';
import { shapeOf } from './demand-design.js';
import { dot, exclusionTest, leastSquares, weakInstrumentF, type LeastSquaresFit, type LinearDesign } from './least-squares.js';
import { otherStoresInstrumentName, type PriceInstrument } from './price-instruments.js';
import { stackedCovariance, structuralFit, type StageBlock } from './control-function-covariance.js';
import { BlockBuffer, BlockCursor, keyedBlocks, mappedDesign, rowValuesIn, type KeyedBlock, type RowValues, type SalesRows } from './block-passes.js';

export {
  clusterMeat,
  clusterRobustLeastSquares,
  leastSquares,
  twoStageLeastSquares,
  weakInstrumentF,
  type FirstStageTest,
  type LeastSquaresFit,
  type LinearDesign,
  type RobustLinearFit,
  type TwoStageLeastSquaresFit,
} from './least-squares.js';
export { otherStoresInstrumentName, otherStoresMeanPrice, priceInstruments, type PriceInstrument } from './price-instruments.js';
export { addRowScore, totalScore } from './control-function-covariance.js';

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
  /** The demand design of the naive fit (no include mask: every row), in memory or block by block. */
  readonly design: DemandData;
  /** The naive fit of `design`. */
  readonly naive: LogitPoissonFit;
  readonly instruments: readonly PriceInstrument[];
  /** Cluster (period) per row for the robust covariance: whole, or made per block of `sales`. */
  readonly cluster: RowValues;
  /** The likelihood fit to use for the second stage (the one that gave `naive`). */
  fit(data: DemandData): LogitPoissonFit;
  /** Significance level of the Durbin-Wu-Hausman test (default 0.05). */
  readonly level?: number;
  /**
   * The sales rows `design` was made from, when it is read block by block (or when the
   * cluster or an instrument is made per block): their blocks are read beside the design's.
   */
  readonly sales?: SalesRows;
}

export const controlName = 'controlFunctionResidual';

/** One block of the first stage: the design's block, its rows in the first stage (include), each instrument's values, each row's cluster. */
interface FirstStageBlock extends KeyedBlock {
  readonly include: Uint8Array;
  readonly instruments: readonly ArrayLike<number>[];
  readonly cluster: ArrayLike<number>;
}

/** The first-stage blocks of a design: the rows every instrument covers (within the design's include), in buffers of its own. */
function firstStageBlocks(options: EndogeneityOptions): (keyed: KeyedBlock) => FirstStageBlock {
  const include = new BlockBuffer((length) => new Uint8Array(length));
  const values = options.instruments.map(() => new BlockBuffer((length) => new Float64Array(length)));
  const defined = options.instruments.map(() => new BlockBuffer((length) => new Uint8Array(length)));
  return (keyed) => {
    const { start, rows, design } = keyed;
    const mask = include.take(rows);
    for (let row = 0; row < rows; row++) mask[row] = design.include && design.include[row] !== 1 ? 0 : 1;
    const columns = options.instruments.map((instrument, index) => {
      if (instrument.inBlock && keyed.sales) {
        const column = (values[index] as BlockBuffer<Float64Array>).take(rows);
        const where = (defined[index] as BlockBuffer<Uint8Array>).take(rows);
        instrument.inBlock(keyed.sales, column, where);
        for (let row = 0; row < rows; row++) if (where[row] !== 1) mask[row] = 0;
        return column;
      }
      const where = instrument.defined;
      if (where) for (let row = 0; row < rows; row++) if (where[start + row] !== 1) mask[row] = 0;
      return rowValuesIn(instrument.values, start, rows, keyed.sales);
    });
    return { ...keyed, include: mask, instruments: columns, cluster: rowValuesIn(options.cluster, start, rows, keyed.sales) };
  };
}

/** Control-function estimate of the price response beside the naive one, the DWH test and the choice (see the card). */
export function estimateEndogeneity(options: EndogeneityOptions): EndogeneityResult {
  const { design, instruments, sales } = options;
  const level = options.level ?? 0.05;
  const shape = shapeOf(design);
  const promotionCount = shape.promotionNames.length;
  // One pass: the rows every instrument covers, the rows the design uses, and whether the log market size varies over the covered rows.
  const stageOf = firstStageBlocks(options);
  let rowsCovered = 0;
  let rowsIncluded = 0;
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  for (const keyed of keyedBlocks(design, sales)) {
    const block = stageOf(keyed);
    for (let row = 0; row < block.rows; row++) {
      if (!keyed.design.include || keyed.design.include[row] === 1) rowsIncluded++;
      if (block.include[row] !== 1) continue;
      rowsCovered++;
      const value = keyed.design.logMarketSize[row] ?? 0;
      if (value < low) low = value;
      if (value > high) high = value;
    }
  }
  const allRows = rowsCovered === rowsIncluded;
  /** The design restricted to the covered rows (its own buffers). */
  const covered = (): DemandData => {
    const stage = firstStageBlocks(options);
    return mappedDesign(design, sales, shape.promotionNames, (keyed) => ({ ...keyed.design, include: stage(keyed).include }));
  };
  const naiveFit = allRows ? options.naive : options.fit(covered());
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
  const exogenous = exogenousColumns(shape, high - low > 1e-9 * Math.max(1, Math.abs(high)));
  let usable = instruments.map((_, index) => index);
  const usableNames = () => usable.map((index) => instruments[index]?.name ?? '');
  const stageDesign = (kept: readonly number[]): LinearDesign => firstStageDesign(options, exogenous, kept);
  let firstStage: LeastSquaresFit | undefined;
  for (;;) {
    const candidate = leastSquares(stageDesign(usable));
    const dropped = candidate.collinear.filter((column) => column >= exogenous.names.length).map((column) => usable[column - exogenous.names.length]);
    if (candidate.collinear.some((column) => column < exogenous.names.length)) return keepNaive('the exogenous regressors are collinear among themselves');
    if (dropped.length === 0) {
      firstStage = candidate;
      break;
    }
    usable = usable.filter((index) => !dropped.includes(index));
    if (usable.length === 0) return keepNaive(`no usable instrument: ${instruments.map((instrument) => instrument.name).join(', ')} add nothing to the exogenous regressors (constant, or collinear with them)`);
  }
  const parametersInStage = exogenous.names.length + usable.length;
  if (firstStage.rowsUsed < Math.max(20, 3 * (parametersInStage + promotionCount + 3))) return keepNaive(`too few rows with every instrument (${firstStage.rowsUsed})`);
  const restricted = leastSquares(stageDesign([]));
  const firstStageTest = exclusionTest(firstStage, restricted, usable.length);
  const firstStageRecord = {
    fStatistic: round(firstStageTest.statistic),
    numeratorDegrees: firstStageTest.numeratorDegrees,
    denominatorDegrees: firstStageTest.denominatorDegrees,
    weak: firstStageTest.weak,
    method: `OLS of the price on the instruments and the exogenous regressors (${exogenous.names.join(', ')}); F of the instruments' exclusion; weak below ${weakInstrumentF}`,
  };
  const instrumentNames = usableNames();
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
  const stageColumnNames = [...exogenous.names, ...instrumentNames];
  const coefficients = firstStage.coefficients;
  const kept = usable;

  // Second stage: the same likelihood with the first-stage residual as a utility regressor.
  // Its design is made block by block: the covered rows, and the residual v = p - W pi (0 outside them).
  const secondStageBlocks = (): ((keyed: KeyedBlock) => StageBlock) => {
    const stage = firstStageBlocks(options);
    const control = new BlockBuffer((length) => new Float64Array(length));
    const stageRow = new Float64Array(parametersInStage);
    return (keyed) => {
      const block = stage(keyed);
      const values = control.take(block.rows);
      const fill = (row: number, into: Float64Array) => fillFirstStage(block, row, exogenous, kept, into);
      for (let row = 0; row < block.rows; row++) {
        const price = fill(row, stageRow);
        values[row] = Number.isNaN(price) ? 0 : price - dot(stageRow, coefficients);
      }
      return { design: { ...keyed.design, include: block.include, promotions: [...keyed.design.promotions, values], promotionNames: [...keyed.design.promotionNames, controlName] }, rows: block.rows, fill, cluster: block.cluster };
    };
  };
  const controlPromotionNames = [...shape.promotionNames, controlName];
  const controlStages = secondStageBlocks();
  const controlDesign = mappedDesign(design, sales, controlPromotionNames, (keyed) => controlStages(keyed).design);
  const controlFit = options.fit(controlDesign);
  if (!controlFit.converged) return keepNaive('the control-function fit did not converge', learnt);

  const covariance = stackedCovariance(
    controlDesign,
    controlFit,
    function* () {
      const stages = secondStageBlocks();
      for (const keyed of keyedBlocks(design, sales)) yield stages(keyed);
    },
    stageColumnNames.length,
    firstStage,
  );
  const controlIndex = 2 + promotionCount;
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
  const onlyOtherStores = instrumentNames.every((name) => name === otherStoresInstrumentName);
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
    firstStage: { names: stageColumnNames, coefficients },
  };
}

/** The exogenous columns of the first stage: intercept, promotions, rival prices, weekday levels, arrival covariates, log market size when it varies. */
interface ExogenousColumns {
  readonly names: readonly string[];
  readonly withLogMarketSize: boolean;
}

function exogenousColumns(shape: ReturnType<typeof shapeOf>, logMarketSizeVaries: boolean): ExogenousColumns {
  const names = [
    'intercept',
    ...Array.from({ length: shape.promotionCount }, (_, index) => shape.promotionNames[index] ?? `promotion ${index + 1}`),
    ...Array.from({ length: shape.rivalCount }, (_, index) => shape.rivalNames[index] ?? `rival ${index + 1}`),
    ...shape.arrivalNames,
    ...shape.covariateNames,
  ];
  if (logMarketSizeVaries) names.push('log market size');
  return { names, withLogMarketSize: logMarketSizeVaries };
}

/** Row `row` of a first-stage block: its regressors (exogenous, then the kept instruments) into `into`; its price, NaN when the row is not in the first stage. */
function fillFirstStage(block: FirstStageBlock, row: number, exogenous: ExogenousColumns, kept: readonly number[], into: Float64Array): number {
  if (block.include[row] !== 1) return Number.NaN;
  const design = block.design;
  let column = 0;
  into[column++] = 1;
  for (const values of design.promotions) into[column++] = values[row] ?? 0;
  for (const values of design.rivalPrices) into[column++] = values[row] ?? 0;
  const effects = design.arrivalEffects;
  if (effects) for (let level = 0; level < effects.names.length; level++) into[column++] = effects.level[row] === level ? 1 : 0;
  for (const values of design.arrivalCovariates?.columns ?? []) into[column++] = values[row] ?? 0;
  if (exogenous.withLogMarketSize) into[column++] = design.logMarketSize[row] ?? 0;
  for (const index of kept) into[column++] = block.instruments[index]?.[row] ?? Number.NaN;
  return design.price[row] ?? Number.NaN;
}

/** The first stage as a linear design read row after row, block by block. */
function firstStageDesign(options: EndogeneityOptions, exogenous: ExogenousColumns, kept: readonly number[]): LinearDesign {
  const stage = firstStageBlocks(options);
  const cursor = new BlockCursor(function* () {
    for (const keyed of keyedBlocks(options.design, options.sales)) yield stage(keyed);
  });
  return {
    rows: options.design.rows,
    columnNames: [...exogenous.names, ...kept.map((index) => options.instruments[index]?.name ?? '')],
    fill: (row, into) => {
      const block = cursor.at(row);
      return fillFirstStage(block, row - block.start, exogenous, kept, into);
    },
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
