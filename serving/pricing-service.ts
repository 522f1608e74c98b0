/**
 * The pricing service: what the HTTP endpoint calls. It holds, per registered policy, a
 * slot (serving/policy-slot.ts: the production version, plus a canary and a shadow when
 * configured, loaded from the registry, the fallback and the guardrails) and answers a
 * price request in one synchronous pass over that slot (serving/price-decision.ts).
 *
 * Hot swap: `refresh()` (polled, and called after every promotion or rollback) loads any
 * version an alias now points at, then swaps the policy's slot in one assignment. Because a
 * decision never awaits, a request is served wholly by the old slot or wholly by the new
 * one; none fails during a swap.
 *
 * Failures are isolated per policy. A version that cannot be loaded (tampered, missing, a
 * bad fallback) is recorded in that policy's status and reported once per change (not at
 * every poll); the policy keeps serving the last version that loaded ('stale'), or is not
 * served at all when none ever did ('failed'); every other policy refreshes as usual. A
 * canary, shadow or fallback that cannot be loaded is left out (hold stands in for the
 * fallback) and recorded the same way. `readiness()` is ready only when every production
 * alias is served at its version.
 *
 * Each decision can be logged (serving/decision-log.ts). A batch is validated whole before
 * any of it is decided: the log holds served decisions only.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import type { z } from 'zod';
import { PricelabError, type ErrorKind, type Problem } from '../core/errors.js';
import type { Guardrails } from '../agents/guardrails.js';
import type { AliasName } from './registry.js';
import type { PolicyRegistryBackend } from './registry-backend.js';
import { ServedPolicy } from './served-policy.js';
import { servingFor, type PolicyServing, type ServingConfig } from './serving-config.js';
import type { ServingMetrics } from './metrics.js';
import { maxListedProblems, type policyStatusSchema } from './request-schemas.js';
import { describeError, relativeToHome } from './load-failure-message.js';
import { disposeSlot, type LoadedVersion, type Slot } from './policy-slot.js';
import { BatchRefused, checkRequest, decidePrice, type CheckedRequest, type PriceRequest, type PriceResponse } from './price-decision.js';

export { describeError, relativeToHome } from './load-failure-message.js';
export { BatchRefused, keyShare, type PriceRequest, type PriceResponse, type ServedExplanation } from './price-decision.js';

/** A policy's state: what its production alias points at, what is served, what failed to load. */
export type PolicyStatus = z.output<typeof policyStatusSchema>;
type LoadError = PolicyStatus['errors'][number];

