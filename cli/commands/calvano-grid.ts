/**
 * Calvano-grid experiment files (`"kind": "calvano-grid"`, experiments/calvano-grid-file.ts)
 * under `pricelab experiment`:
 *   run <file>        every session not yet finished, in worker threads, into the store;
 *                     then the heatmap report (--report <folder>, default
 *                     $PRICELAB_HOME/reports/<name>). Ctrl-C stops dispatching: sessions in
 *                     flight are stored, the rest wait for --resume (exit 130).
 *   check <file>      validates the file and counts its sessions
 *   report <file>     the heatmap report from the sessions stored so far (after a run on
 *                     other machines, say)
 *   estimate <file>   runs a sample of sessions here and prints the grid's expected cost,
 *                     and the wall time on --machines x --concurrency workers
 * cli/commands/experiment.ts sends grid files here; sweeps stay there.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { configError } from '../../core/errors.js';
import { readJsonFile } from '../../core/json-file.js';
import { calvanoGridKind, planCalvanoGrid, readExperimentKind, type CalvanoGridPlan } from '../../experiments/calvano-grid-file.js';
import { estimateGridCost, wallSecondsOn } from '../../experiments/calvano-grid-cost.js';
import { calvanoGridCells, runCalvanoGrid, type GridSessionRunner } from '../../experiments/calvano-grid.js';
import { axisText, calvanoGridReport, writeCalvanoGridReport, type WrittenGridReport } from '../../experiments/report/calvano-heatmap.js';
import { resultsHome } from '../../experiments/store.js';
import { positiveInteger, printJson, run, table } from '../output.js';
import { progressBar, type Progress } from '../progress.js';

const interruptedExitCode = 130;

/** The grid plan of an experiment file, or undefined when the file is a sweep (no kind). Another kind is refused (exit 2). */
export function calvanoGridPlanOf(file: string): CalvanoGridPlan | undefined {
  const json = readJsonFile(file, 'experiment file');
  const kind = readExperimentKind(json);
  if (kind === 'sweep') return undefined;
  if (kind !== calvanoGridKind) throw configError(`${file} is not a valid experiment (1 problem)`, [{ path: ['kind'], message: `expected "${calvanoGridKind}", or no kind for a sweep of scenarios x agents x seeds, found ${JSON.stringify(kind)}` }]);
  return planCalvanoGrid(json, file);
}

function requireGrid(file: string, command: string): CalvanoGridPlan {
  const plan = calvanoGridPlanOf(file);
  if (plan === undefined) {
    throw configError(`${file} is a sweep, not a Calvano grid`, [{ path: ['kind'], message: `expected "kind": "${calvanoGridKind}" (\`pricelab experiment ${command}\` works on Calvano grids; a sweep's runs are in \`pricelab runs list\`)` }]);
  }
  return plan;
}

export interface GridRunOptions {
  workers?: number;
  resume?: boolean;
  json?: boolean;
  report?: string;
  /** `--queue <url>`: only with a runner for it (see calvanoGridRunCommand). */
  queue?: string;
}

const defaultReportFolder = (home: string, plan: CalvanoGridPlan) => join(home, 'reports', plan.file.name);

export function gridCheckText(plan: CalvanoGridPlan): string {
  return `${plan.file.name}: valid Calvano grid, ${plan.sessions.length} sessions (${plan.alphas.length} alphas x ${plan.betas.length} betas x ${plan.seeds.length} seeds)\n`;
}

/**
 * Runs a grid file's sessions: in local worker threads, or through `runner` (a queue's,
 * experiments/calvano-grid.ts GridSessionRunner). `--queue` without a runner is refused,
 * so a grid never runs locally when a queue was asked for.
 */
