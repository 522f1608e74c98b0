/**
 * Competitor strategy fitting (calibration/competitors.ts), on known answers: rival price
 * series simulated by the simulator's own strategy rules (env/competitors/, through
 * createStrategy) against an exploring price of ours, with Gaussian noise on the posted
 * price (the fit's noise model; the random walk's moves are its own noise), from seeded
 * streams. Every strategy kind, 8 seeds each (56 series): the true kind must be chosen in at
 * least 90% of them and its parameters recovered within tolerance. Odd seeds add a second
 * rival (a random walk), so "the lowest other price" is not always ours.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { calibrateSales } from '../../calibration/calibrate.js';
import { parseColumnMap } from '../../calibration/column-map.js';
import { competitorKinds, competitorSummaryLines, fitCompetitorStrategies, fitRivalStrategy, scenarioCompetitorFields, type CompetitorKind, type PriceHistory, type RivalStrategyFit } from '../../calibration/competitors.js';
import { readSales, type SalesData } from '../../calibration/reader.js';
import { createStrategy } from '../../env/competitors/create.js';
import type { PricingStrategy } from '../../env/competitors/strategy.js';
import { createStream } from '../../core/random.js';
import { normalFromUniforms } from '../../env/sampling.js';
import { LogitStageGame } from '../../env/stage-game.js';
import { strategySchema, type Strategy } from '../../scenarios/schema.js';
import { validateScenario } from '../../scenarios/load.js';
import { oneSegmentScenario, simulateSalesLog } from './simulated-log.js';

const periods = 120;
const noise = 0.05;
const seeds = [1, 2, 3, 4, 5, 6, 7, 8];
const demand = { qualities: [8, 8], priceSensitivity: 0.7 };
const bestResponseCost = 7;

interface Truth {
  readonly kind: CompetitorKind;
  /** The strategy in force per period (fixed changes its price twice). */
  readonly strategyAt: (period: number) => Strategy;
  readonly unitCost: number;
  readonly noisy: boolean;
}

const truths: Truth[] = [
  { kind: 'fixed', strategyAt: (period) => ({ kind: 'fixed', price: period < 40 ? 10 : period < 85 ? 11 : 9.5 }), unitCost: 6, noisy: true },
  { kind: 'random-walk', strategyAt: () => ({ kind: 'random-walk', step: 0.4, min: 8, max: 12 }), unitCost: 6, noisy: false },
  { kind: 'match', strategyAt: () => ({ kind: 'match', floorMargin: 0.2 }), unitCost: 7.5, noisy: true },
  { kind: 'undercut', strategyAt: () => ({ kind: 'undercut', amount: 0.5, floorMargin: 0.2 }), unitCost: 7, noisy: true },
  { kind: 'two-bound', strategyAt: () => ({ kind: 'two-bound', step: 0.4, floor: 8.5, ceiling: 11.5 }), unitCost: 6, noisy: true },
  { kind: 'ratio-follower', strategyAt: () => ({ kind: 'ratio-follower', target: 'focal', ratio: 1.08 }), unitCost: 6, noisy: true },
  { kind: 'best-response', strategyAt: () => ({ kind: 'best-response' }), unitCost: bestResponseCost, noisy: true },
];

