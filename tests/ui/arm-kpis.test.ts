import { describe, expect, it } from 'vitest';
import { makeEnv, type StepInfo } from '../../env/env.js';
import { buildMarketModel } from '../../env/model.js';
import { loadScenario } from '../../scenarios/load.js';
import { agentFor } from '../../experiments/setup.js';
import { evaluate } from '../../experiments/train.js';
import { Arm } from '../../ui/server/arm.js';
import { ruleDashboardPolicy } from '../../ui/server/policy-source.js';

describe('a dashboard arm reports the episode KPIs of env/kpis.ts', () => {
  it.each(['fashion-returns-v1', 'singles-day-v1'])('%s: the same figures as evaluate(), to the last bit, day by day', async (id) => {
    const model = buildMarketModel(loadScenario(id).scenario);
    const price = model.ladder[Math.floor(model.ladder.length / 3)]!;
    const seed = 11;
    const arm = new Arm(model);
    arm.usePolicy(await ruleDashboardPolicy(`fixed:${price}`, arm.env, seed), {});
    arm.reset(seed);
    expect(arm.currentKpis).toEqual({ days: 0, revenue: 0, profit: 0, sold: 0, lostSales: 0, fillRate: 1, unitsReturned: 0, refunds: 0, meanPrice: 0, guardrailAdjustments: 0 });
    const cumulativeProfit: number[] = [];
    while (!arm.ended) cumulativeProfit.push(arm.step().cumulativeProfit);

    const env = makeEnv(model);
    const [episode] = evaluate(env, await agentFor(env, 'fixed-price', { price }, seed), { episodes: 1, seed, recordSteps: true });
    const kpis = episode!.kpis;
    const steps: StepInfo[] = episode!.steps ?? [];
    const demand = steps.reduce((sum, step) => sum + step.market.demand, 0);
    expect(arm.currentKpis).toEqual({
      days: kpis.days,
      revenue: kpis.gmv,
      profit: kpis.profit,
      sold: kpis.units,
      lostSales: kpis.lostSales,
      fillRate: demand > 0 ? kpis.units / demand : 1,
      unitsReturned: kpis.unitsReturned,
      refunds: kpis.refunds,
      meanPrice: kpis.averagePrice,
      guardrailAdjustments: 0,
    });
    let runningProfit = 0;
    expect(cumulativeProfit).toEqual(steps.map((step) => (runningProfit += step.profit)));
    expect(kpis.refunds + kpis.lostSales).toBeGreaterThan(0);
  });
});
