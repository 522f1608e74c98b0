/**
 * The scenario schema: every field a scenario file may hold, with its unit and meaning.
 *
 * A scenario is data: env/ builds a market from it. Files are validated with zod; a bad
 * file is refused with every problem listed by path (see scenarios/load.ts). Unknown keys
 * are refused too, so a typo never silently falls back to a default.
 * Formulas and sourced defaults: ../shared/market-model.md and docs/market-model.md.
 */
import { z } from 'zod';
import { calibrationRecordSchema } from './calibration-record.js';

const positive = z.number().positive();
const nonNegative = z.number().nonnegative();
const share = z.number().min(0).max(1);
const wholeDays = z.number().int().min(1);
const monthDay = z
  .string()
  .regex(/^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, 'expected a month-day like "11-11"');

/** A curve is a constant or a math expression over the curve variables (see env/curves.ts). */
export const curveSchema = z
  .union([z.number(), z.string().min(1)])
  .describe('a number, or a math expression over dayOfYear, weekday, weekend, day, temperature');

export const priceLadderSchema = z.discriminatedUnion('kind', [
  z
    .strictObject({
      kind: z.literal('list'),
      prices: z.array(positive).min(2).describe('the prices the agent may choose, ascending'),
    })
    .superRefine((ladder, context) => {
      ladder.prices.forEach((price, index) => {
        if (index > 0 && price <= (ladder.prices[index - 1] ?? 0)) {
          context.addIssue({ code: 'custom', path: ['prices', index], message: `expected ascending prices, found ${price} after ${ladder.prices[index - 1]}` });
        }
      });
    }),
  z.strictObject({
    kind: z.literal('range'),
    min: positive.describe('lowest price'),
    max: positive.describe('highest price'),
    count: z.number().int().min(2).max(1000).describe('number of evenly spaced prices'),
    charmEnding: z
      .number()
      .min(0)
      .max(0.99)
      .optional()
      .describe('if set, every price is rounded down to end in this fraction (0.99 gives 19.99)'),
  }).superRefine((ladder, context) => {
    if (ladder.max <= ladder.min) context.addIssue({ code: 'custom', path: ['max'], message: `expected max > min (${ladder.min}), found ${ladder.max}` });
  }),
  z.strictObject({
    kind: z.literal('equilibrium-grid'),
    count: z.number().int().min(2).max(1000).describe('number of evenly spaced prices'),
    extension: nonNegative.describe(
      'the grid runs from pNash - extension*(pMonopoly - pNash) to pMonopoly + extension*(pMonopoly - pNash) (Calvano et al. 2020 use 0.1)',
    ),
  }),
]);

export const referencePriceSchema = z.strictObject({
  memory: z.number().min(0).max(0.99).describe('smoothing z in r <- z*r + (1-z)*p (0.5..0.9 typical)'),
  gain: nonNegative.describe('utility per currency unit our price is below the reference (g)'),
  loss: nonNegative.describe('utility per currency unit our price is above the reference (l); l/g about 2-3 (Kalyanaram & Winer 1995)'),
  initial: positive.optional().describe('starting reference price; default: the list price'),
});

export const loyaltySchema = z.strictObject({
  population: z.number().int().positive().describe('customers in the loyal base at the start'),
  premiumThreshold: nonNegative.describe('relative premium over the reference price tolerated without churn (0.1 = 10%)'),
  churnRate: nonNegative.describe('share of active customers lost per day per unit of premium beyond the threshold'),
  changeWindowDays: wholeDays.describe('window over which price changes are counted'),
  maxChangesInWindow: z.number().int().min(0).describe('price changes tolerated within the window'),
  changeChurnRate: share.describe('share of active customers lost on a day when changes exceed the tolerance'),
  recoveryRate: share.describe('share of lapsed customers who come back per day when prices are fair'),
});

export const segmentSchema = z.strictObject({
  name: z.string().min(1),
  arrivalRate: nonNegative.describe('mean customers per day (L_s), before season, weekday, weather and festivals'),
  priceSensitivity: positive.describe('b_s: utility lost per currency unit of price'),
  scale: positive.describe('mu_s: logit scale (horizontal differentiation)'),
  referencePrice: referencePriceSchema.optional(),
  weather: z.record(z.string(), positive).optional().describe('arrival multiplier per weather state; missing states count 1'),
  weekendWeatherAmplifier: nonNegative.default(1).describe('on weekends the weather effect (multiplier - 1) is scaled by this'),
  festivalSensitivity: nonNegative.default(1).describe('scales the festival uplift and deferral share for this segment'),
  returnLogitOffset: z.number().default(0).describe('t_s added to the return logit for this segment'),
  loyalty: loyaltySchema.optional().describe('makes this a loyal segment that churns and recovers'),
});

