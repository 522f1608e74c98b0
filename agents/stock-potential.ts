/**
 * Stock potential: potential-based reward shaping (Ng, Harada & Russell 1999) for the
 * salvage a finite horizon charges on left-over stock.
 *
 * A market with salvage settles its books on the last day: every unit on hand or on order
 * is charged unitCost - salvageValue at once. That lump (on steady-state-v1, 1,200 to 3,600
 * against a day's profit of about 220) depends on the stock position, and a learner must
 * fit it to find what a price changes on the last days: a markdown there is worth 100-200,
 * a per cent of the lump. With a potential
 *
 *   phi(s)  = -perUnit x (stockOnHand + stockOnOrder)   on the horizon's last `lastDays` days, else 0
 *   r'      = r + gamma phi(s') - phi(s)                  (phi = 0 past the episode's end)
 *
 * the charge is booked as the position moves instead (a unit sold in the window earns its
 * salvage loss back, an order in the window pays it), once when the window opens, and the
 * last day's reward is an ordinary day's. Over an episode the shaping sums to -phi(s_0) = 0,
 * so (Ng et al.) the optimal policy is unchanged; only the learner's targets are easier.
 * The potential reads only the observation, as the agent's other inputs do.
 *
 * Two refinements (both off by default):
 * - reorders: where the firm orders by a periodic (s, S) review, the position at the end is
 *   not today's: an order at the last reviews adds up to S - s units that arrive too late to
 *   sell. phi then charges the expected final position under the firm's own rule
 *   (agents/final-position.ts) instead of today's, so the last reviews' cliff is booked,
 *   smoothed by the sales noise, as each day's sales move the odds of an order.
 * - rampDays: the window's weight rises from 0 to 1 over this many days before it, so a
 *   potential that must open earlier than lastDays can resolve (to see the review a week
 *   or two before the end) opens by small steps, not one lump on a step the network
 *   cannot see.
 */
import { configError } from '../env/errors.js';
import type { BoxSpace } from '../env/spaces.js';
import { FinalPositionTable, type ReviewRule } from './final-position.js';

export interface StockPotential {
  /** phi(s) for one observation (reward units). */
  at(observation: ArrayLike<number>): number;
}

export interface StockPotentialOptions {
  /** Reward units per unit of stock left at the end (unitCost - salvageValue). */
  readonly perUnit: number;
  /** The days at the horizon's end where the potential has its full weight. */
  readonly lastDays: number;
  /** Days before those over which the weight rises linearly from 0 (0: none). */
  readonly rampDays?: number;
  /** Charge the expected final position under the firm's review rule (needs the rule). */
  readonly reorders?: { readonly rule: ReviewRule | undefined; readonly dailySales: number; readonly dailySalesSd: number };
}

/** The potential for an observation space; a config error names what the space lacks. */
export function stockPotential(observationSpace: BoxSpace, options: StockPotentialOptions, field = 'stockPotential'): StockPotential {
  const { perUnit, lastDays, rampDays = 0, reorders } = options;
  const names = observationSpace.featureNames;
  const onHand = names.indexOf('stockOnHand');
  const onOrder = names.indexOf('stockOnOrder');
  const daysLeft = names.indexOf('daysLeft');
  const missing = [...(onHand < 0 ? ['stockOnHand'] : []), ...(daysLeft < 0 ? ['daysLeft'] : [])];
  if (missing.length > 0) {
    throw configError(`${field} needs the stock and the time left in the observation`, [
      { path: [field], message: `expected features ${missing.map((name) => `"${name}"`).join(' and ')} among ${JSON.stringify(names)}, found none: a market without stock has no salvage to shape` },
    ]);
  }
  const scale = (index: number) => (index < 0 ? 0 : (observationSpace.scales[index] ?? 1));
  const [onHandScale, onOrderScale, daysLeftScale] = [scale(onHand), scale(onOrder), scale(daysLeft)];
  // The window must open on a day the observation tells from the day before: the step into it books
  // the whole position at once (-perUnit x 300..900 on steady-state-v1), and a network that cannot
  // see the step values both days alike. lastDays (days left, capped) resolves only the days below its cap.
  const lastDaysIndex = names.indexOf('lastDays');
  const lastDaysCap = lastDaysIndex < 0 ? Number.POSITIVE_INFINITY : scale(lastDaysIndex);
  if (lastDays >= lastDaysCap && !process.env["PRICELAB_SCRATCH_NOCAP"]) {
    throw configError(`${field}Days opens the window on a day the observation cannot tell from the day before`, [
      { path: [`${field}Days`], message: `expected at most ${lastDaysCap - 1} days (the lastDays feature is capped at ${lastDaysCap}, so the day ${lastDaysCap} days before the end looks like the one before it), found ${lastDays}` },
    ]);
  }
  if (reorders && !reorders.rule) {
    throw configError(`${field}Reorders needs the firm's periodic-review rule`, [
      { path: [`${field}Reorders`], message: 'expected a market whose inventory is replenished by a periodic (s, S) review, found none: without reorders the final position is today\'s (leave it off)' },
    ]);
  }
  if (reorders && !(reorders.dailySales >= 0 && reorders.dailySalesSd >= 0)) {
    throw configError(`${field}Reorders needs daily sales`, [
      { path: [`${field}DailySales`], message: `expected a mean and sd of daily net sales at or above 0, found ${reorders.dailySales} and ${reorders.dailySalesSd}` },
    ]);
  }
  const windowDays = lastDays + rampDays;
  // daysLeft's scale is the horizon (env/observation.ts).
  const finalPosition = reorders ? new FinalPositionTable({ rule: reorders.rule, horizon: daysLeftScale, days: windowDays, dailySales: reorders.dailySales, dailySalesSd: reorders.dailySalesSd }) : null;
  return {
    at(observation) {
      const left = Math.round((observation[daysLeft] ?? 0) * daysLeftScale);
      if (left > windowDays) return 0;
      const weight = left <= lastDays ? 1 : (windowDays + 1 - left) / (rampDays + 1);
      const position = (observation[onHand] ?? 0) * onHandScale + (onOrder < 0 ? 0 : (observation[onOrder] ?? 0) * onOrderScale);
      return -perUnit * weight * (finalPosition?.expected(position, left) ?? position);
    },
  };
}
