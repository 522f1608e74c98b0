/**
 * The training loop's callback contract (experiments/training-loop.ts, training-callback.ts):
 * the order of the hooks, what each may change (the learning mask, the actions, a stop), a
 * CallbackList waiting for an asynchronous hook, keep-best handing back the best evaluation's
 * weights, and the one-market loop replaying the single-env loop it replaced.
 */
import { describe, expect, it } from 'vitest';
import type { Agent, Transition } from '../../agents/agent.js';
import { agentContextOf } from '../../agents/agent.js';
import { createAgent, restoreAgent } from '../../agents/registry.js';
import { makeEnv } from '../../env/env.js';
import { buildMarketModel } from '../../env/model.js';
import { VectorEnv } from '../../env/vector-env.js';
import { evaluate } from '../../experiments/evaluate.js';
import { EvaluationCallback } from '../../experiments/evaluation-callback.js';
import { OneMarket } from '../../experiments/one-market.js';
import { evaluationSeed } from '../../core/seeds.js';
import { train } from '../../experiments/train.js';
import { CallbackList, type TrainingCallback, type TrainingLoop } from '../../experiments/training-callback.js';
import { runTrainingLoop } from '../../experiments/training-loop.js';
import { linearMarket } from '../fixtures/linear-market.js';

const model = buildMarketModel(linearMarket('linear-train-callbacks-test-v1'));
const horizon = model.horizon;

/** Always price index 3 (explore or not); records every transition. */
function recordingAgent(): Agent & { transitions: Transition[] } {
  const agent = {
    kind: 'recorder',
    capabilities: { learns: true },
    transitions: [] as Transition[],
    act: () => 3,
    observe: (transition: Transition) => void agent.transitions.push(transition),
    export: () => ({ kind: 'recorder', config: {}, files: {} }),
    dispose: () => undefined,
  };
  return agent;
}

/** Records every hook it hears, with the market and the loop's step count. */
function hookRecorder(): TrainingCallback & { heard: string[] } {
  const heard: string[] = [];
  return {
    heard,
    onTrainingStart: (loop) => void heard.push(`trainingStart@${loop.steps}`),
    onEpisodeStart: (loop, market) => void heard.push(`episodeStart(${market})@${loop.steps}`),
    onStepStart: (loop) => void heard.push(`stepStart@${loop.steps}`),
    onActions: (loop) => void heard.push(`actions@${loop.steps}`),
    onEpisodeEnd: (loop, market, episode) => void heard.push(`episodeEnd(${market}${episode.cut ? ', cut' : ''})@${loop.steps}`),
    onStep: (loop) => void heard.push(`step@${loop.steps}`),
    onTrainingEnd: (end) => void heard.push(`trainingEnd@${end.steps}`),
  };
}

describe('the training loop calls its callbacks', () => {
  it('in order: start, each day (step start, actions, episode ends, step), end; a cut episode is reported when counted', async () => {
    const recorder = hookRecorder();
    const steps = horizon + 3;
    const result = await runTrainingLoop(new OneMarket(makeEnv(model), { seed: 1 }), recordingAgent(), { steps, countCutEpisode: true, callbacks: [recorder] });
    const day = (after: number) => [`stepStart@${after}`, `actions@${after}`];
    expect(recorder.heard.slice(0, 2)).toEqual(['trainingStart@0', 'episodeStart(0)@0']);
    expect(recorder.heard.slice(2, 7)).toEqual([...day(0), 'step@1', ...day(1)]);
    // The day the horizon ends the episode: its end and the next start come before that day's onStep.
    const ended = recorder.heard.indexOf(`episodeEnd(0)@${horizon}`);
    expect(recorder.heard.slice(ended - 2, ended + 3)).toEqual([...day(horizon - 1), `episodeEnd(0)@${horizon}`, 'episodeStart(0)@50', `step@${horizon}`]);
    expect(recorder.heard.slice(-3)).toEqual([`step@${steps}`, `episodeEnd(0, cut)@${steps}`, `trainingEnd@${steps}`]);
    expect(recorder.heard.filter((hook) => hook.startsWith('step@'))).toHaveLength(steps);
    expect(result.episodes).toBe(2);
  });

  it('without countCutEpisode (a vector run), only ended episodes are reported and counted', async () => {
    const recorder = hookRecorder();
    const result = await runTrainingLoop(new VectorEnv(model, { count: 2, seed: 3 }), recordingAgent(), { steps: 2 * horizon + 10, callbacks: [recorder] });
    expect(recorder.heard.filter((hook) => hook.startsWith('episodeEnd'))).toEqual([`episodeEnd(0)@${horizon * 2 - 1}`, `episodeEnd(1)@${horizon * 2}`]);
    expect(recorder.heard.filter((hook) => hook.startsWith('episodeStart'))).toEqual(['episodeStart(0)@0', 'episodeStart(1)@0', `episodeStart(0)@${horizon * 2 - 1}`, `episodeStart(1)@${horizon * 2}`]);
    expect(result.episodes).toBe(2);
    expect(recorder.heard.at(-1)).toBe(`trainingEnd@${2 * horizon + 10}`);
  });

  it('a market marked not learning is stepped but not observed, and its episode is not whole; onActions sets the action taken', async () => {
    const agent = recordingAgent();
    const skipFirstTen: TrainingCallback = {
      onStepStart: (loop: TrainingLoop) => void (loop.learning[0] = (loop.day[0] ?? 0) < 10 ? 0 : 1),
      onActions: (loop, actions) => void (actions[0] = (loop.day[0] ?? 0) % 2 === 0 ? 1 : 4),
    };
    const result = await runTrainingLoop(new OneMarket(makeEnv(model), { seed: 2 }), agent, { steps: horizon - 10, callbacks: [skipFirstTen] });
    expect(agent.transitions).toHaveLength(horizon - 10);
    expect(agent.transitions[0]!.action).toBe(1); // day 10
    expect(agent.transitions[1]!.action).toBe(4);
    expect(agent.transitions.at(-1)!.truncated).toBe(true);
    expect(result.episodes).toBe(0);
  });

  it("'stop' from onEpisodeEnd ends the run at that boundary: no further day, no final evaluation", async () => {
    const evaluations = new EvaluationCallback({ every: 0, env: makeEnv(model), episodes: 1, seed: evaluationSeed(1) });
    const recorder = hookRecorder();
    const stopper: TrainingCallback = { onEpisodeEnd: (loop) => (loop.episodeRewards.length === 2 ? 'stop' : undefined) };
    const result = await runTrainingLoop(new OneMarket(makeEnv(model), { seed: 1 }), recordingAgent(), { steps: 10 * horizon, callbacks: [evaluations, stopper, recorder] });
    expect(result.stopped).toBe(true);
    expect(result.steps).toBe(2 * horizon);
    expect(recorder.heard.at(-2)).toBe(`step@${2 * horizon}`);
    expect(evaluations.evaluations).toEqual([]);
  });

  it('without a stop, the evaluation callback evaluates every `every` steps and once more at the end', async () => {
    const evaluations = new EvaluationCallback({ every: 40, env: makeEnv(model), episodes: 1, seed: 9 });
    await runTrainingLoop(new OneMarket(makeEnv(model), { seed: 1 }), recordingAgent(), { steps: 100, callbacks: [evaluations] });
    expect(evaluations.evaluations.map((point) => point.steps)).toEqual([40, 80, 100]);
  });
});

