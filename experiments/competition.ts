/**
 * Learning competitors: any agent kind can play any firm of the multi-firm market.
 *
 * runCompetition builds one MultiFirmMarket, one FirmView, and one agent per listed firm
 * (createAgent, with an AgentContext from that firm's spaces and the seed `seed * 1000 + firm`).
 * Then the loop, written once for the multi-firm case: every period each listed firm acts
 * on its own observation with exploration, unlisted rivals keep their rule strategy (-1),
 * the market steps, and each agent observes its own transition, whose reward is its own
 * profit (MultiFirmStep.rewards[firm]). Firm 0 has no strategy of its own, so it must be
 * listed: a learner, or a rule such as fixed-price. Training episode e uses market seed
 * `seed + e`; the optional greedy evaluation (no exploration, no learning) uses seeds from
 * 1,000,000 + seed upward. The loop never branches on an agent's kind; oracle kinds
 * (needsModel) may play firm 0 only, because the live market answers firm 0's demand.
 *
 * Measured: per-firm mean reward and price over the last `tailPeriods` training periods,
 * every firm's prices in the last `lastPeriods` periods, and, where the scenario has Nash
 * and monopoly benchmarks (a stationary logit market), the profit-gain index
 * (pi - pi_Nash) / (pi_monopoly - pi_Nash) of the tail's mean profits and of the final
 * prices (Calvano et al. 2020).
 */
import type { Agent, AgentContext, AgentExport } from '../agents/agent.js';
import { agentDefinition, agentDefinitions, createAgent } from '../agents/registry.js';
import { configError, type Problem } from '../core/errors.js';
import { FirmView } from '../env/firm-view.js';
import { buildMarketModel, type MarketModel } from '../env/model.js';
import { MultiFirmMarket } from '../env/multi-firm.js';
import { loadScenario } from '../scenarios/load.js';
import type { Scenario } from '../scenarios/schema.js';
import { evaluationSeed } from '../core/seeds.js';

export interface CompetitionLearner {
  /** Firm index: 0 is the focal firm, k >= 1 the scenario's k-th competitor. */
  readonly firm: number;
  /** Any registered agent kind (q-learning, epsilon-greedy, ucb1, thompson, dqn, fixed-price...). */
  readonly kind: string;
  readonly config?: unknown;
}

export interface CompetitionOptions {
  /** A scenario (or a built-in id / path); or give `model`. */
  readonly scenario?: Scenario | string;
  readonly model?: MarketModel;
  readonly learners: readonly CompetitionLearner[];
  /** Budget: training periods, or episodes (whichever ends first when both are given). */
  readonly steps?: number;
  readonly episodes?: number;
  readonly seed: number;
  /** Greedy episodes after training (default 0: none). */
  readonly evaluationEpisodes?: number;
  /** Training periods averaged at the end (default: the last 10% of the budget, at least 1). */
  readonly tailPeriods?: number;
  /** Final periods whose prices are returned (default 20). */
  readonly lastPeriods?: number;
}

export interface PeriodSummary {
  readonly periods: number;
  /** Per firm: mean reward per period (each firm's own profit). */
  readonly meanRewards: number[];
  /** Per firm: mean posted price. */
  readonly meanPrices: number[];
}

export interface ProfitGain {
  /** Per firm, (pi - pi_Nash) / (pi_monopoly - pi_Nash). */
  readonly perFirm: number[];
  /** Mean over firms. */
  readonly mean: number;
}

export interface CompetitionResult {
  readonly scenarioId: string;
  readonly firmNames: string[];
  readonly learners: { firm: number; kind: string; seed: number }[];
  readonly steps: number;
  readonly episodes: number;
  readonly seconds: number;
  /** The last `tailPeriods` training periods. */
  readonly tail: PeriodSummary;
  /** Every firm's price in the last training periods, oldest first (period x firm). */
  readonly lastPrices: number[][];
  /** Greedy evaluation, when evaluationEpisodes > 0: means over all its periods, and its last prices. */
  readonly evaluation?: PeriodSummary & { episodes: number; lastPrices: number[][] };
  /** The stage game's Nash and monopoly prices and profits, when the market has them. */
  readonly benchmarks?: { nashPrices: number[]; nashProfits: number[]; monopolyPrices: number[]; monopolyProfits: number[] };
  /**
   * Profit-gain index of the tail's mean rewards, and of the stage-game profits at the final
   * prices (the `lastPrices` of the evaluation if any, else of training), averaged over those periods.
   */
  readonly profitGain?: { tail: ProfitGain; finalPrices: ProfitGain };
  /** Each listed firm's agent export, in the order of `learners`. */
  readonly exports: { firm: number; export: AgentExport }[];
}

