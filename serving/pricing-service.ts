/**
 * The pricing service: what the HTTP endpoint calls. It holds, per registered policy, the
 * production version (plus a canary and a shadow when configured) loaded from the
 * registry, and answers a price request in one synchronous pass:
 *
 *   features -> observation -> model's greedy ladder index (production, or the canary for
 *   a stable share of request keys) -> fallback if the model failed (error, NaN, over its
 *   time budget) -> guardrails in their fixed order -> response + decision log line
 *
 * Hot swap: `refresh()` (polled, and called after every promotion or rollback) loads any
 * version an alias now points at, then swaps the policy's slot in one assignment. Because a
 * decision never awaits, a request is served wholly by the old slot or wholly by the new
 * one; none fails during a swap.
 *
 * Each decision can be logged (JSON Lines) with its propensity under the deployed mixture
 * (production and canary), ready for off-policy evaluation once rewards are joined.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { PricelabError, type Problem } from '../env/errors.js';
import { applyGuardrails, type GuardedPrice, type Guardrails } from '../agents/guardrails.js';
import type { PolicyRegistry } from './registry.js';
import { ServedPolicy, type Explanation } from './served-policy.js';
import { defaultPolicyServing, type PolicyServing, type ServingConfig } from './serving-config.js';
import type { ServingMetrics } from './metrics.js';

export interface PriceRequest {
  readonly features: Readonly<Record<string, number>>;
  readonly lastPrice?: number | undefined;
  readonly competitorPrices?: readonly number[] | undefined;
  /** A stable key (customer, session or product id) for canary assignment. */
  readonly key?: string | undefined;
}

export interface PriceResponse {
  readonly price: number;
  readonly ladderIndex: number;
  readonly policy: { readonly name: string; readonly version: number; readonly servedBy: 'production' | 'canary' | 'fallback' };
  readonly guardrails: GuardedPrice['effects'];
  readonly violations: GuardedPrice['violations'];
  readonly explanation: Explanation;
  readonly fallback: { readonly reason: string; readonly policy: string } | null;
  readonly decisionId: string;
}

interface LoadedVersion {
  readonly version: number;
  readonly policy: ServedPolicy;
}

interface Slot {
  readonly name: string;
  readonly serving: PolicyServing;
  readonly production: LoadedVersion;
  readonly canary: (LoadedVersion & { readonly share: number }) | undefined;
  readonly shadow: LoadedVersion | undefined;
  readonly fallback: ServedPolicy | 'hold';
  readonly guardrails: Guardrails;
}

/** Stable share in [0, 1) of a request key: the same key always gets the same arm. */
export function keyShare(key: string): number {
  return createHash('sha256').update(key).digest().readUInt32BE(0) / 2 ** 32;
}

