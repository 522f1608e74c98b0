/**
 * Returns (calibration/returns.ts): the return rate and the lag distribution, in the
 * simulator's own form (env/return-lags.ts), fitted from a returns column.
 *
 * 1. Exact expected returns (no noise) give back the rate, the lags and the mean parameter.
 * 2. Known answers: years of daily sales simulated by the market with returns (rate
 *    sigmoid(-1 + 0.2) = 0.31, lags 3 to 20 days, mean parameter 4 days), logged as a shop
 *    sees them (units sold and units returned per day), 50 seeds: the 95% intervals of the
 *    rate and of the mean lag cover the truth in >= 90%, and the likelihood-ratio sets of the
 *    earliest and latest lag hold the true ones in >= 90%.
 * 3. Through `calibrateFile`: the scenario gets the returns block and passes the schema;
 *    without a returns column the returns stay at their default and are listed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { calibrateFile } from '../../calibration/calibrate.js';
import { parseColumnMap } from '../../calibration/column-map.js';
import { fitReturns, returnsSeries } from '../../calibration/returns.js';
import { MarketSimulation } from '../../env/market.js';
import { buildMarketModel } from '../../env/model.js';
import { RandomStream } from '../../core/random.js';
import { returnLagDistribution } from '../../env/return-lags.js';
import { validateScenario } from '../../scenarios/load.js';
import type { Scenario } from '../../scenarios/schema.js';
import { oneSegmentScenario } from './simulated-log.js';

const folder = mkdtempSync(join(tmpdir(), 'pricelab-returns-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const truth = { baseLogit: -1, minLagDays: 3, maxLagDays: 20, meanLagDays: 4 };

function returnsScenario(): Scenario {
  return validateScenario(
    { ...oneSegmentScenario(), returns: { ...truth, discountLogit: 0, festivalLogit: 0, handlingCost: 0, resellableFraction: 1, refurbishDays: 0 } },
    'returns',
  );
}

/** The true return probability: the segment's return-logit offset adds to the base logit. */
function trueRate(scenario: Scenario): number {
  const offset = scenario.demand.kind === 'logit' ? (scenario.demand.segments[0]?.returnLogitOffset ?? 0) : 0;
  return 1 / (1 + Math.exp(-(truth.baseLogit + offset)));
}

function simulate(scenario: Scenario, seed: number): { sold: Float64Array; returned: Float64Array; csv: string } {
  const model = buildMarketModel(scenario);
  const market = new MarketSimulation(model);
  market.reset(seed);
  const exploration = new RandomStream(seed, 'exploration');
  const days = scenario.horizonDays;
  const sold = new Float64Array(days);
  const returned = new Float64Array(days);
  const lines = [['date', 'units', 'price', 'traffic', 'returned', ...model.rivals.map((rival) => `price_${rival.name}`)].join(',')];
  const start = Date.parse(`${scenario.startDate}T00:00:00Z`);
  for (let day = 0; day < days; day++) {
    const outcome = market.stepIndex(Math.floor(exploration.next() * model.ladder.length));
    sold[day] = outcome.sold;
    returned[day] = outcome.unitsReturned;
    const date = new Date(start + day * 86_400_000).toISOString().slice(0, 10);
    lines.push([date, outcome.sold, outcome.price, outcome.arrivals, outcome.unitsReturned, ...Array.from(outcome.prices.subarray(1, 1 + model.rivals.length))].join(','));
  }
  return { sold, returned, csv: `${lines.join('\n')}\n` };
}

