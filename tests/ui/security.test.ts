/**
 * The dashboard against a hostile page or client (issue 13.3): a page of another site
 * (foreign Origin) cannot open a session, a DNS-rebinding page (foreign Host) gets 403 from
 * express and from socket.io, and the page cannot make the server read what it should not:
 * system files, devices, FIFOs, paths that leave the scenarios folder, artifacts outside the
 * runs folder. Every refusal is quick and quotes no file content. The allow-lists follow
 * the options (more hosts and origins; the listening host).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboard, type DashboardServer } from '../../ui/server/app.js';
import { builtInScenarioFolder, maxScenarioFileBytes } from '../../scenarios/load.js';
import type { ProblemEvent } from '../../ui/shared/events.js';
import { dashboardClient, daysIn } from './dashboard-client.js';

let server: DashboardServer;
let home: string;
let scenarios: string;
let runs: string;
let outside: string;
const passwdStart = readFileSync('/etc/passwd', 'utf8').slice(0, 12);

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'pricelab-dashboard-security-'));
  scenarios = join(home, 'scenarios');
  runs = join(home, 'runs');
  outside = join(home, 'outside');
  for (const folder of [scenarios, runs, outside]) mkdirSync(folder);
  // The user's own scenario, under another id.
  const own = JSON.parse(readFileSync(join(builtInScenarioFolder, 'steady-state-v1.json'), 'utf8')) as { id: string };
  writeFileSync(join(scenarios, 'my-coffee.json'), JSON.stringify({ ...own, id: 'my-coffee-v1' }));
  // Hostile entries in the scenarios folder.
  execFileSync('mkfifo', [join(scenarios, 'pipe.json')]);
  symlinkSync('/etc/passwd', join(scenarios, 'escape.json'));
  symlinkSync('/dev/zero', join(scenarios, 'zero.json'));
  writeFileSync(join(scenarios, 'huge.json'), Buffer.alloc(maxScenarioFileBytes + 1, 0x20));
  writeFileSync(join(scenarios, 'broken.json'), '{\n  "id": "top-secret-words",\n  oops\n}\n');
  writeFileSync(join(outside, 'elsewhere.json'), JSON.stringify({ ...own, id: 'elsewhere-v1' }));
  server = await startDashboard({ port: 0, resultsHome: home, scenariosFolder: scenarios, runsFolder: runs });
}, 30_000);

afterAll(async () => {
  await server.close();
  rmSync(home, { recursive: true, force: true });
});

/** A raw HTTP GET with the headers given (fetch cannot set Host). */
function get(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request_ = request(url, { headers }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request_.on('error', reject);
    request_.end();
  });
}

/** Connects with socket.io-client and the headers given: 'connected' or the connect_error's message. */
function connectWith(url: string, headers: Record<string, string>, transport: 'websocket' | 'polling'): Promise<string> {
  const socket: Socket = io(url, { transports: [transport], forceNew: true, reconnection: false, extraHeaders: headers, timeout: 5000 });
  return new Promise((resolve) => {
    socket.on('connect', () => {
      socket.close();
      resolve('connected');
    });
    socket.on('connect_error', (error) => {
      socket.close();
      resolve(`connect_error: ${error.message}`);
    });
  });
}

const hostOf = (dashboard: DashboardServer) => new URL(dashboard.url).host;

