/**
 * The Calvano et al. (2020) kernel: its tables against the stage game, the learning loop
 * against a plain re-implementation of the numpy peer's algorithm (full scans, no
 * shortcuts), determinism across seeds and threads, the convergence rule, the impulse
 * response and config validation. Sessions here use beta = 2e-5 (five times faster
 * exploration decay than the paper) so each converges in about half a million periods.
 */
import { describe, expect, it } from 'vitest';
import {
  buildCalvanoGame,
  impulseResponse,
  limitCycle,
  parseCalvanoConfig,
  runCalvanoSession,
  type CalvanoSessionResult,
  type ResolvedCalvanoConfig,
} from '../../agents/calvano.js';
import { PricelabError } from '../../core/errors.js';
import { buildMarketModel } from '../../env/model.js';
import { RandomStream } from '../../core/random.js';
import { LogitStageGame } from '../../env/stage-game.js';
import { loadCalvanoConfig, reproduceCalvano, summariseCalvano } from '../../experiments/reproduce-calvano.js';
import { loadScenario } from '../../scenarios/load.js';

const baseline = loadCalvanoConfig({});
const fast = loadCalvanoConfig({ beta: 2e-5, maxPeriods: 3_000_000 });

/** Everything but the timing, with typed arrays as plain arrays. */
function comparable(result: CalvanoSessionResult) {
  return { ...result, seconds: 0, finalStrategies: result.finalStrategies.map((strategy) => Array.from(strategy)) };
}

/**
 * The numpy peer's loop written plainly: every max and argmax a full scan, the exploration
 * probability exp(-beta (t - 1)) from Math.exp, the same draws from the same stream.
 * Also records the last period in which some greedy action changed.
 */
function referenceSession(config: ResolvedCalvanoConfig, seed: number) {
  const game = buildCalvanoGame(config);
  const { firms: n, gridSize: m, stateCount } = game;
  const argmax = (values: Float64Array, offset: number) => {
    let best = 0;
    for (let action = 1; action < m; action++) if (values[offset + action]! > values[offset + best]!) best = action;
    return best;
  };
  const q = new Float64Array(n * stateCount * m);
  for (let firm = 0; firm < n; firm++) for (let state = 0; state < stateCount; state++) for (let action = 0; action < m; action++) q[(firm * stateCount + state) * m + action] = game.initialQ[firm * m + action]!;
  const greedy = (firm: number, state: number) => argmax(q, (firm * stateCount + state) * m);
  const stream = new RandomStream(seed, 'calvano');
  let state = Math.floor(stream.next() * stateCount);
  let stable = 0;
  let lastChange = 0;
  let period = 0;
  let converged = false;
  const actions: number[] = [];
  while (period < config.maxPeriods) {
    period++;
    const explore = Math.exp(-config.beta * (period - 1));
    const before: number[] = [];
    let next = 0;
    for (let firm = 0; firm < n; firm++) {
      before[firm] = greedy(firm, state);
      actions[firm] = stream.next() < explore ? Math.floor(stream.next() * m) : before[firm]!;
      next = next * m + actions[firm]!;
    }
    const continuation = Array.from({ length: n }, (_, firm) => q[(firm * stateCount + next) * m + greedy(firm, next)]!);
    let same = true;
    for (let firm = 0; firm < n; firm++) {
      const index = (firm * stateCount + state) * m + actions[firm]!;
      q[index] = q[index]! + config.alpha * (game.profits[next * n + firm]! + config.delta * continuation[firm]! - q[index]!);
      if (greedy(firm, state) !== before[firm]) same = false;
    }
    if (!same) lastChange = period;
    stable = same ? stable + 1 : 0;
    state = next;
    if (stable >= config.convergenceWindow) {
      converged = true;
      break;
    }
  }
  const finalStrategies = Array.from({ length: n }, (_, firm) => Array.from({ length: stateCount }, (_, s) => greedy(firm, s)));
  return { converged, periods: period, finalState: state, finalStrategies, lastChange };
}

