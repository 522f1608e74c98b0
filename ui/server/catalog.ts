/**
 * The dashboard's read-only HTTP API, for what does not stream:
 *
 *   GET /api/scenarios                      built-in scenarios, those of the scenarios folder and those registered policies carry (id, description, horizon)
 *   GET /api/policies?scenario=<id>         rule specs that fit the scenario (on a coupon scenario: no coupon, each campaign, a fixed price), and registered policies trained on it
 *   GET /api/registry                       every policy's versions and aliases, and the audit log
 *   GET /api/experiments                    comparisons and runs from the results store (a run with its numeric
 *                                           metrics, evaluation curve and the mean KPIs of its evaluation episodes)
 *   GET /api/experiments/<id>/charts        a comparison's report charts (vega-lite specs, experiments/report)
 *   GET /api/experiments/<id>/report        the comparison's HTML report, when one was written
 *
 * The registry is only read here: promotion stays in the CLI and the token-protected API.
 * A scenario named by the page is resolved by sources.ts (built-in ids and the configured
 * scenarios folder only).
 * Errors are JSON: {message, problems: [{path, message}]}, with 404 for what is not found.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import express, { type Request, type Response } from 'express';
import { buildMarketModel } from '../../env/model.js';
import { PricelabError } from '../../core/errors.js';
import { builtInScenarioIds, loadScenario } from '../../scenarios/load.js';
import { folderScenarios, loadSessionScenario, registeredScenarios, type DashboardFolders } from './sources.js';
import { usingResultsStore, type ResultsStoreBackend } from '../../experiments/store.js';
import { comparisonSummarySchema } from '../../experiments/compare/summary-schema.js';
import { comparisonCharts } from '../../experiments/report/charts.js';
import { usingPolicyRegistry, type PolicyRegistryBackend } from '../../serving/registry.js';
import { storeLocation } from '../../core/store-url.js';
import { problemOf } from './problems.js';
import { registryPrefix } from './policy-source.js';

/** Charts drawn from the per-day trajectories, which the store does not keep. */
const trajectoryCharts = new Set(['price-trajectories', 'inventory-returns']);

