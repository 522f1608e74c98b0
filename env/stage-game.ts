/**
 * The one-shot logit pricing game of N firms: the stage game of Calvano, Calzolari,
 * Denicolo & Pastorello (AER 2020), generalised to a mixture of customer segments.
 *
 * Firm i sells one product of quality a_i at unit cost c_i. A customer of segment s
 * values firm i's offer at a_i - b_s p_i and the outside option at a_0, and chooses by
 * multinomial logit with scale mu_s:
 *
 *   q_si = exp((a_i - b_s p_i)/mu_s) / (sum_k exp((a_k - b_s p_k)/mu_s) + exp(a_0/mu_s))
 *   demand_i = sum_s lambda_s q_si        profit_i = (p_i - c_i) demand_i
 *
 * Parameters (see /work/shared/market-model.md for sourced defaults):
 * - firms[i].quality   a_i, utility units (Calvano: 2).
 * - firms[i].unitCost  c_i, currency per unit (Calvano: 1).
 * - segments[s].weight           lambda_s, customers per period (Calvano: one segment of 1).
 * - segments[s].priceSensitivity b_s, utility per currency unit (Calvano: 1).
 * - segments[s].scale            mu_s, utility units; horizontal differentiation (Calvano: 0.25).
 * - outsideUtility     a_0, utility units (Calvano: 0).
 *
 * Spaces: prices are real numbers (a price profile has one price per firm, focal firm
 * first when used by the market); demand is expected units per period, profit currency
 * per period. The game is deterministic: no random numbers.
 *
 * Files: the config and its check in env/stage-game-config.ts; the joint-profit ascent
 * (monopoly with several segments) in env/joint-profit.ts; Lambert W, logistic and the
 * Cholesky solve in env/stage-game-numerics.ts.
 *
 * Benchmarks: nash() is the Bertrand-Nash equilibrium (iterated exact best responses),
 * monopoly() the prices that maximise the firms' joint profit. With one segment both
 * have closed forms through the Lambert W function: the best-response markup is
 * (1 + W(exp(z - 1)))/k with k = b/mu and z = (a_i - b c_i)/mu - ln(rivals' and outside
 * exp-utilities), and the monopoly markup is common to all firms, (1 + W(A/e))/k with
 * A = sum_i exp((a_i - b c_i - a_0)/mu).
 */
import { PricelabError, configError, protocolError } from '../core/errors.js';
import type { BestResponder } from './competitors/strategy.js';
import { validateStageGameConfig, type PriceProfile, type StageGameConfig } from './stage-game-config.js';
import { JointProfit } from './joint-profit.js';
import { lambertWOfExp, logistic, MAX_NEWTON_ITERATIONS, PRICE_TOLERANCE, segmentLogitWeights } from './stage-game-numerics.js';

export { validateStageGameConfig, type PriceProfile, type StageGameConfig, type StageGameFirm, type StageGameSegment } from './stage-game-config.js';

/** Grid intervals scanned for the global best response when there are several segments. */
const BEST_RESPONSE_SCAN_INTERVALS = 32;
const MAX_BEST_RESPONSE_SWEEPS = 100_000;

export class LogitStageGame implements BestResponder {
  readonly firmCount: number;
  readonly segmentCount: number;
  private readonly quality: Float64Array;
  private readonly unitCost: Float64Array;
  private readonly weight: Float64Array;
  private readonly priceSensitivity: Float64Array;
  private readonly scale: Float64Array;
  /** k_s = b_s / mu_s. */
  private readonly sensitivityOverScale: Float64Array;
  /** a_0 / mu_s. */
  private readonly outsideOverScale: Float64Array;
  /** Scratch: one utility per firm. */
  private readonly utilityScratch: Float64Array;
  /** Scratch: ln(sum of exp-utilities of the rivals and the outside option), per segment. */
  private readonly logRivalsScratch: Float64Array;
  /** Scratch: demand per firm, for profits(). */
  private readonly demandScratch: Float64Array;
  /** Results of ownProfitAt(), kept in fields so the hot path allocates nothing. */
  private ownProfit = 0;
  private ownProfitSlope = 0;
  private ownProfitCurvature = 0;

