/**
 * Guardrails: the rules a price must obey, at serving time and inside evaluation alike,
 * applied in a fixed, explained order
 * (../shared/design.md, "Responsible pricing"):
 *
 *   1. min/max price            the business's outer bounds
 *   1a. no raise before a festival  p <= last within noRaiseBeforeFestival.days days before a
 *                               marked festival (1..days days to its first day): a price
 *                               raised there and "discounted" at the festival misleads
 *                               (docs/responsible-pricing.md); listed only when set
 *   2. max change per period    |p - last| <= maxChange * last
 *   3. competitor-index band    low <= p / mean(competitor prices) <= high
 *   4. margin floor             (p - unit cost) / p >= marginFloor
 *   5. price ladder and charm   an allowed price (ladder, charm ending): the rules narrow the
 *                               allowed prices in order 1-4, each rule only if some price
 *                               left meets it; the nearest survivor to the price rules 1-4
 *                               left wins; ties go to the lower price
 *
 * Each rule narrows a feasible interval and clamps the price into it. Earlier rules take
 * precedence: a rule whose interval does not meet what the earlier rules left is reported
 * as a conflict and left out (its interval would empty the set), so the served price is
 * always explained. A rule that lacks its context (no last price on the first day, no
 * competitor prices) is reported as skipped. The result lists every rule with its effect,
 * and `violations` names every rule the final price breaks: empty whenever some allowed
 * price meets all rules, and otherwise a rule is broken only because no allowed price
 * meets it together with the rules of higher precedence the served price keeps (the
 * served price's record of rules met is the lexicographic best among allowed prices;
 * property tests hold both).
 *
 * Min/max is never broken. Bounds that hold no allowed price at all (say min 13.2, max 13.5
 * on a ladder of x.99 prices) are a configuration error, not something to serve around:
 * `guardrailLadderProblems` names them when guardrails are bound to a ladder, and
 * applyGuardrails refuses them with the same problem (a config error, exit 2) rather than
 * serve a price outside the bounds or off the ladder.
 */
import { z } from 'zod';
import { charm } from '../env/ladder.js';
import { configError, protocolError, type Problem } from '../core/errors.js';

export const guardrailsSchema = z
  .strictObject({
    minPrice: z.number().positive().optional(),
    maxPrice: z.number().positive().optional(),
    /** Largest relative change from the last price in one period (0.1: at most 10% up or down). */
    maxChange: z.number().gt(0).optional(),
    /** Band for our price divided by the mean competitor price. */
    competitorIndex: z.strictObject({ low: z.number().positive(), high: z.number().positive() }).optional(),
    /** Smallest margin (price - unit cost) / price; 0 forbids selling below cost. */
    marginFloor: z.number().lt(1).optional(),
    /** Charm ending applied to ladder prices (0.99: 20.00 becomes 19.99). */
    charmEnding: z.number().gte(0).lt(1).optional(),
    /** No price above the last one within `days` days before a marked festival (the context's daysToFestival). */
    noRaiseBeforeFestival: z
      .strictObject({ days: z.number().int().min(1).max(365).describe('days before the festival\'s first day in which the price may not rise') })
      .optional()
      .describe('forbid raising the price shortly before a festival (raise-then-discount)'),
  })
  .superRefine((rules, context) => {
    if (rules.minPrice !== undefined && rules.maxPrice !== undefined && rules.minPrice > rules.maxPrice) {
      context.addIssue({ code: 'custom', path: ['maxPrice'], message: `expected maxPrice >= minPrice (${rules.minPrice}), found ${rules.maxPrice}` });
    }
    if (rules.competitorIndex && rules.competitorIndex.low > rules.competitorIndex.high) {
      context.addIssue({ code: 'custom', path: ['competitorIndex', 'high'], message: `expected high >= low (${rules.competitorIndex.low}), found ${rules.competitorIndex.high}` });
    }
  });

export type Guardrails = z.infer<typeof guardrailsSchema>;

export const guardrailRules = ['min-max', 'no-raise-before-festival', 'max-change', 'competitor-index', 'margin-floor', 'ladder'] as const;
export type GuardrailRule = (typeof guardrailRules)[number];

export interface PricingContext {
  /** Our price in the last period, if there was one. */
  readonly lastPrice?: number | undefined;
  readonly competitorPrices?: readonly number[] | undefined;
  readonly unitCost: number;
  /** Days until the next marked festival's first day (0 on it), when one is known. */
  readonly daysToFestival?: number | undefined;
}

export interface GuardrailEffect {
  readonly rule: GuardrailRule;
  /** passed: the price already complied; adjusted: the rule moved it; skipped: no such rule or no context; conflict: the rule could not be met within earlier rules. */
  readonly status: 'passed' | 'adjusted' | 'skipped' | 'conflict';
  readonly before: number;
  readonly after: number;
  readonly explanation: string;
}

