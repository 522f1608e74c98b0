/**
 * The page's socket: every event the server sends is validated with its schema
 * (ui/shared/events.ts) before a handler sees it; an invalid one is reported, not used.
 * Frames are acknowledged on receipt (the server's flow control at full speed).
 */
import { io, type Socket } from 'socket.io-client';
import { serverEventSchemas, type ClientEventName, type ClientEventPayload, type ClientToServerEvents, type DayExplanation, type Frame, type ProblemEvent, type ServerToClientEvents, type SessionState } from '../shared/events.js';

export interface ConnectionHandlers {
  session(state: SessionState): void;
  frame(frame: Frame): void;
  explanation(explanation: DayExplanation): void;
  problem(problem: ProblemEvent): void;
  connected(connected: boolean): void;
}

export interface Connection {
  send<Name extends ClientEventName>(name: Name, payload: ClientEventPayload<Name>): void;
}

export function connect(handlers: ConnectionHandlers): Connection {
  const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io({ transports: ['websocket'] });
  const invalid = (event: string, issues: readonly { path: readonly PropertyKey[]; message: string }[]) =>
    handlers.problem({ event, message: `the server sent an invalid "${event}" event`, problems: issues.map((issue) => ({ path: issue.path.map(String), message: issue.message })) });
  socket.on('connect', () => handlers.connected(true));
  socket.on('disconnect', () => handlers.connected(false));
  socket.on('session', (payload) => {
    const parsed = serverEventSchemas.session.safeParse(payload);
    if (parsed.success) handlers.session(parsed.data);
    else invalid('session', parsed.error.issues);
  });
  socket.on('frame', (payload, acknowledge) => {
    acknowledge();
    const parsed = serverEventSchemas.frame.safeParse(payload);
    if (parsed.success) handlers.frame(parsed.data);
    else invalid('frame', parsed.error.issues);
  });
  socket.on('explanation', (payload) => {
    const parsed = serverEventSchemas.explanation.safeParse(payload);
    if (parsed.success) handlers.explanation(parsed.data);
    else invalid('explanation', parsed.error.issues);
  });
  socket.on('problem', (payload) => {
    const parsed = serverEventSchemas.problem.safeParse(payload);
    if (parsed.success) handlers.problem(parsed.data);
    else invalid('problem', parsed.error.issues);
  });
  return {
    send: (name, payload) => {
      // socket.io's emit is typed per event name; the union of names needs one cast here.
      (socket.emit as (event: string, payload: unknown) => void)(name, payload);
    },
  };
}