  constructor(config: StageGameConfig) {
    const problems = validateStageGameConfig(config);
    if (problems.length > 0) throw configError('invalid stage game config', problems);
    this.firmCount = config.firms.length;
    this.segmentCount = config.segments.length;
    this.quality = Float64Array.from(config.firms, (firm) => firm.quality);
    this.unitCost = Float64Array.from(config.firms, (firm) => firm.unitCost);
    this.weight = Float64Array.from(config.segments, (segment) => segment.weight);
    this.priceSensitivity = Float64Array.from(config.segments, (segment) => segment.priceSensitivity);
    this.scale = Float64Array.from(config.segments, (segment) => segment.scale);
    this.sensitivityOverScale = Float64Array.from(config.segments, (segment) => segment.priceSensitivity / segment.scale);
    this.outsideOverScale = Float64Array.from(config.segments, (segment) => config.outsideUtility / segment.scale);
    this.utilityScratch = new Float64Array(this.firmCount);
    this.logRivalsScratch = new Float64Array(this.segmentCount);
    this.demandScratch = new Float64Array(this.firmCount);
  }

  /** Expected units sold per period by each firm at these prices, written into out. */
  demand(prices: ArrayLike<number>, out: Float64Array): Float64Array {
    this.checkProfile(prices, out);
    const firmCount = this.firmCount;
    const utility = this.utilityScratch;
    out.fill(0, 0, firmCount);
    for (let segment = 0; segment < this.segmentCount; segment++) {
      const sensitivity = this.priceSensitivity[segment]!;
      const scale = this.scale[segment]!;
      const outside = this.outsideOverScale[segment]!;
      const denominator = segmentLogitWeights(this.quality, sensitivity, scale, outside, prices, firmCount, utility);
      const perShare = this.weight[segment]! / denominator;
      for (let firm = 0; firm < firmCount; firm++) out[firm] = out[firm]! + perShare * utility[firm]!;
    }
    return out;
  }

  /** Each firm's profit per period, (p_i - c_i) * demand_i. */
  profits(prices: ArrayLike<number>): number[] {
    const demand = this.demand(prices, this.demandScratch);
    const result: number[] = [];
    for (let firm = 0; firm < this.firmCount; firm++) result.push((prices[firm]! - this.unitCost[firm]!) * demand[firm]!);
    return result;
  }

  /**
   * Firm firmIndex's profit-maximising price given the other firms' prices (its own entry
   * in prices is ignored). Allocation-free: a competitor calls it every simulated day.
   * With one segment it is the closed form; with several, the global maximum lies between
   * the segments' own best responses (below all of them every segment's profit rises,
   * above all of them every one falls), which is scanned and refined by safeguarded Newton.
   */
  bestResponse(firmIndex: number, prices: Float64Array): number {
    if (!Number.isInteger(firmIndex) || firmIndex < 0 || firmIndex >= this.firmCount) {
      throw protocolError(`bestResponse: expected a firm index in 0..${this.firmCount - 1}, found ${firmIndex}`);
    }
    if (prices.length < this.firmCount) {
      throw protocolError(`bestResponse: expected ${this.firmCount} prices, found ${prices.length}`);
    }
    const cost = this.unitCost[firmIndex]!;
    const quality = this.quality[firmIndex]!;
    let lowest = Infinity;
    let highest = -Infinity;
    for (let segment = 0; segment < this.segmentCount; segment++) {
      const sensitivity = this.priceSensitivity[segment]!;
      const scale = this.scale[segment]!;
      const outside = this.outsideOverScale[segment]!;
      let maxUtility = outside;
      for (let firm = 0; firm < this.firmCount; firm++) {
        if (firm === firmIndex) continue;
        const value = (this.quality[firm]! - sensitivity * prices[firm]!) / scale;
        if (value > maxUtility) maxUtility = value;
      }
      let sum = Math.exp(outside - maxUtility);
      for (let firm = 0; firm < this.firmCount; firm++) {
        if (firm === firmIndex) continue;
        sum += Math.exp((this.quality[firm]! - sensitivity * prices[firm]!) / scale - maxUtility);
      }
      const logRivals = maxUtility + Math.log(sum);
      this.logRivalsScratch[segment] = logRivals;
      const advantage = (quality - sensitivity * cost) / scale - logRivals;
      const price = cost + (1 + lambertWOfExp(advantage - 1)) / this.sensitivityOverScale[segment]!;
      if (price < lowest) lowest = price;
      if (price > highest) highest = price;
    }
    if (highest - lowest <= PRICE_TOLERANCE * Math.max(1, Math.abs(highest))) return lowest;
    return this.globalOwnMaximum(firmIndex, lowest, highest);
  }

