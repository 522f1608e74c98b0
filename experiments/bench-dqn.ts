/**
 * Benchmark of one DQN update (agents/dqn.ts), with its reference measured in the same run:
 * ../shared/bench/peers/dqn_torch.py, the same update in PyTorch on one thread (what a
 * pricing scientist would otherwise write).
 *
 * The network is the peer's: 16 inputs, two hidden ReLU layers of 64, 21 actions; Huber
 * loss, Adam (lr 1e-3), a target network, gradient-norm clipping at 10. Protocol, as the
 * peer's: 50 warm-up updates, then `updates` updates timed together; milliseconds per
 * update is their mean. The first timing of the process gets 500 more warm-up updates,
 * for V8's compiler (the peer's Python needs none). Two pricelab rows per batch size: plain DQN targets (max over the
 * target network: exactly the peer's work) and Double DQN (pricelab's default, one more
 * forward pass). A pricelab update does more than the peer's: it also samples the batch
 * from a 10,000-row replay buffer and uploads it, where the peer reuses fixed tensors.
 *
 * `peerOverPricelab` is the peer's milliseconds over pricelab's plain-DQN milliseconds at
 * the same batch size (above 1: pricelab is faster). The peer runs under the system
 * interpreter /usr/bin/python3 with Debian's python3-torch; without it the peer is
 * reported as skipped, with the reason and the fix.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DqnAgent, dqnConfigSchema } from '../agents/dqn.js';
import type { BackendChoice } from '../agents/tf-backend.js';
import { RandomStream } from '../core/random.js';
import { box, discrete } from '../env/spaces.js';

export interface BenchDqnOptions {
  /** Batch sizes to time (default [32, 256], the peer's). */
  readonly batchSizes?: readonly number[];
  /** Timed updates per batch size and variant, after 50 warm-up updates (default 1,000, the peer's). */
  readonly updates?: number;
  /** TensorFlow.js backend (default 'auto'). */
  readonly backend?: BackendChoice;
  /** Skip the PyTorch peer (default false). */
  readonly skipPeer?: boolean;
}

export interface DqnUpdateTiming {
  readonly batchSize: number;
  /** false: the peer's targets (max over the target network); true: Double DQN, pricelab's default. */
  readonly doubleDqn: boolean;
  readonly millisecondsPerUpdate: number;
  readonly updatesPerSecond: number;
}

export interface DqnBenchResult {
  readonly benchmark: 'dqn-update';
  readonly node: string;
  readonly cpu: string;
  readonly network: { readonly inputs: number; readonly hiddenLayers: readonly number[]; readonly actions: number; readonly loss: 'huber'; readonly optimizer: 'adam'; readonly learningRate: number; readonly maxGradNorm: number };
  /** The TensorFlow.js backend that ran pricelab's updates. */
  readonly backend: { readonly kind: string; readonly tfjsName: string; readonly version: string; readonly simd: boolean | null; readonly threads: number | null; readonly notes: readonly string[] };
  readonly warmupUpdates: number;
  /** Extra warm-up updates before the first timing. */
  readonly firstWarmupUpdates: number;
  readonly updates: number;
  readonly pricelab: readonly DqnUpdateTiming[];
  /** The PyTorch peer measured in this run, or why it was skipped. */
  readonly peer:
    | { readonly name: 'pytorch'; readonly interpreter: string; readonly script: string; readonly threads: 1; readonly results: readonly { readonly batchSize: number; readonly millisecondsPerUpdate: number; readonly updatesPerSecond: number }[] }
    | { readonly name: 'pytorch'; readonly skipped: string };
  /** Per batch size the peer ran: its milliseconds over pricelab's (plain DQN); above 1, pricelab is faster. */
  readonly peerOverPricelab: readonly { readonly batchSize: number; readonly ratio: number }[];
}

const inputs = 16;
const hiddenLayers = [64, 64];
const actions = 21;
const warmupUpdates = 50;
/** Extra warm-up before the first timing of the process, so that V8 has compiled the update's JavaScript. */
const firstWarmupUpdates = 500;
const replayRows = 10_000;
const pythonInterpreter = '/usr/bin/python3';

