/**
 * Starting the dashboard from a command line (`npm start`, ui/server/main.ts, and
 * `pricelab dashboard`, cli/commands/dashboard.ts): the options both take, checked, a
 * warning when it listens beyond loopback (it has no authentication), and the line that
 * says where it is. A busy port or a bad option is a PricelabError ('config', exit 2) that
 * says what to do, never a stack trace.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { PricelabError } from '../../core/errors.js';
import { isLoopbackHost } from './access.js';
import { startDashboard, type DashboardOptions, type DashboardServer } from './app.js';

export interface LaunchOptions {
  readonly port: number;
  readonly host: string;
  readonly allowHost?: readonly string[] | undefined;
  readonly allowOrigin?: readonly string[] | undefined;
  readonly scenarios?: string | undefined;
  readonly runs?: string | undefined;
  /** A BullMQ queue's Redis URL (default PRICELAB_QUEUE): the Experiments tab follows its sweep. */
  readonly queue?: string | undefined;
}

export const defaultPort = 3000;
export const defaultHost = '127.0.0.1';

/** Help lines for the options, shared by both command lines. */
export const launchOptionHelp = {
  port: 'port to listen on (0: any free port)',
  host: 'address to listen on; anything but loopback exposes a dashboard without authentication',
  allowHost: 'another Host name (name or name:port) the dashboard answers to, e.g. behind a reverse proxy (repeatable)',
  allowOrigin: 'another page origin (scheme://name[:port]) allowed to open sessions (repeatable)',
  scenarios: 'folder of your own scenario files the page may load (default: built-in scenarios only)',
  runs: 'folder of trained artifacts the page may load as artifact:<path> (default: none; registered policies always)',
  queue: 'a distributed sweep\'s queue (redis://host:port[/db]) the Experiments tab follows live (default: PRICELAB_QUEUE)',
} as const;

/** The warning printed when the dashboard listens beyond loopback, or undefined. */
export function exposureWarning(host: string, port: number): string | undefined {
  if (isLoopbackHost(host)) return undefined;
  return [
    `warning: the dashboard listens on ${host}${port === 0 ? '' : `:${port}`} and has no authentication: anyone who can reach it can run simulations and read the results store and the registry.`,
    `  Listen on 127.0.0.1 (the default), or put it behind a reverse proxy that authenticates (and pass --allow-host with the name the proxy forwards).`,
  ].join('\n');
}

/** Starts the dashboard with command-line options; prints the warning (stderr) and the address (stdout). */
export async function launchDashboard(options: LaunchOptions, extra: Pick<DashboardOptions, 'resultsHome' | 'clientFolder'> = {}): Promise<DashboardServer> {
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65_535) {
    throw new PricelabError('config', `bad port ${options.port}`, [{ path: ['port'], message: `expected an integer from 0 to 65535, found ${options.port}` }]);
  }
  const folder = (value: string | undefined, field: string) => {
    if (value === undefined) return undefined;
    const path = resolve(value);
    if (!statSync(path, { throwIfNoEntry: false })?.isDirectory()) throw new PricelabError('config', `no folder ${path}`, [{ path: [field], message: `expected an existing folder, found "${value}"` }]);
    return path;
  };
  const scenariosFolder = folder(options.scenarios, 'scenarios');
  const runsFolder = folder(options.runs, 'runs');
  const queue = options.queue ?? (process.env['PRICELAB_QUEUE'] || undefined);
  const warning = exposureWarning(options.host, options.port);
  if (warning) process.stderr.write(`${warning}\n`);
  const server = await startDashboard({
    port: options.port,
    host: options.host,
    ...(options.allowHost ? { allowedHosts: options.allowHost } : {}),
    ...(options.allowOrigin ? { allowedOrigins: options.allowOrigin } : {}),
    ...(scenariosFolder ? { scenariosFolder } : {}),
    ...(runsFolder ? { runsFolder } : {}),
    ...(queue ? { queue } : {}),
    ...extra,
  });
  process.stdout.write(`pricelab dashboard: ${server.url} (Ctrl-C to stop)\n`);
  return server;
}
