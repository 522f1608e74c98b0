/**
 * Promoting a version: the one place where gates meet the registry, used by the CLI
 * (`pricelab policy promote`) and the endpoint (POST /v1/policies/:name/promote) alike.
 * Moving to `production` passes every promotion gate first; candidate and staging are
 * free moves. Either way the move and its evidence go into the audit log. Moving an alias
 * to the version it already points at changes nothing: a no-op, with no audit entry.
 *
 * The gates of a promotion, first found first: the ones given with the request (`--gates`,
 * `pricelab serve --gates`), the ones stored in the registry for the policy name
 * (`pricelab policy gates set`), the shipped defaults (scenarios/gates/default.json).
 * Evidence is matched against the comparisons recorded in the results store of the
 * registry's home; the guardrails it must have been evaluated under are the serving
 * configuration's for the policy, else the artifact's own min/max (what serving applies).
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { PricelabError } from '../core/errors.js';
import { builtInScenarioFolder, loadScenario } from '../scenarios/load.js';
import { readJsonFile } from '../core/json-file.js';
import { usingResultsStore } from '../experiments/store-backend.js';
import { policyCreatedAt } from '../experiments/run-artifact.js';
import { readArtifact } from '../agents/artifact.js';
import { checkPromotion, promotionPolicySchema, type PromotionDecision, type PromotionPolicy, type RecordedComparison, type ServingGuardrails } from './promotion-gates.js';
import { targetingDeclarationOf } from './fairness-gate.js';
import type { AliasName } from './registry.js';
import type { PolicyRegistryBackend } from './registry-backend.js';
import type { ServingConfig } from './serving-config.js';

/** The shipped default gates (a file beside the built-in scenarios). */
export const defaultGatesFile = join(builtInScenarioFolder, 'gates', 'default.json');

export interface PromotionRequest {
  readonly name: string;
  readonly version: number;
  readonly to: AliasName;
  readonly reason: string;
  readonly actor?: string | undefined;
  readonly evidence: readonly { readonly source: string; readonly json: unknown }[];
  /** Gates given with the request; when absent, the registry's for the name, else the shipped defaults. */
  readonly policy?: unknown;
  /** Where `policy` came from, for messages and the audit log (e.g. the --gates file). */
  readonly policySource?: string | undefined;
  /** The serving configuration, whose guardrails for the policy the evidence must have been evaluated under. */
  readonly servingConfig?: ServingConfig | undefined;
  /** The policy measured facing learning rivals (experiments/collusion.ts), for gates that set `collusion`. */
  readonly collusionEvidence?: { readonly source: string; readonly json: unknown } | undefined;
  /** The policy's fairness report (`pricelab check-fairness --out`), for gates that set `fairness`. */
  readonly fairnessEvidence?: { readonly source: string; readonly json: unknown } | undefined;
}

export interface PromotionOutcome {
  readonly promoted: boolean;
  /** True when the alias already pointed at the version: nothing changed, nothing was audited. */
  readonly noop: boolean;
  readonly from: number | null;
  readonly to: number;
  readonly alias: AliasName;
  readonly decision: PromotionDecision | null;
  /** Where the gates came from (request, registry, shipped defaults), for production moves. */
  readonly gatesSource: string | null;
}

export function readEvidenceFiles(paths: readonly string[]): { source: string; json: unknown }[] {
  return paths.map((path) => ({ source: path, json: readJsonFile(path, 'comparison summary (evidence)') }));
}

export function parsePromotionPolicy(json: unknown, origin = 'the promotion policy'): PromotionPolicy {
  const parsed = promotionPolicySchema.safeParse(json ?? {});
  if (!parsed.success) throw new PricelabError('config', `${origin} is not valid`, parsed.error.issues.map((issue) => ({ path: ['gates', ...issue.path.map(String)], message: issue.message })));
  return parsed.data;
}

/** The gates that apply to a promotion of `name`, and where they came from. */
export async function gatesFor(registry: PolicyRegistryBackend, name: string, given?: unknown, givenSource = 'the request'): Promise<{ policy: PromotionPolicy; source: string }> {
  if (given !== undefined) return { policy: parsePromotionPolicy(given, `gates from ${givenSource}`), source: givenSource };
  const stored = await registry.gates(name);
  if (stored) return { policy: parsePromotionPolicy(stored.gates, `the gates stored for "${name}"`), source: `the registry (set ${stored.setAt} by ${stored.setBy})` };
  return { policy: parsePromotionPolicy(readJsonFile(defaultGatesFile, 'default promotion gates'), defaultGatesFile), source: `the shipped defaults (${defaultGatesFile})` };
}

