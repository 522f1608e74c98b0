/**
 * Running a comparison on common random numbers. For each analysis seed s:
 *
 *   1. every arm gets a fresh agent seeded with s; an arm that learns is trained on
 *      training episodes with seeds trainingSeedOf(s) + e (disjoint from everything else),
 *      with greedy evaluations every `steps / curvePoints` steps on the learning-curve
 *      seeds curveSeedOf(s) + e: its learning curve;
 *   2. every arm, trained or not, is evaluated greedily on the same evaluation episodes,
 *      seeds evaluationSeedOf(s, e) for e < evaluationEpisodes.
 *
 * So arms are paired at each s (the same customers, weather and rival noise), and rule arms
 * vary across s too. The unit of analysis is the seed: each arm's KPI at s is its mean over
 * the evaluation episodes of s. Rules and artifacts have flat learning curves (their greedy
 * reward on the same curve seeds at step 0 and at the end of the budget), drawn as references.
 * The first seed's first evaluation episode is kept day by day for the trajectory charts.
 *
 * On a coupon scenario (a `coupons` block) every env is the coupon market
 * (env/coupons/coupon-env.ts): the arms choose a price and a coupon each day, the KPIs are the
 * coupon market's (compare/kpis.ts kpiNamesFor), the fairness cells are the groups' actual
 * payments after the coupons chosen, and the unit also reports the days each campaign was
 * chosen (`coupons`). The guardrails bound the price part of every coupon action, as serving
 * bounds a coupon policy's price (agents/coupon-guardrails.ts): the coupon stands as chosen.
 */
import { makeEnv, type Env, type ResetOptions, type StepInfo } from '../../env/env.js';
import { CouponGuard } from '../../agents/coupon-guardrails.js';
import { CouponEnv } from '../../env/coupons/coupon-env.js';
import type { AgentEnv } from '../setup.js';
import type { MarketModel } from '../../env/model.js';
import { evaluate, train } from '../train.js';
import { agentForArm, type Arm } from './arms.js';
import { GuardedPolicy, emptyTally, type GuardrailTally } from '../../agents/guarded-policy.js';
import type { Guardrails } from '../../agents/guardrails.js';
import { kpiNamesFor, type KpiName } from './kpis.js';
import { EffectivePriceRecorder, type FairnessCell } from './fairness.js';
import { comparisonCurveSeed as curveSeedOf, comparisonEvaluationSeed as evaluationSeedOf, comparisonTrainingSeed as trainingSeedOf } from '../../core/seeds.js';

// The comparison's seed families (evaluation, learning curve, training) are seed rules: core/seeds.ts.
export { comparisonCurveSeed as curveSeedOf, comparisonEvaluationSeed as evaluationSeedOf, comparisonTrainingSeed as trainingSeedOf, comparisonEpisodeLimit as episodeLimit, comparisonSeedLimit as seedLimit } from '../../core/seeds.js';

export interface ComparisonPlan {
  /** Analysis seeds, e.g. 1..10. */
  readonly seeds: readonly number[];
  /** Greedy evaluation episodes per seed and arm. */
  readonly evaluationEpisodes: number;
  /** Training budget (environment steps) of a learning arm, per seed. */
  readonly trainingSteps: number;
  /** Greedy evaluations during training (learning-curve points after step 0). */
  readonly curvePoints: number;
  /** Episodes per learning-curve evaluation. */
  readonly curveEpisodes: number;
  /** Guardrails every arm's evaluation prices pass through, as serving would apply them. */
  readonly guardrails: Guardrails;
}

/** One arm at one seed: each KPI's mean over the seed's evaluation episodes (null if the scenario has none). */
export interface SeedResult {
  readonly arm: string;
  readonly seed: number;
  readonly kpis: Readonly<Record<KpiName, number | null>>;
  /** Whether the arm was trained at this seed, and for how many steps. */
  readonly trainedSteps: number;
  readonly trainingSeconds: number;
}