  /** The Bertrand-Nash equilibrium, by Gauss-Seidel iteration of exact best responses. */
  nash(): PriceProfile {
    const prices = new Float64Array(this.firmCount);
    for (let firm = 0; firm < this.firmCount; firm++) prices[firm] = this.unitCost[firm]! + 1 / this.meanSensitivityOverScale();
    for (let sweep = 0; sweep < MAX_BEST_RESPONSE_SWEEPS; sweep++) {
      let largestChange = 0;
      for (let firm = 0; firm < this.firmCount; firm++) {
        const response = this.bestResponse(firm, prices);
        const change = Math.abs(response - prices[firm]!) / Math.max(1, Math.abs(response));
        if (change > largestChange) largestChange = change;
        prices[firm] = response;
      }
      if (largestChange <= PRICE_TOLERANCE) return this.profile(prices);
    }
    throw configError('stage game: best-response iteration did not converge to a Bertrand-Nash equilibrium', [
      {
        path: ['segments'],
        message: `expected best responses to settle within ${MAX_BEST_RESPONSE_SWEEPS} sweeps, found them still moving; a mixture of very different segments may have no pure-strategy equilibrium`,
      },
    ]);
  }

  /** The prices that maximise the firms' joint profit. */
  monopoly(): PriceProfile {
    if (this.segmentCount === 1) {
      const scale = this.scale[0]!;
      const sensitivity = this.priceSensitivity[0]!;
      let maxAdvantage = -Infinity;
      for (let firm = 0; firm < this.firmCount; firm++) {
        maxAdvantage = Math.max(maxAdvantage, (this.quality[firm]! - sensitivity * this.unitCost[firm]!) / scale);
      }
      let sum = 0;
      for (let firm = 0; firm < this.firmCount; firm++) {
        sum += Math.exp((this.quality[firm]! - sensitivity * this.unitCost[firm]!) / scale - maxAdvantage);
      }
      const logAdvantage = maxAdvantage + Math.log(sum) - this.outsideOverScale[0]!;
      const markup = (1 + lambertWOfExp(logAdvantage - 1)) / this.sensitivityOverScale[0]!;
      return this.profile(Float64Array.from(this.unitCost, (cost) => cost + markup));
    }
    return this.profile(this.jointProfitAscent());
  }

  private profile(prices: Float64Array): PriceProfile {
    return { prices: Array.from(prices), profits: this.profits(prices) };
  }

  private meanSensitivityOverScale(): number {
    let weighted = 0;
    let total = 0;
    for (let segment = 0; segment < this.segmentCount; segment++) {
      weighted += this.weight[segment]! * this.sensitivityOverScale[segment]!;
      total += this.weight[segment]!;
    }
    return weighted / total;
  }

  private checkProfile(prices: ArrayLike<number>, out: Float64Array): void {
    if (prices.length !== this.firmCount) {
      throw protocolError(`demand: expected ${this.firmCount} prices (one per firm), found ${prices.length}`);
    }
    if (out.length < this.firmCount) {
      throw protocolError(`demand: expected an output array of length ${this.firmCount}, found ${out.length}`);
    }
  }

  /**
   * Own profit of firmIndex at price, with its first and second derivatives, given the
   * rivals' log-sum-exp per segment in logRivalsScratch. Results go to the ownProfit fields.
   */
  private ownProfitAt(firmIndex: number, price: number): void {
    const markup = price - this.unitCost[firmIndex]!;
    const quality = this.quality[firmIndex]!;
    let demand = 0;
    let demandSlope = 0;
    let demandCurvature = 0;
    for (let segment = 0; segment < this.segmentCount; segment++) {
      const k = this.sensitivityOverScale[segment]!;
      const weight = this.weight[segment]!;
      const logit = (quality - this.priceSensitivity[segment]! * price) / this.scale[segment]! - this.logRivalsScratch[segment]!;
      const share = logistic(logit);
      const rest = logistic(-logit);
      demand += weight * share;
      demandSlope -= weight * k * share * rest;
      demandCurvature += weight * k * k * share * rest * (rest - share);
    }
    this.ownProfit = markup * demand;
    this.ownProfitSlope = demand + markup * demandSlope;
    this.ownProfitCurvature = 2 * demandSlope + markup * demandCurvature;
  }

