/**
 * The policy registry as every caller sees it, whichever database holds it: the SQLite
 * file of the home (serving/registry.ts, the embedded default, answering at once) or a
 * team's PostgreSQL (serving/registry-postgres.ts, answering through promises, shared by
 * every `pricelab serve` replica). Callers await every method; `openPolicyRegistry` picks
 * the backend from a StoreLocation (core/store-url.ts: PRICELAB_STORE). Artifacts live
 * under the location's folder either way (policies/<name>/<version>, recorded relative to
 * it), and every load checks their content hash. One conformance suite
 * (tests/serving/registry-conformance.test.ts) holds both backends to the same answers.
 */
import type { Awaitable, StoreLocation } from '../core/store-url.js';
import type { AuditEntry, AuditVerification } from './audit-chain.js';
import type { AliasName } from './policy-reference.js';
import type { ChangeOptions, PolicyVersion, RegisterOptions, Retirement } from './registry.js';
import type { ServedPolicy } from './served-policy.js';

export interface RegisteredPolicySummary {
  name: string;
  versions: number;
  aliases: Record<string, number>;
  retired: boolean;
}

export interface PolicyRegistryBackend {
  /** The folder registered artifacts live under: the home, or with PostgreSQL the artifact root. */
  readonly home: string;
  readonly location: StoreLocation;
  close(): Awaitable<void>;

  /** Verifies the artifact folder and stores a copy of its bytes as the next version (the same content again returns the existing version). */
  register(folder: string, options: RegisterOptions): Awaitable<{ version: PolicyVersion; created: boolean }>;
  /** The same from uploaded bytes (file name -> bytes), every name and hash checked before anything is written. */
  registerFiles(files: ReadonlyMap<string, Uint8Array>, options: RegisterOptions): Awaitable<{ version: PolicyVersion; created: boolean }>;
  /** A version loaded for serving, its content hash checked against the registry row. */
  loadVersion(name: string, selector: number | AliasName): Promise<ServedPolicy>;
  list(): Awaitable<RegisteredPolicySummary[]>;
  versions(name: string): Awaitable<PolicyVersion[]>;
  retirement(name: string): Awaitable<Retirement | undefined>;
  aliases(name: string): Awaitable<Record<string, number>>;
  /** A version by number, or what an alias points at (default production); not-found says what exists. */
  version(name: string, selector?: number | AliasName): Awaitable<PolicyVersion>;
  /** `name`, `name@version` or `name@alias`. */
  resolve(reference: string): Awaitable<PolicyVersion>;
  moveAlias(name: string, version: number, alias: AliasName, options: ChangeOptions & { action?: 'promote' | 'rollback'; details?: unknown }): Awaitable<{ from: number | null; to: number }>;
  rollback(name: string, alias: AliasName, options: ChangeOptions): Awaitable<{ from: number; to: number }>;
  removeAlias(name: string, alias: AliasName, options: ChangeOptions): Awaitable<{ removed: number }>;
  retire(name: string, options: ChangeOptions): Awaitable<{ removedAliases: Record<string, number> }>;
  verifyAudit(): Awaitable<AuditVerification>;
  auditLog(name?: string): Awaitable<AuditEntry[]>;
  setGates(name: string, gates: unknown, options: ChangeOptions): Awaitable<void>;
  gates(name: string): Awaitable<{ gates: unknown; setAt: string; setBy: string } | undefined>;
  /** A counter that grows with every change: serving polls it to pick up promotions and rollbacks. */
  changeCount(): Awaitable<number>;
}

/** Opens the registry at a location (SQLite file of the home, or PostgreSQL: its driver loaded only then); `verify: false` skips the audit check on open. */
export async function openPolicyRegistry(location: StoreLocation, options: { verify?: boolean } = {}): Promise<PolicyRegistryBackend> {
  if (location.kind === 'sqlite') {
    const { PolicyRegistry } = await import('./registry.js');
    return PolicyRegistry.open(location.home, options);
  }
  const { PostgresPolicyRegistry } = await import('./registry-postgres.js');
  return PostgresPolicyRegistry.open(location, options);
}

/** Opens the registry, hands it to `use`, and closes it whatever happens. */
export async function usingPolicyRegistry<T>(location: StoreLocation, use: (registry: PolicyRegistryBackend) => Awaitable<T>, options: { verify?: boolean } = {}): Promise<T> {
  const registry = await openPolicyRegistry(location, options);
  try {
    return await use(registry);
  } finally {
    await registry.close();
  }
}
