/**
 * The env checker (after Gymnasium's env_checker): runs a scenario's env through the
 * contract and reports each check as passed, failed (with what was found) or skipped
 * (with why). `pricelab check` runs it on every scenario, and CI runs that.
 *
 * Checks: spaces (every observation inside the Box, every action space valid, rewards
 * finite); reward equals the sum of its terms every step; same seed, same episode; another
 * seed, another episode (skipped when the scenario has no random component); the horizon
 * wrapper truncates at the horizon and only there; stepping after the end is refused with
 * a clear error; the vector env replays the single env's episode for the same seed.
 */
import { PricelabError } from '../core/errors.js';
import { makeEnv, rewardFromTerms, type Env } from './env.js';
import { buildMarketModel, type MarketModel } from './model.js';
import { createStream } from '../core/random.js';
import { episodeSeed } from '../core/seeds.js';
import { VectorEnv } from './vector-env.js';
import type { Scenario } from '../scenarios/schema.js';

export interface CheckResult {
  readonly name: string;
  readonly status: 'passed' | 'failed' | 'skipped';
  readonly detail: string;
}

export interface CheckReport {
  readonly scenarioId: string;
  readonly passed: boolean;
  readonly checks: readonly CheckResult[];
}

interface Trace {
  readonly observations: Float32Array[];
  readonly rewards: number[];
  readonly actions: number[];
  readonly terminated: boolean;
  readonly truncated: boolean;
}

export function checkScenario(scenario: Scenario, options: { maxSteps?: number } = {}): CheckReport {
  const checks: CheckResult[] = [];
  const run = (name: string, check: () => string | { skipped: string }) => {
    try {
      const detail = check();
      checks.push(typeof detail === 'string' ? { name, status: 'passed', detail } : { name, status: 'skipped', detail: detail.skipped });
    } catch (error) {
      checks.push({ name, status: 'failed', detail: (error as Error).message });
    }
  };
  let model: MarketModel | undefined;
  run('builds', () => {
    model = buildMarketModel(scenario);
    return `${model.ladder.length} prices, ${model.horizon} days`;
  });
  if (!model) return { scenarioId: scenario.id, passed: false, checks };
  const built = model;
  const maxSteps = Math.min(options.maxSteps ?? built.horizon, built.horizon);
  const env = () => makeEnv(built, { maxSteps });

  run('spaces', () => {
    const trace = rollout(env(), 11, maxSteps, true);
    return `${trace.observations.length} observations in Box(${built.ladder.length === 0 ? 0 : trace.observations[0]?.length ?? 0}), actions in Discrete(${built.ladder.length})`;
  });
  run('reward equals the sum of its terms', () => {
    const subject = env();
    subject.reset({ seed: 5 });
    const actions = createStream(5, 'checker');
    for (let step = 0; step < maxSteps; step++) {
      const result = subject.step(Math.floor(actions() * subject.actionSpace.n));
      const expected = rewardFromTerms(result.info.terms, built.scenario.objective.kind);
      if (Math.abs(expected - result.reward) > 1e-6 * Math.max(1, Math.abs(result.reward))) {
        throw new Error(`step ${step}: reward ${result.reward} but the terms sum to ${expected}`);
      }
      if (result.terminated || result.truncated) break;
    }
    return 'every step';
  });
  run('same seed, same episode', () => {
    const first = rollout(env(), 7, maxSteps, false);
    const second = rollout(env(), 7, maxSteps, false);
    const difference = firstDifference(first, second);
    if (difference) throw new Error(`seed 7 twice differs at ${difference}`);
    return `${first.rewards.length} steps identical`;
  });
  run('another seed, another episode', () => {
    if (!hasRandomness(built)) return { skipped: 'the scenario draws no random numbers (deterministic demand, no weather, returns or random rivals)' };
    const first = rollout(env(), 7, maxSteps, false);
    const second = rollout(env(), 8, maxSteps, false);
    if (!firstDifference(first, second)) throw new Error('seeds 7 and 8 gave identical episodes');
    return 'seeds 7 and 8 differ';
  });
  run('horizon truncates', () => {
    const trace = rollout(env(), 3, maxSteps, false);
    if (trace.terminated) return `terminated after ${trace.rewards.length} steps (the market ended before the horizon)`;
    if (!trace.truncated || trace.rewards.length !== maxSteps) throw new Error(`expected truncated after ${maxSteps} steps, found truncated=${trace.truncated} after ${trace.rewards.length}`);
    return `truncated after ${maxSteps} steps`;
  });
  run('step after the end is refused', () => {
    const subject = env();
    rollout(subject, 3, maxSteps, false);
    try {
      subject.step(0);
    } catch (error) {
      if (error instanceof PricelabError && error.kind === 'protocol') return `refused: ${error.message}`;
      throw new Error(`expected a protocol error, found ${(error as Error).message}`, { cause: error });
    }
    throw new Error('stepping after the end was accepted');
  });
  run('invalid actions are refused', () => {
    const subject = env();
    subject.reset({ seed: 1 });
    for (const action of [-1, built.ladder.length, 0.5, Number.NaN]) {
      try {
        subject.step(action);
        throw new Error(`action ${action} was accepted`);
      } catch (error) {
        if (!(error instanceof PricelabError)) throw error;
      }
    }
    return 'out-of-range, fractional and NaN actions';
  });
  run('vector env replays the single env', () => {
    const steps = Math.min(maxSteps, 50);
    const actionStream = createStream(9, 'checker');
    const actions = Array.from({ length: steps }, () => Math.floor(actionStream() * built.ladder.length));
    const single = makeEnv(built);
    single.reset({ seed: episodeSeed(4, 1, 0) });
    const vector = new VectorEnv(built, { count: 2, seed: 4 });
    vector.reset();
    for (let step = 0; step < steps; step++) {
      const result = single.step(actions[step]!);
      vector.step([0, actions[step]!]);
      if (Math.abs((vector.rewards[1] ?? 0) - result.reward) > 1e-9) throw new Error(`step ${step}: single reward ${result.reward}, vector ${vector.rewards[1]}`);
      if (result.terminated || result.truncated) break;
    }
    return `${steps} steps match`;
  });
  return { scenarioId: scenario.id, passed: checks.every((check) => check.status !== 'failed'), checks };
}

