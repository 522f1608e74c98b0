/**
 * DQN against the best fixed price on steady-state-v1 (issue 3's last "done when"): trained
 * with a stated budget over a vector env, the greedy policy beats the best fixed ladder price
 * on 20 held-out seeds, with the paired 95% t interval of (policy - fixed) above zero.
 *
 * Statistics: the fixed price is chosen on selection seeds 5000-5019 (every ladder price
 * evaluated), then it and the policy are evaluated on held-out seeds 9000-9019: the same seeds
 * for both (common random numbers), so the differences are paired. Training episodes come from
 * the vector env's own seed derivation, the keep-best evaluations and the change margin use
 * selection seeds 5000-5039; all disjoint from the held-out ones. The baseline is measured in
 * the same run, never written down: the market may change.
 *
 * The policy is a phased agent (agents/phased.ts): the best fixed price until the last 21
 * days, a DQN for those. Why (docs/agents/dqn.md, sixth round): on this market every mid-year
 * deviation from the best fixed price loses (the mass merchant undercuts, reference prices are
 * loss-averse, loyal regulars churn at price changes); what a learner can win is the end of the
 * year: the last (s, S) reviews order up to 600 units that arrive too late to sell and are
 * salvaged at a loss of 4 each, and which seeds trip them depends on the stock position two to
 * three weeks before the end. A DQN given only the finale (episodes handed over in the last 21
 * days after greedy lead-ins, 400,000 steps of them) learns to steer the position past those
 * reviews and to mark down what is left. A full-year DQN (the fifth round's protocol: a
 * population of eight, 406,464 steps) passed on one seed set in four. This protocol, over
 * training seeds 1-6, gave seventeen intervals above zero of eighteen (held-out seeds and two
 * fresh sets; seed 2 missed on the held-out seeds, +308 [-40, 655]); seed 1, here, measures +511
 * [125, 898] (docs/agents/dqn.md, sixth round). A run is chaotic in its random streams: a change
 * to what a stream draws gives another network, and this test may then fail without a bug.
 * Re-measure over several training seeds before reading a failure as a regression.
 *
 * The untrained finale runs the same check first, to show the check can fail.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { agentContextOf } from '../../agents/agent.js';
import type { Agent } from '../../agents/agent.js';
import type { PhasedConfig } from '../../agents/phased.js';
import { createAgent, restoreAgent } from '../../agents/registry.js';
import { makeEnv } from '../../env/env.js';
import { buildMarketModel } from '../../env/model.js';
import { VectorEnv } from '../../env/vector-env.js';
import { agentFor } from '../../experiments/setup.js';
import { summarise } from '../../experiments/summary.js';
import { chooseChangeMargin } from '../../experiments/margin-selection.js';
import { evaluate, trainVector } from '../../experiments/train.js';
import { loadScenario } from '../../scenarios/load.js';

const model = buildMarketModel(loadScenario('steady-state-v1').scenario);
const selectionSeed = 5000;
const heldOutSeed = 9000;
const seeds = 20;
const markets = 16;
const steps = 400_000;

// The config shared with `pricelab train --agent phased --config` (README); wasm here, as every test.
const shared = JSON.parse(readFileSync(new URL('../../scenarios/agent-configs/phased-dqn-steady-state-v1.json', import.meta.url), 'utf8')) as PhasedConfig;
const finaleConfig: Record<string, unknown> = { ...(shared.finale.config as Record<string, unknown>), backend: 'wasm' };
if (finaleConfig['totalSteps'] !== steps) throw new Error(`the shared config trains ${String(finaleConfig['totalSteps'])} steps, the test ${steps}`);

function heldOutRewards(agent: Pick<Agent, 'act'>): number[] {
  return evaluate(makeEnv(model), agent, { episodes: seeds, seed: heldOutSeed }).map((episode) => episode.totalReward);
}

async function bestFixedPrice(): Promise<{ price: number; heldOut: number[] }> {
  const env = makeEnv(model);
  let best = { price: Number.NaN, mean: Number.NEGATIVE_INFINITY };
  for (const price of model.ladder) {
    const rewards = evaluate(env, await agentFor(env, 'fixed-price', { price }, 1), { episodes: seeds, seed: selectionSeed }).map((episode) => episode.totalReward);
    const mean = rewards.reduce((total, reward) => total + reward, 0) / rewards.length;
    if (mean > best.mean) best = { price, mean };
  }
  return { price: best.price, heldOut: heldOutRewards(await agentFor(env, 'fixed-price', { price: best.price }, 1)) };
}

const pairedInterval = (rewards: readonly number[], baseline: readonly number[]) => summarise(rewards.map((reward, index) => reward - baseline[index]!));

describe('DQN on steady-state-v1 against the best fixed price', () => {
  it(`beats the best fixed price on ${seeds} held-out seeds (paired 95% interval above zero), as the finale over it, after ${steps} steps`, async () => {
    const fixed = await bestFixedPrice();
    const config: PhasedConfig = { ...shared, base: { kind: 'fixed-price', config: { price: fixed.price } }, finale: { kind: 'dqn', config: finaleConfig } };
    const context = (seed: number) => agentContextOf(model, makeEnv(model).observationSpace, makeEnv(model).actionSpace, seed);
    const agent = await createAgent('phased', config, context(1));
    // The untrained finale: the same check does not pass.
    expect(pairedInterval(heldOutRewards(agent), fixed.heldOut).low).toBeLessThanOrEqual(0);

    const result = await trainVector(new VectorEnv(model, { count: markets, seed: 1 }), agent, {
      steps,
      exploringStarts: { windows: [{ share: 1, lastDays: config.finaleDays }], leadIn: 'greedy', firstAction: 'uniform', seed: 1 },
      evaluation: { every: 20_000, env: makeEnv(model), episodes: 2 * seeds, seed: selectionSeed, keepBest: true },
    });
    agent.dispose();
    expect(result.steps).toBeGreaterThanOrEqual(steps);
    // The change margin, chosen on the selection seeds too (how noisy the finale's values are decides it).
    const margin = await chooseChangeMargin({ exported: result.best!.exported, env: makeEnv(model), episodes: 2 * seeds, seed: selectionSeed, margins: [0, 50, 100, 150, 200] });
    const best = await restoreAgent(margin.exported, context(1));
    const difference = pairedInterval(heldOutRewards(best), fixed.heldOut);
    best.dispose();
    expect(difference.n).toBe(seeds);
    expect(difference.low).toBeGreaterThan(0);
  }, 900_000);
});
