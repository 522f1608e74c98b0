/**
 * The dashboard server over real sockets: validation of every incoming event (a malformed
 * one gets a problem event and nobody else is disturbed), a session's controls, A vs B on
 * common random numbers, "why this price?", flow control and down-sampling at full speed,
 * and the catalog API.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboard, type DashboardServer } from '../../ui/server/app.js';
import { downsample } from '../../ui/server/downsample.js';
import type { DayPoint } from '../../ui/shared/events.js';
import { makeEnv } from '../../env/env.js';
import { loadScenario } from '../../scenarios/load.js';
import { evaluate } from '../../experiments/train.js';
import { agentFor } from '../../experiments/setup.js';
import { dashboardClient, daysIn } from './dashboard-client.js';

let server: DashboardServer;
let home: string;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'pricelab-dashboard-'));
  server = await startDashboard({ port: 0, resultsHome: home });
});

afterAll(async () => {
  await server.close();
  rmSync(home, { recursive: true, force: true });
});

describe('the dashboard server', () => {
  it('binds 127.0.0.1 and greets each client with the default scenario loaded', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const client = await dashboardClient(server.url);
    try {
      const state = client.received.sessions.at(-1);
      expect(state?.scenario.id).toBe('singles-day-v1');
      expect(state?.arms.map((arm) => arm.policy)).toEqual(['festival:0.15']);
      expect(state?.status).toBe('ready');
    } finally {
      client.close();
    }
  });

  it('answers a malformed message with a problem event naming the path, and keeps serving it and the other clients', async () => {
    const bad = await dashboardClient(server.url);
    const good = await dashboardClient(server.url);
    try {
      bad.socket.emit('step', { days: 'many' });
      bad.socket.emit('configure', { scenario: 'steady-state-v1', policies: [], seed: -1 });
      bad.socket.emit('no-such-event', 1);
      bad.socket.emit('explain', 'not an object');
      await bad.until((received) => received.problems.length >= 4);
      const problemOf = (event: string) => bad.received.problems.find((problem) => problem.event === event);
      const [step, configure, unknown, explain] = ['step', 'configure', 'no-such-event', 'explain'].map(problemOf);
      expect(step?.event).toBe('step');
      expect(step?.problems[0]?.path).toEqual(['days']);
      expect(configure?.problems.map((problem) => problem.path[0]).sort()).toEqual(['policies', 'seed']);
      expect(unknown?.message).toContain('unknown event "no-such-event"');
      expect(explain?.event).toBe('explain');

      // A command the schema accepts but the market refuses is a problem too (every problem listed).
      bad.socket.emit('configure', { scenario: 'no-such-scenario-v1', policies: ['list'], seed: 1 });
      await bad.until((received) => received.problems.filter((problem) => problem.event === 'configure').length === 2);

      // The other client was not disturbed; the bad one still works.
      good.socket.emit('step', { days: 3 });
      bad.socket.emit('step', { days: 2 });
      await good.until((received) => daysIn(received.frames) === 3);
      await bad.until((received) => daysIn(received.frames) === 2);
      expect(good.received.problems).toEqual([]);
    } finally {
      bad.close();
      good.close();
    }
  });

  it('steps, runs, pauses and finishes an episode; the days streamed are the days of evaluate()', async () => {
    const client = await dashboardClient(server.url);
    try {
      client.socket.emit('configure', { scenario: 'markdown-gvr-v1', policies: ['fixed:3.5'], seed: 7 });
      await client.until((received) => received.sessions.at(-1)?.scenario.id === 'markdown-gvr-v1');
      client.socket.emit('step', { days: 5 });
      await client.until((received) => daysIn(received.frames) === 5);
      expect(client.received.sessions.at(-1)?.status).toBe('paused');
      client.socket.emit('speed', { speed: 'max' });
      client.socket.emit('start', {});
      await client.until((received) => received.sessions.at(-1)?.status === 'finished');
      const points = client.received.frames.flatMap((frame) => frame.arms[0]?.points ?? []);
      // The same market, seed and rule through the experiments loop: the same profit.
      const env = makeEnv(loadScenario('markdown-gvr-v1').scenario);
      const agent = await agentFor(env, 'fixed-price', { price: 3.5 }, 7);
      const [episode] = evaluate(env, agent, { episodes: 1, seed: 7 });
      expect(points.at(-1)?.cumulativeProfit).toBeCloseTo(episode?.kpis.profit ?? Number.NaN, 6);
      expect(client.received.frames.at(-1)?.arms[0]?.kpis.days).toBe(episode?.kpis.days);
    } finally {
      client.close();
    }
  });

  it('A vs B with the same policy twice: the same customers, so every daily difference is 0 and the interval stays unbounded (no variation to scale it)', async () => {
    const client = await dashboardClient(server.url);
    try {
      client.socket.emit('configure', { scenario: 'steady-state-v1', policies: ['match', 'match'], seed: 3 });
      client.socket.emit('step', { days: 30 });
      await client.until((received) => received.frames.some((frame) => frame.difference !== null));
      const difference = client.received.frames.at(-1)?.difference;
      expect(difference).toMatchObject({ estimate: 0, low: null, high: null, n: 30, cumulative: 0 });
    } finally {
      client.close();
    }
  });

  it('A vs B with different policies: a running difference with an always-valid interval', async () => {
    const client = await dashboardClient(server.url);
    try {
      client.socket.emit('configure', { scenario: 'steady-state-v1', policies: ['fixed:13.99', 'fixed:18.99'], seed: 3 });
      client.socket.emit('step', { days: 60 });
      await client.until((received) => daysIn(received.frames) >= 60);
      const frame = client.received.frames.at(-1);
      const a = frame?.arms[0]?.kpis.profit ?? 0;
      const b = frame?.arms[1]?.kpis.profit ?? 0;
      expect(frame?.difference?.cumulative).toBeCloseTo(b - a, 6);
      expect(frame?.difference?.low).toBeLessThanOrEqual(frame?.difference?.high ?? Number.NaN);
      expect(frame?.difference?.n).toBe(60);
      // every day's difference is sent: one per day, in order
      expect(client.received.frames.flatMap((received) => received.differences.map((difference) => difference.day))).toEqual(Array.from({ length: 60 }, (_, day) => day));
    } finally {
      client.close();
    }
  });

  it('explains a day: features by name, the rule, and every guardrail in order', async () => {
    const client = await dashboardClient(server.url);
    try {
      client.socket.emit('configure', { scenario: 'steady-state-v1', policies: ['fixed:24.99'], seed: 1, guardrails: 'responsible' });
      client.socket.emit('step', { days: 4 });
      await client.until((received) => daysIn(received.frames) === 4);
      client.socket.emit('explain', { arm: 0, episode: 0, day: 2 });
      client.socket.emit('explain', { arm: 0, episode: 0, day: 40 });
      await client.until((received) => received.explanations.length === 1 && received.problems.length === 1);
      const explanation = client.received.explanations[0];
      expect(explanation?.features.map((feature) => feature.name)).toContain('lastPrice');
      expect(explanation?.decision.kind).toBe('rule');
      expect(explanation?.proposedPrice).toBe(24.99);
      expect(explanation?.guardrails.effects.map((effect) => effect.rule)).toEqual(['min-max', 'max-change', 'competitor-index', 'margin-floor', 'ladder']);
      // The rivals sell far below 24.99: the competitor-index band moves the price, and the day's played price is the guarded one.
      expect(explanation?.guardrails.effects.some((effect) => effect.status === 'adjusted')).toBe(true);
      const played = client.received.frames.flatMap((frame) => frame.arms[0]?.points ?? []).find((point) => point.day === 2);
      expect(played?.price).toBeCloseTo(explanation?.price ?? Number.NaN, 9);
      expect(client.received.problems[0]?.problems[0]?.path).toEqual(['day']);
    } finally {
      client.close();
    }
  });

  it('at full speed, batches days into few frames, at most maxPointsPerFrame points each', async () => {
    const fast = await startDashboard({ port: 0, resultsHome: home, tuning: { maxPointsPerFrame: 20, frameIntervalMs: 1000 } });
    const client = await dashboardClient(fast.url);
    try {
      client.socket.emit('configure', { scenario: 'calvano-duopoly-v1', policies: ['index:3'], seed: 1 });
      client.socket.emit('speed', { speed: 'max' });
      client.socket.emit('start', {});
      await client.until((received) => received.sessions.at(-1)?.status === 'finished');
      expect(daysIn(client.received.frames)).toBe(1000);
      expect(client.received.frames.length).toBeLessThan(20);
      for (const frame of client.received.frames) expect(frame.arms[0]?.points.length).toBeLessThanOrEqual(20);
    } finally {
      client.close();
      await fast.close();
    }
  });

  it('at full speed, A vs B: points are down-sampled but every day of the difference arrives, in order', async () => {
    // Before: the differences were thinned like the points, so a frame of more than
    // maxPointsPerFrame days lost days of the A-vs-B line (seen as 237 of 365 in CI).
    const fast = await startDashboard({ port: 0, resultsHome: home, tuning: { maxPointsPerFrame: 20, frameIntervalMs: 1000 } });
    const client = await dashboardClient(fast.url);
    try {
      client.socket.emit('configure', { scenario: 'steady-state-v1', policies: ['fixed:13.99', 'fixed:18.99'], seed: 2 });
      client.socket.emit('speed', { speed: 'max' });
      client.socket.emit('start', {});
      await client.until((received) => received.sessions.at(-1)?.status === 'finished');
      expect(daysIn(client.received.frames)).toBe(365);
      for (const frame of client.received.frames) expect(frame.arms[1]?.points.length).toBeLessThanOrEqual(20);
      expect(client.received.frames.flatMap((frame) => frame.differences.map((difference) => difference.day))).toEqual(Array.from({ length: 365 }, (_, day) => day));
    } finally {
      client.close();
      await fast.close();
    }
  });

  it('serves the catalog: scenarios, policies, an empty registry and store', async () => {
    const scenarios = (await (await fetch(`${server.url}/api/scenarios`)).json()) as { id: string }[];
    expect(scenarios.map((scenario) => scenario.id)).toContain('singles-day-v1');
    const policies = (await (await fetch(`${server.url}/api/policies?scenario=markdown-gvr-v1`)).json()) as { rules: string[] };
    expect(policies.rules).toContain('dp-optimal');
    expect(await (await fetch(`${server.url}/api/registry`)).json()).toEqual({ policies: [], audit: [] });
    expect(await (await fetch(`${server.url}/api/experiments`)).json()).toEqual({ comparisons: [], runs: [] });
    const missing = await fetch(`${server.url}/api/experiments/nope/charts`);
    expect(missing.status).toBe(404);
  });
});

describe('downsample', () => {
  const point = (day: number, price: number, eventDay = false): DayPoint => ({
    day, days: 1, price, proposedPrice: price, rivalPrices: [price + 1], referencePrices: [price], demand: 2, sold: 1, lostSales: 1, soldBySegment: [day, 1 - day], lostBySegment: [1, 0], stockOnHand: 100 - day, stockOnOrder: 0,
    unitsOrdered: 0, unitsReturned: 0, refunds: 0, revenue: price, profit: price, cumulativeRevenue: day, cumulativeProfit: day, eventDay, presaleDay: false, weather: null,
  });

  it('keeps small batches as they are, and merges large ones into buckets that keep every day counted', () => {
    const points = Array.from({ length: 10 }, (_, day) => point(day, day, day === 3));
    expect(downsample(points, 10)).toEqual(points);
    const merged = downsample(points, 4);
    expect(merged.length).toBeLessThanOrEqual(4);
    expect(merged.reduce((total, bucket) => total + bucket.days, 0)).toBe(10);
    expect(merged[0]).toMatchObject({ day: 2, days: 3, price: 1, stockOnHand: 98, cumulativeProfit: 2, eventDay: false, soldBySegment: [1, 0], lostBySegment: [1, 0] });
    expect(merged[1]).toMatchObject({ day: 5, eventDay: true, rivalPrices: [5] });
  });
});
