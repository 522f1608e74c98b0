/**
 * `pricelab dashboard`: the browser dashboard (ui/server), the same server and options as
 * `npm start` (ui/server/launch.ts): --port, --host (default 127.0.0.1; anything else is
 * warned about: the dashboard has no authentication), --allow-host and --allow-origin (more
 * names and page origins to accept), --scenarios and --runs (folders the page may load
 * from), --queue (a distributed sweep's Redis, default PRICELAB_QUEUE, followed live in the
 * Experiments tab). Results store and registry: PRICELAB_HOME (default ./.pricelab). A busy port
 * exits 2 saying so.
 */
import type { Command } from 'commander';
import { defaultHost, defaultPort, launchDashboard, launchOptionHelp } from '../../ui/server/launch.js';
import { integer, run } from '../output.js';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function registerDashboard(program: Command): void {
  program
    .command('dashboard')
    .description(`serve the live simulation dashboard on http://<host>:<port> (default ${defaultHost}:${defaultPort})`)
    .option('--port <n>', launchOptionHelp.port, integer, defaultPort)
    .option('--host <address>', launchOptionHelp.host, defaultHost)
    .option('--allow-host <name>', launchOptionHelp.allowHost, collect)
    .option('--allow-origin <origin>', launchOptionHelp.allowOrigin, collect)
    .option('--scenarios <folder>', launchOptionHelp.scenarios)
    .option('--runs <folder>', launchOptionHelp.runs)
    .option('--queue <redis-url>', launchOptionHelp.queue)
    .action(
      run(async (options: { port: number; host: string; allowHost?: string[]; allowOrigin?: string[]; scenarios?: string; runs?: string; queue?: string }) => {
        const server = await launchDashboard(options);
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        await server.close();
      }),
    );
}
