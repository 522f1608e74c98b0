/**
 * Demand: step 4 of the day (env/market.ts), arrivals and choice.
 *
 * Logit demand. Segment s's customers arrive at rate
 *   lambda_s,t = rate_s,t (festivals in) x weather_s(state, weekend) x temperature(t) x shock_t x activeShare_s,
 * and choose by multinomial logit with scale mu_s among our offer, each rival's offer and
 * not buying. The one utility function, `utility`, gives offer j's value to segment s:
 *   u_j = quality_j - b_s p_j + referenceEffect (ours only: gain * (r - p) below the reference
 *   price r, -loss * (p - r) above it), the outside option's u_0 = outsideUtility;
 *   P_s(j) = exp(u_j / mu_s) / (exp(u_0 / mu_s) + sum_k exp(u_k / mu_s)).
 * Every path computes the weights exp(u / mu) from it: the hot path as exp((u - shift) / mu)
 * with ours at ladder prices from a table and the reference effect as a second factor
 * (exp(a + b) = exp(a) exp(b)), rivals' cached while their price holds; `choiceWeights`
 * (extreme parameters, and `expectedUnitsAt`) with the largest utility subtracted.
 *
 * Draws (stream 'customers'): units demanded from firm j in segment s are Poisson(lambda_s,t
 * P_s(j)), independent across j and s (Poisson thinning). Ours: only a segment group's total
 * matters downstream, so each group's units are ONE Poisson of the sum of its segments' means
 * (exact), one stream uniform per group per day whatever the prices (streams stay aligned).
 * Rivals': their expectation (single-agent view), or in the multi-firm view Poisson around
 * it from uniforms derived by hashing the first group's uniform (salted).
 * Textbook demand (linear, constant elasticity, exponential): one mean per day from the
 * formula, one uniform per day.
 */
import { RandomStream, uniformToKey, derivedUniform } from '../../core/random.js';
import { poissonFromUniform } from '../sampling.js';
import { fastExp } from '../fast-exp.js';
import type { MarketModel, SegmentModel } from '../model.js';
import type { StepOutcome } from './outcome.js';
import type { SegmentGroups } from './segment-groups.js';

/** The loss-averse reference effect on our utility: gain below the reference price, loss above it, 0 for a segment without one. */
export function referenceEffect(reference: SegmentModel['reference'], referencePrice: number, price: number): number {
  if (!reference) return 0;
  return price < referencePrice ? reference.gain * (referencePrice - price) : -reference.loss * (price - referencePrice);
}

/** The utility of an offer (quality, price) to a segment: quality - b p, plus the reference effect where one applies (ours). */
export function utility(quality: number, segment: SegmentModel, price: number, reference: SegmentModel['reference'], referencePrice: number): number {
  return quality - segment.priceSensitivity * price + referenceEffect(reference, referencePrice, price);
}

export interface UnitsBySegment {
  name: string;
  demand: number;
  sold: number;
  lostSales: number;
}

export class DemandStage {
  /** Our units demanded per segment group today (uncensored). */
  readonly groupDemand: Float64Array;
  private readonly stream = new RandomStream(0, 'customers');
  private readonly model: MarketModel;
  private readonly segments: readonly SegmentModel[];
  private readonly groups: SegmentGroups;
  private readonly firmCount: number;
  private readonly sampleRivalUnits: boolean;
  private readonly outcome: StepOutcome;
  private readonly referencePrice: Float64Array;
  private readonly activeShare: Float64Array;
  private readonly temperatures: Float64Array;
  private readonly demandShocks: Float64Array;
  private readonly ourQuality: number;
  private readonly outsideUtility: number;
  private readonly rivalQuality: Float64Array;
  /** Per segment: the largest quality, subtracted from utilities so exp() stays in range. */
  private readonly utilityShift: Float64Array;
  private readonly outsideWeight: Float64Array;
  /** 1 / mu_s per segment: a multiplication on the hot path instead of a division. */
  private readonly inverseScale: Float64Array;
  /** ourWeightTable[segment * ladder + index] = exp((u(ladder price) - shift) / mu), reference effect aside. */
  private readonly ourWeightTable: Float64Array;
  /** rivalWeight[segment * firms + firm], computed at the price in rivalWeightPrice (NaN: stale). */
  private readonly rivalWeightPrice: Float64Array;
  private readonly rivalWeight: Float64Array;
  /** Every firm's logit weight in the segment being drawn (index 0: ours). */
  private readonly weights: Float64Array;
  /** Our expected units per group, summed over its segments while drawing (cleared by the draw). */
  private readonly groupMean: Float64Array;
  /** Today's expected units demanded from us per segment (for segmentUnits only). */
  private readonly segmentMean: Float64Array;
  /** Scratch for segmentUnits: each group's expected units today. */
  private readonly groupExpected: Float64Array;
  /** Today's first customers uniform (the key of the rivals' derived uniforms in the multi-firm view). */
  private firstGroupUniform = 0;

