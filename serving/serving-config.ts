/**
 * How the endpoint serves each registered policy: a JSON file (`pricelab serve --config`),
 * validated like every input, every problem listed by path.
 *
 *   {
 *     "requireTokenForReads": false,
 *     "policies": {
 *       "everyday": {
 *         "guardrails": {"minPrice": 12.99, "maxPrice": 24.99, "maxChange": 0.1, "marginFloor": 0.1},
 *         "fallback": "fixed:17.99",          served when the model fails (NaN, error, over budget):
 *                                             "hold", a rule spec, or "registry:name@version|alias"
 *         "timeBudgetMs": 50,                 a decision slower than this is replaced by the fallback's
 *         "canary": {"alias": "candidate", "share": 0.05},   5% of request keys get the candidate
 *         "shadow": {"alias": "candidate"}    computed and logged beside production, never served
 *         "festivals": [{"name": "11.11", "start": "2026-11-11"}],   for guardrails.noRaiseBeforeFestival
 *         "referencePrice": {"rule": "eu-30-day"}   the compliant "was" price with every price
 *       }
 *     }
 *   }
 *
 * A policy not listed is served with its artifact's own guardrails (min/max price), the
 * fallback `hold` (yesterday's price, snapped to the ladder), and a 50 ms budget.
 */
import { z } from 'zod';
import { PricelabError } from '../core/errors.js';
import { readJsonFile } from '../core/json-file.js';
import { guardrailsSchema } from '../agents/guardrails.js';
import { referencePriceRuleNames } from '../env/reference-price-record.js';
import { aliasNames } from './registry.js';

const aliasReference = z.strictObject({ alias: z.enum(aliasNames) });

export const policyServingSchema = z.strictObject({
  guardrails: guardrailsSchema.optional(),
  fallback: z.string().min(1).default('hold').describe('"hold" (last price), a registered version ("registry:safe@production") or a rule spec such as "fixed:17.99"'),
  timeBudgetMs: z.number().positive().max(60_000).default(50),
  canary: aliasReference.extend({ share: z.number().min(0).max(1) }).optional(),
  shadow: aliasReference.optional(),
  festivals: z
    .array(z.strictObject({ name: z.string().min(1).max(100), start: z.iso.date().describe('first day, YYYY-MM-DD') }))
    .max(1000)
    .optional()
    .describe("marked festivals: the noRaiseBeforeFestival guardrail counts the days from the request's date to the next one"),
  referencePrice: z
    .strictObject({ rule: z.enum(referencePriceRuleNames).describe('eu-30-day: lowest price of the prior 30 days; cn-7-day: lowest transaction price of the prior 7 days') })
    .optional()
    .describe('serve the compliant reference ("was") price with every price, from the request\'s priceHistory (docs/responsible-pricing.md)'),
});

export const servingConfigSchema = z.strictObject({
  requireTokenForReads: z.boolean().default(false),
  /** How often the endpoint looks for promotions and rollbacks in the registry. */
  refreshMs: z.number().int().min(10).max(600_000).default(500),
  policies: z.record(z.string(), policyServingSchema).default({}),
});

export type PolicyServing = z.output<typeof policyServingSchema>;
export type ServingConfig = z.output<typeof servingConfigSchema>;

export const defaultPolicyServing: PolicyServing = policyServingSchema.parse({});

/**
 * How `name` is served: its own entry, or the defaults. The name is user-chosen, so it is
 * looked up as an own property only: a policy named `constructor` or `__proto__` must not
 * read Object.prototype.
 */
export function servingFor(config: ServingConfig, name: string): PolicyServing {
  return Object.hasOwn(config.policies, name) ? (config.policies[name] ?? defaultPolicyServing) : defaultPolicyServing;
}

export function parseServingConfig(json: unknown, origin = 'serving config'): ServingConfig {
  const parsed = servingConfigSchema.safeParse(json);
  if (!parsed.success) {
    throw new PricelabError('config', `${origin} is not valid`, parsed.error.issues.map((issue) => ({ path: issue.path.map((part) => (typeof part === 'symbol' ? String(part) : part)), message: issue.message })));
  }
  return parsed.data;
}

export function loadServingConfig(path: string | undefined): ServingConfig {
  if (path === undefined) return servingConfigSchema.parse({});
  return parseServingConfig(readJsonFile(path, 'serving config'), path);
}