export class PricingService {
  private readonly slots = new Map<string, Slot>();
  private readonly statuses = new Map<string, PolicyStatus>();
  /** The failure last reported per policy and alias: a failure is logged once per change, not at every poll. */
  private readonly reported = new Map<string, string>();
  private readonly log: WriteStream | undefined;
  private readonly report: (line: string) => void;
  private lastChange = -1;
  private refreshError: string | null = null;
  private refreshing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly registry: PolicyRegistryBackend,
    readonly config: ServingConfig,
    private readonly metrics?: ServingMetrics,
    options: { decisionLog?: string | undefined; report?: (line: string) => void } = {},
  ) {
    this.log = options.decisionLog ? createWriteStream(options.decisionLog, { flags: 'a' }) : undefined;
    this.report = options.report ?? ((line) => process.stderr.write(`serving: ${line}\n`));
  }

  /** Polls the registry for alias moves every `refreshMs`. */
  start(): Promise<void> {
    this.timer = setInterval(() => void this.refresh().catch(() => undefined), this.config.refreshMs);
    this.timer.unref();
    return this.refresh();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.refreshing?.catch(() => undefined);
    for (const slot of this.slots.values()) disposeSlot(slot, undefined);
    this.slots.clear();
    await new Promise<void>((resolve) => (this.log ? this.log.end(resolve) : resolve()));
  }

  /**
   * Loads what changed in the registry and swaps it in; concurrent calls share one pass.
   * A policy that fails to load never fails the pass (see the header); a registry that
   * cannot be read does, and is reported once and shown in `readiness()`.
   */
  refresh(force = false): Promise<void> {
    if (this.refreshing) return this.refreshing;
    this.refreshing = this.refreshPass(force).finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  /** One pass: read the change counter, and reload when it moved (or when forced). */
  private async refreshPass(force: boolean): Promise<void> {
    let change: number;
    try {
      change = await this.registry.changeCount();
    } catch (error) {
      throw this.registryFailed(error);
    }
    if (!force && change === this.lastChange) return;
    try {
      await this.reload();
    } catch (error) {
      throw this.registryFailed(error);
    }
    this.lastChange = change;
    if (this.refreshError !== null) this.report('the registry can be read again');
    this.refreshError = null;
    this.reported.delete('registry');
  }

  /** describeError, with paths relative to the home (the message reaches /readyz). */
  private describeFailure(error: unknown): { kind: ErrorKind | 'internal'; message: string } {
    const described = describeError(error);
    return { ...described, message: relativeToHome(described.message, this.registry.home) };
  }

  private registryFailed(error: unknown): unknown {
    const { message } = this.describeFailure(error);
    this.refreshError = message;
    if (this.reported.get('registry') !== message) {
      this.reported.set('registry', message);
      this.report(`refresh failed: the registry could not be read: ${message}`);
    }
    return error;
  }

  private async reload(): Promise<void> {
    const seen = new Set<string>();
    for (const entry of await this.registry.list()) {
      const productionVersion = entry.retired ? undefined : entry.aliases.production;
      if (productionVersion === undefined) continue;
      seen.add(entry.name);
      await this.reloadPolicy(entry.name, entry.aliases, productionVersion);
    }
    for (const [name, slot] of this.slots) {
      if (!seen.has(name)) {
        this.slots.delete(name);
        disposeSlot(slot, undefined);
      }
    }
    for (const name of this.statuses.keys()) {
      if (seen.has(name)) continue;
      this.statuses.delete(name);
      this.metrics?.policyReady.remove({ policy: name });
    }
    for (const key of this.reported.keys()) {
      const [policy, alias] = key.split('\u0000');
      if (alias !== undefined && policy !== undefined && !seen.has(policy)) this.reported.delete(key); // reported afresh if it comes back
    }
  }

  /** Reloads one policy; whatever fails is recorded in its status, never thrown. */
  private async reloadPolicy(name: string, aliases: Readonly<Record<string, number>>, productionVersion: number): Promise<void> {
    const serving = servingFor(this.config, name);
    const old = this.slots.get(name);
    const errors: LoadError[] = [];
    const failed = (alias: string, version: number | null, error: unknown): undefined => {
      errors.push({ alias, version, ...this.describeFailure(error), at: new Date().toISOString() });
      return undefined;
    };
    const loadVersion = async (alias: string, version: number | undefined): Promise<LoadedVersion | undefined> => {
      if (version === undefined) return undefined;
      const reusable = [old?.production, old?.canary, old?.shadow].find((loaded) => loaded?.version === version);
      if (reusable) return reusable;
      try {
        return { version, policy: await this.loadRegistered(name, version) };
      } catch (error) {
        return failed(alias, version, error);
      }
    };
    const aliasVersion = (alias: AliasName): number | undefined => (Object.hasOwn(aliases, alias) ? aliases[alias] : undefined);

    const production = await loadVersion('production', productionVersion);
    if (!production) {
      // The last good version (if any) keeps serving; the slot is left as it is.
      this.setStatus(name, { name, state: old ? 'stale' : 'failed', production: productionVersion, serving: old?.production.version ?? null, errors });
      return;
    }
    const canaryVersion = serving.canary ? aliasVersion(serving.canary.alias) : undefined;
    const canaryLoaded = canaryVersion !== undefined && canaryVersion !== productionVersion ? await loadVersion(serving.canary?.alias ?? 'canary', canaryVersion) : undefined;
    const shadowVersion = serving.shadow ? aliasVersion(serving.shadow.alias) : undefined;
    const shadow = shadowVersion !== undefined && shadowVersion !== productionVersion ? await loadVersion(serving.shadow?.alias ?? 'shadow', shadowVersion) : undefined;
    let fallback: ServedPolicy | 'hold';
    try {
      fallback = await this.fallbackFor(serving, production.policy, old);
    } catch (error) {
      fallback = failed('fallback', null, error) ?? 'hold';
    }
    const guardrails: Guardrails = serving.guardrails ?? { minPrice: production.policy.manifest.guardrails.minPrice, maxPrice: production.policy.manifest.guardrails.maxPrice };
    const slot: Slot = {
      name,
      serving,
      production,
      canary: canaryLoaded && serving.canary ? { ...canaryLoaded, share: serving.canary.share } : undefined,
      shadow,
      fallback,
      guardrails,
      knownFeatures: old?.production === production ? old.knownFeatures : new Set(production.policy.featureNames),
    };
    if (old !== slot) {
      this.slots.set(name, slot); // the swap: one assignment
      if (old) disposeSlot(old, slot);
    }
    this.metrics?.policyVersion.set({ policy: name, alias: 'production' }, productionVersion);
    this.setStatus(name, { name, state: 'serving', production: productionVersion, serving: productionVersion, errors });
  }

  /** Records a policy's status and reports what changed: a new failure once, a recovery once. */
  private setStatus(name: string, status: PolicyStatus): void {
    this.statuses.set(name, status);
    this.metrics?.policyReady.set({ policy: name }, status.state === 'serving' ? 1 : 0);
    const failing = new Set(status.errors.map((error) => error.alias));
    for (const error of status.errors) {
      const key = `${name}\u0000${error.alias}`;
      const signature = `${error.version ?? ''}\u0000${error.message}`;
      if (this.reported.get(key) === signature) continue;
      this.reported.set(key, signature);
      this.metrics?.loadFailures.inc({ policy: name, alias: error.alias });
      const what = error.alias === 'fallback' ? `the fallback of "${name}"` : `${name}@${error.version ?? '?'} (${error.alias})`;
      const consequence =
        error.alias !== 'production' ? (error.alias === 'fallback' ? 'hold stands in for it' : 'left out') : status.serving === null ? `"${name}" is not served` : `${name}@${status.serving} keeps serving`;
      this.report(`cannot load ${what}: ${error.message}; ${consequence}`);
    }
    for (const key of [...this.reported.keys()]) {
      const [policy, alias] = key.split('\u0000');
      if (policy === name && alias !== undefined && !failing.has(alias)) {
        this.reported.delete(key);
        if (alias === 'production') this.report(`${name}@${status.production} loaded: serving it`);
      }
    }
  }

  /**
   * A registered version, loaded with sha256(policy.json) checked against the content hash
   * the registry recorded (then every file's hash): every load, at start and at each refresh.
   */
  private loadRegistered(name: string, version: number): Promise<ServedPolicy> {
    return this.registry.loadVersion(name, version);
  }

  /**
   * The fallback: `hold` (yesterday's price), a registered version (`registry:name@version`
   * or `registry:name@alias`, verified like any served policy), or a rule spec on the
   * production policy's scenario (the one its artifact carries). Reused while it is the same.
   */
  private async fallbackFor(serving: PolicyServing, production: ServedPolicy, old: Slot | undefined): Promise<ServedPolicy | 'hold'> {
    const spec = serving.fallback;
    if (spec === 'hold') return 'hold';
    const previous = old && old.fallback !== 'hold' ? old.fallback : undefined;
    if (spec.startsWith('registry:')) {
      const version = await this.registry.resolve(spec.slice('registry:'.length));
      if (previous?.contentHash === version.contentHash) return previous;
      return this.loadRegistered(version.name, version.version);
    }
    const scenario = production.manifest.scenario;
    if (previous && old?.serving === serving && previous.manifest.scenario.id === scenario.id && previous.manifest.scenario.contentHash === scenario.contentHash) return previous;
    return ServedPolicy.fromRule(production.trainedOn, spec); // the production policy's own scenario, as its artifact carries it
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

  /** Every policy with a production alias: its state, the version served, what failed to load. */
  statusOf(): PolicyStatus[] {
    return [...this.statuses.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Ready when the registry was read and every production alias is served at its version. */
  readiness(): { ready: boolean; refreshError: string | null; policies: PolicyStatus[] } {
    const policies = this.statusOf();
    return { ready: this.lastChange >= 0 && this.refreshError === null && policies.every((policy) => policy.state === 'serving'), refreshError: this.refreshError, policies };
  }

  get ready(): boolean {
    return this.readiness().ready;
  }

  /** What a client needs to call `name`: its features, ladder, guardrails (GET /v1/policies/:name/schema). */
  describe(name: string): { name: string; version: number; policy: ServedPolicy; serving: PolicyServing; guardrails: Guardrails } {
    const slot = this.slotOf(name);
    return { name, version: slot.production.version, policy: slot.production.policy, serving: slot.serving, guardrails: slot.guardrails };
  }

  private slotOf(name: string): Slot {
    const slot = this.slots.get(name);
    if (slot) return slot;
    const status = this.statuses.get(name);
    if (status) throw new PricelabError('not-found', `policy "${name}" cannot be served: ${status.errors[0]?.message ?? 'its production version did not load'} (GET /readyz)`);
    throw new PricelabError('not-found', `no policy "${name}" is served (served: ${[...this.slots.keys()].slice(0, 20).join(', ') || 'none'}); is it registered with a production alias?`);
  }

  /** Prices one request; bad features are a config error listing its problems (the endpoint's 400). */
  price(name: string, request: PriceRequest, path: readonly (string | number)[] = []): PriceResponse {
    const checked = checkRequest(this.slotOf(name), request, path);
    if (Array.isArray(checked)) throw new PricelabError('config', `the request does not fit policy "${name}"`, checked);
    return decidePrice(checked, this.metrics, this.log);
  }

  /**
   * Prices a batch, all by the same slot: every request is checked first, and if any is
   * bad, none is decided, logged or counted (a config error lists the first problems and
   * counts the rest).
   */
  priceBatch(name: string, requests: readonly PriceRequest[], path: readonly (string | number)[] = []): PriceResponse[] {
    const slot = this.slotOf(name);
    const checked: CheckedRequest[] = [];
    const problems: Problem[] = [];
    let omitted = 0;
    requests.forEach((request, index) => {
      const result = checkRequest(slot, request, [...path, index]);
      if (!Array.isArray(result)) checked.push(result);
      else {
        const room = Math.max(0, maxListedProblems - problems.length);
        problems.push(...result.slice(0, room));
        omitted += result.length - Math.min(room, result.length);
      }
    });
    if (problems.length > 0 || omitted > 0) throw new BatchRefused(`some requests of the batch do not fit policy "${name}"`, problems, omitted);
    return checked.map((item) => decidePrice(item, this.metrics, this.log));
  }
}
