/**
 * The dashboard following a distributed sweep (issue 17): GET /api/queue and the Experiments
 * tab's "Distributed sweep" panel, on a Redis of the test's own (tests/fixtures/redis-server.ts).
 * Jobs are added with BullMQ directly (the queue's own names, experiments/queue/connection.ts)
 * and a BullMQ Worker in this process completes them (one throws): the served counts go from
 * queued to done and failed, the worker is named, the failure's reason shown, over one Redis
 * connection however many polls; Redis going away is a state of the answer (the server keeps
 * serving) and its return is picked up; without --queue the panel says how to enable it. The
 * same counts are read in headless Chromium (tests/ui/browser.ts).
 */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueName, queuePrefix } from '../../experiments/queue/connection.js';
import { startDashboard, type DashboardServer } from '../../ui/server/app.js';
import { queuePanelSchema, type QueuePanel } from '../../ui/shared/queue-panel.js';
import { main, root } from '../fixtures/cli.js';
import { freePort, startRedis, type TestRedis } from '../fixtures/redis-server.js';
import { artifactsFolder, ensureClientBuilt, launchChromium, type Browser } from './browser.js';

let redis: TestRedis;
let home: string;
let server: DashboardServer;
let browser: Browser;
let page: Page;

const pollMs = 150;

async function panelOf(url: string): Promise<QueuePanel> {
  const response = await fetch(`${url}/api/queue`);
  expect(response.status).toBe(200);
  return queuePanelSchema.parse(await response.json());
}

/** Polls GET /api/queue until `accept` holds (or fails with the last answer). */
async function panelWhen(url: string, accept: (panel: QueuePanel) => boolean, seconds = 8): Promise<QueuePanel> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const panel = await panelOf(url);
    if (accept(panel)) return panel;
    if (Date.now() > deadline) throw new Error(`the queue panel never matched; last: ${JSON.stringify(panel)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Runs node on a script (an ES module) from the worktree's root; resolves with its output and exit code. */
function nodeScript(script: string, args: readonly string[] = [], env: Readonly<Record<string, string>> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...(script === main ? [main] : ['--input-type=module', '-e', script]), ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', ...env } }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr }),
    );
  });
}

const statusOf = (panel: QueuePanel) => (panel.enabled ? panel.status : null);

beforeAll(async () => {
  ensureClientBuilt();
  mkdirSync(artifactsFolder, { recursive: true });
  home = mkdtempSync(join(tmpdir(), 'pricelab-queue-panel-'));
  [redis, browser] = await Promise.all([startRedis(), launchChromium()]);
  server = await startDashboard({ port: 0, resultsHome: home, queue: redis.url, queuePollMs: pollMs });
  page = await browser.newPage();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await redis?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('the dashboard without --queue', () => {
  it('answers that the panel is off and how to turn it on', async () => {
    const plain = await startDashboard({ port: 0, resultsHome: home });
    try {
      const panel = await panelOf(plain.url);
      expect(panel.enabled).toBe(false);
      if (!panel.enabled) expect(panel.hint).toMatch(/--queue redis:\/\/.*PRICELAB_QUEUE/);
      await page.goto(plain.url);
      await page.click('#tab-experiments');
      await page.locator('#queue-hint', { hasText: '--queue redis://' }).waitFor({ timeout: 5000 });
      expect(await page.locator('#queue-panel').getAttribute('data-state')).toBe('disabled');
    } finally {
      await plain.close();
    }
  });

  it('refuses a queue URL that is not a Redis URL (a config error, before listening; pricelab dashboard exits 2)', async () => {
    await expect(startDashboard({ port: 0, resultsHome: home, queue: 'http://127.0.0.1:6379' })).rejects.toMatchObject({ kind: 'config' });
    const ran = await nodeScript(main, ['dashboard', '--port', '0', '--queue', 'http://127.0.0.1:6379'], { PRICELAB_HOME: home });
    expect(ran.code).toBe(2);
    expect(ran.stderr).toMatch(/--queue.*not a Redis URL/s);
  });

  it('loads BullMQ and ioredis only with a queue (the start-up is unchanged without)', async () => {
    const probe = `
      import { createRequire } from 'node:module';
      const { startDashboard } = await import('./dist/ui/server/app.js');
      const queue = process.argv[1];
      const server = await startDashboard({ port: 0, resultsHome: ${JSON.stringify(home)}, ...(queue === 'none' ? {} : { queue }) });
      const loaded = Object.keys(createRequire(import.meta.url).cache).filter((path) => /node_modules[\\/](ioredis|bullmq)[\\/]/.test(path)).length;
      await server.close();
      console.log(loaded);`;
    const [without, withQueue] = await Promise.all([nodeScript(probe, ['none']), nodeScript(probe, [`redis://127.0.0.1:${redis.port}`])]);
    expect(without.stdout.trim()).toBe('0');
    expect(Number(withQueue.stdout.trim())).toBeGreaterThan(0);
  });

  it('takes the queue from PRICELAB_QUEUE in pricelab dashboard', async () => {
    const child = spawn(process.execPath, [main, 'dashboard', '--port', '0'], { cwd: root, env: { ...process.env, NO_COLOR: '1', PRICELAB_HOME: home, PRICELAB_QUEUE: redis.url }, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const deadline = Date.now() + 10_000;
      while (!/http:\/\/[\d.]+:\d+/.test(output) && Date.now() < deadline && child.exitCode === null) await new Promise((resolve) => setTimeout(resolve, 50));
      const url = /http:\/\/[\d.]+:\d+/.exec(output)?.[0];
      expect(url, output).toBeDefined();
      const panel = await panelWhen(url!, (answer) => answer.enabled && answer.state === 'ok');
      expect(panel).toMatchObject({ enabled: true, url: redis.url });
    } finally {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
    }
  });
});

