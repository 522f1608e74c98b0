/**
 * The scenario schema: every field a scenario file may hold, with its unit and meaning.
 *
 * A scenario is data: env/ builds a market from it. Files are validated with zod; a bad
 * file is refused with every problem listed by path (see scenarios/load.ts). Unknown keys
 * are refused too, so a typo never silently falls back to a default.
 *
 * Bounds: every quantity that sizes work or memory has an upper bound, generous for any
 * shop but far below what hangs the simulator or overflows its KPIs (a careless file with
 * `arrivalRate` 1e12 or `unitCost` 1e308 is refused, naming the field, the bound and the
 * value): money per unit at most 1e6, customers per day at most 1e6, multipliers at most
 * 100, day counts at most 3650 (lags and delays 365), stock at most 1e12, and lists
 * (segments, competitors, festivals, weather states, ladder prices) bounded. The daily
 * means these add up to are checked when the market is built (env/demand-bounds.ts).
 * Formulas and sourced defaults: ../shared/market-model.md and docs/market-model.md.
 */
import { z } from 'zod';
import { calibrationRecordSchema } from './calibration-record.js';
import { couponProblems, couponsSchema } from './coupons.js';

/** The bounds of the card above; exported for tests and docs. */
export const scenarioBounds = {
  /** A price or a cost per unit, in the scenario's currency. */
  money: 1e6,
  /** Customers (or units) per day. */
  perDay: 1e6,
  /** A multiplier of arrivals (festival uplift, weather, weekday profile). */
  multiplier: 100,
  /** A utility, a logit or a sensitivity (utility per currency unit). */
  utility: 1e4,
  /** Days in a horizon, a window or a period. */
  days: 3650,
  /** Days of a lag or a delay (return lags, refurbishing, lead time): ring buffers are sized by them. */
  lagDays: 365,
  /** Units of stock, customers in a loyal base. */
  stock: 1e12,
  /** Entries of a list (segments, competitors, festivals, weather states). */
  listEntries: 100,
  /** Prices in a ladder. */
  ladderPrices: 1000,
} as const;

/** `schema` with an upper bound whose message says what was expected and what was found. */
function atMost(schema: z.ZodNumber, limit: number, what: string): z.ZodNumber {
  return schema.max(limit, { error: (issue) => `expected ${what} of at most ${limit}, found ${String(issue.input)}` });
}

/** A list of at most `limit` entries, the message naming how many were found. */
function listOf<Item extends z.ZodType>(item: Item, limit: number, what: string) {
  return z.array(item).max(limit, { error: (issue) => `expected at most ${limit} ${what}, found ${Array.isArray(issue.input) ? issue.input.length : String(issue.input)}` });
}

const positive = z.number().positive();
const nonNegative = z.number().nonnegative();
const share = z.number().min(0).max(1);
const wholeDays = atMost(z.number().int().min(1), scenarioBounds.days, 'a number of days');
const lagDays = atMost(z.number().int().min(1), scenarioBounds.lagDays, 'a number of days');
const delayDays = atMost(z.number().int().min(0), scenarioBounds.lagDays, 'a number of days');
/** A price or cost per unit. */
const money = atMost(positive, scenarioBounds.money, 'an amount per unit');
const moneyOrNothing = atMost(nonNegative, scenarioBounds.money, 'an amount per unit');
const multiplier = (minimum: number) => atMost(z.number().min(minimum), scenarioBounds.multiplier, 'a multiplier');
const utility = z.number().min(-scenarioBounds.utility).max(scenarioBounds.utility, { error: (issue) => `expected a utility or logit in [-${scenarioBounds.utility}, ${scenarioBounds.utility}], found ${String(issue.input)}` });
const sensitivity = atMost(positive, scenarioBounds.utility, 'a sensitivity');
const stock = atMost(nonNegative, scenarioBounds.stock, 'units');
const monthDay = z
  .string()
  .regex(/^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, 'expected a month-day like "11-11"');

/** A curve is a constant or a math expression over the curve variables (see scenarios/curves.ts). */
export const curveSchema = z
  .union([z.number(), z.string().min(1)])
  .describe('a number, or a math expression over dayOfYear, weekday, weekend, day, temperature');

