/**
 * The dashboard server: express serves the built browser code (Vite's output in
 * dist/ui/client) and the read-only catalog API (catalog.ts); socket.io streams each
 * connected tab its own simulation session (session.ts), which starts with the default
 * scenario loaded.
 *
 * Every incoming event is validated with its schema (ui/shared/events.ts) before the
 * session sees it; a malformed or unknown event is answered with a `problem` event to that
 * client alone, and the server keeps serving everyone. It binds 127.0.0.1 unless told
 * another host; port 0 picks a free port (tests).
 *
 * Security (docs/dashboard.md, "Security model"): every express request and every socket.io
 * handshake must carry an allowed Host and, when present, an allowed Origin (access.ts), so
 * a page of another site cannot drive the dashboard, DNS rebinding included. What the page
 * may load is resolved by sources.ts (built-in scenarios, the scenarios folder, registered
 * policies, artifacts under the runs folder). Each session's commands are bounded and
 * flow-controlled (session.ts). A port in use is a config error that says so (exit 2).
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import express from 'express';
import { Server, type Socket } from 'socket.io';
import { resultsHome as defaultResultsHome } from '../../experiments/store.js';
import { clientEventSchemas, type ClientEventName, type ClientToServerEvents, type ProblemEvent, type ServerToClientEvents } from '../shared/events.js';
import { hostHeaderName, requestGate, type RequestGate } from './access.js';
import { catalogRouter } from './catalog.js';
import { clientBuildFolder } from './paths.js';
import { problemOfIssues } from './problems.js';
import { queuePanelSource } from './queue-panel.js';
import { SimulationSession, defaultConfiguration, defaultTuning, type SessionTuning } from './session.js';
import type { DashboardFolders } from './sources.js';
import { listenError } from '../../serving/listen-error.js';

export interface DashboardOptions {
  /** 0 picks a free port. */
  port: number;
  /** The address to listen on (default 127.0.0.1). The dashboard has no authentication: see docs/dashboard.md. */
  host?: string;
  /** More Host header values to answer besides loopback names and the listening host (access.ts). */
  allowedHosts?: readonly string[];
  /** More page origins to accept (access.ts). */
  allowedOrigins?: readonly string[];
  /** Scenario files the page may load besides the built-in ones (sources.ts); none by default. */
  scenariosFolder?: string;
  /** Trained artifacts the page may load as artifact:<folder> (sources.ts); none by default. */
  runsFolder?: string;
  /** Results store and registry home (default PRICELAB_HOME or ./.pricelab). */
  resultsHome?: string;
  /** The built browser code (default dist/ui/client). */
  clientFolder?: string;
  tuning?: Partial<SessionTuning>;
  /** A BullMQ queue's Redis URL: the Experiments tab follows its sweep (queue-panel.ts); none by default. */
  queue?: string;
  /** Milliseconds between the queue's polls (default 1500). */
  queuePollMs?: number;
}

export interface DashboardServer {
  readonly url: string;
  readonly port: number;
  /** Live sessions (one per connected tab). */
  readonly sessionCount: () => number;
  close(): Promise<void>;
}

type DashboardSocket = Socket<ClientToServerEvents, ServerToClientEvents>;

/** Packets waiting in a client's send buffer before its session waits for it to read (a tab reads them at once). */
const maxBufferedPackets = 64;

