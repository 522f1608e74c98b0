/**
 * Arm statistics shared by the classic bandits (epsilon-greedy, UCB1, Thompson sampling),
 * held by their common agent shell (agents/arm-bandit.ts).
 *
 * Per arm it keeps the sufficient statistics of its rewards (count, sum, sum of squares),
 * in one of three memories, chosen by `nonStationary`:
 *   - none:           every reward since the start counts once (a stationary market).
 *   - sliding-window: only the last `window` steps count, over all arms together, as in
 *                     SW-UCB (Garivier & Moulines 2011); an arm not played within the window
 *                     has no statistics again and is played afresh.
 *   - discounted:     every step multiplies all arms' statistics by `gamma` before the new
 *                     reward is added, as in D-UCB (Garivier & Moulines 2011): a reward k steps
 *                     old weighs gamma^k, the memory is about 1/(1 - gamma) steps.
 * Counts are effective counts (windowed or discounted), so means, variances and the total
 * count follow the chosen memory. Play counts (not discounted: within the window, or since
 * the start) say whether an arm still needs its first plays. It also keeps, over the whole history, the number of
 * steps and the lowest and highest reward seen (the running reward range that UCB1 and
 * LinUCB scale their bonus by).
 *
 * Sliding-window sums are updated by adding the new reward and subtracting the evicted
 * one; once per `window` evictions they are recomputed from the buffer, so rounding never
 * accumulates. The JSON form (bandit.json) holds the state verbatim, so a restored agent
 * computes bit-identical means.
 *
 * Also here: the config parts the bandits share (nonStationary, rewardRange), the argmax
 * with ties to the lowest index, config parsing that lists every problem, and reading and
 * checking bandit.json.
 *
 * Source: A. Garivier, E. Moulines, "On upper-confidence bound policies for switching
 * bandit problems", ALT 2011, LNCS 6925, pp. 174-188.
 */
import { z } from 'zod';
import type { Explanation } from './agent.js';
import { PricelabError, configError, protocolError, type Problem } from '../core/errors.js';
import { jsonFile, readJsonFile, type AgentExport } from './agent.js';

export const nonStationarySchema = z
  .discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('none').describe('stationary: every reward since the start counts once') }),
    z.strictObject({
      kind: z.literal('sliding-window').describe('only the last `window` steps count (SW-UCB, Garivier & Moulines 2011)'),
      window: z.number().int().min(1).max(1_000_000).describe('steps remembered, over all arms together (tau); about the length of a stable season'),
    }),
    z.strictObject({
      kind: z.literal('discounted').describe('every step multiplies all statistics by gamma (D-UCB, Garivier & Moulines 2011)'),
      gamma: z.number().gt(0).lt(1).describe('discount per step; memory about 1/(1 - gamma) steps (0.99: about 100)'),
    }),
  ])
  .default({ kind: 'none' })
  .describe('memory of the arm statistics: none (stationary), sliding-window or discounted, for markets whose best price moves (seasons)');

export type NonStationary = z.output<typeof nonStationarySchema>;

export const rewardRangeSchema = z
  .discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('running').describe('the lowest and highest reward seen so far (1 while they are equal)') }),
    z
      .strictObject({
        kind: z.literal('fixed').describe('a known range, in reward units (currency per step)'),
        low: z.number().describe('lowest reward expected per step'),
        high: z.number().describe('highest reward expected per step'),
      })
      .superRefine(
        (range, context) => {
          const { low, high } = range as { low: unknown; high: unknown };
          if (typeof low === 'number' && typeof high === 'number' && !(high > low)) context.addIssue({ code: 'custom', path: ['high'], message: `expected high > low (${low}), found ${high}` });
        },
        { when: () => true },
      ),
  ])
  .default({ kind: 'running' })
  .describe('rewards (profits) are not in [0, 1]: the confidence bonus is scaled by this range, so the bandit sees rewards as (r - low) / (high - low)');

export type RewardRange = z.output<typeof rewardRangeSchema>;

/** low and width (high - low, > 0) of the reward range in use. */
export interface RewardScale {
  readonly low: number;
  readonly width: number;
}

export function rewardScale(range: RewardRange, observedLow: number | null, observedHigh: number | null): RewardScale {
  if (range.kind === 'fixed') return { low: range.low, width: range.high - range.low };
  if (observedLow === null || observedHigh === null) return { low: 0, width: 1 };
  const width = observedHigh - observedLow;
  return { low: observedLow, width: width > 0 && Number.isFinite(width) ? width : 1 };
}

