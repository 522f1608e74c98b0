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
 * exceeds 1 (quasi-Poisson).
 */
import { CholeskyDecomposition, Matrix, inverse } from 'ml-matrix';
import type { CalendarDesign, PeriodLength } from './calendar-design.js';
import type { LogitPoissonFit } from './logit-poisson.js';
import type { SalesData } from './reader.js';

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
  const traffic = sales.traffic;
  if (!traffic) throw new Error('fitTrafficCalendar needs a traffic column');
  // Weekday indicators as bytes (exact 0 and 1, an eighth of the memory of doubles).
  const nuisance: Uint8Array[] = [];
  if (sales.periodKind === 'date' && periodLength === 'day') {
    for (let weekday = 1; weekday < 7; weekday++) {
      nuisance.push(Uint8Array.from(sales.period, (day) => (((((day + 3) % 7) + 7) % 7) === weekday ? 1 : 0)));
    }
    if (nuisance.some((column) => !column.some((value) => value === 1))) nuisance.length = 0;
  }
  const columns = [...design.columns, ...nuisance];
  const result = conditionalPoisson(traffic, columns, sales.store, sales.storeNames.length);
  const size = design.columns.length;
  const scale = result.dispersion > 1 ? result.dispersion : 1;
  const covariance = Array.from({ length: size }, (_, row) => Array.from({ length: size }, (_, column) => (result.covariance[row]?.[column] ?? Number.NaN) * scale));
  return {
    estimates: design.names.map((name, index) => {
      const value = result.beta[index] ?? 0;
      const standardError = Math.sqrt(covariance[index]?.[index] ?? Number.NaN);
      return { name, value, standardError, lower: value - z95 * standardError, upper: value + z95 * standardError };
    }),
    covariance,
    method: `Poisson log-linear model of the traffic (arrivals observed) with one intercept per store profiled out${nuisance.length > 0 ? ' and weekday levels' : ''}, Newton-Raphson${result.converged ? '' : ' (not converged)'}; Wald intervals from the inverse observed information${scale > 1 ? `, scaled by the Pearson dispersion ${scale.toPrecision(3)} (quasi-Poisson)` : ''}`,
  };
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
  const size = columns.length;
  const rows = counts.length;
  const totals = new Float64Array(groups);
  for (let row = 0; row < rows; row++) totals[group[row] ?? 0] = (totals[group[row] ?? 0] ?? 0) + (counts[row] ?? 0);
  const x = new Float64Array(size);
  // The linear predictor per row, in two buffers reused by every evaluation (a fresh one per step left megabytes to the
  // collector): one for the accepted state (evaluated with derivatives; its eta is read after the loop), one for trial steps.
  const stateEta = new Float64Array(rows);
  const trialEta = new Float64Array(rows);
  const evaluate = (beta: Float64Array, derivatives: boolean) => {
    // Per group: S0 = sum exp(eta - shift), S1 = sum exp(..) x, S2 = sum exp(..) x x'; shifted by the group's largest eta.
    const shift = new Float64Array(groups).fill(Number.NEGATIVE_INFINITY);
    const eta = derivatives ? stateEta : trialEta;
    for (let row = 0; row < rows; row++) {
      let value = 0;
      for (let p = 0; p < size; p++) value += (beta[p] ?? 0) * (columns[p]?.[row] ?? 0);
      eta[row] = value;
      const g = group[row] ?? 0;
      if (value > (shift[g] ?? 0)) shift[g] = value;
    }
    const s0 = new Float64Array(groups);
    const s1 = derivatives ? new Float64Array(groups * size) : new Float64Array(0);
    const s2 = derivatives ? new Float64Array(groups * size * size) : new Float64Array(0);
    let linear = 0;
    const gradient = new Float64Array(size);
    for (let row = 0; row < rows; row++) {
      const g = group[row] ?? 0;
      const weight = Math.exp((eta[row] ?? 0) - (shift[g] ?? 0));
      const y = counts[row] ?? 0;
      linear += y * (eta[row] ?? 0);
      s0[g] = (s0[g] ?? 0) + weight;
      if (!derivatives) continue;
      for (let p = 0; p < size; p++) x[p] = columns[p]?.[row] ?? 0;
      for (let p = 0; p < size; p++) {
        const xp = x[p] ?? 0;
        gradient[p] = (gradient[p] ?? 0) + y * xp;
        if (xp === 0) continue;
        s1[g * size + p] = (s1[g * size + p] ?? 0) + weight * xp;
        for (let q = 0; q <= p; q++) s2[(g * size + p) * size + q] = (s2[(g * size + p) * size + q] ?? 0) + weight * xp * (x[q] ?? 0);
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
    return { logLikelihood, gradient, information, eta, s0, shift };
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
  let pearson = 0;
  for (let row = 0; row < rows; row++) {
    const g = group[row] ?? 0;
    const mean = ((totals[g] ?? 0) * Math.exp((state.eta[row] ?? 0) - (state.shift[g] ?? 0))) / (state.s0[g] ?? 1);
    if (mean > 0) pearson += ((counts[row] ?? 0) - mean) ** 2 / mean;
  }
  const used = new Set(group).size;
  const freedom = rows - size - used;
  return { beta, covariance, dispersion: freedom > 0 ? pearson / freedom : Number.NaN, converged, logLikelihood: state.logLikelihood };
}
