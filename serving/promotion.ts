/**
 * Promoting a version: the one place where gates meet the registry, used by the CLI
 * (`pricelab policy promote`) and the endpoint (POST /v1/policies/:name/promote) alike.
 * Moving to `production` passes every promotion gate first; candidate and staging are
 * free moves. Either way the move and its evidence go into the audit log.
 */
import { PricelabError } from '../env/errors.js';
import { loadScenario } from '../scenarios/load.js';
import { readJsonFile } from '../experiments/json-file.js';
import { readArtifact } from '../agents/artifact.js';
import { checkPromotion, promotionPolicySchema, type PromotionDecision, type PromotionPolicy } from './promotion-gates.js';
import type { AliasName, PolicyRegistry } from './registry.js';

export interface PromotionRequest {
  readonly name: string;
  readonly version: number;
  readonly to: AliasName;
  readonly reason: string;
  readonly actor?: string | undefined;
  readonly evidence: readonly { readonly source: string; readonly json: unknown }[];
  readonly policy?: unknown;
}

export interface PromotionOutcome {
  readonly promoted: boolean;
  readonly from: number | null;
  readonly to: number;
  readonly alias: AliasName;
  readonly decision: PromotionDecision | null;
}

export function readEvidenceFiles(paths: readonly string[]): { source: string; json: unknown }[] {
  return paths.map((path) => ({ source: path, json: readJsonFile(path, 'comparison summary (evidence)') }));
}

export function parsePromotionPolicy(json: unknown): PromotionPolicy {
  const parsed = promotionPolicySchema.safeParse(json ?? {});
  if (!parsed.success) throw new PricelabError('config', 'the promotion policy is not valid', parsed.error.issues.map((issue) => ({ path: ['gates', ...issue.path.map(String)], message: issue.message })));
  return parsed.data;
}

export function promote(registry: PolicyRegistry, request: PromotionRequest): PromotionOutcome {
  const candidate = registry.version(request.name, request.version);
  let decision: PromotionDecision | null = null;
  if (request.to === 'production') {
    const policy = parsePromotionPolicy(request.policy);
    const manifest = readArtifact(candidate.path).manifest;
    const current = registry.aliases(request.name).production;
    const production = current === undefined ? undefined : registry.version(request.name, current);
    const suite = policy.scenarios ?? [candidate.lineage.scenario.id];
    const installedScenarioHashes: Record<string, string> = {};
    for (const id of suite) {
      try {
        installedScenarioHashes[id] = loadScenario(id).contentHash;
      } catch {
        // A scenario not installed here can still be covered at the hash the policy was trained on.
      }
    }
    decision = checkPromotion({
      candidate: { name: candidate.name, version: candidate.version, contentHash: candidate.contentHash, createdAt: manifest.createdAt, scenario: candidate.lineage.scenario },
      production: production ? { version: production.version, contentHash: production.contentHash } : undefined,
      evidence: request.evidence,
      policy,
      installedScenarioHashes,
    });
    if (!decision.allowed) return { promoted: false, from: current ?? null, to: request.version, alias: request.to, decision };
  }
  const moved = registry.moveAlias(request.name, request.version, request.to, {
    reason: request.reason,
    actor: request.actor,
    action: 'promote',
    details: { gates: decision?.gates ?? null, evidence: request.evidence.map((file) => file.source) },
  });
  return { promoted: true, from: moved.from, to: moved.to, alias: request.to, decision };
}
