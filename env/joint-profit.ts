/**
 * Joint profit of the logit stage game's firms (env/stage-game.ts), with its gradient and
 * Hessian, and its local maximisation by Levenberg-Marquardt damped Newton with a
 * backtracking line search: the monopoly prices when there are several customer segments
 * (one segment has a closed form). Deterministic; allocates only per ascent.
 */
import { choleskySolve, MAX_NEWTON_ITERATIONS, PRICE_TOLERANCE, segmentLogitWeights } from './stage-game-numerics.js';

/** The stage game's parameters, per firm and per segment, as the game holds them. */
export interface LogitParameters {
  readonly firmCount: number;
  readonly segmentCount: number;
  readonly quality: Float64Array;
  readonly unitCost: Float64Array;
  readonly weight: Float64Array;
  readonly priceSensitivity: Float64Array;
  readonly scale: Float64Array;
  /** k_s = b_s / mu_s. */
  readonly sensitivityOverScale: Float64Array;
  /** a_0 / mu_s. */
  readonly outsideOverScale: Float64Array;
}

export class JointProfit {
  /** Scratch: each firm's share within a segment. */
  private readonly shareScratch: Float64Array;
  /** Scratch: each firm's B_j within a segment. */
  private readonly balanceScratch: Float64Array;

  constructor(private readonly game: LogitParameters) {
    this.shareScratch = new Float64Array(this.game.firmCount);
    this.balanceScratch = new Float64Array(this.game.firmCount);
  }

  /**
   * Joint profit, its gradient and Hessian. Per segment, with m_i = p_i - c_i, k = b/mu,
   * Pi = sum_i m_i q_i and B_j = 1 - k m_j + k Pi: dPi/dp_j = q_j B_j and
   * d2Pi/dp_j dp_l = k q_j (q_l B_j + q_l B_l) - k delta_jl q_j (B_j + 1).
   */
  derivatives(prices: Float64Array, gradient: Float64Array | null, hessian: Float64Array | null): number {
    const firmCount = this.game.firmCount;
    const share = this.shareScratch;
    const balance = this.balanceScratch;
    let joint = 0;
    gradient?.fill(0);
    hessian?.fill(0);
    for (let segment = 0; segment < this.game.segmentCount; segment++) {
      const sensitivity = this.game.priceSensitivity[segment]!;
      const scale = this.game.scale[segment]!;
      const k = this.game.sensitivityOverScale[segment]!;
      const weight = this.game.weight[segment]!;
      const outside = this.game.outsideOverScale[segment]!;
      const denominator = segmentLogitWeights(this.game.quality, sensitivity, scale, outside, prices, firmCount, share);
      let segmentProfit = 0;
      for (let firm = 0; firm < firmCount; firm++) {
        share[firm] = share[firm]! / denominator;
        segmentProfit += (prices[firm]! - this.game.unitCost[firm]!) * share[firm]!;
      }
      joint += weight * segmentProfit;
      for (let firm = 0; firm < firmCount; firm++) balance[firm] = 1 - k * (prices[firm]! - this.game.unitCost[firm]!) + k * segmentProfit;
      if (gradient !== null) {
        for (let firm = 0; firm < firmCount; firm++) gradient[firm] = gradient[firm]! + weight * share[firm]! * balance[firm]!;
      }
      if (hessian !== null) {
        for (let row = 0; row < firmCount; row++) {
          for (let column = 0; column < firmCount; column++) {
            let entry = k * share[row]! * share[column]! * (balance[row]! + balance[column]!);
            if (row === column) entry -= k * share[row]! * (balance[row]! + 1);
            hessian[row * firmCount + column] = hessian[row * firmCount + column]! + weight * entry;
          }
        }
      }
    }
    return joint;
  }

  newtonAscent(start: Float64Array): Float64Array {
    const firmCount = this.game.firmCount;
    const prices = Float64Array.from(start);
    const gradient = new Float64Array(firmCount);
    const hessian = new Float64Array(firmCount * firmCount);
    const system = new Float64Array(firmCount * firmCount);
    const direction = new Float64Array(firmCount);
    const trial = new Float64Array(firmCount);
    let damping = 0;
    for (let iteration = 0; iteration < MAX_NEWTON_ITERATIONS; iteration++) {
      const value = this.derivatives(prices, gradient, hessian);
      let diagonalScale = 0;
      for (let firm = 0; firm < firmCount; firm++) diagonalScale = Math.max(diagonalScale, Math.abs(hessian[firm * firmCount + firm]!));
      // Solve (-H + damping I) direction = gradient, raising the damping until the matrix is positive definite.
      for (;;) {
        for (let index = 0; index < system.length; index++) system[index] = -hessian[index]!;
        for (let firm = 0; firm < firmCount; firm++) system[firm * firmCount + firm] = system[firm * firmCount + firm]! + damping;
        if (choleskySolve(system, gradient, direction, firmCount)) break;
        damping = damping === 0 ? 1e-8 * Math.max(1, diagonalScale) : damping * 10;
      }
      let slope = 0;
      let stepSize = 0;
      for (let firm = 0; firm < firmCount; firm++) {
        slope += gradient[firm]! * direction[firm]!;
        stepSize = Math.max(stepSize, Math.abs(direction[firm]!) / Math.max(1, Math.abs(prices[firm]!)));
      }
      if (stepSize <= PRICE_TOLERANCE * 1e-2) break;
      let fraction = 1;
      // Near the optimum, joint profit is flat below rounding: take the plain Newton step.
      let accepted = damping === 0 && stepSize < 1e-6;
      if (accepted) for (let firm = 0; firm < firmCount; firm++) trial[firm] = prices[firm]! + direction[firm]!;
      for (let halving = 0; halving < 60 && !accepted; halving++) {
        for (let firm = 0; firm < firmCount; firm++) trial[firm] = prices[firm]! + fraction * direction[firm]!;
        const trialValue = this.derivatives(trial, null, null);
        if (trialValue >= value + 1e-4 * fraction * slope) {
          accepted = true;
          break;
        }
        fraction *= 0.5;
      }
      if (!accepted) break;
      prices.set(trial);
      damping = fraction === 1 ? damping * 0.1 : damping;
      if (damping < 1e-12) damping = 0;
      if (stepSize * fraction <= PRICE_TOLERANCE) break;
    }
    return prices;
  }
}
