/**
 * One arm of a dashboard session: a policy pricing its own copy of the market. Each day
 * the policy proposes a ladder price from the observation, the guardrails
 * (agents/guardrails.ts, in their fixed order) turn it into the played price exactly as
 * evaluation's GuardedPolicy does (yesterday's price and the rivals' prices read from the
 * observation's named features), and the env steps. Both arms of an A vs B session reset
 * with the same seed, so they meet the same customers (common random numbers).
 *
 * The arm keeps the current episode's observations and proposals, day by day, so that
 * "why this price?" can be answered for any past day of the episode (policies are greedy
 * and do not learn here, so explaining later gives what they knew then).
 *
 * Its KPIs are the market's episode KPIs so far (env/kpis.ts, the accumulator every
 * evaluation uses) plus what only the dashboard counts: demand, for the fill rate, and
 * the days the guardrails changed the proposed price. Its fairness figures are the effective
 * price paid so far by group (effective-prices.ts).
 */
import { makeEnv, type TimeLimit } from '../../env/env.js';
import type { MarketModel } from '../../env/model.js';
import type { EpisodeKpis } from '../../env/kpis.js';
import { applyGuardrails, type GuardedPrice, type Guardrails, type PricingContext } from '../../agents/guardrails.js';
import type { DayExplanation, DayPoint, FairnessFigures, Kpis } from '../shared/events.js';
import { EffectivePriceTally } from './effective-prices.js';
import type { Explanation } from '../../agents/agent.js';
import type { DashboardPolicy } from './policy-source.js';

interface DayRecord {
  readonly observation: Float32Array<ArrayBufferLike>;
  readonly proposedIndex: number;
}

export class Arm {
  readonly env: TimeLimit;
  private policy: DashboardPolicy | undefined;
  guardrails: Guardrails = {};
  private observation: Float32Array<ArrayBufferLike> = new Float32Array(0);
  private readonly history: DayRecord[] = [];
  private kpis: Kpis = emptyKpis();
  private demandSoFar = 0;
  private guardrailAdjustments = 0;
  private readonly effectivePrices: EffectivePriceTally;
  /** Feature positions the guardrail context reads. */
  private readonly lastPriceFeature: { index: number; scale: number };
  private readonly rivalFeatures: { index: number; scale: number }[];
  ended = false;

  constructor(model: MarketModel) {
    this.env = makeEnv(model);
    this.effectivePrices = new EffectivePriceTally(model);
    const space = this.env.observationSpace;
    const lastPriceIndex = space.featureNames.indexOf('lastPrice');
    this.lastPriceFeature = { index: lastPriceIndex, scale: space.scales[lastPriceIndex] ?? 1 };
    this.rivalFeatures = space.featureNames.flatMap((name, index) => (name.startsWith('rivalPrice:') ? [{ index, scale: space.scales[index] ?? 1 }] : []));
  }

  get model(): MarketModel {
    return this.env.model;
  }

  /** The policy must be built on this arm's env (oracles read its market): give it after construction. */
  usePolicy(policy: DashboardPolicy, guardrails: Guardrails): void {
    this.policy = policy;
    this.guardrails = guardrails;
  }

  get policySpec(): string {
    return this.policy?.spec ?? '';
  }

  get agentKind(): string {
    return this.policy?.agentKind ?? '';
  }

  reset(seed: number | string): void {
    this.observation = this.env.reset({ seed }).observation;
    this.history.length = 0;
    this.kpis = emptyKpis();
    this.demandSoFar = 0;
    this.guardrailAdjustments = 0;
    this.effectivePrices.reset(seed);
    this.ended = false;
  }

  get currentKpis(): Kpis {
    return { ...this.kpis };
  }

  /** Effective price paid so far this episode by group, its spread and the sensitive attributes' share. */
  get currentFairness(): FairnessFigures {
    return this.effectivePrices.figures();
  }