/** The index of the largest value among the eligible ones; ties go to the lowest index; -1 if none is eligible. */
export function argmax(values: ArrayLike<number>, eligible?: (index: number) => boolean): number {
  let best = -1;
  let bestValue = Number.NEGATIVE_INFINITY;
  for (let index = 0; index < values.length; index++) {
    if (eligible && !eligible(index)) continue;
    const value = values[index]!;
    if (best < 0 || value > bestValue) {
      best = index;
      bestValue = value;
    }
  }
  return best;
}

/** Parses a config with the kind's schema; a bad config is refused with every problem listed by path. */
export function parseConfig<Schema extends z.ZodType>(schema: Schema, json: unknown, kind: string): z.output<Schema> {
  const parsed = schema.safeParse(json ?? {});
  if (parsed.success) return parsed.data;
  throw configError(`the ${kind} config is not valid`, parsed.error.issues.map(issueToProblem));
}

function issueToProblem(issue: z.core.$ZodIssue): Problem {
  return { path: ['config', ...issue.path.map((part) => (typeof part === 'symbol' ? String(part) : part))], message: issue.message };
}

/** Refuses a transition a bandit cannot learn from, saying what was expected. */
export function checkTransition(action: number, reward: number, arms: number): void {
  if (!Number.isInteger(action) || action < 0 || action >= arms) throw protocolError(`expected an action in 0..${arms - 1} (a ladder index), found ${action}`);
  if (!Number.isFinite(reward)) throw protocolError(`expected a finite reward, found ${reward}`);
}

/** Reads bandit.json from an export and checks its shape with `schema`; problems are integrity errors. */
export function readBanditFile<Schema extends z.ZodType>(exported: AgentExport, schema: Schema): z.output<Schema> {
  const json = readJsonFile<unknown>(exported.files[banditFileName], banditFileName);
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  throw new PricelabError(
    'integrity',
    `${banditFileName} of the ${exported.kind} export is not valid`,
    parsed.error.issues.map((issue) => ({ path: [banditFileName, ...issue.path.map((part) => (typeof part === 'symbol' ? String(part) : part))], message: issue.message })),
  );
}

export const banditFileName = 'bandit.json';
export const banditFormat = 'pricelab/bandit-statistics@1';

const nullableNumber = z.number().nullable();

export const armStatisticsJsonSchema = z.strictObject({
  memory: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('none') }),
    z.strictObject({ kind: z.literal('sliding-window'), window: z.number().int().min(1) }),
    z.strictObject({ kind: z.literal('discounted'), gamma: z.number().gt(0).lt(1) }),
  ]),
  steps: z.number().int().nonnegative(),
  observedLow: nullableNumber,
  observedHigh: nullableNumber,
  counts: z.array(z.number().nonnegative()),
  sums: z.array(z.number()),
  sumsOfSquares: z.array(z.number()),
  plays: z.array(z.number().int().nonnegative()),
  /** Sliding window only: the remembered steps, oldest first. */
  recent: z.strictObject({ arms: z.array(z.number().int().nonnegative()), rewards: z.array(z.number()) }).optional(),
  /** Sliding window only: evictions since the sums were last recomputed from the buffer. */
  evictionsSinceRecompute: z.number().int().nonnegative().optional(),
});

export type ArmStatisticsJson = z.output<typeof armStatisticsJsonSchema>;

export class ArmStatistics {
  readonly arms: number;
  readonly memory: NonStationary;
  /** Steps observed since the start (whatever the memory). */
  steps = 0;
  /** Lowest and highest reward ever seen (null before the first). */
  observedLow: number | null = null;
  observedHigh: number | null = null;
  private readonly counts: Float64Array;
  private readonly sums: Float64Array;
  private readonly sumsOfSquares: Float64Array;
  /** Times each arm was played: ever (none, discounted) or within the window (sliding-window). */
  private readonly playCounts: Float64Array;
  private readonly windowArms: Int32Array;
  private readonly windowRewards: Float64Array;
  /** Sliding window: next slot to write, and how many slots hold a step. */
  private head = 0;
  private filled = 0;
  private evictionsSinceRecompute = 0;

  constructor(arms: number, memory: NonStationary) {
    this.arms = arms;
    this.memory = memory;
    this.counts = new Float64Array(arms);
    this.sums = new Float64Array(arms);
    this.sumsOfSquares = new Float64Array(arms);
    this.playCounts = new Float64Array(arms);
    const window = memory.kind === 'sliding-window' ? memory.window : 0;
    this.windowArms = new Int32Array(window);
    this.windowRewards = new Float64Array(window);
  }

