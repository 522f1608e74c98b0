/**
 * `pricelab bench coupons`: market-days per second of the coupon market (env/coupons/), on one
 * core, with the reference measured in the same run: MarketEnv.step on steady-state-v1 (the
 * price market's single env). Rows:
 *
 *   couponDay       CouponDay.advance for one market of the scenario (the kernel alone)
 *   couponDayVector CouponDay.advance for `markets` markets in lockstep, per market-day
 *   couponEnv       CouponEnv.step (the Env contract, one market), actions from a seeded stream
 *   couponVector    CouponVectorEnv.step (`markets` markets, auto-reset), per market-day
 *   reference       MarketEnv.step on steady-state-v1
 *
 * The kernel rows replay a fixed list of actions (price index and campaign, drawn once from a
 * seeded stream, so prices change most days as an exploring learner's do) and start a new
 * episode (state reset, stream reseeded) every horizon. `baseline` (another build's dist/
 * folder) measures that build's couponDay and couponEnv in the same rounds, so a change is
 * shown against the code before it on the same machine load. Rounds alternate the items;
 * each figure is the median over the rounds on both clocks (wall, and this process's CPU
 * time). Benchmarks print JSON; they are not tests.
 */
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PricelabError } from '../core/errors.js';
import { createStream } from '../core/random.js';
import { makeEnv } from '../env/env.js';
import { buildMarketModel } from '../env/model.js';
import { loadScenario } from '../scenarios/load.js';
import { couponScenarioPath } from './fairness-check.js';
import type { Scenario } from '../scenarios/schema.js';
import type { BaselineOptions, BenchHead } from './bench-head.js';

export interface CouponSpeedOptions extends BaselineOptions {
  /** A coupon scenario id (scenarios/coupons/<id>.json) or path (default: festival-coupon-v1). */
  readonly scenario?: string;
  readonly markets?: number;
  /** Seconds per item per round. */
  readonly seconds?: number;
  readonly rounds?: number;
}

export interface DaysRate {
  /** Market-days (or steps) per second of wall-clock time, median over the rounds. */
  readonly perSecond: number;
  /** Per second of this process's CPU time (user + system), median over the rounds. */
  readonly perCpuSecond: number;
  readonly samples: readonly number[];
}

export interface CouponSpeedBench extends BenchHead<'coupons'> {
  readonly scenario: string;
  readonly markets: number;
  readonly rounds: number;
  readonly reference: { readonly what: string; readonly rate: DaysRate };
  readonly builds: readonly {
    readonly dist: string;
    readonly couponDay: DaysRate;
    readonly couponDayVector: DaysRate;
    readonly couponEnv: DaysRate;
    /** Only this build has the vector coupon env. */
    readonly couponVector?: DaysRate;
  }[];
}

/** The coupon modules of one build, loaded from its dist/ folder. */
interface CouponBuild {
  readonly dist: string;
  readonly buildMarketModel: (scenario: Scenario) => { readonly ladder: Float64Array; readonly segments: readonly unknown[] };
  readonly buildCouponModel: (scenario: Scenario, segments: readonly unknown[], maxPrice: number) => { readonly campaignCount: number };
  readonly CouponState: new (model: unknown, markets: number) => { reset(): void };
  readonly CouponDay: new (state: unknown) => { advance(prices: Float64Array, campaigns: Int32Array, stream: unknown): void };
  readonly RandomStream: new (seed: number | string, component: string) => { reseed(seed: number | string, component: string): void };
  readonly CouponEnv: new (scenario: Scenario) => { readonly actionSpace: { readonly n: number }; readonly maxSteps: number; reset(options: { seed: number }): unknown; step(action: number): { truncated: boolean } };
  readonly CouponVectorEnv?: new (scenario: Scenario, options: { count: number; seed: number }) => { readonly actionSpace: { readonly n: number }; reset(): unknown; step(actions: Int32Array): void };
}

const thisDist = (): string => resolve(fileURLToPath(new URL('..', import.meta.url)));

