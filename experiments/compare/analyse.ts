/**
 * The statistics of a comparison, a pure function of the per-seed KPI table (after
 * rliable: every number comes from the runs x KPIs matrix). The seed is the unit of
 * analysis; arms are paired by seed (common random numbers).
 *
 * Per KPI and arm: mean, sd and 95% t interval across seeds; interquartile mean.
 * Per non-baseline arm and KPI with a direction: the paired difference (arm - baseline)
 * with its paired t interval and BCa bootstrap interval, the paired t-test p-value, Holm-
 * adjusted across every (arm, KPI) pair; the probability of improvement; the verdict; and
 * the minimum detectable effect at the seeds used (80% power, paired t-test at
 * alpha / comparisons, Holm's strictest threshold, so it does not flatter).
 * Every interval and test comes from experiments/statistics/.
 */
import { bootstrapBca, holmAdjust, interquartileMean, mean, minimumDetectableEffect, pairedTTest, probabilityOfImprovement, sampleStandardDeviation, verdictOf } from '../statistics/index.js';
import { summarise } from '../summary.js';
import { kpiDefinitions, type KpiDefinition, type KpiName } from './kpis.js';
import type { CurvePoint, SeedResult } from './run.js';
import type { KpiSummary, LearningCurvePoint, PairedComparison } from './summary-schema.js';

export interface AnalysisOptions {
  readonly arms: readonly string[];
  readonly baseline: string;
  readonly alpha: number;
  readonly power: number;
  readonly bootstrapResamples: number;
  readonly level: number;
}

export interface Analysis {
  readonly kpis: KpiSummary[];
  readonly comparisons: PairedComparison[];
}

/** KPIs defined (never null) for every arm at every seed. */
export function definedKpis(results: readonly SeedResult[]): KpiDefinition[] {
  return kpiDefinitions.filter((definition) => results.length > 0 && results.every((result) => typeof result.kpis[definition.name] === 'number'));
}

/** One arm's per-seed values of a KPI, in seed order. */
export function valuesOf(results: readonly SeedResult[], arm: string, kpi: KpiName): number[] {
  return results
    .filter((result) => result.arm === arm)
    .sort((left, right) => left.seed - right.seed)
    .map((result) => result.kpis[kpi] ?? Number.NaN);
}

export function analyse(results: readonly SeedResult[], options: AnalysisOptions): Analysis {
  const kpis = definedKpis(results);
  const summaries: KpiSummary[] = kpis.map((definition) => ({
    name: definition.name,
    label: definition.label,
    direction: definition.direction,
    byArm: options.arms.map((arm) => {
      const values = valuesOf(results, arm, definition.name);
      const interval = summarise(values, options.level);
      return { arm, mean: interval.mean, sd: interval.sd, low: interval.low, high: interval.high, iqm: interquartileMean(values), n: values.length };
    }),
  }));

  const pairs = options.arms
    .filter((arm) => arm !== options.baseline)
    .flatMap((arm) => kpis.filter((definition) => definition.direction !== 'none').map((definition) => ({ arm, definition })));
  const raw = pairs.map(({ arm, definition }, index) => pairedDifference(valuesOf(results, arm, definition.name), valuesOf(results, options.baseline, definition.name), definition, options, index));
  const adjusted = raw.length > 0 ? holmAdjust(raw.map((comparison) => comparison.pValue)) : [];
  const comparisons: PairedComparison[] = raw.map((comparison, index) => {
    const pair = pairs[index]!;
    const adjustedPValue = adjusted[index] ?? 1;
    const higherIsBetter = pair.definition.direction === 'higher';
    return {
      arm: pair.arm,
      kpi: pair.definition.name,
      direction: pair.definition.direction,
      ...comparison,
      minimumDetectableEffect: comparison.sdOfDifferences > 0 ? minimumDetectableEffect({ sd: comparison.sdOfDifferences, n: comparison.n, alpha: options.alpha / raw.length, power: options.power, paired: true }) : 0,
      adjustedPValue,
      verdict: verdictOf({ estimate: comparison.estimate, adjustedP: adjustedPValue, alpha: options.alpha, higherIsBetter }),
    };
  }).map(({ n: _n, ...comparison }) => comparison);
  return { kpis: summaries, comparisons };
}

function pairedDifference(arm: readonly number[], baseline: readonly number[], definition: KpiDefinition, options: AnalysisOptions, index: number) {
  const test = pairedTTest(arm, baseline, options.level);
  const differences = arm.map((value, seed) => value - (baseline[seed] ?? Number.NaN));
  const sdOfDifferences = sampleStandardDeviation(differences);
  // Every difference equal (a deterministic market, or identical arms): the bootstrap has nothing to resample.
  const constant = differences.every((difference) => difference === differences[0]);
  const bootstrap = constant
    ? { low: test.estimate, high: test.estimate }
    : bootstrapBca(differences, mean, { resamples: options.bootstrapResamples, level: options.level, seed: 1 + index });
  const baselineMean = mean(baseline);
  const improvement = definition.direction === 'lower' ? probabilityOfImprovement(baseline, arm) : probabilityOfImprovement(arm, baseline);
  return {
    estimate: test.estimate,
    relativeEstimate: baselineMean === 0 ? null : test.estimate / Math.abs(baselineMean),
    sdOfDifferences,
    t: { low: test.low, high: test.high, statistic: Number.isFinite(test.statistic) ? test.statistic : null, df: test.df, standardError: test.standardError },
    bootstrap: { low: bootstrap.low, high: bootstrap.high, resamples: constant ? 0 : options.bootstrapResamples },
    pValue: test.pValue,
    probabilityOfImprovement: improvement,
    n: differences.length,
  };
}

/** Learning curves across seeds: at each (arm, steps), the mean greedy reward and its 95% t interval. */
export function learningCurves(points: readonly CurvePoint[], arms: readonly string[], level: number): LearningCurvePoint[] {
  const curves: LearningCurvePoint[] = [];
  for (const arm of arms) {
    const bySteps = new Map<number, number[]>();
    for (const point of points) if (point.arm === arm) bySteps.set(point.steps, [...(bySteps.get(point.steps) ?? []), point.meanReward]);
    for (const [steps, rewards] of [...bySteps].sort(([left], [right]) => left - right)) {
      const interval = summarise(rewards, level);
      curves.push({ arm, steps, mean: interval.mean, low: interval.low, high: interval.high, n: rewards.length });
    }
  }
  return curves;
}
