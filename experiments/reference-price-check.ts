/**
 * The reference-price check of a policy on a scenario, or of a price path a shop gives
 * (`pricelab check-prices`): one greedy episode is simulated and every day's posted price
 * and units sold go through env/reference-price-record.ts, with the scenario's festival
 * pre-sale and event days as the promotion windows. The rule is the one asked for, else the
 * scenario's `referencePriceRule`, else eu-30-day.
 */
import { z } from 'zod';
import { parsePolicySpec } from '../agents/policy-spec.js';
import { configError } from '../core/errors.js';
import { makeEnv } from '../env/env.js';
import { buildMarketModel } from '../env/model.js';
import { checkReferencePrices, promotionWindows, ReferencePriceRecorder, referencePriceRuleNames, type ReferencePriceReport, type ReferencePriceRuleName } from '../env/reference-price-record.js';
import type { Scenario } from '../scenarios/schema.js';
import { evaluate } from './evaluate.js';
import { agentFor } from './setup.js';

export interface PolicyReferencePriceCheck {
  readonly scenario: string;
  readonly policy: string;
  readonly seed: number;
  readonly report: ReferencePriceReport;
}

/** Simulates one greedy episode of a rule policy and records its prices against the rule. */
export async function checkPolicyReferencePrices(
  scenario: Scenario,
  options: { readonly policy: string; readonly seed: number; readonly rule?: ReferencePriceRuleName | undefined; readonly raiseWindowDays?: number | undefined },
): Promise<PolicyReferencePriceCheck> {
  const model = buildMarketModel(scenario);
  const env = makeEnv(model);
  const { kind, config } = parsePolicySpec(options.policy, { listPrice: model.listPrice, ladder: model.ladder });
  const agent = await agentFor(env, kind, config, options.seed);
  try {
    const recorder = new ReferencePriceRecorder({
      rule: options.rule ?? scenario.referencePriceRule ?? 'eu-30-day',
      windows: promotionWindows(model.festivals),
      ...(options.raiseWindowDays === undefined ? {} : { raiseWindowDays: options.raiseWindowDays }),
    });
    evaluate(env, agent, {
      episodes: 1,
      seed: options.seed,
      recordSteps: true,
      onEpisode: (episode) => {
        for (const step of episode.steps) recorder.record(step.price, step.market.sold);
      },
    });
    return { scenario: scenario.id, policy: options.policy, seed: options.seed, report: recorder.report() };
  } finally {
    agent.dispose();
  }
}

/** A price path file: prices (and optionally units) per day, and the windows in which a promotion may be shown. */
export const pricePathSchema = z.strictObject({
  rule: z.enum(referencePriceRuleNames).optional().describe('eu-30-day or cn-7-day (the command line may override it)'),
  prices: z.array(z.number().positive()).min(1).describe('posted price of each day, day 0 first'),
  units: z.array(z.number().nonnegative()).optional().describe('units sold each day (default 1: every day a transaction); the 7-day rule reads only days with sales'),
  promotions: z
    .array(z.strictObject({ name: z.string().min(1), start: z.number().int().nonnegative(), end: z.number().int().positive() }))
    .describe('days [start, end) in which a promotion may be shown (festival pre-sale and event days)'),
});
export type PricePath = z.output<typeof pricePathSchema>;

/** Checks a price path file's JSON; a bad file is a config error listing every problem. */
export function checkPricePath(json: unknown, options: { readonly rule?: ReferencePriceRuleName | undefined; readonly raiseWindowDays?: number | undefined } = {}): ReferencePriceReport {
  const parsed = pricePathSchema.safeParse(json);
  if (!parsed.success) throw configError('the price path is not valid', parsed.error.issues.map((issue) => ({ path: issue.path.map((part) => (typeof part === 'symbol' ? String(part) : part)), message: issue.message })));
  const path = parsed.data;
  return checkReferencePrices(
    { prices: path.prices, ...(path.units === undefined ? {} : { units: path.units }) },
    { rule: options.rule ?? path.rule ?? 'eu-30-day', windows: path.promotions, ...(options.raiseWindowDays === undefined ? {} : { raiseWindowDays: options.raiseWindowDays }) },
  );
}
