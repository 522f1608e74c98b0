/**
 * The HTTP endpoint (express 5):
 *
 *   POST /v1/policies/:name/price      one price for a context      -> {price, ladderIndex, policy, guardrails, explanation, ...}
 *   POST /v1/policies/:name/prices     a batch: {requests: [...]}, all or none -> {responses: [...]}
 *   GET  /v1/policies/:name/schema     the policy's features, ladder, guardrails, request JSON Schema
 *   GET  /v1/policies                  served policies, versions, aliases
 *   POST /v1/policies                  register an artifact (token)
 *   POST /v1/policies/:name/promote    move an alias; production passes the gates (token)
 *   POST /v1/policies/:name/rollback   move an alias back (token)
 *   GET  /healthz  /readyz  /metrics   liveness, readiness (each policy's state), Prometheus
 *   GET  /openapi.json                 OpenAPI 3.1, generated from the zod schemas
 *
 * Errors are data: a PricelabError becomes 400 (bad input), 401/403 (token), 404 (unknown
 * policy), 409 (a gate refused), 422 (integrity: tampered artifact); a malformed body is
 * 400, an oversized one 413. Bad input never reaches a 500.
 *
 * Costs are bounded by the request's size: each route reads at most its own body limit
 * (request-schemas.ts `bodyLimits`), mutating routes check the token before reading the
 * body at all, and an error lists at most 20 problems (each cut to a bounded length) and
 * counts the rest.
 */
import type { Server } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { z, type ZodError } from 'zod';
import { PricelabError, type Problem } from '../core/errors.js';
import { authenticate, type TokenStore } from './auth.js';
import type { ServingMetrics } from './metrics.js';
import { openApiDocument, withoutKeys } from './openapi.js';
import { BatchRefused, type PricingService } from './pricing-service.js';
import { promote } from './promotion.js';
import {
  batchPriceRequestSchema,
  bodyLimits,
  boundedProblems,
  priceRequestSchema,
  problemsOf,
  promoteRequestSchema,
  registerRequestSchema,
  rollbackRequestSchema,
  type policySchemaResponseSchema,
} from './request-schemas.js';
import { listenError } from './listen-error.js';

export interface ServerOptions {
  readonly service: PricingService;
  readonly metrics: ServingMetrics;
  readonly tokens: TokenStore;
  /** Gates configuration for promotions to production (see serving/promotion-gates.ts). */
  readonly promotionPolicy?: unknown;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly problems: readonly Problem[] = [],
  ) {
    super(message);
  }
}

const statusOf = (error: PricelabError): number => {
  switch (error.kind) {
    case 'not-found':
      return 404;
    case 'integrity':
      return 422;
    default:
      return 400;
  }
};

function parseBody<T>(schema: { safeParse(input: unknown): { success: true; data: T } | { success: false; error: ZodError } }, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new HttpError(400, 'the request body is not valid', problemsOf(parsed.error));
  return parsed.data;
}