async function loadBuild(dist: string): Promise<CouponBuild> {
  const suffix = import.meta.url.endsWith('.ts') && dist === thisDist() ? '.ts' : '.js';
  const load = async (path: string): Promise<Record<string, unknown>> => {
    const file = join(dist, `${path}${suffix}`);
    if (!existsSync(file)) throw new PricelabError('config', `no ${path}${suffix} in ${dist}`, [{ path: ['baseline'], message: `expected a built dist/ folder (npx tsc -p tsconfig.build.json), found no ${path}${suffix}` }]);
    return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  };
  const [model, couponModel, state, day, random, env] = await Promise.all([load('env/model'), load('env/coupons/coupon-model'), load('env/coupons/coupon-state'), load('env/coupons/coupon-day'), load('core/random'), load('env/coupons/coupon-env')]);
  const vectorFile = join(dist, `env/coupons/coupon-vector-env${suffix}`);
  const vector = existsSync(vectorFile) ? ((await import(pathToFileURL(vectorFile).href)) as Record<string, unknown>) : undefined;
  return {
    dist,
    buildMarketModel: model.buildMarketModel as CouponBuild['buildMarketModel'],
    buildCouponModel: couponModel.buildCouponModel as CouponBuild['buildCouponModel'],
    CouponState: state.CouponState as CouponBuild['CouponState'],
    CouponDay: day.CouponDay as CouponBuild['CouponDay'],
    RandomStream: random.RandomStream as CouponBuild['RandomStream'],
    CouponEnv: env.CouponEnv as CouponBuild['CouponEnv'],
    ...(vector ? { CouponVectorEnv: vector.CouponVectorEnv as NonNullable<CouponBuild['CouponVectorEnv']> } : {}),
  };
}

interface Sample {
  readonly perSecond: number;
  readonly perCpuSecond: number;
}

/** Runs `chunk` (which does `daysPerChunk` market-days) for about `seconds`. */
function time(chunk: () => void, daysPerChunk: number, seconds: number): Sample {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  const deadline = wall + seconds * 1000;
  let days = 0;
  while (performance.now() < deadline) {
    chunk();
    days += daysPerChunk;
  }
  const used = process.cpuUsage(cpu);
  return { perSecond: days / ((performance.now() - wall) / 1000), perCpuSecond: days / ((used.user + used.system) / 1e6) };
}

/** A chunk of coupon days for `markets` markets in lockstep, a new episode every `horizon` days. */
function kernelChunk(build: CouponBuild, scenario: Scenario, markets: number, horizon: number): () => void {
  const market = build.buildMarketModel(scenario);
  const model = build.buildCouponModel(scenario, market.segments, Math.max(...market.ladder));
  const state = new build.CouponState(model, markets);
  const day = new build.CouponDay(state);
  const stream = new build.RandomStream(0, 'coupons');
  const draw = createStream(3, 'bench');
  const plans = Array.from({ length: 64 }, () => ({
    prices: Float64Array.from({ length: markets }, () => market.ladder[Math.floor(draw() * market.ladder.length)] ?? 0),
    campaigns: Int32Array.from({ length: markets }, () => Math.floor(draw() * (model.campaignCount + 1)) - 1),
  }));
  let today = 0;
  let episode = 0;
  return () => {
    for (let step = 0; step < 16; step++) {
      if (today === horizon) {
        today = 0;
        state.reset();
        stream.reseed(++episode, 'coupons');
      }
      const plan = plans[(episode * horizon + today) & 63]!;
      day.advance(plan.prices, plan.campaigns, stream);
      today++;
    }
  };
}

function envChunk(build: CouponBuild, scenario: Scenario): () => void {
  const env = new build.CouponEnv(scenario);
  const draw = createStream(4, 'bench');
  const actions = Int32Array.from({ length: 1024 }, () => Math.floor(draw() * env.actionSpace.n));
  let episode = 0;
  let at = 0;
  env.reset({ seed: episode });
  return () => {
    for (let step = 0; step < 16; step++) {
      if (env.step(actions[at++ & 1023]!).truncated) env.reset({ seed: ++episode });
    }
  };
}

