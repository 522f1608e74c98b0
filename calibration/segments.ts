/**
 * Card: customer segments from a customer-level choice panel, by a latent-class logit fitted with EM.
 *
 * Input (the panel, docs/calibration.md "Segments"): one row per customer and period, CSV or
 * JSON Lines (optionally gzipped: .gz):
 *   CSV:        customer,period,choice,price_<option>,...   (choice: an option name or "none")
 *   JSON Lines: {"customer": "c1", "period": 3, "choice": "ours", "prices": {"ours": 9.99, "rival": 10.49}}
 * Every row offers the same options (one price each); "none" is the outside option (not buying).
 *
 * Model: customer i belongs to class c with probability pi_c; in class c, option j has utility
 * alpha_cj - beta_c p_j and the outside option 0 (the simulator's logit, docs/market-model.md,
 * per segment, in units of the segment's scale mu_c); a customer's choices are independent
 * given the class. Parameters per class: alpha_cj per option (quality), beta_c (price
 * sensitivity, utility per currency unit), and the share pi_c.
 *
 * Method: EM (Dempster, Laird & Rubin 1977; the latent-class logit of Kamakura & Russell 1989,
 * Train 2009 ch. 14): E step, each customer's posterior class probabilities; M step, pi_c the
 * mean posterior and each class's logit by Newton on the posterior-weighted log-likelihood
 * (concave; one Newton step per M step, a generalised EM). 4 seeded starts per class count
 * (random posteriors), converged when the log-likelihood moves less than 1e-8 (relative), the
 * best start then polished. Classes 1..maxClasses, chosen by BIC with N
 * = customers. Intervals: 95% Wald from the observed information of the mixture log-likelihood
 * (the numerical Jacobian of its analytic score, Louis 1982), shares through their logits by
 * the delta method. Classes are ordered by price sensitivity.
 *
 * Into the scenario (applyPanelSegments): class c becomes a logit segment with arrival rate
 * pi_c x the scenario's total, scale mu_c = q / alpha_c,ours (so that q / mu_c, the segment's
 * utility of our quality, is the class's) and price sensitivity beta_c mu_c. Rivals' class
 * utilities cannot be placed (the simulator shares rival qualities across segments): recorded.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { Matrix, inverse, solve } from 'ml-matrix';
import { configError, type Problem } from '../core/errors.js';
import { RandomStream } from '../core/random.js';
import { normalFromUniforms, poissonFromUniform } from '../env/sampling.js';
import type { CalibrationRecord } from '../scenarios/calibration-record.js';
import type { ScenarioInput } from '../scenarios/schema.js';
import { salesDesign } from './censoring.js';
import type { SalesData } from './reader.js';
import gammainc from '@stdlib/math-base-special-gammainc';
import gammaln from '@stdlib/math-base-special-gammaln';
import { fitLogitPoisson, logitShare, rowLogMarketSize, waldZ95, type LogitPoissonData, type LogitPoissonFit } from './logit-poisson.js';

export interface ChoicePanel {
  /** Option names (prices per option); the outside option is not among them. */
  readonly options: readonly string[];
  /** Per customer: its rows' chosen option (index into options, -1 for none) and prices (rows x options). */
  readonly customers: readonly { readonly id: string; readonly choices: Int32Array; readonly prices: Float64Array }[];
  readonly rows: number;
}

export interface ClassEstimate {
  readonly share: Interval;
  /** alpha_cj per option, in panel.options order. */
  readonly quality: readonly Interval[];
  readonly priceSensitivity: Interval;
}

export interface Interval {
  readonly value: number;
  readonly standardError: number;
  readonly lower: number;
  readonly upper: number;
}

export interface LatentClassFit {
  readonly classes: readonly ClassEstimate[];
  readonly logLikelihood: number;
  readonly parameters: number;
  readonly bic: number;
  readonly iterations: number;
  readonly converged: boolean;
}

export interface LatentClassSelection {
  readonly chosen: LatentClassFit;
  /** One fit per class count tried, 1..maxClasses. */
  readonly fits: readonly LatentClassFit[];
  readonly customers: number;
  readonly rows: number;
  readonly options: readonly string[];
}

// ---------------------------------------------------------------- reading

function panelProblem(path: string, message: string): never {
  throw configError(`${path} is not a choice panel`, [{ path: [path], message }]);
}

