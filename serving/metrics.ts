/**
 * Prometheus metrics of the endpoint (prom-client), on a registry of its own so that two
 * servers in one process (tests) never share counters:
 *
 *   pricelab_http_requests_total{route, status}        every request, by route and status code
 *   pricelab_price_decisions_total{policy, served_by}  production, canary or fallback
 *   pricelab_price_decision_seconds{policy}            time to decide (model + guardrails)
 *   pricelab_fallbacks_total{policy}                   decisions the fallback made
 *   pricelab_guardrail_adjustments_total{rule}         prices a guardrail moved
 *   pricelab_guardrail_violations_total{rule}          served prices that broke a rule (conflicts)
 *   pricelab_policy_version{policy, alias}             the version being served
 *   pricelab_policy_ready{policy}                      1 when the production alias is served at its version, else 0
 *   pricelab_policy_load_failures_total{policy, alias} versions that could not be loaded (counted once per new failure)
 * plus Node's default process metrics.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { GuardedPrice } from '../agents/guardrails.js';

export class ServingMetrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({ name: 'pricelab_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['route', 'status'] as const, registers: [this.registry] });
  readonly decisions = new Counter({ name: 'pricelab_price_decisions_total', help: 'price decisions by policy and who served them', labelNames: ['policy', 'served_by'] as const, registers: [this.registry] });
  readonly decisionSeconds = new Histogram({
    name: 'pricelab_price_decision_seconds',
    help: 'time to decide a price (model and guardrails)',
    labelNames: ['policy'] as const,
    buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05],
    registers: [this.registry],
  });
  readonly fallbacks = new Counter({ name: 'pricelab_fallbacks_total', help: 'decisions served by the fallback policy', labelNames: ['policy'] as const, registers: [this.registry] });
  readonly guardrailAdjustments = new Counter({ name: 'pricelab_guardrail_adjustments_total', help: 'prices moved by a guardrail', labelNames: ['rule'] as const, registers: [this.registry] });
  readonly guardrailViolations = new Counter({ name: 'pricelab_guardrail_violations_total', help: 'served prices that broke a guardrail (conflicting rules)', labelNames: ['rule'] as const, registers: [this.registry] });
  readonly policyVersion = new Gauge({ name: 'pricelab_policy_version', help: 'version served per policy and alias', labelNames: ['policy', 'alias'] as const, registers: [this.registry] });
  readonly policyReady = new Gauge({ name: 'pricelab_policy_ready', help: '1 when the production alias is served at its version, else 0', labelNames: ['policy'] as const, registers: [this.registry] });
  readonly loadFailures = new Counter({ name: 'pricelab_policy_load_failures_total', help: 'versions that could not be loaded, once per new failure', labelNames: ['policy', 'alias'] as const, registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  observeDecision(policy: string, servedBy: string, seconds: number, guarded: GuardedPrice, fallbackReason: string | undefined): void {
    this.decisions.inc({ policy, served_by: servedBy });
    this.decisionSeconds.observe({ policy }, seconds);
    if (fallbackReason !== undefined) this.fallbacks.inc({ policy });
    for (const effect of guarded.effects) if (effect.status === 'adjusted') this.guardrailAdjustments.inc({ rule: effect.rule });
    for (const rule of guarded.violations) this.guardrailViolations.inc({ rule });
  }
}
