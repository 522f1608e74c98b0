/**
 * The arms of a comparison. An arm is one of:
 *
 *   a rule policy spec, as `pricelab simulate --policy` takes it   fixed:17.99, cost-plus:0.3, markdown
 *   an agent kind, trained per seed when it learns                 q-learning, ucb1, dqn (config from a JSON file)
 *   a policy artifact folder (policy.json + weights), loaded and   runs/dqn1/policy
 *   integrity-checked, evaluated as it is (never retrained)
 *   a shop's own price path, replayed (agents/historical.ts)       historical:sales.csv, historical:oj.csv.gz#map.json
 *   (the caller reads the file first: `histories`, calibration/historical.ts)
 *   a registered version, resolved by the caller's `resolveArtifact`  registry:everyday@2, registry:everyday@production
 *   (the CLI passes serving's registry): its policy.json must have the content hash recorded
 *   at registration, checked before anything else is read, as serving checks it
 *
 * On a coupon scenario (a `coupons` block) the arms play the coupon market, and a coupon rule
 * (`none[@price]`, `coupon:<campaign>[@price]`) is an arm too: compare/coupon-arms.ts.
 *
 * written `spec` or `name=spec`; names are unique. Each arm carries its identity (spec,
 * kind, config and, for an artifact, the sha256 of its policy.json, which lists the sha256
 * of every weights file): evidence names the exact version it compared.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { readArtifact, type ExpectedContent } from '../../agents/artifact.js';
import type { Agent, AgentExport } from '../../agents/agent.js';
import { parsePolicySpec, policySpecs } from '../../agents/policy-spec.js';
import type { HistoricalConfig } from '../../agents/historical.js';
import { agentDefinitions } from '../../agents/registry.js';
import type { CouponEnv } from '../../env/coupons/coupon-env.js';
import { PricelabError, configError, type Problem } from '../../core/errors.js';
import type { MarketModel } from '../../env/model.js';
import { agentFor, restoredAgentFor, type AgentEnv } from '../setup.js';
import { couponPolicySpecs, isCouponPolicySpec } from '../fairness-check.js';
import { couponPolicyFitProblems } from '../coupon-policy.js';
import { couponRuleAgent, couponRuleConfig, couponRuleKind } from './coupon-arms.js';
import { readJsonFile } from '../../core/json-file.js';

export type ArmSource = 'rule' | 'agent' | 'artifact';

export interface ArtifactIdentity {
  /** Absolute path of the policy folder. */
  readonly path: string;
  /** sha256 of policy.json: pins the manifest and, through it, every weights file. */
  readonly policySha256: string;
  readonly name: string;
  readonly version: string;
  /** The scenario the policy was trained on. */
  readonly trainedOn: { readonly id: string; readonly contentHash: string };
}

export interface Arm {
  readonly name: string;
  /** The spec as written, without `name=`. */
  readonly spec: string;
  readonly source: ArmSource;
  /** The agent kind behind the arm (fixed-price for `fixed:17.99`). */
  readonly kind: string;
  /** The agent's config as given (a rule's parameters, a config file's contents, an artifact's manifest config). */
  readonly config: unknown;
  /** Where a config file came from (agent arms with --config). */
  readonly configFile?: string;
  readonly artifact?: ArtifactIdentity;
  /** The artifact's kind, config and weights, restored per seed. */
  readonly exported?: AgentExport;
}

/** An artifact folder to load, and (for a registered version) the content hash its policy.json must have. */
export interface ResolvedArtifact {
  readonly folder: string;
  readonly expected?: ExpectedContent;
}

/**
 * Turns an arm spec into the artifact to load when the caller knows it (a `registry:`
 * reference, or a folder inside the registry, with the hash recorded for it); undefined
 * leaves the spec to the other forms. experiments/ cannot import serving/, so the CLI
 * passes one built on the policy registry.
 */
export type ArtifactResolver = (spec: string) => ResolvedArtifact | undefined;

/** The prefix of a registered version's reference: `registry:name@version` or `registry:name@alias`. */
export const registryPrefix = 'registry:';

export interface ArmFacts {
  readonly model: MarketModel;
  readonly featureNames: readonly string[];
  readonly resolveArtifact?: ArtifactResolver;
  /** `historical:` specs' price paths, read by the caller (parsing is synchronous, reading a sales file is not). */
  readonly histories?: ReadonlyMap<string, HistoricalConfig>;
  /** On a coupon scenario: the coupon market the arms play (coupon rules, coupon artifacts). */
  readonly couponEnv?: CouponEnv;
}

