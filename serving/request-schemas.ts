/**
 * The endpoint's request bodies, validated with zod like every other input: a bad body is
 * answered 400 with every problem listed by path (never a 500).
 */
import { z } from 'zod';
import type { Problem } from '../env/errors.js';
import { aliasNames } from './registry.js';

// zod 4's z.number() refuses NaN and +-Infinity itself (no refine needed: it cost 5% of a request).
const finite = z.number();

export const priceRequestSchema = z.strictObject({
  features: z.record(z.string().max(200), finite).describe('observation features by name, raw values (prices in currency, stock in units)'),
  lastPrice: finite.positive().optional().describe('our price in the last period'),
  competitorPrices: z.array(finite.positive()).max(50).optional(),
  key: z.string().min(1).max(256).optional().describe('stable request key (customer, session or product) for canary assignment'),
});

export const batchPriceRequestSchema = z.strictObject({
  requests: z.array(priceRequestSchema).min(1).max(1000),
});

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'expected base64');

export const registerRequestSchema = z.strictObject({
  name: z.string().min(1).max(64).optional(),
  reason: z.string().min(1).max(2000),
  /** The artifact's files, base64: policy.json and every weights file it lists. */
  files: z.record(z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'expected a plain file name'), base64).refine((files) => 'policy.json' in files, 'expected policy.json among the files'),
  lineage: z.strictObject({ trainingRun: z.string().max(200).optional(), comparison: z.string().max(200).optional() }).optional(),
});

export const promoteRequestSchema = z.strictObject({
  version: z.number().int().positive(),
  to: z.enum(aliasNames),
  reason: z.string().min(1).max(2000),
  /** Comparison summaries (the JSON of `pricelab compare --json`); required for production. */
  evidence: z.array(z.unknown()).max(20).optional(),
});

export const rollbackRequestSchema = z.strictObject({
  alias: z.enum(aliasNames),
  reason: z.string().min(1).max(2000),
});

export function problemsOf(error: z.ZodError, prefix: readonly (string | number)[] = ['body']): Problem[] {
  return error.issues.map((issue) => ({ path: [...prefix, ...issue.path.map((part) => (typeof part === 'symbol' ? String(part) : part))], message: issue.message }));
}