  constructor(
    model: MarketModel,
    groups: SegmentGroups,
    state: { outcome: StepOutcome; referencePrice: Float64Array; activeShare: Float64Array; temperatures: Float64Array; demandShocks: Float64Array },
    sampleRivalUnits: boolean,
  ) {
    this.model = model;
    this.segments = model.segments;
    this.groups = groups;
    this.firmCount = 1 + model.rivals.length;
    this.sampleRivalUnits = sampleRivalUnits && !model.deterministic;
    this.outcome = state.outcome;
    this.referencePrice = state.referencePrice;
    this.activeShare = state.activeShare;
    this.temperatures = state.temperatures;
    this.demandShocks = state.demandShocks;
    const firms = this.firmCount;
    const segments = Math.max(1, model.segments.length);
    const demand = model.scenario.demand;
    this.ourQuality = demand.kind === 'logit' ? demand.quality : 0;
    this.outsideUtility = demand.kind === 'logit' ? demand.outsideUtility : 0;
    this.rivalQuality = Float64Array.from([0, ...model.rivals.map((rival) => rival.quality)]);
    const shift = Math.max(this.ourQuality, this.outsideUtility, ...model.rivals.map((rival) => rival.quality));
    this.utilityShift = new Float64Array(segments).fill(shift);
    this.inverseScale = Float64Array.from(model.segments.map((segment) => 1 / segment.scale));
    this.outsideWeight = Float64Array.from(model.segments.map((segment) => Math.exp((this.outsideUtility - shift) / segment.scale)));
    const ladder = model.ladder;
    this.ourWeightTable = new Float64Array(model.segments.length * ladder.length);
    model.segments.forEach((segment, segmentIndex) => {
      ladder.forEach((price, index) => {
        this.ourWeightTable[segmentIndex * ladder.length + index] = Math.exp((utility(this.ourQuality, segment, price, undefined, price) - shift) / segment.scale);
      });
    });
    this.rivalWeightPrice = new Float64Array(segments * firms).fill(Number.NaN);
    this.rivalWeight = new Float64Array(segments * firms);
    this.weights = new Float64Array(firms);
    this.groupDemand = new Float64Array(groups.count);
    this.groupMean = new Float64Array(groups.count);
    this.groupExpected = new Float64Array(groups.count);
    this.segmentMean = new Float64Array(segments);
  }

  reset(seed: number | string): void {
    this.stream.reseed(seed, 'customers');
  }

