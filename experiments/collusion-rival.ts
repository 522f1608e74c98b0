/**
 * A learning rival for the collusion test (experiments/collusion.ts): firm 1 learns, by the
 * Calvano et al. (2020) Q-learning algorithm, against a candidate whose strategy stays
 * fixed. What it models: the rival a policy will meet in the market, an independent
 * Q-learner with memory of one period that sees the last period's prices of both firms on
 * the ladder, picks its own ladder price and earns the stage game's profit.
 *
 * Parameters (the paper's, with a faster exploration decay by default so that a test
 * converges in about a second): alpha 0.15 learning rate, delta 0.95 discount, exploration
 * probability exp(-beta (t - 1)) with beta 2e-5, convergence when the rival's greedy
 * strategy held for `convergenceWindow` periods (default 100,000), at most `maxPeriods`.
 * Q starts, as in the paper, at the discounted payoff of each price against a uniformly
 * random candidate price.
 *
 * Order of events in period t, from state s = (candidate index, rival index) of the last
 * period: the candidate plays its strategy's price at s (tabulated once per state, snapped
 * to the ladder), the rival explores with probability exp(-beta (t - 1)) (a uniform ladder
 * price) or plays its greedy price; the rival's profit pi_1(s') at the new state s'
 * updates Q(s, a) += alpha (pi_1(s') + delta max Q(s', .) - Q(s, a)).
 *
 * Randomness: one RandomStream (seed, 'collusion-rival'). Duopolies only (two firms).
 */
import { RandomStream } from '../core/random.js';
import { configError } from '../core/errors.js';
import type { MarketModel } from '../env/model.js';
import { nearestLadderIndex, type MemoryOneStrategy } from './collusion.js';

export interface RivalLearningOptions {
  readonly alpha?: number;
  readonly delta?: number;
  readonly beta?: number;
  readonly convergenceWindow?: number;
  readonly maxPeriods?: number;
  readonly seed?: number;
}

export interface LearnedRival {
  readonly strategy: MemoryOneStrategy;
  readonly converged: boolean;
  readonly periods: number;
}

/** Trains firm 1 against the candidate (firm 0) in the model's stage game on its ladder. */
export function learnRival(model: MarketModel, candidate: MemoryOneStrategy, options: RivalLearningOptions = {}): LearnedRival {
  const game = model.stageGame;
  if (!game || game.firmCount !== 2) throw configError('no duopoly stage game', [{ path: ['scenario'], message: `expected a logit market with exactly two firms, found ${model.scenario.id}` }]);
  const alpha = options.alpha ?? 0.15;
  const delta = options.delta ?? 0.95;
  const beta = options.beta ?? 2e-5;
  const window = options.convergenceWindow ?? 100_000;
  const maxPeriods = options.maxPeriods ?? 5_000_000;
  const ladder = model.ladder;
  const m = ladder.length;
  const states = m * m;
  // The candidate's reply and the rival's profit, per state (candidate index * m + rival index).
  const candidateReply = new Int32Array(states);
  const rivalProfit = new Float64Array(states);
  for (let state = 0; state < states; state++) {
    const prices = [ladder[Math.floor(state / m)] ?? 0, ladder[state % m] ?? 0];
    candidateReply[state] = nearestLadderIndex(ladder, candidate.price(prices));
    rivalProfit[state] = game.profits(prices)[1] ?? 0;
  }
  const q = new Float64Array(states * m);
  for (let action = 0; action < m; action++) {
    let sum = 0;
    for (let own = 0; own < m; own++) sum += rivalProfit[own * m + action] ?? 0;
    const initial = sum / m / (1 - delta);
    for (let state = 0; state < states; state++) q[state * m + action] = initial;
  }
  const greedy = new Int32Array(states).fill(argmax(q, 0, m));
  const stream = new RandomStream(options.seed ?? 1, 'collusion-rival');
  let state = Math.floor(stream.next() * states);
  let stable = 0;
  let period = 0;
  while (period < maxPeriods && stable < window) {
    const explore = Math.exp(-beta * period);
    period++;
    const candidateAction = candidateReply[state] ?? 0;
    const rivalAction = stream.next() < explore ? Math.floor(stream.next() * m) : (greedy[state] ?? 0);
    const next = candidateAction * m + rivalAction;
    const row = state * m;
    const index = row + rivalAction;
    const old = q[index] ?? 0;
    q[index] = old + alpha * ((rivalProfit[next] ?? 0) + delta * (q[next * m + (greedy[next] ?? 0)] ?? 0) - old);
    const best = argmax(q, row, m);
    stable = best === greedy[state] ? stable + 1 : 0;
    greedy[state] = best;
    state = next;
  }
  const strategy: MemoryOneStrategy = {
    name: `Q-learning rival (seed ${options.seed ?? 1})`,
    price: (lastPrices) => ladder[greedy[nearestLadderIndex(ladder, lastPrices[0] ?? 0) * m + nearestLadderIndex(ladder, lastPrices[1] ?? 0)] ?? 0] ?? 0,
  };
  return { strategy, converged: stable >= window, periods: period };
}

function argmax(values: Float64Array, offset: number, count: number): number {
  let best = 0;
  for (let index = 1; index < count; index++) if ((values[offset + index] ?? 0) > (values[offset + best] ?? 0)) best = index;
  return best;
}