export async function startDashboard(options: DashboardOptions): Promise<DashboardServer> {
  const host = options.host ?? '127.0.0.1';
  const resultsHome = options.resultsHome ?? defaultResultsHome();
  const clientFolder = options.clientFolder ?? clientBuildFolder();
  const tuning: SessionTuning = { ...defaultTuning, ...options.tuning };
  const folders: DashboardFolders = { scenariosFolder: options.scenariosFolder, runsFolder: options.runsFolder };
  // Set once the port is known (port 0 picks one); nothing is served before.
  const access: { gate?: RequestGate } = {};
  const refusal = (headers: { host?: string | undefined; origin?: string | undefined }) => (access.gate ? access.gate.refusal(headers.host, headers.origin) : 'the dashboard is starting');
  const queuePanel = await queuePanelSource({ url: options.queue, intervalMs: options.queuePollMs });
  const app = express();
  app.disable('x-powered-by');
  app.use((request, response, next) => {
    const refused = refusal(request.headers);
    if (refused === undefined) next();
    else response.status(403).type('text').send(`Forbidden: ${refused}\n`);
  });
  app.use('/api/queue', queuePanel.router);
  app.use('/api', catalogRouter(resultsHome, folders));
  app.use(express.static(clientFolder));
  app.get('/', (_request, response) => {
    if (existsSync(join(clientFolder, 'index.html'))) response.sendFile(join(clientFolder, 'index.html'));
    else response.status(503).type('text').send(`The dashboard's browser code is not built (expected ${clientFolder}/index.html): run npm run build.`);
  });

  const http: HttpServer = createServer(app);
  const io = new Server<ClientToServerEvents, ServerToClientEvents>(http, {
    serveClient: false,
    maxHttpBufferSize: 64 * 1024,
    allowRequest: (request, callback) => {
      const refused = refusal(request.headers);
      callback(refused ?? null, refused === undefined);
    },
  });
  // allowRequest sees only handshakes: every later engine.io request (polling with a session
  // id, the websocket upgrade) is checked too.
  io.engine.use((request: { headers: { host?: string; origin?: string } }, response: { writeHead(status: number, headers: Record<string, string>): unknown; end(body: string): unknown }, next: () => void) => {
    const refused = refusal(request.headers);
    if (refused === undefined) next();
    else {
      response.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' });
      response.end(`Forbidden: ${refused}\n`);
    }
  });
  const sessions = new Set<SimulationSession>();

  io.on('connection', (socket: DashboardSocket) => {
    const session = new SimulationSession(
      {
        session: (state) => socket.emit('session', state),
        frame: (frame, delivered) => socket.timeout(tuning.frameAcknowledgementTimeoutMs).emit('frame', frame, () => delivered()),
        explanation: (explanation) => socket.emit('explanation', explanation),
        problem: (problem) => socket.emit('problem', problem),
        writable: () => untilReading(socket),
      },
      resultsHome,
      tuning,
      folders,
    );
    sessions.add(session);
    socket.on('disconnect', () => {
      session.close();
      sessions.delete(session);
    });
    // A refusal is not sent while the client is not reading (one per message would pile up
    // in its send buffer), and it echoes at most the start of what the client sent.
    const refuse = (problem: ProblemEvent) => {
      if (!backedUp(socket)) socket.emit('problem', problem);
    };
    socket.onAny((event: unknown) => {
      if (typeof event !== 'string' || !Object.hasOwn(clientEventSchemas, event)) {
        const shown = String(event).length > 64 ? `${String(event).slice(0, 64)}...` : String(event);
        refuse({ event: shown, message: `unknown event "${shown}"`, problems: [{ path: ['event'], message: `expected one of ${Object.keys(clientEventSchemas).join(', ')}, found "${shown}"` }] });
      }
    });
    const handle = <Name extends ClientEventName>(name: Name, act: (payload: ReturnType<(typeof clientEventSchemas)[Name]['parse']>) => void | Promise<void>) => {
      // socket.io's typed `on` wants the declared signature; the payload is untrusted until parsed.
      (socket as unknown as Socket).on(name as string, (payload: unknown) => {
        const parsed = clientEventSchemas[name].safeParse(payload ?? {});
        if (!parsed.success) {
          refuse(problemOfIssues(name, parsed.error.issues));
          return;
        }
        session.command(name, () => act(parsed.data as ReturnType<(typeof clientEventSchemas)[Name]['parse']>));
      });
    };
    handle('configure', (payload) => session.configure(payload));
    handle('start', () => session.start());
    handle('pause', () => session.pause());
    handle('step', (payload) => session.step(payload));
    handle('speed', (payload) => session.setSpeed(payload.speed));
    handle('explain', (payload) => session.explain(payload));
    session.command('configure', () => session.configure(defaultConfiguration));
  });

  try {
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(options.port, host, () => resolve());
    });
  } catch (error) {
    await io.close();
    await queuePanel.close();
    throw listenError(error, host, options.port, 'another dashboard, or another program');
  }
  const port = (http.address() as AddressInfo).port;
  access.gate = requestGate({ host, port, ...(options.allowedHosts ? { allowedHosts: options.allowedHosts } : {}), ...(options.allowedOrigins ? { allowedOrigins: options.allowedOrigins } : {}) });
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : hostHeaderName(host);
  return {
    url: `http://${urlHost}:${port}`,
    port,
    sessionCount: () => sessions.size,
    close: async () => {
      for (const session of sessions) session.close();
      sessions.clear();
      await io.close();
      await queuePanel.close();
      if (http.listening) await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

type Connection = { writeBuffer: unknown[]; readyState: string; once(event: string, listener: () => void): void; off(event: string, listener: () => void): void };

/** Whether the client's connection has maxBufferedPackets packets waiting to be written (it stopped reading). */
function backedUp(socket: DashboardSocket): boolean {
  const connection = socket.conn as unknown as Connection;
  return connection.writeBuffer.length >= maxBufferedPackets && connection.readyState !== 'closed';
}

/** Resolves once the client's connection has fewer than maxBufferedPackets packets waiting to be written (or is closed). */
function untilReading(socket: DashboardSocket): Promise<void> {
  const connection = socket.conn as unknown as Connection;
  if (!backedUp(socket)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      connection.off('drain', done);
      connection.off('close', done);
      resolve();
    };
    connection.once('drain', done);
    connection.once('close', done);
  });
}

/** A listening failure as a config error that says what to do (exit 2), or the error itself. */
