/**
 * The endpoint's bodies, validated with zod like every other input: a bad request body is
 * answered 400 with its problems listed by path (never a 500). The response shapes are
 * zod schemas too: the OpenAPI document (serving/openapi.ts) is generated from both, and
 * the tests parse real responses with them, so the document cannot drift from the code.
 *
 * Bounds, so that no request costs more than a small multiple of its own size:
 * - a body size per route (`bodyLimits`), checked while reading it (413 past it);
 * - at most `maxFeatureKeys` feature keys per request, of at most 200 characters;
 * - an error lists at most `maxListedProblems` problems, each message at most
 *   `maxProblemMessage` characters, and says how many more there were (`problemsOmitted`).
 */
import { z } from 'zod';
import type { Problem } from '../core/errors.js';
import { guardrailRules, guardrailsSchema } from '../agents/guardrails.js';
import { referencePriceRuleNames } from '../env/reference-price-record.js';
import { aliasNames } from './registry.js';
import { couponMenuSchema } from '../env/coupons/coupon-menu.js';

/** Largest body each route reads (express/body-parser syntax). */
export const bodyLimits = {
  price: '64kb',
  prices: '2mb',
  register: '16mb',
  promote: '4mb',
  rollback: '16kb',
} as const;

/** Most feature keys one request may carry (a policy reads a few dozen). */
export const maxFeatureKeys = 256;
/** Most problems one error response lists; the rest are counted in `problemsOmitted`. */
export const maxListedProblems = 20;
/** Longest problem message in a response (longer ones are cut, with "…"). */
export const maxProblemMessage = 300;
const maxPathPart = 200;

// zod 4's z.number() refuses NaN and +-Infinity itself (no refine needed: it cost 5% of a request).
const finite = z.number();

export const priceRequestSchema = z
  .strictObject({
    features: z
      .record(z.string().max(maxPathPart), finite)
      .refine((features) => Object.keys(features).length <= maxFeatureKeys, { error: (issue) => `expected at most ${maxFeatureKeys} features, found ${Object.keys(issue.input as object).length}`, abort: true })
      .meta({ maxProperties: maxFeatureKeys })
      .describe('observation features by name, raw values (prices in currency, stock in units); GET /v1/policies/{name}/schema lists them'),
    lastPrice: finite.positive().optional().describe('our price in the last period'),
    competitorPrices: z.array(finite.positive()).max(50).optional().describe('competitor prices now (for the competitor-index guardrail)'),
    key: z.string().min(1).max(256).optional().describe('stable request key (customer, session or product) for canary assignment'),
    date: z.iso.date().optional().describe("the day priced, YYYY-MM-DD (default: today, UTC): the noRaiseBeforeFestival guardrail counts the days to the serving configuration's next festival"),
    priceHistory: z
      .array(z.strictObject({ price: finite.positive(), units: finite.nonnegative().optional().describe('units sold that day (default 1); the cn-7-day rule reads only days with sales') }))
      .max(400)
      .optional()
      .describe('our price on each day before this one, oldest first, yesterday last: the reference price is computed from it'),
  });

export const batchPriceRequestSchema = z
  .strictObject({
    requests: z.array(priceRequestSchema).min(1).max(1000),
  });

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'expected base64');

export const registerRequestSchema = z
  .strictObject({
    name: z.string().min(1).max(64).optional(),
    reason: z.string().min(1).max(2000),
    /** The artifact's files, base64: policy.json and every weights file it lists. */
    files: z
      .record(z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'expected a plain file name'), base64)
      .refine((files) => Object.hasOwn(files, 'policy.json'), 'expected policy.json among the files')
      .describe("the artifact's files, base64: policy.json and every weights file it lists"),
    lineage: z.strictObject({ trainingRun: z.string().max(200).optional(), comparison: z.string().max(200).optional() }).optional(),
  });

export const promoteRequestSchema = z
  .strictObject({
    version: z.number().int().positive(),
    to: z.enum(aliasNames),
    reason: z.string().min(1).max(2000),
    /** Comparison summaries (the JSON of `pricelab compare --json`); required for production. */
    evidence: z.array(z.unknown()).max(20).optional().describe('comparison summaries (pricelab compare --json); required for production'),
    collusionEvidence: z.unknown().optional().describe('the policy measured facing a learning rival (pricelab check-collusion --out), for gates that set "collusion"'),
    fairnessEvidence: z.unknown().optional().describe("the policy's fairness report (pricelab check-fairness --for <version> --out), for gates that set \"fairness\""),
  });

