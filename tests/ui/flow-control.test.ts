/**
 * One client cannot stall the dashboard for the others (issue 13.9): a flood of `step
 * {days: 10000}` from a client that never acknowledges its frames is held by flow control
 * (its steps wait for acknowledgements like streamed frames), its queue refuses beyond its
 * bound with one problem event, and another client's step is answered meanwhile, before the
 * flood is done. A step never simulates more than maxStepDays days. A session whose client
 * stops reading (its send buffer full) runs no further command.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboard, type DashboardServer } from '../../ui/server/app.js';
import { SimulationSession, defaultTuning, type SessionOutput } from '../../ui/server/session.js';
import type { Frame, ProblemEvent, SessionState } from '../../ui/shared/events.js';
import { dashboardClient, daysIn } from './dashboard-client.js';

let home: string;
let server: DashboardServer;
const maxQueuedCommands = 16;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'pricelab-dashboard-flow-'));
  // Frames stay unacknowledged for the whole test: the flooder's session stays held.
  server = await startDashboard({ port: 0, resultsHome: home, tuning: { maxQueuedCommands, frameAcknowledgementTimeoutMs: 120_000 } });
});

afterAll(async () => {
  await server.close();
  rmSync(home, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('flow control between clients', () => {
  it('a flood of steps from a client that never acknowledges leaves another client responsive, and its queue refuses beyond the bound', async () => {
    const good = await dashboardClient(server.url);
    const flooder = io(server.url, { transports: ['websocket'], forceNew: true, reconnection: false });
    const seen = { sessions: [] as SessionState[], frames: [] as Frame[], problems: [] as ProblemEvent[] };
    flooder.on('session', (state: SessionState) => seen.sessions.push(state));
    flooder.on('frame', (frame: Frame) => seen.frames.push(frame)); // never acknowledged
    flooder.on('problem', (problem: ProblemEvent) => seen.problems.push(problem));
    try {
      await good.until(() => seen.sessions.length > 0);
      const steps = 3000;
      for (let index = 0; index < steps; index++) flooder.emit('step', { days: 10_000 });
      // The flood is under way: its first steps ran and sent frames, the rest were queued or refused.
      await good.until(() => seen.frames.length > 0 && seen.problems.length > 0, 20_000);

      const started = performance.now();
      good.socket.emit('step', { days: 3 });
      await good.until((received) => daysIn(received.frames) === 3, 20_000);
      const latency = performance.now() - started;
      expect(latency).toBeLessThan(2000);
      // Answered while the flood is held, not after it: the flooder has had at most its
      // frames in flight, and nowhere near one answer per step.
      expect(seen.frames.length).toBeLessThanOrEqual(defaultTuning.maxFramesInFlight);
      expect(seen.sessions.length).toBeLessThan(maxQueuedCommands + 2);

      await sleep(300);
      expect(seen.problems).toHaveLength(1); // one refusal event for the whole overflow
      expect(seen.problems[0]?.message).toBe('too many commands waiting');
      expect(seen.problems[0]?.problems[0]?.message).toContain(`at most ${maxQueuedCommands} commands`);

      // The other client keeps working, over and over.
      for (let round = 0; round < 3; round++) {
        const before = daysIn(good.received.frames);
        good.socket.emit('step', { days: 5 });
        await good.until((received) => daysIn(received.frames) === before + 5, 5000);
      }
      expect(good.received.problems).toEqual([]);
    } finally {
      flooder.close();
      good.close();
    }
  }, 60_000);

  it('a step simulates at most maxStepDays days', async () => {
    const capped = await startDashboard({ port: 0, resultsHome: home, tuning: { maxStepDays: 40 } });
    const client = await dashboardClient(capped.url);
    try {
      client.socket.emit('configure', { scenario: 'calvano-duopoly-v1', policies: ['index:3'], seed: 1 });
      client.socket.emit('step', { days: 10_000 });
      client.socket.emit('pause', {});
      await client.until((received) => received.sessions.at(-1)?.status === 'paused' && daysIn(received.frames) > 0 && received.sessions.length >= 4);
      await sleep(200);
      expect(daysIn(client.received.frames)).toBe(40);
    } finally {
      client.close();
      await capped.close();
    }
  });
});

describe('a session whose client stops reading', () => {
  it('runs no command while its output is not writable, and refuses beyond the bound', async () => {
    const problems: ProblemEvent[] = [];
    let drained: () => void = () => undefined;
    const notReading = new Promise<void>((resolve) => (drained = resolve));
    const output: SessionOutput = {
      session: () => undefined,
      frame: (_frame, delivered) => delivered(),
      explanation: () => undefined,
      problem: (problem) => problems.push(problem),
      writable: () => notReading,
    };
    const session = new SimulationSession(output, home, { ...defaultTuning, maxQueuedCommands: 4 });
    let ran = 0;
    const accepted = Array.from({ length: 10 }, () => session.command('step', () => void ran++));
    expect(accepted).toEqual([true, true, true, true, false, false, false, false, false, false]);
    await sleep(50);
    expect(ran).toBe(0);
    expect(problems).toHaveLength(1);
    drained();
    await sleep(50);
    expect(ran).toBe(4);
    expect(session.queuedCommands).toBe(0);
    expect(session.command('step', () => void ran++)).toBe(true);
    session.close();
  });
});
