/**
 * Gymnasium-style spaces. Discrete(n): the ladder index. Box: the observation, one
 * named feature per dimension with its bounds.
 */
export interface DiscreteSpace {
  readonly kind: 'discrete';
  readonly n: number;
  contains(value: unknown): boolean;
}

export interface BoxSpace {
  readonly kind: 'box';
  readonly shape: readonly [number];
  readonly low: Float32Array;
  readonly high: Float32Array;
  readonly featureNames: readonly string[];
  /** raw value = observed value x scale (prices in currency, stock in units...). */
  readonly scales: Float32Array;
  contains(value: unknown): boolean;
}

export function discrete(n: number): DiscreteSpace {
  return { kind: 'discrete', n, contains: (value) => typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < n };
}

export function box(featureNames: readonly string[], low: readonly number[], high: readonly number[], scales: readonly number[] = featureNames.map(() => 1)): BoxSpace {
  const lowArray = Float32Array.from(low);
  const highArray = Float32Array.from(high);
  return {
    kind: 'box',
    shape: [featureNames.length],
    low: lowArray,
    high: highArray,
    featureNames,
    scales: Float32Array.from(scales),
    contains(value) {
      if (!(value instanceof Float32Array) || value.length !== featureNames.length) return false;
      for (let index = 0; index < value.length; index++) {
        const entry = value[index]!;
        if (Number.isNaN(entry) || entry < lowArray[index]! - 1e-6 || entry > highArray[index]! + 1e-6) return false;
      }
      return true;
    },
  };
}