describe('who may talk to the dashboard', () => {
  it('a page of another site (foreign Origin) cannot open a session, over websocket or polling', async () => {
    for (const transport of ['websocket', 'polling'] as const) {
      expect(await connectWith(server.url, { Origin: 'http://evil.example' }, transport)).toMatch(/^connect_error/);
      expect(await connectWith(server.url, { Origin: 'null' }, transport)).toMatch(/^connect_error/);
      expect(await connectWith(server.url, { Origin: `http://localhost:${server.port + 1}` }, transport)).toMatch(/^connect_error/);
    }
    expect(server.sessionCount()).toBe(0);
    // The dashboard's own page, by any loopback name, may.
    for (const transport of ['websocket', 'polling'] as const) {
      expect(await connectWith(server.url, { Origin: server.url }, transport)).toBe('connected');
      expect(await connectWith(server.url, { Origin: `http://localhost:${server.port}` }, transport)).toBe('connected');
    }
  });

  it('a foreign Host (DNS rebinding) gets 403 from express and from the socket.io handshake', async () => {
    const foreign = { Host: `rebound.example:${server.port}` };
    for (const path of ['/', '/api/scenarios', '/api/registry', '/index.html']) {
      const answer = await get(`${server.url}${path}`, foreign);
      expect(answer.status, path).toBe(403);
      expect(answer.body).not.toContain('singles-day-v1');
    }
    expect((await get(`${server.url}/socket.io/?EIO=4&transport=polling`, foreign)).status).toBe(403);
    // socket.io-client itself, over websocket (in node its polling transport cannot set Host).
    expect(await connectWith(server.url, foreign, 'websocket')).toMatch(/^connect_error/);
    expect(await connectWith(server.url, { Host: `localhost:${server.port}` }, 'websocket')).toBe('connected');
    const handshake = await get(`${server.url}/socket.io/?EIO=4&transport=polling`, { Host: hostOf(server) });
    expect(handshake.status).toBe(200);
    // A session id got through an allowed handshake is no way in for a foreign Host or Origin either.
    const sid = (JSON.parse(handshake.body.slice(1)) as { sid: string }).sid;
    expect((await get(`${server.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`, foreign)).status).toBe(403);
    expect((await get(`${server.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`, { Host: hostOf(server), Origin: 'http://evil.example' })).status).toBe(403);
    // A foreign Origin on a plain request too.
    expect((await get(`${server.url}/api/scenarios`, { Host: hostOf(server), Origin: 'http://evil.example' })).status).toBe(403);
    for (const host of [`127.0.0.1:${server.port}`, `localhost:${server.port}`, `[::1]:${server.port}`]) {
      expect((await get(`${server.url}/api/scenarios`, { Host: host })).status, host).toBe(200);
    }
  });

  it('more hosts and origins can be allowed, and the listening host is allowed', async () => {
    const configured = await startDashboard({ port: 0, resultsHome: home, allowedHosts: ['dashboard.example'], allowedOrigins: ['https://proxy.example'] });
    try {
      expect((await get(`${configured.url}/api/scenarios`, { Host: `dashboard.example:${configured.port}` })).status).toBe(200);
      expect((await get(`${configured.url}/api/scenarios`, { Host: 'dashboard.example' })).status).toBe(200);
      expect((await get(`${configured.url}/api/scenarios`, { Host: `other.example:${configured.port}` })).status).toBe(403);
      expect(await connectWith(configured.url, { Origin: 'https://proxy.example' }, 'websocket')).toBe('connected');
      expect(await connectWith(configured.url, { Origin: `http://dashboard.example:${configured.port}` }, 'websocket')).toBe('connected');
      expect(await connectWith(configured.url, { Origin: 'https://evil.example' }, 'websocket')).toMatch(/^connect_error/);
    } finally {
      await configured.close();
    }
    const onAnotherLoopback = await startDashboard({ port: 0, host: '127.0.0.2', resultsHome: home });
    try {
      expect(onAnotherLoopback.url).toBe(`http://127.0.0.2:${onAnotherLoopback.port}`);
      expect((await get(`${onAnotherLoopback.url}/api/scenarios`, { Host: `127.0.0.2:${onAnotherLoopback.port}` })).status).toBe(200);
    } finally {
      await onAnotherLoopback.close();
    }
  });
});

