/**
 * Refusals cannot be turned into a memory flood (issue 13.9, found in review): a client
 * that stops reading and sends unknown events or malformed payloads would otherwise get one
 * `problem` event per message, each echoing what it sent, piling up in the server's send
 * buffer (about 1 GB for 20,000 messages of 30 KB). Problems are not sent while the client's
 * connection is backed up, and they echo at most a short prefix of the event name.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboard, type DashboardServer } from '../../ui/server/app.js';

let home: string;
let server: DashboardServer;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'pricelab-dashboard-problem-flood-'));
  server = await startDashboard({ port: 0, resultsHome: home });
});

afterAll(async () => {
  await server.close();
  rmSync(home, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A raw engine.io websocket client in the default namespace: every socket.io event it receives, as text. */
async function rawClient(url: string) {
  const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`);
  const events: string[] = [];
  socket.on('message', (data: WebSocket.RawData) => {
    const text = Buffer.isBuffer(data) ? data.toString('utf8') : String(data);
    if (text === '2') socket.send('3'); // engine.io ping
    else if (text.startsWith('42')) events.push(text);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  socket.send('40');
  return { socket, events };
}

describe('problem events under a flood of bad messages', () => {
  it('a client that stops reading gets no problem per message, and a problem echoes a short prefix of what was sent', async () => {
    const client = await rawClient(server.url);
    try {
      await sleep(300);
      // One unknown event with a long name: the problem names it, cut short.
      const longName = 'x'.repeat(30_000);
      client.socket.send(`42${JSON.stringify([longName])}`);
      await sleep(300);
      const refusal = client.events.find((event) => event.includes('"problem"'));
      expect(refusal).toBeDefined();
      expect(refusal!.length).toBeLessThan(2_000);

      // Stop reading, then flood short unknown events and malformed payloads: each would be
      // answered by a problem event many times its size.
      const transport = (client.socket as unknown as { _socket: { pause(): void; resume(): void } })._socket;
      transport.pause();
      const sent = 30_000;
      for (let index = 0; index < sent; index++) {
        client.socket.send(index % 2 === 0 ? '42["a"]' : '42["step",{"days":"a"}]');
        if (index % 1000 === 0) await sleep(5);
      }
      await sleep(1000);
      const before = client.events.length;
      transport.resume();
      // Read until nothing more arrives.
      let seen = -1;
      for (let waited = 0; waited < 30_000 && seen !== client.events.length; waited += 500) {
        seen = client.events.length;
        await sleep(500);
      }
      const problems = client.events.slice(before).filter((event) => event.includes('"problem"')).length;
      // What the kernel's socket buffers held before the server saw the backlog, not one per message.
      expect(problems).toBeGreaterThan(0);
      expect(problems).toBeLessThan(sent / 3);
    } finally {
      client.socket.terminate();
    }
  }, 60_000);
});
