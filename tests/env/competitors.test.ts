/**
 * Competitor strategies. One contract suite runs over every strategy kind, wrapped in a
 * Rival (like Hono's router common cases: one table of implementations, the same cases for
 * each; a kind that skips a case says why). Then behaviour tests per kind, with known
 * answers: the undercut floor, the Edgeworth cycle of two two-bound rivals, the Amazon
 * ratio-follower spiral held at the ceiling.
 *
 * The best responder here is a test double: the real one comes from the demand model,
 * which is written and tested elsewhere.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { Strategy } from '../../scenarios/schema.js';
import { createStrategy } from '../../env/competitors/create.js';
import { lowestRivalPrice } from '../../env/competitors/match.js';
import { minimumPrice, Rival } from '../../env/competitors/rival.js';
import type { BestResponder, PricingStrategy, StrategyContext } from '../../env/competitors/strategy.js';
import { refusalOf } from '../fixtures/refusal.js';

/** Test double: "best" response = halfway between cost-plus-2 and the lowest rival price. */
const halfwayResponder: BestResponder = {
  bestResponse: (firmIndex, prices) => 0.5 * (5 + 2) + 0.5 * lowestRivalPrice(prices, firmIndex),
};

/** Firm names a scenario might use; index 1 always exists because every market has a rival. */
const firmIndexByName = (name: string): number | undefined => ({ leader: 1 })[name];

function build(config: Strategy): PricingStrategy {
  return createStrategy(config, { firmIndexByName, bestResponder: halfwayResponder });
}

// --- the contract suite ------------------------------------------------------------------

type ContractCase = 'reacts to the other firms';

interface StrategyCase {
  readonly name: string;
  readonly config: Strategy;
  /** Contract cases this kind does not meet, with the reason. */
  readonly skip?: Partial<Record<ContractCase, string>>;
}

const strategyCases: readonly StrategyCase[] = [
  { name: 'fixed', config: { kind: 'fixed', price: 12 }, skip: { 'reacts to the other firms': 'a fixed price ignores the market by design' } },
  {
    name: 'random-walk',
    config: { kind: 'random-walk', step: 1, min: 5, max: 20 },
    skip: { 'reacts to the other firms': 'a random walk only looks at its own price by design' },
  },
  { name: 'undercut', config: { kind: 'undercut', amount: 0.5, floorMargin: 0.1 } },
  { name: 'match', config: { kind: 'match', floorMargin: 0.1 } },
  { name: 'two-bound', config: { kind: 'two-bound', step: 0.5, floor: 6, ceiling: 18 } },
  { name: 'best-response (test double responder)', config: { kind: 'best-response' } },
  { name: 'ratio-follower of the focal firm', config: { kind: 'ratio-follower', target: 'focal', ratio: 1.270589 } },
  { name: 'ratio-follower of a named rival', config: { kind: 'ratio-follower', target: 'leader', ratio: 0.9983 } },
];

interface MarketDay {
  readonly prices: number[];
  readonly uniform: number;
  readonly festivalDiscount: number;
}

interface Market {
  readonly firmCount: number;
  readonly firmIndex: number;
  readonly unitCost: number;
  readonly initialPrice: number;
  readonly latencyDays: number;
  readonly priceCeiling: number;
  readonly days: readonly MarketDay[];
}

const price = fc.double({ min: 0.01, max: 10_000, noNaN: true });
const market: fc.Arbitrary<Market> = fc.integer({ min: 2, max: 5 }).chain((firmCount) =>
  fc.record({
    firmCount: fc.constant(firmCount),
    firmIndex: fc.integer({ min: 1, max: firmCount - 1 }),
    unitCost: fc.double({ min: 0, max: 30, noNaN: true }),
    initialPrice: fc.double({ min: 0.01, max: 500, noNaN: true }),
    latencyDays: fc.integer({ min: 1, max: 7 }),
    priceCeiling: fc.double({ min: 1, max: 1000, noNaN: true }),
    days: fc.array(
      fc.record({
        prices: fc.array(price, { minLength: firmCount, maxLength: firmCount }),
        uniform: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        festivalDiscount: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 0.9, noNaN: true })),
      }),
      { minLength: 1, maxLength: 30 },
    ),
  }),
);

