/**
 * `pricelab bench serving`: throughput and latency of the pricing endpoint under load
 * (autocannon, 64 connections), for a tabular (Q-learning) and a DQN policy, against a
 * bare express endpoint that parses the same body and returns a constant, all measured in
 * the same run. Each server runs in its own child process (one core), autocannon in this
 * one (the other core). During the tabular run the production alias is moved from v1 to
 * v2 and back: the run must finish with zero errors and zero non-2xx answers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { buildArtifact, embeddedScenarioOf, writeArtifact } from '../agents/artifact.js';
import { makeEnv } from '../env/env.js';
import { buildObservationFeatures } from '../env/observation.js';
import { agentFor } from '../experiments/setup.js';
import { train } from '../experiments/train.js';
import { loadScenario } from '../scenarios/load.js';
import { PolicyRegistry } from './registry.js';

export interface BenchServingOptions {
  readonly seconds?: number;
  readonly connections?: number;
  readonly onLine?: (line: string) => void;
}

export interface LoadFigures {
  readonly target: string;
  readonly requestsPerSecond: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
  readonly requests: number;
  readonly errors: number;
  readonly non2xx: number;
  readonly timeouts: number;
}

export interface ServingBenchResult {
  readonly scenario: string;
  readonly connections: number;
  readonly seconds: number;
  readonly bare: LoadFigures;
  readonly tabular: LoadFigures & { readonly ratioToBare: number; readonly promotionsDuringRun: number };
  readonly dqn: LoadFigures & { readonly ratioToBare: number };
  readonly goal: { readonly tabularRatioAtLeast: number; readonly met: boolean };
}

const here = dirname(fileURLToPath(import.meta.url));
const scenarioId = 'steady-state-v1';

/** A child node process running `script` with `args`; resolves with the URL it prints. */
function startServer(script: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let errors = '';
    child.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /(http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match?.[1]) resolve({ child, url: match[1] });
    });
    child.once('exit', (code) => reject(new Error(`the server exited (${code}) before listening: ${errors}`)));
  });
}

async function trainedArtifact(folder: string, kind: string, config: unknown, steps: number, seed: number): Promise<string> {
  const loaded = loadScenario(scenarioId);
  const env = makeEnv(loaded.scenario);
  const agent = await agentFor(env, kind, config, seed);
  await train(env, agent, { steps, seed });
  const artifact = buildArtifact(await agent.export(), {
    name: kind,
    scenario: embeddedScenarioOf(loaded),
    features: buildObservationFeatures(env.model),
    ladder: env.model.ladder,
    training: { steps },
    seeds: [seed],
  });
  agent.dispose();
  return writeArtifact(join(folder, `${kind}-${seed}`), artifact);
}

/** A real request body: the features of day 10 of an episode. */
function requestBody(): string {
  const env = makeEnv(loadScenario(scenarioId).scenario);
  let { observation } = env.reset({ seed: 42 });
  for (let day = 0; day < 10; day++) observation = env.step(5).observation;
  const space = env.observationSpace;
  const features = Object.fromEntries(space.featureNames.map((name, index) => [name, (observation[index] ?? 0) * (space.scales[index] ?? 1)]));
  const rivals = space.featureNames.flatMap((name, index) => (name.startsWith('rivalPrice:') ? [(observation[index] ?? 0) * (space.scales[index] ?? 1)] : []));
  return JSON.stringify({ features, lastPrice: features.lastPrice, competitorPrices: rivals, key: 'bench' });
}

