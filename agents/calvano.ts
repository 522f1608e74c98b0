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
 * Randomness: one RandomStream per session, seeded (seed, 'calvano'): a session is a pure
 * function of its config and seed, whichever thread runs it.
 */
import { z } from 'zod';
import { configError, type Problem } from '../core/errors.js';
import { buildPriceLadder } from '../env/ladder.js';
import { RandomStream } from '../core/random.js';
import { LogitStageGame, type StageGameConfig } from '../env/stage-game.js';
import type { Scenario } from '../scenarios/schema.js';

/** Largest Q table accepted, in entries (firms x m^n states x m prices): 2^24 doubles = 128 MiB. */
const MAX_Q_ENTRIES = 2 ** 24;
/** Periods per block of the exploration-probability table (a power of two). */
const EXPLORATION_BLOCK = 1024;

const demandOverridesSchema = z
  .strictObject({
    quality: z.number().optional().describe("a_i of every firm, utility units (replaces the scenario's qualities)"),
    unitCost: z.number().nonnegative().optional().describe("c_i of every firm, currency per unit (replaces the scenario's costs)"),
    outsideUtility: z.number().optional().describe('a_0, the utility of buying nothing'),
    scale: z.number().positive().optional().describe('mu, the logit scale of every segment (horizontal differentiation)'),
    priceSensitivity: z.number().positive().optional().describe('b, utility lost per currency unit of price, every segment'),
  });

export const calvanoConfigSchema = z
  .strictObject({
    scenario: z
      .string()
      .min(1)
      .default('calvano-duopoly-v1')
      .describe('built-in scenario id or path whose logit demand, firms and price ladder define the game'),
    firms: z
      .number()
      .int()
      .min(2)
      .max(8)
      .default(2)
      .describe("number of firms n; beyond the scenario's firms, copies of its last firm are added (symmetric firms)"),
    alpha: z.number().gt(0).max(1).default(0.15).describe('learning rate alpha of the Q update (paper: 0.15)'),
    beta: z.number().nonnegative().default(4e-6).describe('exploration decay: period t explores with probability exp(-beta (t - 1)) (paper: 4e-6)'),
    delta: z.number().min(0).lt(1).default(0.95).describe('discount factor delta per period (paper: 0.95)'),
    gridSize: z
      .number()
      .int()
      .min(2)
      .max(127)
      .optional()
      .describe("prices on the grid, m (default: the scenario's equilibrium-grid count; paper: 15)"),
    extension: z
      .number()
      .nonnegative()
      .optional()
      .describe("the grid spans pN - extension (pM - pN) to pM + extension (pM - pN) (default: the scenario's; paper: 0.1)"),
    maxPeriods: z
      .number()
      .int()
      .min(1)
      .default(1e9)
      .describe('stop a session that has not converged after this many periods (paper: one billion)'),
    convergenceWindow: z
      .number()
      .int()
      .min(1)
      .default(100_000)
      .describe('converged when no greedy strategy changed for this many consecutive periods (paper: 100,000)'),
    demand: demandOverridesSchema.optional().describe("overrides of the scenario's demand parameters, applied to every firm and segment"),
  })
  .superRefine((config, context) => {
    const gridSize = config.gridSize ?? 15;
    const entries = config.firms * gridSize ** (config.firms + 1);
    if (entries > MAX_Q_ENTRIES) {
      const message = `expected firms x gridSize^(firms + 1) <= ${MAX_Q_ENTRIES} Q entries, found ${entries} (${config.firms} firms, ${gridSize} prices)`;
      context.addIssue({ code: 'custom', path: ['firms'], message });
    }
  });

export type CalvanoConfigInput = z.input<typeof calvanoConfigSchema>;
export type CalvanoConfig = z.output<typeof calvanoConfigSchema>;

/** The config with the grid resolved and the market spelled out: what a session records. */
export interface ResolvedCalvanoConfig {
  readonly scenario: string;
  readonly firms: number;
  readonly alpha: number;
  readonly beta: number;
  readonly delta: number;
  readonly gridSize: number;
  readonly extension: number;
  readonly maxPeriods: number;
  readonly convergenceWindow: number;
  /** The stage game every period: one entry per firm, segments, outside option. */
  readonly market: StageGameConfig;
}

