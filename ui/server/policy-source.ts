/**
 * A dashboard policy from its string: a rule spec (agents/policy-spec.ts, oracles
 * included: they read the arm's own live market), `registry:<reference>` (a registered
 * version, serving/registry.ts) or `artifact:<folder>` (a trained policy artifact, only
 * under the dashboard's runs folder: sources.ts). Every kind answers the same three
 * questions: its greedy ladder index, why (its Explanation), and its own guardrails.
 *
 * Registered and artifact policies are loaded first (`loadServedPolicy`), by serving's
 * ServedPolicy: a registered version through `PolicyRegistry.loadVersion`, which refuses a
 * version whose policy.json no longer has the content hash recorded at registration (a
 * tampered version), and every weights file is checked against policy.json. A served
 * policy carries the scenario it was trained on (its embedded scenario.json), so the
 * session can run it on a user's own scenario with no file of that name anywhere; it runs
 * only on exactly that scenario (same id and content hash).
 *
 * `historical:<sales file>[#<map.json>]` replays a shop's own prices (agents/historical.ts);
 * the dashboard reads the sales file and the map only inside its scenarios folder
 * (sources.ts insideFolder), and only files named like sales files (.csv, .jsonl, .ndjson,
 * optionally .gz) and maps ending in .json; its errors name the row and the column, never
 * a cell's value, the header or a server path.
 */
import type { TimeLimit } from '../../env/env.js';
import { PricelabError, configError } from '../../core/errors.js';
import type { Agent, Explanation } from '../../agents/agent.js';
import type { Guardrails } from '../../agents/guardrails.js';
import { parsePolicySpec } from '../../agents/policy-spec.js';
import type { HistoricalConfig } from '../../agents/historical.js';
import { historicalOptionsFor, historicalPrefix, parseHistoricalSpec, readHistory, type HistoricalOptions } from '../../calibration/historical.js';
import { agentFor } from '../../experiments/setup.js';
import { parsePolicyReference, usingPolicyRegistry } from '../../serving/registry.js';
import { storeLocation } from '../../core/store-url.js';
import { ServedPolicy } from '../../serving/served-policy.js';
import { dashboardArtifactFolder, insideFolder, type DashboardFolders } from './sources.js';

export interface DashboardPolicy {
  /** The string it was made from. */
  readonly spec: string;
  readonly agentKind: string;
  /** The policy's own guardrails (an artifact's, or the ladder's range for a rule). */
  readonly guardrails: Guardrails;
  /** Greedy ladder index for a scaled observation. */
  act(observation: Float32Array): number;
  explain(observation: Float32Array, chosen: number): Explanation;
  dispose(): void;
}

export const registryPrefix = 'registry:';
export const artifactPrefix = 'artifact:';

/** True for `registry:` and `artifact:` specs: trained policies, loaded by loadServedPolicy. */
export const isServedSpec = (spec: string): boolean => spec.startsWith(registryPrefix) || spec.startsWith(artifactPrefix);

/** Loads and verifies a `registry:<name>[@version|@alias]` or `artifact:<folder>` policy. */
export async function loadServedPolicy(spec: string, resultsHome: string, folders: DashboardFolders): Promise<ServedPolicy> {
  if (spec.startsWith(artifactPrefix)) return ServedPolicy.load(dashboardArtifactFolder(spec.slice(artifactPrefix.length), folders));
  if (!spec.startsWith(registryPrefix)) throw new PricelabError('config', `"${spec}" is not a trained policy`, [{ path: ['policies'], message: `expected ${registryPrefix}<name>[@version] or ${artifactPrefix}<folder>, found "${spec}"` }]);
  const reference = parsePolicyReference(spec.slice(registryPrefix.length));
  // PRICELAB_STORE (PostgreSQL) when set, else the SQLite file of the dashboard's home.
  return usingPolicyRegistry(storeLocation({ home: resultsHome }), (registry) => registry.loadVersion(reference.name, reference.version ?? reference.alias ?? 'production'));
}

/**
 * A loaded served policy as one arm's policy on `scenario` (the session's): refused unless
 * it was trained on that very scenario, same id and same content hash. Takes ownership of
 * `served` only when it returns.
 */
