/**
 * Per-customer split, simulated to show why a shop should not run one. Customers are split
 * 50/50 between policy A and policy B for the same product at the same time. It is flagged
 * UNFAIR (two customers pay different prices for the same product on the same day: a
 * personalised price, which pricelab does not do by default: design.md, "Responsible
 * pricing") and BIASED (the arms are not independent: customers who see both prices
 * substitute towards the cheaper arm, rivals react to the mix, reference prices and stock
 * are shared).
 *
 * Model (no env change): the two arms are two offers of the same product in one
 * multi-firm market (MultiFirmMarket), firm 0 and an added "twin" firm with our quality and
 * unit cost, every other rival unchanged. Both offers' quality is lowered by mu ln 2
 * (mu: the segments' arrival-weighted logit scale), so at equal prices the two offers
 * together sell exactly what our one offer sold and each arm gets half the customers. The
 * naive read-out a shop would make:
 *
 *   d_t = 2 (reward of the B arm on day t - reward of the A arm on day t)
 *
 * (each arm saw half the traffic, so twice its reward is the whole market's under that
 * arm). The market is run twice, A as firm 0 and B as the twin, then swapped, and the two
 * d_t averaged: firm 0 carries the operations (stock, returns, the reference price
 * follows its price, churn), the twin only (p - c) q, so counterbalancing removes that
 * asymmetry from the comparison. Estimate = mean_t d_t with a t interval over days (days
 * are autocorrelated: the interval is optimistic) and the always-valid interval over d_t.
 *
 * Limits: every customer sees both prices (full contamination: in a real shop only those
 * who visit twice or compare devices do), so the substitution bias shown is an upper
 * bound; the twin keeps unlimited stock and has no returns; reference prices follow firm
 * 0's arm only. Rules that need the live market (oracles) are refused. Logit scenarios only.
 */
import { buildMarketModel, type MarketModel } from '../../env/model.js';
import { makeEnv } from '../../env/env.js';
import { configError } from '../../core/errors.js';
import { MultiFirmMarket } from '../../env/multi-firm.js';
import { ObservationWriter, type ObservationFeature } from '../../env/observation.js';
import type { Scenario } from '../../scenarios/schema.js';
import { alwaysValidInterval, oneSampleTTest } from '../statistics/index.js';
import { armAgent, type ArmSpecs } from './arm-policy.js';
import { intervalOf, withTruth, type OnlineExperimentReport } from './report.js';
import { globalEffect } from './truth.js';
import type { Agent } from '../../agents/agent.js';

export const twinName = 'other-arm';

export interface CustomerSplitOptions {
  readonly days?: number;
  readonly seed: number;
  readonly level?: number;
}

/** The scenario with a twin offer of our product (the other arm), both offers' quality lowered by mu ln 2. */
export function twinScenario(scenario: Scenario): Scenario {
  const demand = scenario.demand;
  if (demand.kind !== 'logit') {
    throw configError('the per-customer split needs a logit market', [
      { path: ['demand', 'kind'], message: `expected "logit" (customers choosing between the two arms' offers), found "${demand.kind}"` },
    ]);
  }
  const totalRate = demand.segments.reduce((total, segment) => total + segment.arrivalRate, 0);
  const scale = demand.segments.reduce((total, segment) => total + segment.arrivalRate * segment.scale, 0) / Math.max(totalRate, 1e-12);
  const quality = demand.quality - scale * Math.log(2);
  const top = Math.max(scenario.listPrice, ...(scenario.priceLadder.kind === 'list' ? scenario.priceLadder.prices : scenario.priceLadder.kind === 'range' ? [scenario.priceLadder.max] : []));
  return {
    ...scenario,
    demand: { ...demand, quality },
    competitors: [
      ...(scenario.competitors ?? []),
      { name: twinName, quality, unitCost: scenario.unitCost, initialPrice: scenario.listPrice, strategy: { kind: 'fixed', price: scenario.listPrice }, latencyDays: 1, priceCeiling: top * 10 },
    ],
  };
}

