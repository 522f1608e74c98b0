/**
 * The coupon-depth optimiser checked against the closed form (optimal-depth.ts): the depth of
 * an amount-off campaign that maximises one day's expected profit, found by golden-section
 * search over the deterministic coupon stages themselves (coupon-day.ts), so the known answer
 * tests the model's code, not a copy of its formula.
 */
import { RandomStream } from '../../core/random.js';
import { KIND_THRESHOLD, type CouponModel } from './coupon-model.js';
import { CouponDay, couponStreamName } from './coupon-day.js';
import { CouponState } from './coupon-state.js';

/** One day's expected profit at `price` when every market runs `campaign` with its saving set to `depth` (an amount-off campaign: spend 0). */
export function dayProfitAtDepth(model: CouponModel, campaign: number, price: number, depth: number): number {
  if (model.kind[campaign] !== KIND_THRESHOLD || (model.spend[campaign] ?? 0) !== 0) throw new RangeError('dayProfitAtDepth expects an amount-off campaign (threshold with spend 0)');
  const save = Float64Array.from(model.save);
  const face = Float64Array.from(model.faceValue);
  save[campaign] = depth;
  face[campaign] = depth;
  const state = new CouponState({ ...model, save, faceValue: face, deterministic: true }, 1);
  new CouponDay(state).advance(Float64Array.of(price), Int32Array.of(campaign), new RandomStream(0, couponStreamName));
  let profit = 0;
  for (let group = 0; group < state.groupCount; group++) profit += (state.paid[group] ?? 0) - model.unitCost * (state.units[group] ?? 0);
  return profit;
}

/** The maximiser of a unimodal `objective` on [low, high] by golden-section search, to `tolerance`. */
export function goldenSectionMaximum(objective: (x: number) => number, low: number, high: number, tolerance = 1e-9): number {
  const ratio = (Math.sqrt(5) - 1) / 2;
  let a = low;
  let b = high;
  let c = b - ratio * (b - a);
  let d = a + ratio * (b - a);
  let fc = objective(c);
  let fd = objective(d);
  while (b - a > tolerance) {
    if (fc >= fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - ratio * (b - a);
      fc = objective(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + ratio * (b - a);
      fd = objective(d);
    }
  }
  return (a + b) / 2;
}

/** The depth in [0, price - unit cost] that maximises one day's expected profit of `campaign` at `price`. */
export function bestCouponDepth(model: CouponModel, campaign: number, price: number, tolerance = 1e-9): number {
  return goldenSectionMaximum((depth) => dayProfitAtDepth(model, campaign, price, depth), 0, Math.max(0, price - model.unitCost), tolerance);
}