describe('the dashboard following a sweep', () => {
  it('serves queued, then done and failed with the worker and the reason, in the page too, over one connection', async () => {
    const connection = { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null };
    const queue = new Queue(queueName, { connection, prefix: queuePrefix });
    const watcher = new Redis({ host: '127.0.0.1', port: redis.port });
    try {
      await queue.addBulk(['a', 'b', 'c'].map((name) => ({ name: 'experiment-run', data: { run: name }, opts: { jobId: `run-${name}`, attempts: 1 } })));
      const queued = await panelWhen(server.url, (panel) => statusOf(panel)?.queued === 3);
      expect(queued).toMatchObject({ enabled: true, state: 'ok', reason: null });
      expect(statusOf(queued)).toMatchObject({ workers: 0, queued: 3, active: 0, done: 0, failed: 0, workerNames: [], failures: [] });

      await page.goto(server.url);
      await page.click('#tab-experiments');
      await page.locator('#queue-queued', { hasText: '3' }).waitFor({ timeout: 5000 });
      expect(await page.locator('#queue-panel h3').textContent()).toBe('Distributed sweep');
      expect(await page.locator('#queue-done').textContent()).toBe('0');
      expect(await page.locator('#queue-progress').getAttribute('value')).toBe('0');

      // Polls reuse the poller's connection: no new connection to Redis while several go by.
      const connectionsReceived = async () => Number(/total_connections_received:(\d+)/.exec(await watcher.info('stats'))?.[1]);
      const before = await connectionsReceived();
      await new Promise((resolve) => setTimeout(resolve, pollMs * 5));
      await panelOf(server.url);
      expect(await connectionsReceived()).toBe(before);

      const worker = new Worker(
        queueName,
        async (job) => {
          if (job.data.run === 'b') throw new Error('the run diverged (test)');
          return { ok: true };
        },
        { connection, prefix: queuePrefix, name: 'panel-test-worker' },
      );
      try {
        const finished = await panelWhen(server.url, (panel) => statusOf(panel)?.done === 2 && statusOf(panel)?.failed === 1 && statusOf(panel)?.workers === 1);
        expect(statusOf(finished)).toMatchObject({ queued: 0, active: 0, done: 2, failed: 1, workers: 1, workerNames: ['panel-test-worker'] });
        expect(statusOf(finished)?.failures).toEqual([{ jobId: 'run-b', kind: 'experiment-run', attempts: 1, reason: 'the run diverged (test)' }]);

        // The page updates by itself (no reload, no click).
        await page.locator('#queue-done', { hasText: '2' }).waitFor({ timeout: 5000 });
        expect(await page.locator('#queue-failed').textContent()).toBe('1');
        expect(await page.locator('#queue-workers').textContent()).toBe('1');
        expect(await page.locator('#queue-workers-names').textContent()).toContain('panel-test-worker');
        expect(await page.locator('#queue-progress').getAttribute('value')).toBe('3');
        expect(await page.locator('#queue-failures').textContent()).toContain('the run diverged (test)');
        await page.screenshot({ path: join(artifactsFolder, 'queue-panel.png'), fullPage: true });
      } finally {
        await worker.close();
      }
    } finally {
      await queue.close();
      watcher.disconnect();
    }
  });

  it('shows a Redis gone away as unreachable with the last counts, keeps serving, and reconnects', async () => {
    const restarted = redis.restart(2500);
    const gone = await panelWhen(server.url, (panel) => panel.enabled && panel.state === 'unreachable');
    expect(gone.enabled && gone.reason).toBeTruthy();
    expect(statusOf(gone)).toMatchObject({ done: 2, failed: 1 });
    expect((await fetch(`${server.url}/api/experiments`)).status).toBe(200);
    await page.locator('#queue-panel[data-state="unreachable"] #queue-state', { hasText: 'unreachable' }).waitFor({ timeout: 5000 });
    await restarted;
    const back = await panelWhen(server.url, (panel) => panel.enabled && panel.state === 'ok', 10);
    expect(statusOf(back)).toMatchObject({ done: 2, failed: 1 });
  });

  it('shows a Redis that never answered as unreachable within seconds, the server serving on', async () => {
    const nobody = await startDashboard({ port: 0, resultsHome: home, queue: `redis://127.0.0.1:${await freePort()}`, queuePollMs: pollMs });
    try {
      const started = Date.now();
      const panel = await panelWhen(nobody.url, (answer) => answer.enabled && answer.state === 'unreachable', 5);
      expect(Date.now() - started).toBeLessThan(1500);
      expect(panel).toMatchObject({ enabled: true, state: 'unreachable', reason: 'connection refused', status: null });
      expect((await fetch(`${nobody.url}/api/experiments`)).status).toBe(200);
    } finally {
      await nobody.close();
    }
  });
});
