/**
 * The dashboard's socket protocol, typed once: every event in both directions is a zod
 * schema here, and the TypeScript types of socket.io's typed sockets are derived from
 * them. Whoever receives an event validates it with its schema before using it (the
 * server answers a malformed command with a `problem` event and carries on).
 *
 * Client -> server (commands of the client's own simulation session):
 *   configure  scenario, one or two policies, seed, guardrails preset, loop episodes
 *   start | pause | step {days} | speed {speed: days per second, or 'max'}
 *   explain    {arm, episode, day}: "why this price?" for one simulated day
 *
 * Server -> client:
 *   session      the session's state (scenario facts, arms, status, speed, day, episode)
 *   frame        a batch of simulated days per arm, down-sampled at full speed, with KPIs,
 *                the fairness figures (effective price paid by group so far) and, for A vs B, the running difference and its always-valid interval
 *                after every day of the batch
 *   explanation  the observation by feature name, the policy's explanation, every guardrail's effect
 *   problem      a command was refused: what was expected and what was found, by path
 *
 * Policies are strings: a rule spec (`fixed:17.99`, `festival:0.15`, `markdown`...),
 * `registry:<name>[@<version>|@<alias>]` for a registered policy, or `artifact:<folder>`
 * for a trained policy artifact.
 */
import { z } from 'zod';

export const speeds = [1, 4, 16, 64, 'max'] as const;
export const guardrailPresets = ['policy', 'responsible'] as const;

const integer = z.number().int();

export const configureSchema = z.strictObject({
  scenario: z.string().min(1).max(200),
  policies: z.array(z.string().min(1).max(1000)).min(1).max(2),
  seed: integer.min(0).max(2 ** 31 - 1),
  /** 'policy': the policy's own guardrails (its price range); 'responsible': also max change, margin floor and a competitor-index band. */
  guardrails: z.enum(guardrailPresets).default('policy'),
  /** At the end of an episode, go on with the next seed. */
  loop: z.boolean().default(false),
});

export const clientEventSchemas = {
  configure: configureSchema,
  start: z.strictObject({}),
  pause: z.strictObject({}),
  step: z.strictObject({ days: integer.min(1).max(10_000).default(1) }),
  speed: z.strictObject({ speed: z.union([z.literal(1), z.literal(4), z.literal(16), z.literal(64), z.literal('max')]) }),
  explain: z.strictObject({ arm: integer.min(0).max(1), episode: integer.min(0), day: integer.min(0) }),
} as const;

export type ClientEventName = keyof typeof clientEventSchemas;
export type ClientEventPayload<Name extends ClientEventName> = z.input<(typeof clientEventSchemas)[Name]>;
export type Speed = (typeof speeds)[number];

export const problemSchema = z.strictObject({
  /** The event that was refused (or 'session' for a failure while running). */
  event: z.string(),
  message: z.string(),
  problems: z.array(z.strictObject({ path: z.array(z.union([z.string(), z.number()])), message: z.string() })),
});

export const armSchema = z.strictObject({
  name: z.string(),
  policy: z.string(),
  agentKind: z.string(),
  guardrails: z.record(z.string(), z.unknown()),
});

export const sessionSchema = z.strictObject({
  scenario: z.strictObject({
    id: z.string(),
    description: z.string(),
    horizon: integer,
    ladder: z.array(z.number()),
    unitCost: z.number(),
    rivals: z.array(z.string()),
    segments: z.array(z.string()),
    /** The scenario's weather states ([] when it has no weather): the charts' weather legend lists only these. */
    weather: z.array(z.string()),
    /** The kinds of calendar days the episode has: 'festival', 'pre-sale' (or none). */
    calendar: z.array(z.enum(['festival', 'pre-sale'])),
    /** On a coupon scenario: its campaign menu, by name (the page hides the stock and returns charts there, which are flat, and draws the coupon-cost chart). */
    coupons: z.array(z.string()).optional(),
  }),
  arms: z.array(armSchema),
  seed: integer,
  episode: integer,
  /** Increases whenever an episode (re)starts: the page clears its charts on a new run. */
  run: integer,
  day: integer,
  status: z.enum(['ready', 'running', 'paused', 'finished']),
  speed: z.union([z.number(), z.literal('max')]),
  loop: z.boolean(),
  guardrails: z.enum(guardrailPresets),
});