function vectorChunk(build: CouponBuild, scenario: Scenario, markets: number): (() => void) | undefined {
  if (!build.CouponVectorEnv) return undefined;
  const env = new build.CouponVectorEnv(scenario, { count: markets, seed: 1 });
  const draw = createStream(5, 'bench');
  const actionSets = Array.from({ length: 64 }, () => Int32Array.from({ length: markets }, () => Math.floor(draw() * env.actionSpace.n)));
  let round = 0;
  env.reset();
  return () => {
    for (let step = 0; step < 16; step++) env.step(actionSets[round++ & 63]!);
  };
}

function referenceChunk(): () => void {
  const env = makeEnv(buildMarketModel(loadScenario('steady-state-v1').scenario));
  const draw = createStream(1, 'bench');
  const n = env.actionSpace.n;
  let episode = 0;
  env.reset({ seed: episode });
  return () => {
    for (let step = 0; step < 16; step++) {
      const result = env.step(Math.floor(draw() * n));
      if (result.terminated || result.truncated) env.reset({ seed: ++episode });
    }
  };
}

function summary(samples: readonly Sample[]): DaysRate {
  const median = (values: number[]) => {
    const sorted = values.sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  };
  return { perSecond: median(samples.map((sample) => sample.perSecond)), perCpuSecond: median(samples.map((sample) => sample.perCpuSecond)), samples: samples.map((sample) => Math.round(sample.perSecond)) };
}

export async function benchCouponSpeed(options: CouponSpeedOptions = {}): Promise<CouponSpeedBench> {
  const scenarioId = couponScenarioPath(options.scenario ?? 'festival-coupon-v1');
  const markets = options.markets ?? 64;
  const seconds = options.seconds ?? 1;
  const rounds = options.rounds ?? 5;
  const scenario = loadScenario(scenarioId).scenario;
  const builds = [await loadBuild(thisDist()), ...(options.baseline === undefined ? [] : [await loadBuild(resolve(options.baseline))])];
  const items: { readonly name: string; readonly build: number; readonly days: number; readonly chunk: () => void; readonly samples: Sample[] }[] = [];
  items.push({ name: 'reference', build: -1, days: 16, chunk: referenceChunk(), samples: [] });
  builds.forEach((build, index) => {
    items.push({ name: 'couponDay', build: index, days: 16, chunk: kernelChunk(build, scenario, 1, scenario.horizonDays), samples: [] });
    items.push({ name: 'couponDayVector', build: index, days: 16 * markets, chunk: kernelChunk(build, scenario, markets, scenario.horizonDays), samples: [] });
    items.push({ name: 'couponEnv', build: index, days: 16, chunk: envChunk(build, scenario), samples: [] });
    const vector = vectorChunk(build, scenario, markets);
    if (vector) items.push({ name: 'couponVector', build: index, days: 16 * markets, chunk: vector, samples: [] });
  });
  const before = loadavg();
  for (const item of items) time(item.chunk, item.days, Math.min(0.5, seconds)); // warm-up: JIT tiers
  for (let round = 0; round < rounds; round++) {
    options.progress?.(`round ${round + 1} of ${rounds}`);
    for (const item of items) item.samples.push(time(item.chunk, item.days, seconds));
  }
  const after = loadavg();
  const rate = (name: string, build: number) => {
    const item = items.find((entry) => entry.name === name && entry.build === build);
    return item ? summary(item.samples) : undefined;
  };
  return {
    benchmark: 'coupons',
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    scenario: scenario.id,
    markets,
    rounds,
    loadAverage: { before, after },
    reference: { what: 'MarketEnv.step on steady-state-v1 (steps per second)', rate: rate('reference', -1)! },
    builds: builds.map((build, index) => {
      const vector = rate('couponVector', index);
      return { dist: build.dist, couponDay: rate('couponDay', index)!, couponDayVector: rate('couponDayVector', index)!, couponEnv: rate('couponEnv', index)!, ...(vector ? { couponVector: vector } : {}) };
    }),
  };
}