/** Names appear in tables and the JSON; they may be a path (an artifact arm without name=), never hold spaces, commas or '='. */
const armNamePattern = /^[^\s,=]+$/;

/**
 * Parses every arm, listing every problem at once: unknown specs, duplicate names, config
 * files for arms that take none, artifacts that do not fit the scenario.
 */
export function parseArms(specs: readonly string[], configFiles: ReadonlyMap<string, string>, facts: ArmFacts): Arm[] {
  const problems: Problem[] = [];
  const arms: Arm[] = [];
  if (specs.length < 2) problems.push({ path: ['agents'], message: `expected at least two arms (a,b[,c...]), found ${specs.length}` });
  specs.forEach((written, index) => {
    const name = armNameOf(written);
    const spec = armSpecOf(written);
    if (!armNamePattern.test(name)) {
      problems.push({ path: ['agents', index], message: `expected an arm name without spaces, commas or '=' (write name=spec to give one), found "${name}"` });
      return;
    }
    if (arms.some((arm) => arm.name === name)) {
      problems.push({ path: ['agents', index], message: `expected unique arm names (write name=spec to tell them apart), found "${name}" twice` });
      return;
    }
    try {
      arms.push(resolveArm(name, spec, configFiles.get(name), facts));
    } catch (error) {
      if (!(error instanceof PricelabError)) throw error;
      if (error.kind === 'integrity' || error.kind === 'not-found') throw error;
      problems.push(...(error.problems.length > 0 ? error.problems.map((problem) => ({ path: ['agents', index, ...problem.path], message: problem.message })) : [{ path: ['agents', index], message: error.message }]));
    }
  });
  for (const name of configFiles.keys()) {
    if (!specs.some((written) => armNameOf(written) === name)) {
      problems.push({ path: ['config', name], message: `expected the name of an arm (${arms.map((arm) => arm.name).join(', ')}), found "${name}"` });
    }
  }
  if (problems.length > 0) throw configError(`cannot compare these arms (${problems.length} problem${problems.length === 1 ? '' : 's'})`, problems);
  return arms;
}

/** The name of `name=spec`, or the spec itself. An '=' after a double quote is part of a quoted file name, not a name. */
export function armNameOf(written: string): string {
  return hasArmName(written) ? written.slice(0, written.indexOf('=')) : written;
}

/** The spec of `name=spec`, or the whole of it. */
export function armSpecOf(written: string): string {
  return hasArmName(written) ? written.slice(written.indexOf('=') + 1) : written;
}

function hasArmName(written: string): boolean {
  const equals = written.indexOf('=');
  return equals >= 0 && !written.slice(0, equals).includes('"');
}

/**
 * Splits a comma-separated list of arms (`--agents`): commas inside double quotes belong to a
 * quoted file name (`historical:"sales, 2024.csv",q-learning`); blanks around arms go.
 */
export function splitArmList(text: string): string[] {
  const arms: string[] = [];
  let current = '';
  let quoted = false;
  for (const character of text) {
    if (character === '"') quoted = !quoted;
    if (character === ',' && !quoted) {
      arms.push(current);
      current = '';
    } else current += character;
  }
  arms.push(current);
  return arms.map((arm) => arm.trim()).filter((arm) => arm.length > 0);
}