/** One simulated day, or at full speed a bucket of consecutive days (`days` > 1): flows are means per day, levels and cumulative sums are the bucket's last day. */
export const dayPointSchema = z.strictObject({
  day: integer,
  days: integer,
  price: z.number(),
  /** The policy's own price before guardrails. */
  proposedPrice: z.number(),
  rivalPrices: z.array(z.number()),
  /** Reference price per segment (after the day). */
  referencePrices: z.array(z.number()),
  demand: z.number(),
  sold: z.number(),
  lostSales: z.number(),
  /** Units sold and lost per segment (scenario order): a return group's pooled units split by expected share. */
  soldBySegment: z.array(z.number()),
  lostBySegment: z.array(z.number()),
  stockOnHand: z.number(),
  stockOnOrder: z.number(),
  unitsOrdered: z.number(),
  unitsReturned: z.number(),
  refunds: z.number(),
  revenue: z.number(),
  profit: z.number(),
  cumulativeRevenue: z.number(),
  cumulativeProfit: z.number(),
  eventDay: z.boolean(),
  presaleDay: z.boolean(),
  weather: z.string().nullable(),
  /** On a coupon scenario: the campaign the policy chose that day ("no coupon" for none; a bucket's last day's). */
  coupon: z.string().optional(),
  /** On a coupon scenario: what the coupons took off orders that day (a bucket's mean per day). */
  couponCost: z.number().optional(),
  /** On a coupon scenario: what the coupons took off orders so far this episode (the coupon-cost chart). */
  cumulativeCouponCost: z.number().optional(),
});

export const kpisSchema = z.strictObject({
  days: integer,
  revenue: z.number(),
  profit: z.number(),
  sold: z.number(),
  lostSales: z.number(),
  /** sold / demand so far. */
  fillRate: z.number(),
  unitsReturned: z.number(),
  refunds: z.number(),
  meanPrice: z.number(),
  /** Days on which a guardrail moved the policy's price. */
  guardrailAdjustments: integer,
  /** On a coupon scenario (env/coupons/coupon-kpis.ts): what coupons took off orders so far, redeemed / claimed, units the coupons created per redemption. */
  couponCost: z.number().optional(),
  redemptionRate: z.number().optional(),
  incrementalUnitsPerCoupon: z.number().optional(),
});

const pricedGroupSchema = z.strictObject({ label: z.string(), units: z.number(), effectivePrice: z.number().nullable() });

/** Who paid what so far this episode (ui/server/effective-prices.ts, measured as experiments/fairness.ts does). */
export const fairnessFiguresSchema = z.strictObject({
  /** 'posted prices': units by segment at the day's price; 'coupon market': the played prices stepped in the coupon market (no coupon), or with `couponsChosen` what the groups paid after the coupons the arm chose. */
  market: z.enum(['posted prices', 'coupon market']),
  /** true when the arm played the coupon market itself, choosing coupons (a coupon scenario's session). */
  couponsChosen: z.boolean().optional(),
  groupedBy: z.enum(['segment', 'segment and stage']),
  units: z.number(),
  meanEffectivePrice: z.number().nullable(),
  bySegment: z.array(pricedGroupSchema),
  /** [] without a coupons block. */
  byStage: z.array(pricedGroupSchema),
  /** The groups the spread is taken across. */
  byGroup: z.array(pricedGroupSchema),
  standardDeviation: z.number(),
  coefficientOfVariation: z.number(),
  /** Highest over lowest group price (1 with fewer than two groups, or all alike). */
  maxMinRatio: z.number(),
  highest: z.string().nullable(),
  lowest: z.string().nullable(),
  /** Per sensitive attribute of the scenario: the share of the effective price's variance it explains (eta^2). */
  sensitive: z.array(z.strictObject({ attribute: z.string(), etaSquared: z.number() })),
});

