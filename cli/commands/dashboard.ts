/**
 * `pricelab dashboard [--port <n>]`: the browser dashboard (ui/server) on 127.0.0.1, the
 * same server `npm start` runs. Results store and registry: PRICELAB_HOME (default ./.pricelab).
 */
import type { Command } from 'commander';
import { startDashboard } from '../../ui/server/app.js';
import { integer, run } from '../output.js';

export function registerDashboard(program: Command): void {
  program
    .command('dashboard')
    .description('serve the live simulation dashboard on http://127.0.0.1:<port>')
    .option('--port <n>', 'port to listen on (0: any free port)', integer, 3000)
    .action(
      run(async (options: { port: number }) => {
        const server = await startDashboard({ port: options.port });
        process.stdout.write(`pricelab dashboard: ${server.url} (Ctrl-C to stop)\n`);
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        await server.close();
      }),
    );
}