export async function promote(registry: PolicyRegistryBackend, request: PromotionRequest): Promise<PromotionOutcome> {
  const candidate = await registry.version(request.name, request.version);
  const current = (await registry.aliases(request.name))[request.to];
  if (current === request.version) return { promoted: false, noop: true, from: current, to: request.version, alias: request.to, decision: null, gatesSource: null };
  let decision: PromotionDecision | null = null;
  let gatesSource: string | null = null;
  if (request.to === 'production') {
    const gates = await gatesFor(registry, request.name, request.policy, request.policySource);
    gatesSource = gates.source;
    const policy = gates.policy;
    // Checked against the content hash recorded at registration: the gates read the
    // manifest's createdAt, ladder and guardrails, which an edited version could forge.
    const manifest = readArtifact(candidate.path, { contentHash: candidate.contentHash, label: `${candidate.name}@${candidate.version}` }).manifest;
    const production = current === undefined ? undefined : await registry.version(request.name, current);
    const suite = policy.scenarios ?? [candidate.lineage.scenario.id];
    const installedScenarioHashes: Record<string, string> = {};
    for (const id of suite) {
      try {
        installedScenarioHashes[id] = loadScenario(id).contentHash;
      } catch {
        // A scenario not installed here can still be covered at the hash the policy was trained on.
      }
    }
    const configured = request.servingConfig !== undefined && Object.hasOwn(request.servingConfig.policies, request.name) ? request.servingConfig.policies[request.name]?.guardrails : undefined;
    const servingGuardrails: ServingGuardrails = configured
      ? { rules: configured, source: `the serving configuration's guardrails for "${request.name}"` }
      : { rules: manifest.guardrails, source: `no serving configuration lists "${request.name}", so its artifact's own min/max price` };
    // The comparisons recorded for each evidence file, and when a sweep run's policy was made, looked up before the (synchronous) gates run.
    const { recorded, createdAt } = await usingResultsStore(registry.location, async (store) => {
      const found = new Map<unknown, RecordedComparison>();
      for (const file of request.evidence) {
        const row = await store.findComparisonBySummary(file.json);
        if (row) found.set(file.json, { id: row.id, contentHash: createHash('sha256').update(JSON.stringify(file.json)).digest('hex') });
      }
      return { recorded: found, createdAt: await policyCreatedAt(store, { contentHash: candidate.contentHash, createdAt: manifest.createdAt, trainingRun: candidate.lineage.trainingRun }) };
    });
    decision = checkPromotion({
      candidate: { name: candidate.name, version: candidate.version, contentHash: candidate.contentHash, createdAt, scenario: candidate.lineage.scenario, ladder: manifest.action.ladder },
      production: production ? { version: production.version, contentHash: production.contentHash } : undefined,
      evidence: request.evidence,
      policy,
      findRecorded: (json): RecordedComparison | undefined => recorded.get(json),
      servingGuardrails,
      installedScenarioHashes,
      collusionEvidence: request.collusionEvidence,
      fairnessEvidence: request.fairnessEvidence,
      // The targeting the version declares, read from the artifact checked against its registered hash.
      targeting: targetingDeclarationOf(manifest),
    });
    if (!decision.allowed) return { promoted: false, noop: false, from: current ?? null, to: request.version, alias: request.to, decision, gatesSource };
  }
  const moved = await registry.moveAlias(request.name, request.version, request.to, {
    reason: request.reason,
    actor: request.actor,
    action: 'promote',
    details: { gates: decision?.gates ?? null, gatesSource, evidence: request.evidence.map((file) => file.source), ...(request.collusionEvidence ? { collusionEvidence: request.collusionEvidence.source } : {}), ...(request.fairnessEvidence ? { fairnessEvidence: request.fairnessEvidence.source } : {}) },
  });
  return { promoted: true, noop: false, from: moved.from, to: moved.to, alias: request.to, decision, gatesSource };
}