function rivalIn(marketToPlay: Market, strategy: PricingStrategy): Rival {
  const { firmIndex, unitCost, initialPrice, latencyDays, priceCeiling } = marketToPlay;
  return new Rival({ firmIndex, unitCost, initialPrice, latencyDays, priceCeiling, strategy });
}

/** Plays a rival through an open-loop history (the prices are given, not fed back). */
function play(rival: Rival, days: readonly MarketDay[], withFestivals = true) {
  const posted: number[] = [];
  const regular: number[] = [];
  days.forEach((marketDay, day) => {
    const lastPrices = Float64Array.from(marketDay.prices);
    posted.push(rival.priceToday(day, lastPrices, withFestivals ? marketDay.festivalDiscount : 0, marketDay.uniform));
    regular.push(rival.regularPrice);
    expect(Array.from(lastPrices)).toEqual(marketDay.prices); // the caller's array is never written
  });
  return { posted, regular };
}

const runs = { numRuns: 60 };

describe.each(strategyCases)('contract: $name', ({ config, skip }) => {
  test('posts finite prices in [minimumPrice, priceCeiling]', () => {
    fc.assert(
      fc.property(market, (marketToPlay) => {
        const { posted, regular } = play(rivalIn(marketToPlay, build(config)), marketToPlay.days);
        for (const value of [...posted, ...regular]) {
          expect(Number.isFinite(value)).toBe(true);
          expect(value).toBeGreaterThanOrEqual(minimumPrice);
          expect(value).toBeLessThanOrEqual(marketToPlay.priceCeiling);
        }
      }),
      runs,
    );
  });

  test('is deterministic: same inputs, same prices (fresh, and after reset)', () => {
    fc.assert(
      fc.property(market, (marketToPlay) => {
        const rival = rivalIn(marketToPlay, build(config));
        const first = play(rival, marketToPlay.days);
        const twin = play(rivalIn(marketToPlay, build(config)), marketToPlay.days);
        rival.reset();
        expect(rival.regularPrice).toBe(Math.min(marketToPlay.initialPrice, marketToPlay.priceCeiling));
        expect(rival.hitCeiling).toBe(0);
        const replay = play(rival, marketToPlay.days);
        expect(twin).toEqual(first);
        expect(replay).toEqual(first);
      }),
      runs,
    );
  });

  test('respects latency: the regular price only changes on repricing days', () => {
    fc.assert(
      fc.property(market, (marketToPlay) => {
        const { regular } = play(rivalIn(marketToPlay, build(config)), marketToPlay.days);
        regular.forEach((value, day) => {
          if (day % marketToPlay.latencyDays !== 0) expect(value).toBe(regular[day - 1]);
        });
      }),
      runs,
    );
  });

  test('a festival discount lowers the posted price, not the regular one', () => {
    fc.assert(
      fc.property(market, (marketToPlay) => {
        const withFestivals = play(rivalIn(marketToPlay, build(config)), marketToPlay.days, true);
        const without = play(rivalIn(marketToPlay, build(config)), marketToPlay.days, false);
        expect(withFestivals.regular).toEqual(without.regular);
        marketToPlay.days.forEach(({ festivalDiscount }, day) => {
          const regular = without.regular[day] ?? Number.NaN;
          const posted = withFestivals.posted[day] ?? Number.NaN;
          expect(without.posted[day]).toBe(regular);
          expect(posted).toBeCloseTo(Math.max(minimumPrice, regular * (1 - festivalDiscount)), 9);
          expect(posted).toBeLessThanOrEqual(regular);
          // strictly lower unless the discount is lost in rounding or the floor binds
          if (festivalDiscount >= 1e-9 && regular * (1 - festivalDiscount) > minimumPrice) expect(posted).toBeLessThan(regular);
        });
      }),
      runs,
    );
  });

  const reacts: ContractCase = 'reacts to the other firms';
  const skipReason = skip?.[reacts];
  test.skipIf(skipReason !== undefined)(`${reacts}${skipReason === undefined ? '' : ` (skipped: ${skipReason})`}`, () => {
    // Cost 1, everyone well above every floor; the other firms (0 and 1) all raise their prices by 20%.
    const priceWith = (othersScale: number) => {
      const rival = new Rival({ firmIndex: 2, unitCost: 1, initialPrice: 15, latencyDays: 1, priceCeiling: 100, strategy: build(config) });
      return rival.priceToday(0, Float64Array.from([14 * othersScale, 10 * othersScale, 15]), 0, 0.5);
    };
    expect(priceWith(1.2)).not.toBe(priceWith(1));
  });
});