describe('tables', () => {
  const game = buildCalvanoGame(baseline);
  const stageGame = new LogitStageGame(baseline.market);

  it("builds the scenario's grid around the paper's Nash and monopoly prices", () => {
    expect(game.gridSize).toBe(15);
    expect(game.nashPrices[0]).toBeCloseTo(1.47292666, 8);
    expect(game.monopolyPrices[0]).toBeCloseTo(1.924980919, 8);
    expect(game.nashProfits[0]).toBeCloseTo(0.22292666, 8);
    expect(game.monopolyProfits[0]).toBeCloseTo(0.3374904595, 8);
    const ladder = buildMarketModel(loadScenario('calvano-duopoly-v1').scenario).ladder;
    expect(Array.from(game.prices)).toEqual(Array.from(ladder));
  });

  it('tabulates the profits of every joint action from LogitStageGame.profits (state = a0 * m + a1)', () => {
    for (let first = 0; first < 15; first++) {
      for (let second = 0; second < 15; second++) {
        const state = first * 15 + second;
        const profits = stageGame.profits([game.prices[first]!, game.prices[second]!]);
        expect(game.profits[state * 2]).toBe(profits[0]);
        expect(game.profits[state * 2 + 1]).toBe(profits[1]);
        expect([game.jointActions[state * 2], game.jointActions[state * 2 + 1]]).toEqual([first, second]);
      }
    }
  });

  it('initialises Q to the average payoff against a uniformly random rival over (1 - delta)', () => {
    for (let action = 0; action < 15; action++) {
      let own = 0;
      let rival = 0;
      for (let other = 0; other < 15; other++) {
        own += stageGame.profits([game.prices[action]!, game.prices[other]!])[0]!;
        rival += stageGame.profits([game.prices[other]!, game.prices[action]!])[1]!;
      }
      expect(game.initialQ[action]).toBeCloseTo(own / 15 / (1 - 0.95), 12);
      expect(game.initialQ[15 + action]).toBeCloseTo(rival / 15 / (1 - 0.95), 12);
    }
  });

  it('adds symmetric firms for n = 3 and tabulates their game', () => {
    const three = buildCalvanoGame(loadCalvanoConfig({ firms: 3 }));
    expect(three.stateCount).toBe(15 ** 3);
    expect(three.config.market.firms).toHaveLength(3);
    const game3 = new LogitStageGame(three.config.market);
    expect(three.nashPrices[0]).toBeCloseTo(game3.nash().prices[0]!, 12);
    const state = 4 * 225 + 9 * 15 + 2;
    expect(Array.from(three.profits.subarray(state * 3, state * 3 + 3))).toEqual(game3.profits([three.prices[4]!, three.prices[9]!, three.prices[2]!]));
    let sum = 0;
    for (let rivals = 0; rivals < 225; rivals++) sum += three.profits[(7 * 225 + rivals) * 3]!;
    expect(three.initialQ[7]).toBeCloseTo(sum / 225 / (1 - 0.95), 12);
  });
});

describe('learning', () => {
  const session = runCalvanoSession(fast, 3);

  it('follows the numpy peer algorithm step for step (against a plain re-implementation)', () => {
    const reference = referenceSession(fast, 3);
    expect(session.converged).toBe(reference.converged);
    expect(session.periods).toBe(reference.periods);
    expect(session.finalState).toBe(reference.finalState);
    expect(session.finalStrategies.map((strategy) => Array.from(strategy))).toEqual(reference.finalStrategies);
    // The convergence rule: the last change of any greedy action was exactly a window before the end.
    expect(reference.periods - reference.lastChange).toBe(fast.convergenceWindow);
  });

  it('converges, respects the window and gives a finite profit gain', () => {
    expect(session.converged).toBe(true);
    expect(session.periods).toBeLessThan(fast.maxPeriods);
    expect(session.periodsToConvergence).toBe(session.periods - fast.convergenceWindow);
    expect(Number.isFinite(session.profitGain)).toBe(true);
    expect(session.profitGain).toBeGreaterThanOrEqual(-1);
    expect(session.profitGain).toBeLessThanOrEqual(1.2);
    expect(session.averagePrice).toBeGreaterThan(1.42);
    expect(session.averagePrice).toBeLessThan(1.98);
    expect(session.cycleStates).toEqual(limitCycle(buildCalvanoGame(fast), session.finalStrategies, session.finalState).slice());
  });

  it('stops at a short window as soon as the strategies held that long', () => {
    const config = loadCalvanoConfig({ beta: 2e-5, convergenceWindow: 1_000, maxPeriods: 3_000_000 });
    const result = runCalvanoSession(config, 5);
    const reference = referenceSession(config, 5);
    expect(result.converged).toBe(true);
    expect(result.periods).toBe(reference.periods);
    expect(reference.periods - reference.lastChange).toBe(1_000);
  });

  it('reports a session that hits maxPeriods as not converged', () => {
    const result = runCalvanoSession(loadCalvanoConfig({ maxPeriods: 50_000 }), 1);
    expect(result.converged).toBe(false);
    expect(result.periods).toBe(50_000);
    expect(result.periodsToConvergence).toBeNull();
    expect(Number.isFinite(result.profitGain)).toBe(true);
  });

  it('gives the same result for the same seed, and another for another seed', () => {
    expect(comparable(runCalvanoSession(fast, 3))).toEqual(comparable(session));
    expect(comparable(runCalvanoSession(fast, 4))).not.toEqual(comparable(session));
  });

  it('runs the same numbers in the general n-firm loop as in the duopoly loop', () => {
    const config = loadCalvanoConfig({ beta: 1e-4, maxPeriods: 400_000 });
    for (const seed of [1, 2]) expect(comparable(runCalvanoSession(config, seed, { kernel: 'general' }))).toEqual(comparable(runCalvanoSession(config, seed)));
  });

  it('runs three firms', () => {
    const result = runCalvanoSession(loadCalvanoConfig({ firms: 3, maxPeriods: 30_000 }), 1);
    expect(result.finalStrategies).toHaveLength(3);
    expect(result.finalStrategies[0]).toHaveLength(15 ** 3);
    expect(Number.isFinite(result.profitGain)).toBe(true);
  });
});

