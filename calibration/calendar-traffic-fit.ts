/**
 * Card: the calendar effects' coefficients (log multipliers of arrivals) with their covariance,
 * either read from a demand fit or fitted to the traffic.
 *
 * Without traffic the design's columns are arrival covariates of the logit likelihood
 * (calibration/logit-poisson.ts) and `calendarFromDemandFit` reads them back; with traffic the
 * arrivals are observed and the effects are fitted to the traffic itself (`fitTrafficCalendar`):
 * a Poisson log-linear model with one intercept per store (profiled out: the conditional,
 * multinomial, likelihood, `conditionalPoisson`), weekday levels as nuisance terms on dated
 * daily rows, Newton with step halving, Wald intervals scaled by the Pearson dispersion when it
 * exceeds 1 (quasi-Poisson). The traffic fit reads the history block by block at each
 * evaluation (its columns computed per block by the design's `fillBlock`): what it keeps is
 * per store and per parameter, never per row.
 */
import { CholeskyDecomposition, Matrix, inverse } from 'ml-matrix';
import type { CalendarDesign, PeriodLength } from './calendar-design.js';
import type { LogitPoissonFit } from './logit-poisson.js';
import type { SalesData } from './reader.js';
import { salesBlocks } from './sales-blocks.js';
import { weekdayLevel } from './design-blocks.js';

const z95 = 1.959963984540054;

export interface CalendarFit {
  /** One per design column, in design order: the log multiplier of arrivals. */
  readonly estimates: readonly { readonly name: string; readonly value: number; readonly standardError: number; readonly lower: number; readonly upper: number }[];
  /** Covariance of the estimates (design order). */
  readonly covariance: readonly (readonly number[])[];
  readonly method: string;
}

/** The calendar coefficients of a demand fit whose arrival covariates were this design. */
export function calendarFromDemandFit(fit: LogitPoissonFit, design: CalendarDesign): CalendarFit {
  const indices = design.names.map((name) => fit.parameters.findIndex((parameter) => parameter.name === name));
  if (indices.some((index) => index < 0)) throw new Error(`expected the demand fit to hold the calendar parameters ${design.names.join(', ')}`);
  return {
    estimates: indices.map((index) => {
      const parameter = fit.parameters[index]!;
      return { name: parameter.name, value: parameter.value, standardError: parameter.standardError, lower: parameter.lower, upper: parameter.upper };
    }),
    covariance: indices.map((row) => indices.map((column) => fit.covariance[row]?.[column] ?? Number.NaN)),
    method: `the demand fit's maximum likelihood (arrival covariates: each adds beta x to log M_t); ${fit.intervalMethod}`,
  };
}

/**
 * The calendar effects fitted to the traffic (arrivals observed): traffic_t ~ Poisson(exp(alpha_store + w_weekday + X_t beta)),
 * the store intercepts profiled out (conditional likelihood), weekday levels as nuisance on dated daily rows.
 */
export function fitTrafficCalendar(sales: SalesData, design: CalendarDesign, periodLength: PeriodLength): CalendarFit {
  if (sales.map.traffic === undefined) throw new Error('fitTrafficCalendar needs a traffic column');
  // Weekday indicators (Monday the baseline), when every weekday but Monday... has a row: as the design's columns, computed per block.
  let weekdays = false;
  if (sales.periodKind === 'date' && periodLength === 'day') {
    const seen = new Uint8Array(7);
    for (const block of salesBlocks(sales)) for (let row = 0; row < block.rows; row++) seen[weekdayLevel(block.period[row] ?? 0) + 1] = 1;
    weekdays = seen.subarray(1).every((value) => value === 1);
  }
  const designSize = design.names.length;
  const size = designSize + (weekdays ? 6 : 0);
  const rows: PoissonRows = {
    size,
    *blocks() {
      let buffers: Float64Array[] = [];
      for (const block of salesBlocks(sales)) {
        if ((buffers[0]?.length ?? 0) < block.rows) buffers = Array.from({ length: size }, () => new Float64Array(block.rows));
        const columns = buffers.map((buffer) => buffer.subarray(0, block.rows));
        design.fillBlock(block, columns.slice(0, designSize));
        if (weekdays) {
          for (let row = 0; row < block.rows; row++) {
            const level = weekdayLevel(block.period[row] ?? 0);
            for (let weekday = 0; weekday < 6; weekday++) (columns[designSize + weekday] as Float64Array)[row] = level === weekday ? 1 : 0;
          }
        }
        yield { rows: block.rows, counts: block.traffic ?? new Float64Array(block.rows), group: block.store, columns };
      }
    },
  };
  const result = conditionalPoissonOf(rows, sales.storeNames.length);
  const scale = result.dispersion > 1 ? result.dispersion : 1;
  const covariance = Array.from({ length: designSize }, (_, row) => Array.from({ length: designSize }, (_, column) => (result.covariance[row]?.[column] ?? Number.NaN) * scale));
  return {
    estimates: design.names.map((name, index) => {
      const value = result.beta[index] ?? 0;
      const standardError = Math.sqrt(covariance[index]?.[index] ?? Number.NaN);
      return { name, value, standardError, lower: value - z95 * standardError, upper: value + z95 * standardError };
    }),
    covariance,
    method: `Poisson log-linear model of the traffic (arrivals observed) with one intercept per store profiled out${weekdays ? ' and weekday levels' : ''}, Newton-Raphson${result.converged ? '' : ' (not converged)'}; Wald intervals from the inverse observed information${scale > 1 ? `, scaled by the Pearson dispersion ${scale.toPrecision(3)} (quasi-Poisson)` : ''}`,
  };
}

