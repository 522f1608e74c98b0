#!/usr/bin/env node
/**
 * `npm start`: the dashboard on http://127.0.0.1:3000 (`--port <n>` for another port,
 * PRICELAB_HOME for another results store), with the default scenario loaded.
 */
import { parseArgs } from 'node:util';
import { startDashboard } from './app.js';

const { values } = parseArgs({ options: { port: { type: 'string', default: '3000' } } });
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  process.stderr.write(`pricelab dashboard: expected --port to be an integer from 0 to 65535, found "${values.port}"\n`);
  process.exit(2);
}
const server = await startDashboard({ port });
process.stdout.write(`pricelab dashboard: ${server.url} (Ctrl-C to stop)\n`);
const stop = () => void server.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