/** Reads a choice panel (CSV or JSON Lines, optionally gzipped), checking every row. */
export function readChoicePanel(path: string): ChoicePanel {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw configError(`cannot read the choice panel ${path}`, [{ path: ['panel'], message: `expected a readable file, found ${(error as NodeJS.ErrnoException).code ?? 'an error'}` }]);
  }
  const text = (path.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
  const jsonLines = /\.(jsonl|ndjson)(\.gz)?$/.test(path);
  const records: { customer: string; period: number; choice: string; prices: Record<string, unknown> }[] = [];
  if (jsonLines) {
    text.split('\n').forEach((line, index) => {
      if (line.trim() === '') return;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        panelProblem(path, `line ${index + 1}: expected a JSON object, found text that is not JSON`);
      }
      const object = value as { customer?: unknown; period?: unknown; choice?: unknown; prices?: unknown };
      if (typeof object !== 'object' || object === null || typeof object.prices !== 'object' || object.prices === null) panelProblem(path, `line ${index + 1}: expected {"customer", "period", "choice", "prices": {...}}`);
      records.push({ customer: String(object.customer), period: Number(object.period), choice: String(object.choice), prices: object.prices as Record<string, unknown> });
    });
  } else {
    const rows = parse(text, { columns: true, skip_empty_lines: true, trim: true }) as Record<string, string>[];
    for (const row of rows) {
      const prices: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(row)) if (key.startsWith('price_')) prices[key.slice('price_'.length)] = value;
      records.push({ customer: String(row.customer), period: Number(row.period), choice: String(row.choice), prices });
    }
  }
  if (records.length === 0) panelProblem(path, 'expected at least one row, found none');
  const options = Object.keys(records[0]!.prices);
  if (options.length === 0) panelProblem(path, 'expected at least one option price (CSV columns price_<option>, or JSON "prices"), found none');
  const problems: Problem[] = [];
  const byCustomer = new Map<string, { choices: number[]; prices: number[] }>();
  records.forEach((record, index) => {
    const row = index + 1;
    if (problems.length >= 20) return;
    if (record.customer === 'undefined' || record.customer === '') problems.push({ path: ['customer'], message: `row ${row}: expected a customer id, found none` });
    if (!Number.isFinite(record.period)) problems.push({ path: ['period'], message: `row ${row}: expected a number, found ${String(record.period)}` });
    const choice = record.choice === 'none' ? -1 : options.indexOf(record.choice);
    if (choice === -1 && record.choice !== 'none') problems.push({ path: ['choice'], message: `row ${row}: expected one of ${[...options, 'none'].join(', ')}, found "${record.choice}"` });
    const prices = options.map((option) => Number(record.prices[option]));
    prices.forEach((price, column) => {
      if (!(Number.isFinite(price) && price >= 0)) problems.push({ path: [`price_${options[column]}`], message: `row ${row}: expected a price >= 0, found ${String(record.prices[options[column]!])}` });
    });
    const entry = byCustomer.get(record.customer) ?? { choices: [], prices: [] };
    entry.choices.push(choice);
    entry.prices.push(...prices);
    byCustomer.set(record.customer, entry);
  });
  if (problems.length > 0) throw configError(`${path} has bad rows`, problems);
  const customers = [...byCustomer.entries()].map(([id, entry]) => ({ id, choices: Int32Array.from(entry.choices), prices: Float64Array.from(entry.prices) }));
  return { options, customers, rows: records.length };
}

// ---------------------------------------------------------------- the model

/** Log-probability of each of a customer's choices summed, for one class's parameters (alphas then beta). */
function customerLogLikelihood(customer: ChoicePanel['customers'][number], optionCount: number, theta: ArrayLike<number>, offset: number): number {
  const beta = theta[offset + optionCount] ?? 0;
  let total = 0;
  for (let row = 0; row < customer.choices.length; row++) {
    let largest = 0;
    for (let option = 0; option < optionCount; option++) largest = Math.max(largest, (theta[offset + option] ?? 0) - beta * (customer.prices[row * optionCount + option] ?? 0));
    let denominator = Math.exp(-largest);
    for (let option = 0; option < optionCount; option++) denominator += Math.exp((theta[offset + option] ?? 0) - beta * (customer.prices[row * optionCount + option] ?? 0) - largest);
    const choice = customer.choices[row] ?? -1;
    const utility = choice < 0 ? 0 : (theta[offset + choice] ?? 0) - beta * (customer.prices[row * optionCount + choice] ?? 0);
    total += utility - largest - Math.log(denominator);
  }
  return total;
}

/** Adds weight x (score, and minus the Hessian when asked) of one customer's choices in one class. */
function accumulateClass(customer: ChoicePanel['customers'][number], optionCount: number, theta: ArrayLike<number>, offset: number, weight: number, score: Float64Array, information: Float64Array | undefined): number {
  const size = optionCount + 1;
  let logLikelihood = 0;
  const beta = theta[offset + optionCount] ?? 0;
  const probabilities = new Float64Array(optionCount);
  for (let row = 0; row < customer.choices.length; row++) {
    let largest = 0;
    for (let option = 0; option < optionCount; option++) largest = Math.max(largest, (theta[offset + option] ?? 0) - beta * (customer.prices[row * optionCount + option] ?? 0));
    let denominator = Math.exp(-largest);
    for (let option = 0; option < optionCount; option++) {
      const value = Math.exp((theta[offset + option] ?? 0) - beta * (customer.prices[row * optionCount + option] ?? 0) - largest);
      probabilities[option] = value;
      denominator += value;
    }
    // x_j = (e_j, -p_j); x_none = 0. Score: x_chosen - sum_j P_j x_j. Information: sum P x x' - m m'.
    let meanPrice = 0;
    for (let option = 0; option < optionCount; option++) {
      probabilities[option] = (probabilities[option] ?? 0) / denominator;
      meanPrice += (probabilities[option] ?? 0) * -(customer.prices[row * optionCount + option] ?? 0);
    }
    const choice = customer.choices[row] ?? -1;
    logLikelihood += weight * ((choice < 0 ? 0 : (theta[offset + choice] ?? 0) - beta * (customer.prices[row * optionCount + choice] ?? 0)) - largest - Math.log(denominator));
    for (let option = 0; option < optionCount; option++) score[option] = (score[option] ?? 0) + weight * ((choice === option ? 1 : 0) - (probabilities[option] ?? 0));
    score[optionCount] = (score[optionCount] ?? 0) + weight * ((choice >= 0 ? -(customer.prices[row * optionCount + choice] ?? 0) : 0) - meanPrice);
    if (!information) continue;
    for (let left = 0; left < size; left++) {
      for (let right = 0; right < size; right++) {
        let second = 0;
        let meanLeft = 0;
        let meanRight = 0;
        for (let option = 0; option < optionCount; option++) {
          const price = -(customer.prices[row * optionCount + option] ?? 0);
          const xLeft = left === optionCount ? price : left === option ? 1 : 0;
          const xRight = right === optionCount ? price : right === option ? 1 : 0;
          const probability = probabilities[option] ?? 0;
          second += probability * xLeft * xRight;
          meanLeft += probability * xLeft;
          meanRight += probability * xRight;
        }
        information[left * size + right] = (information[left * size + right] ?? 0) + weight * (second - meanLeft * meanRight);
      }
    }
  }
  return logLikelihood;
}