export const logitDemandSchema = z.strictObject({
  kind: z.literal('logit'),
  quality: z.number().describe('a_0 of our offer (utility intercept)'),
  outsideUtility: z.number().describe('a_0 of the outside option (not buying)'),
  segments: z.array(segmentSchema).min(1),
});

const noiseSchema = z.enum(['poisson', 'none']).describe('poisson: units ~ Poisson(expected); none: expected units');

export const demandSchema = z.discriminatedUnion('kind', [
  logitDemandSchema,
  z.strictObject({
    kind: z.literal('linear'),
    intercept: positive.describe('a in q = a - b p (units per day at price 0)'),
    slope: positive.describe('b in q = a - b p'),
    noise: noiseSchema,
  }),
  z.strictObject({
    kind: z.literal('constant-elasticity'),
    scale: positive.describe('A in q = A p^e'),
    elasticity: z.number().max(-1.0001).describe('e < -1 (mean measured -2.62, Bijmolt et al. 2005)'),
    noise: noiseSchema,
  }),
  z.strictObject({
    kind: z.literal('exponential'),
    scale: positive.describe('a in lambda(p) = a exp(-alpha p), arrivals per unit time (Gallego & van Ryzin 1994)'),
    sensitivity: positive.describe('alpha'),
    periodLength: positive.describe('t/K: length of one period in the time unit of scale'),
    arrivals: z.enum(['at-most-one', 'poisson']).describe('at-most-one: a sale with probability lambda(p) * periodLength'),
  }),
]);

export const strategySchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('fixed'), price: positive }),
  z
    .strictObject({
      kind: z.literal('random-walk'),
      step: positive.describe('largest move per repricing, up or down'),
      min: positive,
      max: positive,
    })
    .superRefine((strategy, context) => {
      if (strategy.max <= strategy.min) context.addIssue({ code: 'custom', path: ['max'], message: `expected max > min (${strategy.min}), found ${strategy.max}` });
    }),
  z.strictObject({
    kind: z.literal('undercut'),
    amount: positive.describe('eps below the lowest rival price'),
    floorMargin: nonNegative.describe('never below unitCost * (1 + floorMargin)'),
  }),
  z.strictObject({
    kind: z.literal('match'),
    floorMargin: nonNegative.describe('never below unitCost * (1 + floorMargin)'),
  }),
  z
    .strictObject({
      kind: z.literal('two-bound'),
      step: positive.describe('d: undercut the lowest rival by this much'),
      floor: positive.describe('lowest price before jumping back up'),
      ceiling: positive.describe('price after the jump'),
    })
    .superRefine((strategy, context) => {
      if (strategy.ceiling <= strategy.floor) context.addIssue({ code: 'custom', path: ['ceiling'], message: `expected ceiling > floor (${strategy.floor}), found ${strategy.ceiling}` });
    }),
  z.strictObject({ kind: z.literal('best-response') }),
  z.strictObject({
    kind: z.literal('ratio-follower'),
    target: z.string().min(1).describe('"focal" (our firm) or the name of another competitor'),
    ratio: positive.describe('price = ratio * target price (0.9983 and 1.270589 in the Amazon case)'),
  }),
]);

export const competitorSchema = z.strictObject({
  name: z.string().min(1),
  quality: z.number().describe('a_k: utility intercept of this rival offer'),
  unitCost: nonNegative,
  initialPrice: positive,
  strategy: strategySchema,
  latencyDays: wholeDays.default(1).describe('reprices every L days'),
  priceCeiling: positive.optional().describe('sanity ceiling against runaway loops; default 5x the top of our ladder'),
});

export const festivalSchema = z.strictObject({
  name: z.string().min(1),
  date: monthDay.describe('first day of the event'),
  durationDays: wholeDays.default(1),
  presaleStart: monthDay.optional().describe('first day of the pre-sale window (11.11: about 10-20)'),
  presaleUplift: z.number().min(1).default(1).describe('traffic multiplier on pre-sale days'),
  uplift: z.number().min(1).describe('traffic multiplier on event days (demand created)'),
  deferralShare: z.number().min(0).max(0.5).describe('share of demand in the deferral window moved into the event (5-20%: Li, Granados & Netessine 2014)'),
  deferralDays: z.number().int().min(0).describe('days before the festive period whose demand is partly deferred'),
  dipShare: z.number().min(0).max(1).describe('post-event dip as a share of the created bump, pulled forward into the event (4-25%: van Heerde et al. 2000)'),
  dipDays: z.number().int().min(0).describe('days after the event over which the dip decays'),
  competitorDiscount: z.number().min(0).max(0.9).describe('rivals cut prices by this share on pre-sale and event days'),
});

const stochasticMatrix = z.array(z.array(share));