export async function calvanoGridRunCommand(file: string, plan: CalvanoGridPlan, options: GridRunOptions, runner?: GridSessionRunner): Promise<number> {
  if (options.queue !== undefined && runner === undefined) {
    throw configError(`${file}: Calvano grids do not run on a queue in this build`, [{ path: ['--queue'], message: 'expected no --queue for a Calvano grid (run it in local worker threads), or a build whose queue carries grid sessions' }]);
  }
  const home = resultsHome();
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) process.exit(interruptedExitCode);
    process.stderr.write('\nstopping: sessions in flight finish and are stored (Ctrl-C again to quit now)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  let progress: Progress | undefined;
  try {
    const result = await runCalvanoGrid(plan, {
      home,
      ...(options.workers === undefined ? {} : { workers: options.workers }),
      resume: options.resume === true,
      signal: controller.signal,
      ...(runner ? { runner } : {}),
      onEvent: (event) => {
        if (event.type === 'planned') {
          if (!options.json) process.stderr.write(`${plan.file.name}: ${event.total} sessions, ${event.skipped} already finished, ${event.toRun} to run on ${event.workers} worker${event.workers === 1 ? '' : 's'}; results in ${home}\n`);
          progress = progressBar(event.toRun, 'sessions', options.json === true);
        } else if (event.type === 'session-finished') {
          progress?.update(event.done, `alpha ${axisText(event.session.alpha)} beta ${axisText(event.session.beta)} seed ${event.session.seed}: profit gain ${event.result.profitGain.toFixed(3)}`);
        } else {
          progress?.log(`failed ${event.session.id} alpha ${axisText(event.session.alpha)} beta ${axisText(event.session.beta)} seed ${event.session.seed}: ${event.error}`);
          progress?.update(event.done);
        }
      },
    });
    progress?.stop();
    const written = await writeGridReport(plan, home, options.report);
    if (options.json) printJson({ experiment: plan.file.name, home, ...result, report: reportFiles(written), pattern: written.report.pattern });
    else {
      process.stdout.write(`${plan.file.name}: ${result.finished} finished, ${result.failed} failed, ${result.skipped} skipped, in ${result.wallSeconds.toFixed(1)} s on ${result.workers} worker${result.workers === 1 ? '' : 's'}\n`);
      process.stdout.write(reportText(written));
    }
    if (result.stopped) {
      process.stderr.write(`stopped. Continue with: pricelab experiment run ${file} --resume\n`);
      return interruptedExitCode;
    }
    if (result.failed > 0) process.stderr.write(`${result.failed} session${result.failed === 1 ? '' : 's'} failed (errors above and in \`pricelab runs list\`). Run them again with: pricelab experiment run ${file} --resume\n`);
    return result.failed > 0 ? 1 : 0;
  } finally {
    progress?.stop();
    process.off('SIGINT', onSigint);
  }
}

async function writeGridReport(plan: CalvanoGridPlan, home: string, folder: string | undefined): Promise<WrittenGridReport> {
  const written = await writeCalvanoGridReport(folder ?? defaultReportFolder(home, plan), calvanoGridReport(plan, await calvanoGridCells(plan, home)));
  for (const warning of written.warnings) process.stderr.write(`heatmap: ${warning}\n`);
  return written;
}

const reportFiles = (written: WrittenGridReport) => ({ folder: written.folder, json: written.json, spec: written.spec, png: written.png, html: written.html });

function reportText(written: WrittenGridReport): string {
  const pattern = written.report.pattern;
  const verdict = (holds: boolean | null) => (holds === null ? '-' : holds ? 'holds' : 'does not hold');
  const rows = [
    ['the paper', 'here', ''],
    [`baseline (alpha 0.15, beta 4e-6): profit gain about 0.85`, pattern.baseline.statement, ''],
    ['longer exploration (smaller beta), higher gain', pattern.longerExploration.statement, verdict(pattern.longerExploration.holds)],
    ['highest gain for alpha 0.05 to 0.15', pattern.peakAlpha.statement, verdict(pattern.peakAlpha.holds)],
  ];
  const sessions = written.report.sessions;
  return `${sessions.finished} of ${sessions.planned} sessions in the store, ${sessions.converged} converged\n${table(rows)}\nreport: ${written.html}\n  heatmap ${written.png}, spec ${written.spec}, figures ${written.json}\n`;
}

