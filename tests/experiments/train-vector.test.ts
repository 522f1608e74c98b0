/**
 * The vector training loop's options: exploring starts (late hand-overs, who prices the
 * lead-in, what is observed and counted) and keeping the best greedy evaluation's export.
 * Behaviour is read off a recording agent on one market, whose episodes arrive in order.
 */
import { describe, expect, it } from 'vitest';
import type { Agent, Transition } from '../../agents/agent.js';
import { agentContextOf } from '../../agents/agent.js';
import { createAgent, restoreAgent } from '../../agents/registry.js';
import { makeEnv } from '../../env/env.js';
import { PricelabError } from '../../core/errors.js';
import type { EpisodeKpis } from '../../env/kpis.js';
import { buildMarketModel } from '../../env/model.js';
import { VectorEnv } from '../../env/vector-env.js';
import { evaluate, train, trainVector, type ExploringStarts } from '../../experiments/train.js';
import { linearMarket } from '../fixtures/linear-market.js';

const model = buildMarketModel(linearMarket('linear-train-vector-test-v1'));
const horizon = model.horizon;
const daysLeftIndex = makeEnv(model).observationSpace.featureNames.indexOf('daysLeft');
const lastPriceIndex = makeEnv(model).observationSpace.featureNames.indexOf('lastPrice');
const top = model.ladder[model.ladder.length - 1]!;

/** Greedy: always the cheapest price; exploring: always index 3. Records every transition, every greedy and every exploring call. */
function recordingAgent(): Agent & { transitions: Transition[]; greedyCalls: number; exploreCalls: number } {
  const agent = {
    kind: 'recorder',
    capabilities: { learns: true },
    transitions: [] as Transition[],
    greedyCalls: 0,
    exploreCalls: 0,
    act: (_observation: Float32Array, options: { explore: boolean }) => {
      if (options.explore) agent.exploreCalls++;
      else agent.greedyCalls++;
      return options.explore ? 3 : 0;
    },
    observe: (transition: Transition) => void agent.transitions.push(transition),
    export: () => ({ kind: 'recorder', config: {}, files: {} }),
    dispose: () => undefined,
  };
  return agent;
}

/** Splits one market's transitions into episodes (a truncation ends one). */
function episodesOf(transitions: readonly Transition[]): Transition[][] {
  const episodes: Transition[][] = [[]];
  for (const transition of transitions) {
    episodes.at(-1)!.push(transition);
    if (transition.truncated || transition.terminated) episodes.push([]);
  }
  return episodes.filter((episode) => episode.length > 0);
}

const firstDay = (episode: readonly Transition[]) => horizon - Math.round(episode[0]!.observation[daysLeftIndex]! * horizon);

async function run(starts: Omit<ExploringStarts, 'seed'>, steps = 20_000) {
  const kpis: EpisodeKpis[] = [];
  const vector = new VectorEnv(model, { count: 1, seed: 4, onEpisodeEnd: (_market, episode) => void kpis.push(episode) });
  const agent = recordingAgent();
  const result = await trainVector(vector, agent, { steps, exploringStarts: { ...starts, seed: 11 } });
  return { agent, result, kpis, episodes: episodesOf(agent.transitions) };
}