export interface CurvePoint {
  readonly arm: string;
  readonly seed: number;
  readonly steps: number;
  readonly meanReward: number;
}

export interface TrajectoryDay {
  readonly arm: string;
  readonly day: number;
  readonly price: number;
  /** Rival prices today, by rival name. */
  readonly rivalPrices: Readonly<Record<string, number>>;
  readonly sold: number;
  readonly stockOnHand: number | null;
  readonly unitsReturned: number;
  /** On a coupon scenario: the campaign offered that day ("no coupon" for none); absent elsewhere. */
  readonly coupon?: string | undefined;
}

export interface ComparisonRun {
  readonly results: readonly SeedResult[];
  readonly curves: readonly CurvePoint[];
  readonly trajectories: readonly TrajectoryDay[];
  /** The seed and evaluation episode the trajectories show. */
  readonly trajectorySeed: number;
  /** Which arms learned (were trained per seed). */
  readonly learned: readonly string[];
  /** What the guardrails did to each arm's evaluation prices, over every seed. */
  readonly guardrails: Readonly<Record<string, GuardrailTally>>;
  /** Each arm's price cells over every seed (compare/fairness.ts); an arm with a unit that reported none is absent. */
  readonly priceCells: ReadonlyMap<string, readonly FairnessCell[]>;
  /** On a coupon scenario: each arm's campaign days summed over every seed; an arm with a unit that reported none is absent. */
  readonly coupons: ReadonlyMap<string, CouponChoices>;
}

export interface RunHooks {
  /** Work done so far in environment steps (training and evaluation), of `total`. */
  onProgress?: (done: number, total: number, label: string) => void;
  onLog?: (line: string) => void;
}

/** One unit of a comparison: one arm at one seed (what a queue job carries, experiments/queue/submit-compare.ts). */
export interface ArmSeedUnit {
  readonly arm: Arm;
  readonly seed: number;
  /** Whether the arm is trained (runComparison asks a first instance of its agent). */
  readonly learns: boolean;
  /** Keep the first evaluation episode day by day (the first seed's units). */
  readonly recordTrajectory: boolean;
  /** Environment steps of the unit (training and evaluation): what progress counts. */
  readonly work: number;
}

/** What one unit returns: the seed's KPIs, its curve points, its trajectory, its guardrail tally, who paid what. */
export interface ArmSeedOutcome {
  readonly result: SeedResult;
  readonly curves: readonly CurvePoint[];
  readonly trajectory: readonly TrajectoryDay[];
  readonly tally: GuardrailTally;
  /** Units and what they paid, by group, over the unit's evaluation episodes (compare/fairness.ts); absent from a runner that does not report them. */
  readonly priceCells?: readonly FairnessCell[];
  /** On a coupon scenario: what the arm chose (absent elsewhere, and from a runner that does not report it). */
  readonly coupons?: CouponChoices;
}

/** An arm's coupon choices in its evaluation episodes. */
export interface CouponChoices {
  /** Days each campaign (by name, "no coupon" for none) was chosen, over the unit's evaluation episodes. */
  readonly campaignDays: Readonly<Record<string, number>>;
}

/**
 * Runs the units and returns their outcomes in the units' order. Local: runArmSeed one after
 * another (localUnitRunner); on a queue: one job per unit (experiments/queue/submit-compare.ts).
 * `onProgress(unitIndex, steps)` reports a unit's steps done so far.
 */
export type ArmSeedRunner = (units: readonly ArmSeedUnit[], onProgress: (unitIndex: number, steps: number, label: string) => void) => Promise<readonly ArmSeedOutcome[]>;

/** The three environments a unit uses (training, evaluation, learning curve); reset with a seed before every episode. */
export interface UnitEnvs {
  readonly training: AgentEnv;
  readonly evaluation: AgentEnv;
  readonly curve: AgentEnv;
}

/** The env an arm plays: the coupon market on a coupon scenario, else the day kernel's market. */
export function comparisonEnv(model: MarketModel): AgentEnv {
  return model.scenario.coupons === undefined ? makeEnv(model) : new CouponEnv(model.scenario);
}