export const priceLadderSchema = z.discriminatedUnion('kind', [
  z
    .strictObject({
      kind: z.literal('list'),
      prices: listOf(money, scenarioBounds.ladderPrices, 'prices').min(2).describe('the prices the agent may choose, ascending'),
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
    min: money.describe('lowest price'),
    max: money.describe('highest price'),
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
  gain: atMost(nonNegative, scenarioBounds.utility, 'a sensitivity').describe('utility per currency unit our price is below the reference (g)'),
  loss: atMost(nonNegative, scenarioBounds.utility, 'a sensitivity').describe('utility per currency unit our price is above the reference (l); l/g about 2-3 (Kalyanaram & Winer 1995)'),
  initial: money.optional().describe('starting reference price; default: the list price'),
});

export const loyaltySchema = z.strictObject({
  population: atMost(z.number().int().positive(), scenarioBounds.stock, 'customers').describe('customers in the loyal base at the start'),
  premiumThreshold: nonNegative.describe('relative premium over the reference price tolerated without churn (0.1 = 10%)'),
  churnRate: atMost(nonNegative, scenarioBounds.multiplier, 'a rate').describe('share of active customers lost per day per unit of premium beyond the threshold'),
  changeWindowDays: wholeDays.describe('window over which price changes are counted'),
  maxChangesInWindow: atMost(z.number().int().min(0), scenarioBounds.days, 'a number of changes').describe('price changes tolerated within the window'),
  changeChurnRate: share.describe('share of active customers lost on a day when changes exceed the tolerance'),
  recoveryRate: share.describe('share of lapsed customers who come back per day when prices are fair'),
});

export const segmentSchema = z.strictObject({
  name: z.string().min(1),
  arrivalRate: atMost(nonNegative, scenarioBounds.perDay, 'customers per day').describe('mean customers per day (L_s), before season, weekday, weather and festivals'),
  priceSensitivity: sensitivity.describe('b_s: utility lost per currency unit of price'),
  scale: z.number().min(1e-3, { error: (issue) => `expected a logit scale of at least 0.001, found ${String(issue.input)}` }).max(scenarioBounds.utility, { error: (issue) => `expected a logit scale of at most ${scenarioBounds.utility}, found ${String(issue.input)}` }).describe('mu_s: logit scale (horizontal differentiation)'),
  referencePrice: referencePriceSchema.optional(),
  weather: z.record(z.string(), atMost(positive, scenarioBounds.multiplier, 'a multiplier')).optional().describe('arrival multiplier per weather state; missing states count 1'),
  weekendWeatherAmplifier: multiplier(0).default(1).describe('on weekends the weather effect (multiplier - 1) is scaled by this'),
  festivalSensitivity: multiplier(0).default(1).describe('scales the festival uplift and deferral share for this segment'),
  returnLogitOffset: utility.default(0).describe('t_s added to the return logit for this segment'),
  loyalty: loyaltySchema.optional().describe('makes this a loyal segment that churns and recovers'),
});

export const logitDemandSchema = z.strictObject({
  kind: z.literal('logit'),
  quality: utility.describe('a_0 of our offer (utility intercept)'),
  outsideUtility: utility.describe('a_0 of the outside option (not buying)'),
  segments: listOf(segmentSchema, scenarioBounds.listEntries, 'segments').min(1),
});

const noiseSchema = z.enum(['poisson', 'none']).describe('poisson: units ~ Poisson(expected); none: expected units');

export const demandSchema = z.discriminatedUnion('kind', [
  logitDemandSchema,
  z.strictObject({
    kind: z.literal('linear'),
    intercept: atMost(positive, scenarioBounds.perDay, 'units per day').describe('a in q = a - b p (units per day at price 0)'),
    slope: atMost(positive, scenarioBounds.perDay, 'units per day per currency unit').describe('b in q = a - b p'),
    noise: noiseSchema,
  }),
  z.strictObject({
    kind: z.literal('constant-elasticity'),
    scale: atMost(positive, 1e12, 'a scale').describe('A in q = A p^e'),
    elasticity: z.number().min(-100).max(-1.0001).describe('e < -1 (mean measured -2.62, Bijmolt et al. 2005)'),
    noise: noiseSchema,
  }),
  z.strictObject({
    kind: z.literal('exponential'),
    scale: atMost(positive, scenarioBounds.perDay, 'arrivals per unit time').describe('a in lambda(p) = a exp(-alpha p), arrivals per unit time (Gallego & van Ryzin 1994)'),
    sensitivity: sensitivity.describe('alpha'),
    periodLength: atMost(positive, scenarioBounds.days, 'a period length').describe('t/K: length of one period in the time unit of scale'),
    arrivals: z.enum(['at-most-one', 'poisson']).describe('at-most-one: a sale with probability lambda(p) * periodLength'),
  }),
]);

export const demandShockSchema = z
  .strictObject({
    size: z
      .number()
      .positive({ error: (issue) => `expected a shock size k > 0, found ${String(issue.input)}` })
      .max(1e8, { error: (issue) => `expected a shock size k of at most 1e8, found ${String(issue.input)}` })
      .describe('k: the shock is Gamma(shape k, scale 1/k), mean 1, variance 1/k; units are then negative binomial (NB2) with size k per period'),
    periodDays: z
      .number()
      .int({ error: (issue) => `expected a whole number of days, found ${String(issue.input)}` })
      .min(1, { error: (issue) => `expected a shock period of at least 1 day, found ${String(issue.input)}` })
      .max(366, { error: (issue) => `expected a shock period of at most 366 days, found ${String(issue.input)}` })
      .default(1)
      .describe('days one shock is held (7: one per week, as a weekly history is fitted)'),
  })
  .describe('a market-level multiplicative arrival shock shared by all segments: overdispersed demand');

export const strategySchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('fixed'), price: money }),
  z
    .strictObject({
      kind: z.literal('random-walk'),
      step: money.describe('largest move per repricing, up or down'),
      min: money,
      max: money,
    })
    .superRefine((strategy, context) => {
      if (strategy.max <= strategy.min) context.addIssue({ code: 'custom', path: ['max'], message: `expected max > min (${strategy.min}), found ${strategy.max}` });
    }),
  z.strictObject({
    kind: z.literal('undercut'),
    amount: money.describe('eps below the lowest rival price'),
    floorMargin: multiplier(0).describe('never below unitCost * (1 + floorMargin)'),
  }),
  z.strictObject({
    kind: z.literal('match'),
    floorMargin: multiplier(0).describe('never below unitCost * (1 + floorMargin)'),
  }),
  z
    .strictObject({
      kind: z.literal('two-bound'),
      step: money.describe('d: undercut the lowest rival by this much'),
      floor: money.describe('lowest price before jumping back up'),
      ceiling: money.describe('price after the jump'),
    })
    .superRefine((strategy, context) => {
      if (strategy.ceiling <= strategy.floor) context.addIssue({ code: 'custom', path: ['ceiling'], message: `expected ceiling > floor (${strategy.floor}), found ${strategy.ceiling}` });
    }),
  z.strictObject({ kind: z.literal('best-response') }),
  z.strictObject({
    kind: z.literal('ratio-follower'),
    target: z.string().min(1).describe('"focal" (our firm) or the name of another competitor'),
    ratio: multiplier(0).positive().describe('price = ratio * target price (0.9983 and 1.270589 in the Amazon case)'),
  }),
]);

