/**
 * `pricelab compare <scenario> --agents a,b[,c...]`: train (or load) each arm, evaluate
 * every arm on the same evaluation seeds (common random numbers), and report per KPI the
 * mean and 95% interval per arm, paired differences against the baseline (t and BCa
 * intervals), Holm-adjusted p-values, IQM, probability of improvement and a verdict with
 * the minimum detectable effect. Optionally writes the JSON summary (docs/compare.md) and
 * a self-contained HTML report with a PNG per chart; records the comparison in the results
 * store. `--fail-unless-better` exits 1 unless every arm beats the baseline on the primary
 * KPI: a CI gate.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { guardrailsSchema, type Guardrails } from '../../agents/guardrails.js';
import { historicalOptionsFor, readHistoricalPolicy } from '../../calibration/historical.js';
import { PricelabError } from '../../core/errors.js';
import { compare, parseConfigOptions, splitArmList, type ComparisonSummary } from '../../experiments/compare.js';
import { armSpecOf } from '../../experiments/compare/arms.js';
import { kpiDefinitions } from '../../experiments/compare/kpis.js';
import { readJsonFile } from '../../core/json-file.js';
import { formatterFor } from '../../experiments/report/format.js';
import { writeReport } from '../../experiments/report/write.js';
import { usingResultsStore } from '../../experiments/store.js';
import { storeLocation } from '../../core/store-url.js';
import { registeredArtifactResolver } from '../../serving/registered-artifact.js';
import { exitCodes, formatNumber, integer, positiveInteger, printJson, run, table, writeFileAtomically } from '../output.js';
import { progressBar, type Progress } from '../progress.js';

interface CompareCommandOptions {
  agents: string;
  seeds: number;
  seed: number;
  episodes: number;
  steps: number;
  baseline?: string;
  config: string[];
  primaryKpi: string;
  alpha: number;
  resamples: number;
  json?: string | true;
  report?: string;
  failUnlessBetter?: boolean;
  store: boolean;
  guardrails?: string;
  queue?: string;
  attempts?: number;
  connectTimeout?: number;
}

function readGuardrails(path: string): Guardrails {
  const parsed = guardrailsSchema.safeParse(readJsonFile(path, 'guardrails file'));
  if (!parsed.success) throw new PricelabError('config', `${path} is not a valid guardrails file`, parsed.error.issues.map((issue) => ({ path: ['guardrails', ...issue.path.map(String)], message: issue.message })));
  return parsed.data;
}

function probability(value: string): number {
  const parsed = Number(value);
  if (!(parsed > 0 && parsed < 1)) throw new InvalidArgumentError(`expected a number strictly between 0 and 1, found "${value}"`);
  return parsed;
}

export function registerCompare(program: Command): void {
  program
    .command('compare')
    .description('compare policies on common random numbers: paired differences, Holm-corrected verdicts, JSON summary and HTML report')
    .argument('<scenario>', 'built-in scenario id (or coupon scenario id: targeted-coupon-v1), or path to a scenario file')
    .requiredOption('--agents <arms>', 'comma-separated arms, each a rule spec (fixed:17.99), an agent kind (q-learning), a policy folder, a registered version (registry:everyday@2, registry:everyday@production; checked against the registry\'s content hash, as are folders inside $PRICELAB_HOME/policies) or a shop\'s own price path replayed (historical:sales.csv, historical:sales.csv#map.json; quote a file name with a comma: historical:"a, b.csv"; docs/calibration.md); on a coupon scenario also a coupon rule (none, none@22, coupon:1, coupon:1@24; docs/compare.md); name=spec names an arm')
    .option('--seeds <n>', 'analysis seeds (the unit of analysis; each trains learners anew)', positiveInteger, 10)
    .option('--seed <n>', 'first analysis seed (seeds are seed, seed + 1, ...)', integer, 1)
    .option('--episodes <n>', 'evaluation episodes per seed and arm (episode e of seed s runs on env seed 1000000 + 1000 s + e)', positiveInteger, 10)
    .option('--steps <n>', 'training steps per learning arm and seed', positiveInteger, 20_000)
    .option('--baseline <arm>', 'the arm the others are compared with (default: the first)')
    .option('--config <arm=file>', "an agent arm's config (JSON file); repeat for several arms", (value: string, previous: string[]) => [...previous, value], [] as string[])
    .option('--primary-kpi <kpi>', `the KPI of the verdict: ${kpiDefinitions.filter((kpi) => kpi.direction !== 'none').map((kpi) => kpi.name).join(', ')}`, 'totalReward')
    .option('--alpha <level>', 'family-wise significance level (Holm across arms and KPIs)', probability, 0.05)
    .option('--resamples <n>', 'BCa bootstrap resamples', positiveInteger, 2000)
    .option('--json [file]', 'write the JSON summary (docs/compare.md) to file, or print it when no file is given')
    .option('--report <file.html>', 'write a self-contained HTML report and <file>-charts/<chart>.png')
    .option('--fail-unless-better', 'exit 1 unless every non-baseline arm is better than the baseline on the primary KPI')
    .option('--guardrails <file>', 'guardrails JSON (agents/guardrails.ts: minPrice, maxPrice, maxChange, competitorIndex, marginFloor, charmEnding) applied to every arm in evaluation, as serving applies them')
    .option('--queue <url>', 'run each (arm, seed) unit as a job on the workers of a Redis queue (redis://host:port[/db]; see `pricelab worker`): the same summary as a local run; a policy arm\'s weights files travel with its jobs')
    .option('--attempts <n>', 'with --queue: tries per job before it fails', positiveInteger, 3)
    .option('--connect-timeout <s>', 'with --queue: seconds to wait for Redis', positiveInteger, 3)
    .option('--no-store', 'do not record the comparison in the results store ($PRICELAB_HOME or ./.pricelab)')
    .action(run(async (scenario: string, options: CompareCommandOptions) => compareCommand(scenario, options)));
}

async function compareCommand(scenario: string, options: CompareCommandOptions): Promise<number> {
  const jsonToStdout = options.json === true;
  let progress: Progress | undefined;
  const arms = splitArmList(options.agents);
  // Registered arms are looked up (the registry may be PostgreSQL) before the arms are parsed.
  const resolveArtifact = await registeredArtifactResolver(arms.map(armSpecOf));
  const onQueue = options.queue === undefined ? undefined : await queueRunnerFor(options.queue, options, jsonToStdout, (bar) => (progress = bar));
  let outcome: Awaited<ReturnType<typeof compare>>;
  try {
    outcome = await compare({
      scenario,
      arms,
      configFiles: parseConfigOptions(options.config),
      ...(options.baseline === undefined ? {} : { baseline: options.baseline }),
      seeds: options.seeds,
      firstSeed: options.seed,
      evaluationEpisodes: options.episodes,
      trainingSteps: options.steps,
      primaryKpi: options.primaryKpi,
      alpha: options.alpha,
      bootstrapResamples: options.resamples,
      ...(options.guardrails === undefined ? {} : { guardrails: readGuardrails(options.guardrails) }),
      // registry:name@version arms, and folders inside the registry, are checked against the registry row.
      resolveArtifact,
      // historical:<sales file> arms: read by calibration (above experiments), on the scenario's calendar.
      readHistory: (spec, scenario) => readHistoricalPolicy(spec, historicalOptionsFor(scenario)),
      hooks: onQueue
        ? {}
        : {
            onProgress: (done, total, label) => {
              progress ??= progressBar(total, 'steps', jsonToStdout);
              progress.update(done, label);
            },
          },
      ...(onQueue ? { unitRunner: onQueue.runner } : {}),
    });
  } catch (error) {
    progress?.stop();
    if (onQueue && error instanceof onQueue.failure) {
      process.stderr.write(`failed: ${error.message}\n`);
      return error.stopped ? 130 : exitCodes.failed;
    }
    throw error;
  } finally {
    onQueue?.dispose();
  }
  progress?.stop();
  const summary = outcome.summary;
  const written: string[] = [];
  let reportPath: string | undefined;
  if (options.report) {
    const report = await writeReport(options.report, summary, outcome.run.trajectories);
    reportPath = report.html;
    written.push(report.html, ...report.pngs);
    for (const warning of report.warnings) process.stderr.write(`warning: ${warning}\n`);
  }
  if (typeof options.json === 'string') {
    writeFileAtomically(options.json, `${JSON.stringify(summary, null, 2)}\n`);
    written.push(options.json);
  }
  let comparisonId: string | undefined;
  if (options.store) {
    comparisonId = await usingResultsStore(storeLocation(), (store) =>
      store.recordComparison({ scenario: summary.scenario.id, arms: summary.arms.map((arm) => arm.name), baseline: summary.baseline, summary, ...(reportPath === undefined ? {} : { reportPath }) }),
    );
  }
  if (jsonToStdout) printJson(summary);
  else process.stdout.write(comparisonText(summary, written, comparisonId));
  if (options.failUnlessBetter && !summary.verdict.everyArmBetter) {
    const failing = summary.verdict.byArm.filter((entry) => entry.verdict !== 'better');
    process.stderr.write(
      `failed: not better than ${summary.baseline} on ${summary.primaryKpi}: ${failing.map((entry) => `${entry.arm} (${entry.verdict}, difference ${formatNumber(entry.estimate)}, Holm p ${entry.adjustedPValue.toPrecision(3)})`).join('; ')}\n`,
    );
    return exitCodes.failed;
  }
  return exitCodes.ok;
}

/**
 * The queue's unit runner (loaded only when --queue is given: bullmq, ioredis), with a progress
 * bar over the units' steps labelled queued, active, done, failed and workers, as
 * `pricelab experiment run --queue` shows it. Ctrl-C stops following (queued jobs stay) and exits 130.
 */
