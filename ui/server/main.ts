#!/usr/bin/env node
/**
 * `npm start`: the dashboard on http://127.0.0.1:3000, with the default scenario loaded;
 * the same options as `pricelab dashboard` (launch.ts): `--port <n>`, `--host <address>`,
 * `--allow-host <name>`, `--allow-origin <origin>`, `--scenarios <folder>`, `--runs <folder>`,
 * `--queue <redis-url>` (or PRICELAB_QUEUE: the Experiments tab follows a distributed sweep);
 * PRICELAB_HOME for another results store. A busy port or a bad option exits 2 with a
 * message that says what to do.
 */
import { parseArgs } from 'node:util';
import { PricelabError } from '../../core/errors.js';
import { exitCodes, reportError } from '../../cli/output.js';
import { defaultHost, defaultPort, launchDashboard, launchOptionHelp } from './launch.js';

const usage = [
  'Usage: npm start -- [options]   (the same as pricelab dashboard [options])',
  '',
  `serve the live simulation dashboard on http://<host>:<port> (default ${defaultHost}:${defaultPort})`,
  '',
  'Options:',
  `  --port <n>               ${launchOptionHelp.port} (default: ${defaultPort})`,
  `  --host <address>         ${launchOptionHelp.host} (default: ${defaultHost})`,
  `  --allow-host <name>      ${launchOptionHelp.allowHost}`,
  `  --allow-origin <origin>  ${launchOptionHelp.allowOrigin}`,
  `  --scenarios <folder>     ${launchOptionHelp.scenarios}`,
  `  --runs <folder>          ${launchOptionHelp.runs}`,
  `  --queue <redis-url>      ${launchOptionHelp.queue}`,
  '  -h, --help               this help',
].join('\n');

let values;
try {
  values = parseArgs({
    options: {
      port: { type: 'string', default: String(defaultPort) },
      host: { type: 'string', default: defaultHost },
      'allow-host': { type: 'string', multiple: true },
      'allow-origin': { type: 'string', multiple: true },
      scenarios: { type: 'string' },
      runs: { type: 'string' },
      queue: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }).values;
} catch (error) {
  process.stderr.write(`pricelab dashboard: ${(error as Error).message}\n(npm start -- --help lists the options)\n`);
  process.exit(exitCodes.badInput);
}
if (values.help === true) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}
try {
  // Digits only: Number() would take "0x10", " 80" or "" (0) as ports.
  if (!/^\d+$/.test(values.port)) throw new PricelabError('config', `bad port "${values.port}"`, [{ path: ['port'], message: `expected an integer from 0 to 65535, found "${values.port}"` }]);
  const port = Number(values.port);
  const server = await launchDashboard({ port, host: values.host, allowHost: values['allow-host'], allowOrigin: values['allow-origin'], scenarios: values.scenarios, runs: values.runs, queue: values.queue });
  const stop = () => void server.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (error) {
  process.exit(reportError(error));
}