// --- behaviour per kind ---------------------------------------------------------------------

function contextOf(lastPrices: readonly number[], firmIndex: number, uniform = 0.5, unitCost = 0): StrategyContext {
  return { day: 0, firmIndex, lastPrices: Float64Array.from(lastPrices), unitCost, uniform };
}

describe('fixed', () => {
  test('always posts its price', () => {
    const strategy = build({ kind: 'fixed', price: 12 });
    expect(strategy.nextPrice(contextOf([1, 2, 3], 1))).toBe(12);
    expect(strategy.nextPrice(contextOf([100, 200, 300], 2, 0.9))).toBe(12);
  });
});

describe('random-walk', () => {
  const strategy = build({ kind: 'random-walk', step: 1, min: 5, max: 20 });

  test('moves by (2u - 1) * step from its own last price', () => {
    expect(strategy.nextPrice(contextOf([99, 10], 1, 0.5))).toBe(10);
    expect(strategy.nextPrice(contextOf([99, 10], 1, 0))).toBe(9);
    expect(strategy.nextPrice(contextOf([99, 10], 1, 0.75))).toBe(10.5);
  });

  test('stays within [min, max]', () => {
    expect(strategy.nextPrice(contextOf([99, 5.2], 1, 0))).toBe(5);
    expect(strategy.nextPrice(contextOf([99, 19.9], 1, 0.99))).toBe(20);
  });

  test('in a Rival, a festival does not drag the walk down (it walks from its regular price)', () => {
    const rival = new Rival({ firmIndex: 1, unitCost: 2, initialPrice: 10, latencyDays: 1, priceCeiling: 50, strategy });
    const lastPrices = Float64Array.from([10, 10]);
    for (let day = 0; day < 30; day++) {
      const festivalDiscount = day >= 10 && day < 20 ? 0.3 : 0;
      // closed loop: yesterday's posted (discounted) price is fed back, and u = 0.5 means "no move"
      lastPrices[1] = rival.priceToday(day, lastPrices, festivalDiscount, 0.5);
      expect(rival.regularPrice).toBe(10);
    }
    expect(lastPrices[1]).toBe(10);
  });
});

describe('undercut', () => {
  const strategy = build({ kind: 'undercut', amount: 0.5, floorMargin: 0.2 });

  test('undercuts the lowest of the other firms, ignoring its own price', () => {
    expect(strategy.nextPrice(contextOf([20, 3, 18], 1, 0.5, 1))).toBe(17.5);
  });

  test('floors at unitCost * (1 + floorMargin)', () => {
    expect(strategy.nextPrice(contextOf([12.3, 30, 40], 2, 0.5, 10))).toBe(12);
    expect(strategy.nextPrice(contextOf([1, 30, 40], 2, 0.5, 10))).toBe(12);
  });

  test('two undercutters race down to the higher floor and stay there', () => {
    const rivalA = new Rival({ firmIndex: 0, unitCost: 10, initialPrice: 30, latencyDays: 1, priceCeiling: 100, strategy });
    const rivalB = new Rival({ firmIndex: 1, unitCost: 8, initialPrice: 29, latencyDays: 1, priceCeiling: 100, strategy });
    const lastPrices = Float64Array.from([30, 29]);
    for (let day = 0; day < 100; day++) {
      const priceA = rivalA.priceToday(day, lastPrices, 0, 0.5);
      const priceB = rivalB.priceToday(day, lastPrices, 0, 0.5);
      lastPrices.set([priceA, priceB]);
    }
    expect(lastPrices[0]).toBeCloseTo(12, 12); // A's floor: 10 * 1.2
    expect(lastPrices[1]).toBeCloseTo(11.5, 12); // B undercuts A's floor, above its own (9.6)
  });
});

