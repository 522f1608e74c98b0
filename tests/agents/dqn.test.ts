/**
 * DQN (agents/dqn.ts) and its replay (agents/replay-buffer.ts), after tfjs-examples'
 * snake-dqn agent_test.js: the tensor count does not grow, the target network stays frozen
 * between syncs; plus known answers: the update equals tf's tape + tf.train.adam on the
 * same batch, the hand-written backward pass equals tf.grads, Double DQN targets and n-step
 * returns equal hand computations, and a small learning test on a market whose optimum is
 * known. Runs on the wasm backend (initialises reliably, and fast).
 */
import { readFileSync } from 'node:fs';
import { linearMarket as linearMarketFixture } from '../fixtures/linear-market.js';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type * as Tf from '@tensorflow/tfjs';
import { agentContextOf, type AgentContext, type Transition } from '../../agents/agent.js';
import { type DqnAgent, backward, dqnConfigSchema, dqnDefinition, forward, layersArtifactsOf, networkLayout, temporalDifferenceTargets, type DqnConfig } from '../../agents/dqn.js';
import { NStepAccumulator, ReplayBuffer, type ReplayBatch } from '../../agents/replay-buffer.js';
import { activeBackend, loadTensorflow, type TensorflowModule } from '../../agents/tf-backend.js';
import { makeEnv } from '../../env/env.js';
import { buildMarketModel } from '../../env/model.js';
import { RandomStream } from '../../core/random.js';
import { box, discrete } from '../../env/spaces.js';
import { evaluate, train } from '../../experiments/train.js';
import { createAgent as createAgentOfKind, restoreAgent } from '../../agents/registry.js';
import { loadScenario } from '../../scenarios/load.js';

let tf: TensorflowModule;
beforeAll(async () => {
  tf = (await loadTensorflow('wasm')).tf;
});

const featureCount = 16;
const actionCount = 21;

function syntheticContext(seed: number, features = featureCount, actions = actionCount): AgentContext {
  const names = Array.from({ length: features }, (_, index) => `feature${index}`);
  return {
    observationSpace: box(names, names.map(() => 0), names.map(() => 1)),
    actionSpace: discrete(actions),
    ladder: Float64Array.from({ length: actions }, (_, index) => 10 + index),
    unitCost: 5,
    listPrice: 20,
    seed,
  };
}

const config = (overrides: Partial<DqnConfig> = {}): DqnConfig => dqnConfigSchema.parse({ backend: 'wasm', ...overrides });

async function createAgent(overrides: Partial<DqnConfig> = {}, seed = 1, context = syntheticContext(seed)): Promise<DqnAgent> {
  return (await dqnDefinition.create(config(overrides), context)) as DqnAgent;
}

function randomObservations(random: RandomStream, count: number, features = featureCount): Float32Array {
  return Float32Array.from({ length: count * features }, () => random.next() * 1.5 - 0.25);
}

/** Fills the replay buffer with random transitions (uniform features, rewards, 5% terminal). */
function fillReplay(agent: DqnAgent, count: number, seed = 3): void {
  const random = new RandomStream(seed, 'test-replay');
  for (let index = 0; index < count; index++) {
    agent.replay.add(randomObservations(random, 1), Math.floor(random.next() * actionCount), random.next(), randomObservations(random, 1), random.next() < 0.05, 0.99);
  }
}

const maxAbsoluteDifference = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  expect(a.length).toBe(b.length);
  let largest = 0;
  for (let index = 0; index < a.length; index++) largest = Math.max(largest, Math.abs(a[index]! - b[index]!));
  return largest;
};