/** The seed of firm k's agent (its own exploration stream). */
export const firmAgentSeed = (seed: number, firm: number): number => seed * 1000 + firm;

/**
 * Profit-gain index of the stage game's profits at the given price profiles (period x firm),
 * averaged over the periods (a cycle counts as a whole), where the market has Nash and
 * monopoly benchmarks; undefined elsewhere.
 */
export function profitGainAt(model: MarketModel, pricePeriods: readonly (readonly number[])[]): ProfitGain | undefined {
  const game = model.stageGame;
  if (!model.benchmarks || !game || pricePeriods.length === 0) return undefined;
  const sums = new Float64Array(game.firmCount);
  for (const prices of pricePeriods) game.profits(prices).forEach((profit, firm) => (sums[firm] = (sums[firm] ?? 0) + profit));
  return profitGainOf(model, Array.from(sums, (sum) => sum / pricePeriods.length));
}

function profitGainOf(model: MarketModel, profits: ArrayLike<number>): ProfitGain | undefined {
  const benchmarks = model.benchmarks;
  if (!benchmarks) return undefined;
  const perFirm = Array.from(profits, (profit, firm) => {
    const nash = benchmarks.nash.profits[firm] ?? 0;
    return (profit - nash) / ((benchmarks.monopoly.profits[firm] ?? 0) - nash);
  });
  return { perFirm, mean: perFirm.reduce((total, value) => total + value, 0) / Math.max(1, perFirm.length) };
}

/**
 * A state discretisation over every firm's `price:<name>` feature with one bin per ladder
 * price (bin edges halfway between ladder prices divided by the top of the ladder), for
 * tabular agents such as q-learning: `{ discretisation: ladderDiscretisation(model) }`.
 */
export function ladderDiscretisation(source: Scenario | MarketModel, firms?: readonly number[]): { name: string; bins: number; low: number; high: number }[] {
  const model = 'calendar' in source ? source : buildMarketModel(source);
  const ladder = model.ladder;
  const top = ladder[ladder.length - 1] ?? 1;
  const first = ladder[0] ?? 0;
  const step = ladder.length > 1 ? (top - first) / (ladder.length - 1) : top;
  const names = ['focal', ...model.rivals.map((rival) => rival.name)];
  return (firms ?? names.map((_, firm) => firm)).map((firm) => ({
    name: `price:${names[firm] ?? '?'}`,
    bins: ladder.length,
    low: (first - step / 2) / top,
    high: (top + step / 2) / top,
  }));
}

function modelOf(options: CompetitionOptions): { model: MarketModel; scenarioId: string } {
  if (options.model) return { model: options.model, scenarioId: options.model.scenario.id };
  if (options.scenario === undefined) throw configError('runCompetition needs a market', [{ path: ['scenario'], message: 'expected a scenario (object, id or path) or a model, found neither' }]);
  const scenario = typeof options.scenario === 'string' ? loadScenario(options.scenario).scenario : options.scenario;
  return { model: buildMarketModel(scenario), scenarioId: scenario.id };
}

