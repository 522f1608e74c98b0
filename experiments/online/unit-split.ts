/**
 * Product or region split: K independent markets (units: products, regions, stores), each
 * with its own seed and, optionally, its own size (arrival multiplier exp(h z_k - h^2/2),
 * z_k standard normal, h = `heterogeneity`: units differ the way products and regions do).
 * A seeded random half of the units runs policy B for the whole horizon, the rest A. Units
 * do not share customers, stock or reference prices, so there is no interference; the price
 * is the small number of independent units.
 *
 *   unit value y_k = mean daily reward of unit k
 *   estimate = mean(y, B units) - mean(y, A units), Welch t interval (welchTTest)
 *   monitoring: the always-valid interval over random pairs of units (the i-th B unit and the
 *   i-th A unit in unit order: sizes are drawn independently and the assignment is random, so the pair differences are
 *   independent with mean the effect). Evidence in a split accrues in units, not days: a
 *   day-level sequence would treat the units as fixed and ignore how much they differ.
 *   truth: every unit under A and under B on its seed; GTE = mean over units of (B - A).
 * Seeds: unit k uses `${seed}/unit${k}`; sizes RandomStream(seed, 'unit-sizes'); the
 * assignment RandomStream(seed, 'unit-assignment') (a shuffle, then the first half runs B).
 */
import quantile from '@stdlib/stats-base-dists-normal-quantile';
import { buildMarketModel, type MarketModel } from '../../env/model.js';
import { makeEnv } from '../../env/env.js';
import { configError } from '../../core/errors.js';
import { RandomStream } from '../../core/random.js';
import type { Scenario } from '../../scenarios/schema.js';
import { alwaysValidInterval, welchTTest } from '../statistics/index.js';
import { armAgent, type ArmName, type ArmSpecs } from './arm-policy.js';
import { meanOf, runDays } from './daily-run.js';
import { intervalOf, withTruth, type OnlineExperimentReport } from './report.js';
import { globalEffect, type MarketUnit } from './truth.js';

export interface UnitSplitOptions {
  /** Number of units (at least 4: two per arm). */
  readonly units: number;
  /** Standard deviation of the log size multiplier across units (default 0.3; 0: identical units). */
  readonly heterogeneity?: number;
  readonly days?: number;
  readonly seed: number;
  readonly level?: number;
}

/** The scenario of a unit whose demand is `multiplier` times the base scenario's. */
export function scaledScenario(scenario: Scenario, multiplier: number): Scenario {
  const demand = scenario.demand;
  switch (demand.kind) {
    case 'logit':
      return { ...scenario, demand: { ...demand, segments: demand.segments.map((segment) => ({ ...segment, arrivalRate: segment.arrivalRate * multiplier })) } };
    case 'linear':
      return { ...scenario, demand: { ...demand, intercept: demand.intercept * multiplier, slope: demand.slope * multiplier } };
    case 'constant-elasticity':
    case 'exponential':
      return { ...scenario, demand: { ...demand, scale: demand.scale * multiplier } };
  }
}

export function splitUnits(scenario: Scenario, count: number, seed: number, heterogeneity: number): MarketUnit[] {
  const sizes = new RandomStream(seed, 'unit-sizes');
  return Array.from({ length: count }, (_, index) => {
    const z = quantile(Math.min(1 - 1e-12, Math.max(1e-12, sizes.next())), 0, 1);
    const multiplier = heterogeneity === 0 ? 1 : Math.exp(heterogeneity * z - (heterogeneity * heterogeneity) / 2);
    const model = multiplier === 1 ? buildMarketModel(scenario) : buildMarketModel(scaledScenario(scenario, multiplier));
    return { model, seed: `${seed}/unit${index}` };
  });
}

/** A seeded shuffle of the units; the first half runs B. */
export function splitAssignment(count: number, seed: number): ArmName[] {
  const stream = new RandomStream(seed, 'unit-assignment');
  const order = Array.from({ length: count }, (_, index) => index);
  for (let index = count - 1; index > 0; index--) {
    const other = Math.floor(stream.next() * (index + 1));
    [order[index], order[other]] = [order[other] ?? 0, order[index] ?? 0];
  }
  const arms = new Array<ArmName>(count).fill('A');
  order.slice(0, Math.floor(count / 2)).forEach((unit) => (arms[unit] = 'B'));
  return arms;
}

export async function runUnitSplit(model: MarketModel, specs: ArmSpecs, options: UnitSplitOptions): Promise<OnlineExperimentReport> {
  const heterogeneity = options.heterogeneity ?? 0.3;
  const level = options.level ?? 0.95;
  const problems = [
    ...(Number.isInteger(options.units) && options.units >= 4 ? [] : [{ path: ['units'], message: `expected a whole number of units >= 4 (two per arm), found ${options.units}` }]),
    ...(heterogeneity >= 0 && Number.isFinite(heterogeneity) ? [] : [{ path: ['heterogeneity'], message: `expected a finite number >= 0, found ${heterogeneity}` }]),
  ];
  if (problems.length > 0) throw configError('cannot run this split', problems);
  const days = Math.min(options.days ?? model.horizon, model.horizon);
  const units = splitUnits(model.scenario, options.units, options.seed, heterogeneity);
  const arms = splitAssignment(options.units, options.seed);
  const unitValues: { unit: number; arm: ArmName; meanReward: number }[] = [];
  const daily: { A: number[][]; B: number[][] } = { A: [], B: [] };
  for (const [index, unit] of units.entries()) {
    const arm = arms[index] ?? 'A';
    const env = makeEnv(unit.model, { maxSteps: days });
    const agent = await armAgent(env, arm === 'A' ? specs.a : specs.b, options.seed);
    const rewards = runDays(env, unit.seed, days, (observation) => agent.act(observation, { explore: false }));
    agent.dispose();
    daily[arm].push(rewards);
    unitValues.push({ unit: index, arm, meanReward: meanOf(rewards) });
  }
  const valuesOf = (arm: ArmName) => unitValues.filter((value) => value.arm === arm).map((value) => value.meanReward);
  const test = welchTTest(valuesOf('B'), valuesOf('A'), level);
  const dayCount = Math.min(...daily.A.map((rewards) => rewards.length), ...daily.B.map((rewards) => rewards.length));
  const pairsB = valuesOf('B');
  const pairsA = valuesOf('A');
  const pairDifferences = pairsB.slice(0, pairsA.length).map((value, index) => value - (pairsA[index] ?? 0));
  const truth = await globalEffect(units, specs, days, options.seed);
  return withTruth(
    {
      design: 'split',
      scenario: model.scenario.id,
      policies: { a: specs.a, b: specs.b },
      seed: options.seed,
      days: dayCount,
      ...intervalOf(test, level),
      method: `Welch t interval between ${valuesOf('B').length} B units and ${valuesOf('A').length} A units (unit value: mean daily reward), heterogeneity ${heterogeneity}`,
      alwaysValid: alwaysValidInterval(pairDifferences, { level }),
      flags: [],
      details: { units: unitValues, heterogeneity },
    },
    truth,
  );
}
