/**
 * Epsilon-greedy over the price ladder: a multi-armed bandit whose arms are the ladder's
 * prices and whose reward for an arm is the step's reward (profit) at that price. The
 * market state is ignored: the agent learns one mean reward per price.
 *
 * Acting while training (explore: true):
 *   1. an arm with no reward in memory is played first (lowest index first), so every price
 *      is tried once before the rule applies (again after it left a sliding window);
 *   2. otherwise, with probability epsilon_t a uniformly random arm, else the greedy arm,
 *        epsilon_t = max(epsilonMin, epsilon * epsilonDecay^t),  t = steps observed so far
 *      (epsilonDecay = 1: constant epsilon). Two uniforms are drawn per such step.
 * Acting greedily (explore: false): the arm with the best mean reward in memory, ties to the
 * lowest index (the lowest price); arm 0 before any reward.
 *
 * Parameters (defaults in brackets):
 *   epsilon [0.1]        exploration probability at t = 0 (Sutton & Barto use 0.1 and 0.01).
 *   epsilonDecay [1]     per-step factor on epsilon; 0.999 halves it in about 700 steps.
 *   epsilonMin [0]       floor of the decaying epsilon.
 *   nonStationary [none] memory of the means: none, sliding-window {window} or discounted
 *                        {gamma} (Garivier & Moulines 2011), for seasonal markets. See
 *                        agents/bandit-statistics.ts.
 * Weights: bandit.json holds the arm statistics (JSON). Randomness: the 'exploration'
 * stream of the context's seed; a restored agent restarts that stream, a checkpoint keeps it.
 *
 * Sources: R. S. Sutton, A. G. Barto, Reinforcement Learning: An Introduction, 2nd ed.,
 * MIT Press 2018, section 2.2-2.5 (epsilon-greedy action values, incremental and
 * exponential recency-weighted means); A. Garivier, E. Moulines, On upper-confidence bound
 * policies for switching bandit problems, ALT 2011 (sliding window and discounting).
 */
import { z } from 'zod';
import { RandomStream } from '../core/random.js';
import type { AgentContext } from './agent.js';
import { ArmBandit, armBanditDefinition } from './arm-bandit.js';
import { type ArmStatistics, nonStationarySchema } from './bandit-statistics.js';

const kind = 'epsilon-greedy';

export const epsilonGreedyConfigSchema = z
  .strictObject({
    epsilon: z.number().min(0).max(1).default(0.1).describe('probability of a random price at the first step (epsilon_0)'),
    epsilonDecay: z.number().gt(0).max(1).default(1).describe('factor on epsilon per step: epsilon_t = max(epsilonMin, epsilon * epsilonDecay^t); 1 keeps it constant'),
    epsilonMin: z.number().min(0).max(1).default(0).describe('floor of the decaying epsilon'),
    nonStationary: nonStationarySchema,
  })
  // Runs even when other fields are invalid (every problem listed at once), so it guards what it reads.
  .superRefine(
    (config, context) => {
      const { epsilon, epsilonMin } = config as { epsilon: unknown; epsilonMin: unknown };
      if (typeof epsilon === 'number' && typeof epsilonMin === 'number' && epsilonMin > epsilon) {
        context.addIssue({ code: 'custom', path: ['epsilonMin'], message: `expected epsilonMin at most epsilon (${epsilon}), found ${epsilonMin}` });
      }
    },
    { when: () => true },
  );

export type EpsilonGreedyConfig = z.output<typeof epsilonGreedyConfigSchema>;

/** Observe, explain, export and checkpoints (the arm statistics and the exploration stream): agents/arm-bandit.ts. */
export class EpsilonGreedyAgent extends ArmBandit<EpsilonGreedyConfig, RandomStream> {
  constructor(config: EpsilonGreedyConfig, context: AgentContext, statistics?: ArmStatistics) {
    super(kind, config, context, statistics, new RandomStream(context.seed, 'exploration'));
  }

  /** epsilon_t at the current step. */
  explorationRate(): number {
    const { epsilon, epsilonDecay, epsilonMin } = this.config;
    return Math.max(epsilonMin, epsilon * Math.pow(epsilonDecay, this.statistics.steps));
  }

  protected exploringArm(): number {
    const statistics = this.statistics;
    const unplayed = statistics.firstUnplayedArm();
    if (unplayed >= 0) return unplayed;
    const explore = this.random.next() < this.explorationRate();
    const uniform = this.random.next(); // drawn either way: the stream stays aligned
    if (explore) return Math.min(statistics.arms - 1, Math.floor(uniform * statistics.arms));
    return statistics.greedyArm();
  }
}

export const epsilonGreedyDefinition = armBanditDefinition({
  kind,
  description: 'epsilon-greedy bandit over the price ladder (constant or decaying epsilon; optional sliding window or discounting)',
  configSchema: epsilonGreedyConfigSchema,
  create: (config, context, statistics) => new EpsilonGreedyAgent(config, context, statistics),
});