describe('what the page may make the server read', () => {
  const refusedQuickly = async (scenario: string): Promise<ProblemEvent> => {
    const client = await dashboardClient(server.url);
    try {
      const started = performance.now();
      client.socket.emit('configure', { scenario, policies: ['list'], seed: 1 });
      await client.until((received) => received.problems.length > 0, 3000);
      expect(performance.now() - started, scenario).toBeLessThan(2000);
      return client.received.problems[0] as ProblemEvent;
    } finally {
      client.close();
    }
  };

  it('refuses system files, devices, FIFOs, traversal and escaping symlinks at once, quoting no content', async () => {
    const hostile = ['/etc/passwd', '/dev/stdin', '/dev/zero', '/dev/random', join(scenarios, 'pipe.json'), 'pipe.json', '../../../../etc/passwd', '../outside/elsewhere.json', join(outside, 'elsewhere.json'), 'escape.json', 'zero.json', 'huge.json', '.pricelab/tokens.json', 'elsewhere-v1'];
    for (const scenario of hostile) {
      const problem = await refusedQuickly(scenario);
      const text = JSON.stringify(problem);
      expect(text, scenario).not.toContain(passwdStart);
      expect(text, scenario).not.toContain('root:');
      expect(problem.event).toBe('configure');
    }
    const broken = JSON.stringify(await refusedQuickly('broken.json'));
    expect(broken).toContain('not valid JSON');
    expect(broken).toMatch(/line 3, column 3/);
    expect(broken).not.toContain('top-secret-words');
    expect(broken).not.toContain('oops');
    expect(JSON.stringify(await refusedQuickly('huge.json'))).toContain(`expected at most ${maxScenarioFileBytes} bytes`);
    expect(JSON.stringify(await refusedQuickly('pipe.json'))).toContain('FIFO');
  }, 60_000);

  it('the catalog API refuses the same way, quickly, without the file in the error', async () => {
    for (const scenario of ['/etc/passwd', '/dev/stdin', '/dev/zero', join(scenarios, 'pipe.json'), '../../../../etc/passwd', 'escape.json']) {
      const started = performance.now();
      const response = await fetch(`${server.url}/api/policies?scenario=${encodeURIComponent(scenario)}`);
      expect(performance.now() - started, scenario).toBeLessThan(2000);
      expect(response.status, scenario).toBeGreaterThanOrEqual(400);
      expect(response.status, scenario).toBeLessThan(500);
      const body = await response.text();
      expect(body, scenario).not.toContain(passwdStart);
      expect(body, scenario).not.toContain('root:');
    }
  });

  it('loads the user\'s own scenario from the scenarios folder, by id or by file name, and lists it', async () => {
    const listed = (await (await fetch(`${server.url}/api/scenarios`)).json()) as { id: string }[];
    expect(listed.map((entry) => entry.id)).toContain('my-coffee-v1');
    expect(listed.map((entry) => entry.id)).not.toContain('elsewhere-v1');
    const policies = (await (await fetch(`${server.url}/api/policies?scenario=my-coffee-v1`)).json()) as { rules: string[] };
    expect(policies.rules).toContain('list');
    for (const scenario of ['my-coffee-v1', 'my-coffee.json']) {
      const client = await dashboardClient(server.url);
      try {
        client.socket.emit('configure', { scenario, policies: ['list'], seed: 1 });
        client.socket.emit('step', { days: 2 });
        await client.until((received) => daysIn(received.frames) === 2);
        expect(client.received.sessions.at(-1)?.scenario.id).toBe('my-coffee-v1');
        expect(client.received.problems).toEqual([]);
      } finally {
        client.close();
      }
    }
  });

  it('loads no file when no scenarios folder is configured, and artifacts only from the runs folder', async () => {
    const bare = await startDashboard({ port: 0, resultsHome: home });
    const client = await dashboardClient(bare.url);
    try {
      client.socket.emit('configure', { scenario: join(scenarios, 'my-coffee.json'), policies: ['list'], seed: 1 });
      client.socket.emit('configure', { scenario: 'steady-state-v1', policies: [`artifact:${runs}`], seed: 1 });
      await client.until((received) => received.problems.length === 2);
      expect(client.received.problems[0]?.problems[0]?.message).toContain('built-in scenario id');
      expect(client.received.problems[1]?.problems[0]?.message).toContain('--runs');
    } finally {
      client.close();
      await bare.close();
    }
    // With a runs folder: an artifact outside it is refused before anything is read.
    cpSync(join(scenarios, 'my-coffee.json'), join(outside, 'policy.json'));
    const withRuns = await dashboardClient(server.url);
    try {
      for (const artifact of [outside, '../outside', '/etc', '/dev']) withRuns.socket.emit('configure', { scenario: 'steady-state-v1', policies: [`artifact:${artifact}`], seed: 1 });
      await withRuns.until((received) => received.problems.length === 4);
      for (const problem of withRuns.received.problems) expect(problem.problems[0]?.message).toMatch(/expected a path inside the runs folder/);
    } finally {
      withRuns.close();
    }
  });
});