export function createApp(options: ServerOptions): express.Express {
  const { service, metrics, tokens } = options;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.use((request, response, next) => {
    response.on('finish', () => metrics.httpRequests.inc({ route: request.route ? String((request.route as { path: string }).path) : 'unmatched', status: String(response.statusCode) }));
    next();
  });
  const jsonBody = (limit: string) => express.json({ limit, type: () => true });

  const requireToken = (request: Request): string => {
    const header = request.headers.authorization;
    const known = tokens.hashes;
    if (known.length === 0) throw new HttpError(403, 'this endpoint needs a bearer token, and none is configured on the server (pricelab token create)');
    const who = authenticate(typeof header === 'string' ? header : undefined, { hashes: known });
    if (who === undefined) throw new HttpError(401, header === undefined ? 'expected an Authorization: Bearer <token> header, found none' : 'the bearer token is not valid');
    return who;
  };
  /** Mutations: the token is checked before the body is read, so an anonymous client cannot make the server parse megabytes. */
  const tokenFirst = (request: Request, response: Response, next: NextFunction): void => {
    response.locals.actor = requireToken(request);
    next();
  };
  const readTokenFirst = (request: Request, _response: Response, next: NextFunction): void => {
    if (service.config.requireTokenForReads) requireToken(request);
    next();
  };
  const actorOf = (response: Response): string => String(response.locals.actor);

  app.get('/healthz', (_request, response) => {
    response.json({ status: 'ok' });
  });
  app.get('/readyz', (_request, response) => {
    const readiness = service.readiness();
    response.status(readiness.ready ? 200 : 503).json(readiness);
  });
  app.get('/metrics', readTokenFirst, async (_request, response) => {
    response.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  app.get('/openapi.json', (_request, response) => {
    response.json(openApiDocument());
  });

  app.get('/v1/policies', readTokenFirst, async (_request, response) => {
    const served = new Map(service.served().map((policy) => [policy.name, policy]));
    const statuses = new Map(service.statusOf().map((status) => [status.name, status]));
    response.json({
      policies: (await service.registry.list()).map((entry) => ({ ...entry, served: served.get(entry.name) ?? null, status: statuses.get(entry.name) ?? null })),
    });
  });

  app.get('/v1/policies/:name/schema', readTokenFirst, (request, response) => {
    response.json(policySchemaOf(service, String(request.params.name)));
  });

  app.post('/v1/policies/:name/price', readTokenFirst, jsonBody(bodyLimits.price), (request, response) => {
    const body = parseBody(priceRequestSchema, request.body);
    response.json(service.price(String(request.params.name), body, ['body']));
  });

  app.post('/v1/policies/:name/prices', readTokenFirst, jsonBody(bodyLimits.prices), (request, response) => {
    const body = parseBody(batchPriceRequestSchema, request.body);
    response.json({ responses: service.priceBatch(String(request.params.name), body.requests, ['body', 'requests']) });
  });

  app.post('/v1/policies', tokenFirst, jsonBody(bodyLimits.register), async (request, response) => {
    const body = parseBody(registerRequestSchema, request.body);
    // Checked in memory (names, hashes) before anything is written: no temporary folder.
    const files = new Map(Object.entries(body.files).map(([name, content]) => [name, new Uint8Array(Buffer.from(content, 'base64'))]));
    const { version, created } = await service.registry.registerFiles(files, { name: body.name, reason: body.reason, actor: actorOf(response), lineage: body.lineage ?? {} });
    response.status(created ? 201 : 200).json({ created, version });
    await service.refresh();
  });

  app.post('/v1/policies/:name/promote', tokenFirst, jsonBody(bodyLimits.promote), async (request, response) => {
    const body = parseBody(promoteRequestSchema, request.body);
    const outcome = await promote(service.registry, {
      name: String(request.params.name),
      version: body.version,
      to: body.to,
      reason: body.reason,
      actor: actorOf(response),
      evidence: (body.evidence ?? []).map((json, index) => ({ source: `evidence[${index}]`, json })),
      collusionEvidence: body.collusionEvidence === undefined ? undefined : { source: 'collusionEvidence', json: body.collusionEvidence },
      fairnessEvidence: body.fairnessEvidence === undefined ? undefined : { source: 'fairnessEvidence', json: body.fairnessEvidence },
      policy: options.promotionPolicy,
      policySource: 'pricelab serve --gates',
      servingConfig: service.config,
    });
    if (!outcome.promoted && !outcome.noop) {
      const failed = outcome.decision?.gates.find((gate) => !gate.passed);
      response.status(409).json({ error: `promotion refused by the ${failed?.gate ?? 'unknown'} gate: ${failed?.detail ?? ''}`, gates: outcome.decision?.gates ?? [] });
      return;
    }
    await service.refresh();
    response.json(outcome);
  });

  app.post('/v1/policies/:name/rollback', tokenFirst, jsonBody(bodyLimits.rollback), async (request, response) => {
    const body = parseBody(rollbackRequestSchema, request.body);
    const moved = await service.registry.rollback(String(request.params.name), body.alias, { reason: body.reason, actor: actorOf(response) });
    await service.refresh();
    response.json({ alias: body.alias, ...moved });
  });

  app.use((_request, response) => {
    response.status(404).json({ error: 'no such route (GET /openapi.json describes them)', problems: [], routes });
  });

  // Errors as data, in one place. express 5 forwards rejected async handlers here.
  app.use((error: unknown, _request: Request, response: Response, next: NextFunction) => {
    if (response.headersSent) {
      next(error);
      return;
    }
    if (error instanceof HttpError) {
      response.status(error.status).json({ error: error.message, ...boundedProblems(error.problems) });
      return;
    }
    if (error instanceof PricelabError) {
      response.status(statusOf(error)).json({ error: cutLine(error.message), ...boundedProblems(error.problems, error instanceof BatchRefused ? error.problemsOmitted : 0) });
      return;
    }
    const bodyError = error as { type?: string; status?: number; message?: string; limit?: number };
    if (bodyError.type === 'entity.parse.failed') {
      response.status(400).json({ error: 'the request body is not valid JSON', problems: [{ path: ['body'], message: cutLine(`expected JSON, found a syntax error: ${bodyError.message ?? ''}`) }] });
      return;
    }
    if (bodyError.type === 'entity.too.large') {
      response.status(413).json({ error: `the request body is larger than this route reads (${bodyError.limit ?? '?'} bytes)`, problems: [] });
      return;
    }
    if (typeof bodyError.status === 'number' && bodyError.status >= 400 && bodyError.status < 500) {
      response.status(bodyError.status).json({ error: cutLine(bodyError.message ?? 'bad request'), problems: [] });
      return;
    }
    process.stderr.write(`serving: internal error: ${(error as Error).stack ?? String(error)}\n`);
    response.status(500).json({ error: 'internal error', problems: [] });
  });
  return app;
}

/** The routes a 404 lists: the OpenAPI document's, in express's `:name` form (one list to keep). */
const routes = Object.entries(openApiDocument()['paths'] as Record<string, Record<string, unknown>>).flatMap(([path, operations]) =>
  Object.keys(operations).map((method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
);

/** The first line of a message, at most 300 characters. */
const cutLine = (message: string): string => {
  const line = message.split('\n')[0] ?? '';
  return line.length <= 300 ? line : `${line.slice(0, 299)}…`;
};

/** A bound in raw units without float noise (124.95, not 124.94999999999999). */
const rawBound = (value: number): number => Number(value.toPrecision(12));

/** GET /v1/policies/:name/schema: what a client needs to build a price request for the production version. */
export function policySchemaOf(service: PricingService, name: string): z.output<typeof policySchemaResponseSchema> {
  const described = service.describe(name);
  const manifest = described.policy.manifest;
  const features = manifest.observation.features.map((feature) => ({
    name: feature.name,
    type: 'number' as const,
    scale: feature.scale,
    low: feature.low === null ? null : rawBound(feature.low * feature.scale),
    high: feature.high === null ? null : rawBound(feature.high * feature.scale),
  }));
  // The policy's own request schema: the generic one with its features named and required.
  const request = priceRequestSchema.extend({
    features: z.strictObject(Object.fromEntries(features.map((feature) => [feature.name, z.number().describe(`raw value; the policy divides it by ${feature.scale}`)]))),
  });
  const requestJsonSchema = withoutKeys(z.toJSONSchema(request, { io: 'input' }) as Record<string, unknown>, ['$schema']);
  return {
    name,
    version: described.version,
    agentKind: manifest.agentKind,
    scenario: { id: manifest.scenario.id, contentHash: manifest.scenario.contentHash },
    features,
    ladder: [...manifest.action.ladder],
    ...(manifest.action.coupons ? { coupons: manifest.action.coupons } : {}),
    guardrails: described.guardrails,
    fallback: described.serving.fallback,
    timeBudgetMs: described.serving.timeBudgetMs,
    request: requestJsonSchema,
  };
}

/**
 * Listens on host:port (port 0: any free port); resolves with the server and its URL. A
 * port in use, or one this user may not bind, is a config error (exit 2) saying how to
 * choose another, not a stack trace.
 */
export function listen(app: express.Express, port: number, host: string): Promise<{ server: Server; url: string }> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host);
    server.once('error', (error: NodeJS.ErrnoException) => reject(listenError(error, host, port, 'another pricelab serve?')));
    server.once('listening', () => {
      const address = server.address();
      const actualPort = typeof address === 'object' && address ? address.port : port;
      resolve({ server, url: `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}` });
    });
  });
}

