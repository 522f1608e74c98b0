/**
 * Change margin: hysteresis for greedy price choices, against flicker.
 *
 * A learned Q-function is noisy: where two prices are worth nearly the same, the greedy
 * choice can jump between them from one day to the next on noise in the features, and in
 * a market where every price change costs something (loss-averse reference prices, churn
 * of loyal customers, a rival that reacts to our moves) that flicker loses money the
 * Q-values never showed. With a margin m >= 0, the greedy choice keeps yesterday's price
 * unless another price's value beats it by more than m:
 *
 *   keep      = the ladder index nearest yesterday's price (the observation's lastPrice feature)
 *   adjusted  = Q(s, a) + m [a = keep]
 *   chosen    = keep if adjusted(keep) is the largest, else the first index of the largest
 *
 * So `chosen` always maximises `adjusted` (what an explanation reports), and m = 0 is the
 * plain greedy choice with ties kept at yesterday's price. The rule reads only the
 * observation, so a restored artifact applies it exactly as the trained agent does.
 */
import { configError } from '../core/errors.js';
import type { BoxSpace } from '../env/spaces.js';

/** Where yesterday's price sits in the observation, and how to read it back in currency. */
export interface PreviousPriceReader {
  readonly feature: number;
  readonly scale: number;
  readonly ladder: Float64Array;
}

/** The reader for an observation space; a config error when the space has no lastPrice feature. */
export function previousPriceReader(observationSpace: BoxSpace, ladder: Float64Array): PreviousPriceReader {
  const feature = observationSpace.featureNames.indexOf('lastPrice');
  if (feature < 0) {
    throw configError('changeMargin needs yesterday\'s price in the observation', [
      { path: ['changeMargin'], message: `expected a "lastPrice" feature among ${JSON.stringify(observationSpace.featureNames)}, found none: set changeMargin to 0 for this market` },
    ]);
  }
  return { feature, scale: observationSpace.scales[feature] ?? 1, ladder };
}

/** The ladder index nearest yesterday's price in the observation starting at `offset` (lowest index on a tie). */
export function previousLadderIndex(reader: PreviousPriceReader, observations: ArrayLike<number>, offset: number): number {
  const price = (observations[offset + reader.feature] ?? 0) * reader.scale;
  let nearest = 0;
  let distance = Number.POSITIVE_INFINITY;
  for (let index = 0; index < reader.ladder.length; index++) {
    const gap = Math.abs((reader.ladder[index] ?? 0) - price);
    if (gap < distance) {
      distance = gap;
      nearest = index;
    }
  }
  return nearest;
}

/** Q-values with the margin added to the kept action: the values the choice maximises. */
export function adjustedValues(values: ArrayLike<number>, offset: number, actionCount: number, keep: number, margin: number): number[] {
  const adjusted: number[] = [];
  for (let action = 0; action < actionCount; action++) adjusted.push((values[offset + action] ?? Number.NaN) + (action === keep ? margin : 0));
  return adjusted;
}

/** The choice: `keep` if its adjusted value is the largest, else the first action of the largest adjusted value. */
export function chooseWithMargin(values: ArrayLike<number>, offset: number, actionCount: number, keep: number, margin: number): number {
  let best = 0;
  let bestValue = Number.NEGATIVE_INFINITY;
  for (let action = 0; action < actionCount; action++) {
    const value = (values[offset + action] ?? Number.NaN) + (action === keep ? margin : 0);
    if (value > bestValue) {
      bestValue = value;
      best = action;
    }
  }
  const kept = (values[offset + keep] ?? Number.NaN) + margin;
  return kept >= bestValue ? keep : best;
}
