/**
 * The historical replay (agents/historical.ts, calibration/historical.ts): a small sales
 * file's own prices come back day by day from the market, snapped to the ladder; a weekly
 * history plays each week's price on its seven days; after the history the path repeats;
 * bad files, columns and specs are refused naming the column and row; commas inside quoted
 * file names survive `--agents`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { changeIndexOnDay, historicalConfigSchema, type HistoricalConfig } from '../../agents/historical.js';
import { parsePolicySpec } from '../../agents/policy-spec.js';
import { historicalOptionsFor, parseHistoricalSpec, readHistoricalPolicy } from '../../calibration/historical.js';
import { makeEnv } from '../../env/env.js';
import { PricelabError } from '../../core/errors.js';
import { buildMarketModel } from '../../env/model.js';
import { armNameOf, armSpecOf, splitArmList } from '../../experiments/compare/arms.js';
import { agentFor, restoredAgentFor } from '../../experiments/setup.js';
import { loadScenario } from '../../scenarios/load.js';

const folder = mkdtempSync(join(tmpdir(), 'pricelab-historical-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

let fileCount = 0;
function file(lines: readonly string[], name = `sales-${++fileCount}.csv`): string {
  const path = join(folder, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

const model = buildMarketModel(loadScenario('steady-state-v1').scenario);
const ladder = Array.from(model.ladder);

/** The prices the market charged over `days` days of one episode, the historical agent pricing. */
async function playedPrices(config: HistoricalConfig, days: number, seed = 3): Promise<number[]> {
  const env = makeEnv(model);
  const agent = await agentFor(env, 'historical-replay', config, 1);
  const prices: number[] = [];
  let { observation } = env.reset({ seed });
  for (let day = 0; day < days; day++) {
    const result = env.step(agent.act(observation, { explore: false }));
    prices.push(result.info.price);
    observation = result.observation;
  }
  return prices;
}

async function refusal(action: () => Promise<unknown>): Promise<PricelabError> {
  const error = await action().then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(PricelabError);
  return error as PricelabError;
}

