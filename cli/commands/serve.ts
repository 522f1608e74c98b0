/**
 * `pricelab serve`: the pricing endpoint over the registry in PRICELAB_HOME, bound to
 * 127.0.0.1 unless told otherwise. Promotions and rollbacks (from the CLI or the API) are
 * picked up without a restart. SIGINT/SIGTERM close it cleanly.
 */
import type { Command } from 'commander';
import { resultsHome } from '../../experiments/store.js';
import { readJsonFile } from '../../experiments/json-file.js';
import { defaultTokenFile, loadTokens } from '../../serving/auth.js';
import { ServingMetrics } from '../../serving/metrics.js';
import { PricingService } from '../../serving/pricing-service.js';
import { PolicyRegistry } from '../../serving/registry.js';
import { createApp, listen } from '../../serving/server.js';
import { loadServingConfig } from '../../serving/serving-config.js';
import { PricelabError } from '../../env/errors.js';
import { integer, run } from '../output.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve prices over HTTP from the registry\'s production policies (POST /v1/policies/:name/price)')
    .option('--port <port>', 'port (0: any free port)', integer, 8080)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--config <file>', 'serving config JSON: guardrails, fallback, time budget, canary, shadow per policy')
    .option('--tokens <file>', 'token file (name sha256 per line; default PRICELAB_HOME/tokens); PRICELAB_TOKEN_SHA256 adds hashes')
    .option('--gates <file>', 'promotion policy JSON for promotions to production over HTTP')
    .option('--decision-log <file>', 'append every served decision (JSON Lines, with propensities)')
    .action(
      run(async (options: { port: number; host: string; config?: string; tokens?: string; gates?: string; decisionLog?: string }) => {
        if (options.port < 0 || options.port > 65535) throw new PricelabError('config', 'bad port', [{ path: ['--port'], message: `expected 0-65535, found ${options.port}` }]);
        const home = resultsHome();
        const config = loadServingConfig(options.config);
        const tokens = loadTokens({ file: options.tokens ?? defaultTokenFile(home), env: process.env });
        const promotionPolicy = options.gates ? readJsonFile(options.gates, 'promotion policy') : undefined;
        const registry = PolicyRegistry.open(home);
        const metrics = new ServingMetrics();
        const service = new PricingService(registry, config, metrics, { decisionLog: options.decisionLog });
        await service.start();
        const app = createApp({ service, metrics, tokens, promotionPolicy });
        const { server, url } = await listen(app, options.port, options.host);
        const served = service.served();
        process.stdout.write(`pricelab serving on ${url} (home ${home})\n${served.length === 0 ? 'no policy has a production alias yet: pricelab policy register <folder>, then promote\n' : served.map((policy) => `  ${policy.name}@${policy.version}: POST ${url}/v1/policies/${policy.name}/price\n`).join('')}`);
        if (tokens.hashes.length === 0) process.stdout.write('no tokens configured: register/promote/rollback over HTTP are refused (pricelab token create <name>)\n');
        await new Promise<void>((resolve) => {
          const stop = () => {
            server.close(() => resolve());
            server.closeAllConnections();
          };
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        await service.close();
        registry.close();
      }),
    );
}
