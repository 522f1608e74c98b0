/**
 * `pricelab train` on a coupon scenario (one with a `coupons` block): the same run as
 * train-run.ts's single-market and vector runs, on the coupon market: the one training loop
 * through `train` over the coupon market behind the Env contract (env/coupons/coupon-env.ts),
 * or with `--envs N` through `trainVector` over N coupon markets in lockstep
 * (env/coupons/coupon-vector-env.ts, market i's episode k seeded episodeSeed(seed, i, k) as the
 * price VectorEnv seeds it); greedy evaluations on the evaluation seeds (on a single CouponEnv)
 * and keep-best as its callbacks, then the policy artifact.
 *
 * The artifact of a coupon policy: its ladder is the scenario's prices, `action.coupons` the
 * campaign menu (env/coupons/coupon-menu.ts: action = priceIndex x (campaigns + 1) + campaign + 1),
 * its observation the coupon market's six named features, and `training.targeting` declares
 * the customer features its coupons may target on (`stage` when the menu offers a campaign to
 * some stages only, else none), which the fairness gate reads (serving/fairness-gate.ts).
 *
 * Not offered here (each refused with a config error naming the option): a population,
 * exploring starts and the change-margin choice. They are built on the price market: a
 * population's members each train a day-kernel VectorEnv, exploring starts hand over on a day
 * of the price market's calendar with lead-ins at its ladder prices, and the margin choice
 * compares price changes, where a coupon action is a price and a coupon.
 */
import { join } from 'node:path';
import { buildArtifact, embeddedScenarioOf, writeArtifact } from '../agents/artifact.js';
import { configError, type Problem } from '../core/errors.js';
import { evaluationSeed } from '../core/seeds.js';
import { CouponEnv } from '../env/coupons/coupon-env.js';
import { CouponVectorEnv } from '../env/coupons/coupon-vector-env.js';
import { targetedFeaturesOf } from '../env/coupons/coupon-menu.js';
import type { LoadedScenario } from '../scenarios/load.js';
import { agentFor } from './setup.js';
import { couponObservationFeatures } from './coupon-policy.js';
import { train, trainVector, type EvaluationPoint, type TrainProgress } from './train.js';
import type { TrainingCallback } from './training-callback.js';
import type { PreparedTrainRun, TrainRunEvents, TrainRunOutcome, TrainRunResult, TrainRunSettings } from './train-run.js';

export async function prepareCouponTrainRun(loaded: LoadedScenario, settings: TrainRunSettings): Promise<PreparedTrainRun> {
  const problems: Problem[] = [];
  const refuse = (option: string, found: string, why: string) => problems.push({ path: [option], message: `expected no --${option} on a coupon scenario (${why}), found ${found}` });
  if (settings.population !== 1) refuse('population', String(settings.population), 'a population trains members on the price market; train one agent, over --envs markets if you like');
  if (settings.exploringStarts) refuse('exploring-starts', settings.exploringStarts.map((window) => `${window.share}:${window.lastDays}`).join(','), "late hand-overs run their lead-ins at the price market's ladder prices");
  if (settings.chooseMargin) refuse('choose-margin', settings.chooseMargin.join(','), 'the change margin compares price changes; a coupon action is a price and a coupon');
  if (problems.length > 0) throw configError(`${loaded.scenario.id} is a coupon scenario: these options are the price market's`, problems);
  const env = new CouponEnv(loaded.scenario);
  const evaluationEnv = new CouponEnv(loaded.scenario);
  const agent = await agentFor(env, settings.agent, settings.config, settings.seed);
  const totalSteps = settings.steps ?? settings.episodes! * env.maxSteps;
  return {
    model: env.model,
    totalSteps,
    selectAfter: totalSteps,
    progressSteps: totalSteps,
    async run(out: string, events: TrainRunEvents = {}): Promise<TrainRunOutcome> {
      const kept: TrainingCallback = { onTrainingEnd: (end) => void (end.best && events.kept?.(end.best)) };
      const evaluateEvery = settings.evalEvery ?? Math.max(1, Math.floor(totalSteps / 10));
      const onProgress = (state: TrainProgress) => events.progress?.(state.steps, state.lastEpisodeReward);
      const onEvaluation = (point: EvaluationPoint) => events.evaluation?.(point, { steps: point.steps });
      try {
        const result: TrainRunResult =
          settings.envs === 1
            ? await train(env, agent, {
                ...(settings.steps === undefined ? {} : { steps: settings.steps }),
                ...(settings.episodes === undefined ? {} : { episodes: settings.episodes }),
                seed: settings.seed,
                evaluateEvery,
                evaluationEpisodes: settings.evalEpisodes,
                evaluationEnv,
                evaluationSeed: evaluationSeed(settings.seed),
                keepBest: settings.keepBest,
                onProgress,
                onEvaluation,
                callbacks: [kept],
              })
            : await trainVector(new CouponVectorEnv(loaded.scenario, { count: settings.envs, seed: settings.seed }), agent, {
                steps: totalSteps,
                evaluation: { every: evaluateEvery, env: evaluationEnv, episodes: settings.evalEpisodes, seed: evaluationSeed(settings.seed), keepBest: settings.keepBest },
                onProgress,
                onEvaluation,
                callbacks: [kept],
              });
        const best = result.best;
        const exported = best ? best.exported : await agent.export();
        const artifact = buildArtifact(exported, {
          name: `${loaded.scenario.id}-${settings.agent}`,
          scenario: embeddedScenarioOf(loaded),
          features: couponObservationFeatures(env),
          ladder: env.prices,
          coupons: env.menu,
          training: {
            steps: result.steps,
            episodes: result.episodes,
            seconds: result.seconds,
            lastEvaluation: (best?.point ?? result.evaluations.at(-1))?.meanReward ?? null,
            targeting: { features: targetedFeaturesOf(env.menu) },
          },
          seeds: [settings.seed],
        });
        const policyFolder = writeArtifact(join(out, 'policy'), artifact);
        return { model: env.model, result, trainingSeed: settings.seed, exported, written: best?.point ?? result.evaluations.at(-1), policyFolder };
      } finally {
        agent.dispose();
      }
    },
  };
}