  /** The global maximiser of own profit on [lowest, highest], where the slope is >= 0 at lowest and <= 0 at highest. */
  private globalOwnMaximum(firmIndex: number, lowest: number, highest: number): number {
    this.ownProfitAt(firmIndex, lowest);
    let bestPrice = lowest;
    let bestProfit = this.ownProfit;
    let leftPrice = lowest;
    let leftSlope = this.ownProfitSlope;
    const step = (highest - lowest) / BEST_RESPONSE_SCAN_INTERVALS;
    for (let interval = 1; interval <= BEST_RESPONSE_SCAN_INTERVALS; interval++) {
      const rightPrice = interval === BEST_RESPONSE_SCAN_INTERVALS ? highest : lowest + interval * step;
      this.ownProfitAt(firmIndex, rightPrice);
      const rightSlope = this.ownProfitSlope;
      let candidate = Number.NaN;
      if (leftSlope > 0 && rightSlope <= 0) candidate = rightSlope === 0 ? rightPrice : this.refineOwnMaximum(firmIndex, leftPrice, rightPrice);
      if (!Number.isNaN(candidate)) {
        this.ownProfitAt(firmIndex, candidate);
        if (this.ownProfit > bestProfit) {
          bestProfit = this.ownProfit;
          bestPrice = candidate;
        }
      }
      leftPrice = rightPrice;
      leftSlope = rightSlope;
    }
    // The slope at highest is 0 up to rounding, which may leave its sign positive: try it too.
    this.ownProfitAt(firmIndex, highest);
    return this.ownProfit > bestProfit ? highest : bestPrice;
  }

  /** Safeguarded Newton on the own-profit slope, which is > 0 at low and <= 0 at high. */
  private refineOwnMaximum(firmIndex: number, low: number, high: number): number {
    let price = 0.5 * (low + high);
    for (let iteration = 0; iteration < MAX_NEWTON_ITERATIONS; iteration++) {
      this.ownProfitAt(firmIndex, price);
      const slope = this.ownProfitSlope;
      const curvature = this.ownProfitCurvature;
      if (slope > 0) low = price;
      else if (slope < 0) high = price;
      else return price;
      const newton = curvature < 0 ? price - slope / curvature : Number.NaN;
      const next = newton > low && newton < high ? newton : 0.5 * (low + high);
      if (Math.abs(next - price) <= 1e-15 * Math.max(1, Math.abs(price)) || high - low <= 4e-16 * Math.max(1, Math.abs(price))) return next;
      price = next;
    }
    return price;
  }

  /**
   * Joint-profit maximisation for several segments: Levenberg-Marquardt damped Newton with
   * a backtracking line search, started from each segment's own monopoly markup and from
   * the Nash prices; the best local maximum wins.
   */
  private jointProfitAscent(): Float64Array {
    const starts: Float64Array[] = [];
    for (let segment = 0; segment < this.segmentCount; segment++) {
      const single = new LogitStageGame({
        firms: Array.from(this.quality, (quality, firm) => ({ quality, unitCost: this.unitCost[firm]! })),
        segments: [{ weight: 1, priceSensitivity: this.priceSensitivity[segment]!, scale: this.scale[segment]! }],
        outsideUtility: this.outsideOverScale[segment]! * this.scale[segment]!,
      });
      starts.push(Float64Array.from(single.monopoly().prices));
    }
    try {
      starts.push(Float64Array.from(this.nash().prices));
    } catch (error) {
      // A mixture without a pure-strategy equilibrium still has a monopoly: start from the segments only.
      if (!(error instanceof PricelabError)) throw error;
    }
    const jointProfit = new JointProfit({
      firmCount: this.firmCount,
      segmentCount: this.segmentCount,
      quality: this.quality,
      unitCost: this.unitCost,
      weight: this.weight,
      priceSensitivity: this.priceSensitivity,
      scale: this.scale,
      sensitivityOverScale: this.sensitivityOverScale,
      outsideOverScale: this.outsideOverScale,
    });
    let best = starts[0]!;
    let bestValue = -Infinity;
    for (const start of starts) {
      const candidate = jointProfit.newtonAscent(start);
      const value = jointProfit.derivatives(candidate, null, null);
      if (value > bestValue) {
        bestValue = value;
        best = candidate;
      }
    }
    return best;
  }
}
