/**
 * Experiment files accept coupon scenarios (a `coupons` block): each run trains its coupon
 * learner in the coupon market (env/coupons/coupon-env.ts), is evaluated there (the coupon
 * KPIs in its evaluation episodes), and keeps a coupon policy artifact (the campaign menu, the
 * coupon market's features and targeting), which evaluates as the stored run did and plays in
 * `compare` on the same scenario. Oracles (they need the day kernel's model) are refused at
 * planning, under their place in the file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readArtifact } from '../../agents/artifact.js';
import { PricelabError } from '../../core/errors.js';
import { CouponEnv } from '../../env/coupons/coupon-env.js';
import { compare } from '../../experiments/compare.js';
import { evaluate } from '../../experiments/evaluate.js';
import { planExperiment } from '../../experiments/experiment-file.js';
import { restoredAgentFor } from '../../experiments/setup.js';
import { ResultsStore } from '../../experiments/store.js';
import { runSweep } from '../../experiments/sweep.js';
import { couponChoiceScenario, writeCouponChoiceMarket } from '../agents/coupon-choice-market.js';

let folder: string;
let scenarioFile: string;
let home: string;

beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), 'pricelab-sweep-coupons-'));
  scenarioFile = writeCouponChoiceMarket(folder);
  home = join(folder, 'home');
  const plan = planExperiment({
    name: 'coupon-sweep',
    scenarios: [scenarioFile],
    agents: [{ name: 'q', kind: 'q-learning', config: { gamma: 0 } }, { kind: 'ucb1' }],
    seeds: [1, 2],
    budget: { steps: 100 },
    evaluation: { episodes: 2, seed: 700 },
    kpis: ['profit', 'netRevenue', 'couponCost', 'redemptionRate'],
  });
  const outcome = await runSweep(plan, { home, workers: 1 });
  expect(outcome.finished).toBe(4);
}, 120_000);

afterAll(() => {
  if (folder) rmSync(folder, { recursive: true, force: true });
});

describe('a sweep on a coupon scenario', () => {
  it('trains and evaluates each run in the coupon market and keeps a coupon policy that evaluates as the stored run', async () => {
    const store = ResultsStore.open(home);
    try {
      const listed = store.listRunsWithCurves({ experiment: 'coupon-sweep' });
      expect(listed).toHaveLength(4);
      for (const { run, artifactPath } of listed) {
        const artifact = readArtifact(artifactPath!);
        expect(artifact.manifest.action.coupons?.campaigns.map((campaign) => campaign.name)).toEqual(['1 off', '2.8 off', '5 off']);
        expect(artifact.manifest.observation.features.map((feature) => feature.name)).toEqual(['stage:new', 'stage:hesitant', 'stage:repeat', 'stage:lapsed', 'budgetLeft', 'periodPhase']);
        expect(artifact.manifest.training).toMatchObject({ steps: 100, targeting: { features: [] } });
        const stored = store.evaluationsOf(run.id);
        // The coupon KPIs asked for are summarised as eval/<kpi>: the mean over the stored episodes.
        const metrics = store.metricsOf(run.id);
        const meanOf = (kpi: string) => stored.reduce((sum, episode) => sum + (episode.kpis[kpi] ?? 0), 0) / stored.length;
        expect(metrics['eval/couponCost']).toBeCloseTo(meanOf('couponCost'), 6);
        expect(metrics['eval/redemptionRate']).toBeCloseTo(meanOf('redemptionRate'), 9);
        for (const episode of stored) expect(Object.keys(episode.kpis)).toEqual(expect.arrayContaining(['couponCost', 'redemptionRate', 'incrementalUnitsPerCoupon']));
        const env = new CouponEnv(couponChoiceScenario());
        const agent = await restoredAgentFor(env, { kind: artifact.manifest.agentKind, config: artifact.manifest.agentConfig, files: artifact.files }, run.seed);
        const episodes = evaluate(env, agent, { episodes: 2, seed: 700 });
        agent.dispose();
        expect(episodes.map((episode) => episode.totalReward)).toEqual(stored.map((episode) => episode.totalReward));
        // The coupon market's evaluation: 20-day episodes.
        expect(episodes.every((episode) => episode.kpis.days === 20)).toBe(true);
      }
      // The artifact plays in compare on the same scenario (its features, prices and menu fit).
      const first = listed[0]!;
      const outcome = await compare({ scenario: scenarioFile, arms: ['none=none@10', `swept=${first.artifactPath!}`], seeds: 2, evaluationEpisodes: 1, trainingSteps: 1, bootstrapResamples: 100 });
      expect(outcome.summary.arms.find((arm) => arm.name === 'swept')).toMatchObject({ source: 'artifact' });
      expect(outcome.summary.coupons?.byArm.map((entry) => entry.arm)).toEqual(['none', 'swept']);
    } finally {
      store.close();
    }
  }, 120_000);

  it('refuses an oracle on a coupon scenario at planning, under its place', () => {
    let error: unknown;
    try {
      planExperiment({ name: 'coupon-oracle', scenarios: [scenarioFile], agents: [{ kind: 'q-learning' }, { kind: 'myopic-oracle' }], seeds: [1], budget: { steps: 10 } });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(PricelabError);
    expect((error as PricelabError).problems.map((problem) => problem.path.join('.'))).toEqual(['agents.1.kind']);
  });
});
