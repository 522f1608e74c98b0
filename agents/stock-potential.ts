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
 */
import { configError } from '../core/errors.js';
import type { BoxSpace } from '../env/spaces.js';

/** The window DQN uses: the horizon's last 6 days, one below the lastDays feature's cap of 7 (see the check below). */
export const stockPotentialWindowDays = 6;

export interface StockPotential {
  /** phi(s) for one observation (reward units). */
  at(observation: ArrayLike<number>): number;
}

/** The potential for an observation space; a config error names what the space lacks. */
export function stockPotential(observationSpace: BoxSpace, perUnit: number, lastDays: number, field = 'stockPotential'): StockPotential {
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
  if (lastDays >= lastDaysCap) {
    throw configError(`${field}'s window opens on a day the observation cannot tell from the day before`, [
      { path: [field], message: `expected at most ${lastDaysCap - 1} days (the lastDays feature is capped at ${lastDaysCap}, so the day ${lastDaysCap} days before the end looks like the one before it), found ${lastDays}` },
    ]);
  }
  return {
    at(observation) {
      if ((observation[daysLeft] ?? 0) * daysLeftScale > lastDays + 1e-6) return 0;
      const position = (observation[onHand] ?? 0) * onHandScale + (onOrder < 0 ? 0 : (observation[onOrder] ?? 0) * onOrderScale);
      return -perUnit * position;
    },
  };
}