describe('historical:<file> replays the shop\'s own prices', () => {
  it('plays exactly the price of each day of a small daily CSV, then repeats the history', async () => {
    const history = [ladder[3]!, ladder[3]!, ladder[9]!, ladder[0]!, ladder[13]!, ladder[6]!];
    const path = file(['period,units,price', ...history.map((price, day) => `${day + 1},${3 + day},${price}`)]);
    const config = await readHistoricalPolicy(`historical:${path}`);
    expect(config.lengthDays).toBe(6);
    expect(config.changes).toEqual([
      { day: 0, price: ladder[3] },
      { day: 2, price: ladder[9] },
      { day: 3, price: ladder[0] },
      { day: 4, price: ladder[13] },
      { day: 5, price: ladder[6] },
    ]);
    expect(config.source.rows).toBe(6);
    expect(config.source.sha256).toMatch(/^[0-9a-f]{64}$/);
    // 15 days: the six of the history, then again from its start (the end-of-history rule).
    expect(await playedPrices(config, 15)).toEqual([...history, ...history, ...history.slice(0, 3)]);
  });

  it('snaps each price to the nearest ladder price, the lower one on a tie, and the ladder ends beyond it', async () => {
    const [first, second] = [ladder[4]!, ladder[5]!];
    const midpoint = (first + second) / 2;
    const history = [first + 0.2, second - 0.1, midpoint, 3, 99];
    const path = file(['period,units,price', ...history.map((price, day) => `${day + 1},4,${price}`)]);
    const config = await readHistoricalPolicy(`historical:${path}`);
    expect(await playedPrices(config, 5)).toEqual([first, second, first, ladder[0], ladder[ladder.length - 1]]);
  });

  it('plays a weekly history\'s price on each day of its week (numbered weeks, and dated weeks), rows in any order', async () => {
    const weekly = [ladder[2]!, ladder[7]!, ladder[11]!];
    const numbered = file(['week,units,price', `2,5,${weekly[1]}`, `1,5,${weekly[0]}`, `3,5,${weekly[2]}`]);
    const map = join(folder, 'weeks.json');
    writeFileSync(map, JSON.stringify({ period: 'week', units: 'units', price: 'price' }));
    const byNumber = await readHistoricalPolicy(`historical:${numbered}#${map}`, { periodLength: 'week' });
    expect(byNumber.lengthDays).toBe(21);
    expect(byNumber.source.map).toBe(map);
    const expected = weekly.flatMap((price) => new Array<number>(7).fill(price));
    expect(await playedPrices(byNumber, 21)).toEqual(expected);

    const dated = file(['date,units,price', `2026-01-01,5,${weekly[0]}`, `2026-01-15,5,${weekly[2]}`, `2026-01-08,5,${weekly[1]}`]);
    const datedMap = join(folder, 'dates.json');
    writeFileSync(datedMap, JSON.stringify({ date: 'date', units: 'units', price: 'price' }));
    const byDate = await readHistoricalPolicy(`historical:${dated}#${datedMap}`, { periodLength: 'week' });
    expect(byDate.changes).toEqual(byNumber.changes);
    expect(byDate.lengthDays).toBe(21);
    // After the 21 days, week 1 again.
    expect((await playedPrices(byDate, 28)).slice(21)).toEqual(new Array<number>(7).fill(weekly[0]!));
  });

  it('keeps the price before a missing period, and reads the same periods gzipped and as JSON Lines', async () => {
    const path = file(['period,units,price', `1,2,${ladder[1]}`, `2,2,${ladder[8]}`, `5,2,${ladder[4]}`]);
    const config = await readHistoricalPolicy(`historical:${path}`);
    expect(await playedPrices(config, 5)).toEqual([ladder[1], ladder[8], ladder[8], ladder[8], ladder[4]]);
    const jsonLines = file([`{"period":1,"units":2,"price":${ladder[1]}}`, `{"period":2,"units":2,"price":${ladder[8]}}`, `{"period":5,"units":2,"price":${ladder[4]}}`], 'sales.jsonl');
    expect((await readHistoricalPolicy(`historical:${jsonLines}`)).changes).toEqual(config.changes);
  });

  it('on a calibrated scenario\'s calendar: the first price covers the days before its row, the last one the days up to the calendar\'s end', async () => {
    const map = join(folder, 'weeks-calendar.json');
    writeFileSync(map, JSON.stringify({ period: 'week', units: 'units', price: 'price' }));
    // One store's rows start in week 3 and end in week 4; the scenario was calibrated on weeks 1 to 6.
    const late = file(['week,units,price', `3,5,${ladder[2]}`, `4,5,${ladder[6]}`]);
    const onCalendar = await readHistoricalPolicy(`historical:${late}#${map}`, { periodLength: 'week', calendar: { first: 1, last: 6 } });
    expect(onCalendar.changes).toEqual([{ day: 0, price: ladder[2] }, { day: 21, price: ladder[6] }]);
    expect(onCalendar.lengthDays).toBe(42);
    // Rows before the calendar's first week: the last of them is day 0's price.
    const early = file(['week,units,price', `1,5,${ladder[1]}`, `2,5,${ladder[5]}`, `3,5,${ladder[9]}`]);
    const fromWeek2 = await readHistoricalPolicy(`historical:${early}#${map}`, { periodLength: 'week', calendar: { first: 2, last: 3 } });
    expect(fromWeek2.changes).toEqual([{ day: 0, price: ladder[5] }, { day: 7, price: ladder[9] }]);
    expect(fromWeek2.lengthDays).toBe(14);
    // Dated rows, a calendar of dates (a calibration record's firstPeriod and lastPeriod).
    const dated = file(['date,units,price', `2026-01-03,5,${ladder[4]}`, `2026-01-05,5,${ladder[8]}`]);
    const datedMap = join(folder, 'dates-calendar.json');
    writeFileSync(datedMap, JSON.stringify({ date: 'date', units: 'units', price: 'price' }));
    const byDate = await readHistoricalPolicy(`historical:${dated}#${datedMap}`, historicalOptionsFor({ calibration: { source: { periodLength: 'day', firstPeriod: '2026-01-01', lastPeriod: '2026-01-10' } } }));
    expect(byDate.changes).toEqual([{ day: 0, price: ladder[4] }, { day: 4, price: ladder[8] }]);
    expect(byDate.lengthDays).toBe(10);
    expect(historicalOptionsFor({})).toEqual({ periodLength: 'day' });
  });

  it('the same config restores from its export and explains each day with the history\'s price', async () => {
    const path = file(['period,units,price', `1,2,${ladder[1]! + 0.3}`, `2,2,${ladder[8]}`]);
    const config = await readHistoricalPolicy(`historical:${path}`);
    const env = makeEnv(model);
    const agent = await agentFor(env, 'historical-replay', config, 1);
    const restored = await restoredAgentFor(env, await agent.export(), 1);
    const { observation } = env.reset({ seed: 1 });
    expect(restored.act(observation, { explore: false })).toBe(agent.act(observation, { explore: false }));
    const explanation = agent.explain?.(observation);
    expect(explanation?.kind).toBe('rule');
    expect(explanation && 'description' in explanation ? explanation.description : '').toContain(`day 0 was priced ${ladder[1]! + 0.3}, played as the nearest ladder price ${ladder[1]}`);
  });

  it('finds the price of any day of any path as a scan would (property)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 400 }), { maxLength: 30 }), fc.integer({ min: 0, max: 200 }), fc.nat(5000), (later, extra, day) => {
        const days = [0, ...later.sort((left, right) => left - right)];
        const config = { lengthDays: (days[days.length - 1] ?? 0) + 1 + extra, changes: days.map((start, index) => ({ day: start, price: index + 1 })) };
        const within = day % config.lengthDays;
        let expected = 0;
        config.changes.forEach((change, index) => {
          if (change.day <= within) expected = index;
        });
        return changeIndexOnDay(config, day) === expected;
      }),
    );
  });
});

