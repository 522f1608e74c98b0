/**
 * Honest prices at serving time (docs/responsible-pricing.md): the days from a request's
 * date to the next festival the serving configuration marks (for the
 * noRaiseBeforeFestival guardrail), and, when the configuration names a reference-price
 * rule, the compliant reference ("was") price that goes with the served price, computed
 * by the simulator's own rule (env/reference-price-record.ts) from the request's
 * priceHistory (our price, and units sold, on each day before this one, yesterday last).
 */
import { compliantReferencePrice, referencePriceRules, type ReferenceBasis, type ReferencePriceRuleName } from '../env/reference-price-record.js';
import type { PolicyServing } from './serving-config.js';

const dayMs = 86_400_000;

/** Days from `date` (YYYY-MM-DD, default today in UTC) to the first day of the next marked festival (0 on it), or undefined. */
export function daysToMarkedFestival(serving: PolicyServing, date: string | undefined, now: Date = new Date()): number | undefined {
  const festivals = serving.festivals;
  if (festivals === undefined || festivals.length === 0) return undefined;
  const today = Date.parse(`${date ?? now.toISOString().slice(0, 10)}T00:00:00Z`);
  let nearest: number | undefined;
  for (const festival of festivals) {
    const days = Math.round((Date.parse(`${festival.start}T00:00:00Z`) - today) / dayMs);
    if (days >= 0 && (nearest === undefined || days < nearest)) nearest = days;
  }
  return nearest;
}

export interface ServedReferencePrice {
  readonly rule: ReferencePriceRuleName;
  /** The compliant reference price, or null when the history holds none (no day, or no sale for cn-7-day). */
  readonly price: number | null;
  readonly basis: ReferenceBasis;
  /** Days of the history the rule read (counted back from yesterday). */
  readonly daysRead: number;
  /** The served price is below the last price: a reduction a shop may announce. */
  readonly promotional: boolean;
  /** 1 - served price / reference: the discount that may be claimed (0 or less: none). */
  readonly discount: number | null;
  readonly source: string;
}

/** The reference to serve with `price`, when the policy's serving configuration names a rule. */
export function servedReferencePrice(
  serving: PolicyServing,
  price: number,
  history: readonly { readonly price: number; readonly units?: number | undefined }[] | undefined,
  lastPrice: number | undefined,
): ServedReferencePrice | undefined {
  const ruleName = serving.referencePrice?.rule;
  if (ruleName === undefined) return undefined;
  const rule = referencePriceRules[ruleName];
  const days = history ?? [];
  const reference = compliantReferencePrice(
    days.map((day) => day.price),
    days.map((day) => day.units ?? 1),
    days.length,
    rule,
  );
  const last = lastPrice ?? days.at(-1)?.price;
  return {
    rule: ruleName,
    price: reference.price,
    basis: reference.basis,
    daysRead: days.length - reference.from,
    promotional: last !== undefined && price < last - 1e-9,
    discount: reference.price === null ? null : 1 - price / reference.price,
    source: rule.source,
  };
}