describe('trainVector: exploring starts', () => {
  it('hands over on day 0 or within the window, in about the stated share, and counts only observed steps', async () => {
    const { agent, result, episodes } = await run({ windows: [{ share: 0.6, lastDays: 5 }] });
    expect(agent.transitions.length).toBe(result.steps);
    expect(result.steps).toBe(20_000);
    const days = episodes.slice(0, -1).map(firstDay);
    for (const day of days) expect(day === 0 || (day >= horizon - 5 && day <= horizon - 1)).toBe(true);
    const late = days.filter((day) => day > 0).length;
    // Late episodes are short, so they are most of the episodes: share 0.6 of all drawn starts.
    expect(late / days.length).toBeGreaterThan(0.55);
    expect(late / days.length).toBeLessThan(0.65);
    // Every day of the window is used.
    expect(new Set(days.filter((day) => day > 0))).toEqual(new Set([45, 46, 47, 48, 49]));
    // Full episodes' rewards are reported; lead-in days are counted apart.
    expect(result.episodes).toBe(days.filter((day) => day === 0).length);
    expect(result.leadInSteps).toBe(days.filter((day) => day > 0).reduce((total, day) => total + day, 0));
    // Every late episode ends on the horizon's last day.
    for (const episode of episodes.slice(0, -1)) expect(firstDay(episode) + episode.length).toBe(horizon);
  });

  it('greedy lead-in: the agent prices the days before the hand-over with explore off', async () => {
    const { agent, episodes, result } = await run({ windows: [{ share: 1, lastDays: 10 }], leadIn: 'greedy' }, 2_000);
    expect(agent.greedyCalls).toBe(result.leadInSteps);
    for (const episode of episodes.slice(0, -1)) expect(episode[0]!.observation[lastPriceIndex]! * top).toBeCloseTo(model.ladder[0]!, 5);
  });

  it('random-price lead-in: one ladder price held to the hand-over, drawn anew per episode', async () => {
    const { agent, episodes, kpis } = await run({ windows: [{ share: 1, lastDays: 10 }], leadIn: 'random-price' }, 4_000);
    expect(agent.greedyCalls).toBe(0);
    const handOverPrices = new Set(episodes.slice(0, -1).map((episode) => Math.round(episode[0]!.observation[lastPriceIndex]! * top * 100) / 100));
    expect(handOverPrices.size).toBe(model.ladder.length);
    // Held: at most one change before the hand-over (day 0 from the list price) and one at it (to the exploring index 3).
    for (const episode of kpis) expect(episode.priceChanges).toBeLessThanOrEqual(2);
  });

  it("a window's own lead-in: random prices before the year's hand-overs, the greedy policy before the last days'", async () => {
    const { agent, episodes, result } = await run({ windows: [{ share: 0.5, lastDays: 40, leadIn: 'random-price' }, { share: 0.5, lastDays: 5, leadIn: 'greedy' }] }, 6_000);
    const handOver = (episode: readonly Transition[]) => Math.round(episode[0]!.observation[lastPriceIndex]! * top * 100) / 100;
    const late = episodes.slice(0, -1).filter((episode) => firstDay(episode) > 0);
    // Hand-overs before the last 5 days come from the first window only: every ladder price held before them.
    expect(new Set(late.filter((episode) => firstDay(episode) < horizon - 5).map(handOver)).size).toBe(model.ladder.length);
    // The second window's lead-ins are priced greedily (the cheapest price), and only they ask for greedy actions.
    expect(agent.greedyCalls).toBeGreaterThan(0);
    expect(agent.greedyCalls).toBeLessThan(result.leadInSteps);
    const lastDays = late.filter((episode) => firstDay(episode) >= horizon - 5);
    expect(lastDays.filter((episode) => handOver(episode) === model.ladder[0]).length / lastDays.length).toBeGreaterThan(0.55);
  });

  it('asks for no exploring choice on days every market spends in a lead-in, greedy or random-price', async () => {
    for (const leadIn of ['greedy', 'random-price'] as const) {
      const { agent, result } = await run({ windows: [{ share: 0.8, lastDays: 5, leadIn }] }, 3_000);
      expect(result.leadInSteps).toBeGreaterThan(0);
      // One market: an exploring call on every observed day (the hand-over's included), none in the lead-ins.
      expect(agent.exploreCalls).toBe(result.steps);
      expect(agent.greedyCalls).toBe(leadIn === 'greedy' ? result.leadInSteps : 0);
    }
  });

  it('uniform first action: the hand-over day tries a ladder price drawn uniformly; the agent acts from the next day, and on day 0', async () => {
    const { episodes } = await run({ windows: [{ share: 0.5, lastDays: 10 }], leadIn: 'random-price', firstAction: 'uniform' }, 6_000);
    const complete = episodes.slice(0, -1);
    const late = complete.filter((episode) => firstDay(episode) > 0);
    const firstActions = late.map((episode) => episode[0]!.action);
    expect(new Set(firstActions)).toEqual(new Set([0, 1, 2, 3, 4]));
    for (const count of [0, 1, 2, 3, 4].map((action) => firstActions.filter((first) => first === action).length)) expect(count / firstActions.length).toBeGreaterThan(0.1);
    for (const episode of late) for (const transition of episode.slice(1)) expect(transition.action).toBe(3);
    for (const episode of complete.filter((episode) => firstDay(episode) === 0)) expect(episode[0]!.action).toBe(3);
  });

  it('the same seed gives the same episodes; another seed other hand-over days', async () => {
    const first = await run({ windows: [{ share: 0.5, lastDays: 20 }] }, 5_000);
    const second = await run({ windows: [{ share: 0.5, lastDays: 20 }] }, 5_000);
    expect(second.episodes.map(firstDay)).toEqual(first.episodes.map(firstDay));
    const vector = new VectorEnv(model, { count: 1, seed: 4 });
    const other = recordingAgent();
    await trainVector(vector, other, { steps: 5_000, exploringStarts: { windows: [{ share: 0.5, lastDays: 20 }], seed: 12 } });
    expect(episodesOf(other.transitions).map(firstDay)).not.toEqual(first.episodes.map(firstDay));
  });

  it('refuses bad windows, naming each field', async () => {
    const vector = new VectorEnv(model, { count: 1, seed: 4 });
    const attempt = trainVector(vector, recordingAgent(), {
      steps: 100,
      exploringStarts: { windows: [{ share: 1.5, lastDays: 0 }, { share: 0.7, lastDays: 500 }], seed: 1 },
    });
    await expect(attempt).rejects.toThrow(PricelabError);
    const error = (await attempt.catch((caught: unknown) => caught)) as PricelabError;
    expect(error.problems.map((problem) => problem.path.join('.'))).toEqual([
      'exploringStarts.windows.0.share',
      'exploringStarts.windows.0.lastDays',
      'exploringStarts.windows.1.lastDays',
      'exploringStarts.windows',
    ]);
    expect(error.problems[2]!.message).toContain('found 500');
  });
});

