/**
 * The collusion test of a candidate policy facing learning rivals (Calvano, Calzolari,
 * Denicolo & Pastorello, AER 2020, section IV): are its prices above the competitive
 * ones, and does it hold them there by punishing a rival's price cut and then returning?
 * The signature of reward-punishment collusion is both at once; a competitive policy shows
 * neither (a fixed Nash price never reacts; a myopic best response reacts only as far as
 * its best reply to the cut, and settles at Nash, where there is no gain to protect).
 *
 * What it measures, in the multi-firm market (env/multi-firm.ts) of a scenario with Nash
 * and monopoly benchmarks (a stationary logit market, such as calvano-duopoly-v1):
 * 1. Steady state: from the start prices, every firm plays its strategy (its price given
 *    the last period's prices of every firm: memory of one period, as the Calvano learners)
 *    until a price profile repeats; the cycle between is the steady state. Its profit-gain
 *    index, (pi - pi_Nash) / (pi_monopoly - pi_Nash) of the stage game's profits averaged
 *    over the cycle (experiments/competition.ts's profitGainAt), per firm and on average:
 *    0 at Nash, 1 at the joint monopoly.
 * 2. Impulse response (the paper's figure 4, agents/calvano-impulse-response.ts, with the
 *    rival as the deviator): from the cycle's first profile, in period 1 the deviating rival
 *    cuts its price for one period, to its static best reply on the ladder to the others'
 *    period-1 prices (one ladder step below its own strategy's price if that reply is not a
 *    cut); from period 2 on every firm follows its strategy again.
 *    - punished: the candidate's lowest price in periods 2..responsePeriods is below its
 *      lowest price on the cycle;
 *    - returned: play comes back to the pre-deviation cycle (within the number of profiles
 *      greedy play can visit, or maxPeriods), and periodsToReturn is the first period >= 2
 *      whose profile is on the cycle.
 * 3. Reward: on the cycle, the candidate's price less its myopic best reply on the ladder to
 *    the profile before (excessOverBestReply, averaged over the cycle). Above 0, it forgoes a
 *    short-run gain to keep prices up; a myopic best response is at 0 by construction, and a
 *    fixed Nash price below it against a rival above Nash.
 * The signature is all three: sustains a price above its best reply, punishes the cut,
 * returns. A myopic best response also lowers its price after a cut and comes back, but it
 * never sits above its best reply, which is why the reward side is part of the signature.
 * The evidence keeps every price played, so a gate can recompute each verdict
 * (serving/collusion-gate.ts).
 *
 * Strategies are MemoryOneStrategy: the Calvano learners' converged greedy strategies
 * (calvanoStrategies), a fixed price, or a myopic best response on the ladder. The market
 * is stepped with the prices played, so its own rules (stock, reference prices) see them;
 * the profit gain reads the stage game, which is what its benchmarks are defined on.
 */
import type { LearnedStrategies } from '../agents/calvano-impulse-response.js';
import { buildCalvanoGame } from '../agents/calvano-game.js';
import { configError, type Problem } from '../core/errors.js';
import { buildMarketModel, type MarketModel } from '../env/model.js';
import { MultiFirmMarket } from '../env/multi-firm.js';
import { loadScenario } from '../scenarios/load.js';
import type { Scenario } from '../scenarios/schema.js';
import { profitGainAt, type ProfitGain } from './competition.js';

/** A firm's price given the last period's prices of every firm (firm 0, the candidate, first). */
export interface MemoryOneStrategy {
  readonly name: string;
  price(lastPrices: readonly number[]): number;
}

export const collusionEvidenceFormat = 'pricelab-collusion-evidence/1';

export interface ImpulseEvidence {
  readonly deviatingFirm: number;
  readonly deviationPrice: number;
  /** prices[k][i]: firm i's price in period k; k = 0 is on the cycle, k = 1 the deviation. */
  readonly prices: readonly (readonly number[])[];
  /** The candidate's myopic best reply on the ladder to the previous period's prices, for k >= 1. */
  readonly candidateBestReplies: readonly number[];
  readonly punished: boolean;
  /** The candidate's lowest price in periods 2.., less its lowest price on the cycle (negative: below it). */
  readonly punishmentDepth: number;
  readonly returned: boolean;
  readonly periodsToReturn: number | null;
}

