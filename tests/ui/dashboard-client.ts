/** A socket.io client of the dashboard for tests: collects every event it receives, and waits for the ones a test expects. */
import { io, type Socket } from 'socket.io-client';
import type { DayExplanation, Frame, ProblemEvent, SessionState } from '../../ui/shared/events.js';

export interface Received {
  sessions: SessionState[];
  frames: Frame[];
  explanations: DayExplanation[];
  problems: ProblemEvent[];
}

export interface TestClient {
  readonly socket: Socket;
  readonly received: Received;
  /** Resolves when `check` holds for what was received (polled), or rejects after `timeoutMs`. */
  until(check: (received: Received) => boolean, timeoutMs?: number): Promise<void>;
  close(): void;
}

export async function dashboardClient(url: string): Promise<TestClient> {
  const socket = io(url, { transports: ['websocket'], forceNew: true, reconnection: false });
  const received: Received = { sessions: [], frames: [], explanations: [], problems: [] };
  socket.on('session', (state: SessionState) => received.sessions.push(state));
  socket.on('frame', (frame: Frame, acknowledge: () => void) => {
    received.frames.push(frame);
    acknowledge();
  });
  socket.on('explanation', (explanation: DayExplanation) => received.explanations.push(explanation));
  socket.on('problem', (problem: ProblemEvent) => received.problems.push(problem));
  const until = async (check: (value: Received) => boolean, timeoutMs = 10_000) => {
    const started = Date.now();
    while (!check(received)) {
      if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting; received ${received.sessions.length} sessions, ${received.frames.length} frames, problems ${JSON.stringify(received.problems)}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  await until((value) => value.sessions.length > 0);
  return { socket, received, until, close: () => socket.close() };
}

export const daysIn = (frames: readonly Frame[], arm = 0): number => frames.reduce((total, frame) => total + (frame.arms[arm]?.points.reduce((sum, point) => sum + point.days, 0) ?? 0), 0);