export interface GuardedPrice {
  readonly price: number;
  /** Index into the ladder of the served price. */
  readonly ladderIndex: number;
  readonly proposed: number;
  readonly effects: readonly GuardrailEffect[];
  /** Rules the served price breaks (empty when every rule could be met). */
  readonly violations: readonly GuardrailRule[];
}

interface Interval {
  readonly low: number;
  readonly high: number;
}

const tolerance = 1e-9;

/** The interval each rule allows, or a reason it does not apply. */
function ruleInterval(rule: Exclude<GuardrailRule, 'ladder'>, rules: Guardrails, context: PricingContext): Interval | string {
  switch (rule) {
    case 'min-max':
      if (rules.minPrice === undefined && rules.maxPrice === undefined) return 'no min or max price set';
      return { low: rules.minPrice ?? 0, high: rules.maxPrice ?? Number.POSITIVE_INFINITY };
    case 'no-raise-before-festival': {
      const rule = rules.noRaiseBeforeFestival;
      if (rule === undefined) return 'no festival rule set';
      const days = context.daysToFestival;
      if (days === undefined || !Number.isFinite(days)) return 'no festival date in the context';
      if (days < 1 || days > rule.days) return `no marked festival in the next ${rule.days} days`;
      if (context.lastPrice === undefined || !(context.lastPrice > 0)) return 'no last price in the context';
      return { low: 0, high: context.lastPrice };
    }
    case 'max-change':
      if (rules.maxChange === undefined) return 'no max change set';
      if (context.lastPrice === undefined || !(context.lastPrice > 0)) return 'no last price in the context';
      return { low: context.lastPrice * (1 - rules.maxChange), high: context.lastPrice * (1 + rules.maxChange) };
    case 'competitor-index': {
      if (!rules.competitorIndex) return 'no competitor-index band set';
      const prices = (context.competitorPrices ?? []).filter((price) => Number.isFinite(price) && price > 0);
      if (prices.length === 0) return 'no competitor prices in the context';
      const mean = prices.reduce((total, price) => total + price, 0) / prices.length;
      return { low: rules.competitorIndex.low * mean, high: rules.competitorIndex.high * mean };
    }
    case 'margin-floor':
      if (rules.marginFloor === undefined) return 'no margin floor set';
      // (p - c) / p >= f  <=>  p >= c / (1 - f) for p > 0 and f < 1.
      return { low: context.unitCost / (1 - rules.marginFloor), high: Number.POSITIVE_INFINITY };
  }
}

const describe = (interval: Interval): string => `[${interval.low.toFixed(2)}, ${Number.isFinite(interval.high) ? interval.high.toFixed(2) : 'inf'}]`;
/** A bound as written, to 4 decimals (12.995 must not print as 13.00). */
const exact = (value: number): string => String(Number(value.toFixed(4)));
const clamp = (value: number, interval: Interval): number => Math.min(interval.high, Math.max(interval.low, value));
const inside = (value: number, interval: Interval): boolean => value >= interval.low - tolerance && value <= interval.high + tolerance;

/** The prices a policy may serve: the ladder, with the charm ending applied when one is set. */
export function allowedPrices(ladder: ArrayLike<number>, rules: Guardrails): number[] {
  const prices: number[] = [];
  for (let index = 0; index < ladder.length; index++) {
    const price = ladder[index] ?? 0;
    prices.push(rules.charmEnding === undefined ? price : charm(price, rules.charmEnding));
  }
  return prices;
}