/** Our price: uniform on [8, 12] each period (the exploration stream); the rival by its rule; a second rival (odd seeds) by a random walk. */
function simulate(truth: Truth, seed: number): PriceHistory {
  const exploration = createStream(seed, 'exploration');
  const rivalStream = createStream(seed, 'competitors');
  const noiseStream = createStream(seed, 'noise');
  const secondRival = seed % 2 === 1;
  const firms = secondRival ? 3 : 2;
  const game = new LogitStageGame({
    firms: [...demand.qualities, ...(secondRival ? [-50] : [])].map((quality, index) => ({ quality, unitCost: index === 1 ? truth.unitCost : 0 })),
    segments: [{ weight: 1, priceSensitivity: demand.priceSensitivity, scale: 1 }],
    outsideUtility: 0,
  });
  const strategies = new Map<string, PricingStrategy>();
  const strategyAt = (period: number) => {
    const config = truth.strategyAt(period);
    const key = JSON.stringify(config);
    if (!strategies.has(key)) strategies.set(key, createStrategy(config, { firmIndexByName: () => undefined, bestResponder: game }));
    return strategies.get(key)!;
  };
  const walk = createStrategy({ kind: 'random-walk', step: 0.3, min: 9, max: 12 }, { firmIndexByName: () => undefined });
  const prices = Array.from({ length: firms }, () => new Float64Array(periods));
  const last = Float64Array.from({ length: firms }, (_, index) => (index === 0 ? 10 : 10.5));
  for (let period = 0; period < periods; period++) {
    const ours = 8 + 4 * exploration();
    const uniform = rivalStream();
    let rival = strategyAt(period).nextPrice({ day: period, firmIndex: 1, lastPrices: last, unitCost: truth.unitCost, uniform });
    if (truth.noisy) rival += noise * normalFromUniforms(noiseStream(), noiseStream());
    const second = secondRival ? walk.nextPrice({ day: period, firmIndex: 2, lastPrices: last, unitCost: 6, uniform: rivalStream() }) : 0;
    last[0] = ours;
    last[1] = rival;
    if (secondRival) last[2] = second;
    for (let firm = 0; firm < firms; firm++) prices[firm]![period] = last[firm]!;
  }
  return { prices, period: Float64Array.from({ length: periods }, (_, index) => index), series: new Int32Array(periods), names: ['focal', 'rival', ...(secondRival ? ['walker'] : [])] };
}

function fitOf(truth: Truth, seed: number): RivalStrategyFit {
  const history = simulate(truth, seed);
  return fitRivalStrategy(history, 1, { demand: { qualities: [...demand.qualities, ...(history.prices.length > 2 ? [-50] : [])], priceSensitivity: demand.priceSensitivity } });
}

const relative = (value: unknown, expected: number) => Math.abs(Number(value) - expected) / Math.abs(expected);

/** Whether the chosen fit's parameters are within tolerance of the truth's. */
function recovered(truth: Truth, fit: RivalStrategyFit): boolean {
  const parameters = fit.chosen.parameters;
  switch (truth.kind) {
    case 'fixed':
      return relative(parameters.price, 9.5) < 0.01 && JSON.stringify(parameters.changePeriods) === JSON.stringify([40, 85]);
    case 'random-walk':
      return relative(parameters.step, 0.4) < 0.2 && Number(parameters.min) >= 8 && Number(parameters.max) <= 12;
    case 'match':
      return relative(parameters.floor, 9) < 0.02;
    case 'undercut':
      return relative(parameters.amount, 0.5) < 0.1 && relative(parameters.floor, 8.4) < 0.02;
    case 'two-bound':
      return relative(parameters.step, 0.4) < 0.15 && relative(parameters.ceiling, 11.5) < 0.01 && relative(parameters.floor, 8.5) < 0.05;
    case 'ratio-follower':
      return relative(parameters.ratio, 1.08) < 0.01 && parameters.target === 'focal';
    case 'best-response':
      return relative(parameters.unitCost, bestResponseCost) < 0.05;
  }
}

