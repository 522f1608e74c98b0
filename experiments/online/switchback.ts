/**
 * Switchback (time-split) experiment: one market over the horizon, cut into blocks of
 * `blockDays` days; consecutive blocks are randomised in pairs (one A block and one B block,
 * the order by a seeded coin), so slow trends (season, weather) cancel within a pair.
 * The first `burnInDays` days of every block are dropped: they still carry the previous
 * block's policy (reference prices, the loyal base, stock, rivals' reactions).
 *
 *   pair difference d_j = mean reward on B's kept days - mean reward on A's kept days
 *   estimate = mean_j d_j, t interval with J - 1 df (oneSampleTTest), and the always-valid
 *   mSPRT interval over d_1..d_J for monitoring.
 *
 * Carry-over makes short blocks biased: a block inherits the state the other policy left
 * (e.g. a high-price block starts with reference prices pulled down by the low-price block,
 * so loss aversion makes it look worse than a market that always ran it). Longer blocks and
 * burn-in shrink the bias at the cost of fewer independent pairs (wider intervals).
 * A trailing incomplete pair is not used. Assignment draws from RandomStream(seed, 'switchback').
 */
import { makeEnv } from '../../env/env.js';
import { configError } from '../../core/errors.js';
import type { MarketModel } from '../../env/model.js';
import { RandomStream } from '../../core/random.js';
import { alwaysValidInterval, oneSampleTTest } from '../statistics/index.js';
import { armAgent, type ArmName, type ArmSpecs } from './arm-policy.js';
import { meanOf, runDays } from './daily-run.js';
import { intervalOf, withTruth, type OnlineExperimentReport } from './report.js';
import { globalEffect } from './truth.js';
import { carryOverMechanisms, hasCarryOver } from './carry-over.js';

export interface SwitchbackOptions {
  /** Days per block (each block runs one policy). */
  readonly blockDays: number;
  /** Days dropped at the start of every block (default 0). */
  readonly burnInDays?: number;
  /** Days to run (default: the scenario's horizon). */
  readonly days?: number;
  readonly seed: number;
  /** Confidence level (default 0.95). */
  readonly level?: number;
}

export function switchbackAssignment(blocks: number, seed: number): ArmName[] {
  const stream = new RandomStream(seed, 'switchback');
  const arms: ArmName[] = [];
  for (let pair = 0; pair * 2 < blocks; pair++) {
    const aFirst = stream.next() < 0.5;
    arms.push(aFirst ? 'A' : 'B', aFirst ? 'B' : 'A');
  }
  return arms.slice(0, blocks);
}

export async function runSwitchback(model: MarketModel, specs: ArmSpecs, options: SwitchbackOptions): Promise<OnlineExperimentReport> {
  const days = Math.min(options.days ?? model.horizon, model.horizon);
  const burnInDays = options.burnInDays ?? 0;
  const level = options.level ?? 0.95;
  const blockCount = Math.floor(days / options.blockDays);
  const problems = [
    ...(Number.isInteger(options.blockDays) && options.blockDays >= 1 ? [] : [{ path: ['blockDays'], message: `expected a whole number of days >= 1, found ${options.blockDays}` }]),
    ...(Number.isInteger(burnInDays) && burnInDays >= 0 && burnInDays < options.blockDays
      ? []
      : [{ path: ['burnInDays'], message: `expected a whole number of days from 0 to blockDays - 1 (${options.blockDays - 1}), found ${burnInDays}` }]),
    ...(blockCount >= 4 ? [] : [{ path: ['blockDays'], message: `expected at least 4 blocks (2 pairs) in ${days} days, found ${blockCount} blocks of ${options.blockDays} days` }]),
  ];
  if (problems.length > 0) throw configError('cannot run this switchback', problems);

  const arms = switchbackAssignment(blockCount - (blockCount % 2), options.seed);
  const env = makeEnv(model, { maxSteps: days });
  const agents = { A: await armAgent(env, specs.a, options.seed), B: await armAgent(env, specs.b, options.seed) };
  const usedDays = arms.length * options.blockDays;
  const armOfDay = (day: number): ArmName => arms[Math.floor(day / options.blockDays)] ?? 'A';
  const rewards = runDays(env, options.seed, usedDays, (observation, day) => agents[armOfDay(day)].act(observation, { explore: false }));
  agents.A.dispose();
  agents.B.dispose();

  const blockMeans = arms.map((_, block) => meanOf(rewards.slice(block * options.blockDays + burnInDays, (block + 1) * options.blockDays)));
  const pairDifferences: number[] = [];
  for (let pair = 0; pair * 2 + 1 < arms.length; pair++) {
    const first = blockMeans[pair * 2] ?? Number.NaN;
    const second = blockMeans[pair * 2 + 1] ?? Number.NaN;
    if (!Number.isFinite(first) || !Number.isFinite(second)) break; // the market ended early
    pairDifferences.push(arms[pair * 2] === 'B' ? first - second : second - first);
  }
  if (pairDifferences.length < 2) throw configError('cannot run this switchback', [{ path: ['days'], message: `expected at least 2 complete pairs of blocks, found ${pairDifferences.length} (the market ended on day ${rewards.length})` }]);
  const test = oneSampleTTest(pairDifferences, level);
  const truth = await globalEffect([{ model, seed: options.seed }], specs, usedDays, options.seed);
  return withTruth(
    {
      design: 'switchback',
      scenario: model.scenario.id,
      policies: { a: specs.a, b: specs.b },
      seed: options.seed,
      days: rewards.length,
      ...intervalOf(test, level),
      method: `paired blocks: t interval over ${pairDifferences.length} pair differences (B block mean - A block mean), ${options.blockDays}-day blocks, ${burnInDays} burn-in day(s) dropped per block`,
      alwaysValid: alwaysValidInterval(pairDifferences, { level }),
      flags: hasCarryOver(model) ? [`carry-over: ${carryOverMechanisms(model).join(', ')} outlive a block; short blocks${burnInDays === 0 ? ' without burn-in' : ''} are biased (compare the bias with longer blocks or more burn-in)`] : [],
      details: { blockDays: options.blockDays, burnInDays, assignment: arms.join(''), blockMeans, pairDifferences, carryOver: carryOverMechanisms(model) },
    },
    truth,
  );
}
