/**
 * The Calvano experiment's game tables (agents/calvano.ts): the m grid prices around the
 * n-firm stage game's Nash and monopoly prices, pi_i(s) of every joint action s from
 * LogitStageGame.profits, each firm's price index in s, and the initial Q0_i(a) (the
 * discounted payoff of a against uniformly random rivals). Built once per resolved config
 * and cached: every session and analysis of that config reads the same tables.
 */
import { buildPriceLadder } from '../env/ladder.js';
import { LogitStageGame } from '../env/stage-game.js';
import type { ResolvedCalvanoConfig } from './calvano-config.js';

/** Everything a session reads, tabulated once per config. */
export interface CalvanoGame {
  readonly config: ResolvedCalvanoConfig;
  readonly firms: number;
  readonly gridSize: number;
  /** m^n: one state per joint action of the last period. */
  readonly stateCount: number;
  /** The m grid prices, ascending. */
  readonly prices: Float64Array;
  /** pi_i(s) at index s * firms + i, for every joint action s. */
  readonly profits: Float64Array;
  /** Firm i's price index in joint action s, at index s * firms + i. */
  readonly jointActions: Int8Array;
  /** Q0_i(a) at index i * m + a: the same for every state. */
  readonly initialQ: Float64Array;
  readonly nashPrices: readonly number[];
  readonly nashProfits: readonly number[];
  readonly monopolyPrices: readonly number[];
  readonly monopolyProfits: readonly number[];
}

const gameCache = new Map<string, CalvanoGame>();

/** Builds (or returns the cached) game of a resolved config: profits of every joint action and Q0, tabulated once. */
export function buildCalvanoGame(config: ResolvedCalvanoConfig): CalvanoGame {
  const key = JSON.stringify(config);
  const cached = gameCache.get(key);
  if (cached) return cached;
  const game = tabulateGame(config);
  gameCache.set(key, game);
  return game;
}

function tabulateGame(config: ResolvedCalvanoConfig): CalvanoGame {
  const stageGame = new LogitStageGame(config.market);
  const nash = stageGame.nash();
  const monopoly = stageGame.monopoly();
  const n = config.firms;
  const m = config.gridSize;
  const prices = buildPriceLadder({ kind: 'equilibrium-grid', count: m, extension: config.extension }, { nash, monopoly });
  const stateCount = m ** n;
  const profits = new Float64Array(stateCount * n);
  const jointActions = new Int8Array(stateCount * n);
  const profile = new Float64Array(n);
  const sums = new Float64Array(n * m);
  for (let state = 0; state < stateCount; state++) {
    let rest = state;
    for (let firm = n - 1; firm >= 0; firm--) {
      const action = rest % m;
      rest = (rest - action) / m;
      jointActions[state * n + firm] = action;
      profile[firm] = prices[action]!;
    }
    const stateProfits = stageGame.profits(profile);
    for (let firm = 0; firm < n; firm++) {
      profits[state * n + firm] = stateProfits[firm]!;
      const index = firm * m + jointActions[state * n + firm]!;
      sums[index] = sums[index]! + stateProfits[firm]!;
    }
  }
  const rivalProfiles = m ** (n - 1);
  const initialQ = sums.map((sum) => sum / rivalProfiles / (1 - config.delta));
  return {
    config,
    firms: n,
    gridSize: m,
    stateCount,
    prices,
    profits,
    jointActions,
    initialQ,
    nashPrices: nash.prices,
    nashProfits: nash.profits,
    monopolyPrices: monopoly.prices,
    monopolyProfits: monopoly.profits,
  };
}