export const differenceSchema = z.strictObject({
  day: integer,
  /** Mean daily profit difference, B - A, so far this episode. */
  estimate: z.number(),
  /** The always-valid interval (a running intersection: it never widens); null while unbounded (the first days, or no variation yet). */
  low: z.number().nullable(),
  high: z.number().nullable(),
  /** The latest interval alone, for the average of the days so far when they are not alike (it may widen); null while unbounded. */
  latestLow: z.number().nullable(),
  latestHigh: z.number().nullable(),
  /** The mean has left the never-widening interval: the days do not look like one steady difference (a seasonal market). */
  drifting: z.boolean(),
  /** The count of days (n) at which the always-valid interval first left out 0 (it stays left out); null until then. */
  decidedDay: integer.nullable(),
  n: integer,
  level: z.number(),
  /** Cumulative profit difference, B - A. */
  cumulative: z.number(),
});

export const frameSchema = z.strictObject({
  episode: integer,
  run: integer,
  /** Points per arm, in arm order. */
  arms: z.array(z.strictObject({ points: z.array(dayPointSchema), kpis: kpisSchema, fairness: fairnessFiguresSchema })),
  /** The latest difference (A vs B only). */
  difference: differenceSchema.nullable(),
  /** The difference after every simulated day of this frame (never down-sampled: a few numbers a day), so the chart draws each day. */
  differences: z.array(differenceSchema),
  /** Days simulated for this frame (the sum of the points' `days` of one arm). */
  daysSimulated: integer,
});

const explanationOfPolicySchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('action-values'), values: z.array(z.number()), chosen: integer }),
  z.strictObject({ kind: z.literal('arm-statistics'), arms: z.array(z.strictObject({ index: integer, pulls: z.number(), meanReward: z.number() })), chosen: integer }),
  z.strictObject({ kind: z.literal('rule'), description: z.string(), chosen: integer }),
]);

export const explanationSchema = z.strictObject({
  arm: integer,
  episode: integer,
  day: integer,
  policy: z.string(),
  ladder: z.array(z.number()),
  proposedPrice: z.number(),
  price: z.number(),
  features: z.array(z.strictObject({ name: z.string(), value: z.number(), scaled: z.number() })),
  decision: explanationOfPolicySchema,
  guardrails: z.strictObject({
    rules: z.record(z.string(), z.unknown()),
    effects: z.array(z.strictObject({ rule: z.string(), status: z.enum(['passed', 'adjusted', 'skipped', 'conflict']), before: z.number(), after: z.number(), explanation: z.string() })),
    violations: z.array(z.string()),
  }),
});

export const serverEventSchemas = {
  session: sessionSchema,
  frame: frameSchema,
  explanation: explanationSchema,
  problem: problemSchema,
} as const;

export type ServerEventName = keyof typeof serverEventSchemas;
export type SessionState = z.infer<typeof sessionSchema>;
export type DayPoint = z.infer<typeof dayPointSchema>;
export type Kpis = z.infer<typeof kpisSchema>;
export type FairnessFigures = z.infer<typeof fairnessFiguresSchema>;
export type Difference = z.infer<typeof differenceSchema>;
export type Frame = z.infer<typeof frameSchema>;
export type DayExplanation = z.infer<typeof explanationSchema>;
export type ProblemEvent = z.infer<typeof problemSchema>;

/** socket.io's typed-event maps, derived from the schemas above. */
export type ClientToServerEvents = { [Name in ClientEventName]: (payload: ClientEventPayload<Name>) => void };
export type ServerToClientEvents = { [Name in Exclude<ServerEventName, 'frame'>]: (payload: z.infer<(typeof serverEventSchemas)[Name]>) => void } & {
  /** Frames are acknowledged (flow control at full speed). */
  frame: (payload: Frame, acknowledge: () => void) => void;
};
