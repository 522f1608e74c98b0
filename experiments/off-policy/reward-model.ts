/**
 * The reward model of the doubly robust estimator: ridge regression of the reward on
 * features of (context, action), pooled over actions so that rarely explored actions borrow
 * strength from the others:
 *
 *   phi(x, a) = [ onehot(a) (K),  x (d),  s_a x (d) ],   s_a = ladder position a / (K - 1)
 *   q(x, a) = b' phi(x, a),   b = argmin sum_i (r_i - b' phi(x_i, a_i))^2 + lambda |b_(x, s x)|^2
 *   solved as (Phi'Phi + lambda D) b = Phi'r, D = diag(1e-8 for the K action intercepts, 1 else)
 *
 * (Hoerl & Kennard 1970): one intercept per action (the price effect), context effects
 * shared, and a context slope that changes linearly along the ladder (a busier day moves
 * demand more at some prices than at others). A per-action regression (`perAction: true`)
 * fits a separate intercept and slopes for each action instead; with 1-2% exploration per
 * action it has a handful of points per action and its errors dominate DR's variance.
 *
 * Cross-fitted (Chernozhukov et al. 2018; Dudik, Langford & Li 2011 fit DR's model apart
 * from the data it corrects): decisions are split into `folds` folds by index (i mod folds),
 * and each fold's predictions come from a model fitted on the other folds.
 */
import { loadMathjs } from '../../core/mathjs-on-demand.js';

export interface RewardModelOptions {
  /** Ridge penalty lambda (default 1; contexts are normalised features of order 1). */
  readonly ridge?: number;
  /** Cross-fitting folds (default 5). */
  readonly folds?: number;
  /** One regression per action instead of the pooled one (default false). */
  readonly perAction?: boolean;
}

export interface CrossFittedPredictions {
  /** predictions[i][a]: q(x_i, a) from the model that did not see decision i. */
  readonly predictions: readonly Float64Array[];
}

type Featurise = (context: Float32Array, action: number, out: Float64Array) => void;

function featuriser(width: number, actionCount: number, perAction: boolean): { size: number; penalty: Float64Array; featurise: Featurise } {
  if (perAction) {
    const block = width + 1;
    const penalty = Float64Array.from({ length: block * actionCount }, (_, index) => (index % block === 0 ? 1e-8 : 1));
    return {
      size: block * actionCount,
      penalty,
      featurise(context, action, out) {
        out.fill(0);
        out[action * block] = 1;
        for (let index = 0; index < width; index++) out[action * block + 1 + index] = context[index] ?? 0;
      },
    };
  }
  const size = actionCount + 2 * width;
  const penalty = Float64Array.from({ length: size }, (_, index) => (index < actionCount ? 1e-8 : 1));
  return {
    size,
    penalty,
    featurise(context, action, out) {
      out.fill(0);
      out[action] = 1;
      const position = actionCount > 1 ? action / (actionCount - 1) : 0;
      for (let index = 0; index < width; index++) {
        const value = context[index] ?? 0;
        out[actionCount + index] = value;
        out[actionCount + width + index] = position * value;
      }
    },
  };
}

export function crossFittedRewardModel(
  contexts: readonly Float32Array[],
  actions: readonly number[],
  rewards: readonly number[],
  actionCount: number,
  options: RewardModelOptions = {},
): CrossFittedPredictions {
  const folds = Math.max(2, Math.min(options.folds ?? 5, contexts.length));
  const ridge = options.ridge ?? 1;
  const width = contexts[0]?.length ?? 0;
  const { size, penalty, featurise } = featuriser(width, actionCount, options.perAction === true);
  const phi = new Float64Array(size);
  const predictions = new Array<Float64Array>(contexts.length);
  for (let fold = 0; fold < folds; fold++) {
    const gram = Array.from({ length: size }, (_, index) => Array.from({ length: size }, (_, other) => (index === other ? ridge * (penalty[index] ?? 1) : 0)));
    const moment = new Array<number>(size).fill(0);
    const seen = new Uint8Array(actionCount);
    let total = 0;
    let count = 0;
    for (let row = 0; row < contexts.length; row++) {
      if (row % folds === fold) continue;
      const action = actions[row] ?? 0;
      const reward = rewards[row] ?? 0;
      seen[action] = 1;
      total += reward;
      count++;
      featurise(contexts[row]!, action, phi);
      for (let index = 0; index < size; index++) {
        const value = phi[index] ?? 0;
        if (value === 0) continue;
        moment[index] = (moment[index] ?? 0) + value * reward;
        const gramRow = gram[index]!;
        for (let other = 0; other < size; other++) gramRow[other] = (gramRow[other] ?? 0) + value * (phi[other] ?? 0);
      }
    }
    const coefficients = Float64Array.from(loadMathjs().lusolve(gram, moment) as number[][], (value) => value[0] ?? 0);
    const fallback = count > 0 ? total / count : 0;
    for (let row = fold; row < contexts.length; row += folds) {
      const context = contexts[row]!;
      predictions[row] = Float64Array.from({ length: actionCount }, (_, action) => {
        // An action never seen in training has only its (unshrunk) intercept at 0: predict the mean instead.
        if (seen[action] === 0) return fallback;
        featurise(context, action, phi);
        let value = 0;
        for (let index = 0; index < size; index++) value += (coefficients[index] ?? 0) * (phi[index] ?? 0);
        return value;
      });
    }
  }
  return { predictions };
}
