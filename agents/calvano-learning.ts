/**
 * The Calvano experiment's learning loops (agents/calvano.ts, steps 1 to 4 of its card):
 * n independent Q-learners with memory of one period, epsilon-greedy with exploration
 * probability exp(-beta (t - 1)), until every greedy strategy held for convergenceWindow
 * periods or maxPeriods ran out. Two loops give the same numbers (a test holds them equal):
 * the general n-firm one and the duopoly one unrolled for speed.
 */
import type { RandomStream } from '../core/random.js';
import type { CalvanoGame } from './calvano-game.js';

/** Periods per block of the exploration-probability table (a power of two). */
const EXPLORATION_BLOCK = 1024;

export interface Learned {
  converged: boolean;
  periods: number;
  state: number;
  /** Greedy action of firm i in state s at i * stateCount + s. */
  greedy: Int8Array;
}

/** Which loop runs the session: 'auto' picks the unrolled duopoly loop for two firms. Both give the same numbers. */
export type CalvanoKernel = 'auto' | 'general';

/** The learning loop: the order of events of the card, steps 1 to 4. */
export function learn(game: CalvanoGame, stream: RandomStream, kernel: CalvanoKernel): Learned {
  const { firms: n, gridSize: m, stateCount } = game;
  const q = new Float64Array(n * stateCount * m);
  const greedy = new Int8Array(n * stateCount);
  for (let firm = 0; firm < n; firm++) {
    const initial = game.initialQ.subarray(firm * m, (firm + 1) * m);
    const best = firstArgmax(initial, 0, m);
    for (let state = 0; state < stateCount; state++) q.set(initial, (firm * stateCount + state) * m);
    greedy.fill(best, firm * stateCount, (firm + 1) * stateCount);
  }
  // exp(-beta (t - 1)) without a Math.exp per period: exp(-beta t0) at the start of each
  // block of EXPLORATION_BLOCK periods times a tabulated exp(-beta j) (within 2 ulps).
  const blockFactor = new Float64Array(EXPLORATION_BLOCK);
  for (let offset = 0; offset < EXPLORATION_BLOCK; offset++) blockFactor[offset] = Math.exp(-game.config.beta * offset);
  const initialState = Math.floor(stream.next() * stateCount);
  const loop = n === 2 && kernel === 'auto' ? learnDuopoly : learnGeneral;
  return loop(game, stream, q, greedy, blockFactor, initialState);
}

function learnGeneral(game: CalvanoGame, stream: RandomStream, q: Float64Array, greedy: Int8Array, blockFactor: Float64Array, initialState: number): Learned {
  const { firms: n, gridSize: m, stateCount, profits } = game;
  const { alpha, beta, delta, maxPeriods, convergenceWindow } = game.config;
  const actions = new Int32Array(n);
  const previousGreedy = new Int32Array(n);
  let state = initialState;
  let stablePeriods = 0;
  let period = 0;
  let converged = false;
  let blockStart = 1;
  while (period < maxPeriods) {
    const offset = period & (EXPLORATION_BLOCK - 1);
    if (offset === 0) blockStart = Math.exp(-beta * period);
    const explore = blockStart * blockFactor[offset]!;
    period++;
    let next = 0;
    for (let firm = 0; firm < n; firm++) {
      const current = greedy[firm * stateCount + state]!;
      previousGreedy[firm] = current;
      const action = stream.next() < explore ? Math.floor(stream.next() * m) : current;
      actions[firm] = action;
      next = next * m + action;
    }
    let unchanged = true;
    for (let firm = 0; firm < n; firm++) {
      const reward = profits[next * n + firm]!;
      if (updateFirm(q, greedy, firm * stateCount, m, state, next, actions[firm]!, previousGreedy[firm]!, reward, alpha, delta)) unchanged = false;
    }
    stablePeriods = unchanged ? stablePeriods + 1 : 0;
    state = next;
    if (stablePeriods >= convergenceWindow) {
      converged = true;
      break;
    }
  }
  return { converged, periods: period, state, greedy };
}

