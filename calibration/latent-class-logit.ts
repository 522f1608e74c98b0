/**
 * Card: customer segments from a customer-level choice panel (calibration/choice-panel.ts), by a
 * latent-class logit fitted with EM; the class count chosen by BIC.
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
 */
import { Matrix, inverse, solve } from 'ml-matrix';
import { RandomStream } from '../core/random.js';
import type { ChoicePanel } from './choice-panel.js';
import { waldZ95 } from './logit-poisson.js';

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