/** Posterior class probabilities of each customer and the mixture log-likelihood. */
function posteriors(panel: ChoicePanel, classes: number, shares: Float64Array, theta: Float64Array): { weights: Float64Array; logLikelihood: number } {
  const size = panel.options.length + 1;
  const weights = new Float64Array(panel.customers.length * classes);
  let logLikelihood = 0;
  panel.customers.forEach((customer, index) => {
    let largest = Number.NEGATIVE_INFINITY;
    const logs = new Float64Array(classes);
    for (let latent = 0; latent < classes; latent++) {
      logs[latent] = Math.log(shares[latent] ?? 0) + customerLogLikelihood(customer, panel.options.length, theta, latent * size);
      largest = Math.max(largest, logs[latent] ?? 0);
    }
    let total = 0;
    for (let latent = 0; latent < classes; latent++) total += Math.exp((logs[latent] ?? 0) - largest);
    logLikelihood += largest + Math.log(total);
    for (let latent = 0; latent < classes; latent++) weights[index * classes + latent] = Math.exp((logs[latent] ?? 0) - largest) / total;
  });
  return { weights, logLikelihood };
}

/**
 * Newton steps on one class's weighted logit log-likelihood (concave), with step halving: a
 * few per M step (a generalised EM: every step raises the likelihood), to convergence at the end.
 */
function maximiseClass(panel: ChoicePanel, theta: Float64Array, latent: number, classes: number, weights: Float64Array, maxNewtonSteps: number): void {
  const optionCount = panel.options.length;
  const size = optionCount + 1;
  const offset = latent * size;
  const objective = (candidate: Float64Array) =>
    panel.customers.reduce((total, customer, index) => total + (weights[index * classes + latent] ?? 0) * customerLogLikelihood(customer, optionCount, candidate, offset), 0);
  for (let step = 0; step < maxNewtonSteps; step++) {
    const score = new Float64Array(size);
    const information = new Float64Array(size * size);
    let current = 0;
    panel.customers.forEach((customer, index) => (current += accumulateClass(customer, optionCount, theta, offset, weights[index * classes + latent] ?? 0, score, information)));
    for (let index = 0; index < size; index++) information[index * size + index] = (information[index * size + index] ?? 0) + 1e-9;
    let direction: number[];
    try {
      direction = solve(new Matrix(Array.from({ length: size }, (_, row) => Array.from(information.subarray(row * size, row * size + size)))), Matrix.columnVector(Array.from(score))).getColumn(0);
    } catch {
      return;
    }
    const decrement = direction.reduce((total, value, index) => total + value * (score[index] ?? 0), 0);
    if (!(decrement > 1e-12)) return;
    let scale = 1;
    for (; scale > 1e-6; scale /= 2) {
      const candidate = Float64Array.from(theta);
      for (let index = 0; index < size; index++) candidate[offset + index] = (candidate[offset + index] ?? 0) + scale * (direction[index] ?? 0);
      if (objective(candidate) >= current) {
        theta.set(candidate.subarray(offset, offset + size), offset);
        break;
      }
    }
    if (scale <= 1e-6) return;
  }
}

export interface LatentClassOptions {
  readonly starts?: number;
  readonly maxIterations?: number;
  /** EM stops when the log-likelihood moves less than this x (1 + |log-likelihood|) (default 1e-8). */
  readonly tolerance?: number;
  readonly seed?: number;
}