export const competitorSchema = z.strictObject({
  name: z.string().min(1),
  quality: utility.describe('a_k: utility intercept of this rival offer'),
  unitCost: moneyOrNothing,
  initialPrice: money,
  strategy: strategySchema,
  latencyDays: wholeDays.default(1).describe('reprices every L days'),
  priceCeiling: money.optional().describe('sanity ceiling against runaway loops; default 5x the top of our ladder'),
});

export const festivalSchema = z.strictObject({
  name: z.string().min(1),
  date: monthDay.describe('first day of the event'),
  durationDays: wholeDays.default(1),
  presaleStart: monthDay.optional().describe('first day of the pre-sale window (11.11: about 10-20)'),
  presaleUplift: multiplier(1).default(1).describe('traffic multiplier on pre-sale days'),
  uplift: multiplier(1).describe('traffic multiplier on event days (demand created)'),
  deferralShare: z.number().min(0).max(0.5).describe('share of demand in the deferral window moved into the event (5-20%: Li, Granados & Netessine 2014)'),
  deferralDays: delayDays.describe('days before the festive period whose demand is partly deferred'),
  dipShare: z.number().min(0).max(1).describe('post-event dip as a share of the created bump, pulled forward into the event (4-25%: van Heerde et al. 2000)'),
  dipDays: delayDays.describe('days after the event over which the dip decays'),
  competitorDiscount: z.number().min(0).max(0.9).describe('rivals cut prices by this share on pre-sale and event days'),
});

const stochasticMatrix = listOf(listOf(share, scenarioBounds.listEntries, 'entries'), scenarioBounds.listEntries, 'rows');

