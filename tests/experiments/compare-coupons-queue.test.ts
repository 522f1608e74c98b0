/**
 * `pricelab compare --queue` on a coupon scenario: a `pricelab worker` from dist/ on a Redis of
 * the test's own runs one job per (arm, seed) in the coupon market, and the summary (coupon
 * KPIs, the fairness of the arms' own coupons, the campaigns chosen) is identical to a local
 * run's with the same arguments but for createdAt.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliWith, ensureBuilt, main, root } from '../fixtures/cli.js';
import { startRedis, type TestRedis } from '../fixtures/redis-server.js';
import { writeCouponChoiceMarket } from '../agents/coupon-choice-market.js';

function withoutTiming(file: string): Record<string, unknown> {
  const summary = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  delete summary.createdAt;
  return summary;
}

describe('pricelab compare --queue on a coupon scenario', () => {
  let redis: TestRedis | undefined;
  let folder = '';
  let worker: ChildProcess | undefined;
  const env = () => ({ PRICELAB_HOME: join(folder, 'home') });

  beforeAll(async () => {
    ensureBuilt();
    folder = mkdtempSync(join(tmpdir(), 'pricelab-compare-coupons-queue-'));
    redis = await startRedis();
    worker = spawn(process.execPath, [main, 'worker', '--queue', redis.url, '--name', 'w1'], { cwd: root, env: { ...process.env, NO_COLOR: '1', ...env() }, stdio: 'ignore' });
  }, 60_000);

  afterAll(async () => {
    if (worker && worker.exitCode === null) {
      worker.kill('SIGTERM');
      await new Promise((resolve) => worker?.once('exit', resolve));
    }
    await redis?.stop();
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  it('gives the summary of a local run', async () => {
    const scenario = writeCouponChoiceMarket(folder);
    const args = ['compare', scenario, '--agents', 'none=none@10,deep=coupon:1@10,q-learning', '--seeds', '2', '--steps', '100', '--episodes', '1', '--resamples', '100', '--no-store'];
    const local = await cliWith(env(), ...args, '--json', join(folder, 'local.json'));
    expect(local.code, local.stderr).toBe(0);
    const queued = await cliWith(env(), ...args, '--json', join(folder, 'queued.json'), '--queue', redis!.url);
    expect(queued.code, queued.stderr).toBe(0);
    const summary = withoutTiming(join(folder, 'local.json'));
    expect(withoutTiming(join(folder, 'queued.json'))).toEqual(summary);
    expect(summary.coupons).toMatchObject({ byArm: [{ arm: 'none', campaignDays: { 'no coupon': 40 } }, { arm: 'deep', campaignDays: { '2.8 off': 40 } }, { arm: 'q-learning' }] });
  }, 180_000);
});
