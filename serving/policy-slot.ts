/**
 * A policy slot: everything the pricing service serves one policy name with (the
 * production version, an optional canary and shadow, the fallback, the guardrails and the
 * features the production version knows). A slot is immutable: a hot swap replaces the
 * whole slot in one assignment (serving/pricing-service.ts), so a request is decided
 * wholly by the old slot or wholly by the new one.
 */
import type { Guardrails } from '../agents/guardrails.js';
import type { ServedPolicy } from './served-policy.js';
import type { PolicyServing } from './serving-config.js';

/** A registered version as loaded for serving. */
export interface LoadedVersion {
  readonly version: number;
  readonly policy: ServedPolicy;
}

export interface Slot {
  readonly name: string;
  readonly serving: PolicyServing;
  readonly production: LoadedVersion;
  readonly canary: (LoadedVersion & { readonly share: number }) | undefined;
  readonly shadow: LoadedVersion | undefined;
  readonly fallback: ServedPolicy | 'hold';
  readonly guardrails: Guardrails;
  readonly knownFeatures: ReadonlySet<string>;
}

/** Frees what the old slot held and the new one does not reuse. */
export function disposeSlot(old: Slot, replacement: Slot | undefined): void {
  const kept = new Set([replacement?.production.policy, replacement?.canary?.policy, replacement?.shadow?.policy, replacement?.fallback]);
  for (const policy of [old.production.policy, old.canary?.policy, old.shadow?.policy, old.fallback]) {
    if (policy && policy !== 'hold' && !kept.has(policy)) policy.dispose();
  }
}
