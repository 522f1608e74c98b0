/**
 * The decision log (JSON Lines, `pricelab serve --decision-log`): one line per served
 * decision with its context, the model's and the served ladder index, and the served
 * index's propensity under the deployed mixture (production and canary), ready for
 * off-policy evaluation once rewards are joined; the shadow version's choice rides along. A
 * coupon policy's line keeps the coupon served and why (`coupon`, as in the response); its
 * propensity counts the other arm as serving the same only with the same price and coupon.
 * A refused batch writes nothing: the log holds served decisions only.
 */
import type { WriteStream } from 'node:fs';
import { applyGuardrails } from '../agents/guardrails.js';
import type { LoadedVersion, Slot } from './policy-slot.js';
import { guardrailContext, type PriceRequest, type PriceResponse } from './price-decision.js';

export function writeDecisionLog(log: WriteStream, slot: Slot, request: PriceRequest, observation: Float32Array, response: PriceResponse, modelIndex: number | undefined): void {
  // Propensity of the served ladder index under the deployed mixture: production with
  // probability 1 - share, the canary with probability share (by key), then guardrails.
  let propensity = 1;
  if (slot.canary && response.fallback === null) {
    const other = response.policy.servedBy === 'canary' ? slot.production : slot.canary;
    const otherDecision = other.policy.decide(observation);
    const otherIndex = applyGuardrails(otherDecision.price, slot.production.policy.ladder, slot.guardrails, guardrailContext(slot, request)).ladderIndex;
    const share = slot.canary.share;
    const mine = response.policy.servedBy === 'canary' ? share : 1 - share;
    // A coupon policy's action is its price and its coupon: both must agree for the other arm to serve the same.
    const sameCoupon = (otherDecision.coupon?.action ?? null) === (response.coupon?.action ?? null);
    propensity = otherIndex === response.ladderIndex && sameCoupon ? 1 : mine;
  }
  const shadow = slot.shadow ? shadowDecision(slot.shadow, observation) : undefined;
  const line = {
    decisionId: response.decisionId,
    at: new Date().toISOString(),
    policy: slot.name,
    version: response.policy.version,
    servedBy: response.policy.servedBy,
    context: request.features,
    lastPrice: request.lastPrice ?? null,
    competitorPrices: request.competitorPrices ?? null,
    modelAction: modelIndex ?? null,
    action: response.ladderIndex,
    price: response.price,
    propensity,
    guardrailsApplied: response.guardrails.filter((effect) => effect.status === 'adjusted').map((effect) => effect.rule),
    ...(response.coupon ? { coupon: response.coupon } : {}),
    ...(shadow ? { shadow } : {}),
    ...(response.referencePrice ? { referencePrice: { rule: response.referencePrice.rule, price: response.referencePrice.price, discount: response.referencePrice.discount } } : {}),
  };
  log.write(`${JSON.stringify(line)}\n`);
}

function shadowDecision(shadow: LoadedVersion, observation: Float32Array): { version: number; action: number; price: number } | { version: number; error: string } {
  try {
    const decision = shadow.policy.decide(observation);
    return { version: shadow.version, action: decision.ladderIndex, price: decision.price };
  } catch (error) {
    return { version: shadow.version, error: (error as Error).message };
  }
}
