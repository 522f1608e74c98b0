/**
 * Known answers for calibration/segments.ts: a latent-class logit fitted by EM to choice panels
 * simulated from known classes; BIC picks the true number of classes in most seeds and the
 * intervals hold the truth; one class matches the binary logit's closed form; the panel reader
 * refuses bad rows naming them.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, ensureBuilt } from '../fixtures/cli.js';
import { oneSegmentScenario, simulateSalesLog } from './simulated-log.js';
import { RandomStream } from '../../core/random.js';
import { buildMarketModel } from '../../env/model.js';
import { MarketSimulation } from '../../env/market.js';
import { fitLogitPoisson, type LogitPoissonData } from '../../calibration/logit-poisson.js';
import type { Scenario } from '../../scenarios/schema.js';
import { PricelabError } from '../../core/errors.js';
import { applyAggregateSegments, applyPanelSegments, chiBarSquareUpperTail, fitLatentClassLogit, testSecondSegment, readChoicePanel, selectLatentClasses, type ChoicePanel } from '../../calibration/segments.js';
import { calibrationRecordSchema, type CalibrationRecord } from '../../scenarios/calibration-record.js';
import type { ScenarioInput } from '../../scenarios/schema.js';

interface TrueClass {
  readonly share: number;
  readonly quality: readonly number[];
  readonly priceSensitivity: number;
}

const twoClasses: readonly TrueClass[] = [
  { share: 0.6, quality: [2, 1], priceSensitivity: 0.2 },
  { share: 0.4, quality: [6, 5], priceSensitivity: 0.9 },
];

/** A panel of `customers` x `periods` choices between two options (ours, rival) and none, prices uniform on [4, 10]. */
function simulatePanel(classes: readonly TrueClass[], customers: number, periods: number, seed: number): ChoicePanel {
  const random = new RandomStream(seed, 'panel');
  const options = ['ours', 'rival'];
  const list = Array.from({ length: customers }, (_, customer) => {
    let draw = random.next();
    let latent = 0;
    while (latent < classes.length - 1 && draw > classes[latent]!.share) draw -= classes[latent++]!.share;
    const truth = classes[latent]!;
    const choices = new Int32Array(periods);
    const prices = new Float64Array(periods * options.length);
    for (let period = 0; period < periods; period++) {
      const weights = options.map((_, option) => {
        const price = 4 + 6 * random.next();
        prices[period * options.length + option] = price;
        return Math.exp((truth.quality[option] ?? 0) - truth.priceSensitivity * price);
      });
      const total = 1 + weights.reduce((sum, weight) => sum + weight, 0);
      let pick = random.next() * total - 1;
      let choice = -1;
      for (let option = 0; option < options.length && pick >= 0; option++) {
        pick -= weights[option] ?? 0;
        if (pick < 0) choice = option;
      }
      choices[period] = choice;
    }
    return { id: `c${customer}`, choices, prices };
  });
  return { options, customers: list, rows: customers * periods };
}