/** The rows of a conditional Poisson regression, block by block: counts, group and the regressor columns over each block's rows. */
export interface PoissonRows {
  readonly size: number;
  blocks(): Iterable<{ readonly rows: number; readonly counts: ArrayLike<number>; readonly group: ArrayLike<number>; readonly columns: readonly ArrayLike<number>[] }>;
}

/**
 * Poisson regression with one free intercept per group, the intercepts profiled out:
 * l(beta) = sum_t y_t x_t beta - sum_g Y_g log sum_{t in g} exp(x_t beta), whose maximiser and
 * curvature in beta are those of the full likelihood. Newton with step halving.
 */
export function conditionalPoisson(
  counts: Float64Array,
  columns: readonly (Float64Array | Uint8Array)[],
  group: Int32Array,
  groups: number,
): { beta: Float64Array; covariance: number[][]; dispersion: number; converged: boolean; logLikelihood: number } {
  return conditionalPoissonOf({ size: columns.length, blocks: () => [{ rows: counts.length, counts, group, columns }] }, groups);
}

/**
 * conditionalPoisson over rows read block by block: each evaluation is two passes (the
 * groups' largest linear predictor, then the sums shifted by it), so nothing per row is kept;
 * the sums run in row order as over whole columns.
 */
export function conditionalPoissonOf(source: PoissonRows, groups: number): { beta: Float64Array; covariance: number[][]; dispersion: number; converged: boolean; logLikelihood: number } {
  const size = source.size;
  const totals = new Float64Array(groups);
  const used = new Uint8Array(groups);
  let rows = 0;
  for (const block of source.blocks()) {
    for (let row = 0; row < block.rows; row++) {
      const g = block.group[row] ?? 0;
      totals[g] = (totals[g] ?? 0) + (block.counts[row] ?? 0);
      used[g] = 1;
    }
    rows += block.rows;
  }
  const x = new Float64Array(size);
  const linearPredictor = (beta: Float64Array, columns: readonly ArrayLike<number>[], row: number) => {
    let value = 0;
    for (let p = 0; p < size; p++) value += (beta[p] ?? 0) * (columns[p]?.[row] ?? 0);
    return value;
  };
  const evaluate = (beta: Float64Array, derivatives: boolean) => {
    // Per group: S0 = sum exp(eta - shift), S1 = sum exp(..) x, S2 = sum exp(..) x x'; shifted by the group's largest eta.
    const shift = new Float64Array(groups).fill(Number.NEGATIVE_INFINITY);
    for (const block of source.blocks()) {
      for (let row = 0; row < block.rows; row++) {
        const value = linearPredictor(beta, block.columns, row);
        const g = block.group[row] ?? 0;
        if (value > (shift[g] ?? 0)) shift[g] = value;
      }
    }
    const s0 = new Float64Array(groups);
    const s1 = derivatives ? new Float64Array(groups * size) : new Float64Array(0);
    const s2 = derivatives ? new Float64Array(groups * size * size) : new Float64Array(0);
    let linear = 0;
    const gradient = new Float64Array(size);
    for (const block of source.blocks()) {
      for (let row = 0; row < block.rows; row++) {
        const g = block.group[row] ?? 0;
        const eta = linearPredictor(beta, block.columns, row);
        const weight = Math.exp(eta - (shift[g] ?? 0));
        const y = block.counts[row] ?? 0;
        linear += y * eta;
        s0[g] = (s0[g] ?? 0) + weight;
        if (!derivatives) continue;
        for (let p = 0; p < size; p++) x[p] = block.columns[p]?.[row] ?? 0;
        for (let p = 0; p < size; p++) {
          const xp = x[p] ?? 0;
          gradient[p] = (gradient[p] ?? 0) + y * xp;
          if (xp === 0) continue;
          s1[g * size + p] = (s1[g * size + p] ?? 0) + weight * xp;
          for (let q = 0; q <= p; q++) s2[(g * size + p) * size + q] = (s2[(g * size + p) * size + q] ?? 0) + weight * xp * (x[q] ?? 0);
        }
      }
    }
    let logLikelihood = linear;
    const information = new Float64Array(size * size);
    for (let g = 0; g < groups; g++) {
      const total = totals[g] ?? 0;
      if ((s0[g] ?? 0) <= 0) continue;
      logLikelihood -= total * (Math.log(s0[g] ?? 1) + (shift[g] ?? 0));
      if (!derivatives || total === 0) continue;
      const norm = s0[g] ?? 1;
      for (let p = 0; p < size; p++) {
        const meanP = (s1[g * size + p] ?? 0) / norm;
        gradient[p] = (gradient[p] ?? 0) - total * meanP;
        for (let q = 0; q <= p; q++) {
          const meanQ = (s1[g * size + q] ?? 0) / norm;
          information[p * size + q] = (information[p * size + q] ?? 0) + total * ((s2[(g * size + p) * size + q] ?? 0) / norm - meanP * meanQ);
        }
      }
    }
    for (let p = 0; p < size; p++) for (let q = 0; q < p; q++) information[q * size + p] = information[p * size + q] ?? 0;
    return { logLikelihood, gradient, information, s0, shift };
  };
  let beta = new Float64Array(size);
  let state = evaluate(beta, true);
  let converged = size === 0;
  for (let iteration = 0; iteration < 100 && !converged; iteration++) {
    const matrix = new Matrix(Array.from({ length: size }, (_, row) => Array.from(state.information.subarray(row * size, row * size + size))));
    const cholesky = new CholeskyDecomposition(matrix);
    if (!cholesky.isPositiveDefinite()) break;
    const step = cholesky.solve(Matrix.columnVector(Array.from(state.gradient))).getColumn(0);
    const decrement = step.reduce((total, value, index) => total + value * (state.gradient[index] ?? 0), 0);
    if (decrement < 1e-12 * (1 + Math.abs(state.logLikelihood))) {
      converged = true;
      break;
    }
    let accepted = false;
    for (let scale = 1; scale > 1e-8; scale /= 2) {
      const candidate = beta.map((value, index) => value + scale * (step[index] ?? 0));
      const trial = evaluate(candidate, false);
      if (Number.isFinite(trial.logLikelihood) && trial.logLikelihood >= state.logLikelihood) {
        beta = candidate;
        accepted = true;
        break;
      }
    }
    if (!accepted) break;
    state = evaluate(beta, true);
  }
  const matrix = new Matrix(Array.from({ length: size }, (_, row) => Array.from(state.information.subarray(row * size, row * size + size))));
  const covariance = size > 0 && new CholeskyDecomposition(matrix).isPositiveDefinite() ? inverse(matrix).to2DArray() : Array.from({ length: size }, () => new Array<number>(size).fill(Number.NaN));
  // The Pearson sum at the accepted state (the beta its last evaluation with derivatives was made at).
  let pearson = 0;
  for (const block of source.blocks()) {
    for (let row = 0; row < block.rows; row++) {
      const g = block.group[row] ?? 0;
      const mean = ((totals[g] ?? 0) * Math.exp(linearPredictor(beta, block.columns, row) - (state.shift[g] ?? 0))) / (state.s0[g] ?? 1);
      if (mean > 0) pearson += ((block.counts[row] ?? 0) - mean) ** 2 / mean;
    }
  }
  let groupsUsed = 0;
  for (const flag of used) groupsUsed += flag;
  const freedom = rows - size - groupsUsed;
  return { beta, covariance, dispersion: freedom > 0 ? pearson / freedom : Number.NaN, converged, logLikelihood: state.logLikelihood };
}