function validate(options: CompetitionOptions, view: FirmView): void {
  const problems: Problem[] = [];
  const firms = `0..${view.firmCount - 1} (${view.firmNames.map((name, firm) => `${firm} ${name}`).join(', ')})`;
  const seen = new Set<number>();
  options.learners.forEach((learner, index) => {
    if (!Number.isInteger(learner.firm) || learner.firm < 0 || learner.firm >= view.firmCount) {
      problems.push({ path: ['learners', index, 'firm'], message: `expected a firm index in ${firms}, found ${learner.firm}` });
    } else if (seen.has(learner.firm)) {
      problems.push({ path: ['learners', index, 'firm'], message: `expected one agent per firm, found firm ${learner.firm} twice` });
    } else if (learner.firm > 0 && agentDefinitions.get(learner.kind)?.needsModel) {
      problems.push({ path: ['learners', index, 'kind'], message: `expected a kind that does not read the true model on a rival firm, found the oracle "${learner.kind}" (oracles may play firm 0 only)` });
    }
    seen.add(learner.firm);
  });
  if (!seen.has(0)) {
    problems.push({ path: ['learners'], message: 'expected an agent for firm 0 (focal), which has no rule strategy of its own: a learner, or a rule such as { firm: 0, kind: "fixed-price", config: { price } }' });
  }
  if (options.steps === undefined && options.episodes === undefined) problems.push({ path: ['steps'], message: 'expected a budget: steps or episodes' });
  for (const key of ['steps', 'episodes', 'tailPeriods', 'lastPeriods'] as const) {
    const value = options[key];
    if (value !== undefined && !(Number.isInteger(value) && value > 0)) problems.push({ path: [key], message: `expected a positive integer, found ${value}` });
  }
  const evaluationEpisodes = options.evaluationEpisodes;
  if (evaluationEpisodes !== undefined && !(Number.isInteger(evaluationEpisodes) && evaluationEpisodes >= 0)) {
    problems.push({ path: ['evaluationEpisodes'], message: `expected a non-negative integer, found ${evaluationEpisodes}` });
  }
  if (!Number.isFinite(options.seed)) problems.push({ path: ['seed'], message: `expected a finite number, found ${options.seed}` });
  if (problems.length > 0) throw configError('the competition is not valid', problems);
}

/** Keeps the last `capacity` periods' rewards and prices (period x firm). */
class PeriodRing {
  readonly rewards: Float64Array;
  readonly prices: Float64Array;
  private count = 0;

  constructor(
    readonly capacity: number,
    readonly firms: number,
  ) {
    this.rewards = new Float64Array(capacity * firms);
    this.prices = new Float64Array(capacity * firms);
  }

  push(rewards: ArrayLike<number>, prices: ArrayLike<number>): void {
    const offset = (this.count % this.capacity) * this.firms;
    for (let firm = 0; firm < this.firms; firm++) {
      this.rewards[offset + firm] = rewards[firm] ?? 0;
      this.prices[offset + firm] = prices[firm] ?? 0;
    }
    this.count++;
  }

  /** The last `periods` (at most what was kept), oldest first. */
  rows(values: Float64Array, periods: number): number[][] {
    const kept = Math.min(this.count, this.capacity, periods);
    const rows: number[][] = [];
    for (let back = kept; back >= 1; back--) {
      const offset = ((this.count - back) % this.capacity) * this.firms;
      rows.push(Array.from(values.subarray(offset, offset + this.firms)));
    }
    return rows;
  }

  summary(periods: number): PeriodSummary {
    const mean = (rows: number[][]) => Array.from({ length: this.firms }, (_, firm) => rows.reduce((total, row) => total + (row[firm] ?? 0), 0) / Math.max(1, rows.length));
    const rewards = this.rows(this.rewards, periods);
    return { periods: rewards.length, meanRewards: mean(rewards), meanPrices: mean(this.rows(this.prices, periods)) };
  }
}