describe('latent-class logit (EM)', () => {
  it('one class with one option at two prices matches the binary logit in closed form', () => {
    // Purchase rates 30/50 at price 2 and 10/50 at price 6: alpha - 2 beta = logit(0.6), alpha - 6 beta = logit(0.2).
    const customers = Array.from({ length: 100 }, (_, index) => {
      const high = index >= 50;
      const buys = high ? index - 50 < 10 : index < 30;
      return { id: `c${index}`, choices: Int32Array.from([buys ? 0 : -1]), prices: Float64Array.from([high ? 6 : 2]) };
    });
    const fit = fitLatentClassLogit({ options: ['ours'], customers, rows: 100 }, 1);
    const logit = (rate: number) => Math.log(rate / (1 - rate));
    const beta = (logit(0.6) - logit(0.2)) / 4;
    const alpha = logit(0.6) + 2 * beta;
    expect(fit.classes[0]?.priceSensitivity.value).toBeCloseTo(beta, 6);
    expect(fit.classes[0]?.quality[0]?.value).toBeCloseTo(alpha, 6);
    // Wald standard error of beta: with n_k trials at rate r_k, var(logit r_k) = 1 / (n_k r_k (1 - r_k)).
    const varianceBeta = (1 / (50 * 0.6 * 0.4) + 1 / (50 * 0.2 * 0.8)) / 16;
    expect(fit.classes[0]?.priceSensitivity.standardError).toBeCloseTo(Math.sqrt(varianceBeta), 4);
  });

  it('two identical classes cannot beat one: the EM likelihood equals the one-class maximum within 1e-6 when the data has one class', () => {
    const panel = simulatePanel([{ share: 1, quality: [3, 2], priceSensitivity: 0.5 }], 100, 6, 5);
    const one = fitLatentClassLogit(panel, 1);
    const two = fitLatentClassLogit(panel, 2, { starts: 2 });
    expect(two.logLikelihood).toBeGreaterThanOrEqual(one.logLikelihood - 1e-6);
    expect(two.bic).toBeGreaterThan(one.bic);
  });

  const seeds = [1, 2, 3, 4, 5];
  it(`BIC picks two classes in most of ${seeds.length} simulated panels and the intervals hold the truth`, () => {
    let twoChosen = 0;
    let covered = 0;
    let checked = 0;
    for (const seed of seeds) {
      const selection = selectLatentClasses(simulatePanel(twoClasses, 200, 8, seed), 3, { starts: 2 });
      if (selection.chosen.classes.length !== 2) continue;
      twoChosen++;
      selection.chosen.classes.forEach((estimate, index) => {
        const truth = twoClasses[index]!;
        const intervals = [
          [estimate.share, truth.share],
          [estimate.priceSensitivity, truth.priceSensitivity],
          ...estimate.quality.map((quality, option) => [quality, truth.quality[option]!] as const),
        ] as const;
        for (const [interval, value] of intervals) {
          checked++;
          if (interval.lower <= value && value <= interval.upper) covered++;
        }
      });
    }
    expect(twoChosen).toBeGreaterThanOrEqual(4);
    expect(covered / checked).toBeGreaterThanOrEqual(0.85);
  }, 120_000);

  it('maps the classes into the scenario\'s segments and records them', () => {
    const selection = selectLatentClasses(simulatePanel(twoClasses, 200, 8, 9), 2, { starts: 2 });
    const scenario = { demand: { kind: 'logit', quality: 4, outsideUtility: 0, segments: [{ name: 'calibrated', arrivalRate: 100, priceSensitivity: 0.5, scale: 1 }] } } as unknown as ScenarioInput;
    const record = { estimates: [], defaults: [{ field: 'demand.segments', value: 'one segment', reason: 'not estimated' }] } as unknown as CalibrationRecord;
    applyPanelSegments(scenario, record, selection, 'panel.csv');
    if (scenario.demand.kind !== 'logit') throw new Error('logit expected');
    expect(scenario.demand.segments).toHaveLength(2);
    const [first, second] = scenario.demand.segments;
    const classes = selection.chosen.classes;
    // Utility of our quality in segment s is quality / scale: the class's alpha; price: b / scale = beta.
    expect(4 / first!.scale).toBeCloseTo(classes[0]!.quality[0]!.value, 4);
    expect(second!.priceSensitivity / second!.scale).toBeCloseTo(classes[1]!.priceSensitivity.value, 4);
    expect(first!.arrivalRate + second!.arrivalRate).toBeCloseTo(100, 3);
    expect(record.defaults.some((entry) => entry.field === 'demand.segments')).toBe(false);
    expect(calibrationRecordSchema.shape.segments.safeParse(record.segments).success).toBe(true);
  });

  it('reads CSV and JSON Lines panels and names a bad row', () => {
    const folder = mkdtempSync(join(tmpdir(), 'pricelab-panel-'));
    const csv = join(folder, 'panel.csv');
    writeFileSync(csv, 'customer,period,choice,price_ours,price_rival\nc1,1,ours,9.5,10\nc1,2,none,9,10\nc2,1,rival,8,7.5\n');
    const panel = readChoicePanel(csv);
    expect(panel.options).toEqual(['ours', 'rival']);
    expect(panel.customers.map((customer) => Array.from(customer.choices))).toEqual([[0, -1], [1]]);
    const lines = join(folder, 'panel.jsonl');
    writeFileSync(lines, '{"customer":"c1","period":1,"choice":"ours","prices":{"ours":9.5}}\n{"customer":"c1","period":2,"choice":"none","prices":{"ours":9}}\n');
    expect(readChoicePanel(lines).customers[0]?.prices).toEqual(Float64Array.from([9.5, 9]));
    const bad = join(folder, 'bad.csv');
    writeFileSync(bad, 'customer,period,choice,price_ours\nc1,1,ours,9.5\nc1,2,theirs,-1\n');
    let caught: unknown;
    try {
      readChoicePanel(bad);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(PricelabError);
    const text = JSON.stringify((caught as PricelabError).problems);
    expect(text).toContain('row 2');
    expect(text).toContain('theirs');
    expect(text).toContain('price_ours');
  });

  describe('pricelab calibrate --panel', () => {
    beforeAll(() => ensureBuilt());
    it('writes the panel\'s classes as the scenario\'s segments, and the scenario passes pricelab check', async () => {
      const folder = mkdtempSync(join(tmpdir(), 'pricelab-panel-cli-'));
      const sales = join(folder, 'shop.csv');
      writeFileSync(sales, simulateSalesLog(oneSegmentScenario(), 7).csv);
      const map = join(folder, 'columns.json');
      writeFileSync(map, JSON.stringify({ date: 'date', units: 'units', price: 'price', traffic: 'traffic' }));
      const panel = simulatePanel(twoClasses, 200, 8, 3);
      const lines = ['customer,period,choice,price_ours,price_rival'];
      panel.customers.forEach((customer) =>
        customer.choices.forEach((choice, period) => lines.push([customer.id, period, choice < 0 ? 'none' : panel.options[choice], customer.prices[period * 2], customer.prices[period * 2 + 1]].join(','))),
      );
      const panelFile = join(folder, 'panel.csv');
      writeFileSync(panelFile, `${lines.join('\n')}\n`);
      const out = join(folder, 'shop-v1.json');
      const result = await cli('calibrate', sales, '--out', out, '--map', map, '--panel', panelFile, '--json');
      expect(result.code, result.stderr).toBe(0);
      const scenario = JSON.parse(readFileSync(out, 'utf8')) as { demand: { segments: { name: string }[] }; calibration: { segments: { chosenClasses: number; source: string } } };
      expect(scenario.calibration.segments.source).toBe('panel');
      expect(scenario.demand.segments.map((segment) => segment.name)).toEqual(Array.from({ length: scenario.calibration.segments.chosenClasses }, (_, index) => `class-${index + 1}`));
      const check = await cli('check', out, '--steps', '30');
      expect(check.code, check.stderr).toBe(0);
      const bad = join(folder, 'bad-panel.csv');
      writeFileSync(bad, 'customer,period,choice,price_ours\nc1,1,theirs,9\n');
      const refused = await cli('calibrate', sales, '--out', join(folder, 'never.json'), '--map', map, '--panel', bad);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('theirs');
      expect(existsSync(join(folder, 'never.json'))).toBe(false);
    }, 120_000);
  });

});

/** `days` of sales of a logit market (one or several segments) under prices drawn uniformly from the ladder. */
function simulateSales(scenario: Scenario, seed: number, days: number): LogitPoissonData {
  const model = buildMarketModel({ ...scenario, horizonDays: days });
  const market = new MarketSimulation(model);
  market.reset(seed);
  const exploration = new RandomStream(seed, 'exploration');
  const units = new Float64Array(days);
  const logMarketSize = new Float64Array(days);
  const price = new Float64Array(days);
  const rivalPrices = model.rivals.map(() => new Float64Array(days));
  for (let day = 0; day < days; day++) {
    const outcome = market.stepIndex(Math.floor(exploration.next() * model.ladder.length));
    units[day] = outcome.demand;
    logMarketSize[day] = Math.log(outcome.arrivals);
    price[day] = outcome.price;
    rivalPrices.forEach((column, index) => (column[day] = outcome.prices[1 + index] ?? 0));
  }
  return { rows: days, units, logMarketSize, price, promotions: [], promotionNames: [], rivalPrices, rivalNames: model.rivals.map((rival) => rival.name) };
}

function withSegments(segments: readonly { arrivalRate: number; priceSensitivity: number }[]): Scenario {
  const scenario = oneSegmentScenario();
  if (scenario.demand.kind !== 'logit') throw new Error('logit expected');
  const template = scenario.demand.segments[0]!;
  return { ...scenario, demand: { ...scenario.demand, segments: segments.map((segment, index) => ({ ...template, name: `segment-${index + 1}`, ...segment })) } };
}

describe('a second segment from aggregates (likelihood-ratio test)', () => {
  it('computes the chi-bar-square tail: 0.5 chi2(0) + 0.5 chi2(1) at 2.705543 is 0.05', () => {
    expect(chiBarSquareUpperTail(2.705543454095404, 1)).toBeCloseTo(0.05, 8);
    expect(chiBarSquareUpperTail(0, 4)).toBe(1);
  });

  // Small logs and a small B keep this fast. The bigger measurement (50 one-segment logs of
  // 120 days, B = 99) is in docs/calibration.md: the chi-bar-square rejected 0 of 60 years.
  const logs = 4;
  const replicates = 9;
  it(`one-segment logs: bootstrap p-values are (1 + k) / (B + 1) and about uniform over ${logs} logs; a two-segment log gets the smallest p and is placed`, () => {
    const oneSegment = withSegments([{ arrivalRate: 45, priceSensitivity: 0.45 }]);
    const pValues: number[] = [];
    for (let seed = 1; seed <= logs; seed++) {
      const data = simulateSales(oneSegment, seed, 80);
      const result = testSecondSegment(data, fitLogitPoisson(data), { bootstrap: replicates, seed });
      expect(result.twoSegmentLogLikelihood).toBeGreaterThanOrEqual(result.oneSegmentLogLikelihood);
      expect(result.pValueMethod).toBe('bootstrap');
      expect(result.pValue).toBeCloseTo((1 + result.exceedances) / (replicates + 1), 12);
      pValues.push(result.pValue);
    }
    // Under one segment the Monte Carlo p-value is uniform on {1, ..., B + 1} / (B + 1): mean 0.55,
    // standard deviation of the mean over 4 logs about 0.15: a p-value stuck at 1 or at its floor fails.
    const meanP = pValues.reduce((total, value) => total + value, 0) / logs;
    expect(meanP, pValues.join(', ')).toBeGreaterThan(0.2);
    expect(meanP, pValues.join(', ')).toBeLessThan(0.9);
    expect(pValues.filter((value) => value <= 0.1).length, pValues.join(', ')).toBeLessThanOrEqual(2);
    // A clear second segment: no bootstrap log reaches its statistic, so p = 1 / (B + 1) (never 0).
    const twoSegments = withSegments([{ arrivalRate: 40, priceSensitivity: 0.2 }, { arrivalRate: 40, priceSensitivity: 0.7 }]);
    const data = simulateSales(twoSegments, 99, 120);
    const result = testSecondSegment(data, fitLogitPoisson(data), { bootstrap: 19, seed: 99 });
    expect(result.exceedances).toBe(0);
    expect(result.pValue).toBeCloseTo(1 / 20, 12);
    expect(result.supported).toBe(true);
    expect(result.approximatePValue).toBeLessThan(0.05);
    expect(result.segments[1]?.theta[1]).toBeGreaterThan(result.segments[0]?.theta[1] ?? Number.POSITIVE_INFINITY);
    const scenario = { demand: { kind: 'logit', quality: 8, outsideUtility: 0, segments: [{ name: 'calibrated', arrivalRate: 60, priceSensitivity: 0.5, scale: 1 }] } } as unknown as ScenarioInput;
    const record = { estimates: [], defaults: [] } as unknown as CalibrationRecord;
    applyAggregateSegments(scenario, record, result);
    if (scenario.demand.kind !== 'logit') throw new Error('logit expected');
    expect(scenario.demand.segments.map((segment) => segment.name), JSON.stringify({ share: result.share, thetas: result.segments.map((fit) => Array.from(fit.theta)), defaults: record.defaults })).toEqual(['regular', 'price-sensitive']);
    expect(calibrationRecordSchema.shape.segments.safeParse(record.segments).success).toBe(true);
    expect(record.segments?.test?.replicates).toBe(19);
    expect(record.segments?.test?.method).toContain('parametric bootstrap');
    // Older records (no replicates, no approximate p-value) stay valid.
    expect(calibrationRecordSchema.shape.segments.safeParse({ ...record.segments, test: { statistic: 1, pValue: 0.5, method: 'chi-bar-square with d = 3' } }).success).toBe(true);
  }, 120_000);

  it('B = 0 gives the approximate chi-bar-square p-value alone', () => {
    const data = simulateSales(withSegments([{ arrivalRate: 45, priceSensitivity: 0.45 }]), 3, 90);
    const result = testSecondSegment(data, fitLogitPoisson(data), { bootstrap: 0 });
    expect(result.pValueMethod).toBe('chi-bar-square');
    expect(result.pValue).toBe(result.approximatePValue);
    expect(result.pValue).toBeCloseTo(chiBarSquareUpperTail(result.statistic, result.extraParameters), 12);
  });
});