/** Validates a config; throws a config PricelabError listing every bad field. */
export function parseCalvanoConfig(input: unknown): CalvanoConfig {
  const result = calvanoConfigSchema.safeParse(input ?? {});
  if (result.success) return result.data;
  const problems: Problem[] = result.error.issues.map((issue) => ({
    path: issue.path.map((part) => (typeof part === 'symbol' ? String(part) : part)),
    message: issue.code === 'unrecognized_keys' ? `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => `"${key}"`).join(', ')}: expected only the documented fields` : issue.message,
  }));
  throw configError(`invalid Calvano config (${problems.length} problem${problems.length === 1 ? '' : 's'})`, problems);
}

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

/**
 * Reads the game from a loaded scenario (experiments/reproduce-calvano.ts loads it by id):
 * its firms (the first n, then copies of the last: symmetric firms), segments and ladder,
 * with the config's demand overrides applied.
 */
export function resolveCalvanoConfig(config: CalvanoConfig, scenario: Scenario): ResolvedCalvanoConfig {
  if (scenario.demand.kind !== 'logit') {
    throw configError(`scenario ${scenario.id} cannot host the Calvano experiment`, [{ path: ['scenario'], message: `expected logit demand, found ${scenario.demand.kind}` }]);
  }
  const demand = scenario.demand;
  const overrides = config.demand ?? {};
  const scenarioFirms = [{ quality: demand.quality, unitCost: scenario.unitCost }, ...scenario.competitors.map((rival) => ({ quality: rival.quality, unitCost: rival.unitCost }))];
  const firms = Array.from({ length: config.firms }, (_, index) => {
    const source = scenarioFirms[Math.min(index, scenarioFirms.length - 1)] ?? { quality: demand.quality, unitCost: scenario.unitCost };
    return { quality: overrides.quality ?? source.quality, unitCost: overrides.unitCost ?? source.unitCost };
  });
  const segments = demand.segments.map((segment) => ({
    weight: segment.arrivalRate,
    priceSensitivity: overrides.priceSensitivity ?? segment.priceSensitivity,
    scale: overrides.scale ?? segment.scale,
  }));
  // The grid is rebuilt for the n-firm game, so that it spans that game's Nash and monopoly prices.
  const ladder = scenario.priceLadder.kind === 'equilibrium-grid' ? scenario.priceLadder : { count: 15, extension: 0.1 };
  const gridSize = config.gridSize ?? ladder.count;
  const entries = config.firms * gridSize ** (config.firms + 1);
  if (gridSize > 127 || entries > MAX_Q_ENTRIES) {
    throw configError(`scenario ${scenario.id}'s ladder is too large for the experiment`, [
      { path: ['gridSize'], message: `expected at most 127 prices and ${MAX_Q_ENTRIES} Q entries, found ${gridSize} prices (${entries} entries); set gridSize` },
    ]);
  }
  return {
    scenario: config.scenario,
    firms: config.firms,
    alpha: config.alpha,
    beta: config.beta,
    delta: config.delta,
    gridSize,
    extension: config.extension ?? ladder.extension,
    maxPeriods: config.maxPeriods,
    convergenceWindow: config.convergenceWindow,
    market: { firms, segments, outsideUtility: overrides.outsideUtility ?? demand.outsideUtility },
  };
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

export interface CalvanoSessionResult {
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
  /** The state after the last period (the joint action then played). */
  readonly finalState: number;
  /** The limit cycle's states in the order played, starting with the first one reached from finalState. */
  readonly cycleStates: readonly number[];
  /** Each firm's greedy price index in every state (m^n entries). */
  readonly finalStrategies: readonly Int8Array[];
  readonly seconds: number;
  readonly config: ResolvedCalvanoConfig;
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

interface Learned {
  converged: boolean;
  periods: number;
  state: number;
  /** Greedy action of firm i in state s at i * stateCount + s. */
  greedy: Int8Array;
}

/** Which loop runs the session: 'auto' picks the unrolled duopoly loop for two firms. Both give the same numbers. */
export type CalvanoKernel = 'auto' | 'general';

/** The learning loop: the order of events of the card, steps 1 to 4. */
function learn(game: CalvanoGame, stream: RandomStream, kernel: CalvanoKernel): Learned {
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
export function impulseResponse(result: CalvanoSessionResult, options: ImpulseResponseOptions = {}): ImpulseResponse {
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
