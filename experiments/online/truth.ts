/**
 * The truth an online experiment estimates: the global treatment effect (GTE),
 *
 *   GTE = mean daily reward when the whole market runs policy B
 *       - mean daily reward when the whole market runs policy A,
 *
 * from full-horizon runs on common seeds (each seed replays the same customers, weather and
 * rival noise under both policies: docs/architecture.md, "Common random numbers"). Each
 * design's estimate is compared with this number; its bias is estimate - GTE.
 * With several seeds (markets), the GTE is the mean over them of the per-seed difference.
 */
import { makeEnv } from '../../env/env.js';
import type { MarketModel } from '../../env/model.js';
import { armAgent, type ArmSpecs } from './arm-policy.js';
import { meanOf, runDays } from './daily-run.js';

export interface GlobalEffect {
  /** mean over seeds of (mean daily reward under B - mean daily reward under A). */
  readonly effect: number;
  readonly meanA: number;
  readonly meanB: number;
  /** Per seed: mean daily reward under A and B, and their difference. */
  readonly perSeed: readonly { seed: number | string; meanA: number; meanB: number; difference: number }[];
  /** Daily rewards of the first seed under A and B (for day-level comparisons). */
  readonly dailyA: readonly number[];
  readonly dailyB: readonly number[];
}

export interface MarketUnit {
  readonly model: MarketModel;
  readonly seed: number | string;
}

/** GTE over markets (a model and a seed each: one market, or every unit of a split). */
export async function globalEffect(units: readonly MarketUnit[], specs: ArmSpecs, days: number, agentSeed: number): Promise<GlobalEffect> {
  const perSeed: { seed: number | string; meanA: number; meanB: number; difference: number }[] = [];
  let dailyA: number[] = [];
  let dailyB: number[] = [];
  for (const [index, unit] of units.entries()) {
    const envA = makeEnv(unit.model, { maxSteps: days });
    const envB = makeEnv(unit.model, { maxSteps: days });
    const agentA = await armAgent(envA, specs.a, agentSeed);
    const agentB = await armAgent(envB, specs.b, agentSeed);
    const rewardsA = runDays(envA, unit.seed, days, (observation) => agentA.act(observation, { explore: false }));
    const rewardsB = runDays(envB, unit.seed, days, (observation) => agentB.act(observation, { explore: false }));
    agentA.dispose();
    agentB.dispose();
    if (index === 0) {
      dailyA = rewardsA;
      dailyB = rewardsB;
    }
    const meanA = meanOf(rewardsA);
    const meanB = meanOf(rewardsB);
    perSeed.push({ seed: unit.seed, meanA, meanB, difference: meanB - meanA });
  }
  return {
    effect: meanOf(perSeed.map((entry) => entry.difference)),
    meanA: meanOf(perSeed.map((entry) => entry.meanA)),
    meanB: meanOf(perSeed.map((entry) => entry.meanB)),
    perSeed,
    dailyA,
    dailyB,
  };
}
