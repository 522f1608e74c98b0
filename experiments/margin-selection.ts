/**
 * Choosing a DQN's change margin on validation seeds: model selection of a greedy-policy setting,
 * as keepBest chooses an export (evaluation-callback.ts) and a population a training seed
 * (population.ts). Which kinds have a change margin, and how an export gets one, is their
 * definition's `greedyPolicy` (agents/definition.ts): nothing here names a kind.
 *
 * The margin (agents/change-margin.ts) keeps yesterday's price unless another beats it by more
 * than m; it shapes the greedy policy only, never the weights, so one trained network is evaluated
 * at every candidate margin on the same validation seeds (common random numbers) and the one with
 * the highest mean episode reward is kept (the first listed on a tie). How large a margin pays
 * depends on how noisy the network's values are, which the training run decides: on
 * steady-state-v1 the better networks choose 100-150, the others 200-300, which holds one price
 * all year (docs/agents/dqn.md, fifth round). Use seeds disjoint from any a final comparison
 * reports on.
 */
import type { AgentExport } from '../agents/agent.js';
import { agentDefinitions } from '../agents/registry.js';
import type { TimeLimit } from '../env/env.js';
import { configError, PricelabError, type Problem } from '../core/errors.js';
import { evaluate } from './evaluate.js';
import { restoredAgentFor } from './setup.js';
import { mean } from './statistics/moments.js';
import type { TrainingCallback, TrainingEnd } from './training-callback.js';

export interface MarginSelectionOptions {
  /** A DQN export, or a phased one whose finale is a DQN (its other settings are kept). */
  exported: AgentExport;
  /** An env of the market (the agent is restored for it), for the validation episodes on seeds seed, seed + 1, ... */
  env: TimeLimit;
  episodes: number;
  seed: number;
  /** Candidate margins in reward units, each 0 or more. */
  margins: readonly number[];
}

export interface MarginSelection {
  margin: number;
  /** The export with the chosen margin. */
  exported: AgentExport;
  /** Every candidate's mean episode reward on the validation seeds, in the order given. */
  candidates: { margin: number; meanReward: number }[];
}

export async function chooseChangeMargin(options: MarginSelectionOptions): Promise<MarginSelection> {
  const problems = [
    ...changeMarginProblems(options.exported.kind, options.exported.config, ['exported', 'kind']),
    ...(options.margins.length > 0 ? [] : [{ path: ['margins'], message: 'expected at least one candidate margin, found none' }]),
    ...options.margins.flatMap((margin, index) => (Number.isFinite(margin) && margin >= 0 ? [] : [{ path: ['margins', index], message: `expected a finite margin of 0 or more, found ${margin}` }])),
    ...(Number.isInteger(options.episodes) && options.episodes >= 1 ? [] : [{ path: ['episodes'], message: `expected a whole number of validation episodes, 1 or more, found ${options.episodes}` }]),
  ];
  if (problems.length > 0) throw configError('bad margin selection', problems);
  const candidates: MarginSelection['candidates'] = [];
  for (const margin of options.margins) {
    const agent = await restoredAgentFor(options.env, withMargin(options.exported, margin), options.seed);
    try {
      candidates.push({ margin, meanReward: mean(evaluate(options.env, agent, { episodes: options.episodes, seed: options.seed }).map((episode) => episode.totalReward)) });
    } finally {
      agent.dispose();
    }
  }
  const best = candidates.reduce((chosen, candidate) => (candidate.meanReward > chosen.meanReward ? candidate : chosen));
  return { margin: best.margin, exported: withMargin(options.exported, best.margin), candidates };
}

/**
 * Why an agent of this kind and config has no change margin to choose ([] when it has one: its
 * definition's greedyPolicy offers one for this config). Shared by chooseChangeMargin and
 * `pricelab train --choose-margin`, which asks before training.
 */
export function changeMarginProblems(kind: string, config: unknown, path: readonly (string | number)[]): Problem[] {
  const settings = agentDefinitions.get(kind)?.greedyPolicy;
  const missing = settings ? settings.changeMarginMissing?.(config) : `"${kind}"`;
  if (missing === undefined) return [];
  return [{ path: [...path], message: `expected a dqn, or a phased agent whose finale is a dqn (only DQN has a change margin), found ${missing}` }];
}

function withMargin(exported: AgentExport, margin: number): AgentExport {
  const settings = agentDefinitions.get(exported.kind)?.greedyPolicy;
  if (!settings) throw new PricelabError('config', `a ${exported.kind} export has no change margin`);
  return settings.withChangeMargin(exported, margin);
}

/**
 * The margin choice as a training callback: when training ends, the policy it leaves (keep-best's
 * export, else the agent's) is evaluated at every candidate margin and `selection` holds the
 * choice. Put it after the evaluation callback, so the last evaluation is among keep-best's candidates.
 */
export class MarginChoiceCallback implements TrainingCallback {
  selection: MarginSelection | undefined;
  private readonly settings: Omit<MarginSelectionOptions, 'exported'>;
  private readonly onSelection: ((selection: MarginSelection) => void) | undefined;

  constructor(settings: Omit<MarginSelectionOptions, 'exported'>, onSelection?: (selection: MarginSelection) => void) {
    this.settings = settings;
    this.onSelection = onSelection;
  }

  async onTrainingEnd(end: TrainingEnd): Promise<void> {
    const exported = end.best ? end.best.exported : await end.agent.export();
    this.selection = await chooseChangeMargin({ ...this.settings, exported });
    this.onSelection?.(this.selection);
  }
}
