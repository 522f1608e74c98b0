/**
 * Comparing pricing policies the way simulation statisticians do (issue 4; design.md,
 * "Statistics"): every arm on the same evaluation seeds (common random numbers), the seed
 * as the unit of analysis, paired differences against a baseline with t and BCa bootstrap
 * intervals, Holm across arms and KPIs, IQM, probability of improvement, and a verdict with
 * the minimum detectable effect at the seeds used.
 *
 *   compare(options) -> {summary (the versioned JSON of docs/compare.md), run (curves, trajectories)}
 *
 * The pieces: compare/arms.ts (what an arm is), compare/run.ts (training and evaluation on
 * common random numbers), compare/analyse.ts (the statistics), compare/kpis.ts (KPIs and
 * their better direction), compare/fairness.ts (who paid what, per arm), compare/summary-schema.ts (the JSON schema). Reports
 * (HTML, charts, PNGs) are in experiments/report/.
 *
 * On a coupon scenario (a `coupons` block; a built-in coupon scenario id such as
 * targeted-coupon-v1 is found in scenarios/coupons/) the arms play the coupon market and may
 * choose coupons (compare/coupon-arms.ts): coupon rules, coupon learners, coupon artifacts.
 */
import { codeVersion } from '../agents/artifact.js';
import type { Guardrails } from '../agents/guardrails.js';
import { makeEnv } from '../env/env.js';
import { PricelabError, configError, type Problem } from '../core/errors.js';
import { buildMarketModel } from '../env/model.js';
import { loadScenario, type LoadedScenario } from '../scenarios/load.js';
import type { Scenario } from '../scenarios/schema.js';
import { analyse, learningCurves } from './compare/analyse.js';
import { agentForArm, armNameOf, armSpecOf, parseArms, type Arm, type ArtifactResolver } from './compare/arms.js';
import { historicalPrefix, type HistoricalConfig } from '../agents/historical.js';
import { kpiDefinition, kpiNamesFor } from './compare/kpis.js';
import { episodeLimit, runComparison, seedLimit, type ArmSeedRunner, type ComparisonPlan, type ComparisonRun, type RunHooks } from './compare/run.js';
import { comparisonSchemaVersion, type ArmIdentity, type ComparisonSummary } from './compare/summary-schema.js';
import { comparisonFairness } from './compare/fairness.js';
import { CouponEnv } from '../env/coupons/coupon-env.js';
import { couponScenarioPath } from './fairness-check.js';

export { comparisonSummarySchema, comparisonSchemaVersion, comparisonFairnessSchema, type ComparisonSummary, type PairedComparison, type ComparisonFairness } from './compare/summary-schema.js';
export { evaluationSeedOf, type ComparisonRun, type TrajectoryDay, type CurvePoint } from './compare/run.js';
export { parseConfigOptions, splitArmList, type Arm } from './compare/arms.js';
export { kpiDefinitions, type KpiName, type KpiDirection } from './compare/kpis.js';

export interface CompareOptions {
  /** Built-in scenario id or path to a scenario file. */
  readonly scenario: string;
  /** Arm specs: `spec` or `name=spec` (rule spec, agent kind, or policy folder). */
  readonly arms: readonly string[];
  /** Config files of agent arms, by arm name. */
  readonly configFiles?: ReadonlyMap<string, string>;
  /** Name of the baseline arm (default: the first). */
  readonly baseline?: string;
  /** Number of analysis seeds (at least 2). */
  readonly seeds: number;
  /** The first analysis seed (seeds are first, first + 1, ...). */
  readonly firstSeed?: number;
  /** Evaluation episodes per seed and arm. */
  readonly evaluationEpisodes: number;
  /** Training steps per learning arm and seed. */
  readonly trainingSteps: number;
  /** Learning-curve evaluations during training (default 10). */
  readonly curvePoints?: number;
  /** Family-wise significance level (default 0.05). */
  readonly alpha?: number;
  /** The KPI of the verdict (default totalReward: the scenario's objective). */
  readonly primaryKpi?: string;
  /** BCa bootstrap resamples (default 2000). */
  readonly bootstrapResamples?: number;
  /** Guardrails applied to every arm's evaluation prices, as serving applies them (default: none). */
  readonly guardrails?: Guardrails;
  /** Resolves `registry:` arms and folders inside the registry to a folder and its recorded hash (the CLI passes serving's). */
  readonly resolveArtifact?: ArtifactResolver;
  /**
   * Reads a `historical:` arm's sales file into its price path on the scenario's calendar
   * (the CLI passes calibration/historical.ts: calibration sits above experiments, so it is
   * handed in, as resolveArtifact is). Without it a `historical:` arm is refused.
   */
  readonly readHistory?: HistoryReader;
  readonly hooks?: RunHooks;
  /**
   * Runs the (arm, seed) units elsewhere: the queue (experiments/queue/submit-compare.ts)
   * makes one job per unit. Default: here, one after another. Either way each unit runs
   * compare/run.ts runArmSeed, and the results are assembled in the same order.
   */
  readonly unitRunner?: (context: UnitRunnerContext) => ArmSeedRunner | Promise<ArmSeedRunner>;
}