  /**
   * Step 4 at today's prices (outcome.prices, ours first; ladderIndex -1 when ours is off the
   * ladder): writes outcome.arrivals (expected), outcome.demand (our units, uncensored),
   * outcome.firmDemand and groupDemand.
   */
  draw(day: number, ladderIndex: number, weatherState: number): void {
    const model = this.model;
    const outcome = this.outcome;
    // Prices and temperature read from arrays, not passed: a float argument is boxed on every call.
    const prices = outcome.prices;
    const price = prices[0] ?? 0;
    const shock = this.demandShocks[day] ?? 1;
    const firms = this.firmCount;
    const firmDemand = outcome.firmDemand;
    for (let firm = 0; firm < firms; firm++) firmDemand[firm] = 0;
    const groupMean = this.groupMean;
    const segmentGroup = this.groups.group;
    const weights = this.weights;
    let arrivals = 0;
    let demand: number;
    const segmentCount = this.segments.length;
    if (segmentCount > 0) {
      const weekend = (model.calendar.weekday[day] ?? 0) >= 5 ? 1 : 0;
      // The period's demand shock rides on the temperature factor: one multiplication of every segment's arrivals.
      const temperatureFactor = this.temperatureFactor(day) * shock;
      const ladderSize = model.ladder.length;
      for (let segmentIndex = 0; segmentIndex < segmentCount; segmentIndex++) {
        const segment = this.segments[segmentIndex]!;
        const rate = arrivalRate(segment, day, weatherState * 2 + weekend, temperatureFactor, this.activeShare[segmentIndex] ?? 1);
        arrivals += rate;
        // Weights exp((u - shift) / mu): ours from a table for ladder prices, rivals' cached
        // while their price holds, the outside option's constant. Transcendental calls
        // dominate the day's cost, so each is computed only when its input changed.
        const inverseScale = this.inverseScale[segmentIndex] ?? 1;
        const shift = this.utilityShift[segmentIndex] ?? 0;
        let ourWeight =
          ladderIndex >= 0
            ? (this.ourWeightTable[segmentIndex * ladderSize + ladderIndex] ?? 0)
            : fastExp((utility(this.ourQuality, segment, price, undefined, price) - shift) * inverseScale);
        const effect = referenceEffect(segment.reference, this.referencePrice[segmentIndex] ?? price, price);
        if (effect !== 0) ourWeight *= fastExp(effect * inverseScale);
        weights[0] = ourWeight;
        let denominator = (this.outsideWeight[segmentIndex] ?? 0) + ourWeight;
        for (let firm = 1; firm < firms; firm++) {
          const slot = segmentIndex * firms + firm;
          const rivalPrice = prices[firm] ?? 0;
          if (this.rivalWeightPrice[slot] !== rivalPrice) {
            this.rivalWeightPrice[slot] = rivalPrice;
            this.rivalWeight[slot] = fastExp((utility(this.rivalQuality[firm] ?? 0, segment, rivalPrice, undefined, rivalPrice) - shift) * inverseScale);
          }
          const weight = this.rivalWeight[slot] ?? 0;
          weights[firm] = weight;
          denominator += weight;
        }
        if (!(denominator > 0 && denominator < Number.POSITIVE_INFINITY)) {
          // Shifted weights overflowed or underflowed: recompute them safely; the rivals' cache is stale.
          denominator = this.choiceWeights(segmentIndex, price, prices, weights);
          for (let firm = 1; firm < firms; firm++) this.rivalWeightPrice[segmentIndex * firms + firm] = Number.NaN;
        }
        const scaledRate = rate / denominator;
        // Ours: pooled into the segment's group (drawn below). Rivals: their expectation, summed over segments.
        const group = segmentGroup[segmentIndex] ?? 0;
        const segmentMean = scaledRate * (weights[0] ?? 0);
        this.segmentMean[segmentIndex] = segmentMean;
        groupMean[group] = (groupMean[group] ?? 0) + segmentMean;
        for (let firm = 1; firm < firms; firm++) firmDemand[firm] = (firmDemand[firm] ?? 0) + scaledRate * (weights[firm] ?? 0);
      }
      demand = this.drawGroupDemand(model.deterministic);
      firmDemand[0] = demand;
      if (this.sampleRivalUnits) {
        // Rivals' units: Poisson around their summed expectation, from uniforms derived from the
        // first group's (salted: the unsalted key's derived uniforms split large means, sampling.ts).
        const key = (uniformToKey(this.firstGroupUniform) ^ RIVAL_UNITS_SALT) >>> 0;
        for (let firm = 1; firm < firms; firm++) firmDemand[firm] = poissonFromUniform(firmDemand[firm] ?? 0, derivedUniform(key, firm));
      }
    } else {
      const mean = textbookMean(model, day, price) * shock;
      const uniform = this.stream.next();
      arrivals = mean;
      demand = model.deterministic ? mean : textbookDraw(model, mean, uniform);
      this.groupDemand[0] = demand;
      firmDemand[0] = demand;
    }
    outcome.arrivals = arrivals;
    outcome.demand = demand;
  }

  /**
   * Expected units demanded from us on `day` at `price` against the rivals' `prices`
   * (index 0 unused), in today's state (weather, reference prices, loyal base): what an
   * oracle that knows the true model sees. No random number is drawn. Plain Math.exp: this
   * is not the hot path. The demand shock is not seen: this is the expectation over it
   * (its mean is 1).
   */
  expectedUnitsAt(day: number, price: number, weatherState: number, prices: Float64Array): number {
    const model = this.model;
    if (model.scenario.demand.kind !== 'logit') return textbookMean(model, day, price);
    const weekend = (model.calendar.weekday[day] ?? 0) >= 5 ? 1 : 0;
    const temperatureFactor = this.temperatureFactor(day);
    const weights = new Float64Array(this.firmCount);
    let units = 0;
    this.segments.forEach((segment, index) => {
      const rate = arrivalRate(segment, day, weatherState * 2 + weekend, temperatureFactor, this.activeShare[index] ?? 1);
      const denominator = this.choiceWeights(index, price, prices, weights);
      units += (rate * (weights[0] ?? 0)) / denominator;
    });
    return units;
  }

