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
 */
import { makeEnv, type StepInfo } from '../../env/env.js';
import type { MarketModel } from '../../env/model.js';
import { evaluate, train } from '../train.js';
import { agentForArm, type Arm } from './arms.js';
import { GuardedPolicy, emptyTally, type GuardrailTally } from '../../agents/guarded-policy.js';
import type { Guardrails } from '../../agents/guardrails.js';
import { kpiNames, type KpiName } from './kpis.js';
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
}

export interface RunHooks {
  /** Work done so far in environment steps (training and evaluation), of `total`. */
  onProgress?: (done: number, total: number, label: string) => void;
  onLog?: (line: string) => void;
}

export async function runComparison(model: MarketModel, arms: readonly Arm[], plan: ComparisonPlan, hooks: RunHooks = {}): Promise<ComparisonRun> {
  const trainingEnv = makeEnv(model);
  const evaluationEnv = makeEnv(model);
  const curveEnv = makeEnv(model);
  const results: SeedResult[] = [];
  const curves: CurvePoint[] = [];
  let trajectories: TrajectoryDay[] = [];
  const learned = new Set<string>();
  const tallies: Record<string, GuardrailTally> = Object.fromEntries(arms.map((arm) => [arm.name, emptyTally()]));
  const horizon = model.horizon;
  const evaluationWork = plan.evaluationEpisodes * horizon;
  // Whether an arm learns is a capability of its agent (never of its kind's name): ask a first instance.
  const learns = new Map<string, boolean>();
  for (const arm of arms) {
    const probe = await agentForArm(arm, trainingEnv, plan.seeds[0] ?? 0);
    learns.set(arm.name, probe.capabilities.learns && arm.source !== 'artifact');
    probe.dispose();
  }
  const totalWork = plan.seeds.length * arms.reduce((total, arm) => total + evaluationWork + (learns.get(arm.name) ? plan.trainingSteps : 0), 0);
  let done = 0;
  const report = (label: string) => hooks.onProgress?.(Math.min(done, totalWork), totalWork, label);
  const evaluateEvery = Math.max(1, Math.floor(plan.trainingSteps / plan.curvePoints));
  // The steps at which a learner is evaluated, so flat reference curves share its x values.
  const curveSteps: number[] = [];
  for (let steps = evaluateEvery; steps <= plan.trainingSteps; steps += evaluateEvery) curveSteps.push(steps);
  if (curveSteps.at(-1) !== plan.trainingSteps) curveSteps.push(plan.trainingSteps);

  for (const [seedIndex, seed] of plan.seeds.entries()) {
    for (const arm of arms) {
      const agent = await agentForArm(arm, trainingEnv, seed);
      try {
        const curveSeed = curveSeedOf(seed, 0);
        const greedyReward = () => meanOf(evaluate(curveEnv, agent, { episodes: plan.curveEpisodes, seed: curveSeed }).map((episode) => episode.totalReward));
        curves.push({ arm: arm.name, seed, steps: 0, meanReward: greedyReward() });
        let trainedSteps = 0;
        let trainingSeconds = 0;
        if (learns.get(arm.name)) {
          learned.add(arm.name);
          const before = done;
          const result = await train(trainingEnv, agent, {
            steps: plan.trainingSteps,
            seed: trainingSeedOf(seed),
            evaluateEvery,
            evaluationEpisodes: plan.curveEpisodes,
            evaluationSeed: curveSeed,
            evaluationEnv: curveEnv,
            onProgress: (state) => {
              done = before + state.steps;
              report(`seed ${seed}: training ${arm.name}`);
            },
          });
          done = before + plan.trainingSteps;
          trainedSteps = result.steps;
          trainingSeconds = result.seconds;
          for (const point of result.evaluations) curves.push({ arm: arm.name, seed, steps: point.steps, meanReward: point.meanReward });
          if (result.evaluations.at(-1)?.steps !== result.steps) curves.push({ arm: arm.name, seed, steps: result.steps, meanReward: greedyReward() });
        } else {
          const reward = curves.at(-1)?.meanReward ?? 0;
          for (const steps of curveSteps) curves.push({ arm: arm.name, seed, steps, meanReward: reward });
        }
        const keepDays = seedIndex === 0;
        const guarded = new GuardedPolicy(agent, plan.guardrails, model.ladder, model.unitCost, evaluationEnv.observationSpace);
        const episodes = evaluate(evaluationEnv, guarded, { episodes: plan.evaluationEpisodes, seed: evaluationSeedOf(seed, 0), recordSteps: keepDays });
        addTally(tallies[arm.name], guarded.tally);
        done += evaluationWork;
        report(`seed ${seed}: evaluated ${arm.name}`);
        results.push({ arm: arm.name, seed, kpis: meanKpis(episodes.map((episode) => episode.kpis)), trainedSteps, trainingSeconds });
        if (keepDays && episodes[0]) trajectories = trajectories.concat(trajectoryOf(arm.name, episodes[0].steps, model));
      } finally {
        agent.dispose();
      }
    }
    hooks.onLog?.(`seed ${seed} done (${seedIndex + 1}/${plan.seeds.length})`);
  }
  return { results, curves, trajectories, trajectorySeed: evaluationSeedOf(plan.seeds[0] ?? 0, 0), learned: [...learned], guardrails: tallies };
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

function meanKpis(episodes: readonly { readonly [name in KpiName]: number | null }[]): Record<KpiName, number | null> {
  const means = {} as Record<KpiName, number | null>;
  for (const name of kpiNames) {
    const values = episodes.map((episode) => episode[name]);
    means[name] = values.every((value): value is number => typeof value === 'number' && Number.isFinite(value)) && values.length > 0 ? meanOf(values) : null;
  }
  return means;
}

function trajectoryOf(arm: string, steps: readonly StepInfo[], model: MarketModel): TrajectoryDay[] {
  return steps.map((step) => {
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
    };
  });
}

