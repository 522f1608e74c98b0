/**
 * A dashboard policy from its string: a rule spec (agents/policy-spec.ts, oracles
 * included: they read the arm's own live market), `registry:<reference>` (a registered
 * version, serving/registry.ts) or `artifact:<folder>` (a trained policy artifact, only
 * under the dashboard's runs folder: sources.ts), the last two loaded and verified by
 * serving's ServedPolicy. Every kind answers the same
 * three questions: its greedy ladder index, why (its Explanation), and its own guardrails.
 */
import type { TimeLimit } from '../../env/env.js';
import { PricelabError } from '../../env/errors.js';
import type { Agent, Explanation } from '../../agents/agent.js';
import type { Guardrails } from '../../agents/guardrails.js';
import { parsePolicySpec } from '../../agents/policy-spec.js';
import { agentFor } from '../../experiments/setup.js';
import { PolicyRegistry } from '../../serving/registry.js';
import { ServedPolicy } from '../../serving/served-policy.js';
import { dashboardArtifactFolder, type DashboardFolders } from './sources.js';

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

/** Builds the policy for one arm; `env` is the arm's own env (oracles read its market). */
export async function loadDashboardPolicy(spec: string, env: TimeLimit, seed: number, resultsHome: string, folders: DashboardFolders = {}): Promise<DashboardPolicy> {
  const model = env.inner.model;
  if (spec.startsWith(registryPrefix) || spec.startsWith(artifactPrefix)) {
    const folder = spec.startsWith(registryPrefix) ? registeredFolder(spec.slice(registryPrefix.length), resultsHome) : dashboardArtifactFolder(spec.slice(artifactPrefix.length), folders);
    const served = await ServedPolicy.load(folder);
    const trainedOn = served.manifest.scenario.id;
    if (trainedOn !== model.scenario.id) {
      served.dispose();
      throw new PricelabError('config', `cannot run ${spec} on ${model.scenario.id}`, [
        { path: ['policies'], message: `expected a policy trained on ${model.scenario.id}, found one trained on ${trainedOn}: pick that scenario` },
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
  const { kind, config } = parsePolicySpec(spec, { listPrice: model.listPrice, ladder: model.ladder });
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

function registeredFolder(reference: string, resultsHome: string): string {
  const registry = PolicyRegistry.open(resultsHome);
  try {
    return registry.resolve(reference).path;
  } finally {
    registry.close();
  }
}
