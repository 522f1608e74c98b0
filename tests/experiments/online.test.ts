/**
 * Simulated online experiments against the simulator's truth (the global treatment effect
 * from full-horizon runs on common seeds): switchback carry-over bias shrinks with longer
 * blocks and burn-in; without carry-over the switchback and the unit split cover the truth;
 * the per-customer split is flagged and overstates the effect of a price cut.
 */
import { describe, expect, it } from 'vitest';
import { buildMarketModel } from '../../env/model.js';
import { loadScenario, validateScenario } from '../../scenarios/load.js';
import { banditScenario } from '../../experiments/off-policy/index.js';
import { runCustomerSplit, runSwitchback, runUnitSplit, splitAssignment, switchbackAssignment, twinScenario } from '../../experiments/online/index.js';

/** year-round-v1 with reference prices (memory 0.9 and 0.7) as the only carry-over, in expectation (deterministic). */
function referenceMemoryModel() {
  const json = structuredClone(loadScenario('year-round-v1').scenario) as Record<string, unknown> & { demand: { segments: Record<string, unknown>[] }; competitors: { initialPrice: number }[] };
  delete json.inventory;
  delete json.returns;
  json.objective = { kind: 'profit' };
  json.deterministic = true;
  json.id = 'reference-memory-v1';
  json.demand.segments = json.demand.segments.map((segment) => {
    const copy = { ...segment };
    delete copy.loyalty;
    return copy;
  });
  json.competitors = json.competitors.map((competitor) => ({ ...competitor, strategy: { kind: 'fixed', price: competitor.initialPrice } }));
  return buildMarketModel(validateScenario(json));
}

const weatherBandit = () => buildMarketModel(banditScenario(loadScenario('weather-sensitive-v1').scenario));

describe('switchback', () => {
  it('randomises blocks in pairs: one A and one B per pair', () => {
    const arms = switchbackAssignment(40, 7);
    for (let pair = 0; pair < 20; pair++) expect(new Set(arms.slice(pair * 2, pair * 2 + 2))).toEqual(new Set(['A', 'B']));
    expect(arms.join('')).not.toBe(switchbackAssignment(40, 8).join(''));
  });

  it('is biased by reference-price carry-over, less so with longer blocks and with burn-in', async () => {
    const model = referenceMemoryModel();
    const specs = { a: 'fixed:32.99', b: 'fixed:39.99' };
    const bias = async (blockDays: number, burnInDays: number) => Math.abs((await runSwitchback(model, specs, { blockDays, burnInDays, seed: 1 })).bias);
    const [two, seven, fourteen, twentyEight] = [await bias(2, 0), await bias(7, 0), await bias(14, 0), await bias(28, 0)];
    expect(two).toBeGreaterThan(seven);
    expect(seven).toBeGreaterThan(fourteen);
    expect(fourteen).toBeGreaterThan(twentyEight);
    expect(await bias(14, 7)).toBeLessThan(fourteen / 1.5);
    expect(await bias(28, 14)).toBeLessThan(twentyEight / 2);
    const report = await runSwitchback(model, specs, { blockDays: 2, burnInDays: 0, seed: 1 });
    expect(report.flags.join(' ')).toMatch(/carry-over: reference prices/);
    expect(report.truthInInterval).toBe(false);
  });

  it('covers the truth in a market without carry-over, and its always-valid interval is wider', async () => {
    const report = await runSwitchback(weatherBandit(), { a: 'fixed:7', b: 'fixed:8.5' }, { blockDays: 7, seed: 3 });
    expect(report.flags).toEqual([]);
    expect(report.truthInInterval).toBe(true);
    expect(report.alwaysValid.high - report.alwaysValid.low).toBeGreaterThan(report.high - report.low);
  });

  it('refuses too few blocks and a burn-in as long as a block, naming both', async () => {
    await expect(runSwitchback(weatherBandit(), { a: 'fixed:7', b: 'fixed:8' }, { blockDays: 100, burnInDays: 100, days: 300, seed: 1 })).rejects.toMatchObject({
      problems: [expect.objectContaining({ path: ['burnInDays'] }), expect.objectContaining({ path: ['blockDays'] })],
    });
  });
});

describe('product or region split', () => {
  it('assigns half the units to each arm', () => {
    const arms = splitAssignment(21, 4);
    expect(arms.filter((arm) => arm === 'B')).toHaveLength(10);
  });

  it('covers the truth in most replications (independent units: no interference)', async () => {
    const model = weatherBandit();
    let covered = 0;
    for (let seed = 1; seed <= 10; seed++) {
      const report = await runUnitSplit(model, { a: 'fixed:7', b: 'fixed:9' }, { units: 8, days: 120, seed });
      if (report.truthInInterval) covered++;
      expect(report.alwaysValid.n).toBe(4);
    }
    expect(covered).toBeGreaterThanOrEqual(8);
  });
});

describe('per-customer split', () => {
  it('splits the customers evenly at equal prices: two offers with quality lowered by mu ln 2', () => {
    const model = weatherBandit();
    const twin = buildMarketModel(twinScenario(model.scenario));
    expect(twin.rivals.at(-1)?.name).toBe('other-arm');
    const demand = twin.scenario.demand;
    expect(demand.kind === 'logit' ? demand.quality : 0).toBeCloseTo(6 - Math.log(2), 12);
  });

  it('is flagged unfair and biased, and overstates the gain of a price cut (customers switch arms)', async () => {
    const model = weatherBandit();
    const report = await runCustomerSplit(model, { a: 'fixed:9', b: 'fixed:7' }, { days: 180, seed: 2 });
    expect(report.flags.some((flag) => flag.startsWith('UNFAIR'))).toBe(true);
    expect(report.flags.some((flag) => flag.startsWith('BIASED'))).toBe(true);
    const split = await runSwitchback(model, { a: 'fixed:9', b: 'fixed:7' }, { blockDays: 7, days: 180, seed: 2 });
    expect(report.bias).toBeGreaterThan(Math.abs(split.bias) + 3 * report.standardError);
    expect(report.truthInInterval).toBe(false);
  });

  it('refuses oracle policies, which need a market of their own', async () => {
    await expect(runCustomerSplit(weatherBandit(), { a: 'myopic-oracle', b: 'fixed:7' }, { days: 30, seed: 1 })).rejects.toMatchObject({ kind: 'config' });
  });
});