describe('the config', () => {
  it('the shared config of scenarios/agent-configs/ is a valid DQN config', () => {
    const shared: unknown = JSON.parse(readFileSync(new URL('../../scenarios/agent-configs/dqn-steady-state-v1.json', import.meta.url), 'utf8'));
    const parsed = dqnConfigSchema.safeParse(shared);
    expect(parsed.error?.issues ?? []).toEqual([]);
  });

  it('docs/agents/dqn.md documents every field, each with its default', () => {
    const page = readFileSync(new URL('../../docs/agents/dqn.md', import.meta.url), 'utf8');
    const defaults = dqnConfigSchema.parse({}) as Record<string, unknown>;
    for (const field of Object.keys(dqnConfigSchema.shape)) {
      const row = page.split('\n').find((line) => line.startsWith(`| \`${field}\` |`));
      expect({ field, documented: row !== undefined }).toEqual({ field, documented: true });
      expect({ field, defaultShown: row?.split('|')[2]?.replace(/[`\s]/g, '') }).toEqual({ field, defaultShown: JSON.stringify(defaults[field]) });
    }
  });
});

describe('the TensorFlow.js backend', () => {
  it('runs wasm with SIMD, from the package folder on disk', () => {
    const backend = activeBackend();
    expect(backend?.kind).toBe('wasm');
    expect(backend?.wasm?.simd).toBe(true);
    expect(backend?.wasm?.binaryFolder).toMatch(/tfjs-backend-wasm/);
  });

  it('refuses to switch to another named backend in the same process, saying which one is active', async () => {
    await expect(loadTensorflow('cpu')).rejects.toThrow(/"wasm" already active/);
    await expect(loadTensorflow('auto')).resolves.toHaveProperty('backend.kind', 'wasm');
  });
});

describe('memory', () => {
  it('makes no tensor grow across 50 updates, and dispose frees every tensor and variable', async () => {
    const baseline = tf.memory().numTensors;
    const agent = await createAgent({ dueling: true });
    fillReplay(agent, 500);
    agent.train();
    const held = tf.memory().numTensors;
    for (let update = 0; update < 50; update++) agent.train();
    expect(tf.memory().numTensors).toBe(held);
    agent.act(randomObservations(new RandomStream(1, 'x'), 1), { explore: false });
    agent.actBatch(randomObservations(new RandomStream(1, 'x'), 8), 8, { explore: true }, new Int32Array(8));
    agent.syncTarget();
    await agent.export();
    expect(tf.memory().numTensors).toBe(held);
    agent.dispose();
    expect(tf.memory().numTensors).toBe(baseline);
    expect(() => agent.act(new Float32Array(featureCount), { explore: false })).toThrow(/disposed/);
  });
});

describe('the target network', () => {
  it('stays frozen between syncs and equals the online network after a (hard) sync', async () => {
    const agent = await createAgent();
    fillReplay(agent, 500);
    const frozen = agent.targetParameterValues();
    for (let update = 0; update < 20; update++) agent.train();
    expect(agent.targetParameterValues()).toEqual(frozen);
    expect(maxAbsoluteDifference(agent.parameterValues(), frozen)).toBeGreaterThan(1e-4);
    agent.syncTarget();
    expect(agent.targetParameterValues()).toEqual(agent.parameterValues());
    agent.train();
    expect(maxAbsoluteDifference(agent.parameterValues(), agent.targetParameterValues())).toBeGreaterThan(0);
    agent.dispose();
  });

  it('is synced by observe() exactly every targetUpdateInterval steps once learning has started', async () => {
    const agent = await createAgent({ learningStarts: 40, trainFrequency: 1, targetUpdateInterval: 25, batchSize: 8 });
    const random = new RandomStream(5, 'test-steps');
    let target = agent.targetParameterValues();
    const changedAt: number[] = [];
    for (let step = 1; step <= 120; step++) {
      agent.observe({ observation: randomObservations(random, 1), action: step % actionCount, reward: random.next(), nextObservation: randomObservations(random, 1), terminated: false, truncated: step % 30 === 0 });
      const now = agent.targetParameterValues();
      if (maxAbsoluteDifference(now, target) > 0) changedAt.push(step);
      target = now;
    }
    expect(changedAt).toEqual([50, 75, 100]);
    expect(agent.counters).toEqual({ steps: 120, updates: 80, targetSyncs: 3 });
    agent.dispose();
  });

  it('moves tau of the way with a soft (Polyak) sync', async () => {
    const agent = await createAgent({ tau: 0.25 });
    fillReplay(agent, 200);
    const before = agent.targetParameterValues();
    for (let update = 0; update < 5; update++) agent.train();
    const online = agent.parameterValues();
    agent.syncTarget();
    const expected = online.map((value, index) => 0.25 * value + 0.75 * before[index]!);
    expect(maxAbsoluteDifference(agent.targetParameterValues(), expected)).toBeLessThan(1e-6);
    agent.dispose();
  });
});

describe('export and restore (TF.js Layers format)', () => {
  it.each([false, true])('give the same greedy actions on 100 random observations (dueling: %s)', async (dueling) => {
    const context = syntheticContext(4);
    const agent = await createAgent({ dueling }, 4, context);
    fillReplay(agent, 500);
    for (let update = 0; update < 30; update++) agent.train();
    const exported = await agent.export();
    expect(Object.keys(exported.files).sort()).toEqual(['dqn.json', 'model.json', 'weights.bin']);
    const modelJson = JSON.parse(new TextDecoder().decode(exported.files['model.json'])) as Tf.io.ModelJSON;
    expect(modelJson.format).toBe('layers-model');
    expect(modelJson.weightsManifest[0]?.paths).toEqual(['weights.bin']);

    const observations = randomObservations(new RandomStream(9, 'test-observations'), 100);
    const original = new Int32Array(100);
    agent.actBatch(observations, 100, { explore: false }, original);
    for (let row = 0; row < 100; row++) expect(agent.act(observations.subarray(row * featureCount, (row + 1) * featureCount), { explore: false })).toBe(original[row]);

    const restored = (await dqnDefinition.restore(exported, context)) as DqnAgent;
    const fromRestore = new Int32Array(100);
    restored.actBatch(observations, 100, { explore: false }, fromRestore);
    expect(fromRestore).toEqual(original);
    expect(restored.counters).toEqual(agent.counters);

    const model = await tf.loadLayersModel(tf.io.fromMemory(layersArtifactsOf(exported.files)));
    const predicted = tf.tidy(() => tf.argMax(model.predict(tf.tensor2d(observations, [100, featureCount])) as Tf.Tensor2D, 1));
    expect(Int32Array.from(predicted.dataSync())).toEqual(original);
    predicted.dispose();
    model.dispose();
    agent.dispose();
    restored.dispose();
  });

  it('refuses an artifact made for another market, listing every mismatch', async () => {
    const agent = await createAgent();
    const exported = await agent.export();
    await expect(dqnDefinition.restore(exported, syntheticContext(1, 5, 7))).rejects.toThrow(/featureCount: expected 5[\s\S]*actionCount: expected 7/);
    agent.dispose();
  });

  it('restores an artifact written before the retired settings went, whatever their values, and it prices and learns as before', async () => {
    const context = syntheticContext(5);
    const agent = await createAgent({ hiddenLayers: [8] }, 5, context);
    fillReplay(agent, 200);
    for (let update = 0; update < 10; update++) agent.train();
    const exported = await agent.export();
    const rewritten = (retired: Record<string, number>) => {
      const state = JSON.parse(new TextDecoder().decode(exported.files['dqn.json'])) as { config: Record<string, unknown> };
      Object.assign(state.config, retired);
      return { ...exported, config: state.config, files: { ...exported.files, 'dqn.json': new TextEncoder().encode(JSON.stringify(state)) } };
    };
    const observations = randomObservations(new RandomStream(10, 'test-observations'), 50);
    const greedy = async (artifact: typeof exported) => {
      const restored = (await dqnDefinition.restore(artifact, context)) as DqnAgent;
      const actions = new Int32Array(50);
      restored.actBatch(observations, 50, { explore: false }, actions);
      expect(Object.keys(restored.config)).not.toContain('expectile');
      restored.observe({ observation: observations.subarray(0, featureCount), action: 1, reward: 1, nextObservation: observations.subarray(featureCount, 2 * featureCount), terminated: false, truncated: false });
      restored.dispose();
      return actions;
    };
    const current = await greedy(exported);
    expect(await greedy(rewritten({ expectile: 0.5, explorationHold: 1, explorationHoldExponent: 2, stockPotentialDays: 6 }))).toEqual(current);
    expect(await greedy(rewritten({ expectile: 0.3, explorationHold: 20, explorationHoldExponent: 0, stockPotentialDays: 7 }))).toEqual(current);
    agent.dispose();
  });
});

describe('retired settings (expectile, explorationHold, explorationHoldExponent, stockPotentialDays)', () => {
  it('are no fields of the schema, nor in the shipped configs or the docs table', () => {
    const retired = ['expectile', 'explorationHold', 'explorationHoldExponent', 'stockPotentialDays'];
    expect(Object.keys(dqnConfigSchema.shape).filter((field) => retired.includes(field))).toEqual([]);
    const page = readFileSync(new URL('../../docs/agents/dqn.md', import.meta.url), 'utf8');
    expect(retired.filter((field) => page.split('\n').some((line) => line.startsWith(`| \`${field}\` |`)))).toEqual([]);
  });

  it('a config (a file, an experiment, a phased finale) may carry one at its old default, which is dropped; any other value is a config error naming it', async () => {
    const neutral = dqnDefinition.configSchema.safeParse({ backend: 'wasm', expectile: 0.5, explorationHold: 1, explorationHoldExponent: 2, stockPotentialDays: 6 });
    expect(neutral.success && neutral.data).toEqual(config());
    const set = dqnDefinition.configSchema.safeParse({ expectile: 0.3, explorationHold: 20 });
    expect(set.error?.issues.map((issue) => [issue.path, issue.message])).toEqual([
      [['expectile'], expect.stringMatching(/^expectile was removed .* expected it absent or 0\.5, its old default, found 0\.3$/)],
      [['explorationHold'], expect.stringMatching(/^explorationHold was removed .* found 20$/)],
    ]);
    await expect(createAgentOfKind('dqn', { stockPotentialDays: 7 }, syntheticContext(1))).rejects.toMatchObject({ kind: 'config', problems: [{ path: ['config', 'stockPotentialDays'] }] });
  });

  it('a phased artifact whose DQN finale carries them at their old defaults restores and prices as before; another value is refused naming it', async () => {
    const model = buildMarketModel(loadScenario('steady-state-v1').scenario);
    const env = makeEnv(model);
    const context = agentContextOf(model, env.observationSpace, env.actionSpace, 1);
    const agent = await createAgentOfKind('phased', { finaleDays: 21, base: { kind: 'fixed-price', config: { price: 17.99 } }, finale: { kind: 'dqn', config: { hiddenLayers: [8], backend: 'wasm' } } }, context);
    const exported = await agent.export();
    const withRetired = (retired: Record<string, number>) => {
      const phased = exported.config as { finale: { kind: string; config: Record<string, unknown> } };
      const state = JSON.parse(new TextDecoder().decode(exported.files['finale.dqn.json'])) as { config: Record<string, unknown> };
      const config = { ...state.config, ...retired };
      return { ...exported, config: { ...phased, finale: { ...phased.finale, config } }, files: { ...exported.files, 'finale.dqn.json': new TextEncoder().encode(JSON.stringify({ ...state, config })) } };
    };
    const restored = await restoreAgent(withRetired({ expectile: 0.5, explorationHold: 1, explorationHoldExponent: 2, stockPotentialDays: 6 }), context);
    const prices = (priced: Pick<DqnAgent, 'act'>) => evaluate(env, priced, { episodes: 1, seed: 8, recordSteps: true })[0]!.steps.map((step) => step.price);
    expect(prices(restored)).toEqual(prices(agent));
    await expect(restoreAgent(withRetired({ expectile: 0.3 }), context)).rejects.toMatchObject({ kind: 'config', problems: [{ path: ['config', 'finale', 'config', 'expectile'] }] });
    agent.dispose();
    restored.dispose();
  });
});

describe('determinism', () => {
  it('gives the same actions and the same weights after 300 updates from the same seed', async () => {
    const run = async () => {
      const agent = await createAgent({ learningStarts: 100, trainFrequency: 1, targetUpdateInterval: 50, nSteps: 3, totalSteps: 400 }, 21, contextOfEnv(linearEnv(), 21));
      const env = linearEnv();
      await train(env, agent, { steps: 400, seed: 8 });
      const actions = evaluate(env, agent, { episodes: 1, seed: 90, recordSteps: true }).flatMap((episode) => episode.steps.map((step) => step.price));
      const weights = agent.parameterValues();
      expect(agent.counters.updates).toBe(300);
      agent.dispose();
      return { actions, weights };
    };
    const first = await run();
    const second = await run();
    expect(second.actions).toEqual(first.actions);
    expect(second.weights).toEqual(first.weights);
  });

  it('exports byte-identical artifacts when trained twice alike (dueling head, policy average, n-step)', async () => {
    const exportedFiles = async () => {
      const agent = await createAgent({ hiddenLayers: [12, 8], dueling: true, policyAveraging: 0.05, learningStarts: 60, trainFrequency: 2, targetUpdateInterval: 40, nSteps: 3, totalSteps: 300 }, 22, contextOfEnv(linearEnv(), 22));
      await train(linearEnv(), agent, { steps: 300, seed: 9 });
      expect(agent.counters.updates).toBe(120);
      const exported = await agent.export();
      agent.dispose();
      return exported.files;
    };
    const first = await exportedFiles();
    const second = await exportedFiles();
    expect(Object.keys(first).sort()).toEqual(['dqn.json', 'model.json', 'weights.bin']);
    for (const name of Object.keys(first)) expect(Buffer.from(second[name]!).equals(Buffer.from(first[name]!)), name).toBe(true);
  });
});

describe('the update, against known answers', () => {
  it('Double DQN targets equal a hand computation (and plain DQN takes the max of the target network)', () => {
    tf.tidy(() => {
      const rewards = tf.tensor1d([1, 2, -1]);
      const discounts = tf.tensor1d([0.9, 0, 0.81]); // the second transition terminated
      const nextQOnline = tf.tensor2d([[1, 5, 2], [0, 0, 9], [3, 1, 2]]);
      const nextQTarget = tf.tensor2d([[10, 20, 30], [7, 8, 9], [4, 6, 5]]);
      // a* = [1, 2, 0]  ->  Q_target(s', a*) = [20, 9, 4]
      const double = temporalDifferenceTargets(tf, rewards, discounts, nextQTarget, nextQOnline).arraySync();
      expect(double[0]).toBeCloseTo(1 + 0.9 * 20, 5);
      expect(double[1]).toBeCloseTo(2, 5);
      expect(double[2]).toBeCloseTo(-1 + 0.81 * 4, 5);
      // max_a Q_target(s', a) = [30, 9, 6]
      const plain = temporalDifferenceTargets(tf, rewards, discounts, nextQTarget, null).arraySync();
      expect(plain[0]).toBeCloseTo(1 + 0.9 * 30, 5);
      expect(plain[1]).toBeCloseTo(2, 5);
      expect(plain[2]).toBeCloseTo(-1 + 0.81 * 6, 5);
    });
  });

  it('the hand-written backward pass equals tf.grads', () => {
    tf.tidy(() => {
      const layout = networkLayout(5, 4, [6, 7], false);
      const random = new RandomStream(2, 'test-gradients');
      const tensorOf = (shape: readonly number[]) => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => random.next() * 2 - 1), [...shape]);
      const weights = layout.shapes.map(tensorOf);
      const observations = tensorOf([9, 5]) as Tf.Tensor2D;
      const dq = tensorOf([9, 4]) as Tf.Tensor2D;
      const reference = tf.grads((...parameters: Tf.Tensor[]) => tf.sum(tf.mul(forward(tf, observations, parameters).q, dq)))(weights);
      const handWritten = backward(tf, forward(tf, observations, weights).inputs, weights, dq);
      handWritten.forEach((gradient, index) => {
        expect(gradient.shape).toEqual(reference[index]!.shape);
        expect(maxAbsoluteDifference(gradient.dataSync(), reference[index]!.dataSync())).toBeLessThan(1e-5);
      });
    });
  });

  it.each([
    { clipped: false, dueling: false, huberDelta: 1 },
    { clipped: true, dueling: false, huberDelta: 1 },
    { clipped: true, dueling: true, huberDelta: 1 },
    { clipped: false, dueling: false, huberDelta: 0.4 },
    { clipped: true, dueling: false, huberDelta: 30 },
  ])('one update equals tf.variableGrads + tf.train.adam on the same batch (%o)', async ({ clipped, dueling, huberDelta }) => {
    const agent = await createAgent({ learningRate: 0.01, maxGradNorm: clipped ? 0.05 : 1e6, dueling, gamma: 0.9, huberDelta });
    const layout = agent.layout;
    const random = new RandomStream(6, 'test-batch');
    const batch: ReplayBatch = agent.replay.createBatch(32);
    batch.observations.set(randomObservations(random, 32));
    batch.nextObservations.set(randomObservations(random, 32));
    for (let row = 0; row < 32; row++) {
      batch.actions[row] = Math.floor(random.next() * actionCount);
      batch.rewards[row] = random.next() * 4 - 2; // errors on both sides of Huber's kink
      batch.bootstrapDiscounts[row] = row % 7 === 0 ? 0 : 0.9;
    }
    agent.syncTarget();
    const start = agent.parameterValues();

    // The reference: tf's tape over the raw parameters, tf's Adam (same bias correction and epsilon as PyTorch's).
    let offset = 0;
    const variables = layout.shapes.map((shape, index) => {
      const size = layout.sizes[index]!;
      const variable = tf.variable(tf.tensor(start.slice(offset, offset + size), [...shape]));
      offset += size;
      return variable;
    });
    const fold = dueling ? duelingFold(actionCount) : null;
    const network = (parameters: readonly Tf.Tensor[]) => {
      if (!fold) return parameters;
      const head = parameters.length - 2;
      return [...parameters.slice(0, head), tf.matMul(parameters[head] as Tf.Tensor2D, fold), tf.sum(tf.mul(tf.reshape(parameters[head + 1]!, [-1, 1]), fold), 0)];
    };
    const targetWeights = network(variables.map((variable) => tf.clone(variable)));
    const chosenAndTargets = () => {
      const x = tf.tensor2d(batch.observations, [32, featureCount]);
      const next = tf.tensor2d(batch.nextObservations, [32, featureCount]);
      const q = forward(tf, x, network(variables)).q;
      const chosen = tf.sum(tf.mul(q, tf.cast(tf.oneHot(tf.tensor1d(batch.actions, 'int32'), actionCount), 'float32')), 1);
      const targets = temporalDifferenceTargets(tf, tf.tensor1d(batch.rewards), tf.tensor1d(batch.bootstrapDiscounts), forward(tf, next, targetWeights).q, forward(tf, next, network(variables)).q);
      return { chosen, targets };
    };
    const { value: referenceLoss, grads } = tf.variableGrads(() => {
      const { chosen, targets } = chosenAndTargets();
      return tf.mean(tf.losses.huberLoss(targets, chosen, undefined, huberDelta, tf.Reduction.NONE)) as Tf.Scalar;
    }, variables);
    const names = variables.map((variable) => variable.name);
    const norm = Math.sqrt(names.reduce((sum, name) => sum + tf.sum(tf.square(grads[name]!)).dataSync()[0]!, 0));
    const scale = clipped ? 0.05 / (norm + 1e-6) : 1;
    expect(clipped ? norm > 0.05 : norm < 1e6).toBe(true);
    const optimizer = tf.train.adam(0.01, 0.9, 0.999, 1e-8);
    optimizer.applyGradients(names.map((name) => ({ name, tensor: tf.mul(grads[name]!, scale) })));
    optimizer.dispose();

    const loss = agent.update(batch);
    expect(loss).toBeCloseTo(referenceLoss.dataSync()[0]!, 5);
    expect(agent.lastGradientNorm).toBeCloseTo(norm, 4);
    const expected = Float32Array.from(variables.flatMap((variable) => Array.from(variable.dataSync())));
    // float32: the squared errors of a large delta round a little further apart (2.4e-6 measured)
    expect(maxAbsoluteDifference(agent.parameterValues(), expected)).toBeLessThan(huberDelta > 1 ? 5e-6 : 2e-6);
    tf.dispose([...variables, ...targetWeights, referenceLoss, ...Object.values(grads)]);
    fold?.dispose();
    agent.dispose();
  });
});

