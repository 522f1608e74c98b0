/**
 * Producing a decision log in the simulator: a logging policy with known propensities
 * (typically epsilon-greedy around a rule) prices `days` days, episode after episode
 * (episode e on seed `seed + e`), and every decision is written with its context (the
 * observation, features by name), action, price, propensity and reward (log-record.ts).
 * Exploration draws from RandomStream(seed, 'logging-exploration'), one uniform a day, so a
 * log replays exactly.
 */
import { makeEnv } from '../../env/env.js';
import type { MarketModel } from '../../env/model.js';
import { RandomStream } from '../../core/random.js';
import type { ActionPolicy } from './action-policy.js';
import { sampleAction } from './action-policy.js';
import type { DecisionRecord } from './log-record.js';

export interface CollectLogOptions {
  /** Decisions to log (days, summed over episodes). */
  readonly days: number;
  readonly seed: number;
}

export function collectLog(model: MarketModel, logging: ActionPolicy, options: CollectLogOptions): DecisionRecord[] {
  const env = makeEnv(model);
  const names = env.observationSpace.featureNames;
  const exploration = new RandomStream(options.seed, 'logging-exploration');
  const probabilities = new Float64Array(env.actionSpace.n);
  const records: DecisionRecord[] = [];
  for (let episode = 0; records.length < options.days; episode++) {
    const seed = options.seed + episode;
    let { observation } = env.reset({ seed });
    for (let day = 0; records.length < options.days; day++) {
      logging.probabilities(observation, probabilities);
      const { action, propensity } = sampleAction(probabilities, exploration.next());
      const context: Record<string, number> = {};
      names.forEach((name, index) => (context[name] = observation[index] ?? 0));
      const result = env.step(action);
      records.push({ scenario: model.scenario.id, seed, day, context, action, price: model.ladder[action] ?? Number.NaN, propensity, reward: result.reward, policy: logging.name });
      observation = result.observation;
      if (result.terminated || result.truncated) break;
    }
  }
  return records;
}

/** A record's context as an observation vector in the scenario's feature order. */
export function contextVector(record: DecisionRecord, featureNames: readonly string[]): Float32Array {
  return Float32Array.from(featureNames, (name) => record.context[name] ?? 0);
}
