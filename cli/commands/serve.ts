/**
 * `pricelab serve`: the pricing endpoint over the registry in PRICELAB_HOME, bound to
 * 127.0.0.1 unless told otherwise. Promotions and rollbacks (from the CLI or the API) are
 * picked up without a restart. SIGINT/SIGTERM close it cleanly.
 *
 * Start-up with a production version that cannot be loaded: the endpoint starts with the
 * policies that can be served, names the others on stderr and in GET /readyz (503 until
 * they are fixed, by a rollback or a new promotion, picked up without a restart). Only
 * when production aliases exist and not one of them can be served does it refuse to start,
 * with every failure listed and the exit code of the first (3 not found, 4 integrity, 2
 * bad input). A busy port is exit 2, naming --port.
 */
import type { Command } from 'commander';
import { resultsHome } from '../../experiments/store.js';
import { readJsonFile } from '../../core/json-file.js';
import { defaultTokenFile, loadTokens } from '../../serving/auth.js';
import { ServingMetrics } from '../../serving/metrics.js';
import { PricingService } from '../../serving/pricing-service.js';
import { openPolicyRegistry } from '../../serving/registry.js';
import { describeLocation, storeLocation } from '../../core/store-url.js';
import { createApp, listen } from '../../serving/server.js';
import { loadServingConfig } from '../../serving/serving-config.js';
import { PricelabError, type ErrorKind } from '../../core/errors.js';
import type { PolicyStatus } from '../../serving/pricing-service.js';
import { integer, run } from '../output.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve prices over HTTP from the registry\'s production policies (POST /v1/policies/:name/price)')
    .option('--port <port>', 'port (0: any free port)', integer, 8080)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--config <file>', 'serving config JSON: guardrails, fallback, time budget, canary, shadow per policy')
    .option('--tokens <file>', 'token file (name sha256 per line; default PRICELAB_HOME/tokens); PRICELAB_TOKEN_SHA256 adds hashes')
    .option('--gates <file>', 'promotion gates JSON for promotions to production over HTTP (as policy promote --gates, collusion and fairness included; default: the gates stored for the policy, else the shipped defaults)')
    .option('--decision-log <file>', 'append every served decision (JSON Lines, with propensities)')
    .action(
      run(async (options: { port: number; host: string; config?: string; tokens?: string; gates?: string; decisionLog?: string }) => {
        if (options.port < 0 || options.port > 65535) throw new PricelabError('config', 'bad port', [{ path: ['--port'], message: `expected 0-65535, found ${options.port}` }]);
        const home = resultsHome();
        const config = loadServingConfig(options.config);
        const tokens = loadTokens({ file: options.tokens ?? defaultTokenFile(home), env: process.env });
        const promotionPolicy = options.gates ? readJsonFile(options.gates, 'promotion policy') : undefined;
        const location = storeLocation();
        const registry = await openPolicyRegistry(location);
        const metrics = new ServingMetrics();
        const service = new PricingService(registry, config, metrics, { decisionLog: options.decisionLog });
        let started: Awaited<ReturnType<typeof listen>>;
        try {
          await service.start();
          refuseWhenNothingCanBeServed(service.statusOf());
          started = await listen(createApp({ service, metrics, tokens, promotionPolicy }), options.port, options.host);
        } catch (error) {
          await service.close();
          await registry.close();
          throw error;
        }
        const { server, url } = started;
        const statuses = service.statusOf();
        const lines = statuses.map((status) => `${servingLine(status, url)}\n`);
        process.stdout.write(`pricelab serving on ${url} (${location.kind === 'sqlite' ? `home ${home}` : `store ${describeLocation(location)}, artifacts ${location.home}`})\n${statuses.length === 0 ? 'no policy has a production alias yet: pricelab policy register <folder>, then promote\n' : lines.join('')}`);
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
        await registry.close();
      }),
    );
}

/** One policy's start-up line: where it is served, or that it cannot be (once), what serves instead and where to read why. */
export function servingLine(status: PolicyStatus, url: string): string {
  if (status.state === 'serving') return `  ${status.name}@${status.serving}: POST ${url}/v1/policies/${status.name}/price`;
  const instead = status.state === 'stale' && status.serving !== null ? `; ${status.name}@${status.serving} serves instead` : '';
  return `  ${status.name}@${status.production}: cannot be served${instead} (GET ${url}/readyz says why)`;
}

/** Refuses to start when production aliases exist and none of them can be served (see the header). */
function refuseWhenNothingCanBeServed(statuses: readonly PolicyStatus[]): void {
  if (statuses.length === 0 || statuses.some((status) => status.state !== 'failed')) return;
  const firstKind = statuses[0]?.errors[0]?.kind;
  const kind: ErrorKind = firstKind === 'config' || firstKind === 'not-found' || firstKind === 'protocol' ? firstKind : 'integrity';
  throw new PricelabError(
    kind,
    `none of the ${statuses.length} production ${statuses.length === 1 ? 'policy' : 'policies'} can be served; roll back (pricelab policy rollback <name> --reason ...) or promote a version that loads`,
    statuses.map((status) => ({ path: [`${status.name}@${status.production}`], message: status.errors.find((error) => error.alias === 'production')?.message ?? 'did not load' })),
  );
}