  record(arm: number, reward: number): void {
    checkTransition(arm, reward, this.arms);
    this.steps++;
    if (this.observedLow === null || reward < this.observedLow) this.observedLow = reward;
    if (this.observedHigh === null || reward > this.observedHigh) this.observedHigh = reward;
    const memory = this.memory;
    if (memory.kind === 'discounted') {
      const gamma = memory.gamma;
      for (let index = 0; index < this.arms; index++) {
        this.counts[index]! *= gamma;
        this.sums[index]! *= gamma;
        this.sumsOfSquares[index]! *= gamma;
      }
    } else if (memory.kind === 'sliding-window' && this.filled === memory.window) {
      const evictedArm = this.windowArms[this.head]!;
      const evictedReward = this.windowRewards[this.head]!;
      this.counts[evictedArm]! -= 1;
      this.sums[evictedArm]! -= evictedReward;
      this.sumsOfSquares[evictedArm]! -= evictedReward * evictedReward;
      this.playCounts[evictedArm]! -= 1;
      this.evictionsSinceRecompute++;
    }
    this.counts[arm]! += 1;
    this.sums[arm]! += reward;
    this.sumsOfSquares[arm]! += reward * reward;
    this.playCounts[arm]! += 1;
    if (memory.kind === 'sliding-window') {
      this.windowArms[this.head] = arm;
      this.windowRewards[this.head] = reward;
      this.head = (this.head + 1) % memory.window;
      if (this.filled < memory.window) this.filled++;
      if (this.evictionsSinceRecompute >= memory.window) this.recomputeFromWindow();
    }
  }

  /** Effective number of rewards of the arm (windowed or discounted). */
  count(arm: number): number {
    return this.counts[arm] ?? 0;
  }

  /** Effective number of rewards over all arms: t, min(t, window) or the discounted sum. */
  totalCount(): number {
    let total = 0;
    for (let index = 0; index < this.arms; index++) total += this.counts[index]!;
    return total;
  }

  /** Mean reward of the arm; NaN when it has no rewards in memory. */
  mean(arm: number): number {
    const count = this.count(arm);
    return count > 0 ? (this.sums[arm] ?? 0) / count : Number.NaN;
  }

  /** Sum of squared deviations from the mean (S = sum (r - mean)^2), never negative. */
  squaredDeviations(arm: number): number {
    const count = this.count(arm);
    if (!(count > 0)) return 0;
    const sum = this.sums[arm] ?? 0;
    return Math.max(0, (this.sumsOfSquares[arm] ?? 0) - (sum * sum) / count);
  }

  /** Times the arm was played: within the window (sliding-window), else since the start. Not discounted. */
  plays(arm: number): number {
    return this.playCounts[arm] ?? 0;
  }

  /** Has the arm any reward in memory? (Sliding window: played within the window.) */
  played(arm: number): boolean {
    return this.count(arm) > 0;
  }

  /** The lowest arm with no reward in memory, or -1 if every arm has one. */
  firstUnplayedArm(): number {
    for (let index = 0; index < this.arms; index++) if (!this.played(index)) return index;
    return -1;
  }

  /** Every arm's plays and mean reward, and the greedy arm: what a bandit's choice rests on. */
  explain(): Explanation {
    const arms = Array.from({ length: this.arms }, (_, index) => ({ index, pulls: this.count(index), meanReward: this.count(index) > 0 ? this.mean(index) : 0 }));
    return { kind: 'arm-statistics', arms, chosen: this.greedyArm() };
  }

  /** The greedy arm: the best mean among arms with rewards in memory, ties to the lowest index; 0 if none. */
  greedyArm(): number {
    let best = -1;
    let bestValue = Number.NEGATIVE_INFINITY;
    for (let index = 0; index < this.arms; index++) {
      if (!this.played(index)) continue;
      const value = this.mean(index);
      if (best < 0 || value > bestValue) {
        best = index;
        bestValue = value;
      }
    }
    return best < 0 ? 0 : best;
  }

  toJSON(): ArmStatisticsJson {
    const json: ArmStatisticsJson = {
      memory: this.memory,
      steps: this.steps,
      observedLow: this.observedLow,
      observedHigh: this.observedHigh,
      counts: Array.from(this.counts),
      sums: Array.from(this.sums),
      sumsOfSquares: Array.from(this.sumsOfSquares),
      plays: Array.from(this.playCounts),
    };
    if (this.memory.kind === 'sliding-window') {
      const arms: number[] = [];
      const rewards: number[] = [];
      const start = (this.head - this.filled + this.memory.window) % this.memory.window;
      for (let offset = 0; offset < this.filled; offset++) {
        const slot = (start + offset) % this.memory.window;
        arms.push(this.windowArms[slot]!);
        rewards.push(this.windowRewards[slot]!);
      }
      json.recent = { arms, rewards };
      json.evictionsSinceRecompute = this.evictionsSinceRecompute;
    }
    return json;
  }