export function catalogRouter(resultsHome: string, folders: DashboardFolders = {}): express.Router {
  const router = express.Router();
  const answer = (handler: (request: Request) => unknown) => async (request: Request, response: Response) => {
    try {
      response.json(await handler(request));
    } catch (error) {
      // As serving answers: not found 404, a damaged or tampered file 422 (integrity), bad input 400.
      const status = error instanceof PricelabError ? (error.kind === 'not-found' ? 404 : error.kind === 'integrity' ? 422 : 400) : 500;
      response.status(status).json(problemOf(request.path, error));
    }
  };
  // PRICELAB_STORE (PostgreSQL) when set, else the SQLite file of the dashboard's home.
  const location = () => storeLocation({ home: resultsHome });
  const withStore = <T>(read: (store: ResultsStoreBackend) => T | Promise<T>): Promise<T> => usingResultsStore(location(), read);
  const withRegistry = <T>(read: (registry: PolicyRegistryBackend) => T | Promise<T>): Promise<T> => usingPolicyRegistry(location(), read);

  router.get(
    '/scenarios',
    answer(async () => {
      const builtIn = builtInScenarioIds().map((id) => loadScenario(id).scenario);
      const ids = new Set(builtIn.map((scenario) => scenario.id));
      const own = [...folderScenarios(folders).map((entry) => entry.loaded.scenario), ...(await withRegistry(async (registry) => [...(await registeredScenarios(registry)).values()].map((entry) => entry.scenario)))].filter(
        (scenario) => !ids.has(scenario.id) && ids.add(scenario.id),
      );
      return [...builtIn, ...own].map((scenario) => ({ id: scenario.id, description: scenario.description, horizon: buildMarketModel(scenario).horizon }));
    }),
  );

  router.get(
    '/policies',
    answer(async (request) => {
      const requested = typeof request.query['scenario'] === 'string' ? request.query['scenario'] : 'singles-day-v1';
      // Read before: the scenario is looked up synchronously (this route reads the registry anyway).
      const registeredNow = await withRegistry(async (registry) => [...(await registeredScenarios(registry)).values()]);
      const model = buildMarketModel(loadSessionScenario(requested, folders, () => registeredNow).scenario);
      const scenarioId = model.scenario.id;
      const middle = model.ladder[Math.floor(model.ladder.length / 2)] ?? model.listPrice;
      const finiteStock = model.scenario.inventory !== undefined && model.scenario.inventory.replenishment?.kind !== 'periodic-review';
      const campaigns = model.scenario.coupons?.campaigns ?? [];
      // A coupon scenario plays the coupon market (coupon-arm.ts): its rules choose a coupon, or a price with none.
      const rules =
        model.scenario.coupons !== undefined
          ? ['none', ...campaigns.map((_, index) => `coupon:${index}`), `fixed:${middle}`, 'list']
          : [`fixed:${middle}`, 'list', 'cost-plus:0.5', 'match', 'undercut:0.5', 'festival:0.15', 'markdown', 'myopic-oracle', ...(finiteStock ? ['dp-optimal'] : [])];
      const registered = await withRegistry(async (registry) => {
        const entries = [];
        for (const policy of await registry.list()) entries.push({ policy, versions: await registry.versions(policy.name) });
        return entries.flatMap(({ policy, versions: all }) => {
          const versions = all.filter((version) => version.lineage.scenario.id === scenarioId);
          const byVersion = new Map(Object.entries(policy.aliases).map(([alias, version]) => [version, alias]));
          return versions.map((version) => ({
            spec: `${registryPrefix}${policy.name}@${version.version}`,
            label: `${policy.name}@${version.version} (${version.agentKind}${byVersion.has(version.version) ? `, ${byVersion.get(version.version)}` : ''})`,
          }));
        });
      });
      return { rules, registered };
    }),
  );

  router.get(
    '/registry',
    answer(() =>
      withRegistry(async (registry) => {
        const policies = [];
        for (const policy of await registry.list()) policies.push({ name: policy.name, aliases: policy.aliases, versions: await registry.versions(policy.name) });
        return { policies, audit: await registry.auditLog() };
      }),
    ),
  );

  router.get(
    '/experiments',
    answer(() =>
      withStore(async (store) => ({
        comparisons: (await store.listComparisons()).map((row) => {
          const parsed = comparisonSummarySchema.safeParse(row.summary);
          return {
            id: row.id,
            createdAt: row.createdAt,
            scenario: row.scenario,
            arms: row.arms,
            baseline: row.baseline,
            verdict: parsed.success ? parsed.data.verdict.byArm.map((arm) => ({ arm: arm.arm, verdict: arm.verdict, estimate: arm.estimate, low: arm.low, high: arm.high })) : [],
            hasReport: row.reportPath !== null && existsSync(row.reportPath),
          };
        }),
        runs: await Promise.all(
          (await store.listRunsWithCurves()).map(async ({ run, metrics, curve }) => ({
            id: run.id,
            experiment: run.experiment,
            scenario: run.scenario.id,
            agent: run.agent.name,
            seed: run.seed,
            status: run.status,
            endedAt: run.endedAt,
            metrics,
            curve,
            kpis: meanKpis((await store.evaluationsOf(run.id)).map((episode) => episode.kpis)),
          })),
        ),
      })),
    ),
  );

  router.get(
    '/experiments/:id/charts',
    answer(async (request) => {
      const id = String(request.params['id']);
      const row = await withStore((store) => store.getComparison(id));
      if (!row) throw new PricelabError('not-found', `no comparison ${id} in the store`);
      const parsed = comparisonSummarySchema.safeParse(row.summary);
      if (!parsed.success) throw new PricelabError('integrity', `comparison ${id} has a summary this version cannot read`, parsed.error.issues.map((issue) => ({ path: issue.path.map(String), message: issue.message })));
      const charts = comparisonCharts(parsed.data, []).filter((chart) => !trajectoryCharts.has(chart.name));
      return { id, scenario: row.scenario, baseline: row.baseline, verdict: parsed.data.verdict, charts };
    }),
  );

  router.get('/experiments/:id/report', async (request, response) => {
    const id = String(request.params['id']);
    const row = await withStore((store) => store.getComparison(id));
    if (!row?.reportPath || !existsSync(row.reportPath)) {
      response.status(404).json({ event: request.path, message: `comparison ${id} has no written report`, problems: [] });
      return;
    }
    response.sendFile(resolve(row.reportPath));
  });

  return router;
}

/** The mean of each KPI over a run's evaluation episodes (a KPI missing or null in an episode is left out of its mean). */
function meanKpis(episodes: readonly Readonly<Record<string, number | null>>[]): Record<string, number> {
  const sums = new Map<string, { total: number; count: number }>();
  for (const kpis of episodes) {
    for (const [key, value] of Object.entries(kpis)) {
      if (typeof value !== 'number' || !Number.isFinite(value)) continue;
      const sum = sums.get(key) ?? { total: 0, count: 0 };
      sum.total += value;
      sum.count += 1;
      sums.set(key, sum);
    }
  }
  return Object.fromEntries([...sums].map(([key, sum]) => [key, sum.total / sum.count]));
}