export function unitEnvs(model: MarketModel): UnitEnvs {
  return { training: comparisonEnv(model), evaluation: comparisonEnv(model), curve: comparisonEnv(model) };
}

/** Whether an arm learns: a capability of its agent (never of its kind's name), asked of a first instance. */
export async function armLearns(arm: Arm, env: AgentEnv, seed: number): Promise<boolean> {
  const probe = await agentForArm(arm, env, seed);
  const learns = probe.capabilities.learns && arm.source !== 'artifact';
  probe.dispose();
  return learns;
}

/** The steps at which a learner is evaluated, so flat reference curves share its x values. */
function curveStepsOf(plan: ComparisonPlan): { evaluateEvery: number; curveSteps: number[] } {
  const evaluateEvery = Math.max(1, Math.floor(plan.trainingSteps / plan.curvePoints));
  const curveSteps: number[] = [];
  for (let steps = evaluateEvery; steps <= plan.trainingSteps; steps += evaluateEvery) curveSteps.push(steps);
  if (curveSteps.at(-1) !== plan.trainingSteps) curveSteps.push(plan.trainingSteps);
  return { evaluateEvery, curveSteps };
}

/**
 * One arm at one seed: a fresh agent seeded with the seed, trained if it learns (with its
 * learning curve), then evaluated greedily through the guardrails on the seed's common
 * evaluation episodes. The same function runs locally and in a queue worker.
 */
export async function runArmSeed(model: MarketModel, plan: ComparisonPlan, unit: Omit<ArmSeedUnit, 'work'>, envs: UnitEnvs, onSteps: (steps: number, label: string) => void = () => undefined): Promise<ArmSeedOutcome> {
  const { arm, seed } = unit;
  const { evaluateEvery, curveSteps } = curveStepsOf(plan);
  const curves: CurvePoint[] = [];
  const agent = await agentForArm(arm, envs.training, seed);
  try {
    const curveSeed = curveSeedOf(seed, 0);
    const greedyReward = () => meanOf(evaluate(envs.curve, agent, { episodes: plan.curveEpisodes, seed: curveSeed }).map((episode) => episode.totalReward));
    curves.push({ arm: arm.name, seed, steps: 0, meanReward: greedyReward() });
    let trainedSteps = 0;
    let trainingSeconds = 0;
    let done = 0;
    if (unit.learns) {
      const result = await train(envs.training, agent, {
        steps: plan.trainingSteps,
        seed: trainingSeedOf(seed),
        evaluateEvery,
        evaluationEpisodes: plan.curveEpisodes,
        evaluationSeed: curveSeed,
        evaluationEnv: envs.curve,
        onProgress: (state) => onSteps(state.steps, `seed ${seed}: training ${arm.name}`),
      });
      done = plan.trainingSteps;
      trainedSteps = result.steps;
      trainingSeconds = result.seconds;
      for (const point of result.evaluations) curves.push({ arm: arm.name, seed, steps: point.steps, meanReward: point.meanReward });
      if (result.evaluations.at(-1)?.steps !== result.steps) curves.push({ arm: arm.name, seed, steps: result.steps, meanReward: greedyReward() });
    } else {
      const reward = curves.at(-1)?.meanReward ?? 0;
      for (const steps of curveSteps) curves.push({ arm: arm.name, seed, steps, meanReward: reward });
    }
    // Coupon actions are a price and a campaign: the guardrails bound the price, the coupon stands (agents/coupon-guardrails.ts).
    const couponEnv = envs.evaluation instanceof CouponEnv ? envs.evaluation : undefined;
    const coupons = couponEnv !== undefined;
    const guarded = couponEnv ? undefined : new GuardedPolicy(agent, plan.guardrails, model.ladder, model.unitCost, envs.evaluation.observationSpace);
    const couponGuard = couponEnv ? new CouponGuard(plan.guardrails, couponEnv.menu, couponEnv.prices, couponEnv.model.unitCost) : undefined;
    const recorder = new EffectivePriceRecorder(model);
    const evaluationEnv = couponEnv && couponGuard ? couponGuardedEnv(couponEnv, couponGuard) : envs.evaluation;
    const episodes = evaluate(recorder.observe(evaluationEnv), guarded ?? agent, { episodes: plan.evaluationEpisodes, seed: evaluationSeedOf(seed, 0), recordSteps: unit.recordTrajectory });
    onSteps(done + plan.evaluationEpisodes * model.horizon, `seed ${seed}: evaluated ${arm.name}`);
    const tally = emptyTally();
    if (guarded) addTally(tally, guarded.tally);
    if (couponGuard) addTally(tally, couponGuard.tally);
    return {
      result: { arm: arm.name, seed, kpis: meanKpis(episodes.map((episode) => episode.kpis), kpiNamesFor(model.scenario)), trainedSteps, trainingSeconds },
      curves,
      trajectory: unit.recordTrajectory && episodes[0] ? trajectoryOf(arm.name, episodes[0].steps, model) : [],
      tally,
      priceCells: recorder.cells(),
      ...(coupons ? { coupons: { campaignDays: recorder.campaignDays() } } : {}),
    };
  } finally {
    agent.dispose();
  }
}