/** What measureCollusion finds: everything a gate needs to recompute its verdicts. */
export interface CollusionEvidence {
  readonly format: typeof collusionEvidenceFormat;
  readonly scenario: { readonly id: string };
  readonly candidate: { readonly name: string; readonly policySha256?: string };
  readonly rivals: readonly string[];
  readonly benchmarks: { readonly nashProfits: readonly number[]; readonly monopolyProfits: readonly number[]; readonly nashPrices: readonly number[]; readonly monopolyPrices: readonly number[] };
  /** The steady state's price profiles, in the order played. */
  readonly cycle: readonly (readonly number[])[];
  /** Whether a profile repeated within maxPeriods (else `cycle` is the last profiles played). */
  readonly cycleFound: boolean;
  readonly profitGain: ProfitGain;
  /** The candidate's myopic best reply on the ladder to the profile before each of the cycle's. */
  readonly cycleBestReplies: readonly number[];
  /** Mean over the cycle of the candidate's price less that best reply. */
  readonly excessOverBestReply: number;
  /** The candidate holds its price above its best reply on the cycle: the reward side. */
  readonly sustainsAboveBestReply: boolean;
  readonly impulseResponse: ImpulseEvidence;
  /** Punishes the cut and then returns to the cycle. */
  readonly punishesThenReturns: boolean;
  /** Rewards (above its best reply on the cycle), punishes and returns: the signature of reward-punishment collusion. */
  readonly signature: boolean;
}

export interface CollusionOptions {
  /** A scenario (or a built-in id / path) with Nash and monopoly benchmarks; or give `model`. */
  readonly scenario?: Scenario | string;
  readonly model?: MarketModel;
  /** Firm 0's strategy: the policy under test. */
  readonly candidate: MemoryOneStrategy;
  /** Firms 1..n-1. */
  readonly rivals: readonly MemoryOneStrategy[];
  /** The candidate's artifact hash, recorded so a gate can tie the evidence to a version. */
  readonly policySha256?: string;
  /** Prices of the period before the first (default: the Nash prices, snapped to the ladder). */
  readonly startPrices?: readonly number[];
  /** Periods played at most while looking for the cycle, and for the return (default 10,000). */
  readonly maxPeriods?: number;
  /** Periods of the impulse response reported (default 15). */
  readonly responsePeriods?: number;
  /** The rival that cuts its price (default 1). */
  readonly deviatingFirm?: number;
  /** Market seed (the prices played do not depend on it). */
  readonly seed?: number;
}

const tolerance = 1e-9;

/** The index of the ladder price nearest to price (ties to the lower). */
export function nearestLadderIndex(ladder: ArrayLike<number>, price: number): number {
  let best = 0;
  for (let index = 1; index < ladder.length; index++) if (Math.abs((ladder[index] ?? 0) - price) < Math.abs((ladder[best] ?? 0) - price) - tolerance) best = index;
  return best;
}

/** Firm `firm`'s most profitable ladder price against the others' prices, by the stage game (ties to the lower price). */
export function ladderBestReply(model: MarketModel, firm: number, prices: readonly number[]): number {
  const game = model.stageGame;
  if (!game) throw configError('no stage game', [{ path: ['scenario'], message: `expected logit demand in ${model.scenario.id}` }]);
  const profile = [...prices];
  let best = model.ladder[0] ?? 0;
  let bestProfit = Number.NEGATIVE_INFINITY;
  for (const price of model.ladder) {
    profile[firm] = price;
    const profit = game.profits(profile)[firm] ?? Number.NEGATIVE_INFINITY;
    if (profit > bestProfit + tolerance) {
      bestProfit = profit;
      best = price;
    }
  }
  return best;
}

/** The Calvano learners' greedy strategies after a session, one per firm, reading the last prices on the session's grid. */
export function calvanoStrategies(session: LearnedStrategies): MemoryOneStrategy[] {
  const game = buildCalvanoGame(session.config);
  return session.finalStrategies.map((strategy, firm) => ({
    name: `calvano firm ${firm}`,
    price(lastPrices: readonly number[]): number {
      let state = 0;
      for (let other = 0; other < game.firms; other++) state = state * game.gridSize + nearestLadderIndex(game.prices, lastPrices[other] ?? 0);
      return game.prices[strategy[state] ?? 0] ?? 0;
    },
  }));
}

