/**
 * The HTTP endpoint (express 5):
 *
 *   POST /v1/policies/:name/price      one price for a context      -> {price, ladderIndex, policy, guardrails, explanation, ...}
 *   POST /v1/policies/:name/prices     a batch: {requests: [...]}   -> {responses: [...]}
 *   GET  /v1/policies                  served policies, versions, aliases
 *   POST /v1/policies                  register an artifact (token)
 *   POST /v1/policies/:name/promote    move an alias; production passes the gates (token)
 *   POST /v1/policies/:name/rollback   move an alias back (token)
 *   GET  /healthz  /readyz  /metrics   liveness, readiness (policies loaded), Prometheus
 *
 * Errors are data: a PricelabError becomes 400 (bad input, every problem listed), 401/403
 * (token), 404 (unknown policy), 409 (a gate refused), 422 (integrity: tampered artifact);
 * a malformed or oversized JSON body is 400/413. Bad input never reaches a 500.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { ZodError } from 'zod';
import { PricelabError, type Problem } from '../env/errors.js';
import { authenticate, type TokenStore } from './auth.js';
import type { ServingMetrics } from './metrics.js';
import type { PricingService } from './pricing-service.js';
import { promote } from './promotion.js';
import { batchPriceRequestSchema, priceRequestSchema, problemsOf, promoteRequestSchema, registerRequestSchema, rollbackRequestSchema } from './request-schemas.js';

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
  app.use(express.json({ limit: '4mb', type: () => true }));

  const requireToken = (request: Request): string => {
    const header = request.headers.authorization;
    if (tokens.hashes.length === 0) throw new HttpError(403, 'this endpoint needs a bearer token, and none is configured on the server (pricelab token create)');
    const who = authenticate(typeof header === 'string' ? header : undefined, tokens);
    if (who === undefined) throw new HttpError(401, header === undefined ? 'expected an Authorization: Bearer <token> header, found none' : 'the bearer token is not valid');
    return who;
  };
  const requireReadToken = (request: Request): void => {
    if (service.config.requireTokenForReads) requireToken(request);
  };

  app.get('/healthz', (_request, response) => {
    response.json({ status: 'ok' });
  });
  app.get('/readyz', (_request, response) => {
    const served = service.served();
    response.status(service.ready ? 200 : 503).json({ ready: service.ready, policies: served.map((policy) => `${policy.name}@${policy.version}`) });
  });
  app.get('/metrics', async (request, response) => {
    requireReadToken(request);
    response.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  app.get('/v1/policies', (request, response) => {
    requireReadToken(request);
    const served = new Map(service.served().map((policy) => [policy.name, policy]));
    response.json({
      policies: service.registry.list().map((entry) => ({ ...entry, served: served.get(entry.name) ?? null })),
    });
  });

  app.post('/v1/policies/:name/price', (request, response) => {
    requireReadToken(request);
    const body = parseBody(priceRequestSchema, request.body);
    response.json(service.price(String(request.params.name), body, ['body']));
  });

  app.post('/v1/policies/:name/prices', (request, response) => {
    requireReadToken(request);
    const body = parseBody(batchPriceRequestSchema, request.body);
    const problems: Problem[] = [];
    const responses = body.requests.map((item, index) => {
      try {
        return service.price(String(request.params.name), item, ['body', 'requests', index]);
      } catch (error) {
        if (error instanceof PricelabError && error.kind === 'config') {
          problems.push(...error.problems);
          return null;
        }
        throw error;
      }
    });
    if (problems.length > 0) throw new HttpError(400, 'some requests of the batch are not valid', problems);
    response.json({ responses });
  });

  app.post('/v1/policies', async (request, response) => {
    const actor = requireToken(request);
    const body = parseBody(registerRequestSchema, request.body);
    const folder = mkdtempSync(join(tmpdir(), 'pricelab-upload-'));
    try {
      for (const [name, content] of Object.entries(body.files)) writeFileSync(join(folder, name), Buffer.from(content, 'base64'));
      const { version, created } = service.registry.register(folder, { name: body.name, reason: body.reason, actor, lineage: body.lineage ?? {} });
      response.status(created ? 201 : 200).json({ created, version });
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
    await service.refresh();
  });

  app.post('/v1/policies/:name/promote', async (request, response) => {
    const actor = requireToken(request);
    const body = parseBody(promoteRequestSchema, request.body);
    const outcome = promote(service.registry, {
      name: String(request.params.name),
      version: body.version,
      to: body.to,
      reason: body.reason,
      actor,
      evidence: (body.evidence ?? []).map((json, index) => ({ source: `evidence[${index}]`, json })),
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

  app.post('/v1/policies/:name/rollback', async (request, response) => {
    const actor = requireToken(request);
    const body = parseBody(rollbackRequestSchema, request.body);
    const moved = service.registry.rollback(String(request.params.name), body.alias, { reason: body.reason, actor });
    await service.refresh();
    response.json({ alias: body.alias, ...moved });
  });

  app.use((_request, response) => {
    response.status(404).json({ error: 'no such route', routes: ['POST /v1/policies/:name/price', 'POST /v1/policies/:name/prices', 'GET /v1/policies', 'POST /v1/policies', 'POST /v1/policies/:name/promote', 'POST /v1/policies/:name/rollback', 'GET /healthz', 'GET /readyz', 'GET /metrics'] });
  });

  // Errors as data, in one place. express 5 forwards rejected async handlers here.
  app.use((error: unknown, _request: Request, response: Response, next: NextFunction) => {
    if (response.headersSent) {
      next(error);
      return;
    }
    if (error instanceof HttpError) {
      response.status(error.status).json({ error: error.message, problems: error.problems });
      return;
    }
    if (error instanceof PricelabError) {
      response.status(statusOf(error)).json({ error: error.message.split('\n')[0], problems: error.problems });
      return;
    }
    const bodyError = error as { type?: string; status?: number; message?: string };
    if (bodyError.type === 'entity.parse.failed') {
      response.status(400).json({ error: 'the request body is not valid JSON', problems: [{ path: ['body'], message: `expected JSON, found a syntax error: ${bodyError.message ?? ''}` }] });
      return;
    }
    if (typeof bodyError.status === 'number' && bodyError.status >= 400 && bodyError.status < 500) {
      response.status(bodyError.status).json({ error: bodyError.message ?? 'bad request', problems: [] });
      return;
    }
    process.stderr.write(`serving: internal error: ${(error as Error).stack ?? String(error)}\n`);
    response.status(500).json({ error: 'internal error' });
  });
  return app;
}

/** Listens on host:port (port 0: any free port); resolves with the server and its URL. */
export function listen(app: express.Express, port: number, host: string): Promise<{ server: Server; url: string }> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host);
    server.once('error', reject);
    server.once('listening', () => {
      const address = server.address();
      const actualPort = typeof address === 'object' && address ? address.port : port;
      resolve({ server, url: `http://${host}:${actualPort}` });
    });
  });
}