describe('impulse response', () => {
  const sessions = [1, 2, 3, 4].map((seed) => runCalvanoSession(fast, seed));

  it('starts on the cycle, deviates to the static best reply, then comes back to the cycle', () => {
    const game = buildCalvanoGame(fast);
    for (const session of sessions) {
      expect(session.converged).toBe(true);
      const response = impulseResponse(session, { deviatingFirm: 0, periods: 25 });
      expect(response.prices).toHaveLength(2);
      expect(response.prices[0]).toHaveLength(26);
      const start = session.cycleStates[0]!;
      expect(response.prices[0]![0]).toBe(game.prices[game.jointActions[start * 2]!]);
      // Period 1: the rival plays its greedy action, firm 0 its best reply on the grid to it.
      const rivalAction = session.finalStrategies[1]![start]!;
      expect(response.prices[1]![1]).toBe(game.prices[rivalAction]);
      const replies = Array.from(game.prices, (_, action) => game.profits[(action * 15 + rivalAction) * 2]!);
      expect(response.deviationPrice).toBe(game.prices[replies.indexOf(Math.max(...replies))]);
      expect(response.returnedToCycle).toBe(true);
      // From the return on, play runs along the cycle.
      const cyclePrices = new Set(session.cycleStates.map((state) => `${game.prices[game.jointActions[state * 2]!]},${game.prices[game.jointActions[state * 2 + 1]!]}`));
      for (let period = response.periodsToReturn!; period <= 25; period++) expect(cyclePrices.has(`${response.prices[0]![period]},${response.prices[1]![period]}`)).toBe(true);
    }
  });

  it('refuses a firm that does not exist', () => {
    expect(() => impulseResponse(sessions[0]!, { deviatingFirm: 2 })).toThrow(PricelabError);
  });
});

describe('reproduction across worker threads', () => {
  it('gives identical per-session results on 2 workers and in this thread', async () => {
    const config = { beta: 2e-5, maxPeriods: 3_000_000 };
    const parallel = await reproduceCalvano({ sessions: 4, workers: 2, config, firstSeed: 11 });
    const sequential = await reproduceCalvano({ sessions: 4, workers: 0, config, firstSeed: 11 });
    expect(parallel.results.map((result) => result.seed)).toEqual([11, 12, 13, 14]);
    expect(parallel.results.map(comparable)).toEqual(sequential.results.map(comparable));
    expect({ ...parallel.summary, secondsPerSession: 0 }).toEqual({ ...sequential.summary, secondsPerSession: 0 });
    expect(Object.keys(parallel.summary).sort()).toEqual(
      ['sessions', 'converged', 'profitGainMean', 'profitGainSd', 'meanPeriodsToConvergence', 'averagePrice', 'secondsPerSession', 'impulseResponse', 'config'].sort(),
    );
  });

  it('summarises like the paper: converged sessions, mean and sd of the gain, periods to convergence', () => {
    const results = [1, 2, 3].map((seed) => runCalvanoSession(fast, seed));
    const summary = summariseCalvano(results, fast);
    const gains = results.map((result) => result.profitGain);
    const mean = gains.reduce((a, b) => a + b) / 3;
    expect(summary.converged).toBe(3);
    expect(summary.profitGainMean).toBeCloseTo(mean, 12);
    expect(summary.profitGainSd).toBeCloseTo(Math.sqrt(gains.reduce((total, gain) => total + (gain - mean) ** 2, 0) / 2), 12);
    expect(summary.meanPeriodsToConvergence).toBeCloseTo(results.reduce((total, result) => total + result.periodsToConvergence!, 0) / 3, 6);
    expect(summary.impulseResponse.prices[0]).toHaveLength(16);
  });
});

describe('config', () => {
  it('fills in the paper baseline', () => {
    expect(baseline).toMatchObject({ firms: 2, alpha: 0.15, beta: 4e-6, delta: 0.95, gridSize: 15, extension: 0.1, maxPeriods: 1e9, convergenceWindow: 100_000 });
  });

  it('lists every bad field', () => {
    let caught: unknown;
    try {
      parseCalvanoConfig({ alpha: 2, beta: -1, firms: 1.5, delta: 1, convergenceWindow: 0, colour: 'red' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(PricelabError);
    const paths = (caught as PricelabError).problems.map((problem) => problem.path.join('.'));
    for (const field of ['alpha', 'beta', 'firms', 'delta', 'convergenceWindow']) expect(paths).toContain(field);
    expect((caught as PricelabError).problems.some((problem) => problem.message.includes('"colour"'))).toBe(true);
  });

  it('refuses a game too large to tabulate', () => {
    expect(() => parseCalvanoConfig({ firms: 6 })).toThrow(/Q entries/);
  });

  it('refuses a scenario without logit demand', () => {
    expect(() => loadCalvanoConfig({ scenario: 'markdown-gvr-v1' })).toThrow(/logit/);
  });
});