export interface UnitRunnerContext {
  readonly scenario: LoadedScenario;
  readonly plan: ComparisonPlan;
  readonly arms: readonly Arm[];
}

export type HistoryReader = (spec: string, scenario: Scenario) => Promise<HistoricalConfig>;

export interface ComparisonOutcome {
  readonly summary: ComparisonSummary;
  readonly run: ComparisonRun;
  readonly arms: readonly Arm[];
}

export const confidenceLevel = 0.95;
export const targetPower = 0.8;

export async function compare(options: CompareOptions): Promise<ComparisonOutcome> {
  const loaded = loadScenario(couponScenarioPath(options.scenario));
  const model = buildMarketModel(loaded.scenario);
  const alpha = options.alpha ?? 0.05;
  const firstSeed = options.firstSeed ?? 1;
  const primaryKpi = options.primaryKpi ?? 'totalReward';
  const curvePoints = options.curvePoints ?? 10;
  const bootstrapResamples = options.bootstrapResamples ?? 2000;
  const problems: Problem[] = [];
  if (!Number.isInteger(options.seeds) || options.seeds < 2) problems.push({ path: ['seeds'], message: `expected at least 2 seeds (the unit of analysis), found ${options.seeds}` });
  if (!Number.isInteger(firstSeed) || firstSeed < 0 || firstSeed + options.seeds > seedLimit) problems.push({ path: ['seed'], message: `expected seeds within 0..${seedLimit - 1}, found ${firstSeed}..${firstSeed + options.seeds - 1}` });
  if (!Number.isInteger(options.evaluationEpisodes) || options.evaluationEpisodes < 1 || options.evaluationEpisodes > episodeLimit) problems.push({ path: ['episodes'], message: `expected 1..${episodeLimit} evaluation episodes, found ${options.evaluationEpisodes}` });
  if (!Number.isInteger(options.trainingSteps) || options.trainingSteps < 1) problems.push({ path: ['steps'], message: `expected a positive whole number of training steps, found ${options.trainingSteps}` });
  if (!(alpha > 0 && alpha < 1)) problems.push({ path: ['alpha'], message: `expected a level strictly between 0 and 1, found ${alpha}` });
  const primary = kpiDefinition(primaryKpi);
  if (!primary || primary.direction === 'none') problems.push({ path: ['primaryKpi'], message: `expected a KPI with a better direction (${kpiNamesFor(loaded.scenario).filter((name) => kpiDefinition(name)?.direction !== 'none').join(', ')}), found "${primaryKpi}"` });
  const couponEnv = loaded.scenario.coupons === undefined ? undefined : new CouponEnv(loaded.scenario);
  const env = couponEnv ?? makeEnv(model);
  const histories = await readHistories(options.arms, loaded.scenario, options.readHistory);
  let arms: Arm[] = [];
  try {
    arms = parseArms(options.arms, options.configFiles ?? new Map(), {
      model,
      featureNames: env.observationSpace.featureNames,
      histories,
      ...(couponEnv ? { couponEnv } : {}),
      ...(options.resolveArtifact ? { resolveArtifact: options.resolveArtifact } : {}),
    });
  } catch (error) {
    // Bad arms and bad options are reported together; a missing or tampered policy stands alone.
    if (!(error instanceof PricelabError) || error.kind !== 'config') throw error;
    problems.push(...error.problems);
  }
  // In the coupon market a rule that reads the day kernel's features (rivals, stock, last price) or its model cannot play: said here, with the arm.
  if (couponEnv) problems.push(...(await couponMarketProblems(arms, couponEnv, options.arms)));
  const names = options.arms.map(armNameOf);
  const baseline = options.baseline ?? names[0] ?? '';
  if (names.length > 0 && !names.includes(baseline)) problems.push({ path: ['baseline'], message: `expected the name of an arm (${names.join(', ')}), found "${baseline}"` });
  if (problems.length > 0) throw configError(`cannot run this comparison (${problems.length} problem${problems.length === 1 ? '' : 's'})`, problems);

  const seeds = Array.from({ length: options.seeds }, (_, index) => firstSeed + index);
  const plan: ComparisonPlan = { seeds, evaluationEpisodes: options.evaluationEpisodes, trainingSteps: options.trainingSteps, curvePoints, curveEpisodes: Math.min(5, options.evaluationEpisodes), guardrails: options.guardrails ?? {} };
  const runner = await options.unitRunner?.({ scenario: loaded, plan, arms });
  const run = await runComparison(model, arms, plan, options.hooks ?? {}, runner);
  const armNames = arms.map((arm) => arm.name);
  const analysis = analyse(run.results, { arms: armNames, baseline, alpha, power: targetPower, bootstrapResamples, level: confidenceLevel });
  if (!analysis.kpis.some((kpi) => kpi.name === primaryKpi)) throw configError(`the primary KPI "${primaryKpi}" is not defined in ${loaded.scenario.id}`, [{ path: ['primaryKpi'], message: `expected one of ${analysis.kpis.map((kpi) => kpi.name).join(', ')}, found "${primaryKpi}"` }]);
  const byArm = analysis.comparisons
    .filter((comparison) => comparison.kpi === primaryKpi)
    .map((comparison) => ({ arm: comparison.arm, verdict: comparison.verdict, estimate: comparison.estimate, low: comparison.t.low, high: comparison.t.high, adjustedPValue: comparison.adjustedPValue, minimumDetectableEffect: comparison.minimumDetectableEffect }));
  const summary: ComparisonSummary = {
    schemaVersion: comparisonSchemaVersion,
    codeVersion,
    scenario: { id: loaded.scenario.id, contentHash: loaded.contentHash },
    createdAt: new Date().toISOString(),
    seeds,
    evaluationEpisodes: options.evaluationEpisodes,
    evaluationSeeds: 'episode e of seed s runs on env seed 1000000 + 1000 s + e, the same for every arm',
    trainingSteps: options.trainingSteps,
    baseline,
    primaryKpi,
    alpha,
    confidenceLevel,
    correction: 'holm',
    arms: arms.map((arm) => identityOf(arm, run.learned.includes(arm.name))),
    kpis: analysis.kpis,
    comparisons: analysis.comparisons,
    verdict: { kpi: primaryKpi, everyArmBetter: byArm.every((entry) => entry.verdict === 'better'), byArm },
    learningCurves: learningCurves(run.curves, armNames, confidenceLevel),
    perSeed: run.results.map((result) => ({ arm: result.arm, seed: result.seed, kpis: { ...result.kpis } })),
    guardrails: {
      rules: plan.guardrails,
      byArm: armNames.map((arm) => {
        const tally = run.guardrails[arm];
        return { arm, decisions: tally?.decisions ?? 0, adjustments: tally?.adjustments ?? 0, violations: tally?.violations ?? 0, byRule: tally?.byRule ?? {} };
      }),
    },
    // Who paid what (compare/fairness.ts): only when every unit of every arm reported its price cells.
    ...(armNames.every((arm) => run.priceCells.has(arm)) ? { fairness: comparisonFairness(loaded.scenario, armNames, run.priceCells) } : {}),
    ...(couponEnv && armNames.every((arm) => run.coupons.has(arm))
      ? { coupons: { campaigns: [...couponEnv.model.campaignNames], byArm: armNames.map((arm) => ({ arm, campaignDays: { ...run.coupons.get(arm)?.campaignDays } })) } }
      : {}),
  };
  return { summary, run, arms };
}