export const weatherSchema = z.strictObject({
  states: z
    .array(z.strictObject({ name: z.string().min(1), temperatureOffset: z.number().describe('degrees C added to the seasonal mean') }))
    .min(2),
  transitions: z
    .strictObject({ winter: stochasticMatrix, spring: stochasticMatrix, summer: stochasticMatrix, autumn: stochasticMatrix })
    .describe('row-stochastic matrices P[from][to] per (northern) season'),
  temperatureNoise: nonNegative.describe('standard deviation of daily temperature around its mean, degrees C'),
  initialState: z.string().min(1),
}).superRefine((weather, context) => {
  const count = weather.states.length;
  if (!weather.states.some((state) => state.name === weather.initialState)) {
    context.addIssue({ code: 'custom', path: ['initialState'], message: `expected one of ${weather.states.map((state) => state.name).join(', ')}, found "${weather.initialState}"` });
  }
  for (const season of ['winter', 'spring', 'summer', 'autumn'] as const) {
    const matrix = weather.transitions[season];
    if (matrix.length !== count) context.addIssue({ code: 'custom', path: ['transitions', season], message: `expected ${count} rows (one per state), found ${matrix.length}` });
    matrix.forEach((row, rowIndex) => {
      if (row.length !== count) context.addIssue({ code: 'custom', path: ['transitions', season, rowIndex], message: `expected ${count} entries, found ${row.length}` });
      const sum = row.reduce((total, value) => total + value, 0);
      if (Math.abs(sum - 1) > 1e-6) context.addIssue({ code: 'custom', path: ['transitions', season, rowIndex], message: `expected the row to sum to 1, found ${sum}` });
    });
  }
});

export const returnsSchema = z.strictObject({
  baseLogit: z.number().describe('t0: return logit of a full-price, non-festival sale'),
  discountLogit: z.number().describe('t1: added per unit of discount depth (1 - paid/list price)'),
  festivalLogit: z.number().describe('t2: added for sales on festival or pre-sale days'),
  minLagDays: wholeDays.describe('earliest return after the sale'),
  maxLagDays: wholeDays.describe('the return window: no return later than this'),
  meanLagDays: positive.describe('mean lag beyond minLagDays of a truncated exponential'),
  handlingCost: nonNegative.describe('cost per returned unit'),
  resellableFraction: share.describe('share of returned units put back into stock'),
  refurbishDays: z.number().int().min(0).describe('delay before a resellable return is back in stock'),
}).superRefine((returns, context) => {
  if (returns.maxLagDays < returns.minLagDays) context.addIssue({ code: 'custom', path: ['maxLagDays'], message: `expected at least minLagDays (${returns.minLagDays}), found ${returns.maxLagDays}` });
});

export const replenishmentSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('none') }),
  z.strictObject({
    kind: z.literal('periodic-review'),
    reorderPoint: nonNegative.describe('s: order when stock on hand plus on order is at or below this'),
    orderUpTo: positive.describe('S: order up to this position'),
    reviewEveryDays: wholeDays,
    leadTimeDays: z.number().int().min(0),
  }).superRefine((replenishment, context) => {
    if (replenishment.orderUpTo <= replenishment.reorderPoint) {
      context.addIssue({ code: 'custom', path: ['orderUpTo'], message: `expected orderUpTo > reorderPoint (${replenishment.reorderPoint}), found ${replenishment.orderUpTo}` });
    }
  }),
]);

export const inventorySchema = z.strictObject({
  initialStock: nonNegative,
  replenishment: replenishmentSchema,
  holdingCost: nonNegative.describe('per unit on hand per day'),
  stockoutPenalty: nonNegative.describe('goodwill cost per lost sale'),
  salvageValue: nonNegative.describe('value per unit left at the horizon'),
});

export const objectiveSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('profit') }),
  z.strictObject({ kind: z.literal('revenue') }),
  z.strictObject({ kind: z.literal('profit-with-churn-penalty'), penaltyPerCustomer: nonNegative }),
]);