/** The latent-class logit with `classes` classes by EM from several seeded starts; the best likelihood wins. */
export function fitLatentClassLogit(panel: ChoicePanel, classes: number, options: LatentClassOptions = {}): LatentClassFit {
  const size = panel.options.length + 1;
  const random = new RandomStream(options.seed ?? 1, `latent-class-${classes}`);
  const starts = classes === 1 ? 1 : (options.starts ?? 4);
  const maxIterations = options.maxIterations ?? 500;
  const tolerance = options.tolerance ?? 1e-8;
  let best: { theta: Float64Array; shares: Float64Array; logLikelihood: number; iterations: number; converged: boolean } | undefined;
  for (let start = 0; start < starts; start++) {
    // Random posteriors, then M steps from zero utilities: the classes start apart.
    let weights: Float64Array = Float64Array.from({ length: panel.customers.length * classes }, () => 0.2 + random.next());
    for (let customer = 0; customer < panel.customers.length; customer++) {
      let total = 0;
      for (let latent = 0; latent < classes; latent++) total += weights[customer * classes + latent] ?? 0;
      for (let latent = 0; latent < classes; latent++) weights[customer * classes + latent] = (weights[customer * classes + latent] ?? 0) / total;
    }
    const theta = new Float64Array(classes * size);
    const shares = new Float64Array(classes);
    let previous = Number.NEGATIVE_INFINITY;
    let iterations = 0;
    let converged = false;
    for (; iterations < maxIterations; iterations++) {
      for (let latent = 0; latent < classes; latent++) {
        let total = 0;
        for (let customer = 0; customer < panel.customers.length; customer++) total += weights[customer * classes + latent] ?? 0;
        shares[latent] = Math.max(1e-12, total / panel.customers.length);
        maximiseClass(panel, theta, latent, classes, weights, iterations === 0 ? 25 : 1);
      }
      const expectation = posteriors(panel, classes, shares, theta);
      weights = expectation.weights;
      if (Math.abs(expectation.logLikelihood - previous) < tolerance * (1 + Math.abs(expectation.logLikelihood))) {
        previous = expectation.logLikelihood;
        converged = true;
        break;
      }
      previous = expectation.logLikelihood;
    }
    if (!best || previous > best.logLikelihood) best = { theta, shares, logLikelihood: previous, iterations, converged };
  }
  // Polish the best start: Newton to convergence in each class at its final posteriors, so the score is zero for the intervals.
  {
    const chosenStart = best!;
    for (let round = 0; round < 20; round++) {
      const { weights, logLikelihood } = posteriors(panel, classes, chosenStart.shares, chosenStart.theta);
      for (let latent = 0; latent < classes; latent++) {
        let total = 0;
        for (let customer = 0; customer < panel.customers.length; customer++) total += weights[customer * classes + latent] ?? 0;
        chosenStart.shares[latent] = Math.max(1e-12, total / panel.customers.length);
        maximiseClass(panel, chosenStart.theta, latent, classes, weights, 25);
      }
      const after = posteriors(panel, classes, chosenStart.shares, chosenStart.theta).logLikelihood;
      chosenStart.logLikelihood = after;
      if (Math.abs(after - logLikelihood) < 1e-10 * (1 + Math.abs(after))) break;
    }
  }
  const chosen = best!;
  const parameters = classes * size + classes - 1;
  const covariance = observedCovariance(panel, classes, chosen.theta, chosen.shares);
  // Shares: pi = softmax(eta), eta_0 = 0; Var(pi) = G Var(eta) G' with G = d pi / d eta (columns 1..K-1).
  const etaOffset = classes * size;
  const classEstimates = Array.from({ length: classes }, (_, latent): ClassEstimate => {
    const interval = (index: number): Interval => {
      const value = chosen.theta[index] ?? Number.NaN;
      const standardError = Math.sqrt(covariance[index]?.[index] ?? Number.NaN);
      return { value, standardError, lower: value - waldZ95 * standardError, upper: value + waldZ95 * standardError };
    };
    const share = chosen.shares[latent] ?? 0;
    let shareVariance = 0;
    for (let left = 1; left < classes; left++) {
      for (let right = 1; right < classes; right++) {
        const gradientLeft = share * ((latent === left ? 1 : 0) - (chosen.shares[left] ?? 0));
        const gradientRight = share * ((latent === right ? 1 : 0) - (chosen.shares[right] ?? 0));
        shareVariance += gradientLeft * gradientRight * (covariance[etaOffset + left - 1]?.[etaOffset + right - 1] ?? Number.NaN);
      }
    }
    const shareError = classes === 1 ? 0 : Math.sqrt(shareVariance);
    return {
      share: { value: share, standardError: shareError, lower: Math.max(0, share - waldZ95 * shareError), upper: Math.min(1, share + waldZ95 * shareError) },
      quality: panel.options.map((_, option) => interval(latent * size + option)),
      priceSensitivity: interval(latent * size + panel.options.length),
    };
  }).sort((left, right) => left.priceSensitivity.value - right.priceSensitivity.value);
  return {
    classes: classEstimates,
    logLikelihood: chosen.logLikelihood,
    parameters,
    bic: -2 * chosen.logLikelihood + parameters * Math.log(panel.customers.length),
    iterations: chosen.iterations,
    converged: chosen.converged,
  };
}

/** The mixture's score in (class parameters, share logits eta_1..K-1) by Fisher's identity: posterior-weighted class scores. */
function mixtureScore(panel: ChoicePanel, classes: number, parameters: Float64Array): Float64Array {
  const size = panel.options.length + 1;
  const theta = parameters.subarray(0, classes * size);
  const eta = [0, ...Array.from(parameters.subarray(classes * size))];
  const largest = Math.max(...eta);
  const total = eta.reduce((sum, value) => sum + Math.exp(value - largest), 0);
  const shares = Float64Array.from(eta, (value) => Math.exp(value - largest) / total);
  const { weights } = posteriors(panel, classes, shares, Float64Array.from(theta));
  const score = new Float64Array(parameters.length);
  panel.customers.forEach((customer, index) => {
    for (let latent = 0; latent < classes; latent++) {
      const weight = weights[index * classes + latent] ?? 0;
      const classScore = new Float64Array(size);
      accumulateClass(customer, panel.options.length, theta, latent * size, weight, classScore, undefined);
      for (let parameter = 0; parameter < size; parameter++) score[latent * size + parameter] = (score[latent * size + parameter] ?? 0) + (classScore[parameter] ?? 0);
      if (latent > 0) score[classes * size + latent - 1] = (score[classes * size + latent - 1] ?? 0) + weight - (shares[latent] ?? 0);
    }
  });
  return score;
}

/** Inverse of minus the numerical Jacobian of the analytic score (central differences), symmetrised; NaN when singular. */
function observedCovariance(panel: ChoicePanel, classes: number, theta: Float64Array, shares: Float64Array): number[][] {
  const parameters = Float64Array.from([...theta, ...Array.from({ length: classes - 1 }, (_, index) => Math.log((shares[index + 1] ?? 1e-12) / (shares[0] ?? 1e-12)))]);
  const count = parameters.length;
  const hessian = Array.from({ length: count }, () => new Array<number>(count).fill(0));
  for (let column = 0; column < count; column++) {
    const step = 1e-5 * Math.max(1, Math.abs(parameters[column] ?? 0));
    const up = Float64Array.from(parameters);
    const down = Float64Array.from(parameters);
    up[column] = (up[column] ?? 0) + step;
    down[column] = (down[column] ?? 0) - step;
    const scoreUp = mixtureScore(panel, classes, up);
    const scoreDown = mixtureScore(panel, classes, down);
    for (let row = 0; row < count; row++) (hessian[row] as number[])[column] = ((scoreUp[row] ?? 0) - (scoreDown[row] ?? 0)) / (2 * step);
  }
  const information = new Matrix(hessian.map((row, rowIndex) => row.map((value, column) => -(value + (hessian[column]?.[rowIndex] ?? 0)) / 2)));
  try {
    return inverse(information).to2DArray();
  } catch {
    return Array.from({ length: count }, () => new Array<number>(count).fill(Number.NaN));
  }
}

