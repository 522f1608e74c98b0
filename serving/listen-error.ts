/**
 * Why a server could not listen, as a config error naming the option to change (exit 2, no
 * stack trace): a busy port, a port this user may not open, an address that is not this
 * machine's. One account for `pricelab serve` and the dashboard; anything else is returned
 * as it came.
 */
import { PricelabError } from '../core/errors.js';

/** `who` says what else might hold a busy port (e.g. "another pricelab serve?"). */
export function listenError(error: unknown, host: string, port: number, who: string): unknown {
  switch ((error as NodeJS.ErrnoException | undefined)?.code) {
    case 'EADDRINUSE':
      return new PricelabError('config', `port ${port} on ${host} is already in use`, [
        { path: ['--port'], message: `expected a free port, found ${port} taken by another process (${who}); choose another with --port <n>, or --port 0 for any free one` },
      ]);
    case 'EACCES':
      return new PricelabError('config', `not allowed to listen on port ${port}`, [{ path: ['--port'], message: `expected a port this user may open (1024 or above without privileges), found ${port}; choose another with --port <n>` }]);
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new PricelabError('config', `cannot listen on ${host}`, [{ path: ['--host'], message: `expected an address of this machine (127.0.0.1, ::1, 0.0.0.0 or an interface's address), found "${host}"` }]);
    default:
      return error;
  }
}
