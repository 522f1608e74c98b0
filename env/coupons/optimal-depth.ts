/**
 * Known answer: the optimal depth of an amount-off coupon (docs/market-model.md, "Coupons",
 * derived there).
 *
 * Setting: list price p fixed; a coupon of depth d (threshold coupon with spend 0, one unit per
 * order) is claimed and used by one segment (claim rate 1) and by no other; visitors of the
 * redeeming segment with logit demand P(x) = logistic((a - b x - a_out) / mu) pay x = p - d.
 * Profit from them, per visitor, is (p - d - c) P(p - d), and nothing else depends on d, so
 * the best effective price p - d is the logit monopoly price for that segment:
 *   p - d* = c + (mu / b) (1 + W(exp((a - a_out - b c) / mu - 1)))
 *   d*     = p - c - (mu / b) (1 + W(exp((a - a_out - b c) / mu - 1)))
 * (W: the principal Lambert W), when that lies in [0, p - c]; otherwise the nearest end. The
 * coupon screens customers (Narasimhan 1984): the list price serves the others.
 */
import { lambertWOfExp } from '../stage-game-numerics.js';

export interface AmountOffCouponCase {
  readonly listPrice: number;
  readonly unitCost: number;
  readonly quality: number;
  readonly outsideUtility: number;
  readonly priceSensitivity: number;
  readonly scale: number;
}

/** The redeeming segment's profit-maximising price (the logit monopoly price). */
export function redeemerOptimalPrice(parameters: AmountOffCouponCase): number {
  const { unitCost, quality, outsideUtility, priceSensitivity, scale } = parameters;
  return unitCost + (scale / priceSensitivity) * (1 + lambertWOfExp((quality - outsideUtility - priceSensitivity * unitCost) / scale - 1));
}

/** d*: the optimal coupon depth, clamped to [0, listPrice - unitCost]. */
export function optimalCouponDepth(parameters: AmountOffCouponCase): number {
  const depth = parameters.listPrice - redeemerOptimalPrice(parameters);
  return Math.min(Math.max(depth, 0), parameters.listPrice - parameters.unitCost);
}