/** Fits 1..maxClasses classes and keeps the one with the smallest BIC. */
export function selectLatentClasses(panel: ChoicePanel, maxClasses = 3, options: LatentClassOptions = {}): LatentClassSelection {
  const fits: LatentClassFit[] = [];
  for (let classes = 1; classes <= maxClasses; classes++) fits.push(fitLatentClassLogit(panel, classes, options));
  const chosen = fits.reduce((left, right) => (right.bic < left.bic ? right : left));
  return { chosen, fits, customers: panel.customers.length, rows: panel.rows, options: panel.options };
}

// ---------------------------------------------------------------- from aggregates

export interface AggregateSegmentTest {
  /** True when the test supports a second segment at the level asked. */
  readonly supported: boolean;
  readonly statistic: number;
  /** The parametric bootstrap's (1 + #{LR* >= LR}) / (B + 1); the chi-bar-square's when B = 0. */
  readonly pValue: number;
  readonly pValueMethod: 'bootstrap' | 'chi-bar-square';
  /** Bootstrap replicates B (0: none) and how many gave LR* >= LR. */
  readonly replicates: number;
  readonly exceedances: number;
  /** The chi-bar-square p-value: approximate (the second segment is not identified under one). */
  readonly approximatePValue: number;
  /** Extra parameters of the two-segment model (its share and the second segment's utilities). */
  readonly extraParameters: number;
  readonly oneSegmentLogLikelihood: number;
  readonly twoSegmentLogLikelihood: number;
  /** The second (more price-sensitive) segment's share, and both segments' fits (parameter order of calibration/logit-poisson.ts). */
  readonly share: number;
  readonly segments: readonly LogitPoissonFit[];
  readonly iterations: number;
}

/** Upper tail of the chi-bar-square 0.5 chi2(d - 1) + 0.5 chi2(d): one parameter (the share) on its boundary (Self & Liang 1987). */
export function chiBarSquareUpperTail(statistic: number, degrees: number): number {
  if (!(statistic > 0)) return 1;
  const tail = (df: number) => (df === 0 ? 0 : gammainc(statistic / 2, df / 2, true, true));
  return 0.5 * tail(degrees - 1) + 0.5 * tail(degrees);
}

/** Options of the aggregate test. */
export interface AggregateSegmentOptions {
  readonly level?: number;
  readonly maxIterations?: number;
  /** Parametric bootstrap replicates B (default 99); 0 gives the chi-bar-square p-value alone. */
  readonly bootstrap?: number;
  /** Seeds the bootstrap's stream (core/random.ts, component "segment-bootstrap"); default 1. */
  readonly seed?: number;
}