describe('historical:<file> refuses what it cannot replay', () => {
  it('a non-numeric or negative price: exit-2 problems naming the row and column', async () => {
    const path = file(['period,units,price', '1,2,12.99', '2,2,cheap', '3,2,-1']);
    const error = await refusal(() => readHistoricalPolicy(`historical:${path}`));
    expect(error.kind).toBe('config');
    expect(error.problems.map((problem) => problem.path)).toEqual([
      ['row', 2, 'price'],
      ['row', 3, 'price'],
    ]);
  });

  it('a column the map names that the file lacks, several stores, two prices for one period', async () => {
    const map = join(folder, 'cost-map.json');
    writeFileSync(map, JSON.stringify({ period: 'period', units: 'units', price: 'shelf_price' }));
    const missing = await refusal(() => readHistoricalPolicy(`historical:${file(['period,units,price', '1,2,12.99'])}#${map}`));
    expect(missing.problems[0]?.path).toEqual(['columns', 'shelf_price']);

    const stores = await refusal(() => readHistoricalPolicy(`historical:${file(['period,units,price,store', '1,2,12.99,a', '1,3,13.99,b'])}`));
    expect(stores.problems[0]?.path).toEqual(['store']);
    expect(stores.problems[0]?.message).toContain('"filter": {"store": ...}');

    const twice = await refusal(() => readHistoricalPolicy(`historical:${file(['period,units,price', '1,2,12.99', '2,2,13.99', '2,3,14.99'])}`));
    expect(twice.problems).toEqual([{ path: ['row', 3, 'price'], message: 'expected one price per period, found 14.99 here and 13.99 at row 2 for the same period' }]);
  });

  it('a missing file is not-found (exit 3); a bad map file or spec is a config error', async () => {
    expect((await refusal(() => readHistoricalPolicy(`historical:${join(folder, 'nowhere.csv')}`))).kind).toBe('not-found');
    const badMap = join(folder, 'bad-map.json');
    writeFileSync(badMap, '{"period":');
    expect((await refusal(() => readHistoricalPolicy(`historical:${file(['period,units,price', '1,2,12.99'])}#${badMap}`))).kind).toBe('config');
    expect(() => parseHistoricalSpec('historical:')).toThrow(/the sales file is missing/);
    expect(() => parseHistoricalSpec('historical:sales.csv#')).toThrow(/column map after # is missing/);
    expect(() => parseHistoricalSpec('historical:"sales.csv')).toThrow(/no closing quote/);
    expect(parseHistoricalSpec('historical:"my, #1.csv"#map.json')).toEqual({ file: 'my, #1.csv', map: 'map.json' });
    expect(parseHistoricalSpec('historical:oj.csv.gz#tropicana.json')).toEqual({ file: 'oj.csv.gz', map: 'tropicana.json' });
  });

  it('a command that has not read the file refuses the spec instead of inventing a path', () => {
    expect(() => parsePolicySpec('historical:sales.csv', { listPrice: 18.99, ladder: model.ladder })).toThrow(/does not read sales files/);
    expect(() => parsePolicySpec('historical', { listPrice: 18.99, ladder: model.ladder })).toThrow(/the sales file is missing/);
  });

  it('a config whose path does not start on day 0 or runs past its length is invalid', () => {
    const source = { file: 'x.csv', sha256: 'b'.repeat(64), rows: 1 };
    expect(historicalConfigSchema.safeParse({ source, periodLength: 'day', lengthDays: 3, changes: [{ day: 1, price: 2 }] }).success).toBe(false);
    expect(historicalConfigSchema.safeParse({ source, periodLength: 'day', lengthDays: 3, changes: [{ day: 0, price: 2 }, { day: 3, price: 4 }] }).success).toBe(false);
    expect(historicalConfigSchema.safeParse({ source, periodLength: 'day', lengthDays: 3, changes: [{ day: 0, price: 2 }, { day: 2, price: 4 }] }).success).toBe(true);
  });
});

describe('--agents with historical arms', () => {
  it('keeps commas and = inside a quoted file name', () => {
    const arms = splitArmList('historical:"sales, 2024=a.csv"#map.json, q-learning,shop=historical:"b,c.csv"');
    expect(arms).toEqual(['historical:"sales, 2024=a.csv"#map.json', 'q-learning', 'shop=historical:"b,c.csv"']);
    expect(arms.map(armNameOf)).toEqual(['historical:"sales, 2024=a.csv"#map.json', 'q-learning', 'shop']);
    expect(armSpecOf(arms[2]!)).toBe('historical:"b,c.csv"');
    expect(splitArmList('fixed:17.99,q-learning')).toEqual(['fixed:17.99', 'q-learning']);
  });
});
