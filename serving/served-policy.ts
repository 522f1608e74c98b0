/**
 * A served policy: a verified policy artifact turned back into an agent that prices a
 * request. The request names its observation features (raw values: prices in currency,
 * stock in units); the policy scales them as the env does (raw / scale), asks the agent
 * for its greedy ladder index, and hands the ladder price to the guardrails.
 *
 * Loading checks everything before anything is served: the artifact's hashes (a tampered
 * file is refused), and that the scenario it was trained on is present with the same
 * content hash (its ladder, costs and spaces rebuild the agent's context).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readArtifact, sha256, type PolicyManifest } from '../agents/artifact.js';
import type { Agent, Explanation } from '../agents/agent.js';
import { makeEnv } from '../env/env.js';
import { PricelabError, type Problem } from '../env/errors.js';
import { loadScenario } from '../scenarios/load.js';
import { agentFor, restoredAgentFor } from '../experiments/setup.js';
import { agentDefinition } from '../agents/registry.js';
import { parsePolicySpec } from '../agents/policy-spec.js';

export type { Explanation } from '../agents/agent.js';


export interface FeatureValues {
  readonly [name: string]: number;
}

export interface PolicyDecision {
  /** The agent's greedy ladder index, before guardrails. */
  readonly ladderIndex: number;
  readonly price: number;
}

export class ServedPolicy {
  private constructor(
    readonly manifest: PolicyManifest,
    /** sha256 of policy.json: the version's content hash, which evidence must name. */
    readonly contentHash: string,
    readonly unitCost: number,
    private readonly agent: Agent,
  ) {
    this.knownFeatures = new Set(manifest.observation.features.map((feature) => feature.name));
  }

  private readonly knownFeatures: ReadonlySet<string>;

  /** Reads, verifies and restores the artifact in `folder` (a PricelabError says what failed). */
  static async load(folder: string): Promise<ServedPolicy> {
    const artifact = readArtifact(folder);
    const manifest = artifact.manifest;
    const loaded = loadScenario(manifest.scenario.id);
    if (loaded.contentHash !== manifest.scenario.contentHash) {
      throw new PricelabError('integrity', `the policy was trained on another version of ${manifest.scenario.id}`, [
        { path: ['scenario', 'contentHash'], message: `expected ${manifest.scenario.contentHash} (from policy.json), found ${loaded.contentHash} in the installed scenario` },
      ]);
    }
    const env = makeEnv(loaded.scenario);
    const model = env.inner.model;
    const ladder = Array.from(model.ladder);
    if (ladder.length !== manifest.action.ladder.length || ladder.some((price, index) => Math.abs(price - (manifest.action.ladder[index] ?? Number.NaN)) > 1e-9)) {
      throw new PricelabError('integrity', 'the policy\'s price ladder differs from its scenario\'s', [{ path: ['action', 'ladder'], message: `expected ${JSON.stringify(ladder)}, found ${JSON.stringify(manifest.action.ladder)}` }]);
    }
    const agent = await restoredAgentFor(env, { kind: manifest.agentKind, config: manifest.agentConfig, files: artifact.files }, manifest.seeds[0] ?? 0);
    const contentHash = sha256(new Uint8Array(readFileSync(join(resolve(folder), 'policy.json'))));
    return new ServedPolicy(manifest, contentHash, model.unitCost, agent);
  }

  /**
   * A rule policy (`fixed:17.99`, `cost-plus:0.3`, `match`...) on a scenario's spaces: what
   * serving falls back to. Oracles are refused: they need the live simulator.
   */
  static async fromRule(scenarioId: string, spec: string): Promise<ServedPolicy> {
    const loaded = loadScenario(scenarioId);
    const env = makeEnv(loaded.scenario);
    const model = env.inner.model;
    const { kind, config } = parsePolicySpec(spec, model);
    if (agentDefinition(kind).needsModel) throw new PricelabError('config', `cannot serve "${spec}"`, [{ path: ['fallback'], message: `expected a rule that reads only the observation, found ${kind}, which needs the live simulator` }]);
    const agent = await agentFor(env, kind, config, 0);
    const manifest: PolicyManifest = {
      formatVersion: 1,
      name: `rule:${spec}`,
      version: 'rule',
      agentKind: kind,
      agentConfig: config,
      scenario: { id: loaded.scenario.id, contentHash: loaded.contentHash },
      observation: { features: env.observationSpace.featureNames.map((name, index) => ({ name, scale: env.observationSpace.scales[index] ?? 1, low: null, high: null })) },
      action: { ladder: Array.from(model.ladder) },
      guardrails: { minPrice: model.ladder[0] ?? 0, maxPrice: model.ladder[model.ladder.length - 1] ?? 0 },
      training: {},
      seeds: [],
      codeVersion: 'rule',
      createdAt: new Date(0).toISOString(),
      files: {},
    };
    return new ServedPolicy(manifest, sha256(new TextEncoder().encode(`rule:${loaded.scenario.id}:${spec}`)), model.unitCost, agent);
  }

  get name(): string {
    return this.manifest.name;
  }

  get version(): string {
    return this.manifest.version;
  }

  get ladder(): readonly number[] {
    return this.manifest.action.ladder;
  }

  get featureNames(): string[] {
    return this.manifest.observation.features.map((feature) => feature.name);
  }

  /** The scaled observation, or every problem with the features (missing, unknown, not finite). */
  observationOf(features: FeatureValues, path: readonly (string | number)[] = ['features']): Float32Array | Problem[] {
    const specs = this.manifest.observation.features;
    const problems: Problem[] = [];
    const observation = new Float32Array(specs.length);
    specs.forEach((spec, index) => {
      const value = features[spec.name];
      if (value === undefined) problems.push({ path: [...path, spec.name], message: 'expected a number (this policy reads it), found nothing' });
      else if (!Number.isFinite(value)) problems.push({ path: [...path, spec.name], message: `expected a finite number, found ${String(value)}` });
      else observation[index] = value / spec.scale;
    });
    const known = this.knownFeatures;
    if (Object.keys(features).length !== specs.length || problems.length > 0) {
      for (const name of Object.keys(features)) {
        if (!known.has(name)) problems.push({ path: [...path, name], message: `expected one of this policy's features (${[...known].join(', ')}), found an unknown one` });
      }
    }
    return problems.length > 0 ? problems : observation;
  }

  /** The agent's greedy choice for a scaled observation. */
  decide(observation: Float32Array): PolicyDecision {
    const ladderIndex = this.agent.act(observation, { explore: false });
    return { ladderIndex, price: this.manifest.action.ladder[ladderIndex] ?? Number.NaN };
  }

  /** Why: the agent's own explanation when it offers one, else its kind and configuration. */
  explain(observation: Float32Array, chosen: number): Explanation {
    if (this.agent.explain) return this.agent.explain(observation);
    return { kind: 'rule', description: `${this.manifest.agentKind} ${JSON.stringify(this.manifest.agentConfig)}`, chosen };
  }

  dispose(): void {
    this.agent.dispose();
  }
}