/**
 * The price paths of `historical:` arms (calibration/historical.ts), read before the arms are
 * parsed, on the scenario's calibrated calendar and period length. A bad file stops
 * the comparison with its own problems, under the arm's place in --agents (a missing file
 * is not-found, exit 3).
 */
async function readHistories(written: readonly string[], scenario: Scenario, readHistory: HistoryReader | undefined): Promise<Map<string, HistoricalConfig>> {
  const histories = new Map<string, HistoricalConfig>();
  for (const [index, arm] of written.entries()) {
    const spec = armSpecOf(arm);
    if (!spec.startsWith(historicalPrefix) || histories.has(spec)) continue;
    if (!readHistory) throw configError(`arm ${spec}: no history reader was given to read its sales file`, [{ path: ['agents', index], message: `expected a caller that reads historical: files (the pricelab CLI does), found "${spec}"` }]);
    try {
      histories.set(spec, await readHistory(spec, scenario));
    } catch (error) {
      if (!(error instanceof PricelabError) || error.kind !== 'config') throw error;
      const problems = error.problems.length > 0 ? error.problems : [{ path: [], message: error.message }];
      throw configError(`arm ${spec}: ${error.message}`, problems.map((problem) => ({ path: ['agents', index, ...problem.path], message: problem.message })));
    }
  }
  return histories;
}

/** Arms whose agent cannot be put in the coupon market, each problem under its place in --agents. */
async function couponMarketProblems(arms: readonly Arm[], env: CouponEnv, written: readonly string[]): Promise<Problem[]> {
  const problems: Problem[] = [];
  for (const arm of arms) {
    const index = written.findIndex((entry) => armNameOf(entry) === arm.name);
    try {
      (await agentForArm(arm, env, 0)).dispose();
    } catch (error) {
      if (!(error instanceof PricelabError) || error.kind !== 'config') throw error;
      const found = error.problems.length > 0 ? error.problems : [{ path: [], message: error.message }];
      problems.push(...found.map((problem) => ({ path: ['agents', index, ...problem.path], message: `${arm.spec} cannot play the coupon market: ${problem.message}` })));
    }
  }
  return problems;
}

function identityOf(arm: Arm, learns: boolean): ArmIdentity {
  return { name: arm.name, spec: arm.spec, source: arm.source, kind: arm.kind, config: arm.config, configFile: arm.configFile ?? null, learns, artifact: arm.artifact ?? null };
}