export function servedDashboardPolicy(spec: string, served: ServedPolicy, scenario: { readonly id: string; readonly contentHash: string }): DashboardPolicy {
  const trainedOn = served.trainedOn;
  if (trainedOn.scenario.id !== scenario.id) {
    throw new PricelabError('config', `cannot run ${spec} on ${scenario.id}`, [
      { path: ['policies'], message: `expected a policy trained on ${scenario.id}, found one trained on ${trainedOn.scenario.id}: pick that scenario` },
    ]);
  }
  if (trainedOn.contentHash !== scenario.contentHash) {
    throw new PricelabError('integrity', `cannot run ${spec} on this version of ${scenario.id}`, [
      { path: ['policies'], message: `expected a policy trained on ${scenario.id} with content hash ${scenario.contentHash}, found one trained on another version of it (${trainedOn.contentHash})` },
    ]);
  }
  return {
    spec,
    agentKind: served.manifest.agentKind,
    guardrails: served.manifest.guardrails,
    act: (observation) => served.decide(observation).ladderIndex,
    explain: (observation, chosen) => served.explain(observation, chosen),
    dispose: () => served.dispose(),
  };
}

/** A rule policy built on one arm; `env` is the arm's own env (oracles read its market). */
export async function ruleDashboardPolicy(spec: string, env: TimeLimit, seed: number, folders: DashboardFolders = {}): Promise<DashboardPolicy> {
  const model = env.model;
  const histories = spec.startsWith(historicalPrefix) ? new Map([[spec, await dashboardHistory(spec, folders, historicalOptionsFor(model.scenario))]]) : undefined;
  const { kind, config } = parsePolicySpec(spec, { listPrice: model.listPrice, ladder: model.ladder, ...(histories ? { histories } : {}) });
  const agent: Agent = await agentFor(env, kind, config, seed);
  return {
    spec,
    agentKind: kind,
    guardrails: { minPrice: Math.min(...model.ladder), maxPrice: Math.max(...model.ladder) },
    act: (observation) => agent.act(observation, { explore: false }),
    explain: (observation, chosen) => agent.explain?.(observation) ?? { kind: 'rule', description: `${kind} ${JSON.stringify(config)}`, chosen },
    dispose: () => agent.dispose(),
  };
}

const salesFileName = /\.(csv|jsonl|ndjson)(\.gz)?$/i;

/** A `historical:` spec's price path, its files resolved inside the scenarios folder. */
async function dashboardHistory(spec: string, folders: DashboardFolders, options: HistoricalOptions): Promise<HistoricalConfig> {
  const folder = folders.scenariosFolder;
  if (folder === undefined) {
    throw configError('the dashboard reads sales files only from its scenarios folder', [
      { path: ['policies'], message: `expected a rule or a trained policy, found "${spec}"; to replay a sales file start the dashboard with --scenarios <folder> holding it` },
    ]);
  }
  const parsed = parseHistoricalSpec(spec);
  if (!salesFileName.test(parsed.file)) throw configError(`cannot replay "${parsed.file}"`, [{ path: ['policies'], message: `expected a sales file ending in .csv, .jsonl or .ndjson (optionally .gz), found "${parsed.file}"` }]);
  if (parsed.map !== undefined && !parsed.map.endsWith('.json')) throw configError(`cannot read "${parsed.map}"`, [{ path: ['policies'], message: `expected a column map ending in .json, found "${parsed.map}"` }]);
  const file = insideFolder(folder, parsed.file, 'policies', 'scenarios folder');
  const map = parsed.map === undefined ? undefined : insideFolder(folder, parsed.map, 'policies', 'scenarios folder');
  let history: HistoricalConfig;
  try {
    history = await readHistory(map === undefined ? { file } : { file, map }, options);
  } catch (error) {
    // Errors name the row and the column, never what a cell or the header holds (the reader's "found ..." part) nor a server path.
    if (!(error instanceof PricelabError)) throw error;
    throw new PricelabError(
      error.kind,
      `cannot replay "${spec}"`,
      error.problems.map((problem) => ({ path: ['policies', ...problem.path], message: problem.message.replace(/,? found[\s\S]*$/, '') })),
    );
  }
  // The page sees the names it sent, not the server's paths.
  return { ...history, source: { ...history.source, file: parsed.file, ...(parsed.map === undefined ? {} : { map: parsed.map }) } };
}

