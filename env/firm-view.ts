/**
 * Card: the multi-firm market seen from each firm, so that any agent can play any firm.
 *
 *   features   `price:<firm>` for every firm (firm 0 is 'focal', rivals by their scenario
 *              names): that firm's posted price last period / top of the ladder; then
 *              `daysLeft`: days left in the horizon / horizon. Every firm sees the same
 *              public facts, in firm order; the names say whose price is whose.
 *   spaces     per firm: Box over those features, Discrete(ladder size) for its action.
 *   observe    FirmView.observe(k, out) writes firm k's observation of the market's
 *              current state (call it after reset and after every step).
 * Pure: reads MarketSimulation.lastPrices and day, draws no random number.
 */
import { protocolError } from '../core/errors.js';
import type { MarketSimulation } from './market.js';
import type { MarketModel } from './model.js';
import { box, discrete, type BoxSpace, type DiscreteSpace } from './spaces.js';

export interface FirmSpaces {
  readonly observationSpace: BoxSpace;
  readonly actionSpace: DiscreteSpace;
}

export class FirmView {
  readonly model: MarketModel;
  readonly market: MarketSimulation;
  readonly firmCount: number;
  /** 'focal', then the rivals' scenario names. */
  readonly firmNames: readonly string[];
  readonly featureNames: readonly string[];
  private readonly spaces: readonly FirmSpaces[];
  private readonly inversePriceScale: number;

  constructor(market: MarketSimulation) {
    this.market = market;
    this.model = market.model;
    this.firmCount = market.firmCount;
    const model = this.model;
    const priceScale = model.ladder[model.ladder.length - 1] ?? 1;
    this.inversePriceScale = 1 / priceScale;
    this.firmNames = ['focal', ...model.rivals.map((rival) => rival.name)];
    this.featureNames = [...this.firmNames.map((name) => `price:${name}`), 'daysLeft'];
    // Rule rivals may price off the ladder, up to their ceiling; learners stay on it.
    const highs = [1, ...model.rivals.map((rival) => Math.max(1, rival.priceCeiling / priceScale)), 1];
    const scales = [...this.firmNames.map(() => priceScale), model.horizon];
    const observationSpace = box(this.featureNames, this.featureNames.map(() => 0), highs, scales);
    const actionSpace = discrete(model.ladder.length);
    // The same public facts for every firm: one pair of spaces, shared.
    this.spaces = this.firmNames.map(() => ({ observationSpace, actionSpace }));
  }

  /** Firm k's observation and action spaces. */
  spacesOf(firm: number): FirmSpaces {
    const spaces = this.spaces[firm];
    if (!spaces) throw protocolError(`expected a firm index in 0..${this.firmCount - 1} (${this.firmNames.join(', ')}), found ${firm}`);
    return spaces;
  }

  /** Writes firm k's observation of the market's current state into `out` (allocated when omitted). */
  observe(firm: number, out?: Float32Array): Float32Array {
    const target = out ?? new Float32Array(this.featureNames.length);
    if (!Number.isInteger(firm) || firm < 0 || firm >= this.firmCount) throw protocolError(`expected a firm index in 0..${this.firmCount - 1}, found ${firm}`);
    if (target.length !== this.featureNames.length) throw protocolError(`expected an observation buffer of ${this.featureNames.length} features, found ${target.length}`);
    const prices = this.market.lastPrices;
    for (let index = 0; index < this.firmCount; index++) target[index] = (prices[index] ?? 0) * this.inversePriceScale;
    target[this.firmCount] = Math.max(0, this.model.horizon - this.market.day) / this.model.horizon;
    return target;
  }
}