  /** Rebuilds statistics from their JSON, checking they fit `arms` arms and the configured memory. */
  static fromJSON(json: ArmStatisticsJson, arms: number, memory: NonStationary): ArmStatistics {
    const problems: Problem[] = [];
    const where = (...path: (string | number)[]) => [banditFileName, 'statistics', ...path];
    for (const field of ['counts', 'sums', 'sumsOfSquares', 'plays'] as const) {
      if (json[field].length !== arms) problems.push({ path: where(field), message: `expected ${arms} entries (one per ladder price), found ${json[field].length}` });
    }
    if (JSON.stringify(json.memory) !== JSON.stringify(memory)) {
      problems.push({ path: where('memory'), message: `expected the configured memory ${JSON.stringify(memory)}, found ${JSON.stringify(json.memory)}` });
    }
    if (memory.kind === 'sliding-window') {
      const recent = json.recent;
      if (!recent) problems.push({ path: where('recent'), message: 'expected the remembered steps of the sliding window, found none' });
      else {
        if (recent.arms.length !== recent.rewards.length || recent.arms.length > memory.window) {
          problems.push({ path: where('recent'), message: `expected as many arms as rewards, at most ${memory.window}, found ${recent.arms.length} and ${recent.rewards.length}` });
        }
        recent.arms.forEach((arm, index) => {
          if (arm >= arms) problems.push({ path: where('recent', 'arms', index), message: `expected an arm in 0..${arms - 1}, found ${arm}` });
        });
      }
    }
    if (problems.length > 0) throw new PricelabError('integrity', 'the bandit statistics do not fit this agent', problems);
    const statistics = new ArmStatistics(arms, memory);
    statistics.load(json);
    return statistics;
  }

  /** Replaces these statistics with others of the same arms and memory (checked by `fromJSON`), e.g. from a checkpoint. */
  restore(json: ArmStatisticsJson): void {
    this.load(ArmStatistics.fromJSON(json, this.arms, this.memory).toJSON());
  }

  private load(json: ArmStatisticsJson): void {
    const memory = this.memory;
    this.steps = json.steps;
    this.observedLow = json.observedLow;
    this.observedHigh = json.observedHigh;
    this.counts.set(json.counts);
    this.sums.set(json.sums);
    this.sumsOfSquares.set(json.sumsOfSquares);
    this.playCounts.set(json.plays);
    if (memory.kind === 'sliding-window' && json.recent) {
      this.windowArms.set(json.recent.arms);
      this.windowRewards.set(json.recent.rewards);
      this.filled = json.recent.arms.length;
      this.head = this.filled % memory.window;
      this.evictionsSinceRecompute = json.evictionsSinceRecompute ?? 0;
    }
  }

  private recomputeFromWindow(): void {
    this.counts.fill(0);
    this.sums.fill(0);
    this.sumsOfSquares.fill(0);
    this.playCounts.fill(0);
    // Oldest first, the order bandit.json keeps, so a restored agent recomputes the same sums.
    const window = this.windowArms.length;
    const start = (this.head - this.filled + window) % window;
    for (let offset = 0; offset < this.filled; offset++) {
      const slot = (start + offset) % window;
      const arm = this.windowArms[slot]!;
      const reward = this.windowRewards[slot]!;
      this.counts[arm]! += 1;
      this.sums[arm]! += reward;
      this.sumsOfSquares[arm]! += reward * reward;
      this.playCounts[arm]! += 1;
    }
    this.evictionsSinceRecompute = 0;
  }
}

const classicBanditFileSchema = z.strictObject({
  format: z.literal(banditFormat),
  kind: z.string(),
  statistics: armStatisticsJsonSchema,
});

/** bandit.json of a classic bandit: its kind and its arm statistics. */
export function classicBanditFile(kind: string, statistics: ArmStatistics): Uint8Array {
  return jsonFile({ format: banditFormat, kind, statistics: statistics.toJSON() });
}

/** Reads the arm statistics back from an export of `kind`, checked against the ladder size and the configured memory. */
export function readClassicBanditFile(exported: AgentExport, kind: string, arms: number, memory: NonStationary): ArmStatistics {
  const file = readBanditFile(exported, classicBanditFileSchema);
  if (file.kind !== kind) {
    throw new PricelabError('integrity', `${banditFileName} holds ${file.kind} statistics`, [{ path: [banditFileName, 'kind'], message: `expected "${kind}", found "${file.kind}"` }]);
  }
  return ArmStatistics.fromJSON(file.statistics, arms, memory);
}