describe('competitor strategies on simulated rival series (known answers)', () => {
  const results = truths.flatMap((truth) => seeds.map((seed) => ({ truth, seed, fit: fitOf(truth, seed) })));

  it(`picks the true strategy in >= 90% of ${results.length} series and recovers its parameters`, () => {
    const picked = results.filter(({ truth, fit }) => fit.chosen.kind === truth.kind);
    const wrong = results.filter(({ truth, fit }) => fit.chosen.kind !== truth.kind).map(({ truth, seed, fit }) => `${truth.kind} seed ${seed} -> ${fit.chosen.kind}`);
    expect(results.length).toBeGreaterThanOrEqual(50);
    expect(picked.length / results.length, wrong.join('; ')).toBeGreaterThanOrEqual(0.9);
    const badParameters = picked.filter(({ truth, fit }) => !recovered(truth, fit)).map(({ truth, seed, fit }) => `${truth.kind} seed ${seed}: ${JSON.stringify(fit.chosen.parameters)}`);
    expect(badParameters.length / picked.length, badParameters.join('; ')).toBeLessThanOrEqual(0.1);
  });

  it('gives 95% intervals that cover the true parameters in >= 80% of the checks (Wald within the branch; a threshold\'s range)', () => {
    const truthValues: Record<CompetitorKind, Record<string, number>> = {
      fixed: { price: 9.5 },
      'random-walk': { step: 0.4 },
      match: { floor: 9 },
      undercut: { amount: 0.5, floor: 8.4 },
      'two-bound': { step: 0.4, ceiling: 11.5, floor: 8.5 },
      'ratio-follower': { ratio: 1.08 },
      'best-response': { unitCost: bestResponseCost },
    };
    let checks = 0;
    let covered = 0;
    for (const { truth, fit } of results) {
      if (fit.chosen.kind !== truth.kind) continue;
      for (const [name, value] of Object.entries(truthValues[truth.kind])) {
        const interval = fit.chosen.intervals[name];
        checks++;
        if (interval && interval[0] <= value && value <= interval[1]) covered++;
      }
    }
    expect(checks).toBeGreaterThanOrEqual(70);
    expect(covered / checks).toBeGreaterThanOrEqual(0.8);
  });

  it('reports every kind with its log-likelihood, k and BIC, and chooses the smallest BIC', () => {
    for (const { fit } of results) {
      expect(fit.candidates.map((candidate) => candidate.kind)).toEqual([...competitorKinds]);
      for (const candidate of fit.candidates) {
        expect(Number.isFinite(candidate.logLikelihood)).toBe(true);
        expect(candidate.bic).toBeCloseTo(-2 * candidate.logLikelihood + candidate.parameterCount * Math.log(fit.observations), 6);
      }
      expect(fit.chosen.bic).toBe(Math.min(...fit.candidates.map((candidate) => candidate.bic)));
    }
  });

  it('without a demand model, best response is listed as not fitted', () => {
    const fit = fitRivalStrategy(simulate(truths[2]!, 2), 1);
    expect(fit.candidates.map((candidate) => candidate.kind)).not.toContain('best-response');
    expect(fit.notFitted).toEqual([{ kind: 'best-response', reason: 'no demand model given to reply under' }]);
  });

  it('fits the repricing latency when asked: an undercutter repricing every 3 periods', () => {
    const exploration = createStream(11, 'exploration');
    const noiseStream = createStream(11, 'noise');
    const prices = [new Float64Array(periods), new Float64Array(periods)];
    let rival = 10;
    for (let period = 0; period < periods; period++) {
      const ours = 8 + 4 * exploration();
      if (period % 3 === 1) rival = Math.max((prices[0]![period - 1] ?? 10) - 0.5, 8.4) + noise * normalFromUniforms(noiseStream(), noiseStream());
      prices[0]![period] = ours;
      prices[1]![period] = rival;
    }
    const history: PriceHistory = { prices, period: Float64Array.from({ length: periods }, (_, index) => index), series: new Int32Array(periods) };
    const fit = fitRivalStrategy(history, 1, { maxLatency: 4 });
    expect(fit.chosen.kind).toBe('undercut');
    expect({ latency: fit.chosen.latency, phase: fit.chosen.phase }).toEqual({ latency: 3, phase: 1 });
    expect(relative(fit.chosen.parameters.amount, 0.5)).toBeLessThan(0.1);
  });
});