export const scenarioSchema = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*-v\d+$/, 'expected a versioned id like "singles-day-v1"'),
    version: z.number().int().min(1),
    description: z.string().min(1).describe('one line, shown by `pricelab scenarios`'),
    card: z.strictObject({
      models: z.string().min(1).describe('what the scenario models'),
      purpose: z.string().min(1).describe('what it is for'),
      sources: z.array(z.string()).default([]),
    }),
    startDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date like "2026-01-01"'),
    horizonDays: z.number().int().min(1).max(3650),
    deterministic: z.boolean().default(false).describe('true: expected values instead of random draws'),
    objective: objectiveSchema.default({ kind: 'profit' }),
    unitCost: nonNegative.describe('our cost per unit'),
    listPrice: positive.describe('regular price; discount depth is measured against it'),
    priceLadder: priceLadderSchema,
    demand: demandSchema,
    competitors: z
      .array(competitorSchema)
      .superRefine((competitors, context) => {
        const names = new Set<string>();
        competitors.forEach((competitor, index) => {
          if (names.has(competitor.name)) context.addIssue({ code: 'custom', path: [index, 'name'], message: `expected unique competitor names, found "${competitor.name}" twice` });
          names.add(competitor.name);
        });
        competitors.forEach((competitor, index) => {
          const strategy = competitor.strategy;
          if (strategy.kind === 'ratio-follower' && strategy.target !== 'focal' && !names.has(strategy.target)) {
            context.addIssue({ code: 'custom', path: [index, 'strategy', 'target'], message: `expected "focal" or a competitor name (${[...names].join(', ')}), found "${strategy.target}"` });
          }
        });
      })
      .default([]),
    festivals: z.array(festivalSchema).default([]),
    weather: weatherSchema.optional(),
    returns: returnsSchema.optional(),
    inventory: inventorySchema.optional().describe('absent: unlimited stock'),
    curves: z
      .strictObject({
        seasonality: curveSchema.optional().describe('arrival multiplier over the year'),
        dayOfWeek: z.union([curveSchema, z.array(positive).length(7)]).optional().describe('arrival multiplier per weekday, Monday first'),
        temperature: curveSchema.optional().describe('mean temperature in degrees C'),
        demandMultiplier: curveSchema.optional().describe('any further arrival multiplier; may use temperature'),
      })
      .default({}),
    calibration: calibrationRecordSchema.optional().describe('how a calibrated scenario was fitted (`pricelab calibrate`): source, estimates with intervals, defaults; ignored by the simulator'),
  })
  // Checks across sections run even when other fields are invalid (zod skips refinements
  // after an error unless told otherwise), so a file's every problem is listed at once.
  // The value may then be partly invalid: every check guards the shape it reads.
  .superRefine(
    (scenario, context) => {
      const issue = (path: (string | number)[], message: string) => context.addIssue({ code: 'custom', path, message });
      const raw = scenario as unknown as Record<string, unknown>;
      const demand = isRecord(raw.demand) ? raw.demand : undefined;
      const demandKind = typeof demand?.kind === 'string' ? demand.kind : undefined;
      if (demandKind !== undefined && demandKind !== 'logit') {
        if (Array.isArray(raw.competitors) && raw.competitors.length > 0) issue(['competitors'], `expected no competitors with ${demandKind} demand (rivals need logit demand), found ${raw.competitors.length}`);
        if (raw.weather !== undefined) issue(['weather'], `expected no weather with ${demandKind} demand (weather acts on logit segments)`);
        if (isRecord(raw.priceLadder) && raw.priceLadder.kind === 'equilibrium-grid') issue(['priceLadder', 'kind'], 'expected logit demand for an equilibrium-grid ladder');
      }
      if (demandKind === 'logit' && Array.isArray(demand?.segments)) {
        const states = isRecord(raw.weather) && Array.isArray(raw.weather.states) ? raw.weather.states.map((state) => (isRecord(state) ? state.name : undefined)) : [];
        demand.segments.forEach((segment, index) => {
          if (!isRecord(segment) || !isRecord(segment.weather)) return;
          for (const state of Object.keys(segment.weather)) {
            if (!states.includes(state)) issue(['demand', 'segments', index, 'weather', state], `expected a weather state (${states.join(', ') || 'no weather configured'}), found "${state}"`);
          }
        });
      }
      if (demandKind === 'exponential' && demand?.arrivals === 'at-most-one' && isRecord(raw.priceLadder)) {
        const ladder = raw.priceLadder;
        const lowest = ladder.kind === 'list' && Array.isArray(ladder.prices) ? Number(ladder.prices[0]) : ladder.kind === 'range' ? Number(ladder.min) : Number.NaN;
        const probability = Number(demand.scale) * Number(demand.periodLength) * Math.exp(-Number(demand.sensitivity) * lowest);
        if (probability > 1) issue(['demand', 'periodLength'], `expected a sale probability of at most 1 per period at the lowest price, found ${probability}`);
      }
    },
    { when: () => true },
  );

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export type ScenarioInput = z.input<typeof scenarioSchema>;
export type Scenario = z.output<typeof scenarioSchema>;
export type Segment = z.output<typeof segmentSchema>;
export type Competitor = z.output<typeof competitorSchema>;
export type Strategy = z.output<typeof strategySchema>;
export type Festival = z.output<typeof festivalSchema>;
export type Weather = z.output<typeof weatherSchema>;
export type Returns = z.output<typeof returnsSchema>;
export type Inventory = z.output<typeof inventorySchema>;
export type Demand = z.output<typeof demandSchema>;
export type LogitDemand = z.output<typeof logitDemandSchema>;
export type Curve = z.output<typeof curveSchema>;
