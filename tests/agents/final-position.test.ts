/**
 * The final-position table (agents/final-position.ts): the stock position expected at the end
 * of the horizon under the firm's periodic (s, S) review, against hand-worked answers with
 * certain sales and against a Monte Carlo of the same rule with normal sales.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FinalPositionTable, type ReviewRule } from '../../agents/final-position.js';
import { RandomStream } from '../../env/random.js';

const rule: ReviewRule = { reorderPoint: 300, orderUpTo: 900, reviewEveryDays: 7 };
const horizon = 365; // reviews on days 350, 357 and 364 (multiples of 7): with 15, 8 and 1 days left

describe('the final-position table', () => {
  it('with certain sales, follows the rule as worked by hand', () => {
    const table = new FinalPositionTable({ rule, horizon, days: 21, dailySales: 30, dailySalesSd: 0 });
    // 8 days left: day 357 sells 30 and reviews; days 358-364 sell 210; day 364 reviews.
    expect(table.expected(600, 8)).toBe(360); // 570 at the first review, 360 at the last: no order
    expect(table.expected(540, 8)).toBe(900); // 510, then 300: at the reorder point, topped up to 900
    expect(table.expected(320, 8)).toBe(690); // 290: topped up to 900 at day 357, 690 at the end
    expect(table.expected(100, 1)).toBe(900); // the last day reviews too
    expect(table.expected(540.5, 8)).toBeCloseTo((900 + 301) / 2, 9); // between grid points (540 orders, 541 ends at 301): interpolated
    expect(table.expected(5_000, 3)).toBe(5_000 - 90); // above the grid, one for one
    expect(table.expected(600, 22)).toBeUndefined(); // past the table
    expect(table.days).toBe(21);
  });

  it('without a rule, is the position less the sales, floored at 0', () => {
    const table = new FinalPositionTable({ rule: undefined, horizon, days: 10, dailySales: 30, dailySalesSd: 0 });
    expect(table.expected(500, 10)).toBe(200);
    expect(table.expected(100, 5)).toBe(0);
    expect(table.expected(250, 0)).toBe(250);
  });

  it('agrees with a Monte Carlo of the rule with normal daily sales', () => {
    const mean = 31;
    const sd = 7.5;
    const table = new FinalPositionTable({ rule, horizon, days: 21, dailySales: mean, dailySalesSd: sd });
    const random = new RandomStream(11, 'final-position-test');
    const normal = () => Math.sqrt(-2 * Math.log(1 - random.next())) * Math.cos(2 * Math.PI * random.next());
    const simulate = (start: number, daysLeft: number) => {
      let position = start;
      for (let day = horizon - daysLeft; day < horizon; day++) {
        position = Math.max(0, position - Math.max(0, Math.round(mean + sd * normal())));
        if (day % rule.reviewEveryDays === 0 && position <= rule.reorderPoint) position = rule.orderUpTo;
      }
      return position;
    };
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000 }), fc.integer({ min: 1, max: 21 }), (start, daysLeft) => {
        const runs = 20_000;
        let total = 0;
        for (let run = 0; run < runs; run++) total += simulate(start, daysLeft);
        // The final position's sd is at most 300 (it lies in 0..900 or near start): 5 standard errors.
        expect(Math.abs(total / runs - (table.expected(start, daysLeft) ?? Number.NaN))).toBeLessThan((5 * 300) / Math.sqrt(runs));
      }),
      { numRuns: 12, seed: 3 },
    );
  });
});
