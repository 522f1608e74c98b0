/**
 * `pricelab compare` end to end (dist/ build): the JSON summary file, the report, the
 * results store record, `--fail-unless-better` as a CI gate naming the failing arm, and
 * bad input refused with exit 2.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { comparisonSummarySchema } from '../../experiments/compare.js';
import { ResultsStore } from '../../experiments/store.js';
import { cli, ensureBuilt } from '../fixtures/cli.js';

const scratch = mkdtempSync(join(tmpdir(), 'pricelab-compare-cli-'));
const home = join(scratch, 'home');
const quick = ['--seeds', '4', '--episodes', '2', '--steps', '365'];

beforeAll(() => {
  ensureBuilt();
  process.env.PRICELAB_HOME = home;
});
afterAll(() => {
  delete process.env.PRICELAB_HOME;
  rmSync(scratch, { recursive: true, force: true });
});

describe('pricelab compare', () => {
  it('writes the JSON summary and the report, records the comparison, and exits 0 when every arm is better', async () => {
    const json = join(scratch, 'better.json');
    const report = join(scratch, 'better.html');
    const result = await cli('compare', 'steady-state-v1', '--agents', 'cheap=fixed:12.99,fixed:17.99', ...quick, '--json', json, '--report', report, '--fail-unless-better');
    expect(result.stderr).not.toContain('failed');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('verdict on totalReward');
    const summary = comparisonSummarySchema.parse(JSON.parse(readFileSync(json, 'utf8')));
    expect(summary.verdict).toMatchObject({ kpi: 'totalReward', everyArmBetter: true });
    expect(summary.baseline).toBe('cheap');
    expect(existsSync(join(scratch, 'better-charts', 'forest.png'))).toBe(true);
    const store = ResultsStore.open(home);
    try {
      const recorded = store.listComparisons();
      expect(recorded.map((row) => [row.scenario, row.baseline, row.arms, row.reportPath])).toContainEqual(['steady-state-v1', 'cheap', ['cheap', 'fixed:17.99'], report]);
    } finally {
      store.close();
    }
  });

  it('exits 1 with --fail-unless-better when an arm is not better, naming it; a bare --json prints the summary', async () => {
    const result = await cli('compare', 'steady-state-v1', '--agents', 'fixed:17.99,same=fixed:17.99,cheap=fixed:12.99', ...quick, '--json', '--fail-unless-better', '--no-store');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/not better than fixed:17\.99 on totalReward: same \(no detectable difference.*cheap \(worse/);
    const summary = comparisonSummarySchema.parse(JSON.parse(result.stdout));
    expect(summary.verdict.everyArmBetter).toBe(false);
  });

  it('refuses bad input with exit 2 and every problem', async () => {
    const result = await cli('compare', 'steady-state-v1', '--agents', 'fixed:17.99,nonsense', '--seeds', '1', '--no-store');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('seeds: expected at least 2 seeds');
    expect(result.stderr).toContain('found "nonsense"');
    const missing = await cli('compare', 'no-such-scenario', '--agents', 'fixed:17.99,list', '--no-store');
    expect(missing.code).toBe(3);
  });
});