export async function runCompetition(options: CompetitionOptions): Promise<CompetitionResult> {
  const started = performance.now();
  const { model, scenarioId } = modelOf(options);
  const market = new MultiFirmMarket(model);
  const view = new FirmView(market.market);
  validate(options, view);

  const firmCount = view.firmCount;
  const listed = options.learners.map((learner) => ({ ...learner, seed: firmAgentSeed(options.seed, learner.firm) }));
  const agents: Agent[] = [];
  try {
    for (const learner of listed) {
      const { observationSpace, actionSpace } = view.spacesOf(learner.firm);
      const oracle = learner.firm === 0 && agentDefinition(learner.kind).needsModel;
      const context: AgentContext = {
        observationSpace,
        actionSpace,
        ladder: model.ladder,
        unitCost: learner.firm === 0 ? model.unitCost : (model.rivals[learner.firm - 1]?.config.unitCost ?? model.unitCost),
        listPrice: model.listPrice,
        seed: learner.seed,
        ...(oracle ? { model, market: market.market } : {}),
      };
      agents.push(await createAgent(learner.kind, learner.config, context));
    }

    const budget = options.steps ?? (options.episodes ?? 1) * model.horizon;
    const tailPeriods = options.tailPeriods ?? Math.max(1, Math.floor(budget / 10));
    const lastPeriods = options.lastPeriods ?? 20;
    const ring = new PeriodRing(Math.max(tailPeriods, lastPeriods), firmCount);
    const indices = new Int32Array(firmCount).fill(-1);
    const actions = new Int32Array(agents.length);
    let observations: Float32Array[] = agents.map(() => new Float32Array(view.featureNames.length));

    let steps = 0;
    let episodes = 0;
    const budgetLeft = () => (options.steps === undefined || steps < options.steps) && (options.episodes === undefined || episodes < options.episodes);
    while (budgetLeft()) {
      market.reset(options.seed + episodes);
      listed.forEach((learner, slot) => view.observe(learner.firm, observations[slot]));
      for (;;) {
        for (let slot = 0; slot < agents.length; slot++) {
          const action = agents[slot]!.act(observations[slot]!, { explore: true });
          actions[slot] = action;
          indices[listed[slot]!.firm] = action;
        }
        const outcome = market.stepIndices(indices);
        ring.push(outcome.rewards, outcome.prices);
        const next = listed.map((learner) => view.observe(learner.firm));
        for (let slot = 0; slot < agents.length; slot++) {
          agents[slot]!.observe({
            observation: observations[slot]!,
            action: actions[slot]!,
            reward: outcome.rewards[listed[slot]!.firm] ?? 0,
            nextObservation: next[slot]!,
            terminated: outcome.terminated,
            truncated: outcome.truncated,
          });
        }
        observations = next;
        steps++;
        if (outcome.terminated || outcome.truncated || !budgetLeft()) break;
      }
      episodes++;
    }

    const tail = ring.summary(tailPeriods);
    const lastPrices = ring.rows(ring.prices, lastPeriods);
    let evaluation: CompetitionResult['evaluation'];
    if ((options.evaluationEpisodes ?? 0) > 0) evaluation = evaluateGreedy(market, view, listed, agents, options.evaluationEpisodes ?? 0, evaluationSeed(options.seed), lastPeriods);

    const benchmarks = model.benchmarks
      ? { nashPrices: model.benchmarks.nash.prices, nashProfits: model.benchmarks.nash.profits, monopolyPrices: model.benchmarks.monopoly.prices, monopolyProfits: model.benchmarks.monopoly.profits }
      : undefined;
    const tailGain = profitGainOf(model, tail.meanRewards);
    const finalGain = profitGainAt(model, evaluation?.lastPrices ?? lastPrices);
    const exports = [];
    for (let slot = 0; slot < agents.length; slot++) exports.push({ firm: listed[slot]!.firm, export: await agents[slot]!.export() });
    return {
      scenarioId,
      firmNames: [...view.firmNames],
      learners: listed.map((learner) => ({ firm: learner.firm, kind: learner.kind, seed: learner.seed })),
      steps,
      episodes,
      seconds: (performance.now() - started) / 1000,
      tail,
      lastPrices,
      ...(evaluation ? { evaluation } : {}),
      ...(benchmarks ? { benchmarks } : {}),
      ...(tailGain && finalGain ? { profitGain: { tail: tailGain, finalPrices: finalGain } } : {}),
      exports,
    };
  } finally {
    for (const agent of agents) agent.dispose();
  }
}

/** Greedy episodes: no exploration, no learning; the same seeds for every run (common random numbers). */
function evaluateGreedy(
  market: MultiFirmMarket,
  view: FirmView,
  listed: readonly { firm: number }[],
  agents: readonly Agent[],
  episodes: number,
  seed: number,
  lastPeriods: number,
): NonNullable<CompetitionResult['evaluation']> {
  const firmCount = view.firmCount;
  const horizon = market.model.horizon;
  const ring = new PeriodRing(episodes * horizon, firmCount);
  const indices = new Int32Array(firmCount).fill(-1);
  const observation = new Float32Array(view.featureNames.length);
  for (let episode = 0; episode < episodes; episode++) {
    market.reset(seed + episode);
    for (;;) {
      for (let slot = 0; slot < agents.length; slot++) indices[listed[slot]!.firm] = agents[slot]!.act(view.observe(listed[slot]!.firm, observation), { explore: false });
      const outcome = market.stepIndices(indices);
      ring.push(outcome.rewards, outcome.prices);
      if (outcome.terminated || outcome.truncated) break;
    }
  }
  return { episodes, ...ring.summary(Number.POSITIVE_INFINITY), lastPrices: ring.rows(ring.prices, lastPeriods) };
}