function rollout(env: Env, seed: number, maxSteps: number, checkSpaces: boolean): Trace {
  const { observation } = env.reset({ seed });
  const observations = [observation];
  const rewards: number[] = [];
  const actions: number[] = [];
  const actionStream = createStream(seed, 'checker-actions');
  if (checkSpaces && !env.observationSpace.contains(observation)) throw new Error(`reset observation outside the Box: ${describeOutside(env, observation)}`);
  for (let step = 0; step < maxSteps; step++) {
    const action = Math.floor(actionStream() * env.actionSpace.n);
    if (!env.actionSpace.contains(action)) throw new Error(`sampled action ${action} outside Discrete(${env.actionSpace.n})`);
    const result = env.step(action);
    actions.push(action);
    rewards.push(result.reward);
    observations.push(result.observation);
    if (checkSpaces) {
      if (!Number.isFinite(result.reward)) throw new Error(`step ${step}: reward ${result.reward} is not finite`);
      if (!env.observationSpace.contains(result.observation)) throw new Error(`step ${step}: observation outside the Box: ${describeOutside(env, result.observation)}`);
    }
    if (result.terminated || result.truncated) return { observations, rewards, actions, terminated: result.terminated, truncated: result.truncated };
  }
  return { observations, rewards, actions, terminated: false, truncated: false };
}

function describeOutside(env: Env, observation: Float32Array): string {
  const space = env.observationSpace;
  if (observation.length !== space.shape[0]) return `expected ${space.shape[0]} features, found ${observation.length}`;
  const index = Array.from(observation).findIndex((value, position) => Number.isNaN(value) || value < space.low[position]! - 1e-6 || value > space.high[position]! + 1e-6);
  return `${space.featureNames[index]} = ${observation[index]}, expected within [${space.low[index]}, ${space.high[index]}]`;
}

function firstDifference(first: Trace, second: Trace): string | undefined {
  if (first.rewards.length !== second.rewards.length) return `length ${first.rewards.length} vs ${second.rewards.length}`;
  for (let step = 0; step < first.rewards.length; step++) {
    if (first.rewards[step] !== second.rewards[step]) return `step ${step} reward ${first.rewards[step]} vs ${second.rewards[step]}`;
    const a = first.observations[step + 1]!;
    const b = second.observations[step + 1]!;
    for (let index = 0; index < a.length; index++) if (a[index] !== b[index]) return `step ${step} observation feature ${index}`;
  }
  return undefined;
}

function hasRandomness(model: MarketModel): boolean {
  return (
    !model.deterministic ||
    model.weather !== undefined ||
    model.rivals.some((rival) => rival.config.strategy.kind === 'random-walk')
  );
}
