/**
 * Benchmark of the Calvano et al. (2020) kernel (agents/calvano.ts), with its reference
 * measured in the same run: ../shared/bench/peers/calvano_numpy.py, the same algorithm
 * vectorised over sessions with numpy (what a pricing scientist would otherwise write).
 *
 * Three figures, all on one core:
 * - one full baseline session (seed 1, to convergence): seconds and periods per second;
 * - the same work as the peer: `sessions` sessions of `periods` periods each, one after
 *   the other, in microseconds per session-step (one session advancing one period);
 * - the peer at `sessions` sessions and `periods` periods, which prints microseconds per
 *   step over all its sessions; divided by the sessions, per session-step.
 * The ratio is peer / pricelab per session-step (higher: pricelab faster). The peer is
 * cut at `periods` (default 100,000) because it needs minutes to converge; both sides are
 * then in the exploration-heavy early phase, which costs pricelab more than later on.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCalvanoSession } from '../agents/calvano.js';
import { loadCalvanoConfig } from './reproduce-calvano.js';

export interface BenchCalvanoOptions {
  /** Sessions on both sides of the comparison with the peer (default 100). */
  readonly sessions?: number;
  /** Periods per session in the comparison with the peer (default 100,000). */
  readonly periods?: number;
  /** Skip the numpy peer (default false). */
  readonly skipPeer?: boolean;
}

export interface CalvanoBenchResult {
  readonly benchmark: 'calvano';
  readonly node: string;
  readonly cpu: string;
  /** One baseline session to convergence, seed 1, after a warm-up session. */
  readonly baselineSession: {
    readonly seed: number;
    readonly converged: boolean;
    readonly periods: number;
    readonly seconds: number;
    readonly periodsPerSecond: number;
    readonly microsecondsPerPeriod: number;
  };
  /** pricelab doing the peer's work: `sessions` sessions of `periods` periods, one core. */
  readonly pricelab: {
    readonly sessions: number;
    readonly periods: number;
    readonly seconds: number;
    readonly microsecondsPerSessionStep: number;
  };
  /** The numpy peer measured in this run, or why it was skipped. */
  readonly peer:
    | {
        readonly script: string;
        readonly sessions: number;
        readonly periods: number;
        readonly seconds: number;
        readonly microsecondsPerStep: number;
        readonly microsecondsPerSessionStep: number;
      }
    | { readonly skipped: string };
  /** Peer microseconds per session-step over pricelab's (how many times faster pricelab is), or null without the peer. */
  readonly peerOverPricelab: number | null;
}

export async function benchCalvano(options: BenchCalvanoOptions = {}): Promise<CalvanoBenchResult> {
  const sessions = options.sessions ?? 100;
  const periods = options.periods ?? 100_000;
  const baselineConfig = loadCalvanoConfig({});
  runCalvanoSession(baselineConfig, 2); // warm-up: let V8 compile the kernel before measuring
  const baseline = runCalvanoSession(baselineConfig, 1);

  // The peer's window (100,000) cannot close within its first periods, so no session stops early on either side.
  const cutConfig = loadCalvanoConfig({ maxPeriods: periods });
  let seconds = 0;
  let sessionSteps = 0;
  for (let seed = 1; seed <= sessions; seed++) {
    const result = runCalvanoSession(cutConfig, seed);
    seconds += result.seconds;
    sessionSteps += result.periods;
  }
  const pricelabPerStep = (1e6 * seconds) / sessionSteps;
  const peer = options.skipPeer ? { skipped: 'skipped on request' } : await measurePeer(sessions, periods);
  return {
    benchmark: 'calvano',
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    baselineSession: {
      seed: 1,
      converged: baseline.converged,
      periods: baseline.periods,
      seconds: baseline.seconds,
      periodsPerSecond: baseline.periods / baseline.seconds,
      microsecondsPerPeriod: (1e6 * baseline.seconds) / baseline.periods,
    },
    pricelab: { sessions, periods, seconds, microsecondsPerSessionStep: pricelabPerStep },
    peer,
    peerOverPricelab: 'microsecondsPerSessionStep' in peer ? peer.microsecondsPerSessionStep / pricelabPerStep : null,
  };
}

async function measurePeer(sessions: number, periods: number): Promise<CalvanoBenchResult['peer']> {
  const script = findPeer();
  if (!script) return { skipped: 'calvano_numpy.py not found in a shared/bench/peers or bench/peers folder above this file' };
  const output = await new Promise<string | Error>((resolve) => {
    execFile('python3', [script, String(sessions), String(periods), '1e5', '1'], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve(error ? new Error(`${error.message}${stderr ? `: ${stderr.trim().split('\n').pop()}` : ''}`) : stdout);
    });
  });
  if (output instanceof Error) return { skipped: `python3 ${script} failed: ${output.message}` };
  // Its last line: "wall=2.3s  steps=20,000  us/step(all sessions)=116.8"
  const match = /wall=([\d.]+)s\s+steps=([\d,]+)\s+us\/step\(all sessions\)=([\d.]+)/.exec(output);
  if (!match) return { skipped: `could not read the peer's timing line from: ${output.trim().split('\n').pop() ?? ''}` };
  const microsecondsPerStep = Number(match[3]);
  return {
    script,
    sessions,
    periods: Number(match[2]!.replace(/,/g, '')),
    seconds: Number(match[1]),
    microsecondsPerStep,
    microsecondsPerSessionStep: microsecondsPerStep / sessions,
  };
}

/** calvano_numpy.py in ../shared/bench/peers of the repository (or its own bench/peers), walking up from this file. */
function findPeer(): string | undefined {
  let folder = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 6; depth++) {
    for (const candidate of [join(folder, 'shared', 'bench', 'peers', 'calvano_numpy.py'), join(folder, 'bench', 'peers', 'calvano_numpy.py')]) {
      if (existsSync(candidate)) return candidate;
    }
    folder = dirname(folder);
  }
  return undefined;
}
