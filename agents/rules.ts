/**
 * Rule policies: the pricing rules a shop runs before it learns anything, written as
 * `kind:parameter` (e.g. `fixed:19.99`, `cost-plus:0.3`, `match`, `undercut:0.5`,
 * `festival:0.15`, `list`, `index:3`). Each reads only what an agent sees: the observation
 * (features by name) and the scenario's public facts (ladder, unit cost, list price), and
 * answers a ladder index. The full agent family (bandits, Q-learning, DQN) comes with the
 * same `act` signature.
 */
import { configError } from '../env/errors.js';

export interface PolicyContext {
  readonly ladder: Float64Array;
  readonly unitCost: number;
  readonly listPrice: number;
  readonly featureNames: readonly string[];
}

export interface Policy {
  readonly name: string;
  act(observation: Float32Array): number;
}

export const ruleKinds = ['fixed:<price>', 'cost-plus:<markup>', 'list', 'match[:<floorMargin>]', 'undercut:<amount>', 'festival:<discount>', 'index:<ladderIndex>'] as const;

/** The ladder index whose price is nearest to `price` (the lower one on ties). */
export function nearestIndex(ladder: Float64Array, price: number): number {
  let best = 0;
  for (let index = 1; index < ladder.length; index++) {
    if (Math.abs((ladder[index] ?? 0) - price) < Math.abs((ladder[best] ?? 0) - price) - 1e-12) best = index;
  }
  return best;
}

export function parseRulePolicy(spec: string, context: PolicyContext): Policy {
  const [kind = '', parameterText] = spec.split(':', 2);
  const parameter = parameterText === undefined ? undefined : Number(parameterText);
  const refuse = (expected: string) =>
    configError(`cannot use policy "${spec}"`, [{ path: ['policy'], message: `expected ${expected}, found "${spec}"` }]);
  const needParameter = (what: string, check: (value: number) => boolean): number => {
    if (parameter === undefined || !Number.isFinite(parameter) || !check(parameter)) throw refuse(`${kind}:<${what}>`);
    return parameter;
  };
  const { ladder, unitCost, listPrice, featureNames } = context;
  const priceScale = ladder[ladder.length - 1] ?? 1;
  const rivalFeatures = featureNames.map((name, index) => (name.startsWith('rivalPrice:') ? index : -1)).filter((index) => index >= 0);
  const lowestRival = (observation: Float32Array): number => {
    let lowest = Number.POSITIVE_INFINITY;
    for (const index of rivalFeatures) lowest = Math.min(lowest, (observation[index] ?? 0) * priceScale);
    return lowest;
  };
  const needRivals = () => {
    if (rivalFeatures.length === 0) throw configError(`policy "${spec}" needs rivals`, [{ path: ['policy'], message: 'expected a scenario with competitors, found none' }]);
  };
  const eventFeature = featureNames.indexOf('eventDay');
  const presaleFeature = featureNames.indexOf('presaleDay');

  switch (kind) {
    case 'fixed': {
      const index = nearestIndex(ladder, needParameter('price', (value) => value > 0));
      return { name: spec, act: () => index };
    }
    case 'index': {
      const index = needParameter('ladderIndex', (value) => Number.isInteger(value) && value >= 0 && value < ladder.length);
      return { name: spec, act: () => index };
    }
    case 'cost-plus': {
      const index = nearestIndex(ladder, unitCost * (1 + needParameter('markup', (value) => value > -1)));
      return { name: spec, act: () => index };
    }
    case 'list': {
      const index = nearestIndex(ladder, listPrice);
      return { name: spec, act: () => index };
    }
    case 'match': {
      needRivals();
      const floor = unitCost * (1 + (parameter === undefined ? 0.05 : needParameter('floorMargin', (value) => value >= 0)));
      return { name: spec, act: (observation) => nearestIndex(ladder, Math.max(floor, lowestRival(observation))) };
    }
    case 'undercut': {
      needRivals();
      const amount = needParameter('amount', (value) => value > 0);
      const floor = unitCost * 1.05;
      return { name: spec, act: (observation) => nearestIndex(ladder, Math.max(floor, lowestRival(observation) - amount)) };
    }
    case 'festival': {
      const discount = needParameter('discount', (value) => value >= 0 && value < 1);
      const regular = nearestIndex(ladder, listPrice);
      const festive = nearestIndex(ladder, listPrice * (1 - discount));
      return {
        name: spec,
        act: (observation) => ((eventFeature >= 0 && observation[eventFeature] === 1) || (presaleFeature >= 0 && observation[presaleFeature] === 1) ? festive : regular),
      };
    }
    default:
      throw refuse(`one of ${ruleKinds.join(', ')}`);
  }
}