export const weatherSchema = z.strictObject({
  states: z
    .array(z.strictObject({ name: z.string().min(1), temperatureOffset: z.number().min(-100).max(100).describe('degrees C added to the seasonal mean') }))
    .min(2)
    .max(scenarioBounds.listEntries, { error: (issue) => `expected at most ${scenarioBounds.listEntries} weather states, found ${Array.isArray(issue.input) ? issue.input.length : String(issue.input)}` }),
  transitions: z
    .strictObject({ winter: stochasticMatrix, spring: stochasticMatrix, summer: stochasticMatrix, autumn: stochasticMatrix })
    .describe('row-stochastic matrices P[from][to] per (northern) season'),
  temperatureNoise: atMost(nonNegative, 100, 'degrees C').describe('standard deviation of daily temperature around its mean, degrees C'),
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
  baseLogit: utility.describe('t0: return logit of a full-price, non-festival sale'),
  discountLogit: utility.describe('t1: added per unit of discount depth (1 - paid/list price)'),
  festivalLogit: utility.describe('t2: added for sales on festival or pre-sale days'),
  minLagDays: lagDays.describe('earliest return after the sale'),
  maxLagDays: lagDays.describe('the return window: no return later than this'),
  meanLagDays: atMost(positive, scenarioBounds.lagDays, 'a number of days').describe('mean lag beyond minLagDays of a truncated exponential'),
  handlingCost: moneyOrNothing.describe('cost per returned unit'),
  resellableFraction: share.describe('share of returned units put back into stock'),
  refurbishDays: delayDays.describe('delay before a resellable return is back in stock'),
}).superRefine((returns, context) => {
  if (returns.maxLagDays < returns.minLagDays) context.addIssue({ code: 'custom', path: ['maxLagDays'], message: `expected at least minLagDays (${returns.minLagDays}), found ${returns.maxLagDays}` });
});

export const replenishmentSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('none') }),
  z.strictObject({
    kind: z.literal('periodic-review'),
    reorderPoint: stock.describe('s: order when stock on hand plus on order is at or below this'),
    orderUpTo: atMost(positive, scenarioBounds.stock, 'units').describe('S: order up to this position'),
    reviewEveryDays: wholeDays,
    leadTimeDays: delayDays,
  }).superRefine((replenishment, context) => {
    if (replenishment.orderUpTo <= replenishment.reorderPoint) {
      context.addIssue({ code: 'custom', path: ['orderUpTo'], message: `expected orderUpTo > reorderPoint (${replenishment.reorderPoint}), found ${replenishment.orderUpTo}` });
    }
  }),
]);

export const inventorySchema = z.strictObject({
  initialStock: stock,
  replenishment: replenishmentSchema,
  holdingCost: moneyOrNothing.describe('per unit on hand per day'),
  stockoutPenalty: moneyOrNothing.describe('goodwill cost per lost sale'),
  salvageValue: moneyOrNothing.describe('value per unit left at the horizon'),
});

export const objectiveSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('profit') }),
  z.strictObject({ kind: z.literal('revenue') }),
  z.strictObject({ kind: z.literal('profit-with-churn-penalty'), penaltyPerCustomer: moneyOrNothing }),
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
    unitCost: moneyOrNothing.describe('our cost per unit'),
    listPrice: money.describe('regular price; discount depth is measured against it'),
    priceLadder: priceLadderSchema,
    demand: demandSchema,
    demandShock: demandShockSchema.optional().describe('absent: no shock (Poisson units); see docs/market-model.md'),
    competitors: listOf(competitorSchema, scenarioBounds.listEntries, 'competitors')
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
    festivals: listOf(festivalSchema, scenarioBounds.listEntries, 'festivals').default([]),
    referencePriceRule: z.enum(['eu-30-day', 'cn-7-day']).optional().describe('the market\'s rule for a promotion\'s reference ("was") price: eu-30-day, lowest price of the prior 30 days; cn-7-day, lowest transaction price of the prior 7 days (docs/responsible-pricing.md); absent: eu-30-day'),
    weather: weatherSchema.optional(),
    returns: returnsSchema.optional(),
    inventory: inventorySchema.optional().describe('absent: unlimited stock'),
    curves: z
      .strictObject({
        seasonality: curveSchema.optional().describe('arrival multiplier over the year'),
        dayOfWeek: z.union([curveSchema, z.array(atMost(positive, scenarioBounds.multiplier, 'a multiplier')).length(7)]).optional().describe('arrival multiplier per weekday, Monday first'),
        temperature: curveSchema.optional().describe('mean temperature in degrees C'),
        demandMultiplier: curveSchema.optional().describe('any further arrival multiplier; may use temperature'),
      })
      .default({}),
    coupons: couponsSchema.optional().describe('absent: no coupons; see docs/market-model.md, "Coupons"'),
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
      for (const problem of couponProblems(raw)) issue([...problem.path], problem.message);
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
export type DemandShock = z.output<typeof demandShockSchema>;
export type LogitDemand = z.output<typeof logitDemandSchema>;
export type Curve = z.output<typeof curveSchema>;