  /**
   * Today's units by segment: demanded, sold and lost. Our units are drawn per group, so a
   * group's units are split across its segments in proportion to their expected demand
   * today: exact in expectation, not a draw (no random number is used, so nothing shifts).
   * For display and logging; the market itself never needs it.
   */
  segmentUnits(groupSold: Float64Array): UnitsBySegment[] {
    const segments = this.segments;
    if (segments.length === 0) return [];
    const segmentGroup = this.groups.group;
    const groupTotal = this.groupExpected;
    groupTotal.fill(0);
    for (let segment = 0; segment < segments.length; segment++) groupTotal[segmentGroup[segment] ?? 0]! += this.segmentMean[segment] ?? 0;
    const units = new Array<UnitsBySegment>(segments.length);
    for (let segment = 0; segment < segments.length; segment++) {
      const group = segmentGroup[segment] ?? 0;
      const total = groupTotal[group] ?? 0;
      const share = total > 0 ? (this.segmentMean[segment] ?? 0) / total : 0;
      const demand = (this.groupDemand[group] ?? 0) * share;
      const sold = (groupSold[group] ?? 0) * share;
      units[segment] = { name: segments[segment]?.name ?? `segment ${segment}`, demand, sold, lostSales: demand - sold };
    }
    return units;
  }

  private temperatureFactor(day: number): number {
    const curve = this.model.temperatureMultiplier;
    return curve ? curve.valueAt(day, this.temperatures[day] ?? 15) : 1;
  }

  /**
   * Every firm's logit weight for segment `segmentIndex` (into `weights`, ours first) and the
   * denominator (the outside option's weight included), with the largest utility subtracted:
   * safe for any parameters. Ours at `price`, rivals at prices[firm].
   */
  private choiceWeights(segmentIndex: number, price: number, prices: Float64Array, weights: Float64Array): number {
    const segment = this.segments[segmentIndex]!;
    const outsideUtility = this.outsideUtility;
    const ourUtility = utility(this.ourQuality, segment, price, segment.reference, this.referencePrice[segmentIndex] ?? price);
    let largest = Math.max(outsideUtility, ourUtility);
    for (let firm = 1; firm < this.firmCount; firm++) {
      weights[firm] = utility(this.rivalQuality[firm] ?? 0, segment, prices[firm] ?? 0, undefined, 0);
      largest = Math.max(largest, weights[firm]!);
    }
    let denominator = Math.exp((outsideUtility - largest) / segment.scale);
    weights[0] = Math.exp((ourUtility - largest) / segment.scale);
    denominator += weights[0];
    for (let firm = 1; firm < this.firmCount; firm++) {
      weights[firm] = Math.exp((weights[firm]! - largest) / segment.scale);
      denominator += weights[firm]!;
    }
    return denominator;
  }

  /**
   * Units demanded from us: one Poisson per group of segments (a sum of independent Poissons
   * is the Poisson of the summed mean: exact), by inversion of one stream uniform per group.
   * Reads and clears groupMean, fills groupDemand, returns the total (an integer: no boxing).
   */
  private drawGroupDemand(deterministic: boolean): number {
    const groupMean = this.groupMean;
    let demand = 0;
    for (let group = 0; group < groupMean.length; group++) {
      const mean = groupMean[group] ?? 0;
      groupMean[group] = 0;
      const uniform = this.stream.next();
      if (group === 0) this.firstGroupUniform = uniform;
      const groupDemand = deterministic ? mean : poissonFromUniform(mean, uniform);
      this.groupDemand[group] = groupDemand;
      demand += groupDemand;
    }
    return demand;
  }
}

/** Expected arrivals of a segment on a day: its rate x weather (by state and weekend) x the day's factor x its active share. */
function arrivalRate(segment: SegmentModel, day: number, weatherIndex: number, dayFactor: number, activeShare: number): number {
  return (segment.rates[day] ?? 0) * (segment.weatherMultiplier[weatherIndex] ?? 1) * dayFactor * activeShare;
}

/** XORed into a group's uniform key before deriving the rivals' uniforms from it. */
const RIVAL_UNITS_SALT = 0x5bd1e995;

export function textbookMean(model: MarketModel, day: number, price: number): number {
  const demand = model.scenario.demand;
  const factor = model.textbookRates[day] ?? 1;
  switch (demand.kind) {
    case 'linear':
      return Math.max(0, demand.intercept - demand.slope * price) * factor;
    case 'constant-elasticity':
      return demand.scale * Math.pow(price, demand.elasticity) * factor;
    case 'exponential':
      return demand.scale * demand.periodLength * Math.exp(-demand.sensitivity * price) * factor;
    case 'logit':
      return 0;
  }
}

function textbookDraw(model: MarketModel, mean: number, uniform: number): number {
  const demand = model.scenario.demand;
  if (demand.kind === 'exponential' && demand.arrivals === 'at-most-one') return uniform < mean ? 1 : 0;
  if ((demand.kind === 'linear' || demand.kind === 'constant-elasticity') && demand.noise === 'none') return mean;
  return poissonFromUniform(mean, uniform);
}