describe('fitReturns', () => {
  it('recovers the rate, the lags and the mean parameter from exact expected returns', () => {
    const stream = new RandomStream(3, 'exploration');
    const days = 300;
    const sold = Float64Array.from({ length: days }, () => 5 + Math.floor(stream.next() * 40));
    const cumulative = returnLagDistribution(truth.minLagDays, truth.maxLagDays, truth.meanLagDays);
    const rate = 0.25;
    const returned = new Float64Array(days);
    for (let day = 0; day < days; day++) {
      let previous = 0;
      cumulative.forEach((value, lag) => {
        const returnDay = day + truth.minLagDays + lag;
        if (returnDay < days) returned[returnDay] = (returned[returnDay] ?? 0) + (sold[day] ?? 0) * rate * (value - previous);
        previous = value;
      });
    }
    const fit = fitReturns({ sold: [sold], returned: [returned] }, { maxLagSearched: 30 });
    expect(fit).toBeDefined();
    expect(fit!.rate.value).toBeCloseTo(rate, 5);
    expect(fit!.minLag.value).toBe(truth.minLagDays);
    expect(fit!.maxLag.value).toBe(truth.maxLagDays);
    expect(fit!.meanLag.value).toBeCloseTo(truth.meanLagDays, 2);
  });

  it('lines up rows of several stores given in any order by store and period', () => {
    const stream = new RandomStream(5, 'exploration');
    const days = 200;
    const cumulative = returnLagDistribution(2, 9, 3);
    const rows: { store: number; day: number; sold: number; returned: number }[] = [];
    for (const store of [0, 1]) {
      const sold = Float64Array.from({ length: days }, () => (store === 0 ? 50 : 5) + Math.floor(stream.next() * 20));
      const returned = new Float64Array(days);
      sold.forEach((units, day) => {
        let previous = 0;
        cumulative.forEach((value, lag) => {
          if (day + 2 + lag < days) returned[day + 2 + lag] = (returned[day + 2 + lag] ?? 0) + units * 0.4 * (value - previous);
          previous = value;
        });
      });
      sold.forEach((units, day) => rows.push({ store, day, sold: units, returned: returned[day] ?? 0 }));
    }
    rows.reverse();
    const series = returnsSeries(
      { rows: rows.length, units: Float64Array.from(rows, (row) => row.sold), returns: Float64Array.from(rows, (row) => row.returned), store: Int32Array.from(rows, (row) => row.store), storeNames: ['big', 'small'] },
      Float64Array.from(rows, (row) => row.day),
    );
    const fit = fitReturns(series, { maxLagSearched: 15 });
    expect(fit?.rate.value).toBeCloseTo(0.4, 5);
    expect([fit?.minLag.value, fit?.maxLag.value]).toEqual([2, 9]);
    expect(fit?.meanLag.value).toBeCloseTo(3, 2);
  });

  it('has nothing to fit without returns or with too short a history', () => {
    expect(fitReturns({ sold: [new Float64Array(100).fill(5)], returned: [new Float64Array(100)] })).toBeUndefined();
    expect(fitReturns({ sold: [new Float64Array(12).fill(5)], returned: [new Float64Array(12).fill(1)] }, { maxLagSearched: 5 })).toBeUndefined();
  });

  it('covers the true rate, mean lag and lags in >= 90% of 50 simulated years', () => {
    const scenario = returnsScenario();
    const rate = trueRate(scenario);
    const repetitions = 50;
    const covered = { rate: 0, meanLag: 0, minLag: 0, maxLag: 0 };
    let meanRate = 0;
    for (let repetition = 0; repetition < repetitions; repetition++) {
      const { sold, returned } = simulate(scenario, 300 + repetition);
      const fit = fitReturns({ sold: [sold], returned: [returned] }, { maxLagSearched: 25 });
      if (!fit) throw new Error('expected a fit');
      meanRate += fit.rate.value / repetitions;
      if (fit.rate.lower <= rate && rate <= fit.rate.upper) covered.rate++;
      if (fit.meanLag.lower <= truth.meanLagDays && truth.meanLagDays <= fit.meanLag.upper) covered.meanLag++;
      if (fit.minLag.lower <= truth.minLagDays && truth.minLagDays <= fit.minLag.upper) covered.minLag++;
      if (fit.maxLag.lower <= truth.maxLagDays && truth.maxLagDays <= fit.maxLag.upper) covered.maxLag++;
    }
    const shown = `returns, ${repetitions} years: ${JSON.stringify({ rate, meanRate, covered })}`;
    if (process.env.PRICELAB_TEST_FIGURES) writeFileSync(process.env.PRICELAB_TEST_FIGURES, shown);
    expect(covered.rate / repetitions, shown).toBeGreaterThanOrEqual(0.9);
    expect(covered.meanLag / repetitions, shown).toBeGreaterThanOrEqual(0.9);
    expect(covered.minLag / repetitions, shown).toBeGreaterThanOrEqual(0.9);
    expect(covered.maxLag / repetitions, shown).toBeGreaterThanOrEqual(0.9);
  }, 60_000);
});

describe('calibrate with a returns column', () => {
  const rivals = ['price_mass-merchant', 'price_boutique-roaster'];

  it('writes the fitted returns block, its estimates and its defaults', async () => {
    const scenario = returnsScenario();
    const path = join(folder, 'returns.csv');
    writeFileSync(path, simulate(scenario, 42).csv);
    const map = parseColumnMap({ date: 'date', units: 'units', price: 'price', traffic: 'traffic', returns: 'returned', rivalPrices: rivals }, 'map');
    const result = await calibrateFile(path, { map, periodLength: 'day', holdout: 0 });
    const loaded = validateScenario(result.scenario, 'calibrated');
    expect(loaded.returns).toBeDefined();
    const estimate = (name: string) => result.record.estimates.find((entry) => entry.parameter === name)!;
    const rate = trueRate(scenario);
    expect(estimate('returnRate').lower).toBeLessThanOrEqual(rate);
    expect(estimate('returnRate').upper).toBeGreaterThanOrEqual(rate);
    expect(estimate('returnLagMean').scenarioPath).toBe('returns.meanLagDays');
    expect(loaded.returns?.meanLagDays).toBe(estimate('returnLagMean').value);
    expect(loaded.returns?.baseLogit).toBeCloseTo(Math.log(estimate('returnRate').value / (1 - estimate('returnRate').value)), 4);
    expect(loaded.returns?.minLagDays).toBe(truth.minLagDays);
    const defaults = result.record.defaults.map((entry) => entry.field);
    expect(defaults).toEqual(expect.arrayContaining(['returns.discountLogit', 'returns.handlingCost', 'returns.resellableFraction']));
    expect(defaults).not.toContain('returns');
  }, 30_000);

  it('leaves returns at their default, listed, without a returns column', async () => {
    const path = join(folder, 'no-returns.csv');
    writeFileSync(path, simulate(returnsScenario(), 43).csv);
    const map = parseColumnMap({ date: 'date', units: 'units', price: 'price', traffic: 'traffic', rivalPrices: rivals }, 'map');
    const result = await calibrateFile(path, { map, periodLength: 'day', holdout: 0 });
    expect(result.scenario.returns).toBeUndefined();
    expect(result.record.defaults.find((entry) => entry.field === 'returns')?.value).toBe('none');
  }, 30_000);
});