export const rollbackRequestSchema = z
  .strictObject({
    alias: z.enum(aliasNames),
    reason: z.string().min(1).max(2000),
  });

// ---- responses -------------------------------------------------------------------------

const problemSchema = z.strictObject({ path: z.array(z.union([z.string(), z.number()])), message: z.string() });

export const errorResponseSchema = z
  .strictObject({
    error: z.string().describe('what went wrong, in one line'),
    problems: z.array(problemSchema).max(maxListedProblems).describe(`the first ${maxListedProblems} problems, each naming its field by path`),
    problemsOmitted: z.number().int().nonnegative().optional().describe('how many more problems there were'),
  });

const ladderChoice = z.strictObject({
  ladderIndex: z.number().int().nullable().describe('index into the ladder (null: the hold fallback, whose price need not be a ladder price)'),
  price: z.number(),
});

const explanationCommon = {
  decidedBy: z.enum(['model', 'fallback']).describe('who chose the price before the guardrails'),
  beforeGuardrails: ladderChoice.describe("the model's (or the fallback's) choice, before the guardrails"),
  afterGuardrails: z.strictObject({ ladderIndex: z.number().int(), price: z.number() }).describe("what was served, after the guardrails: the response's ladderIndex and price"),
};

export const servedExplanationSchema = z
  .discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('action-values'), values: z.array(z.number()).describe('the value of each ladder index'), ...explanationCommon }),
    z.strictObject({
      kind: z.literal('arm-statistics'),
      arms: z.array(z.strictObject({ index: z.number().int(), pulls: z.number(), meanReward: z.number() })),
      ...explanationCommon,
    }),
    z.strictObject({ kind: z.literal('rule'), description: z.string(), ...explanationCommon }),
  ]);

export const servedCouponSchema = z
  .strictObject({
    offered: z.boolean().describe('a coupon goes with the price (false: no coupon today)'),
    campaign: z
      .strictObject({
        index: z.number().int().describe("the campaign's index in the policy's menu (from 0)"),
        name: z.string(),
        kind: z.enum(['threshold', 'percentage']),
        depth: z.number().describe('the amount off (threshold) or the percent off (percentage)'),
        terms: z.string().describe('the coupon in words, e.g. "50 off every 300"'),
        stages: z.array(z.string()).describe('the behaviour stages it is offered to (all four: everyone)'),
        validityDays: z.number().int(),
      })
      .nullable()
      .describe('the coupon chosen (null: none)'),
    action: z.number().int().nullable().describe("the coupon policy's action index (price x coupon); null when a fallback priced"),
    decidedBy: z.enum(['model', 'fallback']).describe('the coupon policy chose it, or a fallback priced without a coupon'),
    reason: z.string().describe('why this coupon: the policy\'s explanation in words (its value against the other coupons at the price), and what the guardrails changed'),
  })
  .describe("a coupon policy's coupon for this request (docs/responsible-pricing.md, Coupons)");

export const priceResponseSchema = z
  .strictObject({
    price: z.number().describe('the served price, after the guardrails'),
    ladderIndex: z.number().int().describe('index of the served price in the ladder, after the guardrails'),
    policy: z.strictObject({ name: z.string(), version: z.number().int(), servedBy: z.enum(['production', 'canary', 'fallback']) }),
    guardrails: z.array(
      z.strictObject({
        rule: z.enum(guardrailRules),
        status: z.enum(['passed', 'adjusted', 'skipped', 'conflict']),
        before: z.number(),
        after: z.number(),
        explanation: z.string(),
      }),
    ),
    violations: z.array(z.enum(guardrailRules)).describe('rules the served price breaks (empty whenever some ladder price meets them all)'),
    explanation: servedExplanationSchema,
    fallback: z.strictObject({ reason: z.string(), policy: z.string() }).nullable(),
    decisionId: z.string(),
    coupon: servedCouponSchema.optional().describe('present when the policy is a coupon policy (its actions are a price and a coupon)'),
    referencePrice: z
      .strictObject({
        rule: z.enum(referencePriceRuleNames),
        price: z.number().nullable().describe('the compliant reference ("was") price; null when priceHistory holds none'),
        basis: z.enum(['lowest-price', 'lowest-transaction-price', 'last-transaction-price', 'none']),
        daysRead: z.number().int().describe('days of priceHistory the rule read, back from yesterday'),
        promotional: z.boolean().describe('the served price is below the last price: a reduction a shop may announce'),
        discount: z.number().nullable().describe('1 - price / reference: the discount that may be claimed (0 or less: none)'),
        source: z.string().describe('the rule and where it comes from'),
      })
      .optional()
      .describe("present when the policy's serving configuration names a referencePrice rule (docs/responsible-pricing.md)"),
  });

