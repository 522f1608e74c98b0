/**
 * Greedy play after learning (agents/calvano.ts): the limit cycle the firms' greedy
 * strategies enter from a state, and the paper's impulse response (its figure 4): one firm
 * deviates for one period to its static best reply on the grid, then every firm plays its
 * greedy strategy; the prices that follow show whether (and how fast) play returns to the
 * pre-deviation cycle.
 */
import { configError, type Problem } from '../core/errors.js';
import type { ResolvedCalvanoConfig } from './calvano-config.js';
import { buildCalvanoGame, type CalvanoGame } from './calvano-game.js';

/** The joint action every firm's greedy strategy plays in state. */
function greedyJoint(game: CalvanoGame, strategies: readonly Int8Array[], state: number): number {
  let joint = 0;
  for (let firm = 0; firm < game.firms; firm++) joint = joint * game.gridSize + strategies[firm]![state]!;
  return joint;
}

/** Greedy play from start until a state repeats: the states of the cycle, in the order played. */
export function limitCycle(game: CalvanoGame, strategies: readonly Int8Array[], start: number): number[] {
  const firstVisit = new Map<number, number>();
  const path: number[] = [];
  let state = start;
  while (!firstVisit.has(state)) {
    firstVisit.set(state, path.length);
    path.push(state);
    state = greedyJoint(game, strategies, state);
  }
  return path.slice(firstVisit.get(state));
}

/** What the impulse response reads of a session (agents/calvano.ts's CalvanoSessionResult). */
export interface LearnedStrategies {
  readonly config: ResolvedCalvanoConfig;
  /** The state after the last period (the joint action then played). */
  readonly finalState: number;
  /** The limit cycle's states in the order played, starting with the first one reached from finalState. */
  readonly cycleStates: readonly number[];
  /** Each firm's greedy price index in every state (m^n entries). */
  readonly finalStrategies: readonly Int8Array[];
}

export interface ImpulseResponseOptions {
  /** The firm that deviates, 0-based. */
  readonly deviatingFirm?: number;
  /** Periods reported from the deviation on (the deviation is period 1). */
  readonly periods?: number;
}

export interface ImpulseResponse {
  readonly deviatingFirm: number;
  /** Grid price the deviating firm plays in period 1: its static best response to the rivals' prices. */
  readonly deviationPrice: number;
  /** prices[i][k]: firm i's price in period k; k = 0 is the period before the deviation (on the cycle), k = 1 the deviation. */
  readonly prices: readonly (readonly number[])[];
  /** Whether greedy play after the deviation comes back to the pre-deviation limit cycle. */
  readonly returnedToCycle: boolean;
  /** The first period k >= 1 whose prices are a state of the cycle, or null. */
  readonly periodsToReturn: number | null;
}

/**
 * The paper's impulse response (its figure 4): from the state where the session's limit
 * cycle starts, the deviating firm plays, for one period, its static best response on the
 * grid to the rivals' greedy prices; then every firm follows its greedy strategy.
 */
export function impulseResponse(result: LearnedStrategies, options: ImpulseResponseOptions = {}): ImpulseResponse {
  const game = buildCalvanoGame(result.config);
  const n = game.firms;
  const m = game.gridSize;
  const deviatingFirm = options.deviatingFirm ?? 0;
  const periods = options.periods ?? 15;
  const problems: Problem[] = [];
  if (!Number.isInteger(deviatingFirm) || deviatingFirm < 0 || deviatingFirm >= n) problems.push({ path: ['deviatingFirm'], message: `expected a firm index in 0..${n - 1}, found ${deviatingFirm}` });
  if (!Number.isInteger(periods) || periods < 1) problems.push({ path: ['periods'], message: `expected a positive whole number, found ${periods}` });
  if (problems.length > 0) throw configError('invalid impulse response options', problems);

  const strategies = result.finalStrategies;
  const cycle = new Set(result.cycleStates);
  const start = result.cycleStates[0] ?? result.finalState;
  const prices = Array.from({ length: n }, (_, firm) => [game.prices[game.jointActions[start * n + firm]!]!]);

  // Period 1: the rivals play their greedy actions, the deviator its best reply on the grid.
  const played = Array.from({ length: n }, (_, firm) => strategies[firm]![start]!);
  const stride = m ** (n - 1 - deviatingFirm);
  let rivalsJoint = 0;
  for (let firm = 0; firm < n; firm++) rivalsJoint = rivalsJoint * m + (firm === deviatingFirm ? 0 : played[firm]!);
  let bestAction = 0;
  let bestProfit = -Infinity;
  for (let action = 0; action < m; action++) {
    const profit = game.profits[(rivalsJoint + action * stride) * n + deviatingFirm]!;
    if (profit > bestProfit) {
      bestProfit = profit;
      bestAction = action;
    }
  }
  let state = rivalsJoint + bestAction * stride;
  let periodsToReturn: number | null = null;
  // Greedy play enters a cycle within stateCount periods: follow it that far to know whether it is the old one.
  const horizon = Math.max(periods, game.stateCount + 1);
  for (let period = 1; period <= horizon; period++) {
    if (period > 1) state = greedyJoint(game, strategies, state);
    if (period <= periods) for (let firm = 0; firm < n; firm++) prices[firm]!.push(game.prices[game.jointActions[state * n + firm]!]!);
    if (periodsToReturn === null && cycle.has(state)) {
      periodsToReturn = period;
      if (period >= periods) break;
    }
  }
  return { deviatingFirm, deviationPrice: game.prices[bestAction]!, prices, returnedToCycle: periodsToReturn !== null, periodsToReturn };
}