export async function runCustomerSplit(model: MarketModel, specs: ArmSpecs, options: CustomerSplitOptions): Promise<OnlineExperimentReport> {
  const level = options.level ?? 0.95;
  const days = Math.min(options.days ?? model.horizon, model.horizon);
  const twinModel = buildMarketModel(twinScenario(model.scenario));
  const plainEnv = makeEnv(model, { maxSteps: days });
  const agents = { A: await armAgent(plainEnv, specs.a, options.seed, { allowOracle: false }), B: await armAgent(plainEnv, specs.b, options.seed, { allowOracle: false }) };
  const features = plainEnv.features;
  const aFirst = runTwinMarket(twinModel, features, agents.A, agents.B, days, options.seed);
  const bFirst = runTwinMarket(twinModel, features, agents.B, agents.A, days, options.seed);
  agents.A.dispose();
  agents.B.dispose();
  const dayCount = Math.min(aFirst.firm0.length, bFirst.firm0.length);
  const differences = Array.from({ length: dayCount }, (_, day) => {
    const aAsFirm0 = 2 * ((aFirst.twin[day] ?? 0) - (aFirst.firm0[day] ?? 0));
    const bAsFirm0 = 2 * ((bFirst.firm0[day] ?? 0) - (bFirst.twin[day] ?? 0));
    return (aAsFirm0 + bAsFirm0) / 2;
  });
  const test = oneSampleTTest(differences, level);
  const truth = await globalEffect([{ model, seed: options.seed }], specs, days, options.seed);
  return withTruth(
    {
      design: 'customer',
      scenario: model.scenario.id,
      policies: { a: specs.a, b: specs.b },
      seed: options.seed,
      days: dayCount,
      ...intervalOf(test, level),
      method: `naive per-customer read-out: t interval over ${dayCount} days of 2 x (B arm reward - A arm reward), counterbalanced over which arm is firm 0`,
      alwaysValid: alwaysValidInterval(differences, { level }),
      flags: [
        'UNFAIR: customers are charged different prices for the same product at the same time (personalised pricing)',
        'BIASED: the arms share customers, who substitute towards the cheaper arm; rivals react to the mix; the truth is the whole market under each policy',
      ],
      details: {
        meanRewardPerArm: { A: (meanOf(aFirst.firm0) + meanOf(bFirst.twin)) / 2, B: (meanOf(aFirst.twin) + meanOf(bFirst.firm0)) / 2 },
        model: 'two offers of one product in a multi-firm logit market, each with quality lowered by mu ln 2 (docs/online-experiments.md)',
      },
    },
    truth,
  );
}

function meanOf(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0) / Math.max(1, values.length);
}

/** One run of the two-arm market: `first` prices firm 0, `second` the twin; daily rewards of each. */
function runTwinMarket(
  twinModel: MarketModel,
  features: readonly ObservationFeature[],
  first: Agent,
  second: Agent,
  days: number,
  seed: number,
): { firm0: number[]; twin: number[] } {
  const market = new MultiFirmMarket(twinModel);
  const writer = new ObservationWriter(twinModel, features);
  const observation = new Float32Array(features.length);
  const prices = new Float64Array(market.firmCount).fill(Number.NaN);
  const twinFirm = market.firmCount - 1;
  const firm0: number[] = [];
  const twin: number[] = [];
  market.reset(seed);
  for (let day = 0; day < days; day++) {
    writer.write(market.market, observation);
    prices[0] = twinModel.ladder[first.act(observation, { explore: false })] ?? Number.NaN;
    prices[twinFirm] = twinModel.ladder[second.act(observation, { explore: false })] ?? Number.NaN;
    const step = market.stepPrices(prices);
    firm0.push(step.rewards[0] ?? 0);
    twin.push(step.rewards[twinFirm] ?? 0);
    if (step.terminated || step.truncated) break;
  }
  return { firm0, twin };
}