/** Applies every rule in order to a proposed price and says what each one did. */
export function applyGuardrails(proposed: number, ladder: ArrayLike<number>, rules: Guardrails, context: PricingContext): GuardedPrice {
  // A model that returns NaN is the caller's to catch (serving falls back to its fallback policy).
  if (!Number.isFinite(proposed)) throw protocolError(`expected a finite proposed price, found ${proposed}`);
  if (ladder.length === 0) throw protocolError('expected a price ladder with at least one price, found none');
  const effects: GuardrailEffect[] = [];
  const intervals: { rule: GuardrailRule; interval: Interval }[] = [];
  let feasible: Interval = { low: 0, high: Number.POSITIVE_INFINITY };
  let price = proposed;
  // The festival rule is listed only when set, so that responses without it keep their shape.
  const order = rules.noRaiseBeforeFestival === undefined ? (['min-max', 'max-change', 'competitor-index', 'margin-floor'] as const) : guardrailRules.filter((rule) => rule !== 'ladder');
  for (const rule of order) {
    const interval = ruleInterval(rule, rules, context);
    if (typeof interval === 'string') {
      effects.push({ rule, status: 'skipped', before: price, after: price, explanation: interval });
      continue;
    }
    intervals.push({ rule, interval });
    const narrowed = { low: Math.max(feasible.low, interval.low), high: Math.min(feasible.high, interval.high) };
    if (narrowed.low > narrowed.high + tolerance) {
      effects.push({ rule, status: 'conflict', before: price, after: price, explanation: `allows ${describe(interval)}, which does not meet ${describe(feasible)} left by the earlier rules; left out` });
      continue;
    }
    feasible = narrowed;
    const after = clamp(price, feasible);
    const moved = Math.abs(after - price) > tolerance;
    effects.push({ rule, status: moved ? 'adjusted' : 'passed', before: price, after, explanation: moved ? `moved into ${describe(feasible)}` : `within ${describe(interval)}` });
    price = after;
  }

  const prices = allowedPrices(ladder, rules);
  const bounds = intervals.find(({ rule }) => rule === 'min-max')?.interval;
  if (bounds && !prices.some((candidate) => inside(candidate, bounds))) {
    throw configError('the guardrails do not fit the price ladder', guardrailLadderProblems(rules, ladder));
  }
  // Snapping is lexicographic in the rules' precedence: each rule in order narrows the
  // allowed prices to those that meet it, unless none does; then it is given up, and only
  // then. So a rule is never broken to keep a later one, and min/max (checked above to
  // hold for some allowed price) always holds.
  let candidates = prices.map((_, index) => index);
  const givenUp: GuardrailRule[] = [];
  for (const { rule, interval } of intervals) {
    const meeting = candidates.filter((index) => inside(prices[index] ?? 0, interval));
    if (meeting.length > 0) candidates = meeting;
    else givenUp.push(rule);
  }
  let ladderIndex = candidates[0] ?? 0;
  for (const index of candidates) {
    const distance = Math.abs((prices[index] ?? 0) - price);
    const best = Math.abs((prices[ladderIndex] ?? 0) - price);
    if (distance < best - tolerance || (Math.abs(distance - best) <= tolerance && (prices[index] ?? 0) < (prices[ladderIndex] ?? 0))) ladderIndex = index;
  }
  const served = prices[ladderIndex] ?? price;
  const inFeasible = inside(served, feasible);
  effects.push({
    rule: 'ladder',
    status: !inFeasible ? 'conflict' : Math.abs(served - price) > tolerance ? 'adjusted' : 'passed',
    before: price,
    after: served,
    explanation: !inFeasible
      ? `no allowed price lies in ${describe(feasible)}; served ${served.toFixed(2)}, the nearest allowed price that gives up only ${givenUp.join(', ')} (each for a rule of higher precedence)`
      : `nearest allowed price${rules.charmEnding === undefined ? '' : ` (charm ending .${Math.round(rules.charmEnding * 100)})`} in ${describe(feasible)}`,
  });
  const violations: GuardrailRule[] = intervals.filter(({ interval }) => !inside(served, interval)).map(({ rule }) => rule);
  return { price: served, ladderIndex, proposed, effects, violations };
}

/** Throws the config error (exit 2) of guardrailLadderProblems, if any: for callers that bind guardrails to a ladder. */
export function assertGuardrailsFitLadder(rules: Guardrails, ladder: ArrayLike<number>, path: readonly (string | number)[] = []): void {
  const problems = guardrailLadderProblems(rules, ladder, path);
  if (problems.length > 0) throw configError('the guardrails do not fit the price ladder', problems);
}

/**
 * Checks guardrails against the prices a policy may serve (its ladder, with the charm
 * ending): min/max must leave at least one of them, or no price could be served inside
 * the bounds. Serving and evaluation call it when they bind guardrails to a ladder;
 * applyGuardrails refuses such rules with the same problems (a config error, exit 2).
 */
export function guardrailLadderProblems(rules: Guardrails, ladder: ArrayLike<number>, path: readonly (string | number)[] = []): Problem[] {
  if (rules.minPrice === undefined && rules.maxPrice === undefined) return [];
  const bounds = { low: rules.minPrice ?? 0, high: rules.maxPrice ?? Number.POSITIVE_INFINITY };
  const prices = allowedPrices(ladder, rules);
  if (prices.some((candidate) => inside(candidate, bounds))) return [];
  const below = prices.filter((candidate) => candidate < bounds.low).at(-1);
  const above = prices.find((candidate) => candidate > bounds.high);
  const neighbours = [below, above].filter((candidate) => candidate !== undefined).map((candidate) => candidate.toFixed(2));
  return [
    {
      path: [...path, rules.minPrice !== undefined ? 'minPrice' : 'maxPrice'],
      message: `expected at least one allowed price (the ladder${rules.charmEnding === undefined ? '' : ' with its charm ending'}) within min/max [${exact(bounds.low)}, ${Number.isFinite(bounds.high) ? exact(bounds.high) : 'inf'}], found none (nearest: ${neighbours.join(' and ') || 'none'}); widen min/max to include a ladder price`,
    },
  ];
}
