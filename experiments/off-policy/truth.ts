/**
 * The truth an off-policy estimate is checked against, from the simulator.
 *
 * Replay: a simulator log (records with `seed` and `day`, days consecutive from 0 in each
 * episode) is stepped again with its logged actions. Each replayed reward must equal the
 * logged one (else the log did not come from this scenario and no truth is given). Before
 * each step the market's expected reward of every ladder action is read from the true model:
 *   mu_t(a) = (p_a - c) E[units_t | p_a]   (revenue objective: p_a E[units_t | p_a]),
 * with E[units] from MarketSimulation.expectedUnitsAt. This is exact only in a contextual
 * bandit (no carry-over: experiments/online/carry-over.ts); elsewhere the truth is refused.
 *
 *   expected value of pi on the logged contexts  V(pi) = mean_t sum_a pi(a | x_t) mu_t(a)
 *
 * is the estimand of IPS, SNIPS and DR conditional on the contexts. Also given:
 * `simulateOnPolicy`, the mean realised reward when the market runs pi itself on the same
 * seeds and days (its own noise included).
 */
import { makeEnv } from '../../env/env.js';
import type { MarketModel } from '../../env/model.js';
import { RandomStream } from '../../core/random.js';
import { carryOverMechanisms } from '../online/carry-over.js';
import { sampleAction, type ActionPolicy } from './action-policy.js';
import { contextVector } from './collect-log.js';
import type { DecisionRecord } from './log-record.js';

export type ReplayResult =
  | { readonly available: true; readonly expectedRewards: readonly Float64Array[] }
  | { readonly available: false; readonly reason: string };

export function replayExpectedRewards(model: MarketModel, records: readonly DecisionRecord[]): ReplayResult {
  const carryOver = carryOverMechanisms(model);
  if (carryOver.length > 0) return { available: false, reason: `the scenario is not a contextual bandit (carry-over: ${carryOver.join(', ')}); use its bandit version (--bandit)` };
  const env = makeEnv(model);
  const market = env.market;
  const cost = model.scenario.objective.kind === 'revenue' ? 0 : model.unitCost;
  const expectedRewards = new Array<Float64Array>(records.length);
  let previous: DecisionRecord | undefined;
  for (const [index, record] of records.entries()) {
    if (record.scenario !== model.scenario.id) return { available: false, reason: `line ${index + 1} comes from scenario "${record.scenario}", not "${model.scenario.id}"` };
    const sameEpisode = previous !== undefined && String(previous.seed) === String(record.seed);
    if (record.day === 0) env.reset({ seed: record.seed });
    else if (!sameEpisode || previous?.day !== record.day - 1) return { available: false, reason: `line ${index + 1}: expected day ${sameEpisode ? (previous?.day ?? 0) + 1 : 0} of episode ${String(record.seed)}, found day ${record.day} (not a replayable simulator log)` };
    const row = new Float64Array(model.ladder.length);
    model.ladder.forEach((price, action) => (row[action] = (price - cost) * market.expectedUnitsAt(price)));
    expectedRewards[index] = row;
    const result = env.step(record.action);
    if (Math.abs(result.reward - record.reward) > 1e-6 * Math.max(1, Math.abs(record.reward))) {
      return { available: false, reason: `line ${index + 1}: the replayed reward ${result.reward} differs from the logged ${record.reward} (the log did not come from this scenario)` };
    }
    previous = record;
  }
  return { available: true, expectedRewards };
}

/** V(pi) on the logged contexts: mean over decisions of sum_a pi(a | x_t) mu_t(a). */
export function expectedValueOnContexts(policy: ActionPolicy, records: readonly DecisionRecord[], expectedRewards: readonly Float64Array[], featureNames: readonly string[]): number {
  const probabilities = new Float64Array(policy.actionCount);
  let total = 0;
  records.forEach((record, index) => {
    policy.probabilities(contextVector(record, featureNames), probabilities);
    const row = expectedRewards[index];
    for (let action = 0; action < probabilities.length; action++) total += (probabilities[action] ?? 0) * (row?.[action] ?? 0);
  });
  return total / records.length;
}

/** Mean realised daily reward when the market runs pi on the log's seeds, for as many days as the log has in each. */
export function simulateOnPolicy(model: MarketModel, policy: ActionPolicy, records: readonly DecisionRecord[], seed = 0): number {
  const daysPerSeed = new Map<string, { seed: string | number; days: number }>();
  for (const record of records) {
    const entry = daysPerSeed.get(String(record.seed)) ?? { seed: record.seed, days: 0 };
    entry.days = Math.max(entry.days, record.day + 1);
    daysPerSeed.set(String(record.seed), entry);
  }
  const env = makeEnv(model);
  const stream = new RandomStream(seed, 'target-sampling');
  const probabilities = new Float64Array(policy.actionCount);
  let total = 0;
  let count = 0;
  for (const { seed: episodeSeed, days } of daysPerSeed.values()) {
    let { observation } = env.reset({ seed: episodeSeed });
    for (let day = 0; day < days; day++) {
      policy.probabilities(observation, probabilities);
      const result = env.step(sampleAction(probabilities, stream.next()).action);
      total += result.reward;
      count++;
      observation = result.observation;
      if (result.terminated || result.truncated) break;
    }
  }
  return total / Math.max(1, count);
}