/** learnGeneral unrolled for two firms, updateFirm written out (a third faster; a test holds them equal). */
function learnDuopoly(game: CalvanoGame, stream: RandomStream, q: Float64Array, greedy: Int8Array, blockFactor: Float64Array, initialState: number): Learned {
  const { gridSize: m, stateCount, profits } = game;
  const { alpha, beta, delta, maxPeriods, convergenceWindow } = game.config;
  const q0 = q.subarray(0, stateCount * m);
  const q1 = q.subarray(stateCount * m);
  const greedy0 = greedy.subarray(0, stateCount);
  const greedy1 = greedy.subarray(stateCount);
  let state = initialState;
  let stablePeriods = 0;
  let period = 0;
  let converged = false;
  let blockStart = 1;
  while (period < maxPeriods) {
    const offset = period & (EXPLORATION_BLOCK - 1);
    if (offset === 0) blockStart = Math.exp(-beta * period);
    const explore = blockStart * blockFactor[offset]!;
    period++;
    const current0 = greedy0[state]!;
    const current1 = greedy1[state]!;
    const action0 = stream.next() < explore ? Math.floor(stream.next() * m) : current0;
    const action1 = stream.next() < explore ? Math.floor(stream.next() * m) : current1;
    const next = action0 * m + action1;
    const row = state * m;
    let unchanged = true;
    {
      const continuation = q0[next * m + greedy0[next]!]!;
      const old = q0[row + action0]!;
      const updated = old + alpha * (profits[2 * next]! + delta * continuation - old);
      q0[row + action0] = updated;
      let best = current0;
      if (action0 === current0) {
        if (updated < old) best = firstArgmax(q0, row, m);
      } else {
        const greedyValue = q0[row + current0]!;
        if (updated > greedyValue || (updated === greedyValue && action0 < current0)) best = action0;
      }
      if (best !== current0) {
        greedy0[state] = best;
        unchanged = false;
      }
    }
    {
      const continuation = q1[next * m + greedy1[next]!]!;
      const old = q1[row + action1]!;
      const updated = old + alpha * (profits[2 * next + 1]! + delta * continuation - old);
      q1[row + action1] = updated;
      let best = current1;
      if (action1 === current1) {
        if (updated < old) best = firstArgmax(q1, row, m);
      } else {
        const greedyValue = q1[row + current1]!;
        if (updated > greedyValue || (updated === greedyValue && action1 < current1)) best = action1;
      }
      if (best !== current1) {
        greedy1[state] = best;
        unchanged = false;
      }
    }
    stablePeriods = unchanged ? stablePeriods + 1 : 0;
    state = next;
    if (stablePeriods >= convergenceWindow) {
      converged = true;
      break;
    }
  }
  return { converged, periods: period, state, greedy };
}

/**
 * Step 3 for one firm (its states start at firmStates): the Q update at (state, action) and
 * the new greedy action there. Returns whether the greedy action changed.
 */
function updateFirm(
  q: Float64Array,
  greedy: Int8Array,
  firmStates: number,
  m: number,
  state: number,
  next: number,
  action: number,
  current: number,
  reward: number,
  alpha: number,
  delta: number,
): boolean {
  // Greedy actions are kept equal to each row's first argmax, so this is max_a Q_i(s', a), read before the update.
  const continuation = q[(firmStates + next) * m + greedy[firmStates + next]!]!;
  const row = (firmStates + state) * m;
  const old = q[row + action]!;
  const updated = old + alpha * (reward + delta * continuation - old);
  q[row + action] = updated;
  // Only Q_i(s, a_i) moved: the first argmax changes only if it rose past (or to, from a
  // lower index) the greedy entry, or if the greedy entry itself fell.
  let best = current;
  if (action === current) {
    if (updated < old) best = firstArgmax(q, row, m);
  } else {
    const greedyValue = q[row + current]!;
    if (updated > greedyValue || (updated === greedyValue && action < current)) best = action;
  }
  if (best === current) return false;
  greedy[firmStates + state] = best;
  return true;
}

/** Index (relative to offset) of the first largest of values[offset .. offset + count). */
function firstArgmax(values: Float64Array, offset: number, count: number): number {
  let best = 0;
  let bestValue = values[offset]!;
  for (let index = 1; index < count; index++) {
    const value = values[offset + index]!;
    if (value > bestValue) {
      bestValue = value;
      best = index;
    }
  }
  return best;
}