function duelingFold(actions: number): Tf.Tensor2D {
  const values: number[][] = [Array.from({ length: actions }, () => 1)];
  for (let advantage = 0; advantage < actions; advantage++) values.push(Array.from({ length: actions }, (_, action) => (advantage === action ? 1 : 0) - 1 / actions));
  return tf.tensor2d(values);
}

describe('replay and n-step returns', () => {
  const observation = (value: number) => Float32Array.of(value);
  const step = (from: number, reward: number, ends: Partial<Pick<Transition, 'terminated' | 'truncated'>> = {}): Transition => ({
    observation: observation(from),
    action: from,
    reward,
    nextObservation: observation(from + 1),
    terminated: ends.terminated ?? false,
    truncated: ends.truncated ?? false,
  });

  function accumulate(n: number, gamma: number, steps: Transition[]) {
    const stored: { from: number; reward: number; next: number; done: boolean; discount: number }[] = [];
    const accumulator = new NStepAccumulator(n, gamma, (obs, _action, reward, next, done, discount) => stored.push({ from: obs[0]!, reward, next: next[0]!, done, discount }));
    for (const transition of steps) accumulator.push(transition);
    return { stored, accumulator };
  }

  it('3-step returns with a termination inside the window: no bootstrap past it', () => {
    // states 0 -> 1 -> 2 -> 3 -> 4 -> 5, rewards 1, 2, 4, 8, 16; the market ends on the fifth step.
    const { stored, accumulator } = accumulate(3, 0.5, [step(0, 1), step(1, 2), step(2, 4), step(3, 8), step(4, 16, { terminated: true })]);
    expect(stored).toEqual([
      { from: 0, reward: 1 + 0.5 * 2 + 0.25 * 4, next: 3, done: false, discount: 0.125 },
      { from: 1, reward: 2 + 0.5 * 4 + 0.25 * 8, next: 4, done: false, discount: 0.125 },
      { from: 2, reward: 4 + 0.5 * 8 + 0.25 * 16, next: 5, done: true, discount: 0.125 },
      { from: 3, reward: 8 + 0.5 * 16, next: 5, done: true, discount: 0.25 },
      { from: 4, reward: 16, next: 5, done: true, discount: 0.5 },
    ]);
    expect(accumulator.openEpisodes).toBe(0);
  });

  it('3-step returns at a truncation: the last starts bootstrap from the final observation, with the discount of their steps', () => {
    const { stored } = accumulate(3, 0.5, [step(0, 1), step(1, 2), step(2, 4, { truncated: true })]);
    expect(stored).toEqual([
      { from: 0, reward: 1 + 0.5 * 2 + 0.25 * 4, next: 3, done: false, discount: 0.125 },
      { from: 1, reward: 2 + 0.5 * 4, next: 3, done: false, discount: 0.25 },
      { from: 2, reward: 4, next: 3, done: false, discount: 0.5 },
    ]);
  });

  it('keeps interleaved markets apart (a vector env), matching each step to the episode it continues', () => {
    // market A: 0 -> 1 -> 2, market B: 10 -> 11 -> 12, steps interleaved A, B, A, B.
    const { stored } = accumulate(2, 0.5, [step(0, 1), step(10, 100), step(1, 2), step(11, 200)]);
    expect(stored).toEqual([
      { from: 0, reward: 1 + 0.5 * 2, next: 2, done: false, discount: 0.25 },
      { from: 10, reward: 100 + 0.5 * 200, next: 12, done: false, discount: 0.25 },
    ]);
  });

  it('reward centering: rbar follows the scaled reward, and a sampled k-step row loses rbar (1 + gamma + ... + gamma^{k-1})', async () => {
    // Constant reward 3, scale 2: rbar = 6 after the first step; a 2-step row sums 6 + 0.5 * 6 = 9,
    // a truncated 1-step row 6; centred, both are 0. Without centering they stay 9 and 6.
    for (const centering of [0.5, 0]) {
      const agent = await createAgent({ rewardCentering: centering, rewardScale: 2, gamma: 0.5, nSteps: 2, batchSize: 16, learningStarts: 1_000 }, 1, syntheticContext(1, 1, 3));
      for (const transition of [step(0, 3), step(1, 3), step(2, 3), step(3, 3, { truncated: true })]) agent.observe(transition);
      expect(agent.averageReward).toBe(centering > 0 ? 6 : 0);
      expect(Array.from(agent.replay.stepCounts.subarray(0, agent.replay.size))).toEqual([2, 2, 2, 1]);
      const seen: number[] = [];
      const update = vi.spyOn(agent, 'update').mockImplementation((batch) => {
        seen.push(...Array.from(batch.rewards).map((reward, slot) => reward - (centering > 0 ? 0 : batch.stepCounts[slot] === 2 ? 9 : 6)));
        return 0;
      });
      agent.train();
      expect(update).toHaveBeenCalledOnce();
      for (const reward of seen) expect(reward).toBeCloseTo(0, 5);
      agent.dispose();
    }
  });

  it('with n = 1 stores each step as it comes; the batch carries 0 where the episode terminated, else the discount', () => {
    const buffer = new ReplayBuffer(3, 1);
    const accumulator = new NStepAccumulator(1, 0.9, (obs, action, reward, next, done, discount) => buffer.add(obs, action, reward, next, done, discount));
    for (const transition of [step(0, 1), step(1, 2), step(2, 3, { terminated: true }), step(3, 4)]) accumulator.push(transition);
    expect(buffer.size).toBe(3);
    expect(Array.from(buffer.observations)).toEqual([3, 1, 2]); // the ring overwrote the oldest row
    expect(Array.from(buffer.dones)).toEqual([0, 0, 1]);
    const batch = buffer.createBatch(64);
    buffer.sample(new RandomStream(1, 'test-sample'), batch);
    for (let slot = 0; slot < 64; slot++) {
      const row = batch.indices[slot]!;
      expect(batch.observations[slot]).toBe(buffer.observations[row]);
      expect(batch.bootstrapDiscounts[slot]).toBeCloseTo(row === 2 ? 0 : 0.9, 6);
    }
    expect(new Set(batch.indices).size).toBe(3);
  });
});

