/**
 * The coupon-depth learning benchmark: does a bandit find the better coupon on a market whose
 * answer is known? A result over several training seeds with a pass rate, not a pinned seed.
 *
 * The market (`knownAnswerCouponScenario`): one price (10, unit cost 4), two segments of 1,000
 * customers who visit on 20% of days whatever their stage (so the market is stationary):
 * coupon seekers (b = 1, claim every coupon offered) and regulars (b = 0.3, never claim).
 * The action menu: no coupon, or an amount-off coupon of 1, 2, 2.8, 3.5 or 5, valid on the day.
 * The closed form (env/coupons/optimal-depth.ts) puts the best depth at d* = 2.792, and the
 * deterministic coupon day ranks the menu with 2.8 first; those expected daily profits are the
 * reference, computed in the same run.
 *
 * Per agent and training seed s: the coupon market reset at seed s (the customers' stream),
 * the agent's exploration seeded s, `days` steps of act(explore) / observe; then the greedy
 * arm. A seed passes when the greedy arm is the best one. Reported per agent: the pass rate
 * with its 95% Wilson interval, and the mean regret per day while learning (expected profit of
 * the best arm minus that of the arm played).
 */
import type { Agent } from '../agents/agent.js';
import { createAgent } from '../agents/registry.js';
import { CouponMarketEnv } from '../env/coupons/coupon-market.js';
import type { Scenario } from '../scenarios/schema.js';
import { validateScenario } from '../scenarios/load.js';
import { wilsonInterval, type ProportionInterval } from './bench-learning.js';

export const knownAnswerDepths = [1, 2, 2.8, 3.5, 5] as const;

/**
 * The known-answer coupon market's economics (prices 9 and 10, unit cost 4; coupon seekers
 * b = 1 and regulars b = 0.3, 200 arrivals a day each), shared by this benchmark and the
 * learners' tests (tests/agents/coupon-choice-market.ts).
 */
export const knownAnswerCouponEconomics = {
  startDate: '2026-01-01',
  unitCost: 4,
  listPrice: 10,
  priceLadder: { kind: 'list', prices: [9, 10] },
  demand: {
    kind: 'logit',
    quality: 8,
    outsideUtility: 0,
    segments: [
      { name: 'coupon-seekers', arrivalRate: 200, priceSensitivity: 1, scale: 1 },
      { name: 'regulars', arrivalRate: 200, priceSensitivity: 0.3, scale: 1 },
    ],
  },
} as const;

export function knownAnswerCouponScenario(deterministic = false): Scenario {
  return validateScenario({
    id: 'coupon-depth-known-answer-v1',
    version: 1,
    description: 'one price, coupon seekers and regulars: which amount-off coupon pays best',
    card: { models: 'a stationary coupon market with a closed-form best coupon depth', purpose: 'the coupon learning benchmark', sources: [] },
    horizonDays: 365,
    deterministic,
    ...knownAnswerCouponEconomics,
    coupons: {
      customers: { 'coupon-seekers': { population: 1000, claimRate: 1 }, regulars: { population: 1000, claimRate: 0 } },
      visitRate: { new: 0.2, hesitant: 0.2, repeat: 0.2, lapsed: 0.2 },
      campaigns: knownAnswerDepths.map((depth) => ({ kind: 'threshold', name: `${depth} off`, spend: 0, save: depth, validityDays: 1 })),
    },
  });
}

export interface CouponLearningAgentResult {
  readonly agent: string;
  readonly passRate: ProportionInterval;
  readonly meanRegretPerDay: number;
  readonly perSeed: readonly { readonly seed: number; readonly greedyArm: number; readonly passed: boolean; readonly regretPerDay: number }[];
}

export interface CouponLearningResult {
  readonly days: number;
  readonly seeds: readonly number[];
  /** Expected daily profit of each action (no coupon first), from the deterministic coupon day. */
  readonly armValues: readonly number[];
  readonly armNames: readonly string[];
  readonly bestArm: number;
  readonly agents: readonly CouponLearningAgentResult[];
  readonly seconds: number;
}

/** The expected daily profit of every action, from the deterministic market's first day (the market is stationary). */
export function expectedArmValues(): number[] {
  const env = new CouponMarketEnv(knownAnswerCouponScenario(true), { prices: [10] });
  return Array.from({ length: env.actionSpace.n }, (_, action) => {
    env.reset({ seed: 0 });
    return env.step(action).reward;
  });
}

