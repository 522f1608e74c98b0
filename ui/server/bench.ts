#!/usr/bin/env node
/**
 * `npm run bench:dashboard` (prints JSON): how much simulation the dashboard delivers to
 * one client at full speed, and how smooth the page stays meanwhile.
 *
 *   reference          raw socket.io throughput of a trivial event ({n}) to one Node client,
 *                      measured in the same run on the same machine
 *   nodeClient         simulated days and frames per second delivered to a Node socket.io
 *                      client (acknowledging each frame), full speed, episodes looping
 *   browser            the same in headless Chromium (Debian's /usr/bin/chromium) running the
 *                      real page, which draws every frame into its vega charts; with the
 *                      page's frame time (time between animation frames: p50, p95, max) while
 *                      it streams, and the same page's frame time at rest as its reference
 *
 * Scenario singles-day-v1 under festival:0.15 (365 days, three segments, two rivals).
 * `--seconds <n>` per measurement (default 4).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { Server } from 'socket.io';
import { io } from 'socket.io-client';
import { chromium } from 'playwright-core';
import { startDashboard } from './app.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '4' }, json: { type: 'boolean', default: false } } });
const seconds = Number(values.seconds);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function referenceThroughput(): Promise<{ eventsPerSecond: number }> {
  const http = createServer();
  const server = new Server(http);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  let running = true;
  server.on('connection', (socket) => {
    let n = 0;
    const burst = () => {
      if (!running || socket.disconnected) return;
      for (let index = 0; index < 200; index++) socket.emit('tick', { n: n++ });
      setImmediate(burst);
    };
    burst();
  });
  const client = io(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, { transports: ['websocket'] });
  let received = 0;
  client.on('tick', () => received++);
  await new Promise<void>((resolve) => client.on('connect', () => resolve()));
  await sleep(500);
  const start = received;
  const started = performance.now();
  await sleep(seconds * 1000);
  const eventsPerSecond = ((received - start) * 1000) / (performance.now() - started);
  running = false;
  client.close();
  await server.close();
  return { eventsPerSecond: Math.round(eventsPerSecond) };
}

interface Rates {
  daysPerSecond: number;
  framesPerSecond: number;
}

async function nodeClientThroughput(url: string): Promise<Rates> {
  const client = io(url, { transports: ['websocket'] });
  let days = 0;
  let frames = 0;
  client.on('frame', (frame: { daysSimulated: number }, acknowledge: () => void) => {
    acknowledge();
    days += frame.daysSimulated;
    frames++;
  });
  await new Promise<void>((resolve) => client.on('connect', () => resolve()));
  client.emit('configure', { scenario: 'singles-day-v1', policies: ['festival:0.15'], seed: 1, loop: true });
  client.emit('speed', { speed: 'max' });
  client.emit('start', {});
  await sleep(500);
  const [startDays, startFrames, started] = [days, frames, performance.now()];
  await sleep(seconds * 1000);
  const elapsed = (performance.now() - started) / 1000;
  client.close();
  return { daysPerSecond: Math.round((days - startDays) / elapsed), framesPerSecond: Math.round((frames - startFrames) / elapsed) };
}

interface FrameTimes {
  p50: number;
  p95: number;
  max: number;
}

async function browserThroughput(url: string): Promise<Rates & { frameTimeMs: FrameTimes; idleFrameTimeMs: FrameTimes }> {
  const profile = mkdtempSync(join(tmpdir(), 'pricelab-bench-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    viewport: { width: 1500, height: 1100 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await context.newPage();
    await page.goto(url);
    await page.locator('#chart-price-A svg').waitFor();
    const probe = () => page.evaluate(() => {
      const state = (globalThis as unknown as { pricelab: { daysReceived: number; framesReceived: number; frameTimes: number[] } }).pricelab;
      return { days: state.daysReceived, frames: state.framesReceived, frameTimes: state.frameTimes.splice(0) };
    });
    await sleep(1000);
    await probe();
    await sleep(seconds * 1000);
    const idle = await probe();
    await page.check('#loop');
    await page.click('#apply');
    await page.locator('#status', { hasText: 'ready' }).waitFor();
    await page.selectOption('#speed', 'max');
    await page.click('#start');
    await sleep(1000);
    const before = await probe();
    const started = performance.now();
    await sleep(seconds * 1000);
    const after = await probe();
    const elapsed = (performance.now() - started) / 1000;
    return {
      daysPerSecond: Math.round((after.days - before.days) / elapsed),
      framesPerSecond: Math.round((after.frames - before.frames) / elapsed),
      frameTimeMs: summarise(after.frameTimes),
      idleFrameTimeMs: summarise(idle.frameTimes),
    };
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

function summarise(times: readonly number[]): FrameTimes {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (quantile: number) => Number((sorted[Math.min(sorted.length - 1, Math.floor(quantile * sorted.length))] ?? Number.NaN).toFixed(1));
  return { p50: at(0.5), p95: at(0.95), max: at(1) };
}

const home = mkdtempSync(join(tmpdir(), 'pricelab-bench-dashboard-'));
const dashboard = await startDashboard({ port: 0, resultsHome: home });
try {
  const reference = await referenceThroughput();
  const nodeClient = await nodeClientThroughput(dashboard.url);
  const browser = await browserThroughput(dashboard.url);
  const result = { benchmark: 'dashboard', scenario: 'singles-day-v1', policy: 'festival:0.15', secondsPerMeasurement: seconds, reference, nodeClient, browser };
  process.stdout.write(values.json ? `${JSON.stringify(result, null, 2)}\n` : `${JSON.stringify(result)}\n`);
} finally {
  await dashboard.close();
  rmSync(home, { recursive: true, force: true });
}