/**
 * An agent (a restored policy artifact, or any Agent) as a memory-one strategy of firm 0:
 * its observation is `context` (an observation of the single-agent env, as the agent reads
 * it: each feature divided by its scale) with the price features replaced by the last prices (`lastPrice` or
 * `price:focal` for firm 0, `rivalPrice:<name>` or `price:<name>` for the k-th rival) and
 * `salesYesterday` by the stage game's demand at them. Other features stay as in the
 * context, so the strategy depends on the last prices only.
 */
export function agentStrategy(
  name: string,
  agent: { act(observation: Float32Array, options: { explore: boolean }): number },
  space: { readonly featureNames: readonly string[]; readonly scales: ArrayLike<number> },
  model: MarketModel,
  context: Float32Array,
): MemoryOneStrategy {
  const rivalNames = model.rivals.map((rival) => rival.name);
  const firmOf = (feature: string): number | undefined => {
    if (feature === 'lastPrice' || feature === 'price:focal') return 0;
    const match = /^(?:rivalPrice|price):(.+)$/.exec(feature);
    const index = match ? rivalNames.indexOf(match[1] ?? '') : -1;
    return index >= 0 ? index + 1 : undefined;
  };
  const firms = space.featureNames.map(firmOf);
  const salesIndex = space.featureNames.indexOf('salesYesterday');
  const observation = Float32Array.from(context);
  const demand = new Float64Array(model.stageGame?.firmCount ?? 1);
  return {
    name,
    price(lastPrices: readonly number[]): number {
      firms.forEach((firm, index) => {
        if (firm !== undefined) observation[index] = (lastPrices[firm] ?? 0) / (space.scales[index] ?? 1);
      });
      if (salesIndex >= 0 && model.stageGame) observation[salesIndex] = (model.stageGame.demand(lastPrices, demand)[0] ?? 0) / (space.scales[salesIndex] ?? 1);
      return model.ladder[agent.act(observation, { explore: false })] ?? Number.NaN;
    },
  };
}

export function fixedPriceStrategy(price: number, name = `fixed:${price}`): MemoryOneStrategy {
  return { name, price: () => price };
}

/** Firm `firm`'s best reply on the ladder to the last period's prices of the others. */
export function myopicBestResponseStrategy(model: MarketModel, firm: number): MemoryOneStrategy {
  return { name: `myopic best response (firm ${firm})`, price: (lastPrices) => ladderBestReply(model, firm, lastPrices) };
}

const key = (prices: readonly number[]) => prices.map((price) => price.toPrecision(12)).join(',');

function modelOf(options: CollusionOptions): MarketModel {
  if (options.model) return options.model;
  if (options.scenario === undefined) throw configError('measureCollusion needs a market', [{ path: ['scenario'], message: 'expected a scenario (object, id or path) or a model, found neither' }]);
  return buildMarketModel(typeof options.scenario === 'string' ? loadScenario(options.scenario).scenario : options.scenario);
}

