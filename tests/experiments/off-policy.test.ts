/**
 * Off-policy evaluation validated against the simulator: on a contextual bandit (the bandit
 * version of weather-sensitive-v1), logs from epsilon-greedy around cost-plus:0.6 with known
 * propensities; the truth is the target's expected value on the logged contexts, from the
 * true model by replaying the log. Coverage over 20 replications, DR less variable than IPS,
 * SNIPS within the rewards' range, and logs refused line by line.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { buildMarketModel } from '../../env/model.js';
import { makeEnv } from '../../env/env.js';
import { loadScenario } from '../../scenarios/load.js';
import {
  banditScenario,
  collectLog,
  contextVector,
  epsilonMixture,
  estimatePolicyValue,
  expectedValueOnContexts,
  formatDecisionLog,
  parseDecisionLog,
  replayExpectedRewards,
  rulePolicy,
  simulateOnPolicy,
  snipsEstimate,
  type ActionPolicy,
  type DecisionRecord,
} from '../../experiments/off-policy/index.js';

const model = buildMarketModel(banditScenario(loadScenario('weather-sensitive-v1').scenario));
const env = makeEnv(model);
const featureNames = env.observationSpace.featureNames;
const decisionsOf = (records: readonly DecisionRecord[]) =>
  records.map((record) => ({ context: contextVector(record, featureNames), action: record.action, propensity: record.propensity, reward: record.reward }));

/** A context-dependent target: 9.5 on sunny days, 7 otherwise (reads the weather feature by name). */
function weatherTarget(): ActionPolicy {
  const sunny = featureNames.indexOf('weather:sunny');
  const high = model.ladder.indexOf(9.5);
  const low = model.ladder.indexOf(7);
  return {
    name: 'sunny 9.5 else 7',
    actionCount: model.ladder.length,
    probabilities(context, out) {
      out.fill(0);
      out[(context[sunny] ?? 0) > 0.5 ? high : low] = 1;
    },
  };
}

describe('off-policy evaluation on a contextual bandit', () => {
  it('IPS, SNIPS and DR intervals cover the true value in at least 17 of 20 replications; DR varies least', async () => {
    const logging = epsilonMixture(await rulePolicy(env, 'cost-plus:0.6'), 0.3);
    for (const target of [await rulePolicy(env, 'fixed:8'), weatherTarget()]) {
      const covered = { ips: 0, snips: 0, dr: 0 };
      const squaredErrors = { ips: 0, snips: 0, dr: 0 };
      for (let replication = 0; replication < 20; replication++) {
        const records = collectLog(model, logging, { days: 1460, seed: 1000 * replication });
        const replay = replayExpectedRewards(model, records);
        if (!replay.available) throw new Error(replay.reason);
        const truth = expectedValueOnContexts(target, records, replay.expectedRewards, featureNames);
        const estimates = estimatePolicyValue(target, decisionsOf(records));
        for (const name of ['ips', 'snips', 'dr'] as const) {
          if (estimates[name].low <= truth && truth <= estimates[name].high) covered[name]++;
          squaredErrors[name] += (estimates[name].estimate - truth) ** 2;
        }
      }
      expect(covered.ips, target.name).toBeGreaterThanOrEqual(17);
      expect(covered.snips, target.name).toBeGreaterThanOrEqual(17);
      expect(covered.dr, target.name).toBeGreaterThanOrEqual(17);
      expect(squaredErrors.dr, target.name).toBeLessThan(squaredErrors.ips / 2);
    }
  }, 60_000);

  it('the truth on the logged contexts agrees with the target run in the simulator on the same seeds', async () => {
    const records = collectLog(model, epsilonMixture(await rulePolicy(env, 'cost-plus:0.6'), 0.3), { days: 730, seed: 5 });
    const replay = replayExpectedRewards(model, records);
    if (!replay.available) throw new Error(replay.reason);
    const target = await rulePolicy(env, 'fixed:8');
    const truth = expectedValueOnContexts(target, records, replay.expectedRewards, featureNames);
    expect(Math.abs(simulateOnPolicy(model, target, records) - truth)).toBeLessThan(0.03 * truth);
  });

  it('with the logging policy as target, every weight is 1 and IPS is the mean logged reward', async () => {
    const logging = epsilonMixture(await rulePolicy(env, 'cost-plus:0.6'), 0.3);
    const records = collectLog(model, logging, { days: 200, seed: 9 });
    const estimates = estimatePolicyValue(logging, decisionsOf(records));
    const meanReward = records.reduce((total, record) => total + record.reward, 0) / records.length;
    expect(estimates.ips.estimate).toBeCloseTo(meanReward, 9);
    expect(estimates.snips.estimate).toBeCloseTo(meanReward, 9);
    expect(estimates.diagnostics.meanWeight).toBeCloseTo(1, 12);
  });

  it('SNIPS lies within the smallest and largest reward', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.double({ min: 0, max: 50, noNaN: true }), fc.double({ min: -100, max: 100, noNaN: true })), { minLength: 2, maxLength: 40 }),
        (pairs) => {
          fc.pre(pairs.some(([weight]) => weight > 1e-9));
          const rewards = pairs.map(([, reward]) => reward);
          const estimate = snipsEstimate(pairs.map(([weight]) => weight), rewards).estimate;
          expect(estimate).toBeGreaterThanOrEqual(Math.min(...rewards) - 1e-9);
          expect(estimate).toBeLessThanOrEqual(Math.max(...rewards) + 1e-9);
        },
      ),
    );
  });
});

describe('decision logs', () => {
  it('round-trips and refuses bad lines, each problem with its line number', async () => {
    const records = collectLog(model, epsilonMixture(await rulePolicy(env, 'list'), 0.2), { days: 3, seed: 1 });
    const text = formatDecisionLog(records);
    expect(parseDecisionLog(text, { featureNames, ladder: model.ladder })).toEqual(records);
    const lines = text.trim().split('\n');
    const bad = [lines[0], '{not json', JSON.stringify({ ...records[1], propensity: 0, action: 99 }), JSON.stringify({ ...records[2], context: {} })].join('\n');
    try {
      parseDecisionLog(bad, { featureNames, ladder: model.ladder });
      expect.unreachable('the log should be refused');
    } catch (error) {
      const problems = (error as { problems: { path: (string | number)[] }[] }).problems.map((problem) => problem.path.join('.'));
      expect(problems).toEqual(['line 2', 'line 3.propensity', 'line 3.action', 'line 4.context']);
    }
  });

  it('gives no truth for a log that does not replay (a tampered reward) or a scenario with carry-over', async () => {
    const records = collectLog(model, epsilonMixture(await rulePolicy(env, 'list'), 0.2), { days: 10, seed: 1 });
    const tampered = records.map((record, index) => (index === 4 ? { ...record, reward: record.reward + 1 } : record));
    expect(replayExpectedRewards(model, tampered)).toMatchObject({ available: false, reason: expect.stringContaining('line 5') });
    const withStock = buildMarketModel(loadScenario('weather-sensitive-v1').scenario);
    expect(replayExpectedRewards(withStock, records)).toMatchObject({ available: false, reason: expect.stringContaining('inventory') });
  });
});
