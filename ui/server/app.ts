/**
 * The dashboard server: express serves the built browser code (Vite's output in
 * dist/ui/client) and the read-only catalog API (catalog.ts); socket.io streams each
 * connected tab its own simulation session (session.ts), which starts with the default
 * scenario loaded.
 *
 * Every incoming event is validated with its schema (ui/shared/events.ts) before the
 * session sees it; a malformed or unknown event is answered with a `problem` event to that
 * client alone, and the server keeps serving everyone. It binds 127.0.0.1 only; port 0
 * picks a free port (tests).
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import express from 'express';
import { Server, type Socket } from 'socket.io';
import { resultsHome as defaultResultsHome } from '../../experiments/store.js';
import { clientEventSchemas, type ClientEventName, type ClientToServerEvents, type ServerToClientEvents } from '../shared/events.js';
import { catalogRouter } from './catalog.js';
import { clientBuildFolder } from './paths.js';
import { problemOfIssues } from './problems.js';
import { SimulationSession, defaultConfiguration, defaultTuning, type SessionTuning } from './session.js';

export interface DashboardOptions {
  /** 0 picks a free port. */
  port: number;
  host?: string;
  /** Results store and registry home (default PRICELAB_HOME or ./.pricelab). */
  resultsHome?: string;
  /** The built browser code (default dist/ui/client). */
  clientFolder?: string;
  tuning?: Partial<SessionTuning>;
}

export interface DashboardServer {
  readonly url: string;
  readonly port: number;
  /** Live sessions (one per connected tab). */
  readonly sessionCount: () => number;
  close(): Promise<void>;
}

type DashboardSocket = Socket<ClientToServerEvents, ServerToClientEvents>;

const frameAcknowledgementTimeoutMs = 10_000;

export async function startDashboard(options: DashboardOptions): Promise<DashboardServer> {
  const host = options.host ?? '127.0.0.1';
  const resultsHome = options.resultsHome ?? defaultResultsHome();
  const clientFolder = options.clientFolder ?? clientBuildFolder();
  const tuning: SessionTuning = { ...defaultTuning, ...options.tuning };
  const app = express();
  app.disable('x-powered-by');
  app.use('/api', catalogRouter(resultsHome));
  app.use(express.static(clientFolder));
  app.get('/', (_request, response) => {
    if (existsSync(join(clientFolder, 'index.html'))) response.sendFile(join(clientFolder, 'index.html'));
    else response.status(503).type('text').send(`The dashboard's browser code is not built (expected ${clientFolder}/index.html): run npm run build.`);
  });

  const http: HttpServer = createServer(app);
  const io = new Server<ClientToServerEvents, ServerToClientEvents>(http, { serveClient: false, maxHttpBufferSize: 64 * 1024 });
  const sessions = new Set<SimulationSession>();

  io.on('connection', (socket: DashboardSocket) => {
    const session = new SimulationSession(
      {
        session: (state) => socket.emit('session', state),
        frame: (frame, delivered) => socket.timeout(frameAcknowledgementTimeoutMs).emit('frame', frame, () => delivered()),
        explanation: (explanation) => socket.emit('explanation', explanation),
        problem: (problem) => socket.emit('problem', problem),
      },
      resultsHome,
      tuning,
    );
    sessions.add(session);
    socket.on('disconnect', () => {
      session.close();
      sessions.delete(session);
    });
    socket.onAny((event: unknown) => {
      if (typeof event !== 'string' || !(event in clientEventSchemas)) {
        socket.emit('problem', { event: String(event), message: `unknown event "${String(event)}"`, problems: [{ path: ['event'], message: `expected one of ${Object.keys(clientEventSchemas).join(', ')}, found "${String(event)}"` }] });
      }
    });
    const handle = <Name extends ClientEventName>(name: Name, act: (payload: ReturnType<(typeof clientEventSchemas)[Name]['parse']>) => void | Promise<void>) => {
      // socket.io's typed `on` wants the declared signature; the payload is untrusted until parsed.
      (socket as unknown as Socket).on(name as string, (payload: unknown) => {
        const parsed = clientEventSchemas[name].safeParse(payload ?? {});
        if (!parsed.success) {
          socket.emit('problem', problemOfIssues(name, parsed.error.issues));
          return;
        }
        void session.command(name, () => act(parsed.data as ReturnType<(typeof clientEventSchemas)[Name]['parse']>));
      });
    };
    handle('configure', (payload) => session.configure(payload));
    handle('start', () => session.start());
    handle('pause', () => session.pause());
    handle('step', (payload) => session.step(payload));
    handle('speed', (payload) => session.setSpeed(payload.speed));
    handle('explain', (payload) => session.explain(payload));
    void session.command('configure', () => session.configure(defaultConfiguration));
  });

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port, host, () => resolve());
  });
  const port = (http.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    port,
    sessionCount: () => sessions.size,
    close: async () => {
      for (const session of sessions) session.close();
      sessions.clear();
      await io.close();
      if (http.listening) await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