const linearMarket = linearMarketFixture('linear-dqn-test-v1');
const linearEnv = () => makeEnv(buildMarketModel(linearMarket));
const contextOfEnv = (env: ReturnType<typeof linearEnv>, seed: number) => agentContextOf(env.model, env.observationSpace, env.actionSpace, seed);

describe('DQN learns a linear-demand market (q = 100 - 4p, c = 6: optimum 15.5)', () => {
  // Budget: 5,000 steps (100 episodes of 50 days), 4,800 updates at batch 32; a 2x32 network,
  // gamma 0 (the market has no state the price changes), rewards scaled to about 3.6 per day.
  it.each([1, 2, 3])('prices at the optimum on every greedy day after 5,000 steps (seed %i)', async (seed) => {
    const env = linearEnv();
    const agent = (await dqnDefinition.create(
      config({ hiddenLayers: [32, 32], learningRate: 5e-4, gamma: 0, rewardScale: 0.01, learningStarts: 200, trainFrequency: 1, batchSize: 32, totalSteps: 5_000, explorationFraction: 0.5, targetUpdateInterval: 100 }),
      contextOfEnv(env, seed),
    )) as DqnAgent;
    await train(env, agent, { steps: 5_000, seed });
    for (const episode of evaluate(env, agent, { episodes: 2, seed: 500 })) expect(episode.kpis.averagePrice).toBeCloseTo(15.5, 9);
    agent.dispose();
  });
});