/** Gamma(shape, 1) by Marsaglia & Tsang (2000), from the stream's uniforms (shape < 1 by boosting). */
function gammaDraw(shape: number, random: RandomStream): number {
  if (shape < 1) return gammaDraw(shape + 1, random) * Math.pow(1 - random.next(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const normal = normalFromUniforms(random.next(), random.next());
    const v = Math.pow(1 + c * normal, 3);
    if (v <= 0) continue;
    const u = 1 - random.next();
    if (Math.log(u) < 0.5 * normal * normal + d - d * v + d * Math.log(v)) return d * v;
  }
}

/**
 * One segment against two, from the sales themselves. Two-segment model: units_t ~ Poisson(
 * M_t [(1 - pi) s_t(theta_1) + pi s_t(theta_2)]), each segment with its own quality, price
 * sensitivity, promotion lifts and rival qualities; M_t the one-segment fit's market size
 * (with its arrival effects). Fitted by EM on the Poisson thinning (units split between the
 * segments in proportion to their means; each segment's logit-Poisson fit on its share, warm
 * started from the previous iteration's; pi by its score equation; at most 40 iterations),
 * from starts with the second segment 2 and 4 times as price sensitive as the first. The LR
 * statistic 2 (l2 - l1): the second segment's utilities are not identified when pi = 0 (Davies
 * 1987), so no chi-square law holds (the chi-bar-square 0.5 chi2(d - 1) + 0.5 chi2(d) is kept
 * as an approximate figure: it rejected 0 of 60 one-segment years). The p-value is a
 * parametric bootstrap (McLachlan 1987): B logs drawn from the fitted one segment (Poisson, or
 * the negative binomial when the fit is one, at each row's mean; seeded stream), both models
 * refitted on each by exactly the same procedure (the one segment warm started from the
 * observed fit), p = (1 + #{LR* >= LR}) / (B + 1). Censored rows and rows outside `include`
 * are left out.
 */
export function testSecondSegment(base: LogitPoissonData, baseFit: LogitPoissonFit, options: AggregateSegmentOptions = {}): AggregateSegmentTest {
  const level = options.level ?? 0.05;
  const replicates = Math.max(0, Math.floor(options.bootstrap ?? 99));
  const rows: number[] = [];
  for (let row = 0; row < base.rows; row++) if ((!base.include || base.include[row] === 1) && base.censored?.[row] !== 1) rows.push(row);
  const pick = (column: Float64Array) => Float64Array.from(rows, (row) => column[row] ?? 0);
  const observedUnits = pick(base.units);
  const logMarket = Float64Array.from(rows, (row) => rowLogMarketSize(base, baseFit.theta, row));
  const data: LogitPoissonData = {
    rows: rows.length,
    units: observedUnits,
    logMarketSize: logMarket,
    price: pick(base.price),
    promotions: base.promotions.map(pick),
    promotionNames: base.promotionNames,
    rivalPrices: base.rivalPrices.map(pick),
    rivalNames: base.rivalNames,
  };
  const size = 2 + data.promotions.length + data.rivalPrices.length;
  const shareAt = (theta: ArrayLike<number>, row: number) =>
    logitShare(
      theta,
      data.price[row] ?? 0,
      data.promotions.map((column) => column[row] ?? 0),
      data.rivalPrices.map((column) => column[row] ?? 0),
    );
  const poissonLogLikelihood = (units: Float64Array, means: Float64Array) => {
    let total = 0;
    for (let row = 0; row < data.rows; row++) total += (units[row] ?? 0) * Math.log(Math.max(means[row] ?? 0, 1e-300)) - (means[row] ?? 0) - gammaln((units[row] ?? 0) + 1);
    return total;
  };
  const oneSegmentMeans = (theta: ArrayLike<number>) => Float64Array.from({ length: data.rows }, (_, row) => Math.exp(logMarket[row] ?? 0) * shareAt(theta, row));
  const extraParameters = size + 1;

  /** The two-segment EM on `units` from the one-segment theta's two starts; the best of them. */
  const fitTwoSegments = (units: Float64Array, oneTheta: Float64Array) => {
    let best: { logLikelihood: number; share: number; fits: LogitPoissonFit[]; iterations: number } | undefined;
    for (const ratio of [2, 4]) {
      let thetaOne = Float64Array.from(oneTheta.subarray(0, size));
      let thetaTwo = Float64Array.from(thetaOne);
      thetaOne[1] = (thetaOne[1] ?? 0) / Math.sqrt(ratio);
      thetaTwo[1] = (thetaTwo[1] ?? 0) * Math.sqrt(ratio);
      let share = 0.3;
      let previous = Number.NEGATIVE_INFINITY;
      let fits: LogitPoissonFit[] = [];
      let iterations = 0;
      for (; iterations < (options.maxIterations ?? 40); iterations++) {
        const sharesOne = Float64Array.from({ length: data.rows }, (_, row) => shareAt(thetaOne, row));
        const sharesTwo = Float64Array.from({ length: data.rows }, (_, row) => shareAt(thetaTwo, row));
        const meanOne = sharesOne.map((value, row) => Math.exp(logMarket[row] ?? 0) * (1 - share) * value);
        const meanTwo = sharesTwo.map((value, row) => Math.exp(logMarket[row] ?? 0) * share * value);
        const logLikelihood = poissonLogLikelihood(units, meanOne.map((value, row) => value + (meanTwo[row] ?? 0)));
        if (iterations > 0 && Math.abs(logLikelihood - previous) < 1e-7 * (1 + Math.abs(logLikelihood))) {
          previous = logLikelihood;
          break;
        }
        previous = logLikelihood;
        // E: expected units of each segment. Share: root of sum y2/pi - sum y1/(1 - pi) = sum M s2 - sum M s1.
        const unitsOne = units.map((value, row) => (value * (meanOne[row] ?? 0)) / Math.max(1e-300, (meanOne[row] ?? 0) + (meanTwo[row] ?? 0)));
        const unitsTwo = units.map((value, row) => value - (unitsOne[row] ?? 0));
        let expectedOne = 0;
        let expectedTwo = 0;
        let marketOne = 0;
        let marketTwo = 0;
        for (let row = 0; row < data.rows; row++) {
          expectedOne += unitsOne[row] ?? 0;
          expectedTwo += unitsTwo[row] ?? 0;
          marketOne += Math.exp(logMarket[row] ?? 0) * (sharesOne[row] ?? 0);
          marketTwo += Math.exp(logMarket[row] ?? 0) * (sharesTwo[row] ?? 0);
        }
        const equation = (pi: number) => expectedTwo / pi - expectedOne / (1 - pi) - marketTwo + marketOne;
        let low = 1e-9;
        let high = 1 - 1e-9;
        for (let step = 0; step < 60; step++) {
          const middle = (low + high) / 2;
          if (equation(middle) > 0) low = middle;
          else high = middle;
        }
        share = (low + high) / 2;
        // M: each segment's logit-Poisson fit on its expected units, its share of the market in the offset (warm started).
        const fitOne = fitQuietly({ ...data, units: unitsOne, logMarketSize: logMarket.map((value) => value + Math.log(1 - share)) }, thetaOne);
        const fitTwo = fitQuietly({ ...data, units: unitsTwo, logMarketSize: logMarket.map((value) => value + Math.log(share)) }, thetaTwo);
        if (!fitOne || !fitTwo) break;
        thetaOne = Float64Array.from(fitOne.theta);
        thetaTwo = Float64Array.from(fitTwo.theta);
        fits = [fitOne, fitTwo];
      }
      if (fits.length === 2 && (!best || previous > best.logLikelihood)) best = { logLikelihood: previous, share, fits, iterations };
    }
    return best;
  };
  const likelihoodRatio = (units: Float64Array, oneTheta: Float64Array) => {
    const one = poissonLogLikelihood(units, oneSegmentMeans(oneTheta));
    const best = fitTwoSegments(units, oneTheta);
    const two = Math.max(best?.logLikelihood ?? Number.NEGATIVE_INFINITY, one);
    return { one, two, best, statistic: Math.max(0, 2 * (two - one)) };
  };

  const baseTheta = Float64Array.from(baseFit.theta.subarray(0, size));
  const observed = likelihoodRatio(observedUnits, baseTheta);
  const statistic = observed.statistic;
  const approximatePValue = chiBarSquareUpperTail(statistic, extraParameters);
  let exceedances = 0;
  if (replicates > 0 && statistic > 0) {
    // Under one segment: the fitted means (negative binomial: a gamma-mixed Poisson of size k).
    const means = oneSegmentMeans(baseTheta);
    const random = new RandomStream(options.seed ?? 1, 'segment-bootstrap');
    const negativeBinomialSize = baseFit.likelihood === 'negative-binomial' ? baseFit.dispersionSize?.value : undefined;
    for (let replicate = 0; replicate < replicates; replicate++) {
      const units = Float64Array.from(means, (mean) => {
        const scaled = negativeBinomialSize !== undefined && Number.isFinite(negativeBinomialSize) && negativeBinomialSize > 0 ? (mean * gammaDraw(negativeBinomialSize, random)) / negativeBinomialSize : mean;
        return poissonFromUniform(scaled, random.next());
      });
      const refit = fitQuietly({ ...data, units }, baseTheta);
      const simulated = likelihoodRatio(units, refit ? Float64Array.from(refit.theta.subarray(0, size)) : baseTheta);
      if (simulated.statistic >= statistic) exceedances++;
    }
  }
  const bootstrapped = replicates > 0;
  const pValue = bootstrapped ? (statistic > 0 ? (1 + exceedances) / (replicates + 1) : 1) : approximatePValue;
  // Order: the second segment is the more price-sensitive one.
  let segments = observed.best?.fits ?? [];
  let share = observed.best?.share ?? 0;
  if (segments.length === 2 && (segments[0]!.theta[1] ?? 0) > (segments[1]!.theta[1] ?? 0)) {
    segments = [segments[1]!, segments[0]!];
    share = 1 - share;
  }
  return {
    // p <= level: with level (B + 1) whole, the bootstrap test's size is exactly the level (a Monte Carlo test).
    supported: (bootstrapped ? pValue <= level : pValue < level) && segments.length === 2,
    statistic,
    pValue,
    pValueMethod: bootstrapped ? 'bootstrap' : 'chi-bar-square',
    replicates: bootstrapped ? replicates : 0,
    exceedances: bootstrapped && statistic > 0 ? exceedances : bootstrapped ? replicates : 0,
    approximatePValue,
    extraParameters,
    oneSegmentLogLikelihood: observed.one,
    twoSegmentLogLikelihood: observed.two,
    share,
    segments,
    iterations: observed.best?.iterations ?? 0,
  };
}

/** The aggregate test on a calibration's own rows (its fitted market sizes, censored rows left out). */
export function testSecondSegmentOfSales(sales: SalesData, logMarketSize: Float64Array, fit: LogitPoissonFit, options: AggregateSegmentOptions = {}): AggregateSegmentTest {
  return testSecondSegment(salesDesign(sales, logMarketSize), fit, options);
}

function fitQuietly(data: LogitPoissonData, start?: Float64Array): LogitPoissonFit | undefined {
  try {
    return fitLogitPoisson(data, { quasiThreshold: Number.POSITIVE_INFINITY, ...(start ? { start } : {}) });
  } catch {
    return undefined;
  }
}

export const aggregateMethod =
  'likelihood-ratio test of one logit segment against two (share and second segment by EM on the Poisson thinning), p-value by parametric bootstrap (McLachlan 1987: logs drawn from the fitted one segment, both models refitted, p = (1 + #{LR* >= LR}) / (B + 1)); the chi-bar-square 0.5 chi2(d - 1) + 0.5 chi2(d) beside it is approximate (the second segment is not identified under one segment)';

/** How the test's p-value was computed, for the record and the CLI summary. */
export function aggregatePValueMethod(test: AggregateSegmentTest): string {
  return test.pValueMethod === 'bootstrap'
    ? `parametric bootstrap, B = ${test.replicates} (${test.exceedances} with LR* >= LR); chi-bar-square p = ${round(test.approximatePValue)} (approximate, d = ${test.extraParameters})`
    : `chi-bar-square with d = ${test.extraParameters} (approximate: no bootstrap)`;
}

/** Records the aggregate test (`calibration.segments`) and, when it supports two segments, puts them in the scenario. */
export function applyAggregateSegments(scenario: ScenarioInput, record: CalibrationRecord, test: AggregateSegmentTest): void {
  const demand = scenario.demand;
  const stale = record.defaults.findIndex((entry) => entry.field === 'demand.segments');
  if (stale >= 0) record.defaults.splice(stale, 1);
  const interval = (fit: LogitPoissonFit | undefined, index: number) => {
    const parameter = fit?.parameters[index];
    return parameter && Number.isFinite(parameter.standardError) ? roundInterval(parameter) : { value: round(fit?.theta[index] ?? 0), standardError: 0, lower: round(fit?.theta[index] ?? 0), upper: round(fit?.theta[index] ?? 0) };
  };
  const classes = test.supported
    ? test.segments.map((fit, index) => {
        const share = index === 0 ? 1 - test.share : test.share;
        return { share: { value: round(share), standardError: 0, lower: round(share), upper: round(share) }, quality: [interval(fit, 0)], priceSensitivity: interval(fit, 1) };
      })
    : [];
  record.segments = {
    source: 'aggregate',
    method: aggregateMethod,
    chosenClasses: test.supported ? 2 : 1,
    test: {
      statistic: round(test.statistic),
      pValue: Math.min(1, Math.max(0, round(test.pValue))),
      method: aggregatePValueMethod(test),
      ...(test.pValueMethod === 'bootstrap' ? { replicates: test.replicates, approximatePValue: Math.min(1, Math.max(0, round(test.approximatePValue))) } : {}),
    },
    classes,
  };
  if (!test.supported || demand.kind !== 'logit' || !demand.segments[0]) {
    record.defaults.push({ field: 'demand.segments', value: 'one segment', reason: `the likelihood-ratio test does not support a second segment (statistic ${round(test.statistic)}, p = ${round(test.pValue)}, ${test.pValueMethod === 'bootstrap' ? `parametric bootstrap, B = ${test.replicates}` : 'chi-bar-square, approximate'})` });
    return;
  }
  const template = demand.segments[0];
  const totalRate = demand.segments.reduce((total, segment) => total + segment.arrivalRate, 0);
  const placed = test.segments.map((fit, index) => {
    const scale = demand.quality / (fit.theta[0] ?? Number.NaN);
    const share = index === 0 ? 1 - test.share : test.share;
    return Number.isFinite(scale) && scale >= 1e-3 && scale <= 1e3
      ? { ...template, name: index === 0 ? 'regular' : 'price-sensitive', arrivalRate: round(totalRate * share), priceSensitivity: round(Math.max(1e-9, (fit.theta[1] ?? 0) * scale)), scale: round(scale) }
      : undefined;
  });
  if (placed.every((segment) => segment !== undefined)) {
    demand.segments = placed;
    record.defaults.push({ field: 'demand.segments[].rival utilities and promotion lifts', value: 'shared', reason: 'the simulator shares rival qualities across segments and has no promotions: each segment\'s own are in its fit, not placed; the shares\' intervals are not computed (EM without the information matrix)' });
  } else {
    record.defaults.push({ field: 'demand.segments', value: 'one segment', reason: 'a second segment is supported but its quality cannot be reached from the scenario\'s with a positive scale' });
  }
}

// ---------------------------------------------------------------- into the scenario

const round = (value: number) => Number(value.toPrecision(6));
const roundInterval = (interval: Interval) => ({
  value: round(interval.value),
  standardError: Number.isFinite(interval.standardError) ? round(interval.standardError) : 0,
  lower: Number.isFinite(interval.lower) ? round(interval.lower) : round(interval.value),
  upper: Number.isFinite(interval.upper) ? round(interval.upper) : round(interval.value),
});

export const panelMethod =
  'latent-class logit by EM (4 seeded starts per class count), classes chosen by BIC (N = customers); 95% Wald intervals from the observed information (numerical Jacobian of the analytic score), shares by the delta method through their logits';

/**
 * Puts the chosen classes into the scenario's logit segments and records them
 * (`calibration.segments`). `ourOption` names the panel option that is our product (default
 * "ours", else the first option).
 */
export function applyPanelSegments(scenario: ScenarioInput, record: CalibrationRecord, selection: LatentClassSelection, panelFile: string, ourOption?: string): void {
  const demand = scenario.demand;
  const ours = Math.max(0, selection.options.indexOf(ourOption ?? (selection.options.includes('ours') ? 'ours' : (selection.options[0] ?? ''))));
  const classes = selection.chosen.classes;
  const problems: string[] = [];
  // In place: the scenario's calibration block and the result's record may share this array.
  const stale = record.defaults.findIndex((entry) => entry.field === 'demand.segments');
  if (stale >= 0) record.defaults.splice(stale, 1);
  if (demand.kind === 'logit') {
    const template = demand.segments[0];
    const totalRate = demand.segments.reduce((total, segment) => total + segment.arrivalRate, 0);
    const quality = demand.quality;
    const segments = classes.flatMap((estimate, index) => {
      const alpha = estimate.quality[ours]?.value ?? Number.NaN;
      const scale = quality / alpha;
      if (!(Number.isFinite(scale) && scale >= 1e-3 && scale <= 1e3)) {
        problems.push(`class ${index + 1}: quality ${round(alpha)} cannot be reached from the scenario's ${round(quality)} with a positive scale`);
        return [];
      }
      return [{ ...(template ?? {}), name: `class-${index + 1}`, arrivalRate: round(totalRate * estimate.share.value), priceSensitivity: round(Math.max(1e-9, estimate.priceSensitivity.value * scale)), scale: round(scale) }];
    });
    if (segments.length === classes.length && template) {
      demand.segments = segments;
      classes.forEach((estimate, index) => {
        record.estimates.push(
          { parameter: `segment:class-${index + 1}:share`, scenarioPath: `demand.segments[${index}].arrivalRate`, ...roundInterval(estimate.share), method: `${panelMethod}; arrival rate = share x the total` },
          { parameter: `segment:class-${index + 1}:quality`, scenarioPath: `demand.segments[${index}].scale`, ...roundInterval(estimate.quality[ours]!), method: `${panelMethod}; scale = demand.quality / this` },
          { parameter: `segment:class-${index + 1}:priceSensitivity`, scenarioPath: `demand.segments[${index}].priceSensitivity`, ...roundInterval(estimate.priceSensitivity), method: `${panelMethod}; the segment's is this x its scale` },
        );
      });
      if (selection.options.length > 1) {
        record.defaults.push({ field: 'demand.segments[].rival utilities', value: 'competitor qualities / scale', reason: 'the simulator shares rival qualities across segments: each class\'s own rival constants are recorded in calibration.segments, not placed' });
      }
    } else {
      record.defaults.push({ field: 'demand.segments', value: 'as fitted from the sales', reason: `the panel's classes could not be placed: ${problems.join('; ')}` });
    }
  }
  record.segments = {
    source: 'panel',
    file: panelFile,
    method: panelMethod,
    customers: selection.customers,
    rows: selection.rows,
    options: [...selection.options],
    chosenClasses: classes.length,
    bic: selection.fits.map((fit) => ({ classes: fit.classes.length, logLikelihood: round(fit.logLikelihood), parameters: fit.parameters, bic: round(fit.bic), converged: fit.converged })),
    classes: classes.map((estimate) => ({ share: roundInterval(estimate.share), quality: estimate.quality.map(roundInterval), priceSensitivity: roundInterval(estimate.priceSensitivity) })),
  };
}
