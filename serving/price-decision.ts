/**
 * One price decision, in one synchronous pass over a policy slot (serving/policy-slot.ts):
 *
 *   features -> observation (checkRequest) -> model's greedy ladder index (production, or
 *   the canary for a stable share of request keys) -> fallback if the model failed (error,
 *   NaN, over its time budget) -> guardrails in their fixed order -> response + decision
 *   log line (serving/decision-log.ts)
 *
 * A decision never awaits: that is what lets the pricing service swap a slot in one
 * assignment without failing a request.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { WriteStream } from 'node:fs';
import type { z } from 'zod';
import { PricelabError, type Problem } from '../core/errors.js';
import { applyGuardrails, type GuardedPrice, type PricingContext } from '../agents/guardrails.js';
import { daysToMarkedFestival, servedReferencePrice, type ServedReferencePrice } from './reference-price.js';
import type { Explanation } from '../agents/agent.js';
import type { ServedPolicy } from './served-policy.js';
import type { ServingMetrics } from './metrics.js';
import type { Slot } from './policy-slot.js';
import { writeDecisionLog } from './decision-log.js';
import { fallbackCoupon, modelCoupon, type ServedCoupon } from './coupon-reason.js';
import { boundedProblems, type servedExplanationSchema } from './request-schemas.js';

export interface PriceRequest {
  readonly features: Readonly<Record<string, number>>;
  readonly lastPrice?: number | undefined;
  readonly competitorPrices?: readonly number[] | undefined;
  /** A stable key (customer, session or product id) for canary assignment. */
  readonly key?: string | undefined;
  /** The day priced (YYYY-MM-DD), for the festival guardrail. */
  readonly date?: string | undefined;
  /** Our price (and units sold) on each day before this one, yesterday last, for the reference price. */
  readonly priceHistory?: readonly { readonly price: number; readonly units?: number | undefined }[] | undefined;
}

/** Why this price: the chooser's reasons, its choice before the guardrails, and what was served after them. */
export type ServedExplanation = z.output<typeof servedExplanationSchema>;

export interface PriceResponse {
  readonly price: number;
  readonly ladderIndex: number;
  readonly policy: { readonly name: string; readonly version: number; readonly servedBy: 'production' | 'canary' | 'fallback' };
  readonly guardrails: GuardedPrice['effects'];
  readonly violations: GuardedPrice['violations'];
  readonly explanation: ServedExplanation;
  readonly fallback: { readonly reason: string; readonly policy: string } | null;
  readonly decisionId: string;
  /** A coupon policy's coupon and why (serving/coupon-reason.ts). */
  readonly coupon?: ServedCoupon;
  readonly referencePrice?: ServedReferencePrice;
}

/** What the guardrails read of a request (the decision log's propensities read the same). */
export function guardrailContext(slot: Slot, request: PriceRequest): PricingContext {
  return { lastPrice: request.lastPrice, competitorPrices: request.competitorPrices, unitCost: slot.production.policy.unitCost, daysToFestival: daysToMarkedFestival(slot.serving, request.date) };
}

/** A request checked against its policy: the slot that will decide it and its observation. */
export interface CheckedRequest {
  readonly slot: Slot;
  readonly request: PriceRequest;
  readonly observation: Float32Array;
}

/** Stable share in [0, 1) of a request key: the same key always gets the same arm. */
export function keyShare(key: string): number {
  return createHash('sha256').update(key).digest().readUInt32BE(0) / 2 ** 32;
}

/** The observation of a request, or its problems: unknown keys (each named once), missing or non-finite features. */
export function checkRequest(slot: Slot, request: PriceRequest, path: readonly (string | number)[]): CheckedRequest | Problem[] {
  const features = request.features;
  let unknown: Problem[] | undefined;
  for (const key of Object.keys(features)) {
    if (!slot.knownFeatures.has(key)) (unknown ??= []).push({ path: [...path, 'features', key], message: `expected one of this policy's features (GET /v1/policies/${slot.name}/schema lists them), found an unknown one` });
  }
  const known = unknown === undefined ? features : Object.fromEntries(Object.entries(features).filter(([key]) => slot.knownFeatures.has(key)));
  const observation = slot.production.policy.observationOf(known, [...path, 'features']);
  if (observation instanceof Float32Array && unknown === undefined) return { slot, request, observation };
  return [...(unknown ?? []), ...(observation instanceof Float32Array ? [] : observation)];
}

/** A batch refused before any of it was decided: its first problems, and how many more there were. */
export class BatchRefused extends PricelabError {
  constructor(
    message: string,
    problems: readonly Problem[],
    readonly problemsOmitted: number,
  ) {
    super('config', message, boundedProblems(problems).problems);
  }
}

