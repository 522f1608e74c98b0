/**
 * `pricelab bench env`: steps per second of the single env (Gymnasium API, one step at a
 * time) and of the vector env (N markets over typed arrays), on every scenario, on one
 * core. The reference is measured in the same run: bench/peers/market_numpy.py, a numpy
 * market vectorised over markets, what a pricing scientist would otherwise write.
 * Benchmarks print JSON; they are not tests.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { measureIsolated } from '../../experiments/bench-env.js';
import { builtInScenarioIds, loadScenario } from '../../scenarios/load.js';
import { formatNumber, nonNegativeInteger, positiveInteger, printJson, run, table } from '../output.js';
import { registerBenchSweep } from './experiment.js';
import { registerBenchServing } from './bench-serving.js';
import { registerBenchQueue } from './bench-queue.js';
import { progressBar, statusLine } from '../progress.js';

interface BenchOptions {
  json?: boolean;
  seconds: number;
  markets: number;
  scenarios?: string;
  peer: boolean;
}

export interface EnvBenchRow {
  scenario: string;
  /** Steps per second of wall-clock time. */
  singleStepsPerSecond: number;
  vectorStepsPerSecond: number;
  /** Steps per second of this process's CPU time: what one core does, whatever else the machine runs. */
  singleStepsPerCpuSecond: number;
  vectorStepsPerCpuSecond: number;
  vectorMarkets: number;
  vectorOverSingle: number;
  vectorOverPeer: number | null;
  /** The same ratios on CPU time. */
  vectorOverSingleCpu: number;
  vectorOverPeerCpu: number | null;
}


export function registerBench(program: Command): void {
  const bench = program.command('bench').description('benchmarks that print JSON, with a reference measured in the same run');
  bench
    .command('env')
    .description('steps per second, single and vector env, on every scenario (one core), against a numpy peer')
    .option('--json', 'print JSON')
    .option('--seconds <s>', 'measuring time per measurement', parseFloat, 1.5)
    .option('--markets <n>', 'markets in the vector env (RL vector envs usually run 8-64)', positiveInteger, 16)
    .option('--scenarios <ids>', 'comma-separated scenario ids (default: all)')
    .option('--no-peer', 'skip the numpy peer')
    .action(run(async (options: BenchOptions) => benchEnv(options)));

  bench
    .command('agents')
    .description('Q-learning periods per second on the Calvano market against the numpy peer; DQN updates per second at batch 32 and 256 against PyTorch')
    .option('--json', 'print JSON: {calvano, dqn}')
    .option('--sessions <n>', 'Calvano sessions compared with the numpy peer', positiveInteger, 100)
    .option('--periods <n>', 'periods per session in that comparison', positiveInteger, 100_000)
    .option('--updates <n>', 'timed DQN updates per batch size', positiveInteger, 1_000)
    .option('--no-peer', 'skip the numpy and PyTorch peers')
    .action(run(async (options: { json?: boolean; sessions: number; periods: number; updates: number; peer: boolean }) => benchAgents(options)));

  bench
    .command('calibration')
    .description('pricelab calibrate on the orange-juice file (106,139 rows) and on synthetic logs (250k and 1M rows): seconds, CPU, peak memory, against a log-log OLS on the same rows (each in its own process, one core)')
    .option('--rows <n>', 'rows of the large synthetic log', positiveInteger, 1_000_000)
    .option('--growth-rows <n>', 'rows of the smaller synthetic log (how memory grows with the rows)', positiveInteger, 250_000)
    .option('--no-orange-juice', 'skip the orange-juice file')
    .action(
      run(async (options: { rows: number; growthRows: number; orangeJuice: boolean }) => {
        const { benchCalibration } = await import('../../calibration/bench.js');
        printJson(await benchCalibration({ rows: options.rows, growthRows: options.growthRows, skipOrangeJuice: !options.orangeJuice, progress: (message) => process.stderr.write(`${message}\n`) }));
      }),
    );
  bench
    .command('startup')
    .description("pricelab --help and a sweep worker's first run, beside bare node and a bare worker thread in the same run (JSON, ms)")
    .option('--runs <n>', 'measurements of each', positiveInteger, 7)
    .option('--baseline <dist>', "another build's dist/ folder, measured in the same rounds")
    .action(
      run(async (options: { runs: number; baseline?: string }) => {
        const { benchStartup } = await import('../../experiments/bench-startup.js');
        printJson(await benchStartup({ runs: options.runs, baseline: options.baseline, progress: (message) => process.stderr.write(`${message}\n`) }));
      }),
    );
  bench
    .command('learning')
    .description('the DQN finale over the best fixed price on steady-state-v1, trained on several seeds: pass rate (95% Wilson interval) and mean paired gain over the best fixed price measured in the same run (95% t interval)')
    .option('--json', 'print JSON')
    .option('--seeds <n>', 'training seeds, from --first-seed on', positiveInteger, 6)
    .option('--first-seed <s>', 'the first training seed', nonNegativeInteger, 1)
    .option('--steps <n>', 'finale steps per seed (default: the shared config, 400,000; about 150 s a seed on one idle core)', positiveInteger)
    .option('--markets <n>', 'markets in the training vector env', positiveInteger, 16)
    .option('--episodes <n>', 'held-out episodes and fixed-price selection episodes (keep-best and the change margin use twice as many)', positiveInteger, 20)
    .option('--evaluate-every <n>', 'finale steps between keep-best evaluations', positiveInteger, 20_000)
    .option('--quiet', 'no progress on stderr')
    .action(run(async (options: LearningBenchCliOptions) => benchLearningCommand(options)));
  bench
    .command('coupons')
    .description('coupon market-days per second (the coupon day alone, in lockstep, behind the Env contract, the vector coupon env) beside MarketEnv.step in the same run, one core (JSON)')
    .option('--scenario <id>', 'a coupon scenario id (scenarios/coupons/) or path', 'festival-coupon-v1')
    .option('--markets <n>', 'markets in lockstep', positiveInteger, 64)
    .option('--seconds <s>', 'seconds per item per round', parseFloat, 1)
    .option('--rounds <n>', 'rounds (each item once a round; medians reported)', positiveInteger, 5)
    .option('--baseline <dist>', "another build's dist/ folder, measured in the same rounds")
    .action(
      run(async (options: { scenario: string; markets: number; seconds: number; rounds: number; baseline?: string }) => {
        const { benchCouponSpeed } = await import('../../experiments/bench-coupon-speed.js');
        printJson(await benchCouponSpeed({ ...options, progress: (message) => process.stderr.write(`${message}\n`) }));
      }),
    );
  registerBenchSweep(bench);
  registerBenchServing(bench);
  registerBenchQueue(bench);
}