describe('festival periods', () => {
  it('are left out: a rival that cuts 30% on festival days is still read as the undercutter it is', () => {
    const rows = 150;
    const exploration = createStream(21, 'exploration');
    const noiseStream = createStream(21, 'noise');
    const festive = (row: number) => row % 30 >= 25;
    const price = new Float64Array(rows);
    const rival = new Float64Array(rows);
    let regular = 10;
    for (let row = 0; row < rows; row++) {
      price[row] = 8 + 4 * exploration();
      if (row > 0) regular = Math.max((price[row - 1] ?? 10) - 0.5, 8.4) + noise * normalFromUniforms(noiseStream(), noiseStream());
      rival[row] = festive(row) ? 0.7 * regular : regular;
    }
    const base = {
      rows,
      period: Float64Array.from({ length: rows }, (_, index) => index),
      periodKind: 'index',
      units: new Float64Array(rows),
      price,
      rivalPrices: [rival],
      rivalNames: ['rival'],
      store: new Int32Array(rows),
      storeNames: ['all'],
    } as unknown as SalesData;
    const withFestivals = { ...base, festival: { label: Int32Array.from({ length: rows }, (_, row) => (festive(row) ? 0 : -1)), names: ['sale'] } } as SalesData;
    const fit = fitCompetitorStrategies(withFestivals, { periodLength: 'day', maxLatency: 1 })[0];
    expect(fit?.chosen.kind).toBe('undercut');
    expect(relative(fit?.chosen.parameters.amount, 0.5)).toBeLessThan(0.1);
    // 149 pairs, less the 6 touching each of the four inner 5-day festivals and the 5 of the last one.
    expect(fit?.observations).toBe(149 - 4 * 6 - 5);
    // The same prices without the festival column: the discounted days spoil the fit.
    const blind = fitCompetitorStrategies(base, { periodLength: 'day', maxLatency: 1 })[0];
    expect(blind?.chosen.kind !== 'undercut' || relative(blind.chosen.parameters.amount, 0.5) >= 0.1).toBe(true);
  });
});

describe('any price history', () => {
  it('gives finite candidates and a chosen strategy the scenario schema accepts', () => {
    const price = fc.double({ min: 0.05, max: 500, noNaN: true });
    fc.assert(
      fc.property(
        fc.integer({ min: 12, max: 60 }).chain((length) =>
          fc.record({
            ours: fc.array(price, { minLength: length, maxLength: length }),
            rival: fc.array(fc.oneof(price, fc.constant(10)), { minLength: length, maxLength: length }),
            latency: fc.integer({ min: 1, max: 4 }),
            defaultCost: fc.double({ min: 1e-4, max: 100, noNaN: true }),
            undercut: fc.boolean(),
          }),
        ),
        ({ ours, rival, latency, defaultCost, undercut }) => {
          // Half the cases: a rival that undercuts our last price by 0.5, above a floor of 6.
          if (undercut) rival.forEach((_, index) => (rival[index] = index === 0 ? 10 : Math.max((ours[index - 1] ?? 10) - 0.5, 6)));
          const history: PriceHistory = { prices: [Float64Array.from(ours), Float64Array.from(rival)], period: Float64Array.from(ours, (_, index) => index), series: new Int32Array(ours.length) };
          const fit = fitRivalStrategy(history, 1, { demand: { qualities: [1, 1], priceSensitivity: 0.2 }, maxLatency: latency });
          for (const candidate of fit.candidates) expect(Number.isFinite(candidate.bic), candidate.kind).toBe(true);
          const fields = scenarioCompetitorFields(fit, { unitCost: defaultCost, daysPerPeriod: 1 });
          expect(strategySchema.safeParse(fields.strategy).success, JSON.stringify(fields.strategy)).toBe(true);
          expect(fields.unitCost).toBeGreaterThanOrEqual(0);
          // A match or undercut floor is unitCost x (1 + floorMargin), whatever the default cost.
          const strategy = fields.strategy;
          if (strategy.kind === 'match' || strategy.kind === 'undercut') {
            const floor = Number(fit.chosen.parameters.floor);
            expect(Math.abs(fields.unitCost * (1 + strategy.floorMargin) - floor)).toBeLessThanOrEqual(1e-5 * floor);
          }
        },
      ),
      { numRuns: 150, seed: 15 },
    );
  });
});