  /** Simulates one day and describes it. */
  step(): DayPoint {
    const policy = this.requirePolicy();
    const observation = this.observation;
    const proposedIndex = policy.act(observation);
    const guarded = this.guard(observation, proposedIndex);
    const result = this.env.step(guarded.ladderIndex);
    const info = result.info;
    this.history[info.day] = { observation, proposedIndex };
    this.observation = result.observation;
    this.ended = result.terminated || result.truncated;
    const market = info.market;
    this.effectivePrices.record(info, guarded.ladderIndex);
    if (guarded.ladderIndex !== proposedIndex) this.guardrailAdjustments += 1;
    this.demandSoFar += market.demand;
    const kpis = dashboardKpis(this.env.market.episodeKpis(), this.demandSoFar, this.guardrailAdjustments);
    this.kpis = kpis;
    return {
      day: info.day,
      days: 1,
      price: info.price,
      proposedPrice: this.model.ladder[proposedIndex] ?? Number.NaN,
      rivalPrices: info.prices.slice(1),
      referencePrices: Array.from(this.env.market.referencePrice.subarray(0, this.model.segments.length)),
      demand: market.demand,
      sold: market.sold,
      lostSales: market.lostSales,
      soldBySegment: market.segments.map((segment) => segment.sold),
      lostBySegment: market.segments.map((segment) => segment.lostSales),
      stockOnHand: market.stockOnHand,
      stockOnOrder: market.stockOnOrder,
      unitsOrdered: market.unitsOrdered,
      unitsReturned: market.unitsReturned,
      refunds: info.terms.refunds,
      revenue: info.terms.revenue,
      profit: info.profit,
      cumulativeRevenue: kpis.revenue,
      cumulativeProfit: kpis.profit,
      eventDay: market.eventDay,
      presaleDay: market.presaleDay,
      weather: market.weather,
    };
  }

  /** "Why this price?" for a day of the current episode, or undefined if it was not simulated. */
  explain(day: number): Omit<DayExplanation, 'arm' | 'episode'> | undefined {
    const record = this.history[day];
    const policy = this.requirePolicy();
    if (!record) return undefined;
    const space = this.env.observationSpace;
    const guarded = this.guard(record.observation, record.proposedIndex);
    const ladder = Array.from(this.model.ladder);
    return {
      day,
      policy: policy.spec,
      ladder,
      proposedPrice: ladder[record.proposedIndex] ?? Number.NaN,
      price: guarded.price,
      features: space.featureNames.map((name, index) => {
        const scaled = record.observation[index] ?? 0;
        return { name, scaled, value: scaled * (space.scales[index] ?? 1) };
      }),
      decision: plainDecision(policy.explain(record.observation, record.proposedIndex)),
      guardrails: { rules: { ...this.guardrails }, effects: guarded.effects.map((effect) => ({ ...effect })), violations: [...guarded.violations] },
    };
  }

  dispose(): void {
    this.policy?.dispose();
    this.policy = undefined;
  }

  private guard(observation: Float32Array, proposedIndex: number): GuardedPrice {
    const ladder = this.model.ladder;
    return applyGuardrails(ladder[proposedIndex] ?? Number.NaN, ladder, this.guardrails, this.contextOf(observation));
  }

  private contextOf(observation: Float32Array): PricingContext {
    const lastPrice = this.lastPriceFeature.index >= 0 ? (observation[this.lastPriceFeature.index] ?? 0) * this.lastPriceFeature.scale : 0;
    const competitorPrices = this.rivalFeatures.map((feature) => (observation[feature.index] ?? 0) * feature.scale).filter((price) => price > 0);
    return { lastPrice: lastPrice > 0 ? lastPrice : undefined, competitorPrices, unitCost: this.model.unitCost };
  }

  private requirePolicy(): DashboardPolicy {
    if (!this.policy) throw new Error('the arm has no policy yet (usePolicy first)');
    return this.policy;
  }
}

function emptyKpis(): Kpis {
  return { days: 0, revenue: 0, profit: 0, sold: 0, lostSales: 0, fillRate: 1, unitsReturned: 0, refunds: 0, meanPrice: 0, guardrailAdjustments: 0 };
}

/** The dashboard's KPIs from the episode's so far: revenue is GMV (before refunds), the fill rate units sold / units demanded (1 before any demand). */
function dashboardKpis(episode: EpisodeKpis, demand: number, guardrailAdjustments: number): Kpis {
  return {
    days: episode.days,
    revenue: episode.gmv,
    profit: episode.profit,
    sold: episode.units,
    lostSales: episode.lostSales,
    fillRate: demand > 0 ? episode.units / demand : 1,
    unitsReturned: episode.unitsReturned,
    refunds: episode.refunds,
    meanPrice: episode.averagePrice,
    guardrailAdjustments,
  };
}

/** The policy's explanation as plain, mutable JSON for the socket. */
export function plainDecision(explanation: Explanation): DayExplanation['decision'] {
  switch (explanation.kind) {
    case 'action-values':
      return { kind: 'action-values', values: [...explanation.values], chosen: explanation.chosen };
    case 'arm-statistics':
      return { kind: 'arm-statistics', arms: explanation.arms.map((arm) => ({ ...arm })), chosen: explanation.chosen };
    case 'rule':
      return { kind: 'rule', description: explanation.description, chosen: explanation.chosen };
  }
}
