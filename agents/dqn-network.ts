/**
 * DQN's network: the ReLU MLP's parameter layout, its forward pass, the hand-written
 * backward pass, the temporal-difference targets, the dueling fold, the seeded start and
 * Adam. Pure functions of TF.js core ops (no Layers API, no tape); the agent
 * (agents/dqn.ts) owns the variables and calls these inside its tf.tidy.
 *
 * Layout: observation (featureCount normalised features) -> dense ReLU layers (hiddenLayers)
 * -> one Q-value per ladder price (actionCount). Every trained parameter lives in one flat
 * vector, in Layers order (kernel [in, out], then bias [out], per layer), so Adam is a dozen
 * element-wise ops instead of a dozen per weight tensor. Kernels start Glorot uniform from
 * the 'weights' stream of the agent's seed, biases at zero.
 *
 * Dueling head: the head emits a value V and advantages A_i, Q_i = V + A_i - mean_j A_j.
 * That is linear in (V, A), so the head's raw kernel W (hidden x (1 + actions)) folds into a
 * plain Q head W M with a constant matrix M: the network acted with and exported is always
 * a plain MLP, and gradients reach W through M's transpose.
 *
 * Backward pass: two matrix products per layer (see `backward`; a test checks it against
 * tf.grads). Transposes are explicit because the wasm backend sends only untransposed
 * products to XNNPACK.
 *
 * Adam (PyTorch's form): m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2,
 *   theta -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + 1e-8)
 */
import type * as Tf from '@tensorflow/tfjs';
import { RandomStream } from '../core/random.js';
import type { TensorflowModule } from './tf-backend.js';

export interface NetworkLayout {
  readonly featureCount: number;
  readonly actionCount: number;
  readonly dueling: boolean;
  /** Trained parameters in Layers order (kernel [in, out], then bias [out], per layer); the dueling head has 1 + actionCount outputs. */
  readonly shapes: readonly (readonly number[])[];
  readonly sizes: readonly number[];
  readonly parameterCount: number;
  /** Units of each dense layer of the plain MLP acted with and exported (the head: actionCount). */
  readonly policyUnits: readonly number[];
}

export function networkLayout(featureCount: number, actionCount: number, hiddenLayers: readonly number[], dueling: boolean): NetworkLayout {
  const units = [...hiddenLayers, dueling ? actionCount + 1 : actionCount];
  const shapes: number[][] = [];
  let inputs = featureCount;
  for (const outputs of units) {
    shapes.push([inputs, outputs], [outputs]);
    inputs = outputs;
  }
  const sizes = shapes.map((shape) => shape.reduce((product, length) => product * length, 1));
  return { featureCount, actionCount, dueling, shapes, sizes, parameterCount: sizes.reduce((sum, size) => sum + size, 0), policyUnits: [...hiddenLayers, actionCount] };
}

/** Q-values of a batch through the plain ReLU MLP `weights` ([kernel, bias] per layer), and each layer's input. */
export function forward(tf: TensorflowModule, observations: Tf.Tensor2D, weights: readonly Tf.Tensor[]): { inputs: Tf.Tensor2D[]; q: Tf.Tensor2D } {
  const layers = weights.length / 2;
  const inputs: Tf.Tensor2D[] = [];
  let activations = observations;
  for (let layer = 0; layer < layers; layer++) {
    inputs.push(activations);
    // The same fused op a Layers Dense layer runs: the exported model computes these very numbers.
    activations = tf.fused.matMul({ a: activations, b: weights[2 * layer]!, bias: weights[2 * layer + 1]!, activation: layer < layers - 1 ? 'relu' : 'linear' }) as Tf.Tensor2D;
  }
  return { inputs, q: activations };
}

/**
 * Gradients of the loss with respect to every weight of the MLP, given dLoss/dQ, by the
 * chain rule (what tf.grads computes; a test checks they agree). For layer l, whose input
 * is x_l (the ReLU output of layer l - 1) and whose output gradient is g_l:
 *   d kernel_l = x_l^T g_l,   d bias_l = sum over the batch of g_l,
 *   g_{l-1}    = (g_l kernel_l^T) * [x_l > 0]     (ReLU passes gradient where it was active)
 */
export function backward(tf: TensorflowModule, inputs: readonly Tf.Tensor2D[], weights: readonly Tf.Tensor[], dq: Tf.Tensor2D): Tf.Tensor[] {
  const gradients: Tf.Tensor[] = [];
  let upstream = dq;
  for (let layer = inputs.length - 1; layer >= 0; layer--) {
    const input = inputs[layer]!;
    // Explicit transposes: wasm runs untransposed products on XNNPACK, transposed ones in a naive loop.
    gradients[2 * layer] = tf.matMul(tf.transpose(input), upstream);
    gradients[2 * layer + 1] = tf.sum(upstream, 0);
    if (layer > 0) upstream = tf.mul(tf.matMul(upstream, tf.transpose(weights[2 * layer] as Tf.Tensor2D)), tf.step(input));
  }
  return gradients;
}

/**
 * Regression targets y = r + bootstrapDiscount * Q_target(s', a*), with a* the online
 * network's greedy next action (Double DQN), or the target network's own when
 * `nextQOnline` is null (max over Q_target: plain DQN).
 */
export function temporalDifferenceTargets(
  tf: TensorflowModule,
  rewards: Tf.Tensor1D,
  bootstrapDiscounts: Tf.Tensor1D,
  nextQTarget: Tf.Tensor2D,
  nextQOnline: Tf.Tensor2D | null,
): Tf.Tensor1D {
  // oneHot stays int32 and is cast: wasm's OneHot with dtype 'float32' writes integer bits (tfjs 4.22).
  const nextValues = nextQOnline === null ? tf.max(nextQTarget, 1) : tf.sum(tf.mul(nextQTarget, tf.cast(tf.oneHot(tf.argMax(nextQOnline, 1), nextQTarget.shape[1]), 'float32')), 1);
  return tf.add(rewards, tf.mul(bootstrapDiscounts, nextValues));
}

