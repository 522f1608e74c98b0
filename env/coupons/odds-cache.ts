/**
 * The order odds of each price, kept: order-odds.ts's figures for every (segment, campaign or
 * none) at one price, with the binomial tables of the three probabilities drawn from them
 * (BUY, REDEEM, CANNIBALISED; env/sampling.ts `binomialTable`). They depend on the price
 * alone, so every market of a CouponState shares them and a price's are computed on its first
 * day only: a policy that moves among a ladder's prices computes each price's once. At most
 * `limit` prices are kept; past that the cache starts again, so prices from a continuum never
 * grow it without bound. Pure: the same odds as computing them every day.
 */
import { binomialTable, type BinomialTable } from '../sampling.js';
import type { CouponModel } from './coupon-model.js';
import { BUY, CANNIBALISED, ODDS_SIZE, orderOdds, REDEEM } from './order-odds.js';

export interface PriceOdds {
  readonly price: number;
  /** odds[(segment x (campaigns + 1) + campaign + 1) x ODDS_SIZE + figure], campaign -1 = no coupon. */
  readonly odds: Float64Array;
  /** Tables per (segment x (campaigns + 1) + campaign + 1). */
  readonly buy: readonly BinomialTable[];
  readonly redeem: readonly BinomialTable[];
  readonly cannibalised: readonly BinomialTable[];
}

const clamped = (probability: number) => binomialTable(probability < 0 ? 0 : probability > 1 ? 1 : probability);

export class OrderOddsCache {
  private readonly entries = new Map<number, PriceOdds>();

  constructor(
    private readonly model: CouponModel,
    private readonly limit = 256,
  ) {}

  /** The odds at `price`, computed on first use. */
  at(price: number): PriceOdds {
    const kept = this.entries.get(price);
    if (kept !== undefined) return kept;
    if (this.entries.size >= this.limit) this.entries.clear();
    const model = this.model;
    const width = model.campaignCount + 1;
    const odds = new Float64Array(model.segmentCount * width * ODDS_SIZE);
    for (let segment = 0; segment < model.segmentCount; segment++) {
      for (let campaign = -1; campaign < model.campaignCount; campaign++) orderOdds(model, segment, campaign, price, odds, (segment * width + campaign + 1) * ODDS_SIZE);
    }
    const tables = (figure: number) => Array.from({ length: model.segmentCount * width }, (_, entry) => clamped(odds[entry * ODDS_SIZE + figure] ?? 0));
    const entry: PriceOdds = { price, odds, buy: tables(BUY), redeem: tables(REDEEM), cannibalised: tables(CANNIBALISED) };
    this.entries.set(price, entry);
    return entry;
  }
}
