/**
 * `pricelab train <coupon scenario> --envs N`: the coupon policy trains over N coupon markets
 * in lockstep (env/coupons/coupon-vector-env.ts) through the vector training loop, which
 * counts whole episodes only: 150 steps over 3 markets of a 30-day horizon are 50 days, one
 * whole episode per market (3), where one market would have run 5. The artifact is a coupon
 * policy as with one market.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PolicyManifest } from '../../agents/artifact.js';
import { cliWith, ensureBuilt } from '../fixtures/cli.js';

let folder = '';
beforeAll(() => {
  ensureBuilt();
  folder = mkdtempSync(join(tmpdir(), 'pricelab-coupon-vector-'));
});
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const run = (...args: string[]) => cliWith({ PRICELAB_HOME: join(folder, 'home') }, ...args);

describe('pricelab train <coupon scenario> --envs N', () => {
  it('trains over N coupon markets through the vector loop and writes a coupon policy', async () => {
    const train = (envs: string, out: string) => run('train', 'festival-coupon-v1', '--agent', 'q-learning', '--steps', '150', '--envs', envs, '--eval-episodes', '1', '--no-store', '--out', join(folder, out), '--json');
    const vector = await train('3', 'vector');
    expect(vector.code, vector.stderr).toBe(0);
    const manifest = JSON.parse(vector.stdout) as { options: { envs: number }; metrics: Record<string, unknown> };
    expect(manifest.options.envs).toBe(3);
    expect(manifest.metrics['train/steps']).toBe(150);
    expect(manifest.metrics['train/episodes']).toBe(3);
    const policy = JSON.parse(readFileSync(join(folder, 'vector', 'policy', 'policy.json'), 'utf8')) as PolicyManifest;
    expect(policy.action.ladder).toEqual([89, 99, 109, 119, 129]);
    expect(policy.action.coupons?.campaigns).toHaveLength(3);

    const single = await train('1', 'single');
    expect(single.code, single.stderr).toBe(0);
    expect((JSON.parse(single.stdout) as { metrics: Record<string, unknown> }).metrics['train/episodes']).toBe(5);
  });
});
