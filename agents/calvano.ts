/**
 * Calvano, Calzolari, Denicolo & Pastorello (AER 2020), "Artificial Intelligence,
 * Algorithmic Pricing, and Collusion": independent Q-learners pricing in a repeated logit
 * game, written as one fast kernel (no env, no agent interface: a baseline session is
 * about 1.8 million periods and the whole experiment a hundred sessions or more).
 *
 * What it models: n firms (default 2) play the logit stage game of env/stage-game.ts
 * (demand from a scenario, default calvano-duopoly-v1: a_i = 2, a_0 = 0, mu = 0.25,
 * c = 1) over and over. Each firm is an independent Q-learner that sees the last period's
 * prices of every firm (memory of one period) and picks its own price on a grid.
 *
 * Parameters (calvanoConfigSchema holds them, with a description on every field):
 * - alpha = 0.15      learning rate (the paper's baseline).
 * - beta = 4e-6       exploration decay per period: the exploration probability of
 *                     period t (t = 1, 2, ...) is exp(-beta (t - 1)).
 * - delta = 0.95      discount factor per period.
 * - gridSize m = 15, extension xi = 0.1: prices evenly spaced from pN - xi (pM - pN)
 *                     to pM + xi (pM - pN), pN and pM the n-firm stage game's Bertrand-Nash
 *                     and joint-monopoly prices (the scenario's equilibrium-grid ladder).
 * - convergenceWindow = 100,000 periods; maxPeriods = 1e9 (the paper stops a session
 *                     that has not converged after one billion periods).
 * Sources: the paper (section I.B and II); its authors' Fortran as read by the numpy peer
 * ../shared/bench/peers/calvano_numpy.py, which this kernel follows step for step.
 *
 * Spaces: a price is an index 0..m-1 on the grid; a state is the last joint action
 * s = sum_i a_i m^(n-1-i) (firm 0 most significant), m^n states. Q_i is m^n x m, and is
 * initialised, for every state, to Q0_i(a) = mean over the rivals' m^(n-1) joint actions
 * of pi_i(a, a_-i), divided by (1 - delta): the discounted payoff of a against uniformly
 * random rivals. The greedy action is the first argmax (ties go to the lowest price).
 *
 * Order of events in period t (t = 1, 2, ...), from state s (the first one uniform at random):
 * 1. each firm i, in order: draw u; if u < exp(-beta (t - 1)) it explores (a second
 *    uniform picks a price uniformly), else it plays its greedy action g_i(s);
 * 2. the joint action becomes the next state s'; profits pi(s') come from a table built
 *    once from LogitStageGame.profits;
 * 3. each firm updates Q_i(s, a_i) += alpha (pi_i(s') + delta max_a Q_i(s', a) - Q_i(s, a_i)),
 *    the max read before the update, and recomputes its greedy action at s;
 * 4. if no firm's greedy action at s changed, the stability counter grows by one, else it
 *    restarts at 0; s <- s'. A session has converged when the counter reaches the window
 *    (only the visited state's Q changes, so this is "every strategy unchanged for a
 *    window of periods"); periods to convergence are then t - window, as in the paper.
 * After learning: from the final state, every firm plays its greedy strategy until a
 * state repeats; the profit gain is, per firm, (mean profit over that limit cycle - Nash
 * profit) / (monopoly profit - Nash profit), averaged over firms.
 *
 * Modules: agents/calvano-config.ts (the config and its resolution against a scenario),
 * agents/calvano-game.ts (the tables), agents/calvano-learning.ts (the learning loops, steps
 * 1 to 4), agents/calvano-impulse-response.ts (the limit cycle and the impulse response);
 * this file runs a session and measures its outcome.
 *
 * Randomness: one RandomStream per session, seeded (seed, 'calvano'): a session is a pure
 * function of its config and seed, whichever thread runs it.
 */
import { RandomStream } from '../core/random.js';
import type { ResolvedCalvanoConfig } from './calvano-config.js';
import { buildCalvanoGame, type CalvanoGame } from './calvano-game.js';
import { limitCycle, type LearnedStrategies } from './calvano-impulse-response.js';
import { learn, type CalvanoKernel } from './calvano-learning.js';

export { calvanoConfigSchema, parseCalvanoConfig, resolveCalvanoConfig, type CalvanoConfig, type CalvanoConfigInput, type ResolvedCalvanoConfig } from './calvano-config.js';
export { buildCalvanoGame, type CalvanoGame } from './calvano-game.js';
export { impulseResponse, limitCycle, type ImpulseResponse, type ImpulseResponseOptions } from './calvano-impulse-response.js';
export type { CalvanoKernel } from './calvano-learning.js';

/** A session's outcome; its final state, limit cycle, strategies and config are LearnedStrategies'. */
export interface CalvanoSessionResult extends LearnedStrategies {
  readonly seed: number;
  readonly converged: boolean;
  /** Periods played, the convergence window included. */
  readonly periods: number;
  /** periods - convergenceWindow when converged (the paper's figure), else null. */
  readonly periodsToConvergence: number | null;
  /** Mean over firms of (limit-cycle profit - Nash) / (monopoly - Nash). */
  readonly profitGain: number;
  /** The same, per firm. */
  readonly profitGains: readonly number[];
  /** Mean price over firms and the periods of the limit cycle. */
  readonly averagePrice: number;
  readonly seconds: number;
}

/** One session of the experiment, a pure function of (config, seed) apart from `seconds`. */
export function runCalvanoSession(
  config: ResolvedCalvanoConfig,
  seed: number,
  options: { readonly kernel?: CalvanoKernel } = {},
): CalvanoSessionResult {
  const game = buildCalvanoGame(config);
  const start = performance.now();
  const learned = learn(game, new RandomStream(seed, 'calvano'), options.kernel ?? 'auto');
  const n = game.firms;
  const finalStrategies = Array.from({ length: n }, (_, firm) => learned.greedy.slice(firm * game.stateCount, (firm + 1) * game.stateCount));
  const cycleStates = limitCycle(game, finalStrategies, learned.state);
  const outcome = cycleOutcome(game, cycleStates);
  const window = game.config.convergenceWindow;
  return {
    seed,
    converged: learned.converged,
    periods: learned.periods,
    periodsToConvergence: learned.converged ? learned.periods - window : null,
    profitGain: outcome.profitGain,
    profitGains: outcome.profitGains,
    averagePrice: outcome.averagePrice,
    finalState: learned.state,
    cycleStates,
    finalStrategies,
    seconds: (performance.now() - start) / 1000,
    config: game.config,
  };
}

/** Profit gains and mean price over a cycle of states (each state's profits are those of the joint action played in it). */
function cycleOutcome(game: CalvanoGame, cycleStates: readonly number[]): { profitGain: number; profitGains: number[]; averagePrice: number } {
  const n = game.firms;
  const profitSums = new Float64Array(n);
  let priceSum = 0;
  // The cycle is closed under greedy play, so the joint actions played in its states are its states.
  for (const state of cycleStates) {
    for (let firm = 0; firm < n; firm++) {
      profitSums[firm] = profitSums[firm]! + game.profits[state * n + firm]!;
      priceSum += game.prices[game.jointActions[state * n + firm]!]!;
    }
  }
  const length = cycleStates.length;
  const profitGains = Array.from(profitSums, (sum, firm) => {
    const nash = game.nashProfits[firm]!;
    return (sum / length - nash) / (game.monopolyProfits[firm]! - nash);
  });
  return {
    profitGain: profitGains.reduce((total, gain) => total + gain, 0) / n,
    profitGains,
    averagePrice: priceSum / (length * n),
  };
}