/** The coupon market with every action's price passed through `guard` (a new episode at each reset). */
export function couponGuardedEnv(env: CouponEnv, guard: CouponGuard): Env {
  return {
    actionSpace: env.actionSpace,
    observationSpace: env.observationSpace,
    reset: (options?: ResetOptions) => {
      guard.reset();
      return env.reset(options);
    },
    step: (action: number) => env.step(guard.guard(action).action),
  };
}

/** The local runner: every unit in this process, one after another, on shared environments. */
export function localUnitRunner(model: MarketModel, plan: ComparisonPlan, hooks: RunHooks = {}): ArmSeedRunner {
  return async (units, onProgress) => {
    const envs = unitEnvs(model);
    const outcomes: ArmSeedOutcome[] = [];
    for (const [index, unit] of units.entries()) {
      outcomes.push(await runArmSeed(model, plan, unit, envs, (steps, label) => onProgress(index, steps, label)));
      const next = units[index + 1];
      if (next === undefined || next.seed !== unit.seed) hooks.onLog?.(`seed ${unit.seed} done (${plan.seeds.indexOf(unit.seed) + 1}/${plan.seeds.length})`);
    }
    return outcomes;
  };
}

/**
 * The comparison's units (seed by seed, every arm at each), run by `runner` (default: here,
 * one after another), assembled in the units' order: the same result whichever runner ran them.
 */