/** `experiment report` and `experiment estimate`, registered under `pricelab experiment` by cli/commands/experiment.ts. */
export function registerCalvanoGridCommands(experiment: Command): void {
  experiment
    .command('report')
    .description('write a Calvano grid’s heatmap report (vega-lite spec, PNG, page, JSON) from the sessions stored so far')
    .argument('<file>', 'Calvano-grid experiment file ("kind": "calvano-grid")')
    .option('--out <folder>', 'report folder (default: $PRICELAB_HOME/reports/<name>)')
    .option('--json', 'print the report’s files and the comparison with the paper as JSON')
    .action(
      run(async (file: string, options: { out?: string; json?: boolean }) => {
        const plan = requireGrid(file, 'report');
        const written = await writeGridReport(plan, resultsHome(), options.out);
        if (options.json) printJson({ experiment: plan.file.name, report: reportFiles(written), sessions: written.report.sessions, pattern: written.report.pattern });
        else process.stdout.write(reportText(written));
      }),
    );
  experiment
    .command('estimate')
    .description('time a sample of a Calvano grid’s sessions here (one thread) and print the grid’s expected cost and wall time')
    .argument('<file>', 'Calvano-grid experiment file ("kind": "calvano-grid")')
    .option('--alpha-points <n>', 'alphas sampled, evenly spaced, both ends included', positiveInteger, 3)
    .option('--beta-points <n>', 'betas sampled, evenly spaced, both ends included', positiveInteger, 8)
    .option('--seeds <n>', 'seeds per sampled point', positiveInteger, 1)
    .option('--machines <n>', 'machines running `pricelab worker`', positiveInteger, 1)
    .option('--concurrency <n>', 'workers per machine (one per core)', positiveInteger, 2)
    .option('--json', 'print JSON')
    .action(
      run((file: string, options: { alphaPoints: number; betaPoints: number; seeds: number; machines: number; concurrency: number; json?: boolean }) => {
        const plan = requireGrid(file, 'estimate');
        const quiet = options.json === true;
        const progress = progressBar(options.alphaPoints * options.betaPoints * options.seeds, 'sampled sessions', quiet);
        let estimate;
        try {
          estimate = estimateGridCost(plan, { alphaPoints: options.alphaPoints, betaPoints: options.betaPoints, seedsPerPoint: options.seeds, onSample: (sample, done) => progress.update(done, `alpha ${axisText(sample.alpha)} beta ${axisText(sample.beta)}: ${sample.cpuSeconds.toFixed(3)} s`) });
        } finally {
          progress.stop();
        }
        const wallSeconds = wallSecondsOn(estimate.cpuSeconds, options.machines, options.concurrency);
        if (options.json) {
          printJson({ ...estimate, machines: options.machines, concurrency: options.concurrency, wallSecondsPerMachine: wallSeconds });
          return;
        }
        const hours = (seconds: number) => (seconds >= 3600 ? `${(seconds / 3600).toFixed(1)} h` : seconds >= 60 ? `${(seconds / 60).toFixed(1)} min` : `${seconds.toFixed(1)} s`);
        const rows = [
          ['figure', 'value'],
          ['sessions in the grid', estimate.sessions.toLocaleString('en-US')],
          ['sampled sessions, mean CPU s', `${estimate.samples.length}, ${estimate.sampleMeanSeconds.toFixed(3)}`],
          ['cost model, CPU s per session', `${estimate.model.a.toFixed(4)} + ${estimate.model.b.toExponential(3)} / beta`],
          ['expected CPU s per session (model over the grid’s betas)', estimate.secondsPerSession.toFixed(3)],
          ['expected CPU time in all', hours(estimate.cpuSeconds)],
          [`wall time on ${options.machines} machine${options.machines === 1 ? '' : 's'} x ${options.concurrency} workers`, hours(wallSeconds)],
        ];
        process.stdout.write(`${table(rows)}\n`);
      }),
    );
}