async function queueRunnerFor(url: string, options: CompareCommandOptions, quiet: boolean, setProgress: (bar: Progress) => void) {
  const { queueUnitRunner, ComparisonJobsFailed } = await import('../../experiments/queue/submit-compare.js');
  const { displayUrl } = await import('../../experiments/queue/connection.js');
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write('\nstopping: queued comparison jobs stay in the queue (Ctrl-C again to quit now)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  let progress: Progress | undefined;
  const runner = queueUnitRunner({
    url,
    ...(options.attempts !== undefined ? { attempts: options.attempts } : {}),
    ...(options.connectTimeout !== undefined ? { connectSeconds: options.connectTimeout } : {}),
    signal: controller.signal,
    onEvent: (event) => {
      switch (event.type) {
        case 'submitted':
          if (!quiet) process.stderr.write(`${event.total} comparison jobs (arm x seed) on the queue ${displayUrl(url)}: ${event.added} queued, ${event.total - event.added} already there (joined)${event.retried > 0 ? `, ${event.retried} failed before and retried` : ''}\n`);
          break;
        case 'progress': {
          const { queued, active, done, failed, workers, doneWeight, totalWeight } = event.progress;
          if (!progress) setProgress((progress = progressBar(totalWeight, 'steps', quiet)));
          progress.update(doneWeight, `queued ${queued}, active ${active}, done ${done}, failed ${failed}, workers ${workers}`);
          break;
        }
        case 'finished':
          progress?.log(`finished ${event.item.data.arm.name} seed ${event.item.data.seed}${event.worker ? ` on ${event.worker}` : ''}`);
          break;
        case 'failed':
          progress?.log(`failed ${event.item.data.arm.name} seed ${event.item.data.seed}: ${event.reason}`);
          break;
        case 're-added':
          progress?.log(`the job of ${event.item.data.arm.name} seed ${event.item.data.seed} had left the queue: queued again`);
          break;
      }
    },
  });
  return { runner, failure: ComparisonJobsFailed, dispose: () => process.off('SIGINT', onSigint) };
}

/** Effective price paid per group and arm, its spread and the sensitive attributes' share (summary.fairness; nothing without it). */
function fairnessText(summary: ComparisonSummary): string[] {
  const fairness = summary.fairness;
  if (!fairness) return [];
  const price = formatterFor(fairness.byArm.flatMap((entry) => [entry.meanEffectivePrice, ...entry.byGroup.map((group) => group.effectivePrice)]));
  const groups = [...new Set(fairness.byArm.flatMap((entry) => entry.byGroup.map((group) => group.label)))];
  const cell = (entry: (typeof fairness.byArm)[number], label: string) => price(entry.byGroup.find((group) => group.label === label)?.effectivePrice ?? null);
  return [
    '',
    `effective price paid by ${fairness.groupedBy} (${fairness.market === 'coupon market' ? (summary.schemaVersion < 3 ? 'prices replayed in the coupon market, no coupon' : "after each arm's own coupons in the coupon market") : 'posted prices, weighted by units'}):`,
    table([
      ['group', ...fairness.byArm.map((entry) => entry.arm)],
      ...groups.map((label) => [label, ...fairness.byArm.map((entry) => cell(entry, label))]),
      ['all units', ...fairness.byArm.map((entry) => price(entry.meanEffectivePrice))],
      ['max/min ratio', ...fairness.byArm.map((entry) => entry.dispersion.maxMinRatio.toFixed(3))],
      ['coefficient of variation', ...fairness.byArm.map((entry) => entry.dispersion.coefficientOfVariation.toFixed(4))],
      ...fairness.sensitiveAttributes.map((attribute) => [`${attribute} eta^2`, ...fairness.byArm.map((entry) => entry.sensitive.find((share) => share.attribute === attribute)?.etaSquared.toFixed(3) ?? '-')]),
    ]),
    `eta^2: share of the effective price's variance a sensitive attribute explains${fairness.sensitiveAttributes.length === 0 ? ' (the scenario declares none)' : ''}; an aid, not legal advice`,
  ];
}

/** On a coupon scenario: the evaluation days each arm offered each campaign (summary.coupons; nothing without it). */
function couponsText(summary: ComparisonSummary): string[] {
  const coupons = summary.coupons;
  if (!coupons) return [];
  return [
    '',
    'coupons chosen (evaluation days, every seed and episode):',
    table([['campaign', ...coupons.byArm.map((entry) => entry.arm)], ...['no coupon', ...coupons.campaigns].map((campaign) => [campaign, ...coupons.byArm.map((entry) => String(entry.campaignDays[campaign] ?? 0))])]),
  ];
}

/** The text report of a comparison; each KPI's numbers share one count of decimals (experiments/report/format.ts). */
export function comparisonText(summary: ComparisonSummary, written: readonly string[], comparisonId: string | undefined): string {
  const primary = formatterFor(summary.comparisons.filter((comparison) => comparison.kpi === summary.primaryKpi).flatMap((comparison) => [comparison.estimate, comparison.t.low, comparison.t.high]));
  const lines = [
    `${summary.scenario.id}: ${summary.arms.map((arm) => arm.name).join(' vs ')}, ${summary.seeds.length} seeds x ${summary.evaluationEpisodes} evaluation episodes (common random numbers), baseline ${summary.baseline}`,
    '',
    `verdict on ${summary.primaryKpi} (Holm across ${summary.comparisons.length} comparisons, alpha ${summary.alpha}):`,
    table([
      ['arm', 'verdict', 'difference', '95% paired t interval', 'Holm p', 'MDE'],
      ...summary.verdict.byArm.map((entry) => [entry.arm, entry.verdict, primary(entry.estimate), `${primary(entry.low)} .. ${primary(entry.high)}`, entry.adjustedPValue.toPrecision(3), primary(entry.minimumDetectableEffect)]),
    ]),
    '',
    table([
      ['KPI', ...summary.arms.map((arm) => arm.name)],
      ...summary.kpis.map((kpi) => {
        const number = formatterFor(kpi.byArm.flatMap((entry) => [entry.mean, entry.low, entry.high]));
        return [
          `${kpi.name}${kpi.direction === 'higher' ? ' (+)' : kpi.direction === 'lower' ? ' (-)' : ''}`,
          ...kpi.byArm.map((entry) => {
            const comparison = summary.comparisons.find((candidate) => candidate.arm === entry.arm && candidate.kpi === kpi.name);
            const mark = comparison?.verdict === 'better' ? ' ▲' : comparison?.verdict === 'worse' ? ' ▼' : '';
            return `${number(entry.mean)} ±${number((entry.high - entry.low) / 2)}${mark}`;
          }),
        ];
      }),
    ]),
    '(+) higher is better, (-) lower is better; ▲/▼ better/worse than the baseline after Holm; ± is the 95% t half-width across seeds',
    ...couponsText(summary),
    ...fairnessText(summary),
  ];
  if (written.length > 0) lines.push('', ...written.map((path) => `wrote ${path}`));
  if (comparisonId) lines.push(`recorded comparison ${comparisonId} in the results store`);
  return `${lines.join('\n')}\n`;
}
