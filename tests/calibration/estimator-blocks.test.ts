/**
 * The estimators beside the demand fit (endogeneity, reference prices, pooling, returns,
 * competitors, the aggregate segment test) read a long history block by block
 * (calibration/block-passes.ts), never its whole columns: run on a history of many blocks
 * whose whole-column fields throw when read, each must give what it gives on the same rows
 * held in one block in memory (to 1e-9 relative: sums may only be regrouped).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseColumnMap, type ColumnMap } from '../../calibration/column-map.js';
import { salesDesign } from '../../calibration/censoring.js';
import { blockedSalesDesign, blockLogMarketSize } from '../../calibration/design-blocks.js';
import { fitLogitPoisson, type DemandData } from '../../calibration/logit-poisson.js';
import { periodIndices, setMarketSize } from '../../calibration/market-size.js';
import { readSales, releaseSales, type SalesData } from '../../calibration/reader.js';
import type { SalesBlock } from '../../calibration/sales-blocks.js';
import { perBlockLogMarketSize, periodNumbers } from '../../calibration/block-passes.js';
import { estimateEndogeneity, priceInstruments } from '../../calibration/endogeneity.js';
import { estimateReferencePrices } from '../../calibration/reference-prices.js';
import { poolStores } from '../../calibration/pooling.js';
import { applyReturns, returnsSeries } from '../../calibration/returns.js';
import { fitCompetitorStrategies } from '../../calibration/competitors.js';
import { testSecondSegmentOfSales } from '../../calibration/second-segment-test.js';
import type { CalibrationRecord } from '../../scenarios/calibration-record.js';
import type { ScenarioInput } from '../../scenarios/schema.js';
import { RandomStream } from '../../core/random.js';
import { poissonFromUniform } from '../../env/sampling.js';

const folder = mkdtempSync(join(tmpdir(), 'pricelab-estimator-blocks-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const stores = 4;
const periods = 140;

/**
 * 4 stores x 140 periods: a cost shared by the stores in a period that the prices follow (so
 * both the cost and the other stores' price are strong instruments), a promotion, a rival
 * that undercuts our last price, stock that sometimes runs out, returns two to four periods
 * after the sale, and a festival label on some periods. Rows period after period, or the
 * reverse (each store's rows then out of period order).
 */
function writeHistory(name: string, reverse = false): string {
  const random = new RandomStream(11, 'estimator-blocks-test');
  const header = 'period,store,units,price,cost,promo,rival,stock,returns,festival';
  const lines: string[] = [];
  const sold = Array.from({ length: stores }, () => new Float64Array(periods));
  const lastPrice = new Float64Array(stores).fill(4);
  for (let period = 0; period < periods; period++) {
    const cost = 1.5 + random.next();
    for (let store = 0; store < stores; store++) {
      const price = 1.2 * cost + 1.5 + 0.8 * random.next();
      const promo = random.next() < 0.15 ? 1 : 0;
      const rival = Math.max(3, (lastPrice[store] ?? 4) - 0.2) + 0.05 * random.next();
      const utility = 1.2 - 0.5 * price + 0.5 * promo;
      const share = Math.exp(utility) / (1 + Math.exp(utility) + Math.exp(0.8 - 0.5 * rival));
      const demand = poissonFromUniform((60 + 10 * store) * share, random.next());
      const stock = random.next() < 0.1 ? Math.max(0, demand - 2) : 1000;
      const units = Math.min(demand, stock);
      (sold[store] as Float64Array)[period] = units;
      let returned = 0;
      for (let lag = 2; lag <= 4; lag++) returned += period >= lag ? Math.round(0.1 * ((sold[store] as Float64Array)[period - lag] ?? 0)) : 0;
      const festival = period % 20 >= 17 ? 'sale' : '';
      lastPrice[store] = price;
      lines.push(`${period + 1},s${store},${units},${price.toFixed(3)},${cost.toFixed(3)},${promo},${rival.toFixed(3)},${stock},${returned},${festival}`);
    }
  }
  if (reverse) lines.reverse();
  const path = join(folder, name);
  writeFileSync(path, `${[header, ...lines].join('\n')}\n`);
  return path;
}

