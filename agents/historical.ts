/**
 * Historical replay: the shop's own price path, day by day, as a policy. `pricelab compare
 * my-shop-v1.json --agents historical:sales.csv,q-learning` then answers "what would this
 * policy have earned in my market against what I did".
 *
 * The path is a step function over days: `changes` lists (day, price) from day 0, each
 * price holding until the next change, and the whole path lasts `lengthDays`. It is built
 * from a sales file by calibration/historical.ts (same column map as `pricelab calibrate`):
 * day 0 is the history's first period; a dated row's price holds from its date until the
 * next dated row; a numbered period lasts one period length (7 days for a weekly history in
 * a daily scenario, so each week's price is played on each of its days); a period missing
 * from the history keeps the price before it; the last period lasts one period length.
 *
 * Day of the episode: read from the observation (days left, whose scale is the horizon),
 * so the agent keeps no state and every episode replays from the history's start.
 * After the history ends it repeats from its start (day d plays day d mod lengthDays).
 * Snapping: each historical price is played as the nearest ladder price, the lower of two
 * at the same distance (rule-agent.ts nearestIndex); prices outside the ladder play its end.
 * Draws no random numbers.
 */
import { z } from 'zod';
import type { AgentContext, Explanation } from './agent.js';
import { defineAgent } from './definition.js';
import { FeatureReader, nearestIndex, ruleAgent } from './rule-agent.js';

export const historicalKind = 'historical-replay';

/** The policy spec of a replayed sales file: `historical:<sales file>[#<map.json>]` (calibration/historical.ts reads it). */
export const historicalPrefix = 'historical:';

const priceChangeSchema = z.strictObject({
  day: z.number().int().min(0).describe('days since the first period of the history'),
  price: z.number().positive().describe('the price from this day until the next change'),
});

export const historicalConfigSchema = z
  .strictObject({
    source: z
      .strictObject({
        file: z.string().min(1).describe('the sales file as given'),
        sha256: z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 hex digits').describe("sha256 of the file's bytes"),
        rows: z.number().int().min(1).describe('rows used (after the column map\'s filter)'),
        map: z.string().min(1).optional().describe('the column map file, when one was given'),
      })
      .describe('where the price path came from'),
    periodLength: z.enum(['day', 'week']).describe('the length of one period of the history'),
    lengthDays: z.number().int().min(1).describe('days the path lasts; after it, it repeats from its start'),
    changes: z.array(priceChangeSchema).min(1).describe('the price path: each price holds from its day until the next change'),
  })
  .superRefine((config, context) => {
    config.changes.forEach((change, index) => {
      const previous = config.changes[index - 1];
      if (index === 0 && change.day !== 0) context.addIssue({ code: 'custom', path: ['changes', 0, 'day'], message: `expected the path to start on day 0, found day ${change.day}` });
      if (previous && change.day <= previous.day) context.addIssue({ code: 'custom', path: ['changes', index, 'day'], message: `expected days in increasing order, found ${change.day} after ${previous.day}` });
      if (change.day >= config.lengthDays) context.addIssue({ code: 'custom', path: ['changes', index, 'day'], message: `expected a day below lengthDays (${config.lengthDays}), found ${change.day}` });
    });
  });

export type HistoricalConfig = z.output<typeof historicalConfigSchema>;

/** The position in `changes` of the price played on `day` (0, 1, ...; repeats after lengthDays). */
export function changeIndexOnDay(config: Pick<HistoricalConfig, 'changes' | 'lengthDays'>, day: number): number {
  const within = ((Math.floor(day) % config.lengthDays) + config.lengthDays) % config.lengthDays;
  let low = 0;
  let high = config.changes.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if ((config.changes[middle]?.day ?? 0) <= within) low = middle;
    else high = middle - 1;
  }
  return low;
}

/** The historical price on `day` (before snapping). */
export function historicalPriceOnDay(config: Pick<HistoricalConfig, 'changes' | 'lengthDays'>, day: number): number {
  return config.changes[changeIndexOnDay(config, day)]?.price ?? 0;
}

function build(config: HistoricalConfig, context: AgentContext) {
  const reader = new FeatureReader(context);
  const daysLeft = reader.index('daysLeft', historicalKind);
  const horizon = context.observationSpace.scales[daysLeft] ?? 1;
  const snapped = config.changes.map((change) => nearestIndex(context.ladder, change.price));
  const dayOf = (observation: Float32Array) => Math.max(0, Math.round(horizon - reader.raw(observation, daysLeft)));
  const choose = (observation: Float32Array) => snapped[changeIndexOnDay(config, dayOf(observation))] ?? 0;
  const agent = ruleAgent(historicalKind, config, choose);
  const explain = (observation: Float32Array): Explanation => {
    const day = dayOf(observation);
    const chosen = choose(observation);
    const within = day % config.lengthDays;
    return {
      kind: 'rule',
      description: `replays ${config.source.file}: day ${day}${within === day ? '' : ` (day ${within} of the repeated ${config.lengthDays}-day history)`} was priced ${historicalPriceOnDay(config, day)}, played as the nearest ladder price ${context.ladder[chosen]}`,
      chosen,
    };
  };
  return { ...agent, explain };
}

export const historicalDefinition = defineAgent({
  kind: historicalKind,
  description: "replays a sales history's own prices day by day, snapped to the ladder (historical:<sales file>)",
  configSchema: historicalConfigSchema,
  create: build,
  restore: (exported, context) => build(historicalConfigSchema.parse(exported.config), context),
});
