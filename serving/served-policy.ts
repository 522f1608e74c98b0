/**
 * A served policy: a verified policy artifact turned back into an agent that prices a
 * request. The request names its observation features (raw values: prices in currency,
 * stock in units); the policy scales them as the env does (raw / scale), asks the agent
 * for its greedy ladder index, and hands the ladder price to the guardrails.
 *
 * Loading checks everything before anything is served: for a registered version, the
 * sha256 of policy.json against the content hash the registry recorded (first, before
 * anything else is read); the artifact's hashes (a tampered file is refused); then the
 * scenario it was trained on, which rebuilds the agent's context (ladder, costs, spaces):
 * the artifact's own scenario.json when it has one (never a file path or the current
 * folder), else, for artifacts from before scenario.json, the built-in scenario of that id
 * with the same content hash.
 *
 * A coupon policy (trained on a coupon scenario: its action spec carries the campaign menu,
 * env/coupons/coupon-menu.ts) is restored on the coupon market (env/coupons/coupon-env.ts) of
 * its scenario, which must fit it (features, prices, menu); its decision names the price
 * (ladderIndex: the price's index in the ladder) and the coupon of the action chosen.
 */
import { readArtifact, scenarioFileName, sha256, type ExpectedContent, type PolicyManifest, type ReadPolicyArtifact } from '../agents/artifact.js';
import type { Agent, Explanation } from '../agents/agent.js';
import { makeEnv } from '../env/env.js';
import { PricelabError, type Problem } from '../core/errors.js';
import { builtInScenarioIds, loadScenario, parseScenario } from '../scenarios/load.js';
import type { Scenario } from '../scenarios/schema.js';
import { agentFor, restoredAgentFor } from '../experiments/setup.js';
import { agentDefinition } from '../agents/registry.js';
import { parsePolicySpec } from '../agents/policy-spec.js';
import { CouponEnv } from '../env/coupons/coupon-env.js';
import { couponChoiceOf, type CouponCampaignDescription, type CouponMenu } from '../env/coupons/coupon-menu.js';
import { couponPolicyFitProblems } from '../experiments/coupon-policy.js';

export type { Explanation } from '../agents/agent.js';


export interface FeatureValues {
  readonly [name: string]: number;
}

export interface PolicyDecision {
  /** The agent's greedy ladder index (a coupon policy: the index of its action's price), before guardrails. */
  readonly ladderIndex: number;
  readonly price: number;
  /** A coupon policy's choice: the agent's action index and its campaign (null: no coupon). */
  readonly coupon?: { readonly action: number; readonly campaign: number; readonly description: CouponCampaignDescription | null };
}

/** A validated scenario with the sha256 of its file: what a policy was trained on. */
export interface TrainedOn {
  readonly scenario: Scenario;
  readonly contentHash: string;
}

/**
 * The scenario an artifact was trained on: its embedded scenario.json, validated, with
 * the id and hash policy.json names; or, for an artifact without one, the built-in
 * scenario of that id if its content hash matches.
 */
export function trainedOnOf(artifact: Pick<ReadPolicyArtifact, 'manifest' | 'scenarioFile'>, label: string): TrainedOn {
  const expected = artifact.manifest.scenario;
  if (artifact.scenarioFile !== undefined) {
    const contentHash = sha256(artifact.scenarioFile);
    if (contentHash !== expected.contentHash) throw new PricelabError('integrity', `the scenario embedded in ${label} is not the one it names`, [{ path: ['scenario', 'contentHash'], message: `expected ${expected.contentHash} (from policy.json), found ${contentHash} for ${scenarioFileName}` }]);
    let scenario: Scenario;
    try {
      scenario = parseScenario(new TextDecoder().decode(artifact.scenarioFile), `${scenarioFileName} of ${label}`);
    } catch (error) {
      if (error instanceof PricelabError) throw new PricelabError('integrity', `the scenario embedded in ${label} is no longer a valid scenario`, error.problems.map((problem) => ({ path: [scenarioFileName, ...problem.path], message: problem.message })));
      throw error;
    }
    if (scenario.id !== expected.id) throw new PricelabError('integrity', `the scenario embedded in ${label} is not the one it names`, [{ path: ['scenario', 'id'], message: `expected "${expected.id}" (from policy.json), found "${scenario.id}" in ${scenarioFileName}` }]);
    return { scenario, contentHash };
  }
  if (!builtInScenarioIds().includes(expected.id)) {
    throw new PricelabError('not-found', `${label} carries no ${scenarioFileName} and "${expected.id}" is not a built-in scenario`, [
      { path: ['scenario', 'id'], message: `expected a built-in scenario id (${builtInScenarioIds().join(', ')}) for an artifact without ${scenarioFileName}, found "${expected.id}": export the policy again with this version of pricelab` },
    ]);
  }
  const loaded = loadScenario(expected.id);
  if (loaded.contentHash !== expected.contentHash) {
    throw new PricelabError('integrity', `the policy was trained on another version of ${expected.id}`, [
      { path: ['scenario', 'contentHash'], message: `expected ${expected.contentHash} (from policy.json), found ${loaded.contentHash} in the installed scenario` },
    ]);
  }
  return { scenario: loaded.scenario, contentHash: loaded.contentHash };
}

export class ServedPolicy {
  private constructor(
    readonly manifest: PolicyManifest,
    /** sha256 of policy.json: the version's content hash, which evidence must name. */
    readonly contentHash: string,
    readonly unitCost: number,
    private readonly agent: Agent,
    /** The scenario the policy was trained on (from its artifact): what a rule fallback prices on. */
    readonly trainedOn: TrainedOn,
  ) {
    this.knownFeatures = new Set(manifest.observation.features.map((feature) => feature.name));
    this.couponMenu = manifest.action.coupons;
  }