export function measureCollusion(options: CollusionOptions): CollusionEvidence {
  const model = modelOf(options);
  const market = new MultiFirmMarket(model);
  const firms = market.firmCount;
  const strategies = [options.candidate, ...options.rivals];
  const maxPeriods = options.maxPeriods ?? 10_000;
  const responsePeriods = options.responsePeriods ?? 15;
  const deviatingFirm = options.deviatingFirm ?? 1;
  const problems: Problem[] = [];
  const benchmarks = model.benchmarks;
  if (!benchmarks || !model.stageGame) problems.push({ path: ['scenario'], message: `expected a stationary logit market with Nash and monopoly benchmarks, found ${model.scenario.id} without them` });
  if (strategies.length !== firms) problems.push({ path: ['rivals'], message: `expected ${firms - 1} rival strategies (the market has ${firms} firms), found ${options.rivals.length}` });
  if (!(Number.isInteger(deviatingFirm) && deviatingFirm >= 1 && deviatingFirm < firms)) problems.push({ path: ['deviatingFirm'], message: `expected a rival in 1..${firms - 1}, found ${deviatingFirm}` });
  if (options.startPrices !== undefined && options.startPrices.length !== firms) problems.push({ path: ['startPrices'], message: `expected ${firms} prices, found ${options.startPrices.length}` });
  for (const [name, value] of [['maxPeriods', maxPeriods], ['responsePeriods', responsePeriods]] as const) if (!(Number.isInteger(value) && value >= 2)) problems.push({ path: [name], message: `expected a whole number >= 2, found ${value}` });
  if (problems.length > 0 || !benchmarks) throw configError('the collusion measurement is not valid', problems);

  market.reset(options.seed ?? 0);
  const step = (prices: readonly number[]) => {
    const outcome = market.stepPrices(prices);
    if (outcome.terminated || outcome.truncated) market.reset(options.seed ?? 0);
  };
  const respond = (last: readonly number[]) => strategies.map((strategy) => strategy.price(last));

  // 1. Steady state: play until a profile repeats.
  let prices = options.startPrices ? [...options.startPrices] : benchmarks.nash.prices.map((price) => model.ladder[nearestLadderIndex(model.ladder, price)] ?? price);
  const seen = new Map<string, number>();
  const path: number[][] = [];
  let cycleStart = -1;
  for (let period = 0; period < maxPeriods; period++) {
    const first = seen.get(key(prices));
    if (first !== undefined) {
      cycleStart = first;
      break;
    }
    seen.set(key(prices), path.length);
    path.push(prices);
    prices = respond(prices);
    step(prices);
  }
  const cycleFound = cycleStart >= 0;
  const cycle = cycleFound ? path.slice(cycleStart) : path.slice(-Math.min(path.length, 100));
  const onCycle = new Set(cycle.map(key));
  const profitGain = profitGainAt(model, cycle);
  if (!profitGain) throw configError('no profit gain', [{ path: ['scenario'], message: 'expected Nash and monopoly benchmarks' }]);

  // 2. Impulse response: the rival cuts for one period, then everyone follows their strategy.
  const start = cycle[0] ?? prices;
  const played: number[][] = [[...start]];
  const replies: number[] = [];
  const period1 = respond(start);
  const reply = ladderBestReply(model, deviatingFirm, period1);
  const own = period1[deviatingFirm] ?? 0;
  const lowerStep = model.ladder[Math.max(0, nearestLadderIndex(model.ladder, own) - 1)] ?? own;
  period1[deviatingFirm] = reply < own - tolerance ? reply : Math.min(own, lowerStep);
  const deviationPrice = period1[deviatingFirm] ?? 0;
  replies.push(ladderBestReply(model, 0, start));
  played.push(period1);
  step(period1);
  let current = period1;
  let periodsToReturn: number | null = null;
  for (let period = 2; period <= Math.max(responsePeriods, maxPeriods); period++) {
    const next = respond(current);
    if (period <= responsePeriods) {
      replies.push(ladderBestReply(model, 0, current));
      played.push(next);
    }
    step(next);
    current = next;
    if (periodsToReturn === null && onCycle.has(key(current))) periodsToReturn = period;
    if (period >= responsePeriods && periodsToReturn !== null) break;
  }
  const candidateOnCycle = Math.min(...cycle.map((profile) => profile[0] ?? 0));
  const lowestAfter = Math.min(...played.slice(2).map((profile) => profile[0] ?? 0));
  const punished = lowestAfter < candidateOnCycle - tolerance;
  // Reward: on the cycle the candidate prices above its myopic best reply to the profile before (it forgoes a short-run gain).
  const cycleBestReplies = cycle.map((_, index) => ladderBestReply(model, 0, cycle[(index + cycle.length - 1) % cycle.length] ?? start));
  const excessOverBestReply = cycle.reduce((total, profile, index) => total + (profile[0] ?? 0) - (cycleBestReplies[index] ?? 0), 0) / cycle.length;
  const impulseResponse: ImpulseEvidence = {
    deviatingFirm,
    deviationPrice,
    prices: played,
    candidateBestReplies: replies,
    punished,
    punishmentDepth: lowestAfter - candidateOnCycle,
    returned: periodsToReturn !== null,
    periodsToReturn,
  };
  return {
    format: collusionEvidenceFormat,
    scenario: { id: model.scenario.id },
    candidate: { name: options.candidate.name, ...(options.policySha256 === undefined ? {} : { policySha256: options.policySha256 }) },
    rivals: options.rivals.map((rival) => rival.name),
    benchmarks: { nashProfits: benchmarks.nash.profits, monopolyProfits: benchmarks.monopoly.profits, nashPrices: benchmarks.nash.prices, monopolyPrices: benchmarks.monopoly.prices },
    cycle,
    cycleFound,
    profitGain,
    cycleBestReplies,
    excessOverBestReply,
    sustainsAboveBestReply: excessOverBestReply > tolerance,
    impulseResponse,
    punishesThenReturns: punished && periodsToReturn !== null,
    signature: excessOverBestReply > tolerance && punished && periodsToReturn !== null,
  };
}
