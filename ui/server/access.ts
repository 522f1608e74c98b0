/**
 * Who may talk to the dashboard: Host and Origin allow-lists, checked on every express
 * request and on every socket.io handshake (`allowRequest`).
 *
 * The dashboard has no authentication, so what protects it is where it listens (loopback
 * by default) and that a browser page of another site cannot drive it: a cross-site page
 * sends its own `Origin` (refused), and a DNS-rebinding page reaches 127.0.0.1 under its
 * own name, which arrives as the `Host` header (refused).
 *
 * Allowed hosts: 127.0.0.1, localhost and [::1] on the served port; the listening host
 * when it is another one (every interface address for 0.0.0.0 or ::); and any the operator
 * adds (`--allow-host name[:port]`: a name without a port is allowed on the served port and
 * without a port, as a reverse proxy on 80/443 forwards it). Allowed origins: http:// and
 * https:// on each allowed host, and any the operator adds (`--allow-origin <origin>`). A
 * request without an Origin header (same-origin GETs, command-line clients) is judged by its
 * Host alone.
 */
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

export interface AccessOptions {
  /** The address the server listens on. */
  readonly host: string;
  readonly port: number;
  /** More Host header values to answer: `name` or `name:port` (IPv6 in brackets). */
  readonly allowedHosts?: readonly string[];
  /** More Origin header values to accept: `scheme://name[:port]`. */
  readonly allowedOrigins?: readonly string[];
}

export interface RequestGate {
  readonly hosts: ReadonlySet<string>;
  readonly origins: ReadonlySet<string>;
  /** Why a request with these headers is refused, or undefined when it is allowed. */
  refusal(host: string | undefined, origin: string | undefined): string | undefined;
}

const loopbackNames = ['127.0.0.1', 'localhost', '[::1]'];

/** True for a loopback address or name: 127.0.0.0/8, ::1, localhost. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return bare === 'localhost' || bare === '::1' || (isIP(bare) === 4 && bare.startsWith('127.'));
}

/** `name` as it appears in a Host header: IPv6 addresses in brackets, lower case. */
export function hostHeaderName(host: string): string {
  const lower = host.toLowerCase();
  return isIP(lower) === 6 ? `[${lower}]` : lower;
}

export function requestGate(options: AccessOptions): RequestGate {
  const hosts = new Set<string>();
  const addName = (name: string) => {
    hosts.add(`${name}:${options.port}`);
    if (options.port === 80 || options.port === 443) hosts.add(name);
  };
  for (const name of loopbackNames) addName(name);
  if (options.host === '0.0.0.0' || options.host === '::') {
    for (const addresses of Object.values(networkInterfaces())) {
      for (const address of addresses ?? []) if (address.scopeid === undefined || address.scopeid === 0) addName(hostHeaderName(address.address));
    }
  } else addName(hostHeaderName(options.host));
  for (const entry of options.allowedHosts ?? []) {
    const lower = entry.trim().toLowerCase();
    if (/:\d+$/.test(lower) && !/^[^[]*:.*:/.test(lower)) hosts.add(lower);
    else {
      const name = hostHeaderName(lower);
      hosts.add(name);
      hosts.add(`${name}:${options.port}`);
    }
  }
  const origins = new Set<string>();
  for (const host of hosts) {
    origins.add(`http://${host}`);
    origins.add(`https://${host}`);
  }
  for (const entry of options.allowedOrigins ?? []) origins.add(normalOrigin(entry) ?? entry);
  return {
    hosts,
    origins,
    refusal(host, origin) {
      if (host === undefined || !hosts.has(host.toLowerCase())) return `this dashboard does not answer to the host "${host ?? ''}" (start it with --allow-host to add one)`;
      if (origin !== undefined && !origins.has(normalOrigin(origin) ?? origin)) return `this dashboard does not accept requests from the page origin "${origin}" (start it with --allow-origin to add one)`;
      return undefined;
    },
  };
}

function normalOrigin(origin: string): string | undefined {
  try {
    const url = new URL(origin);
    return url.origin === 'null' ? undefined : url.origin.toLowerCase();
  } catch {
    return undefined;
  }
}