describe('trainVector: keeping the best evaluation', () => {
  it('returns the export of the best greedy evaluation, which replays that evaluation exactly (DQN)', async () => {
    const vector = new VectorEnv(model, { count: 4, seed: 2 });
    const context = agentContextOf(model, vector.observationSpace, vector.actionSpace, 2);
    const config = { hiddenLayers: [16], learningRate: 1e-3, gamma: 0, rewardScale: 0.01, learningStarts: 200, trainFrequency: 1, batchSize: 32, totalSteps: 4_000, explorationFraction: 0.5, backend: 'wasm' };
    const agent = await createAgent('dqn', config, context);
    const evaluationEnv = makeEnv(model);
    const result = await trainVector(vector, agent, { steps: 4_000, evaluation: { every: 200, env: evaluationEnv, episodes: 3, seed: 500, keepBest: true } });
    agent.dispose();
    expect(result.evaluations.length).toBe(20);
    const means = result.evaluations.map((point) => point.meanReward);
    const bestMean = Math.max(...means);
    expect(result.best!.point.meanReward).toBe(bestMean);
    expect(result.best!.point.steps).toBe(result.evaluations[means.lastIndexOf(bestMean)]!.steps);
    // Not simply the last: an early, poor evaluation is not the best.
    expect(means[0]).toBeLessThan(bestMean);
    const restored = await restoreAgent(result.best!.exported, context);
    const replay = evaluate(evaluationEnv, restored, { episodes: 3, seed: 500 }).map((episode) => episode.totalReward);
    expect(replay).toEqual(result.best!.point.rewards);
    restored.dispose();
  });

  it('without keepBest, evaluations are reported and nothing is kept', async () => {
    const vector = new VectorEnv(model, { count: 2, seed: 2 });
    const points: number[] = [];
    const result = await trainVector(vector, recordingAgent(), { steps: 1_000, evaluation: { every: 400, env: makeEnv(model), episodes: 1, seed: 9 }, onEvaluation: (point) => void points.push(point.steps) });
    expect(points).toEqual([400, 800, 1_000]);
    expect(result.best).toBeUndefined();
  });
});

describe('train (one market): the same evaluations and keep-best as trainVector', () => {
  const dqnConfig = { hiddenLayers: [16], learningRate: 1e-3, gamma: 0, rewardScale: 0.01, learningStarts: 200, trainFrequency: 1, batchSize: 32, totalSteps: 4_000, explorationFraction: 0.5, backend: 'wasm' };

  it('keepBest returns the export of the best greedy evaluation, which replays it exactly; the last step is evaluated too', async () => {
    const env = makeEnv(model);
    const context = agentContextOf(model, env.observationSpace, env.actionSpace, 2);
    const agent = await createAgent('dqn', dqnConfig, context);
    const evaluationEnv = makeEnv(model);
    // 4,000 steps are not a multiple of 1,500: the evaluation at the end is one of the candidates.
    const result = await train(env, agent, { steps: 4_000, seed: 2, evaluateEvery: 1_500, evaluationEpisodes: 3, evaluationSeed: 500, evaluationEnv, keepBest: true });
    agent.dispose();
    expect(result.evaluations.map((point) => point.steps)).toEqual([1_500, 3_000, 4_000]);
    const means = result.evaluations.map((point) => point.meanReward);
    const bestMean = Math.max(...means);
    expect(result.best!.point.meanReward).toBe(bestMean);
    expect(result.best!.point.steps).toBe(result.evaluations[means.lastIndexOf(bestMean)]!.steps);
    // Each evaluation keeps its episodes (seed, reward, KPIs): what a run record stores of the policy kept.
    expect(result.best!.point.episodes.map((episode) => episode.seed)).toEqual([500, 501, 502]);
    expect(result.best!.point.episodes.map((episode) => episode.totalReward)).toEqual(result.best!.point.rewards);
    const restored = await restoreAgent(result.best!.exported, context);
    const replay = evaluate(evaluationEnv, restored, { episodes: 3, seed: 500 }).map((episode) => episode.totalReward);
    expect(replay).toEqual(result.best!.point.rewards);
    restored.dispose();
  });

  it('without keepBest nothing is kept; keepBest without an evaluation env is refused', async () => {
    const env = makeEnv(model);
    const result = await train(env, recordingAgent(), { steps: 1_000, seed: 1, evaluateEvery: 400, evaluationEpisodes: 1, evaluationEnv: makeEnv(model) });
    expect(result.evaluations.map((point) => point.steps)).toEqual([400, 800, 1_000]);
    expect(result.best).toBeUndefined();
    const error = await train(env, recordingAgent(), { steps: 100, seed: 1, evaluateEvery: 50, keepBest: true }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PricelabError);
    expect((error as PricelabError).problems[0]!.path).toEqual(['evaluationEnv']);
  });
});