/** Decides a checked request, counts it in `metrics` and writes its line to the decision log, if any. */
export function decidePrice({ slot, request, observation }: CheckedRequest, metrics: ServingMetrics | undefined, log: WriteStream | undefined): PriceResponse {
  const started = performance.now();
  const useCanary = slot.canary !== undefined && request.key !== undefined && keyShare(request.key) < slot.canary.share;
  const chosen = useCanary && slot.canary ? slot.canary : slot.production;
  let decision: ReturnType<ServedPolicy['decide']> | undefined;
  let fallbackReason: string | undefined;
  try {
    decision = chosen.policy.decide(observation);
    const elapsed = performance.now() - started;
    if (!Number.isFinite(decision.price)) fallbackReason = `the model returned a non-finite price (${decision.price})`;
    else if (elapsed > slot.serving.timeBudgetMs) fallbackReason = `the model ran past its time budget (${elapsed.toFixed(1)} ms > ${slot.serving.timeBudgetMs} ms)`;
  } catch (error) {
    fallbackReason = `the model failed: ${(error as Error).message}`;
  }
  const ladder = slot.production.policy.ladder;
  let before: { ladderIndex: number | null; price: number };
  let reasons: Explanation;
  let fallbackName: string | undefined;
  if (fallbackReason === undefined && decision) {
    before = { ladderIndex: decision.ladderIndex, price: decision.price };
    reasons = safeExplain(chosen.policy, observation, decision.ladderIndex);
  } else if (slot.fallback === 'hold') {
    fallbackName = 'hold';
    const held = request.lastPrice !== undefined && Number.isFinite(request.lastPrice) && request.lastPrice > 0;
    const middle = Math.floor(ladder.length / 2);
    before = held ? { ladderIndex: null, price: request.lastPrice ?? 1 } : { ladderIndex: middle, price: ladder[middle] ?? 1 };
    reasons = { kind: 'rule', description: "hold: yesterday's price (the middle of the ladder without one)", chosen: before.ladderIndex ?? -1 };
  } else {
    fallbackName = slot.fallback.name;
    const fallbackDecision = slot.fallback.decide(observation);
    before = { ladderIndex: fallbackDecision.ladderIndex, price: fallbackDecision.price };
    reasons = safeExplain(slot.fallback, observation, fallbackDecision.ladderIndex);
  }
  const guarded = applyGuardrails(before.price, ladder, slot.guardrails, guardrailContext(slot, request));
  const referencePrice = servedReferencePrice(slot.serving, guarded.price, request.priceHistory, request.lastPrice);
  const servedBy = fallbackName !== undefined ? 'fallback' : useCanary ? 'canary' : 'production';
  const menu = chosen.policy.couponMenu;
  let coupon: ServedCoupon | undefined;
  if (menu && fallbackName === undefined && decision) coupon = modelCoupon(menu, chosen.policy.ladder, decision, reasons, guarded.price);
  else if (menu) coupon = fallbackCoupon(fallbackName ?? 'hold', fallbackReason ?? 'the model did not decide');
  const response: PriceResponse = {
    price: guarded.price,
    ladderIndex: guarded.ladderIndex,
    policy: { name: slot.name, version: chosen.version, servedBy },
    guardrails: guarded.effects,
    violations: guarded.violations,
    explanation: servedExplanation(reasons, fallbackName === undefined ? 'model' : 'fallback', before, guarded),
    fallback: fallbackReason === undefined ? null : { reason: fallbackReason, policy: fallbackName ?? 'hold' },
    decisionId: randomUUID(),
    ...(coupon ? { coupon } : {}),
    ...(referencePrice ? { referencePrice } : {}),
  };
  metrics?.observeDecision(slot.name, servedBy, (performance.now() - started) / 1000, guarded, fallbackReason);
  if (log) writeDecisionLog(log, slot, request, observation, response, decision?.ladderIndex);
  return response;
}

/**
 * The response's explanation: the chooser's reasons (the agent's action values or arm
 * statistics, or a rule), its choice before the guardrails, and what was served after
 * them. The agent's own `chosen` is left out: it is `beforeGuardrails.ladderIndex`.
 */
function servedExplanation(reasons: Explanation, decidedBy: 'model' | 'fallback', before: { ladderIndex: number | null; price: number }, guarded: GuardedPrice): ServedExplanation {
  const common = { decidedBy, beforeGuardrails: before, afterGuardrails: { ladderIndex: guarded.ladderIndex, price: guarded.price } };
  switch (reasons.kind) {
    case 'action-values':
      return { kind: 'action-values', values: [...reasons.values], ...common };
    case 'arm-statistics':
      return { kind: 'arm-statistics', arms: reasons.arms.map((arm) => ({ index: arm.index, pulls: arm.pulls, meanReward: arm.meanReward })), ...common };
    default:
      return { kind: 'rule', description: reasons.description, ...common };
  }
}

function safeExplain(policy: ServedPolicy, observation: Float32Array, chosen: number): Explanation {
  try {
    return policy.explain(observation, chosen);
  } catch (error) {
    return { kind: 'rule', description: `no explanation: ${(error as Error).message}`, chosen };
  }
}