export async function benchDqn(options: BenchDqnOptions = {}): Promise<DqnBenchResult> {
  const batchSizes = options.batchSizes ?? [32, 256];
  const updates = options.updates ?? 1_000;
  const names = Array.from({ length: inputs }, (_, index) => `feature${index}`);
  const context = {
    observationSpace: box(names, names.map(() => 0), names.map(() => 1)),
    actionSpace: discrete(actions),
    ladder: Float64Array.from({ length: actions }, (_, index) => 1 + index),
    unitCost: 0.5,
    listPrice: actions,
    seed: 1,
  };

  const pricelab: DqnUpdateTiming[] = [];
  let backend: DqnBenchResult['backend'] | undefined;
  for (const batchSize of batchSizes) {
    for (const doubleDqn of [false, true]) {
      const config = dqnConfigSchema.parse({ hiddenLayers, batchSize, doubleDqn, learningRate: 1e-3, maxGradNorm: 10, replayCapacity: replayRows, backend: options.backend ?? 'auto' });
      const agent = await DqnAgent.create(config, context);
      try {
        const info = agent.backend;
        backend ??= { kind: info.kind, tfjsName: info.tfjsName, version: info.version, simd: info.wasm?.simd ?? null, threads: info.wasm?.threads ?? null, notes: info.notes };
        // The peer's data: uniform observations and rewards, no terminal transitions.
        const random = new RandomStream(1, 'bench-dqn');
        const observation = new Float32Array(inputs);
        const nextObservation = new Float32Array(inputs);
        for (let row = 0; row < replayRows; row++) {
          for (let feature = 0; feature < inputs; feature++) {
            observation[feature] = random.next();
            nextObservation[feature] = random.next();
          }
          agent.replay.add(observation, Math.floor(random.next() * actions), random.next(), nextObservation, false, 0.99);
        }
        const warmup = pricelab.length === 0 ? warmupUpdates + firstWarmupUpdates : warmupUpdates;
        for (let update = 0; update < warmup; update++) agent.train();
        const started = performance.now();
        for (let update = 0; update < updates; update++) agent.train();
        const millisecondsPerUpdate = (performance.now() - started) / updates;
        pricelab.push({ batchSize, doubleDqn, millisecondsPerUpdate, updatesPerSecond: 1000 / millisecondsPerUpdate });
      } finally {
        agent.dispose();
      }
    }
  }

  const peer: DqnBenchResult['peer'] = options.skipPeer ? { name: 'pytorch', skipped: 'skipped on request' } : await measurePeer();
  const peerOverPricelab =
    'results' in peer
      ? peer.results.flatMap((result) => {
          const ours = pricelab.find((timing) => timing.batchSize === result.batchSize && !timing.doubleDqn);
          return ours ? [{ batchSize: result.batchSize, ratio: result.millisecondsPerUpdate / ours.millisecondsPerUpdate }] : [];
        })
      : [];
  return {
    benchmark: 'dqn-update',
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    network: { inputs, hiddenLayers, actions, loss: 'huber', optimizer: 'adam', learningRate: 1e-3, maxGradNorm: 10 },
    backend: backend ?? { kind: 'none', tfjsName: 'none', version: 'none', simd: null, threads: null, notes: ['no batch size was timed'] },
    warmupUpdates,
    firstWarmupUpdates,
    updates,
    pricelab,
    peer,
    peerOverPricelab,
  };
}

async function measurePeer(): Promise<DqnBenchResult['peer']> {
  const script = findPeer();
  if (!script) return { name: 'pytorch', skipped: 'dqn_torch.py not found in a shared/bench/peers or ../shared/bench/peers folder above this file' };
  if (!existsSync(pythonInterpreter)) return { name: 'pytorch', skipped: `${pythonInterpreter} not found: the peer runs under the system python3 with Debian's python3-torch` };
  const output = await new Promise<{ stdout: string } | { error: string }>((done) => {
    execFile(pythonInterpreter, [script], { encoding: 'utf8', maxBuffer: 1024 * 1024, timeout: 10 * 60_000 }, (error, stdout, stderr) => {
      done(error ? { error: `${error.message.split('\n')[0] ?? ''}${stderr ? `: ${stderr.trim().split('\n').pop() ?? ''}` : ''}` } : { stdout });
    });
  });
  if ('error' in output) {
    if (/No module named 'torch'/.test(output.error)) return { name: 'pytorch', skipped: `PyTorch is not installed for ${pythonInterpreter}: run "apt-get install -y python3-torch" (Debian's package) and measure again` };
    return { name: 'pytorch', skipped: `${pythonInterpreter} ${script} failed: ${output.error}` };
  }
  // Its lines: "torch B 32 dqn update ms 1.603"
  const results = [...output.stdout.matchAll(/torch B (\d+) dqn update ms ([\d.]+)/g)].map((match) => {
    const millisecondsPerUpdate = Number(match[2]);
    return { batchSize: Number(match[1]), millisecondsPerUpdate, updatesPerSecond: 1000 / millisecondsPerUpdate };
  });
  if (results.length === 0) return { name: 'pytorch', skipped: `could not read the peer's timing lines from: ${output.stdout.trim().split('\n').pop() ?? '(no output)'}` };
  return { name: 'pytorch', interpreter: pythonInterpreter, script, threads: 1, results };
}

/** dqn_torch.py in shared/bench/peers or ../shared/bench/peers of a folder above this file (or a repository's own bench/peers). */
function findPeer(): string | undefined {
  let folder = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 8; depth++) {
    for (const peers of [join(folder, 'shared', 'bench', 'peers'), resolve(folder, '..', 'shared', 'bench', 'peers'), join(folder, 'bench', 'peers')]) {
      const candidate = join(peers, 'dqn_torch.py');
      if (existsSync(candidate)) return candidate;
    }
    const parent = dirname(folder);
    if (parent === folder) break;
    folder = parent;
  }
  return undefined;
}