describe('match', () => {
  const strategy = build({ kind: 'match', floorMargin: 0.1 });

  test('matches the lowest of the other firms, floored at unitCost * (1 + floorMargin)', () => {
    expect(strategy.nextPrice(contextOf([20, 3, 18], 1, 0.5, 1))).toBe(18);
    expect(strategy.nextPrice(contextOf([5, 3, 18], 2, 0.5, 10))).toBe(11);
  });
});

describe('two-bound', () => {
  const config: Strategy = { kind: 'two-bound', step: 0.5, floor: 6, ceiling: 10 };

  test('undercuts the lowest rival by step, and jumps to the ceiling below the floor', () => {
    const strategy = build(config);
    expect(strategy.nextPrice(contextOf([9, 8, 20], 2))).toBe(7.5);
    expect(strategy.nextPrice(contextOf([9, 6.2, 20], 2))).toBe(10);
    expect(strategy.nextPrice(contextOf([9, 6.5, 20], 2))).toBe(6);
  });

  /** Two two-bound Rivals at firm indices 0 and 1 feeding each other's prices for `days` days. */
  function playEachOther(initialA: number, initialB: number, days: number): [number, number][] {
    const rivalA = new Rival({ firmIndex: 0, unitCost: 2, initialPrice: initialA, latencyDays: 1, priceCeiling: 50, strategy: build(config) });
    const rivalB = new Rival({ firmIndex: 1, unitCost: 2, initialPrice: initialB, latencyDays: 1, priceCeiling: 50, strategy: build(config) });
    const lastPrices = Float64Array.from([initialA, initialB]);
    const pairs: [number, number][] = [];
    for (let day = 0; day < days; day++) {
      const priceA = rivalA.priceToday(day, lastPrices, 0, 0.5);
      const priceB = rivalB.priceToday(day, lastPrices, 0, 0.5);
      lastPrices.set([priceA, priceB]);
      pairs.push([priceA, priceB]);
    }
    return pairs;
  }

  test('two two-bound rivals playing each other cycle: down by steps to the floor, a jump to the ceiling, repeatedly (Edgeworth)', () => {
    const pricesOfA = playEachOther(10, 10, 200).map(([priceA]) => priceA);
    const jumpDays: number[] = [];
    pricesOfA.forEach((price, day) => {
      if (day === 0) return;
      const previous = pricesOfA[day - 1] ?? Number.NaN;
      if (price > previous) {
        expect(price).toBe(10); // every rise is the jump to the ceiling...
        expect(previous).toBe(6); // ...from the floor
        jumpDays.push(day);
      } else {
        expect(previous - price).toBe(0.5); // every other move is one step down
      }
    });
    expect(jumpDays.length).toBeGreaterThanOrEqual(20);
    const periods = new Set(jumpDays.slice(1).map((day, index) => day - (jumpDays[index] ?? 0)));
    expect([...periods]).toEqual([9]); // 10, 9.5, ..., 6: eight steps down, then the jump
  });

  test('from unequal prices they leapfrog, and still settle into a cycle spanning floor to ceiling', () => {
    const pairs = playEachOther(10, 9, 200);
    const settled = pairs.slice(20);
    const first = settled[0] ?? [0, 0];
    const period = settled.findIndex(([priceA, priceB], index) => index > 0 && priceA === first[0] && priceB === first[1]);
    expect(period).toBeGreaterThan(1);
    expect(period).toBeLessThan(40);
    settled.forEach((pair, index) => {
      const later = settled[index + period];
      if (later !== undefined) expect(later).toEqual(pair);
    });
    const cycle = settled.slice(0, period).flat();
    expect(Math.min(...cycle)).toBe(6);
    expect(Math.max(...cycle)).toBe(10);
  });
});