  /** A coupon policy's campaign menu (undefined: a price-only policy). */
  readonly couponMenu: CouponMenu | undefined;

  private readonly knownFeatures: ReadonlySet<string>;

  /**
   * Reads, verifies and restores the artifact in `folder` (a PricelabError says what
   * failed). With `expected` (a registered version: its recorded content hash and a label
   * such as `everyday@3`), sha256(policy.json) must match before anything else is read;
   * PolicyRegistry.loadVersion passes it.
   */
  static async load(folder: string, expected?: ExpectedContent): Promise<ServedPolicy> {
    const artifact = readArtifact(folder, expected);
    const manifest = artifact.manifest;
    const trainedOn = trainedOnOf(artifact, expected?.label ?? folder);
    if (manifest.action.coupons !== undefined || trainedOn.scenario.coupons !== undefined) {
      const couponEnv = new CouponEnv(trainedOn.scenario);
      const problems = couponPolicyFitProblems(couponEnv, manifest);
      if (problems.length > 0) throw new PricelabError('integrity', `the coupon policy ${expected?.label ?? folder} does not fit the coupon market of its scenario`, problems);
      const agent = await restoredAgentFor(couponEnv, { kind: manifest.agentKind, config: manifest.agentConfig, files: artifact.files }, manifest.seeds[0] ?? 0);
      return new ServedPolicy(manifest, artifact.contentHash, couponEnv.model.unitCost, agent, trainedOn);
    }
    const env = makeEnv(trainedOn.scenario);
    const model = env.model;
    const ladder = Array.from(model.ladder);
    if (ladder.length !== manifest.action.ladder.length || ladder.some((price, index) => Math.abs(price - (manifest.action.ladder[index] ?? Number.NaN)) > 1e-9)) {
      throw new PricelabError('integrity', 'the policy\'s price ladder differs from its scenario\'s', [{ path: ['action', 'ladder'], message: `expected ${JSON.stringify(ladder)}, found ${JSON.stringify(manifest.action.ladder)}` }]);
    }
    const agent = await restoredAgentFor(env, { kind: manifest.agentKind, config: manifest.agentConfig, files: artifact.files }, manifest.seeds[0] ?? 0);
    return new ServedPolicy(manifest, artifact.contentHash, model.unitCost, agent, trainedOn);
  }

  /**
   * A rule policy (`fixed:17.99`, `cost-plus:0.3`, `match`...) on a scenario's spaces: what
   * serving falls back to. `scenario` is the scenario itself, e.g. a served policy's
   * `trainedOn` (a built-in id is still accepted). Oracles are refused: they need the live
   * simulator.
   */
  static async fromRule(scenario: TrainedOn | string, spec: string): Promise<ServedPolicy> {
    const loaded = typeof scenario === 'string' ? loadScenario(scenario) : scenario;
    const env = makeEnv(loaded.scenario);
    const model = env.model;
    const { kind, config } = parsePolicySpec(spec, model);
    if (agentDefinition(kind).needsModel) throw new PricelabError('config', `cannot serve "${spec}"`, [{ path: ['fallback'], message: `expected a rule that reads only the observation, found ${kind}, which needs the live simulator` }]);
    // On a coupon scenario the rule reads the coupon market's observation (what the coupon policy is sent) and names its actions by the menu.
    const couponEnv = loaded.scenario.coupons !== undefined ? new CouponEnv(loaded.scenario) : undefined;
    const space = couponEnv?.observationSpace ?? env.observationSpace;
    const agent = await agentFor(couponEnv ?? env, kind, config, 0);
    const manifest: PolicyManifest = {
      formatVersion: 1,
      name: `rule:${spec}`,
      version: 'rule',
      agentKind: kind,
      agentConfig: config,
      scenario: { id: loaded.scenario.id, contentHash: loaded.contentHash },
      observation: { features: space.featureNames.map((name, index) => ({ name, scale: space.scales[index] ?? 1, low: null, high: null })) },
      action: couponEnv ? { ladder: Array.from(couponEnv.prices), coupons: couponEnv.menu } : { ladder: Array.from(model.ladder) },
      guardrails: { minPrice: model.ladder[0] ?? 0, maxPrice: model.ladder[model.ladder.length - 1] ?? 0 },
      training: {},
      seeds: [],
      codeVersion: 'rule',
      createdAt: new Date(0).toISOString(),
      files: {},
    };
    return new ServedPolicy(manifest, sha256(new TextEncoder().encode(`rule:${loaded.scenario.id}:${spec}`)), model.unitCost, agent, { scenario: loaded.scenario, contentHash: loaded.contentHash });
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
        // Named once, without repeating every feature name per unknown key (featureNames lists them).
        if (!known.has(name)) problems.push({ path: [...path, name], message: `expected one of this policy's ${known.size} features, found an unknown one` });
      }
    }
    return problems.length > 0 ? problems : observation;
  }

  /** The agent's greedy choice for a scaled observation. */
  decide(observation: Float32Array): PolicyDecision {
    const action = this.agent.act(observation, { explore: false });
    const menu = this.couponMenu;
    if (!menu) return { ladderIndex: action, price: this.manifest.action.ladder[action] ?? Number.NaN };
    const choice = couponChoiceOf(menu, action);
    return { ladderIndex: choice.priceIndex, price: this.manifest.action.ladder[choice.priceIndex] ?? Number.NaN, coupon: { action, campaign: choice.campaign, description: choice.coupon } };
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