/** The dueling fold M, (1 + actions) x actions, and its transpose (what gradients go through). */
export interface DuelingFold {
  readonly fold: Tf.Tensor2D;
  readonly unfold: Tf.Tensor2D;
}

/** M and M^T for `actionCount` prices: Q = [V, A] M = V + A - mean(A). The caller disposes both. */
export function duelingFold(tf: TensorflowModule, actionCount: number): DuelingFold {
  const values = new Float32Array((actionCount + 1) * actionCount);
  for (let action = 0; action < actionCount; action++) {
    values[action] = 1; // row 0: the value stream adds to every Q
    for (let advantage = 0; advantage < actionCount; advantage++) values[(1 + advantage) * actionCount + action] = (advantage === action ? 1 : 0) - 1 / actionCount;
  }
  const fold = tf.tensor2d(values, [actionCount + 1, actionCount]);
  return { fold, unfold: tf.transpose(fold) };
}

/** Seeded Glorot-uniform kernels, zero biases, flattened in layout order. */
export function initialParameters(tf: TensorflowModule, layout: NetworkLayout, seed: number): Tf.Tensor1D {
  const seeds = new RandomStream(seed, 'weights');
  const parts = layout.shapes.map((shape) =>
    shape.length === 2 ? tf.initializers.glorotUniform({ seed: Math.floor(seeds.next() * 2 ** 31) }).apply([...shape]) : tf.zeros([...shape]),
  );
  return tf.concat(parts.map((part) => tf.reshape(part, [-1]))) as Tf.Tensor1D;
}

/** The per-layer weights of the plain MLP from flat parameters (a dueling head folded: W M, b M). */
export function policyWeightsOf(tf: TensorflowModule, layout: NetworkLayout, parameters: Tf.Tensor, dueling: DuelingFold | null): Tf.Tensor[] {
  return tf.tidy(() => {
    const parts = tf.split(parameters, [...layout.sizes]).map((part, index) => tf.reshape(part, [...layout.shapes[index]!]));
    if (dueling) {
      const head = parts.length - 2;
      parts[head] = tf.matMul(parts[head] as Tf.Tensor2D, dueling.fold);
      // b M as a column sum, not a 1-row matMul: wasm's fused matMul rejects a bias whose buffer was made with rank 3.
      parts[head + 1] = tf.sum(tf.mul(tf.reshape(parts[head + 1]!, [-1, 1]), dueling.fold), 0);
    }
    return parts;
  });
}

/** Flat parameters from per-layer MLP weights; a dueling head is unfolded (V = mean of Q, A = Q - V), which folds back to the same Q head. */
export function unfoldPolicyWeights(tf: TensorflowModule, weights: readonly Tf.Tensor[], dueling: DuelingFold | null): Tf.Tensor1D {
  const parts = [...weights];
  if (dueling) {
    const head = parts.length - 2;
    const kernel = parts[head] as Tf.Tensor2D;
    const value = tf.mean(kernel, 1, true);
    parts[head] = tf.concat([value, tf.sub(kernel, value)], 1);
    const bias = parts[head + 1]!;
    const biasValue = tf.reshape(tf.mean(bias), [1]);
    parts[head + 1] = tf.concat([biasValue, tf.sub(bias, biasValue)]);
  }
  return tf.concat(parts.map((part) => tf.reshape(part, [-1]))) as Tf.Tensor1D;
}

/** One flat gradient over every trained parameter from the per-layer gradients of the plain MLP (a dueling head's through M^T). */
export function flatGradient(tf: TensorflowModule, gradients: Tf.Tensor[], dueling: DuelingFold | null, actionCount: number): Tf.Tensor {
  if (dueling) {
    const head = gradients.length - 2;
    gradients[head] = tf.matMul(gradients[head] as Tf.Tensor2D, dueling.unfold);
    gradients[head + 1] = tf.matMul(tf.reshape(gradients[head + 1]!, [1, actionCount]), dueling.unfold);
  }
  return tf.concat(gradients.map((part) => tf.reshape(part, [-1])));
}

export const adam = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 } as const;

/** Adam's first and second moments, flat beside the parameters. */
export interface AdamMoments {
  readonly firstMoment: Tf.Variable;
  readonly secondMoment: Tf.Variable;
}

/**
 * One Adam step on the flat `parameters`, bias-corrected as in PyTorch; `squared` is the
 * gradient's element-wise square (already computed for its norm). `step` counts from 1.
 * Call inside tf.tidy.
 */
export function adamStep(tf: TensorflowModule, parameters: Tf.Variable, moments: AdamMoments, gradient: Tf.Tensor, squared: Tf.Tensor, step: number, learningRate: number): void {
  const { beta1, beta2, epsilon } = adam;
  const { firstMoment, secondMoment } = moments;
  firstMoment.assign(tf.add(tf.mul(firstMoment, beta1), tf.mul(gradient, 1 - beta1)));
  secondMoment.assign(tf.add(tf.mul(secondMoment, beta2), tf.mul(squared, 1 - beta2)));
  const denominator = tf.add(tf.mul(tf.sqrt(secondMoment), 1 / Math.sqrt(1 - beta2 ** step)), epsilon);
  parameters.assign(tf.sub(parameters, tf.mul(tf.div(firstMoment, denominator), learningRate / (1 - beta1 ** step))));
}
