/**
 * `pricelab check-prices` end to end: a hand-written price path with a raise before a
 * festival (exit 1, the flag in --json), a clean path (exit 0), a simulated festival rule
 * on singles-day-v1 under both rules, and a missing source (exit 2 with a JSON error).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReferencePriceReport } from '../../env/reference-price-record.js';
import { cli, ensureBuilt, root } from '../fixtures/cli.js';

let folder = '';
const file = (name: string, json: unknown) => {
  const path = join(folder, name);
  writeFileSync(path, JSON.stringify(json));
  return path;
};
const repeat = (price: number, days: number) => Array.from({ length: days }, () => price);

beforeAll(() => {
  ensureBuilt();
  folder = mkdtempSync(join(tmpdir(), 'pricelab-check-prices-'));
});
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('check-prices', () => {
  it('flags a raise 10 days before a festival that the discount only takes back (exit 1)', async () => {
    const path = file('raise.json', { prices: [...repeat(100, 50), ...repeat(150, 10), ...repeat(100, 3)], promotions: [{ name: 'festival', start: 60, end: 63 }] });
    const result = await cli('check-prices', '--prices', path, '--rule', 'cn-7-day', '--json');
    expect(result.code).toBe(1);
    const { report } = JSON.parse(result.stdout) as { report: ReferencePriceReport };
    expect(report.rule.name).toBe('cn-7-day');
    expect(report.promotions[0]?.compliantReference.price).toBe(150);
    expect(report.flags.map((flag) => [flag.kind, flag.raiseDay, flag.priceBeforeRaise])).toEqual([['raise-then-discount', 50, 100]]);
    const text = await cli('check-prices', '--prices', path);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('FLAG raise-then-discount');
    expect(text.stdout).toContain('not legal advice');
  });

  it('passes a genuine discount (exit 0)', async () => {
    const path = file('clean.json', { prices: [...repeat(100, 40), ...repeat(80, 3)], units: repeat(2, 43), promotions: [{ name: 'sale', start: 40, end: 43 }] });
    const result = await cli('check-prices', '--prices', path, '--json');
    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout) as { report: ReferencePriceReport }).report.compliant).toBe(true);
  });

  it('simulates a festival rule: 12.12 follows 11.11 within 30 days, so the EU rule finds its "was" overstated', async () => {
    const eu = await cli('check-prices', 'singles-day-v1', '--policy', 'festival:0.15', '--json');
    expect(eu.code).toBe(1);
    const euReport = (JSON.parse(eu.stdout) as { report: ReferencePriceReport }).report;
    const late = euReport.promotions.find((promotion) => promotion.name === '12.12');
    expect(late?.overstated).toBe(true);
    expect(late?.compliantReference.price).toBeLessThan(late?.claimedReference ?? 0);
    // The 7-day rule looks only at the regular price of the week before: no overstatement,
    // and with the raise window shorter than the 23 days since 11.11 ended, no flag either.
    const china = await cli('check-prices', 'singles-day-v1', '--policy', 'festival:0.15', '--rule', 'cn-7-day', '--raise-window', '20', '--json');
    expect(china.code).toBe(0);
    expect((JSON.parse(china.stdout) as { report: ReferencePriceReport }).report.promotions.every((promotion) => !promotion.overstated)).toBe(true);
  });

  it("takes the rule from the scenario's referencePriceRule when --rule is not given", async () => {
    const scenario = JSON.parse(readFileSync(join(root, 'scenarios', 'singles-day-v1.json'), 'utf8')) as Record<string, unknown>;
    const path = file('singles-day-china.json', { ...scenario, id: 'singles-day-china-v1', referencePriceRule: 'cn-7-day' });
    const result = await cli('check-prices', path, '--policy', 'festival:0.15', '--raise-window', '20', '--json');
    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout) as { report: ReferencePriceReport }).report.rule.name).toBe('cn-7-day');
  });

  it('refuses a command line without a source (exit 2, JSON error)', async () => {
    const result = await cli('check-prices', '--json');
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout)).toMatchObject({ error: { kind: 'config', problems: [{ path: ['scenario'] }] } });
  });
});