export async function benchCouponLearning(options: { agents?: readonly string[]; seeds?: readonly number[]; days?: number } = {}): Promise<CouponLearningResult> {
  const started = performance.now();
  const agents = options.agents ?? ['epsilon-greedy', 'ucb1', 'thompson', 'linucb'];
  const seeds = options.seeds ?? Array.from({ length: 20 }, (_, index) => index + 1);
  const days = options.days ?? 200;
  const armValues = expectedArmValues();
  const bestArm = armValues.indexOf(Math.max(...armValues));
  const env = new CouponMarketEnv(knownAnswerCouponScenario(), { horizonDays: days, prices: [10] });
  const armNames = Array.from({ length: env.actionSpace.n }, (_, action) => {
    const { campaign } = env.actionOf(action);
    return campaign < 0 ? 'no coupon' : (env.model.campaignNames[campaign] ?? String(campaign));
  });
  const results: CouponLearningAgentResult[] = [];
  for (const kind of agents) {
    const perSeed = [];
    for (const seed of seeds) {
      const agent: Agent = await createAgent(kind, {}, { observationSpace: env.observationSpace, actionSpace: env.actionSpace, ladder: env.actionPrices(), unitCost: env.model.unitCost, listPrice: env.prices[0] ?? 0, seed });
      let { observation } = env.reset({ seed });
      let regret = 0;
      for (let day = 0; day < days; day++) {
        const action = agent.act(observation, { explore: true });
        const step = env.step(action);
        regret += (armValues[bestArm] ?? 0) - (armValues[action] ?? 0);
        agent.observe({ observation, action, reward: step.reward, nextObservation: step.observation, terminated: step.terminated, truncated: step.truncated });
        observation = step.observation;
      }
      const greedyArm = agent.act(observation, { explore: false });
      agent.dispose();
      perSeed.push({ seed, greedyArm, passed: greedyArm === bestArm, regretPerDay: regret / days });
    }
    const passes = perSeed.filter((entry) => entry.passed).length;
    results.push({ agent: kind, passRate: wilsonInterval(passes, perSeed.length), meanRegretPerDay: perSeed.reduce((sum, entry) => sum + entry.regretPerDay, 0) / perSeed.length, perSeed });
  }
  return { days, seeds, armValues, armNames, bestArm, agents: results, seconds: (performance.now() - started) / 1000 };
}

export interface TargetedCouponArmResult {
  readonly arm: string;
  /** Mean daily profit over the evaluation episodes, per training seed, then averaged. */
  readonly meanDailyProfit: number;
  readonly perSeed: readonly number[];
}

/**
 * Targeting by stage on scenarios/coupons/targeted-coupon-v1.json, at the list price: LinUCB
 * with the stage shares and the budget left as its context, UCB1 (no context), every fixed
 * campaign and no coupon. A learner trains `trainDays` days on seed s, then plays greedily
 * for `evaluationDays` days on seed 10,000 + s (the same customers for every arm: common random
 * numbers). A benchmark with figures, no known answer: it says which arm pays on this market.
 */
export async function benchTargetedCoupons(scenario: Scenario, options: { seeds?: readonly number[]; trainDays?: number; evaluationDays?: number } = {}): Promise<TargetedCouponArmResult[]> {
  const seeds = options.seeds ?? [1, 2, 3, 4, 5];
  const trainDays = options.trainDays ?? 180;
  const evaluationDays = options.evaluationDays ?? 180;
  const prices = [scenario.listPrice];
  const env = new CouponMarketEnv(scenario, { prices, horizonDays: Math.max(trainDays, evaluationDays) });
  const evaluate = (choose: (observation: Float32Array) => number, seed: number) => {
    let { observation } = env.reset({ seed: 10_000 + seed });
    let profit = 0;
    for (let day = 0; day < evaluationDays; day++) {
      const step = env.step(choose(observation));
      profit += step.reward;
      observation = step.observation;
    }
    return profit / evaluationDays;
  };
  const results: TargetedCouponArmResult[] = [];
  const fixedArms = Array.from({ length: env.actionSpace.n }, (_, action) => action);
  for (const action of fixedArms) {
    const { campaign } = env.actionOf(action);
    const perSeed = seeds.map((seed) => evaluate(() => action, seed));
    results.push({ arm: campaign < 0 ? 'no coupon' : `fixed: ${env.model.campaignNames[campaign]}`, meanDailyProfit: perSeed.reduce((sum, value) => sum + value, 0) / perSeed.length, perSeed });
  }
  const learners: readonly [string, string, unknown][] = [
    ['ucb1', 'UCB1', {}],
    ['linucb', 'LinUCB on stage shares', { features: ['stage:new', 'stage:hesitant', 'stage:repeat', 'stage:lapsed', 'budgetLeft'] }],
  ];
  for (const [kind, label, config] of learners) {
    const perSeed: number[] = [];
    for (const seed of seeds) {
      const agent = await createAgent(kind, config, { observationSpace: env.observationSpace, actionSpace: env.actionSpace, ladder: env.actionPrices(), unitCost: env.model.unitCost, listPrice: scenario.listPrice, seed });
      let { observation } = env.reset({ seed });
      for (let day = 0; day < trainDays; day++) {
        const action = agent.act(observation, { explore: true });
        const step = env.step(action);
        agent.observe({ observation, action, reward: step.reward, nextObservation: step.observation, terminated: false, truncated: false });
        observation = step.observation;
      }
      perSeed.push(evaluate((current) => agent.act(current, { explore: false }), seed));
      agent.dispose();
    }
    results.push({ arm: label, meanDailyProfit: perSeed.reduce((sum, value) => sum + value, 0) / perSeed.length, perSeed });
  }
  return results;
}
