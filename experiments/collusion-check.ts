/**
 * The collusion measurement of a named candidate (`pricelab check-collusion`): a rule
 * (`fixed:<price>`, `best-response`), the Calvano learners' firm 0 after a session
 * (`calvano`), or a policy artifact, facing a rival that learns against it
 * (experiments/collusion-rival.ts) or, for `calvano`, its own co-learner. The evidence
 * (experiments/collusion.ts) is what the collusion gate reads (serving/collusion-gate.ts).
 */
import type { ReadPolicyArtifact } from '../agents/artifact.js';
import { runCalvanoSession } from '../agents/calvano.js';
import { buildCalvanoGame } from '../agents/calvano-game.js';
import { configError } from '../core/errors.js';
import { makeEnv } from '../env/env.js';
import { buildMarketModel } from '../env/model.js';
import { loadScenario } from '../scenarios/load.js';
import { agentStrategy, calvanoStrategies, fixedPriceStrategy, measureCollusion, myopicBestResponseStrategy, type CollusionEvidence, type MemoryOneStrategy } from './collusion.js';
import { learnRival } from './collusion-rival.js';
import { loadCalvanoConfig } from './reproduce-calvano.js';
import { restoredAgentFor } from './setup.js';

export const collusionRivals = ['learning', 'calvano'] as const;
export type CollusionRival = (typeof collusionRivals)[number];

export interface CollusionCheckOptions {
  readonly scenario: string;
  /** A rule spec (fixed:<price>, best-response), `calvano`, or a policy artifact read back. */
  readonly candidate: string | ReadPolicyArtifact;
  readonly rival: CollusionRival;
  readonly seed: number;
  /** Exploration decay of the learners (default 2e-5: a session in about a second; the paper's is 4e-6). */
  readonly beta?: number;
}

export interface CollusionCheck {
  readonly evidence: CollusionEvidence;
  readonly rival: { readonly kind: CollusionRival; readonly converged: boolean; readonly periods: number };
}

export async function checkCollusionOf(options: CollusionCheckOptions): Promise<CollusionCheck> {
  const loaded = loadScenario(options.scenario);
  const model = buildMarketModel(loaded.scenario);
  const beta = options.beta ?? 2e-5;
  const spec = options.candidate;
  if (options.rival === 'calvano' && spec !== 'calvano') {
    throw configError('no co-learner', [{ path: ['rival'], message: 'expected --rival learning for a candidate other than calvano (only the Calvano learners have a co-learner)' }]);
  }
  let candidate: MemoryOneStrategy;
  let startPrices: number[] | undefined;
  let coLearner: MemoryOneStrategy | undefined;
  let periods = 0;
  let converged = true;
  let dispose = () => {};
  let policySha256: string | undefined;
  if (typeof spec !== 'string') {
    const env = makeEnv(loaded.scenario);
    const expected = env.observationSpace.featureNames;
    const found = spec.manifest.observation.features.map((feature) => feature.name);
    if (expected.join('\n') !== found.join('\n') || spec.manifest.action.ladder.length !== model.ladder.length) {
      throw configError(`the policy does not fit ${loaded.scenario.id}`, [{ path: ['policy'], message: `expected the features (${expected.join(', ')}) and ${model.ladder.length} ladder prices, found (${found.join(', ')}) and ${spec.manifest.action.ladder.length}` }]);
    }
    const agent = await restoredAgentFor(env, { kind: spec.manifest.agentKind, config: spec.manifest.agentConfig, files: spec.files }, options.seed);
    dispose = () => agent.dispose();
    candidate = agentStrategy(`${spec.manifest.name} (${spec.manifest.agentKind})`, agent, env.observationSpace, model, env.reset({ seed: options.seed }).observation);
    policySha256 = spec.contentHash;
  } else if (spec === 'calvano') {
    const session = runCalvanoSession(loadCalvanoConfig({ scenario: options.scenario, beta, maxPeriods: 10_000_000 }), options.seed);
    const game = buildCalvanoGame(session.config);
    const strategies = calvanoStrategies(session);
    candidate = strategies[0]!;
    coLearner = strategies[1];
    startPrices = [0, 1].map((firm) => game.prices[game.jointActions[(session.cycleStates[0] ?? 0) * 2 + firm] ?? 0] ?? 0);
    periods = session.periods;
    converged = session.converged;
  } else if (spec === 'best-response') {
    candidate = myopicBestResponseStrategy(model, 0);
  } else if (/^fixed:\d+(\.\d+)?$/.test(spec)) {
    candidate = fixedPriceStrategy(Number(spec.slice('fixed:'.length)));
  } else {
    throw configError('unknown candidate', [{ path: ['policy'], message: `expected fixed:<price>, best-response, calvano, a policy folder or registry:name@version, found "${spec}"` }]);
  }
  try {
    let rival: MemoryOneStrategy;
    if (options.rival === 'calvano' && coLearner) rival = coLearner;
    else {
      const learned = learnRival(model, candidate, { seed: options.seed, beta });
      rival = learned.strategy;
      periods = learned.periods;
      converged = learned.converged;
    }
    const evidence = measureCollusion({ model, candidate, rivals: [rival], seed: options.seed, ...(startPrices ? { startPrices } : {}), ...(policySha256 === undefined ? {} : { policySha256 }) });
    return { evidence, rival: { kind: options.rival, converged, periods } };
  } finally {
    dispose();
  }
}
