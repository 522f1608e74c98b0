/**
 * UCB1 over the price ladder (Auer, Cesa-Bianchi & Fischer 2002): a bandit whose arms are
 * the ladder's prices, whose reward for an arm is the step's reward (profit) at that price,
 * and which plays the arm with the highest upper confidence bound. The market state is
 * ignored.
 *
 * Acting while training (explore: true):
 *   1. an arm with no reward in memory is played first (lowest index first): UCB1's
 *      initialisation (again after an arm left a sliding window);
 *   2. otherwise the arm maximising
 *        mean_i + exploration * width * sqrt(2 ln n / n_i)
 *      with n_i the arm's (effective) count and n the total over arms. No randomness.
 * Acting greedily (explore: false): the best mean, no bonus. Ties: the lowest index.
 *
 * Reward scale: UCB1's bound sqrt(2 ln n / n_i) assumes rewards in [0, 1]; profits are not.
 * The bonus is therefore multiplied by the width of a reward range: a configured one
 * (rewardRange {kind: 'fixed', low, high}) or, by default, the running one (highest minus
 * lowest reward seen so far, 1 while they are equal). That equals running UCB1 on rewards
 * rescaled to (r - low) / (high - low). The running range grows with outliers and never
 * shrinks; with a fixed range, rewards outside it only widen the bonus's effect.
 *
 * Non-stationary markets (nonStationary):
 *   sliding-window {window}: SW-UCB, n_i and n count only the last `window` steps;
 *   discounted {gamma}:      D-UCB, n_i and n are discounted counts.
 * With exploration = 1 the bonus equals Garivier & Moulines' padding with B = width and
 * xi = 2 (SW-UCB: B sqrt(xi ln min(t, tau) / N_i)) or xi = 1/2 (D-UCB: 2B sqrt(xi ln n / N_i)).
 *
 * Parameters (defaults in brackets):
 *   exploration [1]        multiplies the bonus (1: UCB1 as published; smaller explores less).
 *   rewardRange [running]  see above.
 *   nonStationary [none]   see above and agents/bandit-statistics.ts.
 * Weights: bandit.json holds the arm statistics and the running range (JSON).
 *
 * Sources: P. Auer, N. Cesa-Bianchi, P. Fischer, Finite-time analysis of the multiarmed
 * bandit problem, Machine Learning 47 (2002) 235-256; A. Garivier, E. Moulines, On
 * upper-confidence bound policies for switching bandit problems, ALT 2011, pp. 174-188.
 */
import { z } from 'zod';
import type { AgentContext } from './agent.js';
import { ArmBandit, armBanditDefinition } from './arm-bandit.js';
import { type ArmStatistics, nonStationarySchema, rewardRangeSchema, rewardScale } from './bandit-statistics.js';

const kind = 'ucb1';

export const ucb1ConfigSchema = z.strictObject({
  exploration: z.number().min(0).default(1).describe('multiplies the confidence bonus width * sqrt(2 ln n / n_i); 1 is UCB1 as published'),
  rewardRange: rewardRangeSchema,
  nonStationary: nonStationarySchema,
});

export type Ucb1Config = z.output<typeof ucb1ConfigSchema>;

/** Draws no random numbers: its arm statistics are its whole state (agents/arm-bandit.ts: observe, explain, export, checkpoints). */
export class Ucb1Agent extends ArmBandit<Ucb1Config> {
  constructor(config: Ucb1Config, context: AgentContext, statistics?: ArmStatistics) {
    super(kind, config, context, statistics, undefined);
  }

  protected exploringArm(): number {
    const statistics = this.statistics;
    const unplayed = statistics.firstUnplayedArm();
    if (unplayed >= 0) return unplayed;
    const { width } = rewardScale(this.config.rewardRange, statistics.observedLow, statistics.observedHigh);
    const logTotal = 2 * Math.log(Math.max(1, statistics.totalCount()));
    const scale = this.config.exploration * width;
    let best = 0;
    let bestValue = Number.NEGATIVE_INFINITY;
    for (let arm = 0; arm < statistics.arms; arm++) {
      const value = statistics.mean(arm) + scale * Math.sqrt(logTotal / statistics.count(arm));
      if (value > bestValue) {
        best = arm;
        bestValue = value;
      }
    }
    return best;
  }
}

export const ucb1Definition = armBanditDefinition({
  kind,
  description: 'UCB1 bandit over the price ladder, bonus scaled by the reward range (optional sliding window or discounting: SW-UCB, D-UCB)',
  configSchema: ucb1ConfigSchema,
  create: (config, context, statistics) => new Ucb1Agent(config, context, statistics),
});