export const batchPriceResponseSchema = z.strictObject({ responses: z.array(priceResponseSchema) });

export const policySchemaResponseSchema = z
  .strictObject({
    name: z.string(),
    version: z.number().int().describe('the production version being served'),
    agentKind: z.string(),
    scenario: z.strictObject({ id: z.string(), contentHash: z.string() }),
    features: z.array(
      z.strictObject({
        name: z.string(),
        type: z.literal('number'),
        scale: z.number().describe('the policy divides the raw value by this'),
        low: z.number().nullable().describe("lowest raw value of the policy's observation space (its bound times scale; null: unbounded)"),
        high: z.number().nullable().describe('highest raw value (null: unbounded)'),
      }),
    ),
    ladder: z.array(z.number()).describe('the prices the policy chooses among, by ladder index'),
    coupons: couponMenuSchema.optional().describe("a coupon policy's campaign menu: each response names the coupon chosen with the price"),
    guardrails: guardrailsSchema.describe('the guardrails applied to every served price'),
    fallback: z.string(),
    timeBudgetMs: z.number(),
    request: z.record(z.string(), z.unknown()).describe("JSON Schema of this policy's price request"),
  });

const loadErrorSchema = z.strictObject({
  alias: z.string().describe('production, a canary or shadow alias, or fallback'),
  version: z.number().int().nullable(),
  kind: z.string(),
  message: z.string(),
  at: z.string(),
});

export const policyStatusSchema = z
  .strictObject({
    name: z.string(),
    state: z.enum(['serving', 'stale', 'failed']).describe("serving: the production alias's version; stale: an earlier version, because the production alias's could not be loaded; failed: nothing"),
    production: z.number().int().describe('the version the production alias points at'),
    serving: z.number().int().nullable().describe('the version being served'),
    errors: z.array(loadErrorSchema).describe('what could not be loaded at the last refresh (production, canary, shadow, fallback)'),
  });

export const readinessSchema = z
  .strictObject({
    ready: z.boolean().describe('true when every production alias is served at its version'),
    refreshError: z.string().nullable().describe('the registry could not be read at the last refresh'),
    policies: z.array(policyStatusSchema),
  });

export function problemsOf(error: z.ZodError, prefix: readonly (string | number)[] = ['body']): Problem[] {
  return error.issues.map((issue) => ({ path: [...prefix, ...issue.path.map((part) => (typeof part === 'symbol' ? String(part) : part))], message: issue.message }));
}

const cut = (text: string, length: number): string => (text.length <= length ? text : `${text.slice(0, length - 1)}…`);

/**
 * At most `maxListedProblems` problems (messages and path parts cut to a bounded length),
 * and how many were left out: what an error response carries.
 */
export function boundedProblems(problems: readonly Problem[], omittedBefore = 0): { problems: Problem[]; problemsOmitted?: number } {
  const listed = problems.slice(0, maxListedProblems).map((problem) => ({
    path: problem.path.slice(0, 12).map((part) => (typeof part === 'string' ? cut(part, maxPathPart) : part)),
    message: cut(problem.message, maxProblemMessage),
  }));
  const omitted = omittedBefore + Math.max(0, problems.length - listed.length);
  return omitted > 0 ? { problems: listed, problemsOmitted: omitted } : { problems: listed };
}