describe('ratio-follower', () => {
  // The Amazon case (Eisen 2011): profnath priced 0.9983x bordeebook; bordeebook priced 1.270589x profnath.
  const firmIndexOf = (name: string) => ({ profnath: 1, bordeebook: 2 })[name];
  const profnath = createStrategy({ kind: 'ratio-follower', target: 'bordeebook', ratio: 0.9983 }, { firmIndexByName: firmIndexOf });
  const bordeebook = createStrategy({ kind: 'ratio-follower', target: 'profnath', ratio: 1.270589 }, { firmIndexByName: firmIndexOf });

  test('following each other, the raw strategies diverge past the $23.7M book', () => {
    const lastPrices = Float64Array.from([40, 35.54, 45.16]);
    let day = 0;
    while ((lastPrices[2] ?? 0) < 23_698_655.93 && day < 200) {
      const profnathPrice = profnath.nextPrice({ day, firmIndex: 1, lastPrices, unitCost: 20, uniform: 0.5 });
      const bordeebookPrice = bordeebook.nextPrice({ day, firmIndex: 2, lastPrices, unitCost: 20, uniform: 0.5 });
      lastPrices.set([40, profnathPrice, bordeebookPrice]);
      day++;
    }
    expect(day).toBeLessThan(200);
    expect(lastPrices[1]).toBeGreaterThan(10_000_000);
  });

  test('wrapped in Rivals, they are held at the ceiling and the cap is counted', () => {
    const priceCeiling = 500;
    const rivalP = new Rival({ firmIndex: 1, unitCost: 20, initialPrice: 35.54, latencyDays: 1, priceCeiling, strategy: profnath });
    const rivalB = new Rival({ firmIndex: 2, unitCost: 20, initialPrice: 45.16, latencyDays: 1, priceCeiling, strategy: bordeebook });
    const lastPrices = Float64Array.from([40, 35.54, 45.16]);
    for (let day = 0; day < 200; day++) {
      const priceP = rivalP.priceToday(day, lastPrices, 0, 0.5);
      const priceB = rivalB.priceToday(day, lastPrices, 0, 0.5);
      expect(priceP).toBeLessThanOrEqual(priceCeiling);
      expect(priceB).toBeLessThanOrEqual(priceCeiling);
      lastPrices.set([40, priceP, priceB]);
    }
    expect(lastPrices[2]).toBe(priceCeiling);
    expect(lastPrices[1]).toBeCloseTo(0.9983 * priceCeiling, 9);
    expect(rivalB.hitCeiling).toBeGreaterThan(150);
    expect(rivalP.hitCeiling).toBe(0); // it follows 0.9983x a capped price, never above the ceiling itself
  });
});

describe('best-response (with a test double for the demand model)', () => {
  test('returns what the responder says, asked with its firm index and its own regular price', () => {
    const calls: { firmIndex: number; prices: number[] }[] = [];
    const recordingResponder: BestResponder = {
      bestResponse: (firmIndex, prices) => {
        calls.push({ firmIndex, prices: Array.from(prices) });
        return 7.25;
      },
    };
    const strategy = createStrategy({ kind: 'best-response' }, { firmIndexByName, bestResponder: recordingResponder });
    const rival = new Rival({ firmIndex: 2, unitCost: 3, initialPrice: 9, latencyDays: 1, priceCeiling: 100, strategy });
    // Yesterday the rival posted 6.3 (9 with a 30% festival discount): the responder sees its regular 9.
    expect(rival.priceToday(0, Float64Array.from([8, 11, 6.3]), 0, 0.5)).toBe(7.25);
    expect(calls).toEqual([{ firmIndex: 2, prices: [8, 11, 9] }]);
  });
});

describe('createStrategy', () => {
  test('resolves "focal" to firm 0 and rival names through firmIndexByName', () => {
    const lastPrices = [10, 20, 30];
    const followsFocal = createStrategy({ kind: 'ratio-follower', target: 'focal', ratio: 2 }, { firmIndexByName: () => undefined });
    const followsLeader = build({ kind: 'ratio-follower', target: 'leader', ratio: 2 });
    expect(followsFocal.nextPrice(contextOf(lastPrices, 2))).toBe(20);
    expect(followsLeader.nextPrice(contextOf(lastPrices, 2))).toBe(40);
  });

  test('refuses a ratio follower whose target is not a firm, naming the field', () => {
    const error = refusalOf(() =>
      createStrategy({ kind: 'ratio-follower', target: 'nobody', ratio: 1.1 }, { firmIndexByName, path: ['competitors', 3, 'strategy'] }),
    );
    expect(error.kind).toBe('config');
    expect(error.problems).toEqual([{ path: ['competitors', 3, 'strategy', 'target'], message: expect.stringContaining('found "nobody"') }]);
  });

  test('refuses a best-response rival without a best responder, naming the field', () => {
    const error = refusalOf(() => createStrategy({ kind: 'best-response' }, { firmIndexByName }));
    expect(error.kind).toBe('config');
    expect(error.problems[0]?.path).toEqual(['strategy', 'kind']);
    expect(error.problems[0]?.message).toMatch(/expected a best responder/);
  });
});

