/**
 * Order odds: what a visitor of segment s does at price p, with or without a coupon.
 *
 * A visitor intends an order of k units (P(k) = basket_s,k). The coupon saves D(k, p) on it:
 *   threshold once   Y if k p >= X, else 0          (X = 0: a plain amount off)
 *   threshold every  Y floor(k p / X)
 *   percentage       min(f k p, cap)
 * never more than the campaign's face value nor the order's value. The visitor buys the order
 * by the segment's logit on the per-unit price paid, p - D / k:
 *   P0 = logistic((u(p) - a_out) / mu_s)  without a coupon (u: env/day/demand.ts `utility`),
 *   P1(k) = logistic((u(p - D(k, p) / k) - a_out) / mu_s)  holding one.
 * A holder whose order does not qualify (D = 0) buys at P0 and keeps the coupon.
 *
 * Cannibalisation: with the same customer's random utility, a holder who redeems on an order
 * of k would have bought it without the coupon with probability P0 / P1(k) (P1 >= P0: the
 * coupon only adds utility). So, among redemptions, the cannibalised share is
 *   kappa = sum_{D>0} basket_k P0 / sum_{D>0} basket_k P1(k).
 *
 * `orderOdds` writes, for one (segment, campaign or none, price):
 *   [BUY]                 P(a visitor orders)
 *   [REDEEM]              P(the order redeems | ordered)      (0 without a coupon)
 *   [CANNIBALISED]        kappa                                 (0 without a coupon)
 *   [UNITS_REDEEMING]     E[k | redeeming order]
 *   [UNITS_PLAIN]         E[k | order that does not redeem]
 *   [DISCOUNT]            E[D | redeeming order]
 *   [UNITS_INCREMENTAL]   E[k | an order the coupon created]  (the (P1 - P0)-weighted mean)
 * Pure: no state, no random number.
 */
import { logistic } from '../stage-game-numerics.js';
import { utility } from '../day/demand.js';
import { KIND_PERCENTAGE, type CouponModel } from './coupon-model.js';

export const BUY = 0;
export const REDEEM = 1;
export const CANNIBALISED = 2;
export const UNITS_REDEEMING = 3;
export const UNITS_PLAIN = 4;
export const DISCOUNT = 5;
export const UNITS_INCREMENTAL = 6;
export const ODDS_SIZE = 7;

/** D(k, p): what campaign `campaign` saves on an order of `units` units at `price`, capped by its face value and the order's value. */
export function orderDiscount(model: CouponModel, campaign: number, units: number, price: number): number {
  const value = units * price;
  let discount: number;
  if (model.kind[campaign] === KIND_PERCENTAGE) discount = (model.fraction[campaign] ?? 0) * value;
  else {
    const spend = model.spend[campaign] ?? 0;
    const save = model.save[campaign] ?? 0;
    if (spend === 0) discount = save;
    else if (value + 1e-9 < spend) discount = 0;
    else discount = model.stackEvery[campaign] === 1 ? save * Math.floor((value + 1e-9) / spend) : save;
  }
  return Math.min(discount, model.faceValue[campaign] ?? 0, value);
}

/** P(buy) for a visitor of `segment` paying `unitPrice` per unit. */
export function purchaseProbability(model: CouponModel, segment: number, unitPrice: number): number {
  const segmentModel = model.segments[segment]!;
  return logistic((utility(model.quality, segmentModel, unitPrice, undefined, unitPrice) - model.outsideUtility) / segmentModel.scale);
}

/** Writes the odds of `segment` at `price` holding `campaign` (-1: no coupon) into out[offset .. offset + ODDS_SIZE). */
export function orderOdds(model: CouponModel, segment: number, campaign: number, price: number, out: Float64Array, offset = 0): void {
  const basketMax = model.basketMax;
  const base = segment * basketMax;
  const plain = purchaseProbability(model, segment, price);
  let meanBasket = 0;
  for (let k = 1; k <= basketMax; k++) meanBasket += (model.basket[base + k - 1] ?? 0) * k;
  if (campaign < 0) {
    out[offset + BUY] = plain;
    out[offset + REDEEM] = 0;
    out[offset + CANNIBALISED] = 0;
    out[offset + UNITS_REDEEMING] = 0;
    out[offset + UNITS_PLAIN] = meanBasket;
    out[offset + DISCOUNT] = 0;
    out[offset + UNITS_INCREMENTAL] = 0;
    return;
  }
  let buy = 0;
  let redeemMass = 0;
  let redeemUnits = 0;
  let redeemDiscount = 0;
  let plainIfRedeemer = 0;
  let plainMass = 0;
  let plainUnits = 0;
  let liftMass = 0;
  let liftUnits = 0;
  for (let k = 1; k <= basketMax; k++) {
    const weight = model.basket[base + k - 1] ?? 0;
    if (weight === 0) continue;
    const discount = orderDiscount(model, campaign, k, price);
    if (discount > 0) {
      const withCoupon = purchaseProbability(model, segment, price - discount / k);
      const mass = weight * withCoupon;
      buy += mass;
      redeemMass += mass;
      redeemUnits += mass * k;
      redeemDiscount += mass * discount;
      plainIfRedeemer += weight * plain;
      const lift = weight * Math.max(0, withCoupon - plain);
      liftMass += lift;
      liftUnits += lift * k;
    } else {
      const mass = weight * plain;
      buy += mass;
      plainMass += mass;
      plainUnits += mass * k;
    }
  }
  out[offset + BUY] = buy;
  out[offset + REDEEM] = buy > 0 ? redeemMass / buy : 0;
  out[offset + CANNIBALISED] = redeemMass > 0 ? Math.min(1, plainIfRedeemer / redeemMass) : 0;
  out[offset + UNITS_REDEEMING] = redeemMass > 0 ? redeemUnits / redeemMass : 0;
  out[offset + UNITS_PLAIN] = plainMass > 0 ? plainUnits / plainMass : meanBasket;
  out[offset + DISCOUNT] = redeemMass > 0 ? redeemDiscount / redeemMass : 0;
  out[offset + UNITS_INCREMENTAL] = liftMass > 0 ? liftUnits / liftMass : 0;
}
