/**
 * State discretiser for tabular agents: chosen observation features, each cut into even
 * bins over [low, high] (clamped outside), combined into one state index (mixed radix).
 * Sensible defaults per scenario come from the features the observation has: a markdown
 * problem keeps time left and stock; a competitive market keeps our last price, the
 * cheapest rival and the festival flags; the coupon market (env/coupons/coupon-env.ts) keeps
 * the share of the coupon budget left and the share of repeat buyers.
 */
import { z } from 'zod';
import { configError } from '../core/errors.js';
import type { BoxSpace } from '../env/spaces.js';

export const discretisationSchema = z
  .array(
    z.strictObject({
      name: z.string().describe('observation feature name'),
      bins: z.number().int().min(1).max(1000).describe('number of even bins'),
      low: z.number().optional().describe('lower edge (observed, scaled value); default the Box bound, or 0'),
      high: z.number().optional().describe('upper edge; default the Box bound, or 2'),
    }),
  )
  .min(1)
  .describe('the features that make the state, with their bins');

export type Discretisation = z.output<typeof discretisationSchema>;

export function defaultDiscretisation(space: BoxSpace, ladderSize: number): Discretisation {
  const has = (name: string) => space.featureNames.includes(name);
  if (has('budgetLeft') && has('stage:repeat')) {
    return [
      { name: 'budgetLeft', bins: 4, low: 0, high: 1 },
      { name: 'stage:repeat', bins: 4, low: 0, high: 1 },
    ];
  }
  if (has('stockOnHand') && has('daysLeft') && !has('stockOnOrder')) {
    return [
      { name: 'daysLeft', bins: 20, low: 0, high: 1 },
      { name: 'stockOnHand', bins: 11, low: 0, high: 1 },
    ];
  }
  const bins: Discretisation = [{ name: 'lastPrice', bins: Math.min(ladderSize, 20), low: 0, high: 1 }];
  const rival = space.featureNames.find((name) => name.startsWith('rivalPrice:'));
  if (rival) bins.push({ name: rival, bins: 8, low: 0, high: 1.2 });
  if (has('eventDay')) bins.push({ name: 'eventDay', bins: 2, low: 0, high: 1 });
  if (has('presaleDay')) bins.push({ name: 'presaleDay', bins: 2, low: 0, high: 1 });
  if (has('stockOnHand')) bins.push({ name: 'stockOnHand', bins: 4, low: 0, high: 1 });
  return bins;
}

export class Discretiser {
  readonly stateCount: number;
  private readonly indices: Int32Array;
  private readonly lows: Float64Array;
  private readonly widths: Float64Array;
  private readonly bins: Int32Array;

  constructor(discretisation: Discretisation, space: BoxSpace) {
    const problems = discretisation.flatMap((entry, index) =>
      space.featureNames.includes(entry.name) ? [] : [{ path: ['discretisation', index, 'name'], message: `expected an observation feature (${space.featureNames.join(', ')}), found "${entry.name}"` }],
    );
    if (problems.length > 0) throw configError('the state discretisation names unknown features', problems);
    this.indices = Int32Array.from(discretisation.map((entry) => space.featureNames.indexOf(entry.name)));
    this.bins = Int32Array.from(discretisation.map((entry) => entry.bins));
    this.lows = Float64Array.from(discretisation.map((entry, position) => entry.low ?? finiteOr(space.low[this.indices[position]!], 0)));
    this.widths = Float64Array.from(
      discretisation.map((entry, position) => ((entry.high ?? finiteOr(space.high[this.indices[position]!], 2)) - (this.lows[position] ?? 0)) / entry.bins),
    );
    this.stateCount = discretisation.reduce((product, entry) => product * entry.bins, 1);
    if (this.stateCount > 5_000_000) throw configError('the state discretisation is too fine', [{ path: ['discretisation'], message: `expected at most 5,000,000 states, found ${this.stateCount}` }]);
  }

  state(observation: Float32Array): number {
    let state = 0;
    for (let position = 0; position < this.indices.length; position++) {
      const bins = this.bins[position]!;
      const value = observation[this.indices[position]!] ?? 0;
      const width = this.widths[position]!;
      let bin = width > 0 ? Math.floor((value - this.lows[position]!) / width) : 0;
      if (bin < 0) bin = 0;
      else if (bin >= bins) bin = bins - 1;
      state = state * bins + bin;
    }
    return state;
  }
}

function finiteOr(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) ? value : fallback;
}