describe('Rival', () => {
  const fixed = build({ kind: 'fixed', price: 12 });

  test('reprices on days 0, L, 2L, ... and holds its price in between', () => {
    const walk = build({ kind: 'random-walk', step: 1, min: 5, max: 20 });
    const rival = new Rival({ firmIndex: 1, unitCost: 2, initialPrice: 10, latencyDays: 3, priceCeiling: 50, strategy: walk });
    const lastPrices = Float64Array.from([10, 10]);
    const posted = [0, 1, 2, 3, 4, 5, 6].map((day) => rival.priceToday(day, lastPrices, 0, 0.99));
    expect(posted).toEqual([10.98, 10.98, 10.98, 11.96, 11.96, 11.96, 12.94].map((value) => expect.closeTo(value, 9)));
  });

  test('caps a runaway strategy at the ceiling, floors at minimumPrice, and counts capped days', () => {
    const runaway = build({ kind: 'fixed', price: 1e9 });
    const rival = new Rival({ firmIndex: 1, unitCost: 2, initialPrice: 10, latencyDays: 2, priceCeiling: 80, strategy: runaway });
    const lastPrices = Float64Array.from([10, 10]);
    expect([0, 1, 2].map((day) => rival.priceToday(day, lastPrices, 0, 0.5))).toEqual([80, 80, 80]);
    expect(rival.hitCeiling).toBe(3);
    expect(rival.priceToday(3, lastPrices, 0.5, 0.5)).toBe(40);
    const free = new Rival({ firmIndex: 1, unitCost: 0, initialPrice: 10, latencyDays: 1, priceCeiling: 80, strategy: build({ kind: 'undercut', amount: 5, floorMargin: 0 }) });
    expect(free.priceToday(0, Float64Array.from([1, 10]), 0, 0.5)).toBe(minimumPrice);
  });

  test('refuses bad options, listing every problem', () => {
    const error = refusalOf(() => new Rival({ firmIndex: 1, unitCost: -1, initialPrice: 0, latencyDays: 0.5, priceCeiling: Number.POSITIVE_INFINITY, strategy: fixed }));
    expect(error.kind).toBe('config');
    expect(error.problems.map((problem) => problem.path)).toEqual([['latencyDays'], ['priceCeiling'], ['initialPrice'], ['unitCost']]);
  });

  test('refuses a discount outside [0, 1), a short price vector and a NaN from its strategy', () => {
    const rival = new Rival({ firmIndex: 2, unitCost: 1, initialPrice: 10, latencyDays: 1, priceCeiling: 50, strategy: fixed });
    expect(() => rival.priceToday(0, Float64Array.from([1, 2, 3]), 1, 0.5)).toThrow(RangeError);
    expect(() => rival.priceToday(0, Float64Array.from([1, 2, 3]), Number.NaN, 0.5)).toThrow(RangeError);
    expect(() => rival.priceToday(0, Float64Array.from([1, 2]), 0, 0.5)).toThrow(RangeError);
    const broken: PricingStrategy = { kind: 'broken', nextPrice: () => Number.NaN };
    const brokenRival = new Rival({ firmIndex: 1, unitCost: 1, initialPrice: 10, latencyDays: 1, priceCeiling: 50, strategy: broken });
    expect(() => brokenRival.priceToday(4, Float64Array.from([1, 2]), 0, 0.5)).toThrow(/broken.*day 4/);
  });

  test("never writes the caller's price vector, even when the strategy throws", () => {
    const throwing: PricingStrategy = {
      kind: 'throwing',
      nextPrice: () => {
        throw new Error('boom');
      },
    };
    const rival = new Rival({ firmIndex: 1, unitCost: 1, initialPrice: 10, latencyDays: 1, priceCeiling: 50, strategy: throwing });
    const lastPrices = Float64Array.from([3, 7]);
    expect(() => rival.priceToday(0, lastPrices, 0, 0.5)).toThrow('boom');
    expect(Array.from(lastPrices)).toEqual([3, 7]);
  });
});