const withCost = parseColumnMap(
  { period: 'period', units: 'units', price: 'price', cost: 'cost', promotions: ['promo'], rivalPrices: ['rival'], store: 'store', stock: 'stock', returns: 'returns', festival: 'festival' },
  'map',
);
const { cost: _cost, ...withoutCostFields } = withCost;
void _cost;
const withoutCost: ColumnMap = withoutCostFields;

/** The same SalesData, each whole-column field throwing when read (a field materialized from the scratch file). */
function guarded(sales: SalesData): SalesData {
  const descriptors = Object.getOwnPropertyDescriptors(sales);
  for (const [key, descriptor] of Object.entries(descriptors)) {
    if (!descriptor.get) continue;
    descriptors[key] = {
      get() {
        throw new Error(`an estimator read the whole column ${key}`);
      },
      enumerable: true,
      configurable: true,
    };
  }
  return Object.create(Object.getPrototypeOf(sales) as object, descriptors) as SalesData;
}

/** Every number in `actual` within 1e-9 (relative) of `expected`, every other value equal. */
function expectClose(actual: unknown, expected: unknown, path = ''): void {
  if (typeof expected === 'number' && typeof actual === 'number') {
    if (Number.isNaN(expected)) expect(actual, path).toBeNaN();
    else if (!Number.isFinite(expected)) expect(actual, path).toBe(expected);
    else expect(Math.abs(actual - expected), path).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(expected)));
    return;
  }
  if (ArrayBuffer.isView(expected)) {
    expectClose(Array.from(actual as ArrayLike<number>), Array.from(expected as unknown as ArrayLike<number>), path);
    return;
  }
  if (expected !== null && typeof expected === 'object') {
    expect(Object.keys(actual as object).sort(), path).toEqual(Object.keys(expected).sort());
    for (const [key, value] of Object.entries(expected)) expectClose((actual as Record<string, unknown>)[key], value, `${path}.${key}`);
    return;
  }
  expect(actual, path).toEqual(expected);
}

interface Pair {
  /** The rows in one block, in memory, with the per-row arrays calibrate makes. */
  readonly memory: { sales: SalesData; design: DemandData; period: Float64Array; logMarketSize: Float64Array };
  /** The same rows in blocks of 37 from a scratch file, whole columns guarded, per-row inputs made per block. */
  readonly blocked: { sales: SalesData; design: DemandData; period: (block: SalesBlock) => Float64Array; logMarketSize: (block: SalesBlock) => Float64Array };
}

async function pairOf(path: string, map: ColumnMap): Promise<Pair> {
  const memorySales = await readSales(path, { map });
  const scratchSales = await readSales(path, { map, blockRows: 37 });
  expect(memorySales.scratch).toBeUndefined();
  expect(scratchSales.scratch?.blocks).toBe(Math.ceil((stores * periods) / 37));
  const periodsOf = periodIndices(memorySales, 'day');
  const logMarketSize = new Float64Array(memorySales.rows);
  const storeLog = setMarketSize(memorySales, 3, undefined, logMarketSize);
  const sales = guarded(scratchSales);
  expect(() => sales.units).toThrow(/whole column units/);
  let buffer = new Float64Array(0);
  return {
    memory: { sales: memorySales, design: salesDesign(memorySales, logMarketSize), period: periodsOf.index, logMarketSize },
    blocked: {
      sales,
      design: blockedSalesDesign(sales, { storeLogMarketSize: storeLog, numbering: periodsOf.numbering, censor: true }),
      period: periodNumbers(periodsOf.numbering),
      logMarketSize: (block) => {
        if (buffer.length < block.rows) buffer = new Float64Array(block.rows);
        const out = buffer.subarray(0, block.rows);
        blockLogMarketSize(block, storeLog, out);
        return out;
      },
    },
  };
}

const emptyRecord = (): CalibrationRecord => ({ estimates: [], derived: [], defaults: [] }) as unknown as CalibrationRecord;