interface LearningBenchCliOptions {
  json?: boolean;
  seeds: number;
  firstSeed: number;
  steps?: number;
  markets: number;
  episodes: number;
  evaluateEvery: number;
  quiet?: boolean;
}

async function benchLearningCommand(options: LearningBenchCliOptions): Promise<void> {
  const { benchLearning } = await import('../../experiments/bench-learning.js');
  const seeds = Array.from({ length: options.seeds }, (_, index) => options.firstSeed + index);
  let bar: ReturnType<typeof progressBar> | undefined;
  const result = await benchLearning({
    seeds,
    ...(options.steps === undefined ? {} : { steps: options.steps }),
    markets: options.markets,
    episodes: options.episodes,
    evaluateEvery: options.evaluateEvery,
    onProgress: (done, total, label) => {
      bar ??= progressBar(total, 'finale steps', options.quiet === true);
      bar.update(done, label);
    },
  });
  bar?.stop();
  if (options.json) {
    printJson(result);
    return;
  }
  const interval = (summary: { mean: number; low: number; high: number }) => `${formatNumber(summary.mean, 0)} [${formatNumber(summary.low, 0)}, ${formatNumber(summary.high, 0)}]`;
  const lines = [
    `${result.protocol.agent} on ${result.protocol.scenario}, ${formatNumber(result.protocol.steps, 0)} finale steps a seed; reference: the best fixed price ${result.reference.price}, measured in this run (held-out mean ${formatNumber(result.reference.heldOutMean, 0)})`,
    table([
      ['seed', 'policy - fixed (95% CI)', 'untrained - fixed', 'margin', 'kept at step', 'seconds', 'passed'],
      ...result.runs.map((entry) => [String(entry.seed), interval(entry.difference), interval(entry.untrainedDifference), String(entry.margin), formatNumber(entry.bestEvaluation.steps, 0), entry.seconds.toFixed(0), entry.passed ? 'yes' : 'no']),
    ]),
    `pass rate: ${result.passRate.passes}/${result.passRate.runs} = ${formatNumber(result.passRate.rate)} (95% Wilson interval ${formatNumber(result.passRate.low)} to ${formatNumber(result.passRate.high)}); untrained controls passing: ${result.untrainedPasses}`,
    `mean gain over the best fixed price across seeds: ${interval(result.difference)} (95% t interval over ${result.difference.n} seeds)`,
    `policy held-out mean across seeds: ${interval(result.policyReward)}; best fixed price: ${formatNumber(result.reference.heldOutMean, 0)}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function benchAgents(options: { json?: boolean; sessions: number; periods: number; updates: number; peer: boolean }): Promise<void> {
  const { benchCalvano } = await import('../../experiments/bench-calvano.js');
  const { benchDqn } = await import('../../experiments/bench-dqn.js');
  if (!options.json) process.stderr.write('measuring Q-learning on the Calvano market (and the numpy peer)...\n');
  const calvano = await benchCalvano({ sessions: options.sessions, periods: options.periods, skipPeer: !options.peer });
  if (!options.json) process.stderr.write('measuring DQN updates (and the PyTorch peer)...\n');
  const dqn = await benchDqn({ updates: options.updates, skipPeer: !options.peer });
  if (options.json) {
    printJson({ calvano, dqn });
    return;
  }
  const session = calvano.baselineSession;
  const lines = [
    `Calvano Q-learning, one baseline session (seed ${session.seed}): ${formatNumber(session.periods, 0)} periods in ${session.seconds.toFixed(3)} s, ${formatNumber(session.periodsPerSecond, 0)} periods/s`,
    `  ${calvano.pricelab.sessions} sessions x ${formatNumber(calvano.pricelab.periods, 0)} periods: ${calvano.pricelab.microsecondsPerSessionStep.toFixed(4)} us per session-step`,
    'skipped' in calvano.peer
      ? `  numpy peer: skipped (${calvano.peer.skipped})`
      : `  numpy peer, same run: ${calvano.peer.microsecondsPerSessionStep.toFixed(4)} us per session-step; pricelab is ${calvano.peerOverPricelab?.toFixed(1)}x faster`,
    `DQN update (${dqn.network.inputs} inputs, ${dqn.network.hiddenLayers.join('x')}, ${dqn.network.actions} actions) on ${dqn.backend.kind}:`,
    table([
      ['batch', 'double DQN', 'ms/update', 'updates/s'],
      ...dqn.pricelab.map((timing) => [String(timing.batchSize), timing.doubleDqn ? 'yes' : 'no', timing.millisecondsPerUpdate.toFixed(3), formatNumber(timing.updatesPerSecond, 0)]),
    ]),
    'skipped' in dqn.peer
      ? `  PyTorch peer: skipped (${dqn.peer.skipped})`
      : `  PyTorch peer, same run: ${dqn.peer.results.map((result) => `batch ${result.batchSize} ${result.millisecondsPerUpdate.toFixed(3)} ms`).join(', ')}; peer/pricelab ${dqn.peerOverPricelab.map((entry) => `${entry.ratio.toFixed(2)} at ${entry.batchSize}`).join(', ')}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function benchEnv(options: BenchOptions): Promise<void> {
  const ids = options.scenarios ? options.scenarios.split(',') : builtInScenarioIds();
  const peer = options.peer ? measurePeer(options.seconds) : null;
  const rows: EnvBenchRow[] = [];
  for (const [position, id] of ids.entries()) {
    if (!options.json) statusLine(`[${position + 1}/${ids.length}] ${id}`);
    loadScenario(id); // a missing or bad scenario is refused here, before any worker starts
    const single = await measureIsolated({ scenario: id, kind: 'single', markets: 1, seconds: options.seconds });
    const vector = await measureIsolated({ scenario: id, kind: 'vector', markets: options.markets, seconds: options.seconds });
    rows.push({
      scenario: id,
      singleStepsPerSecond: single.perSecond,
      vectorStepsPerSecond: vector.perSecond,
      singleStepsPerCpuSecond: single.perCpuSecond,
      vectorStepsPerCpuSecond: vector.perCpuSecond,
      vectorMarkets: options.markets,
      vectorOverSingle: vector.perSecond / single.perSecond,
      vectorOverPeer: peer ? vector.perSecond / peer.stepsPerSecond : null,
      vectorOverSingleCpu: vector.perCpuSecond / single.perCpuSecond,
      vectorOverPeerCpu: peer ? vector.perCpuSecond / peer.stepsPerCpuSecond : null,
    });
  }
  const result = { benchmark: 'env', node: process.version, cpu: cpus()[0]?.model ?? 'unknown', peer, rows };
  if (options.json) {
    printJson(result);
    return;
  }
  const lines = [
    table([
      ['scenario', 'single steps/s', 'vector steps/s', 'vector/single', 'vector/peer', 'single steps/cpu-s', 'vector steps/cpu-s', 'vector/peer (cpu)'],
      ...rows.map((row) => [
        row.scenario,
        formatNumber(row.singleStepsPerSecond, 0),
        formatNumber(row.vectorStepsPerSecond, 0),
        formatNumber(row.vectorOverSingle),
        row.vectorOverPeer === null ? '-' : formatNumber(row.vectorOverPeer),
        formatNumber(row.singleStepsPerCpuSecond, 0),
        formatNumber(row.vectorStepsPerCpuSecond, 0),
        row.vectorOverPeerCpu === null ? '-' : formatNumber(row.vectorOverPeerCpu),
      ]),
    ]),
    peer
      ? `peer: ${peer.peer} (${peer.markets} markets) ${formatNumber(peer.stepsPerSecond, 0)} steps/s, ${formatNumber(peer.stepsPerCpuSecond, 0)} steps/cpu-s, measured in this run`
      : 'peer: skipped',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

interface PeerResult {
  peer: string;
  markets: number;
  stepsPerSecond: number;
  stepsPerCpuSecond: number;
}

function measurePeer(seconds: number): PeerResult | null {
  const script = findPeer();
  if (!script) return null;
  try {
    const steps = Math.max(200, Math.round(seconds * 1000));
    const output = execFileSync('python3', [script, '1024', String(steps), '1'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return JSON.parse(output) as PeerResult;
  } catch {
    return null;
  }
}

function findPeer(): string | undefined {
  let folder = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 5; depth++) {
    const candidate = join(folder, 'bench', 'peers', 'market_numpy.py');
    if (existsSync(candidate)) return candidate;
    folder = dirname(folder);
  }
  return undefined;
}
