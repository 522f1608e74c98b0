/**
 * The text report of `pricelab compare` (issue 14.14): each KPI's numbers share one count of
 * decimals, enough for four significant digits, so two arms whose means differ do not print
 * alike (return rates of 0.0613 and 0.0556 both printed as 0.06, one marked better).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { comparisonText } from '../../cli/commands/compare.js';
import { compare, type ComparisonOutcome } from '../../experiments/compare.js';
import { decimalsFor } from '../../experiments/report/format.js';

let outcome: ComparisonOutcome;
beforeAll(async () => {
  outcome = await compare({ scenario: 'steady-state-v1', arms: ['low=fixed:17.99', 'high=fixed:18.99'], seeds: 3, evaluationEpisodes: 1, trainingSteps: 1, bootstrapResamples: 200 });
}, 60_000);

const decimalsOf = (text: string): number => (text === '0' ? -1 : (text.split('.')[1]?.length ?? 0));

describe('pricelab compare text', () => {
  it("prints each KPI's means and half-widths with the KPI's decimals, and means that differ differently", () => {
    const text = comparisonText(outcome.summary, [], undefined);
    const lines = text.split('\n');
    for (const kpi of outcome.summary.kpis) {
      const line = lines.find((candidate) => candidate.startsWith(`${kpi.name} `));
      expect(line, kpi.name).toBeDefined();
      const numbers = [...(line ?? '').matchAll(/(-?[\d,]+(?:\.\d+)?) ±(-?[\d,]+(?:\.\d+)?)/g)].map((match) => [match[1] ?? '', match[2] ?? '']);
      expect(numbers, kpi.name).toHaveLength(outcome.summary.arms.length);
      const expected = decimalsFor(kpi.byArm.flatMap((entry) => [entry.mean, entry.low, entry.high]));
      for (const number of numbers.flat()) if (number !== '0') expect(decimalsOf(number), `${kpi.name}: ${line}`).toBe(expected);
      const [low, high] = kpi.byArm;
      if (low && high && Number(low.mean.toPrecision(4)) !== Number(high.mean.toPrecision(4))) expect(numbers[0]?.[0], `${kpi.name}: ${line}`).not.toBe(numbers[1]?.[0]);
    }
  });

  it("prints the verdict difference and its interval with the primary KPI's decimals for differences", () => {
    const text = comparisonText(outcome.summary, [], undefined);
    const row = text.split('\n').find((line) => line.startsWith('high '));
    const match = /(-?[\d,.]+)\s+(-?[\d,.]+) \.\. (-?[\d,.]+)/.exec(row ?? '');
    expect(match, row).not.toBeNull();
    const expected = decimalsFor(outcome.summary.comparisons.filter((comparison) => comparison.kpi === outcome.summary.primaryKpi).flatMap((comparison) => [comparison.estimate, comparison.t.low, comparison.t.high]));
    for (const number of [match?.[1], match?.[2], match?.[3]]) if (number !== '0') expect(decimalsOf(number ?? ''), row).toBe(expected);
  });
});
