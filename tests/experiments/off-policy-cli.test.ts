/** `pricelab log` and `pricelab ope` end to end: a bandit log, its evaluation against the truth, and bad logs refused (exit 2, every line named; exit 3 for a missing file). */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, ensureBuilt } from '../fixtures/cli.js';

const folder = mkdtempSync(join(tmpdir(), 'pricelab-ope-'));
const log = join(folder, 'log.jsonl');

beforeAll(() => ensureBuilt());

describe('pricelab log and ope', () => {
  it('logs an epsilon-greedy policy and estimates a target whose truth lies in the DR interval', async () => {
    const written = await cli('log', 'weather-sensitive-v1', '--bandit', '--policy', 'cost-plus:0.6', '--epsilon', '0.3', '--days', '1460', '--seed', '3', '--out', log, '--json');
    expect(written.stderr).toBe('');
    expect(JSON.parse(written.stdout)).toMatchObject({ scenario: 'weather-sensitive-bandit-v1', decisions: 1460 });
    const result = await cli('ope', log, '--scenario', 'weather-sensitive-v1', '--bandit', '--target', 'fixed:8', '--json');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { truth: { available: boolean; expectedValueOnContexts: number }; estimates: Record<'ips' | 'snips' | 'dr', { low: number; high: number; standardError: number }> };
    expect(report.truth.available).toBe(true);
    expect(report.truth.expectedValueOnContexts).toBeGreaterThan(report.estimates.dr.low);
    expect(report.truth.expectedValueOnContexts).toBeLessThan(report.estimates.dr.high);
    expect(report.estimates.dr.standardError).toBeLessThan(report.estimates.ips.standardError);
  }, 60_000);

  it('refuses a log with bad lines: exit 2, every problem with its line number', async () => {
    const lines = readFileSync(log, 'utf8').trim().split('\n').slice(0, 5);
    const record = JSON.parse(lines[2] ?? '{}') as Record<string, unknown>;
    lines[1] = '{"truncated":';
    lines[2] = JSON.stringify({ ...record, propensity: 1.5 });
    lines[4] = JSON.stringify({ ...record, action: -1 });
    const bad = join(folder, 'bad.jsonl');
    writeFileSync(bad, `${lines.join('\n')}\n`);
    const result = await cli('ope', bad, '--scenario', 'weather-sensitive-v1', '--bandit', '--target', 'fixed:8');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/line 2: expected a JSON object/);
    expect(result.stderr).toMatch(/line 3\.propensity/);
    expect(result.stderr).toMatch(/line 5\.action/);
    expect((await cli('ope', join(folder, 'missing.jsonl'), '--scenario', 'weather-sensitive-v1', '--target', 'fixed:8')).code).toBe(3);
  }, 30_000);

  it('runs an online experiment as JSON with its truth and flags', async () => {
    const result = await cli('online', 'weather-sensitive-v1', '--design', 'customer', '--a', 'fixed:9', '--b', 'fixed:7', '--days', '60', '--json');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { design: string; flags: string[]; truth: { effect: number } };
    expect(report.design).toBe('customer');
    expect(report.flags.join(' ')).toMatch(/UNFAIR/);
    expect((await cli('online', 'weather-sensitive-v1', '--design', 'coin', '--a', 'fixed:9', '--b', 'fixed:7')).code).toBe(2);
  }, 30_000);
});