describe('calibrateSales puts the chosen strategy in the scenario', () => {
  it('reads steady-state-v1\'s rivals from simulated years as configured: an undercutter every 2 days, a random walk every 3', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'pricelab-competitors-'));
    try {
      const scenario = oneSegmentScenario();
      const map = parseColumnMap({ date: 'date', units: 'units', price: 'price', traffic: 'traffic', rivalPrices: ['price_mass-merchant', 'price_boutique-roaster'] }, 'map');
      // Seed 1: the boutique's quality is not identified, so it is left out of the scenario; the
      // undercutter still undercut it when it was the lowest, and must be read so.
      for (const seed of [1, 2, 3]) {
        const path = join(folder, `log-${seed}.csv`);
        writeFileSync(path, simulateSalesLog(scenario, seed).csv);
        const result = calibrateSales(await readSales(path, { map }), { map, holdout: 0 });
        const byName = new Map(result.scenario.competitors?.map((competitor) => [competitor.name, competitor]));
        const undercutter = byName.get('price-mass-merchant');
        expect(undercutter?.strategy, `seed ${seed}`).toMatchObject({ kind: 'undercut' });
        expect(undercutter?.latencyDays).toBe(2);
        if (undercutter?.strategy.kind === 'undercut') expect(undercutter.strategy.amount).toBeCloseTo(0.5, 6);
        const walker = byName.get('price-boutique-roaster');
        if (walker) {
          expect(walker.strategy, `seed ${seed}`).toMatchObject({ kind: 'random-walk' });
          expect(walker.latencyDays).toBe(3);
          if (walker.strategy.kind === 'random-walk') expect(Math.abs(walker.strategy.step - 0.5)).toBeLessThan(0.1);
        }
        expect(() => validateScenario(result.scenario, 'calibrated')).not.toThrow();
      }
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('keeps the random-walk default, listed with its reason, when no two periods are consecutive', () => {
    const rows = 300;
    const exploration = createStream(5, 'exploration');
    const units = createStream(5, 'customers');
    const noiseStream = createStream(5, 'noise');
    const price = new Float64Array(rows);
    const rival = new Float64Array(rows);
    const sold = new Float64Array(rows);
    for (let row = 0; row < rows; row++) {
      price[row] = 8 + 4 * exploration();
      rival[row] = row === 0 ? 10 : 1.08 * (price[row - 1] ?? 10) + noise * normalFromUniforms(noiseStream(), noiseStream());
      // Units around a logit-like mean falling in our price, rising in the rival's.
      sold[row] = Math.round(60 * Math.exp(-0.3 * ((price[row] ?? 0) - 10) + 0.2 * ((rival[row] ?? 0) - 10)) * (0.8 + 0.4 * units()));
    }
    const sales: SalesData = {
      rows,
      period: Float64Array.from({ length: rows }, (_, index) => index + 1),
      periodKind: 'index',
      units: sold,
      price,
      cost: undefined,
      traffic: undefined,
      rivalPrices: [rival],
      rivalNames: ['Rival A'],
      promotions: [],
      promotionNames: [],
      store: new Int32Array(rows),
      storeNames: ['all'],
      product: undefined,
      map: parseColumnMap({ period: 'period', units: 'units', price: 'price', rivalPrices: ['Rival A'] }, 'map'),
      source: { path: 'sales.csv', sha256: '0'.repeat(64), bytes: 1, format: 'csv' },
      rowsRead: rows,
      rowsFiltered: 0,
    } as SalesData;
    // Weekly dates read as daily periods: no two rows are one period apart.
    const weekly = { ...sales, period: Float64Array.from({ length: rows }, (_, index) => 20_000 + 7 * index), periodKind: 'date' as const };
    const result = calibrateSales(weekly, { map: sales.map, holdout: 0 });
    expect(result.scenario.competitors?.[0]?.strategy.kind).toBe('random-walk');
    expect(result.record.defaults.find((entry) => entry.field === 'competitors[0].strategy')?.reason).toMatch(/too few pairs of consecutive periods/);
    expect(result.record.competitorStrategies).toBeUndefined();
    expect(() => validateScenario(result.scenario, 'calibrated')).not.toThrow();
  });

  it('a ratio follower of our price becomes the competitor\'s strategy, its fit in the record', () => {
    const rows = 300;
    const exploration = createStream(5, 'exploration');
    const units = createStream(5, 'customers');
    const noiseStream = createStream(5, 'noise');
    const price = new Float64Array(rows);
    const rival = new Float64Array(rows);
    const sold = new Float64Array(rows);
    for (let row = 0; row < rows; row++) {
      price[row] = 8 + 4 * exploration();
      rival[row] = row === 0 ? 10 : 1.08 * (price[row - 1] ?? 10) + noise * normalFromUniforms(noiseStream(), noiseStream());
      // Units around a logit-like mean falling in our price, rising in the rival's.
      sold[row] = Math.round(60 * Math.exp(-0.3 * ((price[row] ?? 0) - 10) + 0.2 * ((rival[row] ?? 0) - 10)) * (0.8 + 0.4 * units()));
    }
    const sales: SalesData = {
      rows,
      period: Float64Array.from({ length: rows }, (_, index) => index + 1),
      periodKind: 'index',
      units: sold,
      price,
      cost: undefined,
      traffic: undefined,
      rivalPrices: [rival],
      rivalNames: ['Rival A'],
      promotions: [],
      promotionNames: [],
      store: new Int32Array(rows),
      storeNames: ['all'],
      product: undefined,
      map: parseColumnMap({ period: 'period', units: 'units', price: 'price', rivalPrices: ['Rival A'] }, 'map'),
      source: { path: 'sales.csv', sha256: '0'.repeat(64), bytes: 1, format: 'csv' },
      rowsRead: rows,
      rowsFiltered: 0,
    } as SalesData;
    const result = calibrateSales(sales, { map: sales.map, holdout: 0 });
    const competitor = result.scenario.competitors?.[0];
    expect(competitor?.strategy).toMatchObject({ kind: 'ratio-follower', target: 'focal' });
    if (competitor?.strategy.kind !== 'ratio-follower') throw new Error('ratio follower expected');
    expect(Math.abs(competitor.strategy.ratio - 1.08)).toBeLessThan(0.01);
    const record = result.record.competitorStrategies?.[0];
    expect(record?.chosen).toBe('ratio-follower');
    expect(record?.rival).toBe('Rival A');
    const summary = competitorSummaryLines(result.record.competitorStrategies);
    expect(summary.find((line) => line.startsWith('Rival A -> '))).toMatch(/\d\*/);
    expect(summary.find((line) => line.startsWith('Rival A -> '))?.split(/\s+/).find((cell) => cell.endsWith('*'))).toBe(`${record?.candidates.find((candidate) => candidate.kind === 'ratio-follower')?.bic.toFixed(1)}*`);
    expect(record?.competitor).toBe(competitor.name);
    expect(record?.candidates.map((candidate) => candidate.kind)).toEqual([...competitorKinds]);
    expect(result.record.defaults.some((entry) => entry.field === 'competitors[0].strategy')).toBe(false);
    const ratio = result.record.estimates.find((entry) => entry.scenarioPath === 'competitors[0].strategy.ratio');
    expect(ratio?.lower).toBeLessThan(1.08);
    expect(ratio?.upper).toBeGreaterThan(1.08);
    expect(() => validateScenario(result.scenario, 'calibrated')).not.toThrow();
  });
});