function load(url: string, path: string, body: string, seconds: number, connections: number): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon({ url: `${url}${path}`, method: 'POST', headers: { 'content-type': 'application/json' }, body, connections, duration: seconds, pipelining: 1 }, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

function figures(target: string, result: autocannon.Result): LoadFigures {
  return {
    target,
    requestsPerSecond: result.requests.average,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    requests: result.requests.total,
    errors: result.errors,
    non2xx: result.non2xx,
    timeouts: result.timeouts,
  };
}

export async function benchServing(options: BenchServingOptions = {}): Promise<ServingBenchResult> {
  const seconds = options.seconds ?? 10;
  const connections = options.connections ?? 64;
  const say = options.onLine ?? (() => undefined);
  const home = mkdtempSync(join(tmpdir(), 'pricelab-bench-serving-'));
  const children: ChildProcess[] = [];
  try {
    say('training the policies (Q-learning twice, DQN once)...');
    const tabularV1 = await trainedArtifact(home, 'q-learning', {}, 20_000, 1);
    const tabularV2 = await trainedArtifact(home, 'q-learning', {}, 20_000, 2);
    const dqn = await trainedArtifact(home, 'dqn', {}, 2_000, 3);
    const registry = PolicyRegistry.open(home);
    registry.register(tabularV1, { name: 'tabular', reason: 'bench', actor: 'bench' });
    registry.register(tabularV2, { name: 'tabular', reason: 'bench', actor: 'bench' });
    registry.register(dqn, { name: 'deep', reason: 'bench', actor: 'bench' });
    registry.moveAlias('tabular', 1, 'production', { reason: 'bench', actor: 'bench' });
    registry.moveAlias('deep', 1, 'production', { reason: 'bench', actor: 'bench' });
    const configPath = join(home, 'serving.json');
    writeFileSync(configPath, JSON.stringify({ refreshMs: 100 }));
    const body = requestBody();
    const childEnv = { ...process.env, PRICELAB_HOME: home };

    const bareServer = await startServer(join(here, 'bare-endpoint.js'), [], childEnv);
    children.push(bareServer.child);
    say(`bare express endpoint: ${connections} connections for ${seconds} s...`);
    await load(bareServer.url, '/v1/policies/bare/price', body, Math.min(2, seconds), connections); // warm-up
    const bare = figures('bare express, constant price', await load(bareServer.url, '/v1/policies/bare/price', body, seconds, connections));
    bareServer.child.kill();

    const pricelab = await startServer(join(here, '..', 'cli', 'main.js'), ['serve', '--port', '0', '--config', configPath], childEnv);
    children.push(pricelab.child);
    say(`tabular policy, with the production alias moved during the run...`);
    await load(pricelab.url, '/v1/policies/tabular/price', body, Math.min(2, seconds), connections);
    let promotions = 0;
    const mover = setInterval(() => {
      const target = promotions % 2 === 0 ? 2 : 1;
      registry.moveAlias('tabular', target, 'production', { reason: 'promotion during the load benchmark', actor: 'bench' });
      promotions++;
    }, Math.max(500, (seconds * 1000) / 5));
    const tabularResult = await load(pricelab.url, '/v1/policies/tabular/price', body, seconds, connections);
    clearInterval(mover);
    const tabular = figures('tabular (Q-learning) policy', tabularResult);
    say('DQN policy...');
    await load(pricelab.url, '/v1/policies/deep/price', body, Math.min(2, seconds), connections);
    const deep = figures('DQN policy', await load(pricelab.url, '/v1/policies/deep/price', body, seconds, connections));
    registry.close();
    const ratio = tabular.requestsPerSecond / bare.requestsPerSecond;
    return {
      scenario: scenarioId,
      connections,
      seconds,
      bare,
      tabular: { ...tabular, ratioToBare: ratio, promotionsDuringRun: promotions },
      dqn: { ...deep, ratioToBare: deep.requestsPerSecond / bare.requestsPerSecond },
      goal: { tabularRatioAtLeast: 0.7, met: ratio >= 0.7 && tabular.errors === 0 && tabular.non2xx === 0 && deep.errors === 0 && deep.non2xx === 0 },
    };
  } finally {
    for (const child of children) child.kill();
    rmSync(home, { recursive: true, force: true });
  }
}