describe('estimators read a history block by block, never its whole columns', () => {
  const ordered = writeHistory('ordered.csv');

  it('endogeneity: the control function with the cost, and with the other stores\' price, as on one block', async () => {
    for (const map of [withCost, withoutCost]) {
      const { memory, blocked } = await pairOf(ordered, map);
      const fit = (data: DemandData) => fitLogitPoisson(data);
      const memoryNaive = fit(memory.design);
      const expected = estimateEndogeneity({ design: memory.design, naive: memoryNaive, instruments: priceInstruments(memory.sales, memory.period), cluster: memory.period, fit });
      // The path with the stacked covariance runs: strong instruments, a second stage.
      expect(expected.record.firstStage?.weak).toBe(false);
      expect(expected.instrumentedFit).toBeDefined();
      const blockedNaive = fit(blocked.design);
      expectClose(blockedNaive.theta, memoryNaive.theta, 'naive');
      const actual = estimateEndogeneity({ design: blocked.design, naive: blockedNaive, instruments: priceInstruments(blocked.sales, blocked.period), cluster: blocked.period, fit, sales: blocked.sales });
      expect(actual.record.reason).toBe(expected.record.reason);
      expectClose(actual.record, expected.record, "record");
      expectClose(actual.instrumentedFit?.theta, expected.instrumentedFit?.theta, 'instrumented theta');
      expectClose(actual.instrumentedFit?.covariance, expected.instrumentedFit?.covariance, 'instrumented covariance');
      releaseSales(blocked.sales);
    }
  });

  it('reference prices: the profile over the memory, each store\'s rows in period order or not', async () => {
    for (const path of [ordered, writeHistory('reversed.csv', true)]) {
      const { memory, blocked } = await pairOf(path, withCost);
      const expected = estimateReferencePrices(memory.design, memory.period, memory.sales.store, { screen: false, memoryGrid: [0, 0.5, 0.9] });
      expect(expected.profile.length).toBeGreaterThanOrEqual(3);
      const actual = estimateReferencePrices(blocked.design, blocked.period, (block) => block.store, { screen: false, memoryGrid: [0, 0.5, 0.9], sales: blocked.sales });
      expectClose(actual, expected, 'reference prices');
      releaseSales(blocked.sales);
    }
  });

  it('pooling: every store fitted, shrunk and tabled as on one block', async () => {
    const { memory, blocked } = await pairOf(ordered, withCost);
    const fit = fitLogitPoisson(memory.design);
    const expected = poolStores(memory.sales, memory.logMarketSize, fit);
    expect(expected.storesEstimated).toBe(stores);
    expectClose(poolStores(blocked.sales, blocked.logMarketSize, fit), expected, 'pooling');
    // The same with each block's market sizes made from the blocked design under the fit (as calibrate hands them over).
    expectClose(poolStores(blocked.sales, perBlockLogMarketSize(blocked.design, blocked.sales, fit.theta), fit), expected, 'pooling, fitted market sizes');
    releaseSales(blocked.sales);
  });

  it('returns: the store x period series and the fit into the scenario', async () => {
    const { memory, blocked } = await pairOf(ordered, withCost);
    expectClose(returnsSeries(blocked.sales, blocked.period), returnsSeries(memory.sales, memory.period), 'series');
    const apply = (sales: SalesData, period: Float64Array | ((block: SalesBlock) => Float64Array)) => {
      const scenario = {} as ScenarioInput;
      const record = emptyRecord();
      applyReturns(sales, period, 1, scenario, record);
      return { scenario, record };
    };
    const expected = apply(memory.sales, memory.period);
    expect(expected.scenario.returns).toBeDefined();
    expectClose(apply(blocked.sales, blocked.period), expected, 'returns');
    releaseSales(blocked.sales);
  });

  it('competitors: the rival\'s strategy from the kept stores\' rows, festival periods left out', async () => {
    const { memory, blocked } = await pairOf(ordered, withCost);
    const expected = fitCompetitorStrategies(memory.sales, { periodLength: 'day', maxLatency: 2, maxTransitions: 300 });
    expect(expected[0]?.observations).toBeGreaterThan(100);
    expectClose(fitCompetitorStrategies(blocked.sales, { periodLength: 'day', maxLatency: 2, maxTransitions: 300 }), expected, 'competitors');
    releaseSales(blocked.sales);
  });

  it('the aggregate test of a second segment, with its bootstrap', async () => {
    const { memory, blocked } = await pairOf(ordered, withCost);
    const fit = fitLogitPoisson(memory.design);
    const expected = testSecondSegmentOfSales(memory.sales, memory.logMarketSize, fit, { bootstrap: 2, seed: 5, maxIterations: 6 });
    expectClose(testSecondSegmentOfSales(blocked.sales, blocked.logMarketSize, fit, { bootstrap: 2, seed: 5, maxIterations: 6 }), expected, 'segments');
    releaseSales(blocked.sales);
  });
});