function resolveArm(name: string, spec: string, configFile: string | undefined, facts: ArmFacts): Arm {
  const registered = facts.resolveArtifact?.(spec);
  if (registered === undefined && spec.startsWith(registryPrefix)) {
    throw configError('registry arms need a registry', [{ path: [], message: `expected a caller that resolves ${registryPrefix}name@version (the pricelab CLI), found none for "${spec}"` }]);
  }
  if (registered !== undefined || (existsSync(spec) && statSync(spec).isDirectory())) {
    if (configFile !== undefined) throw configError('config', [{ path: ['config'], message: `expected no --config for a policy folder (its config is in policy.json), found ${configFile}` }]);
    return artifactArm(name, spec, registered ?? { folder: spec }, facts);
  }
  if (facts.couponEnv && isCouponPolicySpec(spec)) {
    if (configFile !== undefined) throw configError('config', [{ path: ['config'], message: `expected no --config for the coupon rule "${spec}" (its price and campaign are in the spec), found ${configFile}` }]);
    return { name, spec, source: 'rule', kind: couponRuleKind, config: couponRuleConfig(spec, facts.couponEnv) };
  }
  const looksLikeRule = policySpecs.some((pattern) => pattern.split(/[:[]/)[0] === spec.split(':')[0]);
  if (looksLikeRule && !agentDefinitions.has(spec)) {
    if (configFile !== undefined) throw configError('config', [{ path: ['config'], message: `expected no --config for the rule spec "${spec}" (its parameter is in the spec), found ${configFile}` }]);
    const { kind, config } = parsePolicySpec(spec, { listPrice: facts.model.listPrice, ladder: facts.model.ladder, ...(facts.histories ? { histories: facts.histories } : {}) });
    return { name, spec, source: 'rule', kind, config };
  }
  const definition = agentDefinitions.get(spec);
  if (definition) {
    const config = configFile === undefined ? {} : readJsonFile(configFile, 'agent config');
    const parsed = definition.configSchema.safeParse(config);
    if (!parsed.success) {
      throw configError(`the ${spec} config is not valid`, parsed.error.issues.map((issue) => ({ path: ['config', ...issue.path.map((part) => (typeof part === 'symbol' ? String(part) : part))], message: issue.message })));
    }
    return { name, spec, source: 'agent', kind: spec, config, ...(configFile === undefined ? {} : { configFile: resolve(configFile) }) };
  }
  throw configError('unknown arm', [
    { path: [], message: `expected ${facts.couponEnv ? `a coupon rule (${couponPolicySpecs.join(', ')}), ` : ''}a rule spec (${policySpecs.join(', ')}), an agent kind (${[...agentDefinitions.keys()].join(', ')}), a policy folder or ${registryPrefix}name@version, found "${spec}"` },
  ]);
}

function artifactArm(name: string, spec: string, located: ResolvedArtifact, facts: ArmFacts): Arm {
  const path = resolve(located.folder);
  const artifact = readArtifact(path, located.expected);
  const manifest = artifact.manifest;
  const found = manifest.observation.features.map((feature) => feature.name);
  const problems: Problem[] = [];
  if (facts.couponEnv) problems.push(...couponPolicyFitProblems(facts.couponEnv, manifest));
  else if (found.join('\n') !== facts.featureNames.join('\n')) {
    problems.push({ path: ['observation', 'features'], message: `expected ${facts.featureNames.length} features (${facts.featureNames.join(', ')}), found ${found.length} (${found.join(', ')}): the policy was trained on ${manifest.scenario.id}` });
  }
  if (!facts.couponEnv && manifest.action.ladder.length !== facts.model.ladder.length) {
    problems.push({ path: ['action', 'ladder'], message: `expected ${facts.model.ladder.length} prices, found ${manifest.action.ladder.length}` });
  }
  if (problems.length > 0) throw configError(`the policy at ${located.expected?.label ?? path} does not fit this scenario`, problems);
  // The hash of the bytes verified (not a second read, which could see other bytes).
  const policySha256 = artifact.contentHash;
  return {
    name,
    spec,
    source: 'artifact',
    kind: manifest.agentKind,
    config: manifest.agentConfig,
    artifact: { path, policySha256, name: manifest.name, version: manifest.version, trainedOn: manifest.scenario },
    exported: { kind: manifest.agentKind, config: manifest.agentConfig, files: artifact.files },
  };
}


/** A fresh agent for one seed: restored from the artifact, or created from kind and config. */
export async function agentForArm(arm: Arm, env: AgentEnv, seed: number): Promise<Agent> {
  if (arm.kind === couponRuleKind) return couponRuleAgent(arm.config, env);
  return arm.exported ? restoredAgentFor(env, arm.exported, seed) : agentFor(env, arm.kind, arm.config, seed);
}

/** `--config <arm>=<file.json>` values, e.g. `q=q.json`, by arm name. */
export function parseConfigOptions(values: readonly string[]): Map<string, string> {
  const files = new Map<string, string>();
  const problems: Problem[] = [];
  values.forEach((value, index) => {
    const equals = value.indexOf('=');
    if (equals <= 0) problems.push({ path: ['config', index], message: `expected <arm>=<file.json>, found "${value}"` });
    else files.set(value.slice(0, equals), value.slice(equals + 1));
  });
  if (problems.length > 0) throw configError('cannot read --config', problems);
  return files;
}