describe('CallbackList', () => {
  it('calls hooks in the order given, and the ones after an asynchronous onStep wait for it', async () => {
    const heard: string[] = [];
    const slow: TrainingCallback = { onStep: () => new Promise((resolve) => setTimeout(() => resolve(void heard.push('slow')), 5)) };
    const fast: TrainingCallback = { onStep: () => void heard.push('fast') };
    const stop: TrainingCallback = { onStep: () => 'stop' };
    const loop = {} as TrainingLoop;
    expect(await new CallbackList([slow, fast, undefined, stop]).onStep(loop)).toBe('stop');
    expect(heard).toEqual(['slow', 'fast']);
    expect(new CallbackList([fast]).onStep(loop)).toBeUndefined(); // synchronous when no hook waits
  });
});

describe('keep-best', () => {
  it('hands back the weights of the best evaluation: restored, they replay its rewards, which the last policy does not', async () => {
    const env = makeEnv(model);
    const context = agentContextOf(model, env.observationSpace, env.actionSpace, 4);
    // A fast, noisy learner: its greedy policy moves between evaluations.
    const agent = await createAgent('q-learning', { alpha: 0.5, exploration: { kind: 'epsilon', start: 1, end: 0.3, decaySteps: 2_000 } }, context);
    const evaluationEnv = makeEnv(model);
    const evaluations = new EvaluationCallback({ every: 250, env: evaluationEnv, episodes: 2, seed: 300, keepBest: true });
    const result = await runTrainingLoop(new OneMarket(env, { seed: 4 }), agent, { steps: 4_000, callbacks: [evaluations] });
    const means = evaluations.evaluations.map((point) => point.meanReward);
    expect(result.best).toBe(evaluations.best);
    expect(result.best!.point.meanReward).toBe(Math.max(...means));
    expect(result.best!.point.steps).toBe(evaluations.evaluations[means.lastIndexOf(Math.max(...means))]!.steps);
    const restored = await restoreAgent(result.best!.exported, context);
    expect(evaluate(evaluationEnv, restored, { episodes: 2, seed: 300 }).map((episode) => episode.totalReward)).toEqual(result.best!.point.rewards);
    // The best is not simply the last here, so a keep-best that kept the last export would fail above.
    expect(result.best!.point.steps).toBeLessThan(4_000);
    expect(evaluate(evaluationEnv, agent, { episodes: 2, seed: 300 }).map((episode) => episode.totalReward)).not.toEqual(result.best!.point.rewards);
  });
});

describe('train (one market)', () => {
  it('replays the single-env loop it replaced: episode e on seed + e, the cut episode counted, the same learner', async () => {
    const config = { alpha: 0.2, exploration: { kind: 'epsilon', start: 1, end: 0.05, decaySteps: 1_500 } };
    const env = makeEnv(model);
    const context = agentContextOf(model, env.observationSpace, env.actionSpace, 6);
    const steps = 2_020;
    // The loop as it was written before (reset per episode on seed + e, stop mid-episode at the budget).
    const reference = await createAgent('q-learning', config, context);
    const rewards: number[] = [];
    let done = 0;
    for (let episode = 0; done < steps; episode++) {
      let { observation } = env.reset({ seed: 6 + episode });
      let total = 0;
      for (;;) {
        const action = reference.act(observation, { explore: true });
        const result = env.step(action);
        reference.observe({ observation, action, reward: result.reward, nextObservation: result.observation, terminated: result.terminated, truncated: result.truncated });
        total += result.reward;
        observation = result.observation;
        done++;
        if (result.terminated || result.truncated || done >= steps) break;
      }
      rewards.push(total);
    }
    const agent = await createAgent('q-learning', config, context);
    const result = await train(makeEnv(model), agent, { steps, seed: 6 });
    expect(result.episodeRewards).toEqual(rewards);
    expect((await agent.export()).files).toEqual((await reference.export()).files);
  });
});