export class PricingService {
  private readonly slots = new Map<string, Slot>();
  private readonly log: WriteStream | undefined;
  private lastChange = -1;
  private refreshing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly registry: PolicyRegistry,
    readonly config: ServingConfig,
    private readonly metrics?: ServingMetrics,
    options: { decisionLog?: string | undefined } = {},
  ) {
    this.log = options.decisionLog ? createWriteStream(options.decisionLog, { flags: 'a' }) : undefined;
  }

  /** Polls the registry for alias moves every `refreshMs`. */
  start(): Promise<void> {
    this.timer = setInterval(() => void this.refresh().catch((error: unknown) => process.stderr.write(`serving: refresh failed: ${(error as Error).message}\n`)), this.config.refreshMs);
    this.timer.unref();
    return this.refresh();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.refreshing;
    for (const slot of this.slots.values()) disposeSlot(slot, undefined);
    this.slots.clear();
    await new Promise<void>((resolve) => (this.log ? this.log.end(resolve) : resolve()));
  }

  /** Loads what changed in the registry and swaps it in; concurrent calls share one pass. */
  refresh(force = false): Promise<void> {
    if (this.refreshing) return this.refreshing;
    const change = this.registry.changeCount();
    if (!force && change === this.lastChange) return Promise.resolve();
    this.refreshing = this.reload()
      .then(() => {
        this.lastChange = change;
      })
      .finally(() => {
        this.refreshing = undefined;
      });
    return this.refreshing;
  }

  private async reload(): Promise<void> {
    const seen = new Set<string>();
    for (const entry of this.registry.list()) {
      const productionVersion = entry.aliases.production;
      if (productionVersion === undefined) continue;
      seen.add(entry.name);
      const serving = this.config.policies[entry.name] ?? defaultPolicyServing;
      const old = this.slots.get(entry.name);
      const loadVersion = async (version: number | undefined): Promise<LoadedVersion | undefined> => {
        if (version === undefined) return undefined;
        const reusable = [old?.production, old?.canary, old?.shadow].find((loaded) => loaded?.version === version);
        if (reusable) return reusable;
        return { version, policy: await ServedPolicy.load(this.registry.version(entry.name, version).path) };
      };
      const production = await loadVersion(productionVersion);
      if (!production) continue;
      const canaryVersion = serving.canary ? entry.aliases[serving.canary.alias] : undefined;
      const canaryLoaded = canaryVersion !== undefined && canaryVersion !== productionVersion ? await loadVersion(canaryVersion) : undefined;
      const shadowVersion = serving.shadow ? entry.aliases[serving.shadow.alias] : undefined;
      const shadow = shadowVersion !== undefined && shadowVersion !== productionVersion ? await loadVersion(shadowVersion) : undefined;
      const fallback = await this.fallbackFor(serving, production.policy, old);
      const guardrails: Guardrails = serving.guardrails ?? { minPrice: production.policy.manifest.guardrails.minPrice, maxPrice: production.policy.manifest.guardrails.maxPrice };
      const slot: Slot = {
        name: entry.name,
        serving,
        production,
        canary: canaryLoaded && serving.canary ? { ...canaryLoaded, share: serving.canary.share } : undefined,
        shadow,
        fallback,
        guardrails,
      };
      this.slots.set(entry.name, slot); // the swap: one assignment
      if (old) disposeSlot(old, slot);
      this.metrics?.policyVersion.set({ policy: entry.name, alias: 'production' }, productionVersion);
    }
    for (const [name, slot] of this.slots) {
      if (!seen.has(name)) {
        this.slots.delete(name);
        disposeSlot(slot, undefined);
      }
    }
  }

  /**
   * The fallback: `hold` (yesterday's price), a registered version (`registry:name@version`
   * or `registry:name@alias`, verified like any served policy), or a rule spec on the
   * production policy's scenario. Reused across reloads while it is the same.
   */
  private async fallbackFor(serving: PolicyServing, production: ServedPolicy, old: Slot | undefined): Promise<ServedPolicy | 'hold'> {
    const spec = serving.fallback;
    if (spec === 'hold') return 'hold';
    const previous = old && old.fallback !== 'hold' ? old.fallback : undefined;
    if (spec.startsWith('registry:')) {
      const version = this.registry.resolve(spec.slice('registry:'.length));
      if (previous?.contentHash === version.contentHash) return previous;
      return ServedPolicy.load(version.path);
    }
    if (previous && old?.serving === serving && previous.manifest.scenario.id === production.manifest.scenario.id) return previous;
    return ServedPolicy.fromRule(production.manifest.scenario.id, spec);
  }

  /** Policies being served, with their versions. */
  served(): { name: string; version: number; canary: number | null; shadow: number | null; features: string[]; ladder: readonly number[] }[] {
    return [...this.slots.values()].map((slot) => ({
      name: slot.name,
      version: slot.production.version,
      canary: slot.canary?.version ?? null,
      shadow: slot.shadow?.version ?? null,
      features: slot.production.policy.featureNames,
      ladder: slot.production.policy.ladder,
    }));
  }

  get ready(): boolean {
    return this.lastChange >= 0;
  }

  /** Prices one request; bad features are a config error listing every problem (the endpoint's 400). */
  price(name: string, request: PriceRequest, path: readonly (string | number)[] = []): PriceResponse {
    const slot = this.slots.get(name);
    if (!slot) throw new PricelabError('not-found', `no policy "${name}" is served (served: ${[...this.slots.keys()].join(', ') || 'none'}); is it registered with a production alias?`);
    const observation = slot.production.policy.observationOf(request.features, [...path, 'features']);
    if (!(observation instanceof Float32Array)) throw new PricelabError('config', `the request does not fit policy "${name}"`, observation as Problem[]);
    const started = performance.now();
    const useCanary = slot.canary !== undefined && request.key !== undefined && keyShare(request.key) < slot.canary.share;
    const chosen = useCanary && slot.canary ? slot.canary : slot.production;
    let decision: { ladderIndex: number; price: number } | undefined;
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
    let proposed: number;
    let explanation: Explanation;
    let fallbackName: string | undefined;
    if (fallbackReason === undefined && decision) {
      proposed = decision.price;
      explanation = safeExplain(chosen.policy, observation, decision.ladderIndex);
    } else if (slot.fallback === 'hold') {
      fallbackName = 'hold';
      proposed = request.lastPrice !== undefined && Number.isFinite(request.lastPrice) && request.lastPrice > 0 ? request.lastPrice : (ladder[Math.floor(ladder.length / 2)] ?? 1);
      explanation = { kind: 'rule', description: 'hold: yesterday\'s price (the middle of the ladder without one)', chosen: -1 };
    } else {
      fallbackName = slot.fallback.name;
      const fallbackDecision = slot.fallback.decide(observation);
      proposed = fallbackDecision.price;
      explanation = safeExplain(slot.fallback, observation, fallbackDecision.ladderIndex);
    }
    const guarded = applyGuardrails(proposed, ladder, slot.guardrails, { lastPrice: request.lastPrice, competitorPrices: request.competitorPrices, unitCost: slot.production.policy.unitCost });
    const servedBy = fallbackName !== undefined ? 'fallback' : useCanary ? 'canary' : 'production';
    const response: PriceResponse = {
      price: guarded.price,
      ladderIndex: guarded.ladderIndex,
      policy: { name, version: chosen.version, servedBy },
      guardrails: guarded.effects,
      violations: guarded.violations,
      explanation,
      fallback: fallbackReason === undefined ? null : { reason: fallbackReason, policy: fallbackName ?? 'hold' },
      decisionId: randomUUID(),
    };
    this.metrics?.observeDecision(name, servedBy, (performance.now() - started) / 1000, guarded, fallbackReason);
    if (this.log) this.logDecision(slot, request, observation, response, decision?.ladderIndex);
    return response;
  }

  private logDecision(slot: Slot, request: PriceRequest, observation: Float32Array, response: PriceResponse, modelIndex: number | undefined): void {
    // Propensity of the served ladder index under the deployed mixture: production with
    // probability 1 - share, the canary with probability share (by key), then guardrails.
    let propensity = 1;
    if (slot.canary && response.fallback === null) {
      const other = response.policy.servedBy === 'canary' ? slot.production : slot.canary;
      const otherIndex = applyGuardrails(other.policy.decide(observation).price, slot.production.policy.ladder, slot.guardrails, { lastPrice: request.lastPrice, competitorPrices: request.competitorPrices, unitCost: slot.production.policy.unitCost }).ladderIndex;
      const share = slot.canary.share;
      const mine = response.policy.servedBy === 'canary' ? share : 1 - share;
      propensity = otherIndex === response.ladderIndex ? 1 : mine;
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
      ...(shadow ? { shadow } : {}),
    };
    this.log?.write(`${JSON.stringify(line)}\n`);
  }
}

function shadowDecision(shadow: LoadedVersion, observation: Float32Array): { version: number; action: number; price: number } | { version: number; error: string } {
  try {
    const decision = shadow.policy.decide(observation);
    return { version: shadow.version, action: decision.ladderIndex, price: decision.price };
  } catch (error) {
    return { version: shadow.version, error: (error as Error).message };
  }
}

function safeExplain(policy: ServedPolicy, observation: Float32Array, chosen: number): Explanation {
  try {
    return policy.explain(observation, chosen);
  } catch (error) {
    return { kind: 'rule', description: `no explanation: ${(error as Error).message}`, chosen };
  }
}

/** Frees what the old slot held and the new one does not reuse. */
function disposeSlot(old: Slot, replacement: Slot | undefined): void {
  const kept = new Set([replacement?.production.policy, replacement?.canary?.policy, replacement?.shadow?.policy, replacement?.fallback]);
  for (const policy of [old.production.policy, old.canary?.policy, old.shadow?.policy, old.fallback]) {
    if (policy && policy !== 'hold' && !kept.has(policy)) policy.dispose();
  }
}