export async function runComparison(model: MarketModel, arms: readonly Arm[], plan: ComparisonPlan, hooks: RunHooks = {}, runner?: ArmSeedRunner): Promise<ComparisonRun> {
  const probeEnv = comparisonEnv(model);
  const evaluationWork = plan.evaluationEpisodes * model.horizon;
  const learns = new Map<string, boolean>();
  for (const arm of arms) learns.set(arm.name, await armLearns(arm, probeEnv, plan.seeds[0] ?? 0));
  const units: ArmSeedUnit[] = plan.seeds.flatMap((seed, seedIndex) =>
    arms.map((arm) => {
      const armLearnsHere = learns.get(arm.name) === true;
      return { arm, seed, learns: armLearnsHere, recordTrajectory: seedIndex === 0, work: evaluationWork + (armLearnsHere ? plan.trainingSteps : 0) };
    }),
  );
  const totalWork = units.reduce((total, unit) => total + unit.work, 0);
  const doneByUnit = new Array<number>(units.length).fill(0);
  let done = 0;
  const onProgress = (index: number, steps: number, label: string) => {
    const unit = units[index];
    if (!unit) return;
    const clamped = Math.min(steps, unit.work);
    done += clamped - (doneByUnit[index] ?? 0);
    doneByUnit[index] = clamped;
    hooks.onProgress?.(Math.min(done, totalWork), totalWork, label);
  };
  const outcomes = await (runner ?? localUnitRunner(model, plan, hooks))(units, onProgress);
  const tallies: Record<string, GuardrailTally> = Object.fromEntries(arms.map((arm) => [arm.name, emptyTally()]));
  const results: SeedResult[] = [];
  const curves: CurvePoint[] = [];
  let trajectories: TrajectoryDay[] = [];
  const priceCells = new Map<string, FairnessCell[]>();
  const unmeasured = new Set<string>();
  const coupons = new Map<string, { campaignDays: Record<string, number> }>();
  const unchosen = new Set<string>();
  for (const outcome of outcomes) {
    const arm = outcome.result.arm;
    if (outcome.coupons) {
      const sum = coupons.get(arm) ?? { campaignDays: {} };
      for (const [campaign, days] of Object.entries(outcome.coupons.campaignDays)) sum.campaignDays[campaign] = (sum.campaignDays[campaign] ?? 0) + days;
      coupons.set(arm, sum);
    } else unchosen.add(arm);
    if (outcome.priceCells) priceCells.set(outcome.result.arm, [...(priceCells.get(outcome.result.arm) ?? []), ...outcome.priceCells]);
    else unmeasured.add(outcome.result.arm);
    results.push(outcome.result);
    curves.push(...outcome.curves);
    trajectories = trajectories.concat(outcome.trajectory);
    addTally(tallies[outcome.result.arm], outcome.tally);
  }
  for (const arm of unmeasured) priceCells.delete(arm);
  for (const arm of unchosen) coupons.delete(arm);
  const learned = arms.filter((arm) => learns.get(arm.name)).map((arm) => arm.name);
  return { results, curves, trajectories, trajectorySeed: evaluationSeedOf(plan.seeds[0] ?? 0, 0), learned, guardrails: tallies, priceCells, coupons };
}

function addTally(total: GuardrailTally | undefined, part: GuardrailTally): void {
  if (!total) return;
  total.decisions += part.decisions;
  total.adjustments += part.adjustments;
  total.violations += part.violations;
  for (const [rule, counts] of Object.entries(part.byRule) as [keyof GuardrailTally['byRule'], { adjusted: number; violated: number }][]) {
    total.byRule[rule].adjusted += counts.adjusted;
    total.byRule[rule].violated += counts.violated;
  }
}

function meanOf(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0) / Math.max(1, values.length);
}

/** Each KPI of `names` (the scenario's: kpiNamesFor) averaged over the episodes; null unless every episode has a finite value. */
function meanKpis(episodes: readonly object[], names: readonly KpiName[]): Record<KpiName, number | null> {
  const means = {} as Record<KpiName, number | null>;
  for (const name of names) {
    const values = episodes.map((episode) => (episode as Partial<Record<KpiName, number | null>>)[name]);
    means[name] = values.every((value): value is number => typeof value === 'number' && Number.isFinite(value)) && values.length > 0 ? meanOf(values) : null;
  }
  return means;
}

/** The campaign of a coupon-market step (its `coupon` info), undefined for a day-kernel step. */
function couponOf(step: StepInfo): string | undefined {
  return (step as { coupon?: { campaignName?: string } }).coupon?.campaignName;
}

function trajectoryOf(arm: string, steps: readonly StepInfo[], model: MarketModel): TrajectoryDay[] {
  return steps.map((step): TrajectoryDay => {
    const coupon = couponOf(step);
    const rivalPrices: Record<string, number> = {};
    model.rivals.forEach((rival, index) => {
      const price = step.prices[index + 1];
      if (price !== undefined) rivalPrices[rival.name] = price;
    });
    return {
      arm,
      day: step.day,
      price: step.price,
      rivalPrices,
      sold: step.market.sold,
      stockOnHand: Number.isFinite(step.market.stockOnHand) ? step.market.stockOnHand : null,
      unitsReturned: step.market.unitsReturned,
      ...(coupon === undefined ? {} : { coupon }),
    };
  });
}

